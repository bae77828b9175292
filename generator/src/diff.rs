//! `gen diff` (being written).

use crate::cli::{DiffArgs, Context};
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("gen diff is not built yet")]
    NotBuilt,
}

pub fn run(_ctx: &Context, _args: &DiffArgs) -> Result<ExitCode, Error> {
    Err(Error::NotBuilt)
}
