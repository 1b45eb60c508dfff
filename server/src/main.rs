//! The `keepsake` command: see `keepsake --help`.

fn main() -> std::process::ExitCode {
    keepsake::cli::run()
}
