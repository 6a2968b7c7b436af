//! The `pcz` command: everything is in `pcz::cli`.

fn main() -> std::process::ExitCode {
    pcz::cli::run()
}
