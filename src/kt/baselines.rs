//! Baselines on a task set: classical compressors (whole concatenation = joint fallback, and
//! per sequence), KT's gzip fallback with its conventions, and an adaptive order-k context
//! model driving a range coder (constriction), the offline stand-in for LM + arithmetic
//! coding. Every context-model stream is decoded back and compared before it is counted.

use super::compress::{join, latin1_to_utf8, Codec, KT_SEP};
use super::tasks::Task;
use constriction::stream::model::DefaultContiguousCategoricalEntropyModel;
use constriction::stream::queue::{DefaultRangeDecoder, DefaultRangeEncoder};
use constriction::stream::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One baseline's rate (compressed bits / raw bits).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Baseline {
    /// Name, e.g. "gzip joint".
    pub name: String,
    /// Rate.
    pub rate: f64,
}

const PREC: u32 = 24;

/// Adaptive order-`k` context model: per-context counts with add-1/2 smoothing over 256 symbols.
struct Cm {
    k: usize,
    tables: HashMap<u32, Vec<u32>>,
}

impl Cm {
    fn model(&self, ctx: u32) -> DefaultContiguousCategoricalEntropyModel {
        let counts = self.tables.get(&ctx);
        let w: Vec<u64> = (0..256)
            .map(|s| 1 + 2 * counts.map_or(0, |c| c[s]) as u64)
            .collect();
        let total: u64 = w.iter().sum();
        let budget = (1u64 << PREC) - 256;
        let mut p: Vec<u32> = w.iter().map(|&x| 1 + (x * budget / total) as u32).collect();
        let sum: u64 = p.iter().map(|&x| x as u64).sum();
        let (imax, _) = p.iter().enumerate().max_by_key(|(_, &x)| x).expect("256");
        p[imax] += ((1u64 << PREC) - sum) as u32;
        DefaultContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities(&p, false)
            .expect("valid")
    }
    fn ctx(&self, hist: &[u8]) -> u32 {
        let mut c = 0u32;
        for &b in hist.iter().rev().take(self.k) {
            c = (c << 8) | b as u32;
        }
        c
    }
    fn update(&mut self, ctx: u32, s: u8) {
        self.tables.entry(ctx).or_insert_with(|| vec![0; 256])[s as usize] += 1;
    }
}

/// Encodes `data` with an adaptive order-`k` model; returns the compressed size in bits
/// (32-bit words) after checking that decoding gives `data` back.
pub fn context_model_bits(data: &[u8], k: usize) -> u64 {
    let mut cm = Cm {
        k,
        tables: HashMap::new(),
    };
    let mut enc = DefaultRangeEncoder::new();
    for i in 0..data.len() {
        let ctx = cm.ctx(&data[i.saturating_sub(k)..i]);
        let m = cm.model(ctx);
        enc.encode_symbol(data[i] as usize, m).expect("encodable");
        cm.update(ctx, data[i]);
    }
    let words = enc.into_compressed().expect("finish");
    let bits = 32 * words.len() as u64;
    let mut dec = DefaultRangeDecoder::from_compressed(words).expect("decoder");
    let mut cm = Cm {
        k,
        tables: HashMap::new(),
    };
    let mut back = Vec::with_capacity(data.len());
    for i in 0..data.len() {
        let ctx = cm.ctx(&back[i.saturating_sub(k)..i]);
        let m = cm.model(ctx);
        let s = dec.decode_symbol(m).expect("decodable") as u8;
        back.push(s);
        cm.update(ctx, s);
    }
    assert_eq!(back, data, "context model failed to round-trip");
    bits
}

/// All baselines for a task set.
pub fn baselines(tasks: &[Task]) -> Vec<Baseline> {
    let raw: f64 = tasks
        .iter()
        .map(|t| 8.0 * t.sequence.len() as f64)
        .sum::<f64>()
        .max(1.0);
    let all: Vec<u8> = tasks
        .iter()
        .flat_map(|t| t.sequence.iter().copied())
        .collect();
    let mut out = Vec::new();
    for c in Codec::ALL {
        out.push(Baseline {
            name: format!("{} joint (whole)", c.name()),
            rate: 8.0 * c.size(&all) as f64 / raw,
        });
        let per: usize = tasks.iter().map(|t| c.size(&t.sequence)).sum();
        out.push(Baseline {
            name: format!("{} per sequence", c.name()),
            rate: 8.0 * per as f64 / raw,
        });
    }
    let utf: Vec<Vec<u8>> = tasks.iter().map(|t| latin1_to_utf8(&t.sequence)).collect();
    let kt = join(
        &utf.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
        KT_SEP.as_bytes(),
    );
    out.push(Baseline {
        name: "gzip KT fallback (UTF-8 quirk, separators)".into(),
        rate: 8.0 * Codec::Gzip.size(&kt) as f64 / raw,
    });
    for k in [0usize, 1, 2] {
        out.push(Baseline {
            name: format!("order-{k} context model + range coder"),
            rate: context_model_bits(&all, k) as f64 / raw,
        });
    }
    out
}
