//! Generators: given a task, propose a program. `literal` (always correct), `search`
//! (detectors + DP segmentation under the code's bit cost) and `cmd:PROG` (an external
//! process speaking JSON lines).

pub mod external;
pub mod literal;
pub mod search;
pub mod segment;

use super::tasks::Task;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// Run configuration.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// "literal", "search" or "cmd:PROGRAM".
    pub generator: String,
    /// Samples per task (external).
    pub samples: usize,
    /// Repair rounds (external).
    pub repair: usize,
    /// Seconds per request (external).
    pub timeout_s: u64,
    /// Response cache directory (external).
    pub cache: Option<PathBuf>,
}

/// One prediction record (what `pcz kt score` reads).
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// Task id.
    pub id: String,
    /// Modality.
    pub modality: String,
    /// The sequence.
    pub sequence: Vec<u8>,
    /// The program.
    pub program: String,
    /// "dsl" or "python".
    pub language: String,
    /// Generator name.
    pub generator: String,
    /// Generator calls made.
    pub attempts: usize,
}

/// Runs a generator over all tasks (in parallel for built-in generators; output order is the
/// task order, so the file is the same on every run).
pub fn run_all(tasks: &[Task], cfg: &RunConfig) -> Result<Vec<Prediction>, String> {
    let g = cfg.generator.as_str();
    let mk = |t: &Task, prog: String, lang: &str, attempts: usize| Prediction {
        id: t.id.clone(),
        modality: t.modality.clone(),
        sequence: t.sequence.clone(),
        program: prog,
        language: lang.into(),
        generator: g.into(),
        attempts,
    };
    match g {
        "literal" => Ok(tasks
            .iter()
            .map(|t| mk(t, literal::literal(&t.sequence).to_text(), "dsl", 1))
            .collect()),
        "search" => Ok(tasks
            .par_iter()
            .map(|t| mk(t, search::search(&t.sequence).to_text(), "dsl", 1))
            .collect()),
        _ if g.starts_with("cmd:") => {
            let mut ext = external::External::new(&g[4..], cfg)?;
            let mut out = Vec::with_capacity(tasks.len());
            for t in tasks {
                let (prog, lang, attempts) = ext.solve(t)?;
                out.push(mk(t, prog, &lang, attempts));
            }
            Ok(out)
        }
        _ => Err(format!(
            "unknown generator {g:?} (literal, search, cmd:PROGRAM)"
        )),
    }
}
