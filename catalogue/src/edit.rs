//! Rewriting one scalar of the catalogue text in place (for `gen set-image`): only the
//! value's characters change; comments, layout and every other line stay byte for byte.

use crate::locate::{Locator, Position};
use std::fmt;

/// Where a located position sits in the text: its line's byte range (`start..end`, the newline
/// excluded) and the byte offset of its column. Every line edit of the catalogue starts here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt {
    pub start: usize,
    pub end: usize,
    /// Byte offset in `source` of the position's column (`end` when past the line).
    pub at: usize,
}

impl LineAt {
    /// The line's text, without its newline.
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        &source[self.start..self.end]
    }

    /// The end of the line including its newline (where a following line starts).
    pub fn next_line(&self, source: &str) -> usize {
        if source[self.end..].starts_with('\n') {
            self.end + 1
        } else {
            self.end
        }
    }
}

/// The line of `position` (1-based line and column, columns in characters), if it exists.
pub fn line_at(source: &str, position: Position) -> Option<LineAt> {
    let start = if position.line <= 1 {
        0
    } else {
        source
            .match_indices('\n')
            .nth(position.line - 2)
            .map(|(i, _)| i + 1)?
    };
    let rest = &source[start..];
    let end = start + rest.find('\n').unwrap_or(rest.len());
    let line = &source[start..end];
    let at = start
        + line
            .char_indices()
            .nth(position.column.saturating_sub(1))
            .map_or(line.len(), |(i, _)| i);
    Some(LineAt { start, end, at })
}

/// Why a scalar could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot set `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for EditError {}

/// `source` with the scalar at `path` (`app.tag`, `regions[1].priority`) replaced by
/// `value`, written as a double-quoted YAML string. The caller re-parses the result.
pub fn set_scalar(source: &str, path: &str, value: &str) -> Result<String, EditError> {
    let err = |message: &str| EditError {
        path: path.to_string(),
        message: message.to_string(),
    };
    if value.chars().any(char::is_control) {
        return Err(err("the value has control characters"));
    }
    let locator = Locator::new(source);
    if locator.syntax_error().is_some() {
        return Err(err("the catalogue is not well-formed YAML"));
    }
    let (start, end) = locator
        .scalar_span(path)
        .ok_or_else(|| err("no scalar value at that path (add the field by hand first)"))?;
    if start.line != end.line {
        return Err(err("the value spans several lines"));
    }
    let a = line_at(source, start)
        .ok_or_else(|| err("line not found"))?
        .at;
    let b = line_at(source, end)
        .ok_or_else(|| err("line not found"))?
        .at;
    let quoted = format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::with_capacity(source.len() + quoted.len());
    out.push_str(&source[..a]);
    out.push_str(&quoted);
    out.push_str(&source[b..]);
    Ok(out)
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn a_position_maps_to_its_line_and_byte_even_after_wide_characters() {
        let src = "a: 1\nname: \"zürich\" # ü\nlast: x";
        let at = line_at(
            src,
            Position {
                line: 2,
                column: 10,
            },
        )
        .unwrap();
        assert_eq!(at.text(src), "name: \"zürich\" # ü");
        assert_eq!(
            &src[at.at..at.at + 3],
            "ric",
            "column 10 is after the two-byte ü"
        );
        assert_eq!(at.next_line(src), src.find("last").unwrap());
        let last = line_at(src, Position { line: 3, column: 1 }).unwrap();
        assert_eq!(
            (last.text(src), last.next_line(src)),
            ("last: x", src.len())
        );
        assert_eq!(line_at(src, Position { line: 4, column: 1 }), None);
        let past = line_at(
            src,
            Position {
                line: 1,
                column: 99,
            },
        )
        .unwrap();
        assert_eq!(past.at, past.end);
    }
}
