//! `gen`: see `generator::cli`. Kept thin so tests drive the library in-process.

fn main() -> std::process::ExitCode {
    generator::cli::main()
}
