//! The region catalogue: its types, loading with located errors, and its invariants.
//! Shared by `gen` (rendering) and `infra` (bootstrap), so both read one truth.

mod locate;
mod model;
pub mod regions;
pub mod rules;

pub use locate::{Locator, Position};
pub use model::*;
pub use rules::{Finding, RULES};

use std::fmt;
use std::path::{Path, PathBuf};

/// The default catalogue file name, at the repository root.
pub const DEFAULT_FILE: &str = "catalogue.yaml";

/// A finding placed in the file: `file:line:column: error[rule]: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: PathBuf,
    pub position: Option<Position>,
    pub finding: Finding,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        write!(
            f,
            ": error[{}]: {} (at `{}`)\n  help: {}",
            self.finding.rule, self.finding.message, self.finding.path, self.finding.help
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{}: cannot read the catalogue: {source}\n  help: run from the repository root, or pass --catalogue <file>", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:1:1: error[schema]: the catalogue is empty\n  help: start from the catalogue.yaml in the repository; docs/catalogue.md lists every field", path.display())]
    Empty { path: PathBuf },
    /// YAML syntax, a wrong type, an unknown or missing field.
    #[error("{}{}: error[schema]: {message}\n  help: {help}", path.display(), position.map(|p| format!(":{}:{}", p.line, p.column)).unwrap_or_default())]
    Schema {
        path: PathBuf,
        position: Option<Position>,
        message: String,
        help: String,
    },
    #[error("{}", findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid { findings: Vec<Located> },
}

impl CatalogueError {
    /// Rule ids of every problem, for tests and machine output.
    pub fn rules(&self) -> Vec<&'static str> {
        match self {
            Self::Invalid { findings } => findings.iter().map(|l| l.finding.rule).collect(),
            _ => vec!["schema"],
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
    let source = std::fs::read_to_string(path).map_err(|source| CatalogueError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let catalogue = parse(path, &source)?;
    Ok(LoadedCatalogue {
        path: path.to_path_buf(),
        source,
        catalogue,
    })
}

/// Parses and validates catalogue text; `path` only names it in messages.
pub fn parse(path: &Path, source: &str) -> Result<Catalogue, CatalogueError> {
    let meaningful = source
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---");
    if !meaningful {
        return Err(CatalogueError::Empty {
            path: path.to_path_buf(),
        });
    }
    let catalogue: Catalogue =
        serde_saphyr::from_str(source).map_err(|e| schema_error(path, &e))?;
    validate(path, source, &catalogue)?;
    Ok(catalogue)
}

/// Checks every invariant of an already-typed catalogue.
pub fn validate(path: &Path, source: &str, catalogue: &Catalogue) -> Result<(), CatalogueError> {
    let findings = rules::check(catalogue);
    if findings.is_empty() {
        return Ok(());
    }
    let locator = Locator::new(source);
    let mut findings: Vec<Located> = findings
        .into_iter()
        .map(|finding| Located {
            file: path.to_path_buf(),
            position: locator.find(&finding.path),
            finding,
        })
        .collect();
    findings.sort_by_key(|l| l.position.map(|p| (p.line, p.column)));
    Err(CatalogueError::Invalid { findings })
}

fn schema_error(path: &Path, e: &serde_saphyr::Error) -> CatalogueError {
    let position = e.location().map(|l| Position {
        line: usize::try_from(l.line()).unwrap_or(0),
        column: usize::try_from(l.column()).unwrap_or(0),
    });
    // The library's message may carry its own snippet; keep the first line, we add the place.
    let full = e.to_string();
    let message = full.lines().next().unwrap_or(&full).trim().to_string();
    let help = if message.contains("unknown field") {
        "remove or rename the field; docs/catalogue.md lists the valid ones"
    } else if message.contains("missing field") {
        "add the field; docs/catalogue.md says what it means"
    } else if message.contains("invalid type") || message.contains("invalid value") {
        "fix the value's type; docs/catalogue.md gives each field's type"
    } else {
        "fix the YAML at that place (indentation, quotes, brackets)"
    };
    CatalogueError::Schema {
        path: path.to_path_buf(),
        position,
        message,
        help: help.into(),
    }
}
