//! `gen set-image (--tag T | --digest sha256:…)`: sets the release candidate (`app.tag` or
//! `app.digest`) in the catalogue, changing only that value's line: comments, order and layout
//! stay byte for byte. Switching between a tag and a digest rewrites the one key's line
//! (`tag: "1.0.0"` becomes `digest: "sha256:…"`); a key whose value sits on another line than
//! the key is refused. The result goes through the catalogue loader before it is written
//! (atomically: a temporary file renamed over the catalogue), so a refused value writes nothing.

use catalogue::{Locator, Position, rules};
use std::io::Write;
use std::path::Path;

/// The candidate to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    Tag(String),
    Digest(String),
}

impl Candidate {
    fn key(&self) -> &'static str {
        match self {
            Self::Tag(_) => "tag",
            Self::Digest(_) => "digest",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Self::Tag(v) | Self::Digest(v) => v,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag value that can never be a candidate; `flag` is where it came from.
    #[error("gen set-image: {flag} `{value}`: {message}\n  help: {help}")]
    BadValue {
        flag: &'static str,
        value: String,
        message: &'static str,
        help: &'static str,
    },
    /// The catalogue itself cannot be edited in place.
    #[error("{file}:{line}:{column}: error[set-image]: {message}\n  help: {help}")]
    Located {
        file: String,
        line: usize,
        column: usize,
        message: String,
        help: String,
    },
    /// The edited catalogue does not load; nothing was written.
    #[error(
        "gen set-image: the catalogue would not be valid with this value; nothing was written:\n{0}"
    )]
    Refused(catalogue::CatalogueError),
    #[error("gen set-image: {0}")]
    Catalogue(catalogue::CatalogueError),
    #[error("gen set-image: {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// 2 for a bad value (the flag is the input); the catalogue's own code when it was broken.
    pub fn exit_code(&self) -> u8 {
        match self {
            // The catalogue on disk is already broken: its own code (1 findings, 2 input).
            Self::Catalogue(e) => e.exit_code(),
            _ => 2,
        }
    }
}

/// Checks a flag value with the catalogue's own grammar (`image-immutable`).
pub fn check_value(c: &Candidate) -> Result<(), Error> {
    let bad = |message, help| Error::BadValue {
        flag: match c {
            Candidate::Tag(_) => "--tag",
            Candidate::Digest(_) => "--digest",
        },
        value: c
            .value()
            .chars()
            .filter(|ch| !ch.is_control())
            .take(80)
            .collect(),
        message,
        help,
    };
    match c {
        Candidate::Tag(t) if t.is_empty() => Err(bad(
            "the tag is empty",
            "pass the version the image was pushed as, e.g. --tag 1.4.2",
        )),
        Candidate::Tag(t) if !rules::is_tag(t) => Err(bad(
            "is not a valid image tag",
            "use letters, digits, `.`, `_`, `-` (at most 128, not starting with `.` or `-`)",
        )),
        Candidate::Tag(t) if !t.bytes().any(|b| b.is_ascii_digit()) => Err(bad(
            "moves: a tag without a digit (`latest`, `stable`) pins no build",
            "use a version (1.4.2), a commit tag (sha-1a2b3c4) or --digest sha256:<64 hex>",
        )),
        Candidate::Digest(d) if !rules::is_digest(d) => Err(bad(
            "is not a sha256 digest",
            "use sha256: followed by 64 lowercase hex digits (docker buildx prints it as `digest`)",
        )),
        _ => Ok(()),
    }
}

/// `source` with the candidate set; `file` names the catalogue in errors.
pub fn edit(file: &str, source: &str, c: &Candidate) -> Result<String, Error> {
    check_value(c)?;
    let locator = Locator::new(source);
    let located = |at: Position, message: String, help: &str| Error::Located {
        file: file.to_string(),
        line: at.line,
        column: at.column,
        message,
        help: help.to_string(),
    };
    let tag = locator.scalar_span("app.tag");
    let digest = locator.scalar_span("app.digest");
    let (present, span) = match (tag, digest) {
        (Some(t), None) => ("tag", t),
        (None, Some(d)) => ("digest", d),
        (Some(_), Some((at, _))) => {
            return Err(located(
                at,
                "app has both `tag` and `digest`".into(),
                "remove one of them by hand, then run gen set-image again",
            ));
        }
        (None, None) => {
            let at = locator
                .find("app")
                .unwrap_or(Position { line: 1, column: 1 });
            return Err(located(
                at,
                "app has neither `tag` nor `digest` to set".into(),
                "add `tag: \"0.0.0\"` under `app:` by hand once; gen set-image then keeps it current",
            ));
        }
    };
    let edited =
        catalogue::set_scalar(source, &format!("app.{present}"), c.value()).map_err(|e| {
            located(
                span.0,
                e.message.clone(),
                "write the value on the key's line",
            )
        })?;
    if present == c.key() {
        return Ok(edited);
    }
    // Switching tag <-> digest: the key before the value, on the same line, is renamed.
    let (start, _) = span;
    let not_on_key_line = || {
        located(
            start,
            format!("the value of app.{present} is not on the line of its key"),
            &format!("write `{present}: <value>` on one line, then run gen set-image again"),
        )
    };
    let at = catalogue::line_at(&edited, start).ok_or_else(not_on_key_line)?;
    let (line_start, line) = (at.start, at.text(&edited));
    let value_at = at.at - at.start;
    let before = &line[..value_at];
    let key_at = before
        .trim_end()
        .strip_suffix(':')
        .map(str::trim_end)
        .and_then(|k| k.strip_suffix(present).map(str::len))
        .filter(|&i| i == 0 || !before.as_bytes()[i - 1].is_ascii_alphanumeric())
        .ok_or_else(not_on_key_line)?;
    let mut out = String::with_capacity(edited.len() + 3);
    out.push_str(&edited[..line_start + key_at]);
    out.push_str(c.key());
    out.push_str(&edited[line_start + key_at + present.len()..]);
    Ok(out)
}

/// What `run` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub changed: bool,
    /// Regions without their own `image`: they run the candidate on the next render.
    pub following: Vec<String>,
}

/// Edits the catalogue file at `path`, validates, writes atomically.
pub fn run(path: &Path, c: &Candidate) -> Result<Outcome, Error> {
    check_value(c)?;
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let source = std::fs::read_to_string(path).map_err(io)?;
    // The current catalogue must itself load: set-image never papers over a broken file.
    catalogue::parse(path, &source).map_err(Error::Catalogue)?;
    let edited = edit(&path.display().to_string(), &source, c)?;
    let parsed = catalogue::parse(path, &edited).map_err(Error::Refused)?;
    let following = parsed
        .regions
        .iter()
        .filter(|r| r.image.is_none())
        .map(|r| r.name.to_string())
        .collect();
    if edited == source {
        return Ok(Outcome {
            changed: false,
            following,
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".catalogue-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(edited.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(Outcome {
        changed: true,
        following,
    })
}

/// `gen set-image`: the exit code, after printing what changed.
pub fn command(catalogue_path: &Path, c: &Candidate) -> u8 {
    match run(catalogue_path, c) {
        Ok(o) => {
            let file = catalogue_path.display();
            if o.changed {
                println!("gen set-image: {file}: app.{} = \"{}\"", c.key(), c.value());
            } else {
                println!(
                    "gen set-image: {file}: app.{} is already \"{}\"",
                    c.key(),
                    c.value()
                );
            }
            if o.following.is_empty() {
                println!(
                    "gen set-image: every region pins its own image; `gen promote next` moves them wave by wave"
                );
            } else {
                println!(
                    "gen set-image: regions without their own `image` run the candidate on the next render: {}",
                    o.following.join(", ")
                );
            }
            0
        }
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str =
        "app:\n  name: hello # the app\n  image: hello\n  tag: \"1.0.0\" # release\n  port: 8080\n";

    #[test]
    fn a_tag_changes_only_its_value_and_a_digest_renames_the_key() {
        let out = edit("c.yaml", SRC, &Candidate::Tag("1.2.0".into())).unwrap();
        assert_eq!(out, SRC.replace("1.0.0", "1.2.0"));
        let d = format!("sha256:{}", "ab".repeat(32));
        let out = edit("c.yaml", SRC, &Candidate::Digest(d.clone())).unwrap();
        assert_eq!(
            out,
            SRC.replace("tag: \"1.0.0\"", &format!("digest: \"{d}\""))
        );
        let back = edit("c.yaml", &out, &Candidate::Tag("2.0.0".into())).unwrap();
        assert_eq!(back, SRC.replace("1.0.0", "2.0.0"));
    }

    #[test]
    fn a_value_on_another_line_than_its_key_is_refused_with_its_place() {
        let src = "app:\n  image: hello\n  tag:\n    \"1.0.0\"\n";
        let d = format!("sha256:{}", "ab".repeat(32));
        let e = edit("c.yaml", src, &Candidate::Digest(d)).unwrap_err();
        assert!(
            e.to_string().starts_with("c.yaml:4:5: error[set-image]"),
            "{e}"
        );
    }
}
