//! Quantized parameters: every row (prior, transition row, emission row) replaced by
//! counts n that sum to exactly 2^bits, each standing for the weight n x 2^shift + 1 (a
//! [`Quantization`]). The compact embedded model (format-spec/FORMAT.md section 2.2) stores
//! the counts; the weights are integers of at most 2^20 + 1, exact in `f32`, so every
//! machine normalises them to the same `f64` values.
//!
//! The `+ 1` is a floor of about 2^-(bits + shift) under every probability. Without it a
//! count of 0 (a value too rare for the precision) would be an impossible value: coding it
//! once wipes the evidence gathered about its hidden state (the coder's context falls back
//! to uniform), which on MNIST cost 18 % of the payload. The best floor depends on the data
//! (how often held-out records show values the sample never did), so it is chosen per file.

use super::Circuit;

/// Fewest and most bits per row total.
pub const MIN_ROW_BITS: u8 = 1;
/// See [`MIN_ROW_BITS`].
pub const MAX_ROW_BITS: u8 = 16;

/// Largest bits + shift: weights stay at most 2^20 + 1.
pub const MAX_SCALE_BITS: u8 = 20;

/// How rows are quantized: counts summing to 2^bits, a count n weighing n x 2^shift + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Quantization {
    /// Rows are counts summing to 2^bits (`MIN_ROW_BITS..=MAX_ROW_BITS`).
    pub bits: u8,
    /// A count n weighs n x 2^shift + 1 (bits + shift <= [`MAX_SCALE_BITS`]).
    pub shift: u8,
}

impl Quantization {
    /// True when the fields are in range.
    pub fn is_valid(self) -> bool {
        (MIN_ROW_BITS..=MAX_ROW_BITS).contains(&self.bits)
            && self.bits + self.shift.min(MAX_SCALE_BITS) <= MAX_SCALE_BITS
    }

    /// The weight a count `n` stands for.
    pub fn weight(self, n: u32) -> f32 {
        ((n << self.shift) + 1) as f32
    }

    /// The count a weight made by [`Quantization::weight`] stands for.
    pub fn count(self, weight: f32) -> u32 {
        (weight as u32).saturating_sub(1) >> self.shift
    }
}

/// `row` (non-negative, positive sum) as integers summing to 2^bits: each entry rounded
/// down from its share of 2^bits, then the units left go to the largest remainders (lowest
/// index among equals), one each, round after round while units are left.
///
/// Only the entries that get a unit are picked out (a partial selection under that total
/// order), not the whole row sorted: quantizing every row of every candidate was half of
/// the self-training time on small files.
pub fn quantize_row(row: &[f32], bits: u8) -> Vec<u32> {
    let total = 1u64 << bits;
    let sum: f64 = row.iter().map(|&x| f64::from(x)).sum();
    let mut n = Vec::with_capacity(row.len());
    let mut rest = Vec::with_capacity(row.len());
    for &x in row {
        let scaled = f64::from(x) / sum * total as f64;
        // Truncation is the floor: the share is non-negative and at most 2^bits.
        let whole = scaled as u32;
        n.push(whole);
        rest.push(scaled - f64::from(whole));
    }
    let used: u64 = n.iter().map(|&x| u64::from(x)).sum();
    let left = total.saturating_sub(used) as usize;
    if left == 0 || row.is_empty() {
        return n;
    }
    let (rounds, part) = (left / row.len(), left % row.len());
    if rounds > 0 {
        n.iter_mut().for_each(|x| *x += rounds as u32);
    }
    if part > 0 {
        let mut order: Vec<usize> = (0..row.len()).collect();
        let first = |a: &usize, b: &usize| rest[*b].total_cmp(&rest[*a]).then(a.cmp(b));
        if part < row.len() {
            order.select_nth_unstable_by(part - 1, first);
        }
        for &a in &order[..part] {
            n[a] += 1;
        }
    }
    n
}

impl Circuit {
    /// This circuit with every row quantized to counts as `q` says, as the weights they
    /// stand for. `q` must be valid ([`Quantization::is_valid`]).
    pub fn quantized(&self, q: Quantization) -> Circuit {
        assert!(q.is_valid(), "invalid quantization {q:?}");
        let rows = |w: &[f32], len: usize| -> Vec<f32> {
            w.chunks(len.max(1))
                .flat_map(|row| quantize_row(row, q.bits))
                .map(|n| q.weight(n))
                .collect()
        };
        let m = self.hidden;
        let emission = (0..self.dims())
            .flat_map(|pos| rows(self.emission_block(pos), self.node_alphabet(pos)))
            .collect();
        Circuit::new(
            m,
            self.alphabet.clone(),
            self.tree.clone(),
            rows(&self.prior, m),
            rows(&self.transition, m),
            emission,
        )
        .expect("quantized rows are positive integers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::tests::random_circuit;
    use crate::rng::Rng;

    #[test]
    fn rows_sum_to_a_power_of_two_and_keep_proportions() {
        assert_eq!(quantize_row(&[3.0, 1.0], 4), vec![12, 4]);
        assert_eq!(quantize_row(&[1.0, 1.0, 1.0], 2), vec![2, 1, 1]);
        assert_eq!(quantize_row(&[1e-9, 1.0], 8), vec![0, 256]);
        let mut rng = Rng::new(3);
        for bits in [1u8, 5, 16] {
            let row: Vec<f32> = (0..300).map(|_| rng.next_f64() as f32).collect();
            let n = quantize_row(&row, bits);
            assert_eq!(n.iter().map(|&x| u64::from(x)).sum::<u64>(), 1 << bits);
        }
    }

    /// The definition of [`quantize_row`]: the whole row sorted by remainder.
    fn quantize_row_sorted(row: &[f32], bits: u8) -> Vec<u32> {
        let total = 1u64 << bits;
        let sum: f64 = row.iter().map(|&x| f64::from(x)).sum();
        let scaled: Vec<f64> = row
            .iter()
            .map(|&x| f64::from(x) / sum * total as f64)
            .collect();
        let mut n: Vec<u32> = scaled.iter().map(|&s| s.floor() as u32).collect();
        let used: u64 = n.iter().map(|&x| u64::from(x)).sum();
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (scaled[a] - scaled[a].floor(), scaled[b] - scaled[b].floor());
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        let left = total.saturating_sub(used) as usize;
        for &a in order.iter().cycle().take(left) {
            n[a] += 1;
        }
        n
    }

    #[test]
    fn partial_selection_matches_the_sorted_definition() {
        let mut rng = Rng::new(5);
        for trial in 0..200 {
            let len = 1 + rng.below(300) as usize;
            // Few distinct values (many equal remainders) on odd trials.
            let levels = if trial % 2 == 1 { 3 } else { 1 << 20 };
            let row: Vec<f32> = (0..len)
                .map(|_| (1 + rng.below(levels)) as f32 * 0.37)
                .collect();
            for bits in [1u8, 4, 8, 10, 16] {
                assert_eq!(quantize_row(&row, bits), quantize_row_sorted(&row, bits));
            }
        }
    }

    #[test]
    fn weights_stand_for_counts_summing_to_a_power_of_two() {
        let mut rng = Rng::new(4);
        let c = random_circuit(&mut rng, 9, 3, 5);
        for (bits, shift) in [(MIN_ROW_BITS, 0), (7, 3), (MAX_ROW_BITS, 4)] {
            let quant = Quantization { bits, shift };
            let q = c.quantized(quant);
            for row in q.transitions().chunks(5).chain([q.prior()]) {
                let n: u32 = row.iter().map(|&w| quant.count(w)).sum();
                assert_eq!(n, 1 << bits);
                assert!(row.iter().all(|&w| quant.weight(quant.count(w)) == w));
            }
        }
        assert!(!Quantization { bits: 16, shift: 5 }.is_valid());
        assert!(!Quantization { bits: 0, shift: 0 }.is_valid());
        assert!(!Quantization {
            bits: 8,
            shift: 255
        }
        .is_valid());
    }
}
