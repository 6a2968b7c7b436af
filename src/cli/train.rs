//! `pcz train`: learn an HCLT from a dataset and save it as a model file.

use super::input::InputArgs;
use super::progress::Progress;
use crate::learn::{self, EmOptions, Event, Phase, Shape, StructureOptions};
use crate::rng::Rng;
use crate::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Learn a probabilistic circuit (Hidden Chow-Liu Tree) from a dataset.
///
/// Structure: pairwise mutual information on binned values over a seeded subsample, a
/// maximum spanning (Chow-Liu) tree rooted at its centre, one hidden variable with M states
/// per inner tree node. Parameters: mini-batch EM with a decaying step size, then full-batch
/// EM. The same data, options and seed give a byte-identical model on any thread count.
///
/// Example: pcz train train-images-idx3-ubyte.gz -o mnist.pcm --hidden 32 --alphabet 256
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TrainArgs {
    /// Dataset: IDX (.gz ok), image directory, PNG/PGM, CSV, or raw with --record-size.
    pub input: PathBuf,
    /// Model file to write (default: INPUT with extension .pcm).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output.
    #[arg(short, long)]
    pub force: bool,
    #[command(flatten)]
    pub data: InputArgs,
    /// Hidden states per latent node (M): larger fits better, trains and codes slower.
    #[arg(long, default_value_t = 16, value_name = "M")]
    pub hidden: usize,
    /// Levels values are binned to for mutual information.
    #[arg(long, default_value_t = 16)]
    pub mi_bins: usize,
    /// Records subsampled for mutual information.
    #[arg(long, default_value_t = 5000)]
    pub mi_samples: usize,
    /// Rebalance the tree to depth about log2 D (re-rooting at component centres).
    #[arg(long)]
    pub balanced: bool,
    /// Mini-batch EM epochs.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Full-batch EM epochs after the mini-batch ones.
    #[arg(long, default_value_t = 3)]
    pub full_epochs: usize,
    /// Records per mini-batch.
    #[arg(long, default_value_t = 512)]
    pub batch_size: usize,
    /// Laplace pseudocount per distribution.
    #[arg(long, default_value_t = 0.1)]
    pub pseudocount: f64,
    /// Mini-batch step size at the first epoch (decays linearly to --step-end).
    #[arg(long, default_value_t = 0.5)]
    pub step_start: f64,
    /// Mini-batch step size at the last epoch.
    #[arg(long, default_value_t = 0.05)]
    pub step_end: f64,
    /// Hold out this fraction of records (seeded) for validation and early stopping.
    #[arg(long, value_name = "FRACTION")]
    pub valid: Option<f64>,
    /// Epochs without validation improvement before stopping.
    #[arg(long, default_value_t = 4)]
    pub patience: usize,
    /// Seed of every random choice (subsample, initial parameters, shuffles, split).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print a JSON summary (sizes, timings, epoch log) on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `pcz train`.
pub fn run(args: &TrainArgs, progress: &Progress) -> Result<()> {
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.input.with_extension("pcm"));
    if output.exists() && !args.force {
        return Err(crate::Error::parameter(format!(
            "{} already exists (use -f to overwrite)",
            output.display()
        )));
    }
    let spinner = progress.spinner("loading data");
    let all = args.data.load(&args.input)?;
    let (train, valid) = split(&all, args.valid, args.seed)?;
    spinner.set_message(format!(
        "structure: mutual information over {} variables",
        all.dims()
    ));
    let started = Instant::now();
    let structure = StructureOptions {
        hidden: args.hidden,
        mi_bins: args.mi_bins,
        mi_samples: args.mi_samples,
        shape: if args.balanced {
            Shape::Balanced
        } else {
            Shape::ChowLiu
        },
        seed: args.seed,
    };
    let tree = learn::learn_tree(&train, &structure)?;
    let structure_seconds = started.elapsed().as_secs_f64();
    let depth = tree.depth();
    let initial = learn::initial_circuit(tree, &train, args.hidden, args.seed)?;
    spinner.finish_and_clear();
    let options = EmOptions {
        epochs: args.epochs,
        full_epochs: args.full_epochs,
        batch_size: args.batch_size.max(1),
        pseudocount: args.pseudocount,
        step_start: args.step_start,
        step_end: args.step_end,
        seed: args.seed,
        patience: args.patience.max(1),
    };
    let bar = progress.bar((args.epochs + args.full_epochs) as u64, "EM");
    let em_started = Instant::now();
    let (circuit, log) =
        learn::train(
            &initial,
            &train,
            valid.as_ref(),
            &options,
            &mut |event| match event {
                Event::Batch(epoch, b, n, bpd) => {
                    bar.set_message(format!("epoch {epoch} batch {b}/{n} train {bpd:.4} bpd"))
                }
                Event::Epoch(e) => {
                    bar.inc(1);
                    let phase = if e.phase == Phase::MiniBatch {
                        "mini-batch"
                    } else {
                        "full-batch"
                    };
                    let valid = e
                        .valid_bpd
                        .map(|v| format!(", valid {v:.4}"))
                        .unwrap_or_default();
                    progress.note(
                        &bar,
                        format!(
                            "epoch {:>3}/{} {phase}: train {:.4} bpd{valid} ({:.1} s)",
                            e.epoch, e.of, e.train_bpd, e.seconds
                        ),
                    );
                }
            },
        )?;
    bar.finish_and_clear();
    let bytes = circuit.to_bytes();
    crate::atomic::write_atomic(&output, &bytes, args.force)?;
    let summary = serde_json::json!({
        "model": output.display().to_string(),
        "records": train.len(),
        "valid_records": valid.as_ref().map_or(0, |v| v.len()),
        "dims": all.dims(),
        "hidden": args.hidden,
        "tree_depth": depth,
        "model_bytes": bytes.len(),
        "structure_seconds": structure_seconds,
        "em_seconds": em_started.elapsed().as_secs_f64(),
        "train_bpd": log.last().map(|e| e.train_bpd),
        "valid_bpd": log.iter().filter_map(|e| e.valid_bpd).reduce(f64::min),
        "epochs": log,
    });
    if args.json {
        outln!("{summary}")?;
    } else if !progress.is_quiet() {
        eprintln!(
            "pcz: wrote {} ({} bytes; D = {}, M = {}, depth {}); structure {:.1} s, EM {:.1} s; final train {:.4} bpd{}",
            output.display(),
            bytes.len(),
            all.dims(),
            args.hidden,
            depth,
            structure_seconds,
            em_started.elapsed().as_secs_f64(),
            log.last().map_or(f64::NAN, |e| e.train_bpd),
            summary["valid_bpd"].as_f64().map(|v| format!(", best valid {v:.4} bpd")).unwrap_or_default()
        );
    }
    Ok(())
}

/// Splits off a seeded random validation fraction, keeping record order within each part.
fn split(
    all: &crate::Dataset,
    valid: Option<f64>,
    seed: u64,
) -> Result<(crate::Dataset, Option<crate::Dataset>)> {
    let Some(fraction) = valid else {
        return Ok((all.clone(), None));
    };
    if !(0.0..1.0).contains(&fraction) {
        return Err(crate::Error::parameter(
            "--valid must be a fraction in [0, 1)",
        ));
    }
    let n_valid = ((all.len() as f64) * fraction).round() as usize;
    if n_valid == 0 || n_valid == all.len() {
        return Ok((all.clone(), None));
    }
    let picked = Rng::new(seed ^ 0x7A11D).sample_indices(all.len(), n_valid);
    let mut is_valid = vec![false; all.len()];
    picked.iter().for_each(|&i| is_valid[i] = true);
    let train: Vec<usize> = (0..all.len()).filter(|&i| !is_valid[i]).collect();
    Ok((all.select(&train), Some(all.select(&picked))))
}
