//! The `drydock` command.

fn main() -> std::process::ExitCode {
    drydock::cli::main()
}
