//! Small dense `f32` kernels of the E-step: a packed, register-blocked matrix product and
//! row helpers, written over fixed-size lane arrays so that LLVM vectorises them on any
//! target without `unsafe` or intrinsics.
//!
//! Every output entry is a sum over the shared dimension in index order, one accumulator per
//! entry, so results do not depend on the vector width (training only needs thread-count
//! determinism, but this costs nothing).

/// Width of a column tile; padded hidden sizes are multiples of it.
pub(super) const LANES: usize = 8;

/// Rows of the left operand per register tile.
const ROWS: usize = 4;

/// Rounds a hidden size up to a whole number of lanes.
pub(super) fn padded(m: usize) -> usize {
    m.div_ceil(LANES) * LANES
}

/// Scratch panel for the products, reused across calls.
#[derive(Debug, Default)]
pub(super) struct Panel(Vec<[f32; ROWS]>);

/// How the left operand of [`product`] is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Left {
    /// Row-major rows x depth: `c = a x`.
    AsIs,
    /// Row-major depth x rows: `c = a^T x`, a sum of outer products of the rows of `a` and
    /// `x`, in row order.
    Transposed,
}

/// `c = a x` (or `a^T x`) for `x` row-major depth x width and `c` row-major rows x width;
/// `width` must be a multiple of [`LANES`].
pub(super) fn product(
    a: &[f32],
    left: Left,
    depth: usize,
    x: &[f32],
    width: usize,
    c: &mut [f32],
    panel: &mut Panel,
) {
    debug_assert_eq!(width % LANES, 0);
    let rows = a.len() / depth;
    for i0 in (0..rows).step_by(ROWS) {
        let r = (rows - i0).min(ROWS);
        pack(a, left, rows, depth, i0..i0 + r, &mut panel.0);
        tile(&panel.0, x, width, &mut c[i0 * width..(i0 + r) * width]);
    }
}

/// Interleaves the left-operand rows `range` so that one step of the shared dimension reads
/// one entry; rows past the range are zero.
fn pack(
    a: &[f32],
    left: Left,
    rows: usize,
    depth: usize,
    range: std::ops::Range<usize>,
    panel: &mut Vec<[f32; ROWS]>,
) {
    panel.clear();
    panel.resize(depth, [0.0; ROWS]);
    match left {
        Left::AsIs => {
            for (i, row) in a[range.start * depth..range.end * depth]
                .chunks_exact(depth)
                .enumerate()
            {
                panel.iter_mut().zip(row).for_each(|(p, &v)| p[i] = v);
            }
        }
        Left::Transposed => {
            for (p, row) in panel.iter_mut().zip(a.chunks_exact(rows)) {
                let src = &row[range.clone()];
                match <[f32; ROWS]>::try_from(src) {
                    Ok(full) => *p = full,
                    Err(_) => p[..src.len()].copy_from_slice(src),
                }
            }
        }
    }
}

/// One row tile of the product, `LANES` columns at a time; stores the rows `c` holds.
fn tile(panel: &[[f32; ROWS]], x: &[f32], width: usize, c: &mut [f32]) {
    for col in (0..width).step_by(LANES) {
        let mut acc = [[0.0f32; LANES]; ROWS];
        for (a, row) in panel.iter().zip(x.chunks_exact(width)) {
            let xv: &[f32; LANES] = row[col..col + LANES].try_into().expect("lane tile");
            for i in 0..ROWS {
                for l in 0..LANES {
                    acc[i][l] += a[i] * xv[l];
                }
            }
        }
        for (out, lanes) in c.chunks_exact_mut(width).zip(&acc) {
            out[col..col + LANES].copy_from_slice(lanes);
        }
    }
}

/// Sum of a row whose length is a multiple of [`LANES`], with one partial sum per lane.
pub(super) fn sum(row: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for chunk in row.chunks_exact(LANES) {
        for l in 0..LANES {
            acc[l] += chunk[l];
        }
    }
    acc.iter().sum()
}

/// `row *= by` entrywise, then divides `row` by its sum, which it returns (0 leaves `row` as
/// is). Lengths are multiples of [`LANES`].
pub(super) fn multiply_normalise(row: &mut [f32], by: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (chunk, b) in row.chunks_exact_mut(LANES).zip(by.chunks_exact(LANES)) {
        for l in 0..LANES {
            chunk[l] *= b[l];
            acc[l] += chunk[l];
        }
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

    fn naive(a: &[f32], depth: usize, x: &[f32], width: usize) -> Vec<f32> {
        let rows = a.len() / depth;
        let mut c = vec![0.0; rows * width];
        for r in 0..rows {
            for k in 0..width {
                c[r * width + k] = (0..depth)
                    .map(|t| a[r * depth + t] * x[t * width + k])
                    .sum();
            }
        }
        c
    }

    fn close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{g} vs {w}");
        }
    }

    #[test]
    fn product_matches_the_definition() {
        let mut rng = crate::rng::Rng::new(5);
        let mut panel = Panel::default();
        for (rows, depth, width) in [(1, 1, 8), (3, 5, 8), (4, 8, 16), (9, 32, 32), (13, 7, 24)] {
            let a: Vec<f32> = (0..rows * depth).map(|_| rng.next_f64() as f32).collect();
            let x: Vec<f32> = (0..depth * width).map(|_| rng.next_f64() as f32).collect();
            let mut c = vec![f32::NAN; rows * width];
            product(&a, Left::AsIs, depth, &x, width, &mut c, &mut panel);
            close(&c, &naive(&a, depth, &x, width));
            let at: Vec<f32> = (0..depth * rows)
                .map(|i| a[(i % rows) * depth + i / rows])
                .collect();
            c.fill(f32::NAN);
            product(&at, Left::Transposed, depth, &x, width, &mut c, &mut panel);
            close(&c, &naive(&a, depth, &x, width));
        }
    }

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
}
