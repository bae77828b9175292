//! YAML syntax errors. The parser notices an unclosed `[` or `{` only where the text stops
//! making sense (often lines later); we point at the bracket that was never closed.

use crate::CatalogueError;
use crate::locate::Position;
use crate::names::shown;
use std::path::Path;

pub(crate) fn error(path: &Path, source: &str, at: Position, info: &str) -> CatalogueError {
    let info = shown(info);
    if let Some((open, position)) = unclosed_flow(source)
        && (position.line, position.column) <= (at.line, at.column)
    {
        let close = if open == '[' { ']' } else { '}' };
        return CatalogueError::Syntax {
            path: path.to_path_buf(),
            position,
            message: format!(
                "this `{open}` is never closed (the YAML parser gave up at {}:{}: {info})",
                at.line, at.column
            ),
            help: format!("add the matching `{close}` on this line"),
        };
    }
    CatalogueError::Syntax {
        path: path.to_path_buf(),
        position: at,
        message: format!("YAML syntax: {info}"),
        help: "fix the YAML at that place (indentation, quotes, brackets)".into(),
    }
}

/// The first flow bracket that is not closed by its own kind, with its position.
fn unclosed_flow(source: &str) -> Option<(char, Position)> {
    let mut stack: Vec<(char, Position)> = Vec::new();
    // Indentation of the line that opened a block scalar (`|`, `>`): deeper lines are text.
    let mut block_scalar: Option<usize> = None;
    for (i, line) in source.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut quote: Option<char> = None;
        let mut prev_sig: Option<char> = None; // last non-space char outside quotes
        let mut prev: Option<char> = None;
        let mut chars = line.chars().enumerate().peekable();
        while let Some((col, ch)) = chars.next() {
            let at = Position {
                line: i + 1,
                column: col + 1,
            };
            if let Some(q) = quote {
                if ch == q {
                    if q == '\'' && chars.peek().map(|(_, c)| *c) == Some('\'') {
                        chars.next();
                    } else {
                        quote = None;
                        prev_sig = Some(ch);
                    }
                } else if q == '"' && ch == '\\' {
                    chars.next();
                }
                prev = Some(ch);
                continue;
            }
            let token_start = matches!(prev_sig, None | Some(':' | '-' | '?' | ',' | '[' | '{'))
                && prev.is_none_or(char::is_whitespace)
                || matches!(prev, Some('[' | '{' | ','));
            match ch {
                '#' if prev.is_none_or(char::is_whitespace) => break,
                '"' | '\'' if token_start => quote = Some(ch),
                '[' | '{' if token_start => stack.push((ch, at)),
                ']' | '}' if !stack.is_empty() => {
                    let (open, pos) = stack.pop()?;
                    if (open == '[') != (ch == ']') {
                        return Some((open, pos));
                    }
                }
                '|' | '>' if token_start && stack.is_empty() => {
                    block_scalar = Some(indent);
                    break;
                }
                _ => {}
            }
            if !ch.is_whitespace() {
                prev_sig = Some(ch);
            }
            prev = Some(ch);
        }
        // A quote left open at the end of a line continues on the next one; keep it simple
        // and stop scanning: the parser's own position is then the best we have.
        if quote.is_some() {
            return stack.first().copied();
        }
    }
    stack.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bracket_that_is_never_closed() {
        let src = "a:\n  zones: [1, 2, 3\n  replicas: { min: 3 }\nb: 1\n";
        assert_eq!(
            unclosed_flow(src),
            Some((
                '[',
                Position {
                    line: 2,
                    column: 10
                }
            ))
        );
        let src = "a: { x: [1, 2 }\n";
        assert_eq!(
            unclosed_flow(src),
            Some(('[', Position { line: 1, column: 9 }))
        );
        for ok in [
            "a: [1, 2]\nb: { c: d }\n",
            "a: x[0]\n",
            "a: \"[\"\n",
            "a: '[it''s'\n",
            "a: 1 # [ not closed\n",
            "a: |\n  [ text\nb: 2\n",
            "a: [\n  1,\n  2\n]\n",
        ] {
            assert_eq!(unclosed_flow(ok), None, "{ok:?}");
        }
    }
}
