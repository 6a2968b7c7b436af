//! Emission columns shared by several values of a variable.
//!
//! A self-trained circuit's alphabet runs up to the largest byte seen, so most values of a
//! DNA or text file never occur: their emission columns hold the same smoothed weight in
//! every row. Mixing the rows then computes the same products for each of them, in the same
//! order, with the same bits. Mixing only the distinct columns and copying the results gives
//! exactly those bits for a fraction of the work.

use crate::coder::Classes;
use std::collections::HashMap;

/// Records whose sums [`SharedColumns::sums`] takes at once.
const LANES: usize = 8;

/// Classes up to which [`SharedColumns::sums`] transposes the class weights first.
const TRANSPOSED: usize = 16;

/// Columns the mixed table is padded to a multiple of: the vector kernels then fill whole
/// blocks instead of finishing one output at a time (a tail of scalar products took a
/// quarter of the mixing time on a photograph's model). The padded outputs are never read.
const PAD: usize = 8;

/// The distinct columns of an M x K emission table and where each value's column is.
#[derive(Debug, Clone)]
pub(super) struct SharedColumns {
    /// The distinct columns, in order of first appearance, as an M x `width` table whose
    /// columns past the distinct ones are zero: `width` is a multiple of [`PAD`].
    pub rows: Vec<f64>,
    pub width: usize,
    /// Value a's column among the distinct ones (<= a).
    pub classes: Classes,
}

impl SharedColumns {
    /// The distinct columns of `emission` (M rows of `k`, state-major) when at most a
    /// quarter of the values lie outside the largest class of equal columns; `None`
    /// otherwise: the full table's vector kernels then beat copying values one by one
    /// (measured on a WAV file, whose high bytes share fewer columns).
    pub fn find(emission: &[f64], m: usize, k: usize) -> Option<Self> {
        let column =
            |a: usize| -> Vec<u64> { (0..m).map(|s| emission[s * k + a].to_bits()).collect() };
        let mut first: HashMap<Vec<u64>, u16> = HashMap::new();
        let mut index = Vec::with_capacity(k);
        let mut distinct = Vec::new();
        for a in 0..k {
            let next = first.len() as u16;
            let j = *first.entry(column(a)).or_insert(next);
            if j == next {
                distinct.push(a);
            }
            index.push(j);
        }
        let classes = Classes::new(index);
        if classes.outside_common() * 4 > k {
            return None;
        }
        let width = distinct.len().next_multiple_of(PAD);
        let rows = (0..m)
            .flat_map(|s| {
                let row = distinct.iter().map(move |&a| emission[s * k + a]);
                row.chain(std::iter::repeat_n(0.0, width - distinct.len()))
            })
            .collect();
        Some(SharedColumns {
            rows,
            width,
            classes,
        })
    }

    /// For i < `sums.len()`, `sums[i]` = the sum over every value a, ascending from 0.0, of
    /// `q[i * stride + class of a]`: the sum the expanded distribution would have. A full
    /// group of [`LANES`] records advances its chains side by side.
    pub fn sums(&self, q: &[f64], stride: usize, sums: &mut [f64]) {
        match <&mut [f64; LANES]>::try_from(&mut *sums) {
            Ok(lanes) => self.sums_of::<LANES>(q, stride, lanes),
            Err(_) => {
                for (i, s) in sums.iter_mut().enumerate() {
                    self.sums_of::<1>(&q[i * stride..], stride, std::array::from_mut(s));
                }
            }
        }
    }

    #[inline(always)]
    fn sums_of<const N: usize>(&self, q: &[f64], stride: usize, sums: &mut [f64; N]) {
        if N == LANES && self.classes.len() <= TRANSPOSED {
            return self.sums_transposed(q, stride, sums);
        }
        let rows: [&[f64]; N] = std::array::from_fn(|i| &q[i * stride..][..self.classes.len()]);
        let mut s = [0.0f64; N];
        for &c in self.classes.of_values() {
            for (si, row) in s.iter_mut().zip(&rows) {
                *si += row[usize::from(c)];
            }
        }
        *sums = s;
    }

    /// [`SharedColumns::sums_of`] from the class weights transposed, all `N` records'
    /// weight of a class side by side: each value then adds one contiguous row to the `N`
    /// sums, which compiles to vector loads and adds (each lane still its own record's
    /// chain, in ascending order), where gathering from `N` rows took a load per record.
    #[inline(always)]
    fn sums_transposed<const N: usize>(&self, q: &[f64], stride: usize, sums: &mut [f64; N]) {
        let mut t = [[0.0f64; N]; TRANSPOSED];
        for (c, tc) in t.iter_mut().enumerate().take(self.classes.len()) {
            for (i, x) in tc.iter_mut().enumerate() {
                *x = q[i * stride + c];
            }
        }
        // Value by value as above, but a run of the common class adds one row already
        // at hand, with no class to look up and no row to load per value.
        let add = |s: &mut [f64; N], row: &[f64; N]| {
            for (si, &x) in s.iter_mut().zip(row) {
                *si += x;
            }
        };
        let common = &t[self.classes.common()];
        let mut s = [0.0f64; N];
        let mut next = 0;
        for &(a, c) in self.classes.others() {
            for _ in next..a {
                add(&mut s, common);
            }
            add(&mut s, &t[usize::from(c)]);
            next = a + 1;
        }
        for _ in usize::from(next)..self.classes.of_values().len() {
            add(&mut s, common);
        }
        *sums = s;
    }

    /// Spreads the mixed distinct columns at `q[..width]` to every value, `q[..K]`, in
    /// place: descending, each value reads a slot at or below its own that is not yet
    /// overwritten.
    pub fn expand(&self, q: &mut [f64]) {
        let class = self.classes.of_values();
        for a in (0..class.len()).rev() {
            q[a] = q[usize::from(class[a])];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn only_repeated_columns_are_shared() {
        // Columns 1 and 3..8 equal: 2 of 8 values outside that class (at most a quarter).
        let m = 2;
        let mut e = vec![0.2; 8];
        e.extend([0.7; 8]);
        (e[0], e[2], e[8], e[10]) = (0.1, 0.3, 0.5, 0.6);
        let c = SharedColumns::find(&e, m, 8).expect("shared");
        assert_eq!(
            (c.width, c.classes.of_values()),
            (8, &[0u16, 1, 2, 1, 1, 1, 1, 1][..])
        );
        let pad = [0.0; 5];
        assert_eq!(
            c.rows,
            [&[0.1, 0.2, 0.3], &pad[..], &[0.5, 0.7, 0.6], &pad].concat()
        );
        let mut q = vec![1.0, 2.0, 3.0, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0];
        c.expand(&mut q);
        assert_eq!(q, vec![1.0, 2.0, 3.0, 2.0, 2.0, 2.0, 2.0, 2.0]);
        // The same over 5 values: 2 of 5 outside the class is too many to pay.
        let e5: Vec<f64> = e.chunks(8).flat_map(|r| r[..5].to_vec()).collect();
        assert!(SharedColumns::find(&e5, m, 5).is_none());
        // All distinct: nothing to share.
        let mut rng = Rng::new(3);
        let e: Vec<f64> = (0..m * 9).map(|_| rng.next_f64()).collect();
        assert!(SharedColumns::find(&e, m, 9).is_none());
    }
}
