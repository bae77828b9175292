//! The region catalogue: its types, loading with located errors, and its invariants.
//! Shared by `gen` (rendering) and `infra` (bootstrap), so both read one truth.
//!
//! Loading has two outcomes that callers must tell apart (see [`CatalogueError::exit_code`]):
//! a catalogue that cannot be read or parsed is an input error (exit 2); one that parses but
//! breaks invariants yields [`Finding`]s (exit 1).

mod edit;
mod locate;
mod model;
mod names;
pub mod regions;
pub mod rules;
mod schema;
mod syntax;

pub use edit::{EditError, LineAt, line_at, set_scalar};
pub use locate::{Locator, Position};
pub use model::*;
pub use names::{KubeName, RegionName, SHOWN_MAX, shown};
pub use policy::{Finding, Location, Severity};
pub use rules::POLICY;

use std::fmt;
use std::path::{Path, PathBuf};

/// The default catalogue file name, at the repository root.
pub const DEFAULT_FILE: &str = "catalogue.yaml";

/// Exit code of a command whose input could not be read or parsed.
pub const EXIT_INPUT: u8 = 2;
/// Exit code of a command whose check found problems.
pub const EXIT_FINDINGS: u8 = 1;

/// Why a catalogue was refused. Every variant but `Read` carries a place in the file.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}: error[read]: cannot read the catalogue: {source}\n  help: run from the repository root, or pass --catalogue <file>", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8; `position` is the first bad byte.
    #[error("{}:{}:{}: error[encoding]: the catalogue is not valid UTF-8 (byte {offset} is the first that is not)\n  help: save the file as UTF-8", path.display(), position.line, position.column)]
    Encoding {
        path: PathBuf,
        position: Position,
        offset: usize,
    },
    #[error("{}:1:1: error[schema]: the catalogue is empty\n  help: start from the catalogue.yaml in the repository; docs/catalogue.md lists every field", path.display())]
    Empty { path: PathBuf },
    /// The text is not well-formed YAML.
    #[error("{}:{}:{}: error[syntax]: {message}\n  help: {help}", path.display(), position.line, position.column)]
    Syntax {
        path: PathBuf,
        position: Position,
        message: String,
        help: String,
    },
    /// Well-formed YAML that does not fit the catalogue's shape: a wrong type, an unknown or
    /// missing field, a name outside its grammar. `field` is the path (`regions[2].priority`).
    #[error("{}:{}:{}: error[schema]: {message}\n  help: {help}", path.display(), position.line, position.column)]
    Schema {
        path: PathBuf,
        position: Position,
        field: String,
        message: String,
        help: String,
    },
    /// The catalogue parses but breaks invariants; every finding is located.
    #[error("{}", render_findings(findings))]
    Invalid { findings: Vec<Finding> },
}

fn render_findings(findings: &[Finding]) -> String {
    // Each finding prints its rule's `why` itself.
    findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl CatalogueError {
    /// True when the catalogue could not be read or parsed (exit 2); false for findings.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Self::Invalid { .. })
    }

    /// [`EXIT_INPUT`] for input errors, [`EXIT_FINDINGS`] for broken invariants.
    pub fn exit_code(&self) -> u8 {
        if self.is_input_error() {
            EXIT_INPUT
        } else {
            EXIT_FINDINGS
        }
    }

    /// The findings of a catalogue that parsed; empty for input errors.
    pub fn findings(&self) -> &[Finding] {
        match self {
            Self::Invalid { findings } => findings,
            _ => &[],
        }
    }

    /// Where the (first) problem is; `None` only when the file could not be read.
    pub fn position(&self) -> Option<Position> {
        match self {
            Self::Read { .. } => None,
            Self::Empty { .. } => Some(Position { line: 1, column: 1 }),
            Self::Encoding { position, .. }
            | Self::Syntax { position, .. }
            | Self::Schema { position, .. } => Some(*position),
            Self::Invalid { findings } => findings.first().and_then(|f| {
                f.location.as_ref().map(|l| Position {
                    line: l.line,
                    column: l.column,
                })
            }),
        }
    }

    /// Rule ids of every problem (`read`, `encoding`, `syntax`, `schema` for input errors).
    pub fn rules(&self) -> Vec<&'static str> {
        match self {
            Self::Invalid { findings } => findings.iter().map(|f| f.rule).collect(),
            Self::Read { .. } => vec!["read"],
            Self::Encoding { .. } => vec!["encoding"],
            Self::Syntax { .. } => vec!["syntax"],
            Self::Empty { .. } | Self::Schema { .. } => vec!["schema"],
        }
    }
}

/// A catalogue that parsed and passed every invariant, with its source for locating things.
#[derive(Debug, Clone)]
pub struct LoadedCatalogue {
    pub path: PathBuf,
    pub source: String,
    pub catalogue: Catalogue,
}

/// Reads, parses and validates the catalogue at `path`.
pub fn load(path: &Path) -> Result<LoadedCatalogue, CatalogueError> {
    let bytes = std::fs::read(path).map_err(|source| CatalogueError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let source = utf8(path, bytes)?;
    let catalogue = parse(path, &source)?;
    Ok(LoadedCatalogue {
        path: path.to_path_buf(),
        source,
        catalogue,
    })
}

/// Parses and validates raw bytes (invalid UTF-8 is located at its first bad byte).
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Catalogue, CatalogueError> {
    let source = utf8(path, bytes.to_vec())?;
    parse(path, &source)
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, CatalogueError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let good = &e.as_bytes()[..offset];
        // valid_up_to is a char boundary, so the prefix is UTF-8.
        let prefix = std::str::from_utf8(good).unwrap_or_default();
        let line = prefix.matches('\n').count() + 1;
        let column = prefix.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        CatalogueError::Encoding {
            path: path.to_path_buf(),
            position: Position { line, column },
            offset,
        }
    })
}

/// Parses and validates catalogue text; `path` only names it in messages.
pub fn parse(path: &Path, source: &str) -> Result<Catalogue, CatalogueError> {
    let (spec, locator) = parse_spec(path, source)?;
    let findings = check(path, &locator, &spec);
    if findings.is_empty() {
        Ok(Catalogue::validated(spec))
    } else {
        Err(CatalogueError::Invalid { findings })
    }
}

/// Parses catalogue text into its typed form without checking invariants: every error is
/// an input error. Returns the locator built from the same text.
pub fn parse_spec(path: &Path, source: &str) -> Result<(CatalogueSpec, Locator), CatalogueError> {
    let meaningful = source
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    if !meaningful {
        return Err(CatalogueError::Empty {
            path: path.to_path_buf(),
        });
    }
    let locator = Locator::new(source);
    if let Some((at, info)) = locator.syntax_error() {
        return Err(syntax::error(path, source, *at, info));
    }
    let spec = schema::deserialize(path, source, &locator)?;
    Ok((spec, locator))
}

/// Runs every rule over `spec` and places each finding in the file (sorted by place).
pub fn check(path: &Path, locator: &Locator, spec: &CatalogueSpec) -> Vec<Finding> {
    let file = path.display().to_string();
    let mut findings = POLICY.run(spec);
    for f in &mut findings {
        let at = locator
            .find(&f.subject)
            .unwrap_or(Position { line: 1, column: 1 });
        f.location = Some(Location {
            file: file.clone(),
            line: at.line,
            column: at.column,
        });
    }
    findings.sort_by(|a, b| a.location.cmp(&b.location).then(a.rule.cmp(b.rule)));
    findings
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}
