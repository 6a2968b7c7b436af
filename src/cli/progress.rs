//! Progress display: indicatif bars on a terminal, nothing otherwise (or with `--quiet`)
//! but the lines `--verbose` asks for.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Decides once whether progress is drawn, and makes bars and spinners accordingly.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
    verbose: bool,
    quiet: bool,
}

impl Progress {
    /// Bars are visible only when stderr is a terminal and not `quiet`; `verbose` makes
    /// notes (e.g. one line per epoch) print even when stderr is a file or a pipe.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        Progress {
            visible: !quiet && std::io::stderr().is_terminal(),
            verbose: verbose && !quiet,
            quiet,
        }
    }

    /// True with `--quiet`: commands then print no summaries on stderr, only errors.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// A bar of `len` steps with a message prefix.
    pub fn bar(&self, len: u64, prefix: &str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        }
        let bar = ProgressBar::new(len).with_prefix(prefix.to_string());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg} (ETA {eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar
    }

    /// A spinner for work of unknown length.
    pub fn spinner(&self, message: &str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let s = ProgressBar::new_spinner().with_message(message.to_string());
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    }

    /// With `--verbose` only, prints `line` (above `bar` on a terminal, else on stderr):
    /// for steps that are otherwise only a spinner's passing message, so that a log of a
    /// run says what was tried and when.
    pub fn log(&self, bar: &ProgressBar, line: String) {
        match (self.verbose, self.visible) {
            (true, true) => bar.println(line),
            (true, false) => eprintln!("{line}"),
            (false, _) => {}
        }
    }

    /// Prints a line above any bar (when bars are visible, or with `--verbose`).
    pub fn note(&self, bar: &ProgressBar, line: String) {
        if self.visible {
            bar.println(line);
        } else if self.verbose {
            eprintln!("{line}");
        }
    }
}
