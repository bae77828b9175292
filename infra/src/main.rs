//! `infra`: see `infra --help` and infra/README.md.

fn main() -> std::process::ExitCode {
    infra::cli::main()
}
