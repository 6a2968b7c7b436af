//! Datasets: N records of D discrete variables, each value a `u8` below its alphabet size.
//!
//! Loaders turn files (IDX, images, raw fixed-size records, CSV) into a [`Dataset`]; the
//! learner and the codec only ever see this type. [`load`] detects the format of a path;
//! each format also has its own loader:
//! - [`idx`]: IDX files of unsigned bytes (MNIST), plain or gzip;
//! - [`image`]: same-size 8-bit gray or RGB PNG/PNM images ([`pnm`] reads Netpbm);
//! - [`raw`]: fixed-size records;
//! - [`csv`]: CSV of integers 0..=255, plain or gzip.
//!
//! Every loader caps the bytes it reads (see [`DEFAULT_LIMIT`]) and checks sizes claimed by
//! a header before allocating for them.

pub mod csv;
pub mod idx;
pub mod image;
mod load;
pub mod png;
pub mod pnm;
pub mod raw;
pub mod source;

pub use self::csv::CsvOptions;
pub use self::idx::IdxHeader;
pub use self::image::ImageShape;
pub use self::load::{detect, load, load_detailed, Format, Layout, LoadOptions, Loaded};
pub use self::source::DEFAULT_LIMIT;

use crate::error::{Error, Result};

/// N records x D variables, row-major, with an alphabet size K_i in 1..=256 per variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    dims: usize,
    values: Vec<u8>,
    alphabet: Vec<u16>,
}

impl Dataset {
    /// Builds a dataset from row-major `values` with `dims` variables per record, inferring
    /// each variable's alphabet as (max value + 1).
    pub fn new(dims: usize, values: Vec<u8>) -> Result<Self> {
        let alphabet = infer_alphabet(dims, &values)?;
        Self::with_alphabet(dims, values, alphabet)
    }

    /// Builds a dataset with given alphabet sizes; every value must be below its alphabet.
    pub fn with_alphabet(dims: usize, values: Vec<u8>, alphabet: Vec<u16>) -> Result<Self> {
        if dims == 0 {
            return Err(Error::parameter("a dataset needs at least one variable"));
        }
        if !values.len().is_multiple_of(dims) {
            return Err(Error::parameter(format!(
                "{} values do not split into records of {dims}",
                values.len()
            )));
        }
        if alphabet.len() != dims || alphabet.iter().any(|&k| k == 0 || k > 256) {
            return Err(Error::parameter(
                "alphabet sizes must be 1..=256, one per variable",
            ));
        }
        for record in values.chunks_exact(dims) {
            for (i, (&x, &k)) in record.iter().zip(&alphabet).enumerate() {
                if u16::from(x) >= k {
                    return Err(Error::parameter(format!(
                        "value {x} of variable {i} is outside its alphabet of {k}"
                    )));
                }
            }
        }
        Ok(Dataset {
            dims,
            values,
            alphabet,
        })
    }

    /// Number of variables per record (D).
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of records (N).
    pub fn len(&self) -> usize {
        self.values.len() / self.dims
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Alphabet size of every variable.
    pub fn alphabet(&self) -> &[u16] {
        &self.alphabet
    }

    /// Record `n` as a slice of D values.
    pub fn record(&self, n: usize) -> &[u8] {
        &self.values[n * self.dims..(n + 1) * self.dims]
    }

    /// All records, row-major.
    pub fn values(&self) -> &[u8] {
        &self.values
    }

    /// Iterator over the records.
    pub fn records(&self) -> std::slice::ChunksExact<'_, u8> {
        self.values.chunks_exact(self.dims)
    }

    /// A new dataset holding the records with the given indices, in that order, with the same
    /// alphabet.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut values = Vec::with_capacity(indices.len() * self.dims);
        for &n in indices {
            values.extend_from_slice(self.record(n));
        }
        Dataset {
            dims: self.dims,
            values,
            alphabet: self.alphabet.clone(),
        }
    }

    /// Records `range` as a new dataset with the same alphabet.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Dataset {
        Dataset {
            dims: self.dims,
            values: self.values[range.start * self.dims..range.end * self.dims].to_vec(),
            alphabet: self.alphabet.clone(),
        }
    }

    /// Replaces the alphabet by a uniform one of size `k` (e.g. 256 for 8-bit pixels).
    pub fn set_uniform_alphabet(&mut self, k: u16) -> Result<()> {
        let alphabet = vec![k; self.dims];
        *self = Self::with_alphabet(self.dims, std::mem::take(&mut self.values), alphabet)?;
        Ok(())
    }
}

fn infer_alphabet(dims: usize, values: &[u8]) -> Result<Vec<u16>> {
    if dims == 0 {
        return Err(Error::parameter("a dataset needs at least one variable"));
    }
    let mut alphabet = vec![1u16; dims];
    for record in values.chunks_exact(dims) {
        for (k, &x) in alphabet.iter_mut().zip(record) {
            *k = (*k).max(u16::from(x) + 1);
        }
    }
    Ok(alphabet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_alphabet_per_variable() {
        let d = Dataset::new(2, vec![0, 3, 1, 0, 2, 1]).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.alphabet(), &[3, 4]);
        assert_eq!(d.record(1), &[1, 0]);
    }

    #[test]
    fn rejects_values_outside_alphabet() {
        assert!(Dataset::with_alphabet(1, vec![5], vec![4]).is_err());
        assert!(Dataset::new(3, vec![1, 2]).is_err());
    }
}
