//! Rewriting one scalar of the catalogue text in place (for `gen set-image`): only the
//! value's characters change; comments, layout and every other line stay byte for byte.

use crate::locate::Locator;
use std::fmt;

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
    let line_start = line_offset(source, start.line).ok_or_else(|| err("line not found"))?;
    let line = &source[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let byte = |col: usize| {
        line.char_indices()
            .nth(col - 1)
            .map_or(line.len(), |(i, _)| i)
    };
    let (a, b) = (byte(start.column), byte(end.column));
    let quoted = format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::with_capacity(source.len() + quoted.len());
    out.push_str(&source[..line_start + a]);
    out.push_str(&quoted);
    out.push_str(&source[line_start + b..]);
    Ok(out)
}

fn line_offset(source: &str, line: usize) -> Option<usize> {
    if line == 1 {
        return Some(0);
    }
    source.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)
}
