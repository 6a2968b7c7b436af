//! The `pcz` command line: argument parsing (clap) and one module per subcommand. Uses only
//! the library's public API.

mod bench;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Lossless compression with probabilistic circuits.
#[derive(Debug, Parser)]
#[command(name = "pcz", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Bench(bench::BenchArgs),
}

/// Parses the process arguments, runs the subcommand and maps the outcome to an exit code:
/// 0 success, 1 error (one line on stderr), 2 usage error (clap's own).
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pcz: {e}");
            ExitCode::from(1)
        }
    }
}
