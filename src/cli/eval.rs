//! `pcz eval`: exact likelihood of a dataset under a model.

use super::input::InputArgs;
use super::progress::Progress;
use crate::{Circuit, Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Exact negative log-likelihood of a dataset under a model, in bits per dimension.
///
/// This is the size an ideal arithmetic coder would reach with the model (model bytes not
/// counted). Example: pcz eval mnist.pcm t10k-images-idx3-ubyte.gz --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EvalArgs {
    /// Model file written by `pcz train`.
    pub model: PathBuf,
    /// Dataset with the model's record size.
    pub input: PathBuf,
    #[command(flatten)]
    pub data: InputArgs,
    /// Print {"records","dims","bpd","nll_bits"} as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reads and validates a model file, naming it in errors.
pub(crate) fn read_model(path: &std::path::Path) -> Result<Circuit> {
    let bytes = std::fs::read(path).map_err(|e| super::in_file(path, e.into()))?;
    Circuit::from_bytes(&bytes).map_err(|e| super::in_file(path, e))
}

/// Runs `pcz eval`.
pub fn run(args: &EvalArgs, progress: &Progress) -> Result<()> {
    let circuit = read_model(&args.model)?;
    let mut data = args.data.load(&args.input)?;
    if data.dims() != circuit.dims() {
        return Err(Error::parameter(format!(
            "{}: records have {} values, the model expects {}",
            args.input.display(),
            data.dims(),
            circuit.dims()
        )));
    }
    if data.alphabet() != circuit.alphabet() {
        data = crate::Dataset::with_alphabet(
            data.dims(),
            data.values().to_vec(),
            circuit.alphabet().to_vec(),
        )
        .map_err(|e| super::in_file(&args.input, e))?;
    }
    let spinner = progress.spinner(&format!("evaluating {} records", data.len()));
    let bpd = circuit.params().bits_per_dim(&data);
    spinner.finish_and_clear();
    let nll_bits = bpd * (data.len() * data.dims()) as f64;
    if args.json {
        outln!(
            "{}",
            serde_json::json!({"records": data.len(), "dims": data.dims(), "bpd": bpd, "nll_bits": nll_bits})
        )?;
    } else {
        outln!(
            "{bpd:.4} bits/dim ({} records x {} dims, {:.0} bits)",
            data.len(),
            data.dims(),
            nll_bits
        )?;
    }
    Ok(())
}
