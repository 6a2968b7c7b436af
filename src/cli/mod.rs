//! The `pcz` command line: argument parsing (clap) and one module per subcommand. Uses only
//! the library's public API.

/// `println!` for command output: a closed pipe (`pcz inspect x.pcz | head -1`) comes
/// back as an error, which [`run`] ends quietly, where `println!` panics.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::print(format_args!($($arg)*))
    };
}

mod bench;
mod compress;
mod decompress;
mod eval;
mod files;
mod input;
mod inspect;
mod kt;
mod progress;
mod train;
mod zstd_style;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Lossless compression with probabilistic circuits.
///
/// pcz learns a Hidden Chow-Liu Tree (a probabilistic circuit) from a dataset of fixed-size
/// records (images, IDX files, raw records, CSV) and uses its exact conditional
/// probabilities to drive arithmetic coding.
#[derive(Debug, Parser)]
#[command(name = "pcz", version, about, long_about)]
pub struct Cli {
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(short = 'T', long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Print nothing but errors (no progress bars).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Log progress lines (one per training epoch; what compress tries, with timings; each
    /// file's sizes and time) even when stderr is not a terminal.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Train(train::TrainArgs),
    Eval(eval::EvalArgs),
    Compress(compress::CompressArgs),
    Decompress(decompress::DecompressArgs),
    Inspect(inspect::InspectArgs),
    Bench(bench::BenchArgs),
    /// KoLMogorov-Test harness: sample tasks, load tasks, run generators, score predictions.
    Kt(Box<kt::KtArgs>),
}

/// Parses the process arguments, runs the subcommand and maps the outcome to an exit code:
/// 0 success, 1 error (one line on stderr per error, then with several inputs a count of
/// those that failed), 2 usage error (clap's own, or several inputs with one output).
pub fn run() -> ExitCode {
    let cli = Cli::parse_from(zstd_style::rewrite(std::env::args_os().collect()));
    let misuse = match &cli.command {
        Command::Compress(a) => files::several_inputs_misuse(&a.inputs, &a.out, false),
        Command::Decompress(a) => files::several_inputs_misuse(&a.inputs, &a.out, true),
        _ => None,
    };
    if let Some(message) = misuse {
        clap::Error::raw(ErrorKind::ArgumentConflict, format!("{message}\n")).exit();
    }
    if let Some(n) = cli.threads {
        // Only fails if a pool already exists, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let progress = progress::Progress::new(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Train(args) => train::run(&args, &progress),
        Command::Eval(args) => eval::run(&args, &progress),
        Command::Compress(args) => compress::run(&args, &progress),
        Command::Decompress(args) => decompress::run(&args, &progress),
        Command::Inspect(args) => inspect::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Kt(args) => kt::run(*args).map_err(crate::Error::Parameter),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pcz: {e}");
            ExitCode::from(1)
        }
    }
}

/// Whether `e` is a write to a closed pipe (`pcz ... | head`), which ends a run quietly.
pub(crate) fn is_broken_pipe(e: &crate::Error) -> bool {
    matches!(e, crate::Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Writes `text` and a newline to stdout (see `outln!`).
pub(crate) fn print(text: impl std::fmt::Display) -> crate::Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

/// Adds the file name to an error so that every message names what it is about.
pub(crate) fn in_file(path: &std::path::Path, e: crate::Error) -> crate::Error {
    match e {
        crate::Error::Io(io) => crate::Error::Io(std::io::Error::new(
            io.kind(),
            format!("{}: {io}", path.display()),
        )),
        crate::Error::Format(f) => crate::Error::parameter(format!("{}: {f}", path.display())),
        other => crate::Error::parameter(format!("{}: {other}", path.display())),
    }
}
