//! Entry point: parse the configuration, set up JSON logging, run the server.

use std::process::ExitCode;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};

/// Exit code for an invalid configuration.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    // Purges freed pages on jemalloc's decay schedule even when the process is idle.
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let vars = std::env::vars_os().map(|(k, v)| {
        (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        )
    });
    let config = match service::Config::from_vars(vars) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("service: configuration error: {e}");
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };

    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_max_level(config.log_level.as_tracing())
        .with_writer(std::io::stdout)
        .init();

    match run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "fatal");
            eprintln!("service: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: service::Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Register the handlers before the listener opens so no signal is lost.
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let shutdown = async move {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!(signal = name, "shutdown: signal received");
        };
        service::run(config, shutdown).await?;
        Ok(())
    })
}

// jemalloc, with its background thread (enabled first thing in `main`), returns freed memory
// to the OS within seconds; glibc malloc kept the peak resident after many connections closed
// (measured in BENCHMARKS.md). mimalloc was tried too: higher baseline, memory not returned.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
