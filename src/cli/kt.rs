//! `pcz kt sample|tasks|run|score`.

use crate::kt::baselines;
use crate::kt::compress::Codec;
use crate::kt::generate;
use crate::kt::score::{read_preds, score, ScoreOptions};
use crate::kt::sha256::sha256_hex;
use crate::kt::tasks::{chunk, fasta_symbols, read_tasks, wav_bytes, write_tasks, AudioView};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `pcz kt ...`
#[derive(Debug, Args)]
pub struct KtArgs {
    #[command(subcommand)]
    cmd: KtCmd,
}

#[derive(Debug, Subcommand)]
enum KtCmd {
    /// Seeded synthetic tasks with known DSL programs.
    Sample {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Longest sequence kept (KT: 128).
        #[arg(long, default_value_t = 128)]
        max_length: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Cut a file into tasks.
    Tasks {
        #[arg(long)]
        from: PathBuf,
        #[arg(long, default_value_t = 128)]
        length: usize,
        /// FASTA input (ACGT -> 0..3, acgt -> 4..7).
        #[arg(long)]
        dna: bool,
        /// WAV input viewed as int16 byte pairs or int8.
        #[arg(long, value_parser = ["int16", "int8"])]
        audio: Option<String>,
        /// Modality name (default: from the options, or "text").
        #[arg(long)]
        modality: Option<String>,
        /// Skip this many chunks.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Keep at most this many tasks.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Run a generator over tasks, writing per-sequence predictions (jsonl).
    Run {
        /// literal | search | cmd:PROGRAM
        #[arg(long, default_value = "search")]
        generator: String,
        #[arg(long)]
        tasks: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        /// Samples per task (external generators), keeping the shortest correct.
        #[arg(long, default_value_t = 1)]
        samples: usize,
        /// Repair rounds with the error or first mismatch (external generators).
        #[arg(long, default_value_t = 0)]
        repair: usize,
        /// Seconds per request (external generators).
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        /// Response cache directory (external generators).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Summary file stem: writes STEM.md and STEM.json.
        #[arg(long)]
        summary: Option<PathBuf>,
    },
    /// Score predictions.
    Score {
        preds: PathBuf,
        /// Reproduce the released KT evaluator's conventions.
        #[arg(long)]
        kt_compat: bool,
        /// With --kt-compat: executable (even wrong) programs are used, as in KT's natural-data script.
        #[arg(long)]
        exec_quirk: bool,
        /// Fallback compressor for the corrected variant.
        #[arg(long, default_value = "gzip")]
        fallback: String,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Write per-sequence rows (jsonl) here.
        #[arg(long)]
        rows: Option<PathBuf>,
        /// Skip the baseline table.
        #[arg(long)]
        no_baselines: bool,
    },
}

fn read(p: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &PathBuf, data: &[u8]) -> Result<(), String> {
    std::fs::write(p, data).map_err(|e| format!("{}: {e}", p.display()))
}

fn codec(name: &str) -> Result<Codec, String> {
    Codec::ALL
        .into_iter()
        .find(|c| c.name() == name)
        .ok_or(format!("unknown codec {name:?}"))
}

/// Runs `pcz kt ...`.
pub fn run(a: KtArgs) -> Result<(), String> {
    match a.cmd {
        KtCmd::Sample {
            count,
            seed,
            max_length,
            output,
        } => {
            let tasks = crate::kt::sample::sample_tasks(count, seed, max_length);
            write(&output, write_tasks(&tasks).as_bytes())?;
            eprintln!("{} tasks, seed {seed}", tasks.len());
        }
        KtCmd::Tasks {
            from,
            length,
            dna,
            audio,
            modality,
            offset,
            limit,
            output,
        } => {
            let data = read(&from)?;
            let (bytes, m) = if dna {
                let (s, dropped) = fasta_symbols(&data);
                if dropped > 0 {
                    eprintln!("dropped {dropped} non-ACGT letters");
                }
                (s, "dna")
            } else if let Some(v) = audio {
                let view = if v == "int8" {
                    AudioView::Int8
                } else {
                    AudioView::Int16
                };
                (wav_bytes(&data, view).map_err(|e| e.to_string())?, "audio")
            } else if from.extension().is_some_and(|e| e == "jsonl") {
                let t = read_tasks(std::str::from_utf8(&data).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
                (t.into_iter().flat_map(|t| t.sequence).collect(), "text")
            } else {
                (data.clone(), "text")
            };
            let m = modality.unwrap_or_else(|| m.to_string());
            let tasks = chunk(&bytes, length, &m, offset, limit);
            write(&output, write_tasks(&tasks).as_bytes())?;
            eprintln!(
                "{} tasks of {length} from {} (sha256 {})",
                tasks.len(),
                from.display(),
                sha256_hex(&data)
            );
        }
        KtCmd::Run {
            generator,
            tasks,
            output,
            samples,
            repair,
            timeout,
            cache,
            summary,
        } => {
            let data = read(&tasks)?;
            let ts = read_tasks(std::str::from_utf8(&data).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            let cfg = generate::RunConfig {
                generator: generator.clone(),
                samples,
                repair,
                timeout_s: timeout,
                cache,
            };
            let t0 = std::time::Instant::now();
            let preds = generate::run_all(&ts, &cfg)?;
            let secs = t0.elapsed().as_secs_f64();
            let mut out = String::new();
            for p in &preds {
                out.push_str(&serde_json::to_string(p).expect("serialisable"));
                out.push('\n');
            }
            write(&output, out.as_bytes())?;
            eprintln!("{} predictions in {secs:.1} s", preds.len());
            if let Some(stem) = summary {
                let ps = read_preds(&out, false)?;
                let (_, rep) = score(&ps, &ScoreOptions::default());
                let bl = baselines::baselines(&ts);
                let meta = serde_json::json!({
                    "generator": generator, "samples": samples, "repair": repair,
                    "tasks": tasks.display().to_string(), "tasks_sha256": sha256_hex(&data),
                    "predictions_sha256": sha256_hex(out.as_bytes()), "seconds": secs,
                });
                let js = serde_json::json!({"config": meta, "report": rep, "baselines": bl});
                let mut jp = stem.clone().into_os_string();
                jp.push(".json");
                write(
                    &PathBuf::from(jp),
                    serde_json::to_string_pretty(&js).expect("json").as_bytes(),
                )?;
                let mut mp = stem.into_os_string();
                mp.push(".md");
                write(&PathBuf::from(mp), markdown(&rep, &bl, &meta).as_bytes())?;
            }
        }
        KtCmd::Score {
            preds,
            kt_compat,
            exec_quirk,
            fallback,
            json,
            rows,
            no_baselines,
        } => {
            let data = read(&preds)?;
            let text = std::str::from_utf8(&data).map_err(|e| e.to_string())?;
            let ps = read_preds(text, kt_compat)?;
            let o = ScoreOptions {
                kt_compat,
                exec_quirk,
                fallback: codec(&fallback)?,
                ..Default::default()
            };
            let (rs, rep) = score(&ps, &o);
            if let Some(rp) = rows {
                let mut s = String::new();
                for r in &rs {
                    s.push_str(&serde_json::to_string(r).expect("json"));
                    s.push('\n');
                }
                write(&rp, s.as_bytes())?;
            }
            let tasks: Vec<crate::kt::tasks::Task> = ps
                .iter()
                .map(|p| crate::kt::tasks::Task {
                    id: p.id.clone(),
                    modality: p.modality.clone(),
                    sequence: p.sequence.clone(),
                    program: None,
                })
                .collect();
            let bl = if no_baselines {
                serde_json::Value::Null
            } else {
                serde_json::to_value(baselines::baselines(&tasks)).expect("json")
            };
            let meta = serde_json::json!({"predictions": preds.display().to_string(), "predictions_sha256": sha256_hex(&data)});
            if json {
                let js = serde_json::json!({"config": meta, "report": rep, "baselines": bl});
                println!("{}", serde_json::to_string_pretty(&js).expect("json"));
            } else {
                let bl2: Vec<baselines::Baseline> = serde_json::from_value(bl).unwrap_or_default();
                print!("{}", markdown(&rep, &bl2, &meta));
            }
        }
    }
    Ok(())
}

fn markdown(
    rep: &crate::kt::score::Report,
    bl: &[baselines::Baseline],
    meta: &serde_json::Value,
) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# KT score ({} variant, fallback {})\n\n",
        rep.variant, rep.fallback
    ));
    s.push_str(&format!("config: `{meta}`\n\n"));
    s.push_str("| set | n | accuracy | precision | overall rate | fallback alone | used | acc@16 | acc@32 | acc@64 | acc@128 | program cost |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let mut row = |name: &str, m: &crate::kt::score::Metrics| {
        s.push_str(&format!(
            "| {name} | {} | {:.1}% | {} | {:.4} | {:.4} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} |\n",
            m.n,
            100.0 * m.accuracy,
            m.precision.map_or("-".into(), |p| format!("{p:.3}")),
            m.overall_rate,
            m.fallback_rate,
            m.used,
            m.acc_at_prefix["16"],
            m.acc_at_prefix["32"],
            m.acc_at_prefix["64"],
            m.acc_at_prefix["128"],
            m.program_cost
        ));
    };
    row("all", &rep.all);
    for (k, m) in &rep.per_modality {
        row(k, m);
    }
    let b = &rep.all.bits;
    s.push_str(&format!(
        "\nbits: programs {:.0}, fallback {:.0}, flags {:.0}, total {:.0}, raw {:.0}\n",
        b.programs, b.fallback, b.flags, b.total, b.raw
    ));
    if !bl.is_empty() {
        s.push_str("\n| baseline | rate |\n|---|---|\n");
        for x in bl {
            s.push_str(&format!("| {} | {:.4} |\n", x.name, x.rate));
        }
    }
    s
}
