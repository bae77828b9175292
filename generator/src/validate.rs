//! `gen validate` (being written).

use crate::cli::{ValidateArgs, Context};
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("gen validate is not built yet")]
    NotBuilt,
}

pub fn run(_ctx: &Context, _args: &ValidateArgs) -> Result<ExitCode, Error> {
    Err(Error::NotBuilt)
}
