//! Every integration test of this crate in one binary: the shared helpers compile once and
//! one executable links, instead of one of each per file (the suite's build time on a fresh
//! machine). Each file below is still one area; nextest names a test `<file>::<test>`.

#[path = "support/git.rs"]
mod git_support;
#[path = "fixtures/helpers.rs"]
mod helpers;

mod diff_hydration;
mod diff_report;
mod diff_reviewer;
mod e2e_gitops;
mod fuzz_render;
mod git_commit;
mod git_push;
mod pipeline;
mod promote;
mod render_cli;
mod render_crash;
mod render_kustomize;
mod render_monitoring;
mod render_snapshots;
mod render_write;
mod set_image;
