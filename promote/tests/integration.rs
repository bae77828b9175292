//! Every integration test of this crate in one binary: the shared helpers compile once and
//! one executable links, instead of one of each per file (the suite's build time on a fresh
//! machine). Each file below is still one area; nextest names a test `<file>::<test>`.

mod region;
mod registry;
