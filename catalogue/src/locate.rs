//! Maps a field path such as `regions[1].priority` to its line and column in the YAML source,
//! so that semantic errors found after deserialisation still point at the file.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Default, Clone)]
pub struct Locator {
    positions: HashMap<String, Position>,
    /// Paths of quoted scalars: a quoted `"1"` must not become a number.
    quoted: Vec<String>,
    /// Where each scalar value starts and ends (end exclusive), for in-place edits.
    scalars: HashMap<String, (Position, Position)>,
    /// The YAML syntax error that stopped the scan, if any.
    syntax_error: Option<(Position, String)>,
}

enum Frame {
    Map {
        path: String,
        key: Option<(String, Position)>,
    },
    Seq {
        path: String,
        index: usize,
    },
}

impl Locator {
    /// Records where every node starts. Input that does not parse yields an empty locator:
    /// the deserialiser reports syntax errors with their own position.
    pub fn new(source: &str) -> Self {
        let mut positions = HashMap::new();
        let mut quoted = Vec::new();
        let mut scalars = HashMap::new();
        let mut syntax_error = None;
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(source) {
            let (event, span) = match item {
                Ok(ok) => ok,
                Err(e) => {
                    let m = e.marker();
                    let at = Position {
                        line: m.line(),
                        column: m.col() + 1,
                    };
                    syntax_error = Some((at, e.info().to_string()));
                    break;
                }
            };
            let pos = Position {
                line: span.start.line(),
                column: span.start.col() + 1,
            };
            match event {
                Event::Scalar(value, style, ..) => {
                    if let Some(Frame::Map { key, .. }) = stack.last_mut()
                        && key.is_none()
                    {
                        *key = Some((value.to_string(), pos));
                        continue;
                    }
                    if let Some((path, _)) = child_path(&mut stack) {
                        if matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted) {
                            quoted.push(path.clone());
                        }
                        let end = Position {
                            line: span.end.line(),
                            column: span.end.col() + 1,
                        };
                        scalars.entry(path.clone()).or_insert((pos, end));
                        positions.entry(path).or_insert(pos);
                    }
                }
                Event::Alias(_) => {
                    if let Some((path, _)) = child_path(&mut stack) {
                        positions.entry(path).or_insert(pos);
                    }
                }
                Event::MappingStart(..) => {
                    let (path, key_pos) = child_path(&mut stack).unwrap_or_default();
                    positions
                        .entry(path.clone())
                        .or_insert(key_pos.unwrap_or(pos));
                    stack.push(Frame::Map { path, key: None });
                }
                Event::SequenceStart(..) => {
                    let (path, key_pos) = child_path(&mut stack).unwrap_or_default();
                    positions
                        .entry(path.clone())
                        .or_insert(key_pos.unwrap_or(pos));
                    stack.push(Frame::Seq { path, index: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        Self {
            positions,
            quoted,
            scalars,
            syntax_error,
        }
    }

    /// Start and end (exclusive) of the scalar value at `path`, if it is one.
    pub fn scalar_span(&self, path: &str) -> Option<(Position, Position)> {
        self.scalars.get(path).copied()
    }

    /// Field paths whose value was written in quotes, in file order.
    pub fn quoted_paths(&self) -> &[String] {
        &self.quoted
    }

    /// Where the YAML stops being well-formed, and the parser's words for it.
    pub fn syntax_error(&self) -> Option<&(Position, String)> {
        self.syntax_error.as_ref()
    }

    /// The path of the node that starts exactly at `at`, if any (the deepest one).
    pub fn path_at(&self, at: Position) -> Option<&str> {
        self.positions
            .iter()
            .filter(|(_, p)| **p == at)
            .map(|(k, _)| k.as_str())
            .max_by_key(|k| (k.len(), *k))
    }

    /// Position of the node at `path`, or of its nearest ancestor that exists (a missing field
    /// points at the object that should hold it).
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut current = path;
        loop {
            if let Some(p) = self.positions.get(current) {
                return Some(*p);
            }
            let cut = current.rfind(['.', '['])?;
            current = &current[..cut];
        }
    }
}

/// The path of the node that starts now (and its key's position, in a mapping), advancing
/// the parent frame.
fn child_path(stack: &mut [Frame]) -> Option<(String, Option<Position>)> {
    match stack.last_mut() {
        None => Some((String::new(), None)),
        Some(Frame::Map { path, key }) => {
            let (key, key_pos) = key.take()?;
            let child = if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            };
            Some((child, Some(key_pos)))
        }
        Some(Frame::Seq { path, index }) => {
            let p = format!("{path}[{index}]");
            *index += 1;
            Some((p, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields_in_block_and_flow_style() {
        let src = "a:\n  b: 1\nlist:\n  - { name: x, n: 2 }\n  - name: y\n    n: 3\n";
        let loc = Locator::new(src);
        assert_eq!(loc.find("a.b"), Some(Position { line: 2, column: 6 }));
        assert_eq!(
            loc.find("list[0].n"),
            Some(Position {
                line: 4,
                column: 19
            })
        );
        assert_eq!(loc.find("list[1].n"), Some(Position { line: 6, column: 8 }));
        // a missing field falls back to its parent
        assert_eq!(loc.find("list[1].missing"), loc.find("list[1]"));
    }
}
