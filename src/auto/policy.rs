//! Self-training: for each candidate (record width, hidden size) learn a small HCLT on a
//! sample of the file's own records, estimate the whole file's size with it (held-out code
//! length plus the model's bytes, which are embedded), and keep the best candidate.
//!
//! The estimate uses records the model was not trained on, so overfitting a small sample
//! shows up as a worse estimate instead of a surprise at coding time. Training and
//! estimating cost about D x M^2 per record; coding, which only the winner pays, costs
//! about D x M x K.

use super::level::Plan;
use crate::circuit::{Circuit, Quantization, MAX_SCALE_BITS};
use crate::container::compact;
use crate::data::Dataset;
use crate::error::Result;
use crate::learn::{self, EmOptions, StructureOptions};
use crate::rng::Rng;
use rayon::prelude::*;

/// Fewest records worth training on; smaller inputs go to the fallback codec.
pub const MIN_RECORDS: usize = 64;

/// One fraction of the sample in this many is held out for the estimate.
const HOLD_OUT_EVERY: usize = 5;

/// Records sampled for mutual information.
const MI_SAMPLES: usize = 4000;

/// Bytes of container structure counted per model, beyond the model itself: hash and size.
const MODEL_SECTION_OVERHEAD: usize = 24;

/// Row totals tried (2^bits), and the floor tried with each while choosing them: bits + shift.
/// On MNIST, text, DNA, audio and a photo the best were 8 to 10 bits with floors 12 to 18.
const ROW_BITS: [u8; 3] = [6, 8, 10];
const FIRST_FLOOR: u8 = 14;

/// Floors tried (bits + shift) for the chosen row total, beyond [`FIRST_FLOOR`].
const FLOORS: [u8; 3] = [12, 16, 18];

/// The quantization is chosen on one held-out record in this many (then scored on all):
/// comparing quantizations needs fewer records than predicting the file's size.
const CHOOSE_ON_EVERY: usize = 3;

/// A trained candidate and what it predicts for the whole file.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Bytes per record.
    pub record_size: usize,
    /// The trained circuit (before quantization).
    pub circuit: Circuit,
    /// How it is quantized for embedding; the held-out figures are the quantized circuit's.
    pub quantization: Quantization,
    /// Size of the compact model that will be embedded.
    pub model_bytes: usize,
    /// Held-out bits per byte.
    pub bits_per_byte: f64,
    /// Predicted payload plus model bytes for the whole body.
    pub estimate: f64,
}

/// Trains the candidates of `plan` over `widths` on `body` (the bytes after the prefix)
/// and returns the one with the smallest estimate (the first among equals), or `None`
/// when no width leaves enough records. The first candidate, the likeliest, is trained
/// alone: when its estimate is above `give_up` bytes the others are not tried (on data
/// where it is far behind the fallback, text, they lose too). The others are trained
/// side by side: on small files one candidate's training barely uses a second core.
/// `note` hears what is being tried.
pub fn best_candidate(
    body: &[u8],
    widths: &[usize],
    plan: &Plan,
    give_up: f64,
    note: &mut dyn FnMut(String),
) -> Result<Option<Candidate>> {
    let tried: Vec<(usize, usize)> = (widths.iter().take(plan.widths))
        .flat_map(|&d| plan.hidden.iter().map(move |&m| (d, m)))
        .collect();
    let Some((&(d, m), others)) = tried.split_first() else {
        return Ok(None);
    };
    note(format!("training: record size {d}, {m} hidden states"));
    let mut best = train_candidate(body, d, m, plan)?;
    if let Some(first) = best.as_ref() {
        note(format!(
            "{}: {:.0} bytes estimated",
            first.name(),
            first.estimate
        ));
        if first.estimate > give_up {
            note(format!("giving up the circuit: above {give_up:.0} bytes"));
            return Ok(best);
        }
    }
    note(format!("training {} more candidates", others.len()));
    let trained: Vec<Option<Candidate>> = others
        .par_iter()
        .map(|&(d, m)| train_candidate(body, d, m, plan))
        .collect::<Result<_>>()?;
    for c in trained.into_iter().flatten() {
        note(format!("{}: {:.0} bytes estimated", c.name(), c.estimate));
        if best.as_ref().is_none_or(|b| c.estimate < b.estimate) {
            best = Some(c);
        }
    }
    Ok(best)
}

impl Candidate {
    fn name(&self) -> String {
        format!(
            "record size {}, {} hidden states",
            self.record_size,
            self.circuit.hidden()
        )
    }
}

/// Trains one candidate on a seeded sample of the records of `body` cut at width `d`.
fn train_candidate(body: &[u8], d: usize, m: usize, plan: &Plan) -> Result<Option<Candidate>> {
    let n = body.len() / d;
    if n < MIN_RECORDS {
        return Ok(None);
    }
    let records = &body[..n * d];
    // Alphabets over every record (largest value + 1), so the model accepts every chunk
    // of the file, not only the sampled records.
    let all = Dataset::new(d, records.to_vec())?;
    let wanted = (plan.sample_bytes / d).max(MIN_RECORDS);
    let picked = Rng::new(d as u64).sample_indices(n, wanted + wanted / (HOLD_OUT_EVERY - 1));
    let last = HOLD_OUT_EVERY - 1;
    let held: Vec<usize> = picked
        .iter()
        .skip(last)
        .step_by(HOLD_OUT_EVERY)
        .copied()
        .collect();
    let trained: Vec<usize> = (picked.iter().enumerate())
        .filter(|(i, _)| i % HOLD_OUT_EVERY != last)
        .map(|(_, &r)| r)
        .collect();
    let train = all.select(&trained);
    let held = all.select(&held);
    let circuit = fit(&train, m, plan)?;
    let best = quantize(&circuit, &held, records.len())?;
    Ok(Some(Candidate {
        record_size: d,
        circuit,
        quantization: best.quantization,
        model_bytes: best.model_bytes,
        bits_per_byte: best.bits_per_byte,
        estimate: best.estimate,
    }))
}

/// The quantization that makes the smallest file from `circuit` (embedded in compact form)
/// and `records`, chosen on a seeded sample of at most [`MI_SAMPLES`] of them: for a model
/// trained elsewhere (`pcz compress --model M --embed-model=compact`).
pub fn choose_quantization(circuit: &Circuit, records: &Dataset) -> Result<Quantization> {
    let n = records.len();
    let sample = records.select(&Rng::new(n as u64).sample_indices(n, MI_SAMPLES.min(n)));
    let body_len = n * records.dims();
    Ok(quantize(circuit, &sample, body_len)?.quantization)
}

/// One quantization of a circuit, scored like a candidate.
struct Scored {
    quantization: Quantization,
    model_bytes: usize,
    bits_per_byte: f64,
    estimate: f64,
}

/// The quantization that minimises compact model bytes plus the held-out code length
/// scaled to `body_len` bytes. The model's size depends only on the row total; the floor
/// trades rare values' cost against common ones', so the row total is chosen first (with a
/// middling floor), then the floor.
fn quantize(circuit: &Circuit, held: &Dataset, body_len: usize) -> Result<Scored> {
    let subset: Vec<usize> = (0..held.len()).step_by(CHOOSE_ON_EVERY).collect();
    let some = held.select(&subset);
    // `quantized` is `circuit` quantized as `quantization` says (compact::encode makes it).
    let score = |quantized: &Circuit, quantization, model_bytes: usize, on: &Dataset| {
        let bits_per_byte = quantized.params().bits_per_dim(on);
        let estimate =
            bits_per_byte * body_len as f64 / 8.0 + (model_bytes + MODEL_SECTION_OVERHEAD) as f64;
        Scored {
            quantization,
            model_bytes,
            bits_per_byte,
            estimate,
        }
    };
    let with_floor = |bits: u8, floor: u8| Quantization {
        bits,
        shift: floor.saturating_sub(bits),
    };
    // Each phase scores its quantizations side by side, then takes the first smallest.
    let by_bits: Vec<Scored> = ROW_BITS
        .par_iter()
        .map(|&bits| {
            let quantization = with_floor(bits, FIRST_FLOOR);
            let (quantized, bytes) = compact::encode(circuit, quantization)?;
            Ok(score(&quantized, quantization, bytes.len(), &some))
        })
        .collect::<Result<_>>()?;
    let mut best = first_smallest(by_bits).expect("ROW_BITS is not empty");
    let (bits, model_bytes) = (best.quantization.bits, best.model_bytes);
    let floors: Vec<u8> = (FLOORS.into_iter())
        .filter(|&f| f > bits && f <= MAX_SCALE_BITS)
        .collect();
    // The compact model's size does not depend on the floor.
    let by_floor: Vec<Scored> = floors
        .par_iter()
        .map(|&floor| {
            let q = with_floor(bits, floor);
            score(&circuit.quantized(q), q, model_bytes, &some)
        })
        .collect();
    if let Some(s) = first_smallest(by_floor).filter(|s| s.estimate < best.estimate) {
        best = s;
    }
    let q = best.quantization;
    Ok(score(&circuit.quantized(q), q, model_bytes, held))
}

/// The first of `scored` with the smallest estimate.
fn first_smallest(scored: Vec<Scored>) -> Option<Scored> {
    scored
        .into_iter()
        .reduce(|best, s| if s.estimate < best.estimate { s } else { best })
}

/// Structure (Chow-Liu tree on a subsample) and a few EM epochs.
fn fit(train: &Dataset, m: usize, plan: &Plan) -> Result<Circuit> {
    let structure = StructureOptions {
        hidden: m,
        mi_samples: MI_SAMPLES,
        ..Default::default()
    };
    let tree = learn::learn_tree(train, &structure)?;
    let initial = learn::initial_circuit(tree, train, m, 0)?;
    let options = EmOptions {
        epochs: plan.epochs,
        full_epochs: plan.full_epochs,
        batch_size: 1024,
        ..Default::default()
    };
    let (circuit, _) = learn::train(&initial, train, None, &options, &mut |_| {})?;
    Ok(circuit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of 4 bytes whose bytes follow one another (a circuit learns them well).
    fn body() -> Vec<u8> {
        let mut rng = Rng::new(9);
        (0..600)
            .flat_map(|_| {
                let x = rng.below(200) as u8;
                [x, x + 1, x / 2, x + 3]
            })
            .collect()
    }

    /// The notes of one `best_candidate` run that say a candidate was scored.
    fn scored(body: &[u8], give_up: f64) -> (Candidate, usize) {
        let plan = Plan::for_level(3).unwrap();
        let mut notes = Vec::new();
        let best = best_candidate(body, &[4, 8], &plan, give_up, &mut |m| notes.push(m));
        let count = notes.iter().filter(|m| m.ends_with("estimated")).count();
        (best.unwrap().unwrap(), count)
    }

    #[test]
    fn training_gives_up_after_the_first_candidate_far_behind() {
        let body = body();
        let (first, count) = scored(&body, 0.0);
        assert_eq!((first.record_size, first.circuit.hidden()), (4, 2));
        assert_eq!(count, 1);
        let (best, count) = scored(&body, f64::INFINITY);
        assert_eq!(count, 4, "2 widths x 2 hidden sizes at level 3");
        assert!(best.estimate <= first.estimate);
    }
}
