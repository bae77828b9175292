//! `gen render` (being written).

use crate::cli::{RenderArgs, Context};
use std::process::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("gen render is not built yet")]
    NotBuilt,
}

pub fn run(_ctx: &Context, _args: &RenderArgs) -> Result<ExitCode, Error> {
    Err(Error::NotBuilt)
}
