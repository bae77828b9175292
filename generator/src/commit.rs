//! `gen commit` (being written).

use crate::cli::{CommitArgs, Context};
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("gen commit is not built yet")]
    NotBuilt,
}

pub fn run(_ctx: &Context, _args: &CommitArgs) -> Result<ExitCode, Error> {
    Err(Error::NotBuilt)
}
