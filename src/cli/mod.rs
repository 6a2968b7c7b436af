//! Subcommands.
pub mod kt;

use clap::{Parser, Subcommand};

/// pcz: lossless compression with probabilistic circuits.
#[derive(Debug, Parser)]
#[command(name = "pcz", version)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// KoLMogorov-Test harness: sample tasks, load tasks, run generators, score predictions.
    Kt(kt::KtArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.cmd {
        Cmd::Kt(a) => kt::run(a),
    }
}
