//! `gen`: renders, validates, diffs and commits the GitOps tree that the region catalogue
//! describes. Every command is a library function so tests drive it in-process.
//!
//! Data flows one way (a test parses the `use crate::` lines and refuses a cycle):
//! `cli` (clap) → `pipeline` → {`render`, `hydrate`, `rules` via `validate`, `write`,
//! `commit`, `diff`} → {`tree`, `options`, `git`, `kustomize`}.

pub mod cli;
pub mod commit;
pub mod diff;
pub mod git;
pub mod hydrate;
pub mod kustomize;
pub mod options;
pub mod pipeline;
pub mod promote;
pub mod render;
#[cfg(test)]
mod rule_cases;
pub mod rules;
pub mod set_image;
pub mod tree;
pub mod validate;
pub mod write;
