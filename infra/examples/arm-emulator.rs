//! The in-suite ARM emulator as a program, so `infra plan`, `bootstrap` and `status` can be
//! tried without Azure:
//!
//! ```text
//! cargo run -p infra --example arm-emulator -- [--port 8330]
//! ```
//!
//! It prints the environment to set in another shell. State lives in memory and is gone when
//! it stops. It behaves like the documented ARM API for the resource types `infra` manages
//! (long-running operations, Retry-After, ETags, request bodies checked against the vendored
//! spec schemas) — see infra/README.md, "The ARM emulator".

#[path = "../tests/support/emulator.rs"]
mod emulator;

use std::net::SocketAddr;

fn port_from_args() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 8330;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                port = v
                    .parse()
                    .map_err(|_| format!("--port `{v}` is not a port number (1-65535)"))?;
            }
            "-h" | "--help" => {
                println!(
                    "arm-emulator [--port N]: an in-memory ARM emulator on 127.0.0.1 (default port 8330)"
                );
                std::process::exit(0);
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: arm-emulator [--port N]"
                ));
            }
        }
    }
    Ok(port)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let port = match port_from_args() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let emu = match emulator::Emulator::start_on(addr).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}\n  help: pick another port with --port");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!(
        "ARM emulator on {} (in memory; Ctrl-C stops it). In another shell:\n\n  export AZURE_RESOURCE_MANAGER_ENDPOINT={}\n  export AZURE_SUBSCRIPTION_ID={}\n  export AZURE_ACCESS_TOKEN={}\n  export INFRA_POLL_SCALE=0.01   # optional: operations then take milliseconds, not minutes\n  cargo run -p infra -- plan\n  cargo run -p infra -- bootstrap --yes\n  cargo run -p infra -- status\n",
        emu.base,
        emu.base,
        emulator::SUB,
        emulator::TOKEN
    );
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    println!("stopped; {} requests served", emu.requests().len());
    std::process::ExitCode::SUCCESS
}
