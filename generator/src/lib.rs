//! `gen`: renders, validates, diffs and commits the GitOps tree that the region catalogue
//! describes. Every command is a library function so tests drive it in-process.

pub mod cli;
pub mod commit;
pub mod diff;
pub mod git;
pub mod kustomize;
pub mod render;
pub mod tree;
pub mod validate;
pub mod write;
