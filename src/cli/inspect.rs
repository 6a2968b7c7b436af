//! `pcz inspect`: what is inside a `.pcz` file.

use super::files::{each_input, read_input};
use crate::container::{self, Limits, Model};
use crate::Result;
use clap::Args;
use std::path::{Path, PathBuf};

/// Show a .pcz file's version, layout, model, chunks, sizes, ratio and checksums.
///
/// With several files, each report starts with the file's name (a "file" field in JSON,
/// one line per file).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InspectArgs {
    /// The .pcz files (`-` for stdin).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `pcz inspect`.
pub fn run(args: &InspectArgs) -> Result<()> {
    let named = args.inputs.len() > 1;
    each_input(&args.inputs, |path| inspect(path, args.json, named))
}

/// Prints the report of the file at `path`, headed by its name if `named`.
fn inspect(path: &Path, json: bool, named: bool) -> Result<()> {
    let bytes = read_input(path)?;
    let parsed = container::parse(
        &bytes,
        &Limits {
            max_output: u64::MAX,
        },
    )
    .map_err(|e| super::in_file(path, e))?;
    let h = &parsed.header;
    let model = match &h.model {
        Model::None => serde_json::json!({"kind": "none"}),
        Model::Referenced { hash, name } => {
            serde_json::json!({"kind": "referenced", "hash": format!("{hash:032x}"), "name": name})
        }
        Model::Embedded { hash, bytes } => {
            serde_json::json!({"kind": "embedded", "hash": format!("{hash:032x}"), "bytes": bytes})
        }
        Model::Compact { hash, bytes } => {
            serde_json::json!({"kind": "compact", "hash": format!("{hash:032x}"), "bytes": bytes})
        }
    };
    let chunks: Vec<_> = h
        .chunks
        .iter()
        .map(|c| serde_json::json!({"codec": c.codec, "records": c.records, "stored_size": c.stored_size, "checksum": format!("{:016x}", c.checksum)}))
        .collect();
    let mut summary = serde_json::json!({
        "version": h.version,
        "file_bytes": bytes.len(),
        "original_size": h.original_size,
        "ratio": h.original_size as f64 / bytes.len().max(1) as f64,
        "record_size": h.record_size,
        "record_count": h.record_count,
        "prefix_bytes": h.prefix.len(),
        "suffix_bytes": h.suffix.len(),
        "model": model,
        "content_checksum": format!("{:016x}", h.content_checksum),
        "chunks": chunks,
    });
    if let Some(t) = &h.transform {
        summary["transform"] = serde_json::json!(t);
    }
    if h.png_pixels {
        summary["png_pixels"] = serde_json::json!(true);
    }
    if named {
        summary["file"] = path.display().to_string().into();
    }
    if json {
        outln!("{summary}")?;
        return Ok(());
    }
    if named {
        outln!("file       {}", path.display())?;
    }
    outln!("pcz format version {}", h.version)?;
    outln!(
        "original   {} bytes -> {} bytes (ratio {:.3})",
        h.original_size,
        bytes.len(),
        summary["ratio"].as_f64().unwrap_or(0.0)
    )?;
    outln!(
        "layout     {} prefix + {} records x {} bytes + {} suffix",
        h.prefix.len(),
        h.record_count,
        h.record_size,
        h.suffix.len()
    )?;
    if let Some(container::Transform::Med {
        row,
        channels,
        green,
    }) = h.transform
    {
        let green = if green {
            ", red and blue minus green"
        } else {
            ""
        };
        outln!("transform  residuals of the MED predictor ({row} samples per row, {channels} per pixel{green})")?;
    }
    if h.png_pixels {
        outln!("pixels     the original is a PNG's pixels (as PGM/PPM); decompresses to a PNG")?;
    }
    outln!("model      {}", model)?;
    outln!(
        "checksum   {:016x} (XXH3-64 of the original)",
        h.content_checksum
    )?;
    outln!("chunks     {}", h.chunks.len())?;
    for (i, c) in h.chunks.iter().enumerate() {
        outln!(
            "  {i:>5}  {:<6} {:>6} records {:>10} bytes  {:016x}",
            format!("{:?}", c.codec).to_lowercase(),
            c.records,
            c.stored_size,
            c.checksum
        )?;
    }
    Ok(())
}
