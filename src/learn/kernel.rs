//! Small dense `f32` kernels of the E-step: the matrix product (in [`crate::simd`], compiled
//! for the CPU's vector unit) and row helpers written over fixed-size lane arrays, which
//! LLVM vectorises on any target without `unsafe` or intrinsics.
//!
//! Every output entry is a sum in a fixed order (the product's over the shared dimension in
//! index order, a row sum over [`LANES`] partial sums), so results do not depend on the
//! instruction set (training only needs thread-count determinism, but this costs nothing).

use crate::simd::{self, Operands};

pub(super) use crate::simd::Left;

/// Granularity of padded hidden sizes, and the number of partial sums of [`sum`].
pub(super) const LANES: usize = 8;

/// Rounds a hidden size of at least [`LANES`] up to a whole number of lanes. A smaller one
/// (the M = 2 or 4 of self-training) is kept as it is: padding it to 8 made every product
/// 4 to 16 times the work. Either way the real states get the same bits: padded states are
/// zeros at the end of every row, which add exact zeros to every sum.
pub(super) fn padded(m: usize) -> usize {
    if m < LANES {
        return m;
    }
    m.div_ceil(LANES) * LANES
}

/// `c = a x` (or `a^T x`) for `x` row-major depth x width and `c` row-major rows x width.
/// See [`simd::product`].
pub(super) fn product(a: &[f32], left: Left, depth: usize, x: &[f32], width: usize, c: &mut [f32]) {
    let ops = Operands {
        a,
        left,
        depth,
        x,
        width,
    };
    simd::product(ops, c);
}

/// Sum of a row, with one partial sum per lane (entry i goes to partial sum i mod
/// [`LANES`]), the partial sums then added in order.
pub(super) fn sum(row: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for l in 0..LANES {
            acc[l] += chunk[l];
        }
    }
    acc.iter_mut().zip(rest).for_each(|(a, &v)| *a += v);
    acc.iter().sum()
}

/// `row *= by` entrywise, then divides `row` by its sum (taken as [`sum`] does), which it
/// returns (0 leaves `row` as is).
pub(super) fn multiply_normalise(row: &mut [f32], by: &[f32]) -> f32 {
    // The lengths of small models' rows, made known to the compiler so that it unrolls.
    match row.len() {
        2 => multiply_normalise_body(&mut row[..2], &by[..2]),
        4 => multiply_normalise_body(&mut row[..4], &by[..4]),
        _ => multiply_normalise_body(row, by),
    }
}

#[inline(always)]
fn multiply_normalise_body(row: &mut [f32], by: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    let mut by_chunks = by.chunks_exact(LANES);
    for (chunk, b) in (&mut chunks).zip(&mut by_chunks) {
        for l in 0..LANES {
            chunk[l] *= b[l];
            acc[l] += chunk[l];
        }
    }
    let rest = chunks
        .into_remainder()
        .iter_mut()
        .zip(by_chunks.remainder());
    for (a, (v, &b)) in acc.iter_mut().zip(rest) {
        *v *= b;
        *a += *v;
    }
    let s: f32 = acc.iter().sum();
    if s > 0.0 {
        let inv = 1.0 / s;
        row.iter_mut().for_each(|v| *v *= inv);
    }
    s
}

/// Writes `from` divided by its sum into `row` and returns the sum (0 writes zeros). One
/// pass that scales, rather than a copy, so no call to `memcpy` for short rows.
pub(super) fn normalised_copy(row: &mut [f32], from: &[f32]) -> f32 {
    let s = sum(from);
    let inv = if s > 0.0 { 1.0 / s } else { 0.0 };
    row.iter_mut().zip(from).for_each(|(v, &f)| *v = f * inv);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiply_normalise_returns_the_sum_and_normalises() {
        let mut row = vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0];
        let by = vec![2.0, 1.0, 1.0, 0.5, 9.0, 9.0, 9.0, 9.0];
        assert_eq!(multiply_normalise(&mut row, &by), 9.0);
        assert!((sum(&row) - 1.0).abs() < 1e-6);
        assert!((row[0] - 2.0 / 9.0).abs() < 1e-7);
        assert_eq!(row[4..], [0.0; 4]);
        let mut copy = vec![f32::NAN; 8];
        assert_eq!(normalised_copy(&mut copy, &by), 40.5);
        assert!((sum(&copy) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn unpadded_rows_give_the_bits_of_padded_ones() {
        let mut rng = crate::rng::Rng::new(8);
        for m in 1..LANES {
            let row: Vec<f32> = (0..m).map(|_| rng.next_f64() as f32).collect();
            let by: Vec<f32> = (0..m).map(|_| rng.next_f64() as f32).collect();
            let pad = |v: &[f32]| [v, &vec![0.0; LANES - m][..]].concat();
            assert_eq!(sum(&row).to_bits(), sum(&pad(&row)).to_bits());
            let (mut short, mut long) = (row.clone(), pad(&row));
            let s = multiply_normalise(&mut short, &by);
            assert_eq!(
                s.to_bits(),
                multiply_normalise(&mut long, &pad(&by)).to_bits()
            );
            assert_eq!(short[..], long[..m]);
        }
    }
}
