//! Pairwise mutual information between variables, on values binned to a few levels.
//!
//! Raw 256-level pixel pairs are far too sparse for 5,000 samples, so values are binned
//! (`bin = x * bins / K`) first. Each pair's count table is filled from two contiguous
//! binned columns; pairs are independent, so the parallel result is exactly the serial one.

use crate::data::Dataset;
use rayon::prelude::*;

/// Binned columns of a dataset: `columns[v][n]` is the bin of variable v in record n.
#[derive(Debug, Clone)]
pub struct Binned {
    bins: Vec<usize>,
    columns: Vec<Vec<u8>>,
    records: usize,
}

impl Binned {
    /// Bins every variable of `data` to at most `bins` levels (`bins` in 2..=256).
    pub fn new(data: &Dataset, bins: usize) -> Self {
        let bins = bins.clamp(2, 256);
        let d = data.dims();
        let per_var: Vec<usize> = data
            .alphabet()
            .iter()
            .map(|&k| (k as usize).min(bins))
            .collect();
        let mut columns = vec![Vec::with_capacity(data.len()); d];
        for record in data.records() {
            for (v, &x) in record.iter().enumerate() {
                let k = data.alphabet()[v] as usize;
                columns[v].push((x as usize * per_var[v] / k) as u8);
            }
        }
        Binned {
            bins: per_var,
            columns,
            records: data.len(),
        }
    }

    /// Mutual information (nats) between variables `i` and `j`.
    pub fn mutual_information(&self, i: usize, j: usize, joint: &mut Vec<u32>) -> f64 {
        let (bi, bj) = (self.bins[i], self.bins[j]);
        joint.clear();
        joint.resize(bi * bj, 0);
        for (&a, &b) in self.columns[i].iter().zip(&self.columns[j]) {
            joint[a as usize * bj + b as usize] += 1;
        }
        let n = self.records as f64;
        let mut pi = vec![0.0; bi];
        let mut pj = vec![0.0; bj];
        for a in 0..bi {
            for b in 0..bj {
                let c = f64::from(joint[a * bj + b]);
                pi[a] += c;
                pj[b] += c;
            }
        }
        let mut mi = 0.0;
        for a in 0..bi {
            for b in 0..bj {
                let c = f64::from(joint[a * bj + b]);
                if c > 0.0 {
                    mi += c / n * (c * n / (pi[a] * pj[b])).ln();
                }
            }
        }
        mi.max(0.0)
    }
}

/// Symmetric D x D mutual-information matrix (row-major; zero diagonal), computed in
/// parallel over rows. Deterministic: every entry is computed by one thread alone.
pub fn mutual_information(data: &Dataset, bins: usize) -> Vec<f64> {
    let binned = Binned::new(data, bins);
    let d = data.dims();
    let rows: Vec<Vec<f64>> = (0..d)
        .into_par_iter()
        .map_init(Vec::new, |joint, i| {
            (0..d)
                .map(|j| {
                    if j > i {
                        binned.mutual_information(i, j, joint)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let mut mi = vec![0.0; d * d];
    for i in 0..d {
        for j in i + 1..d {
            mi[i * d + j] = rows[i][j];
            mi[j * d + i] = rows[i][j];
        }
    }
    mi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Textbook MI from explicit probability tables, two nested loops over records.
    fn naive(xs: &[u8], ys: &[u8], k: usize) -> f64 {
        let n = xs.len() as f64;
        let mut mi = 0.0;
        for a in 0..k {
            for b in 0..k {
                let pab = xs
                    .iter()
                    .zip(ys)
                    .filter(|&(&x, &y)| x as usize == a && y as usize == b)
                    .count() as f64
                    / n;
                let pa = xs.iter().filter(|&&x| x as usize == a).count() as f64 / n;
                let pb = ys.iter().filter(|&&y| y as usize == b).count() as f64 / n;
                if pab > 0.0 {
                    mi += pab * (pab / (pa * pb)).ln();
                }
            }
        }
        mi
    }

    #[test]
    fn matches_naive_reference() {
        let mut rng = Rng::new(3);
        let d = 4;
        let mut values = Vec::new();
        for _ in 0..300 {
            let a = rng.below(4) as u8;
            let b = if rng.below(3) == 0 {
                rng.below(4) as u8
            } else {
                a
            };
            values.extend_from_slice(&[a, b, rng.below(4) as u8, (a + 1) % 4]);
        }
        let data = Dataset::with_alphabet(d, values, vec![4; d]).unwrap();
        let mi = mutual_information(&data, 16);
        for i in 0..d {
            for j in 0..d {
                let xs: Vec<u8> = data.records().map(|r| r[i]).collect();
                let ys: Vec<u8> = data.records().map(|r| r[j]).collect();
                let want = if i == j { 0.0 } else { naive(&xs, &ys, 4) };
                assert!(
                    (mi[i * d + j] - want).abs() < 1e-12,
                    "{i},{j}: {} vs {want}",
                    mi[i * d + j]
                );
            }
        }
        assert!(
            mi[3] > 1.0,
            "a deterministic function of x0 shares its entropy"
        );
    }

    #[test]
    fn bins_wide_alphabets() {
        let data = Dataset::with_alphabet(1, vec![0, 15, 16, 255], vec![256]).unwrap();
        let b = Binned::new(&data, 16);
        assert_eq!(b.columns[0], vec![0, 0, 1, 15]);
    }
}
