//! Exact integer frequencies from a floating-point distribution (format-spec §Quantization).
//!
//! Given non-negative weights q[0..K] (2 <= K <= 256), the frequencies f[a] sum to exactly
//! 2^PRECISION and each is at least 1:
//! 1. s = q[0] + q[1] + ... + q[K-1], summed in index order in `f64`;
//! 2. scale = (2^P - K) / s; if a q[a] is negative or NaN, or scale is not a positive
//!    finite number, every q[a] is taken as 1 and scale = (2^P - K) / K;
//! 3. f[a] = 1 + min(floor(q[a] * scale), 2^P - K)  (one `f64` multiply, truncation);
//! 4. the difference 2^P - sum(f) (of either sign, at most K in size) is added to the
//!    largest f[a], the lowest index among equals.
//!
//! Only IEEE `+`, `*`, `/` and a truncating conversion are used, in a fixed order, so every
//! machine computes the same frequencies from the same weights.

use super::Classes;
use crate::simd::Tally;

/// Steps 2-3: `f[a] = 1 + min(floor(q[a] * scale), 2^P - K)` with `scale = (2^P - K) / s`,
/// and the sum and largest of the `f[a]`. Returns `None` (and leaves `f` unspecified) when
/// the weights are not valid: a negative or NaN weight, or a scale that is not finite.
fn scaled(q: &[f64], s: f64, f: &mut [u32]) -> Option<Tally> {
    let k = q.len();
    let scale = (TOTAL as usize - k) as f64 / s;
    crate::simd::frequencies(q, scale, TOTAL - k as u32, f).filter(|_| scale.is_finite())
}

/// Bits of probability precision: frequencies sum to 2^PRECISION.
pub const PRECISION: usize = 24;

/// Sum of all frequencies of a [`Cdf`].
pub const TOTAL: u32 = 1 << PRECISION;

/// An integer distribution: frequencies that sum to 2^PRECISION, each at least 1.
///
/// Only the frequencies are stored. A coder needs one cumulative value per symbol (the
/// encoder's symbol, the decoder's located symbol), and summing up to 256 entries on demand
/// is cheaper than writing a whole cumulative table for every symbol coded.
#[derive(Debug, Clone, Default)]
pub struct Cdf {
    freq: Vec<u32>,
    /// The most probable symbol (the lowest among equals), found while quantizing: the
    /// `pcmix` codec asks for it for every value, and a scan of 256 entries showed.
    mode: usize,
    /// For a table quantized by class with few values outside the common class, the
    /// frequency every common value has (0 otherwise) and `(value, frequency)` of the
    /// others, ascending: [`Cdf::locate`] then walks those few entries and steps over the
    /// runs of common values between them by one multiply each, where the blocks summed
    /// up to 16 entries at a time (a DNA model codes A, C, G and T among some 85 values).
    common: u32,
    others: Vec<(u16, u32)>,
}

/// Tables are equal when their frequencies are: the kept others only speed up
/// [`Cdf::locate`], which gives the same answer with or without them.
impl PartialEq for Cdf {
    fn eq(&self, other: &Self) -> bool {
        (&self.freq, self.mode) == (&other.freq, other.mode)
    }
}

impl Eq for Cdf {}

/// Entries summed at once while locating a point.
const BLOCK: usize = 16;

/// Values outside the common class up to which [`Cdf::locate`] walks them one by one
/// instead of summing blocks.
const FEW_OTHERS: usize = 16;

impl Cdf {
    /// Quantizes `q` (K = q.len(), 2..=256 entries) into this table, reusing its memory.
    pub fn quantize(&mut self, q: &[f64]) {
        let mut s = 0.0f64;
        for &x in q {
            s += x;
        }
        self.quantize_summed(q, s);
    }

    /// [`Cdf::quantize`] for a caller that already has `s`, the sum of `q` taken in index
    /// order (step 1); any other value gives frequencies other than the format's.
    pub fn quantize_summed(&mut self, q: &[f64], s: f64) {
        let k = q.len();
        debug_assert!((2..=256).contains(&k), "alphabet of {k}");
        // Every entry is written below (by the scaled weights, else the uniform ones), so
        // the table is only resized, not cleared: zeroing it per symbol showed in profiles.
        self.freq.resize(k, 0);
        self.common = 0;
        let tally = (s > 0.0)
            .then(|| scaled(q, s, &mut self.freq))
            .flatten()
            .or_else(|| scaled(&[1.0; 256][..k], k as f64, &mut self.freq))
            .expect("uniform weights are valid");
        let best = crate::simd::first_index_of(&self.freq, tally.max);
        self.fix_total(tally, best);
    }

    /// [`Cdf::quantize_summed`] for weights given by class: `q[a] = w[class of a]` for the
    /// K values of `classes`, `s` their sum in index order (`w` has one entry per class).
    /// Values of one class get one frequency (step 3 maps equal weights to equal
    /// frequencies), so step 3 runs once per class: the same table as quantizing `q`, for
    /// less work when classes are few.
    pub fn quantize_classes(&mut self, w: &[f64], classes: &Classes, s: f64) {
        let k = classes.of_values().len();
        debug_assert!((2..=256).contains(&k), "alphabet of {k}");
        debug_assert_eq!(w.len(), classes.len());
        let scale = (TOTAL as usize - k) as f64 / s;
        // The class frequencies go past the K values' (no buffer to clear per symbol).
        self.freq.resize(k + w.len(), 0);
        let (freq, per_class) = self.freq.split_at_mut(k);
        let valid = s > 0.0 && scale.is_finite();
        match valid
            .then(|| crate::simd::frequencies(w, scale, TOTAL - k as u32, per_class))
            .flatten()
        {
            Some(tally) => {
                let sum = classes.spread(per_class, freq);
                // The first value of the first class with the largest frequency: classes
                // are numbered by first appearance, so no value before it has that
                // frequency (searching the few classes, not the K values).
                let best = classes.first_value(crate::simd::first_index_of(per_class, tally.max));
                self.freq.truncate(k);
                self.fix_total(Tally { sum, ..tally }, best);
                self.keep_others(classes, best);
            }
            None => self.quantize_summed(&[1.0; 256][..k], k as f64),
        }
    }

    /// Records the common class's frequency and the others' for [`Cdf::locate`], unless
    /// the others are many or step 4 changed a common value (`best`), which then no longer
    /// shares the common frequency.
    fn keep_others(&mut self, classes: &Classes, best: usize) {
        let common = classes.common();
        let others = classes.others();
        self.common = 0;
        if others.len() > FEW_OTHERS || usize::from(classes.of_values()[best]) == common {
            return;
        }
        self.common = self.freq[classes.first_value(common)];
        self.others.clear();
        let freq = &self.freq;
        self.others
            .extend(others.iter().map(|&(a, _)| (a, freq[usize::from(a)])));
    }

    /// Step 4: gives the difference between 2^PRECISION and the sum to the largest
    /// frequency (lowest index among equals). Each f <= 2^P and K <= 256, so the sum can
    /// reach 2^32 only in theory; wrapping arithmetic keeps the result exact anyway, since
    /// the corrected frequency lies in 1..=2^P.
    /// `best` is the first index of the largest frequency, `tally.max`.
    fn fix_total(&mut self, tally: Tally, best: usize) {
        let found = self.freq[best] == tally.max;
        let corrected = tally.max.wrapping_add(TOTAL.wrapping_sub(tally.sum));
        self.freq[best] = corrected;
        // `best` stays the mode unless the correction lowered it (rare: only when rounding
        // made the scaled frequencies sum past 2^P).
        self.mode = match found && corrected >= tally.max {
            true => best,
            false => {
                let top = self.freq.iter().copied().max().unwrap_or(0);
                crate::simd::first_index_of(&self.freq, top)
            }
        };
    }

    /// Alphabet size K.
    pub fn len(&self) -> usize {
        self.freq.len()
    }

    /// True before the first quantization.
    pub fn is_empty(&self) -> bool {
        self.freq.is_empty()
    }

    /// Frequency of symbol `a`.
    pub fn frequency(&self, a: usize) -> u32 {
        self.freq[a]
    }

    /// The frequency of every symbol (they sum to [`TOTAL`]).
    pub fn frequencies(&self) -> &[u32] {
        &self.freq
    }

    /// The most probable symbol (the lowest among equals) and its frequency; (0, 0) before
    /// the first quantization.
    pub fn mode(&self) -> (usize, u32) {
        (self.mode, self.freq.get(self.mode).copied().unwrap_or(0))
    }

    /// Cumulative frequency below symbol `a` (a <= K; 2^PRECISION for a = K): summed from
    /// whichever end of the table is nearer, since the frequencies sum to 2^PRECISION.
    pub fn cumulative(&self, a: usize) -> u32 {
        if 2 * a <= self.len() {
            self.freq[..a].iter().sum()
        } else {
            TOTAL - self.freq[a..].iter().sum::<u32>()
        }
    }

    /// The symbol whose interval holds `point` (< 2^PRECISION) and the cumulative frequency
    /// below it: the largest a with cumulative(a) <= point. Whole blocks are skipped by
    /// their sums, then the block that holds the point is walked; from the top of the table
    /// for points in its upper half (a photograph's residuals crowd both ends of the
    /// alphabet, so either walk is short).
    pub fn locate(&self, point: u32) -> (usize, u32) {
        if self.common != 0 && point < TOTAL {
            self.locate_by_class(point)
        } else if point < TOTAL / 2 {
            self.locate_up(point)
        } else {
            self.locate_down(point)
        }
    }

    /// [`Cdf::locate`] of a point below 2^PRECISION in a table kept by class: each other
    /// value's interval is compared, and the run of common values before it as a whole;
    /// the point's common value within a run is found by one division.
    fn locate_by_class(&self, point: u32) -> (usize, u32) {
        let f = self.common;
        let mut below = 0u32;
        let mut next = 0usize;
        for &(a, fa) in &self.others {
            let a = usize::from(a);
            let run = (a - next) as u32 * f;
            if point - below < run {
                break;
            }
            below += run;
            if point - below < fa {
                return (a, below);
            }
            below += fa;
            next = a + 1;
        }
        let steps = (point - below) / f;
        (next + steps as usize, below + steps * f)
    }

    /// [`Cdf::locate`] from symbol 0 upwards.
    fn locate_up(&self, point: u32) -> (usize, u32) {
        let mut below = 0u32;
        for (b, block) in self.freq.chunks(BLOCK).enumerate() {
            let sum: u32 = block.iter().sum();
            if point - below >= sum {
                below += sum;
                continue;
            }
            for (i, &f) in block.iter().enumerate() {
                if point - below < f {
                    return (b * BLOCK + i, below);
                }
                below += f;
            }
        }
        // Unreachable: the frequencies sum to 2^PRECISION > point.
        (0, 0)
    }

    /// [`Cdf::locate`] from symbol K - 1 downwards: `top` is the cumulative frequency
    /// below the blocks already passed (2^PRECISION minus their sum). A point at or past
    /// 2^PRECISION, which a decoder never asks for, gives symbol K - 1.
    fn locate_down(&self, point: u32) -> (usize, u32) {
        let mut top = TOTAL;
        let mut end = self.len();
        for block in self.freq.rchunks(BLOCK) {
            let start = end - block.len();
            let sum: u32 = block.iter().sum();
            if top - sum > point {
                top -= sum;
                end = start;
                continue;
            }
            for (i, &f) in block.iter().enumerate().rev() {
                top -= f;
                if top <= point {
                    return (start + i, top);
                }
            }
        }
        // Unreachable: cumulative(0) = 0 <= point.
        (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(q: &[f64]) -> Cdf {
        let mut c = Cdf::default();
        c.quantize(q);
        assert_eq!(c.len(), q.len());
        assert_eq!(c.cumulative(q.len()), TOTAL, "sums to 2^P for {q:?}");
        let top = c.frequencies().iter().copied().max().unwrap();
        let first = c.frequencies().iter().position(|&f| f == top).unwrap();
        assert_eq!(c.mode(), (first, top), "mode of {q:?}");
        for a in 0..q.len() {
            assert!(c.frequency(a) >= 1, "symbol {a} of {q:?}");
            assert_eq!(c.locate(c.cumulative(a)), (a, c.cumulative(a)));
            assert_eq!(c.locate(c.cumulative(a + 1) - 1), (a, c.cumulative(a)));
        }
        c
    }

    #[test]
    fn adversarial_distributions() {
        let mut one_hot = vec![0.0; 256];
        one_hot[255] = 1.0;
        check(&one_hot);
        one_hot[255] = 0.0;
        one_hot[0] = 1.0;
        check(&one_hot);
        check(&[1.0; 256]);
        check(&[1.0, 1.0]);
        let tails: Vec<f64> = (0..256)
            .map(|a| if a == 7 { 1.0 } else { 2f64.powi(-60) })
            .collect();
        check(&tails);
        let subnormal: Vec<f64> = (0..256).map(|a| f64::from_bits(1 + a as u64)).collect();
        check(&subnormal);
        check(&[0.0; 10]);
        check(&[f64::MAX, f64::MAX, 1.0]);
        check(&[f64::NAN, 1.0, 2.0]);
        check(&[-1.0, 1.0, 2.0]);
        let mut rng = crate::rng::Rng::new(9);
        for _ in 0..2000 {
            let k = 2 + rng.below(255) as usize;
            let q: Vec<f64> = (0..k)
                .map(|_| rng.next_f64().powi(rng.below(40) as i32))
                .collect();
            check(&q);
        }
    }

    /// The procedure of format-spec §5 written as plainly as possible, one symbol at a time.
    fn reference(q: &[f64]) -> Vec<u32> {
        let k = q.len();
        let s: f64 = q.iter().fold(0.0, |s, &x| s + x);
        let room = (TOTAL as usize - k) as f64;
        let valid = s > 0.0 && (room / s).is_finite() && q.iter().all(|&x| x >= 0.0);
        let (w, scale): (Vec<f64>, f64) = if valid {
            (q.to_vec(), room / s)
        } else {
            (vec![1.0; k], room / k as f64)
        };
        let mut f: Vec<u32> = w
            .iter()
            .map(|&x| 1 + ((x * scale) as u32).min(TOTAL - k as u32))
            .collect();
        let best = (0..k).fold(0, |b, a| if f[a] > f[b] { a } else { b });
        let sum: i64 = f.iter().map(|&x| i64::from(x)).sum();
        f[best] = (i64::from(f[best]) + i64::from(TOTAL) - sum) as u32;
        f
    }

    #[test]
    fn matches_the_plain_procedure() {
        let mut rng = crate::rng::Rng::new(5);
        let mut cases: Vec<Vec<f64>> = vec![
            vec![f64::INFINITY, 1.0],
            vec![f64::MAX, f64::MAX, 1.0],
            vec![0.0, -0.0, 3.0],
            vec![f64::NAN, 1.0],
            vec![1e-310, 1e-320, 0.0],
        ];
        for _ in 0..3000 {
            let k = 2 + rng.below(255) as usize;
            cases.push(
                (0..k)
                    .map(|_| rng.next_f64().powi(rng.below(60) as i32))
                    .collect(),
            );
        }
        let mut c = Cdf::default();
        for q in &cases {
            c.quantize(q);
            let f: Vec<u32> = (0..q.len()).map(|a| c.frequency(a)).collect();
            assert_eq!(f, reference(q), "{q:?}");
        }
    }

    /// Tables quantized by class locate every point where the blocks do, whether the
    /// others are kept (few of them, step 4 on one of them) or not.
    #[test]
    fn locating_by_class_agrees_with_the_blocks() {
        let mut rng = crate::rng::Rng::new(17);
        let (mut kept, mut c) = (0, Cdf::default());
        for _ in 0..3000 {
            let k = 2 + rng.below(255) as usize;
            let spread = 1 + rng.below(12);
            let mut next = 1u16;
            let class: Vec<u16> = (0..k)
                .map(|a| match a > 0 && rng.below(spread) == 0 {
                    true => {
                        let c = 1 + rng.below(u64::from(next)) as u16;
                        next += u16::from(c == next);
                        c
                    }
                    false => 0,
                })
                .collect();
            let classes = Classes::new(class.clone());
            let w: Vec<f64> = (0..classes.len())
                .map(|_| rng.next_f64().powi(rng.below(30) as i32))
                .collect();
            let s = class.iter().fold(0.0, |s, &j| s + w[usize::from(j)]);
            c.quantize_classes(&w, &classes, s);
            kept += usize::from(c.common != 0);
            let blocks = |p: u32| match p < TOTAL / 2 {
                true => c.locate_up(p),
                false => c.locate_down(p),
            };
            for a in 0..k {
                for p in [c.cumulative(a), c.cumulative(a + 1) - 1] {
                    assert_eq!(c.locate(p), (a, c.cumulative(a)), "{class:?} {w:?}");
                }
            }
            for _ in 0..64 {
                let p = rng.below(u64::from(TOTAL)) as u32;
                assert_eq!(c.locate(p), blocks(p));
            }
        }
        assert!(kept > 500, "kept {kept}");
    }

    #[test]
    fn frequencies_follow_probabilities() {
        let c = check(&[3.0, 1.0]);
        let p0 = f64::from(c.frequency(0)) / f64::from(TOTAL);
        assert!((p0 - 0.75).abs() < 1e-6);
    }
}
