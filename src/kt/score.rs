//! Scoring predictions: accuracy, precision, overall compression rate, acc@prefix, bits
//! breakdown, per modality, in two named variants:
//!
//! - `corrected` (default): a program is used only if it reproduces its sequence exactly; the
//!   run picks the cheapest of three exact totals (all correct programs; only those cheaper
//!   than their raw bytes; none), paying 2 mode bits, 1 flag bit per sequence, a binary-safe
//!   joint fallback (raw bytes concatenated, then compressed) and the fallback sequences'
//!   lengths when lengths vary (no per-sequence flags in the "no programs" mode). It is never
//!   worse than its own fallback by more than the 2 mode bits.
//! - `kt-compat`: the released KT evaluator's conventions: programs and fallback joined with
//!   `#_#_#_#_#_#_#` and gzipped, fallback bytes read as Latin-1 and re-encoded as UTF-8,
//!   1 flag bit per sequence, precision from `\n`-joined gzip; DSL programs are charged the
//!   uniform-prior bits and the fallback is `\n`-joined (the synthetic evaluator). With
//!   `exec_quirk` an *executable* program is used even when wrong (the natural-data script).

use super::compress::{join, latin1_to_utf8, Codec, KT_SEP};
use super::cost::{code_bits, decode, encode, kt_uniform_bits};
use super::interp::{run, Limits};
use super::parse::parse;
use super::python::run_python_subset;
use serde::Serialize;
use std::collections::BTreeMap;

/// One prediction, normalised.
#[derive(Debug, Clone)]
pub struct Pred {
    /// Task id.
    pub id: String,
    /// Modality ("" if unknown).
    pub modality: String,
    /// The target sequence.
    pub sequence: Vec<u8>,
    /// The program text as extracted.
    pub program: String,
    /// Forced language ("dsl" or "python"), if the record says.
    pub language: Option<String>,
}

/// KT's extraction from a raw generation: text after the lead-in, code fences removed, cut
/// at `###`, then what follows the last `python` (so a program containing "python" is cut:
/// a quirk kept for compatibility).
pub fn extract_kt(generation: &str) -> String {
    let s = match generation.rfind("generates the sequence is:") {
        Some(i) => &generation[i + "generates the sequence is:".len()..],
        None => generation,
    };
    let s = s.replace("```", "");
    let s = s.split("###").next().unwrap_or("");
    let s = s.split("<|end_of_text|>").next().unwrap_or("");
    s.rsplit("python").next().unwrap_or("").to_string()
}

/// Tolerant extraction: the first fenced block (language tag dropped) if any, else the text
/// after the lead-in up to `###`.
pub fn extract_tolerant(generation: &str) -> String {
    if let Some(a) = generation.find("```") {
        let rest = &generation[a + 3..];
        if let Some(b) = rest.find("```") {
            let block = &rest[..b];
            let block = match block.split_once('\n') {
                Some((first, body)) if !first.contains('=') => body,
                _ => block,
            };
            return block.to_string();
        }
    }
    let s = match generation.rfind("generates the sequence is:") {
        Some(i) => &generation[i + "generates the sequence is:".len()..],
        None => generation,
    };
    s.split("###")
        .next()
        .unwrap_or("")
        .split("<|end_of_text|>")
        .next()
        .unwrap_or("")
        .to_string()
}

fn sequence_from_prompt(prompt: &str) -> Option<Vec<u8>> {
    let tail = match prompt.rfind("Input Sequence:") {
        Some(i) => &prompt[i..],
        None => prompt,
    };
    let a = tail.find('[')?;
    let b = a + tail[a..].find(']')?;
    let mut out = Vec::new();
    for x in tail[a + 1..b].split(',') {
        let t = x.trim();
        if t.is_empty() {
            continue;
        }
        let v: i64 = t.parse().ok()?;
        out.push(u8::try_from(v).ok()?);
    }
    Some(out)
}

/// Reads predictions jsonl. A line is an object, or a JSON string holding one (KT's released
/// o1-mini file). Fields: `sequence` (else parsed from `prompt`), `program` (else extracted
/// from `generation`), optional `id`, `modality`, `language`.
pub fn read_preds(text: &str, kt_extraction: bool) -> Result<Vec<Pred>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        if let Some(s) = v.as_str() {
            v = serde_json::from_str(s).map_err(|e| format!("line {}: inner JSON: {e}", i + 1))?;
        }
        let sequence = match v.get("sequence").and_then(|s| s.as_array()) {
            Some(arr) => arr
                .iter()
                .map(|x| x.as_u64().filter(|&b| b <= 255).map(|b| b as u8))
                .collect::<Option<Vec<u8>>>()
                .ok_or(format!("line {}: sequence is not bytes", i + 1))?,
            None => v
                .get("prompt")
                .and_then(|p| p.as_str())
                .and_then(sequence_from_prompt)
                .ok_or(format!(
                    "line {}: no sequence (neither `sequence` nor a prompt list)",
                    i + 1
                ))?,
        };
        let program = match v.get("program").and_then(|p| p.as_str()) {
            Some(p) => p.to_string(),
            None => {
                let g = v.get("generation").and_then(|g| g.as_str()).unwrap_or("");
                if kt_extraction {
                    extract_kt(g)
                } else {
                    extract_tolerant(g)
                }
            }
        };
        out.push(Pred {
            id: super::tasks::json_id(&v, i),
            modality: super::tasks::json_modality(&v),
            sequence,
            program,
            language: v.get("language").and_then(|s| s.as_str()).map(String::from),
        });
    }
    Ok(out)
}

/// Options.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Reproduce the released evaluator's conventions.
    pub kt_compat: bool,
    /// With `kt_compat`: use executable (even wrong) programs, like the natural-data script.
    pub exec_quirk: bool,
    /// Fallback compressor (corrected variant).
    pub fallback: Codec,
    /// Interpreter limits.
    pub limits: Limits,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            kt_compat: false,
            exec_quirk: false,
            fallback: Codec::Gzip,
            limits: Limits::default(),
        }
    }
}

/// Per-sequence result.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Task id.
    pub id: String,
    /// Modality.
    pub modality: String,
    /// "dsl", "python" or "none".
    pub language: &'static str,
    /// Output is a list of ints of length <= 256.
    pub executable: bool,
    /// Output equals the sequence.
    pub correct: bool,
    /// Error, if not executable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Length of the matching prefix.
    pub correct_prefix: usize,
    /// Sequence length.
    pub length: usize,
    /// Program text bytes.
    pub program_bytes: usize,
    /// KT uniform-prior bits (DSL only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kt_bits: Option<f64>,
    /// Prefix-free code bits, verified by decoding (DSL only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_bits: Option<u64>,
    /// The program was used in the total.
    pub used: bool,
    #[serde(skip)]
    output: Option<Vec<i64>>,
}

/// Evaluates one prediction.
pub fn evaluate(p: &Pred, limits: &Limits) -> Row {
    let want_dsl = p.language.as_deref() != Some("python");
    let parsed = if want_dsl {
        parse(&p.program).ok()
    } else {
        None
    };
    let (language, result, kt_bits, cbits) = match parsed {
        Some(prog) => {
            let (bytes, bits) = encode(&prog);
            let verified =
                matches!(decode(&bytes), Ok((d, used)) if used == bits && d.same_structure(&prog));
            assert!(verified, "program code failed to decode back");
            let r = run(&prog, limits).map_err(|e| e.to_string());
            (
                "dsl",
                r,
                Some(kt_uniform_bits(&prog, super::dsl::NUM_NAMES)),
                Some(code_bits(&prog)),
            )
        }
        None if p.language.as_deref() == Some("dsl") => {
            ("dsl", Err("DSL parse error".to_string()), None, None)
        }
        None => {
            let r = run_python_subset(&p.program, limits.fuel, limits.max_list_len.max(4096))
                .map_err(|e| e.0);
            let r = r.and_then(|o| {
                if o.len() > limits.max_output_len {
                    Err("output too long".into())
                } else {
                    Ok(o)
                }
            });
            ("python", r, None, None)
        }
    };
    let (executable, correct, error, prefix, output) = match result {
        Ok(out) => {
            let prefix = out
                .iter()
                .zip(&p.sequence)
                .take_while(|(a, b)| **a == **b as i64)
                .count();
            let correct = out.len() == p.sequence.len() && prefix == out.len();
            (!out.is_empty(), correct, None, prefix, Some(out))
        }
        Err(e) => (false, false, Some(e), 0, None),
    };
    Row {
        id: p.id.clone(),
        modality: p.modality.clone(),
        language,
        executable,
        correct,
        error,
        correct_prefix: prefix,
        length: p.sequence.len(),
        program_bytes: p.program.len(),
        kt_bits,
        code_bits: cbits,
        used: false,
        output,
    }
}

/// Bits breakdown.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Bits {
    /// Programs.
    pub programs: f64,
    /// Fallback.
    pub fallback: f64,
    /// Flags (and mode/length side information).
    pub flags: f64,
    /// Total.
    pub total: f64,
    /// Raw sequence bits (8 per element).
    pub raw: f64,
}

/// Aggregate metrics for a set.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Sequences.
    pub n: usize,
    /// Exact-match share.
    pub accuracy: f64,
    /// Executable share.
    pub executable: f64,
    /// Accuracy among executable programs.
    pub accuracy_executable: f64,
    /// Program bits / fallback bits over solved sequences.
    pub precision: Option<f64>,
    /// Overall compression rate.
    pub overall_rate: f64,
    /// Fallback alone on all sequences (same codec and conventions), as a rate.
    pub fallback_rate: f64,
    /// acc@prefix for 16/32/64/128.
    pub acc_at_prefix: BTreeMap<String, f64>,
    /// Programs used.
    pub used: usize,
    /// Breakdown.
    pub bits: Bits,
    /// Program cost measure used.
    pub program_cost: String,
}

fn gz_bits(data: &[u8]) -> f64 {
    8.0 * Codec::Gzip.size(data) as f64
}

/// Scores rows (modified in place: `used`) against their predictions.
pub fn metrics(preds: &[Pred], rows: &mut [Row], o: &ScoreOptions) -> Metrics {
    let n = rows.len();
    let raw: f64 = preds.iter().map(|p| 8.0 * p.sequence.len() as f64).sum();
    let nf = n.max(1) as f64;
    let accuracy = rows.iter().filter(|r| r.correct).count() as f64 / nf;
    let exec = rows.iter().filter(|r| r.executable).count();
    let accuracy_executable = if exec > 0 {
        rows.iter().filter(|r| r.correct).count() as f64 / exec as f64
    } else {
        0.0
    };
    let mut acc_at_prefix = BTreeMap::new();
    for k in [16usize, 32, 64, 128] {
        let hit = rows
            .iter()
            .zip(preds)
            .filter(|(r, p)| {
                let want = &p.sequence[..k.min(p.sequence.len())];
                match &r.output {
                    Some(out) => {
                        let got = &out[..k.min(out.len())];
                        got.len() == want.len()
                            && got.iter().zip(want).all(|(a, b)| *a == *b as i64)
                    }
                    None => want.is_empty(),
                }
            })
            .count();
        acc_at_prefix.insert(k.to_string(), hit as f64 / nf);
    }
    let all_dsl = rows
        .iter()
        .filter(|r| r.correct)
        .all(|r| r.language == "dsl");
    let (bits, precision, fallback_rate, cost_name) = if o.kt_compat {
        for r in rows.iter_mut() {
            r.used = if o.exec_quirk {
                r.executable
            } else {
                r.correct
            };
        }
        let sep: &[u8] = if all_dsl { b"\n" } else { KT_SEP.as_bytes() };
        let fb: Vec<Vec<u8>> = preds
            .iter()
            .zip(rows.iter())
            .filter(|(_, r)| !r.used)
            .map(|(p, _)| latin1_to_utf8(&p.sequence))
            .collect();
        let fallback = gz_bits(&join(
            &fb.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
            sep,
        ));
        let used_progs: Vec<&[u8]> = preds
            .iter()
            .zip(rows.iter())
            .filter(|(_, r)| r.used)
            .map(|(p, _)| p.program.as_bytes())
            .collect();
        let programs = if all_dsl {
            rows.iter()
                .filter(|r| r.used)
                .map(|r| r.kt_bits.unwrap_or(0.0))
                .sum()
        } else {
            gz_bits(&join(&used_progs, KT_SEP.as_bytes()))
        };
        let mut total = programs + fallback + n as f64;
        if all_dsl {
            total = total.ceil();
        }
        let solved: Vec<(&Pred, &Row)> = preds
            .iter()
            .zip(rows.iter())
            .filter(|(_, r)| r.correct)
            .collect();
        let precision = if solved.is_empty() {
            None
        } else if all_dsl {
            let pb: f64 = solved.iter().map(|(_, r)| r.kt_bits.unwrap_or(0.0)).sum();
            let sq: Vec<Vec<u8>> = solved
                .iter()
                .map(|(p, _)| latin1_to_utf8(&p.sequence))
                .collect();
            Some(
                pb / gz_bits(&join(
                    &sq.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
                    b"\n",
                )),
            )
        } else {
            let pr: Vec<&[u8]> = solved.iter().map(|(p, _)| p.program.as_bytes()).collect();
            let sq: Vec<Vec<u8>> = solved
                .iter()
                .map(|(p, _)| latin1_to_utf8(&p.sequence))
                .collect();
            Some(
                gz_bits(&join(&pr, b"\n"))
                    / gz_bits(&join(
                        &sq.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
                        b"\n",
                    )),
            )
        };
        let all: Vec<Vec<u8>> = preds.iter().map(|p| latin1_to_utf8(&p.sequence)).collect();
        let fb_all = gz_bits(&join(
            &all.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
            sep,
        ));
        (
            Bits {
                programs,
                fallback,
                flags: n as f64,
                total,
                raw,
            },
            precision,
            fb_all / raw,
            if all_dsl {
                "kt-uniform"
            } else {
                "gzip-joint(#_#_#_#_#_#_#)"
            },
        )
    } else {
        let codec = o.fallback;
        let lens_vary = preds
            .windows(2)
            .any(|w| w[0].sequence.len() != w[1].sequence.len());
        let max_len = preds.iter().map(|p| p.sequence.len()).max().unwrap_or(0);
        let len_bits = if lens_vary {
            (max_len as f64 + 1.0).log2().ceil()
        } else {
            0.0
        };
        let fallback_bits = |sel: &dyn Fn(usize) -> bool| -> (f64, usize) {
            let mut buf = Vec::new();
            let mut k = 0;
            for (i, p) in preds.iter().enumerate() {
                if sel(i) {
                    buf.extend_from_slice(&p.sequence);
                    k += 1;
                }
            }
            if k == 0 {
                (0.0, 0)
            } else {
                (8.0 * codec.size(&buf) as f64 + k as f64 * len_bits, k)
            }
        };
        let cb: Vec<f64> = rows
            .iter()
            .map(|r| r.code_bits.map_or(f64::INFINITY, |b| b as f64))
            .collect();
        let program_bits = |sel: &dyn Fn(usize) -> bool| -> f64 {
            if all_dsl {
                (0..n).filter(|&i| sel(i)).map(|i| cb[i]).sum()
            } else {
                let progs: Vec<&[u8]> = preds
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| sel(*i))
                    .map(|(_, p)| p.program.as_bytes())
                    .collect();
                if progs.is_empty() {
                    0.0
                } else {
                    gz_bits(&join(&progs, b"\0"))
                }
            }
        };
        let standalone = |i: usize| -> f64 {
            if all_dsl {
                cb[i]
            } else {
                gz_bits(preds[i].program.as_bytes()) - 8.0 * 18.0
            }
        };
        let correct: Vec<bool> = rows.iter().map(|r| r.correct).collect();
        let cheap: Vec<bool> = (0..n)
            .map(|i| correct[i] && standalone(i) < 8.0 * preds[i].sequence.len() as f64)
            .collect();
        let options: [&dyn Fn(usize) -> bool; 3] = [&|i| correct[i], &|i| cheap[i], &|_| false];
        let mut best: Option<(f64, f64, f64, usize)> = None;
        for (k, sel) in options.iter().enumerate() {
            let pb = program_bits(*sel);
            let (fb, _) = fallback_bits(&|i| !sel(i));
            let t = pb + fb + if k == 2 { 0.0 } else { n as f64 };
            if best.as_ref().is_none_or(|b| t < b.2) {
                best = Some((pb, fb, t, k));
            }
        }
        let (programs, fallback, _, k) = best.expect("three options");
        let used_sel: Vec<bool> = (0..n).map(|i| options[k](i)).collect();
        // Mode "no programs" needs no per-sequence flags: only the 2 mode bits.
        let flags = if k == 2 { 2.0 } else { n as f64 + 2.0 };
        let total = programs + fallback + flags;
        let solved = |i: usize| correct[i];
        let precision = if correct.iter().any(|&c| c) {
            Some(program_bits(&solved) / fallback_bits(&solved).0)
        } else {
            None
        };
        let (fb_all, _) = fallback_bits(&|_| true);
        for (r, u) in rows.iter_mut().zip(used_sel) {
            r.used = u;
        }
        (
            Bits {
                programs,
                fallback,
                flags,
                total,
                raw,
            },
            precision,
            fb_all / raw,
            if all_dsl {
                "prefix-free DSL code (verified by decoding)"
            } else {
                "gzip-joint(NUL)"
            },
        )
    };
    Metrics {
        n,
        accuracy,
        executable: exec as f64 / nf,
        accuracy_executable,
        precision,
        overall_rate: bits.total / raw.max(1.0),
        fallback_rate,
        acc_at_prefix,
        used: rows.iter().filter(|r| r.used).count(),
        bits,
        program_cost: cost_name.to_string(),
    }
}

/// Full report: overall and per modality.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// "corrected", "kt-compat" or "kt-compat+exec-quirk".
    pub variant: String,
    /// Fallback codec.
    pub fallback: String,
    /// All sequences.
    pub all: Metrics,
    /// Per modality (when more than one, or named).
    pub per_modality: BTreeMap<String, Metrics>,
}

/// Scores predictions; returns per-sequence rows and the report.
pub fn score(preds: &[Pred], o: &ScoreOptions) -> (Vec<Row>, Report) {
    let mut rows: Vec<Row> = preds.iter().map(|p| evaluate(p, &o.limits)).collect();
    let all = metrics(preds, &mut rows, o);
    let mut per_modality = BTreeMap::new();
    let mods: std::collections::BTreeSet<String> =
        preds.iter().map(|p| p.modality.clone()).collect();
    if mods.len() > 1 {
        for m in mods {
            let idx: Vec<usize> = (0..preds.len())
                .filter(|&i| preds[i].modality == m)
                .collect();
            let ps: Vec<Pred> = idx.iter().map(|&i| preds[i].clone()).collect();
            let mut rs: Vec<Row> = idx.iter().map(|&i| rows[i].clone()).collect();
            per_modality.insert(
                if m.is_empty() { "(none)".into() } else { m },
                metrics(&ps, &mut rs, o),
            );
        }
    }
    let variant = match (o.kt_compat, o.exec_quirk) {
        (false, _) => "corrected",
        (true, false) => "kt-compat",
        (true, true) => "kt-compat+exec-quirk",
    };
    (
        rows,
        Report {
            variant: variant.into(),
            fallback: o.fallback.name().into(),
            all,
            per_modality,
        },
    )
}
