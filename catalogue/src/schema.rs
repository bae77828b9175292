//! Turning the deserialiser's errors into one located message: the field path, what was
//! expected, what was found, and a "did you mean" for misspelt keys and values.

use crate::locate::{Locator, Position};
use crate::model::CatalogueSpec;
use crate::names::shown;
use crate::{CatalogueError, regions::edit_distance};
use std::path::Path;

fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    // Our message carries the place once; the library's snippet would repeat it.
    o.with_snippet = false;
    // YAML 1.2 booleans only: `yes`, `on` are errors, not silently true.
    o.strict_booleans = true;
    o
}

pub(crate) fn deserialize(
    path: &Path,
    source: &str,
    locator: &Locator,
) -> Result<CatalogueSpec, CatalogueError> {
    let mut field = String::new();
    let result = serde_saphyr::with_deserializer_from_str_with_options(source, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            field = e.path().to_string();
            e.into_inner()
        })
    });
    let spec: CatalogueSpec = match result {
        Ok(spec) => spec,
        Err(e) => return Err(schema_error(path, source, locator, field, &e)),
    };
    refuse_quoted_scalars(path, locator, &spec)?;
    Ok(spec)
}

/// serde-saphyr reads `"1"` into an integer field; the docs promise a wrong type is an error.
fn refuse_quoted_scalars(
    path: &Path,
    locator: &Locator,
    spec: &CatalogueSpec,
) -> Result<(), CatalogueError> {
    let quoted = locator.quoted_paths();
    if quoted.is_empty() {
        return Ok(());
    }
    let value = serde_json::to_value(spec).unwrap_or_default();
    for p in quoted {
        let Some(v) = lookup(&value, p) else { continue };
        let expected = match v {
            serde_json::Value::Number(n) if n.is_f64() => "a number",
            serde_json::Value::Number(_) => "an integer",
            serde_json::Value::Bool(_) => "`true` or `false`",
            _ => continue,
        };
        let key = p.rsplit(['.', '[']).next().unwrap_or(p);
        return Err(CatalogueError::Schema {
            path: path.to_path_buf(),
            position: locator.find(p).unwrap_or(Position { line: 1, column: 1 }),
            field: p.clone(),
            message: format!("`{p}`: expected {expected}, found a quoted string"),
            help: format!(
                "remove the quotes (`{key}: {v}`): quotes make a string, and this field is not one"
            ),
        });
    }
    Ok(())
}

/// The JSON value at a catalogue field path (`regions[1].replicas.min`).
fn lookup<'v>(value: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut v = value;
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            v = v.get(key)?;
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            v = v.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(v)
}

fn schema_error(
    path: &Path,
    source: &str,
    locator: &Locator,
    field: String,
    e: &serde_saphyr::Error,
) -> CatalogueError {
    let raw = e.to_string();
    let first = raw.lines().next().unwrap_or("").trim();
    let text = strip_location(first);
    let at_error = e.location().and_then(|l| {
        let line = usize::try_from(l.line()).ok().filter(|n| *n > 0)?;
        let column = usize::try_from(l.column()).ok().filter(|n| *n > 0)?;
        Some(Position { line, column })
    });
    let found = e.location().and_then(|l| {
        let span = l.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        source
            .get(start..start.checked_add(len)?)
            .map(str::to_string)
    });
    let fallback = locator
        .find(&field)
        .unwrap_or(Position { line: 1, column: 1 });
    let shown_field = if field.is_empty() || field == "." {
        "the catalogue".to_string()
    } else {
        format!("`{field}`")
    };
    let (position, message, help) = if let Some(rest) = text.strip_prefix("unknown field ") {
        let (name, expected) = split_expected(rest);
        let parent = field
            .rsplit_once('.')
            .map_or(String::new(), |(p, _)| p.to_string());
        let parent = if parent.is_empty() || !field.contains('.') {
            "the top level".to_string()
        } else {
            format!("`{parent}`")
        };
        let help = match did_you_mean(&name, &expected) {
            Some(s) => format!(
                "did you mean `{s}`? The fields of {parent} are: {}",
                expected.join(", ")
            ),
            None if expected.is_empty() => format!("remove `{}`", shown(&name)),
            None => format!(
                "remove or rename it; the fields of {parent} are: {}",
                expected.join(", ")
            ),
        };
        (
            at_error.unwrap_or(fallback),
            format!("unknown field `{}` in {parent}", shown(&name)),
            help,
        )
    } else if let Some(rest) = text.strip_prefix("unknown variant ") {
        let (name, expected) = split_expected(rest);
        let help = match did_you_mean(&name, &expected) {
            Some(s) => format!("did you mean `{s}`? Use one of: {}", expected.join(", ")),
            None => format!("use one of: {}", expected.join(", ")),
        };
        (
            at_error.unwrap_or(fallback),
            format!(
                "{shown_field}: `{}` is not one of the accepted values",
                shown(&name)
            ),
            help,
        )
    } else if let Some(rest) = text.strip_prefix("missing field ") {
        let name = rest.trim_matches('`');
        // A missing field belongs to its parent element: point there and name it.
        (
            locator.find(&field).unwrap_or(at_error.unwrap_or(fallback)),
            format!("{shown_field} is missing the required field `{name}`"),
            format!("add `{name}:` to {shown_field}; docs/catalogue.md says what it means"),
        )
    } else if let Some(expected) = expected_type(&text) {
        let found = found
            .map(|f| format!(", found `{}`", shown(f.trim())))
            .unwrap_or_default();
        (
            at_error.unwrap_or(fallback),
            format!("{shown_field}: expected {expected}{found}"),
            "fix the value's type; docs/catalogue.md gives each field's type".to_string(),
        )
    } else if text.contains("duplicate") {
        (
            at_error.unwrap_or(fallback),
            format!("{shown_field}: {}", shown(&text)),
            "keep one of the two entries".to_string(),
        )
    } else {
        // A value outside its grammar (a name type) or another refusal of the shape.
        (
            at_error.unwrap_or(fallback),
            format!("{shown_field}: {}", cut_message(&text)),
            "fix the value; docs/catalogue.md gives each field's type and grammar".to_string(),
        )
    };
    CatalogueError::Schema {
        path: path.to_path_buf(),
        position,
        field,
        message,
        help,
    }
}

/// serde's messages end in " at line N, column M"; we print the place once, in front.
fn strip_location(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) if s[i..].contains(", column ") => s[..i].to_string(),
        _ => s.to_string(),
    }
}

/// Messages quote the offending value; a long one is cut.
fn cut_message(s: &str) -> String {
    if s.len() <= 300 {
        return s.to_string();
    }
    let cut: String = s.chars().take(200).collect();
    format!("{cut}… (message cut; {} bytes in all)", s.len())
}

/// "`name`, expected one of a, b, c" -> ("name", [a, b, c]).
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let (name, tail) = match rest.rfind("`, expected ") {
        Some(i) => (&rest[..i + 1], &rest[i + 12..]),
        None => (rest, ""),
    };
    let name = name.trim().trim_matches('`').to_string();
    let tail = tail
        .trim_start_matches("one of ")
        .trim_start_matches("either ");
    let expected = tail
        .split([',', ' '])
        .map(|s| s.trim().trim_matches('`'))
        .filter(|s| !s.is_empty() && *s != "or")
        .map(str::to_string)
        .collect();
    (name, expected)
}

fn did_you_mean<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    // The distance is quadratic; a long value is no typo of a field name.
    if name.len() > 64 {
        return None;
    }
    let budget = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| {
            let d = edit_distance(&name.to_ascii_lowercase(), &c.to_ascii_lowercase());
            (d, c)
        })
        .filter(|(d, _)| *d <= budget)
        .min()
        .map(|(_, c)| c.as_str())
}

/// The expected type, in the catalogue's words, for serde-saphyr's type errors.
fn expected_type(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_lowercase();
    let ty = if t.starts_with("invalid u8") {
        "an integer from 0 to 255"
    } else if t.starts_with("invalid u16") {
        "an integer from 0 to 65535"
    } else if t.starts_with("invalid u32") {
        "an integer from 0 to 4294967295"
    } else if t.starts_with("invalid u64") || t.starts_with("invalid i") {
        "an integer"
    } else if t.starts_with("invalid f") || t.contains("floating point") {
        "a number"
    } else if t.contains("boolean") || t.starts_with("invalid bool") {
        "`true` or `false`"
    } else if t.contains("sequence") {
        "a list (`[a, b]` or one `- item` per line)"
    } else if t.contains("mapping") || t.contains("struct") {
        "a mapping (`key: value` lines)"
    } else if t.contains("string") && (t.contains("expected") || t.contains("invalid")) {
        "a string"
    } else if t.starts_with("invalid type") || t.starts_with("invalid value") {
        "another type"
    } else {
        return None;
    };
    Some(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_lists_are_split_and_matched() {
        let (name, expected) =
            split_expected("`prority`, expected one of name, priority, zones, nonZonal, replicas");
        assert_eq!(name, "prority");
        assert_eq!(expected.len(), 5);
        assert_eq!(did_you_mean(&name, &expected), Some("priority"));
        assert_eq!(did_you_mean("colour", &expected), None);
        assert_eq!(
            strip_location("invalid u32 at line 57, column 15"),
            "invalid u32"
        );
    }
}
