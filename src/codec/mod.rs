//! The circuit codec: the circuit's conditionals, quantized to exact integer frequencies,
//! drive the range coder. This is the bridge between [`crate::circuit`] and
//! [`crate::coder`]; neither of those knows the other.
//!
//! Records are coded in chunks, one stream per chunk. Inside a chunk the symbols are ordered
//! **variable-major**: for each position of the coding order (the circuit's pre-order), the
//! value of that variable in every record of the chunk, records in order. Encoder and
//! decoder then sweep one variable at a time across the whole chunk, so each variable's
//! emission table is loaded from memory once per chunk instead of once per record.
//! Variables with a one-letter alphabet are not coded (their value is 0).

use crate::circuit::{Circuit, Conditionals, Context};
use crate::coder::{Cdf, Decoder, Encoder};
use crate::error::{Error, Result};
use crate::simd::prefetch;
use rayon::prelude::*;

/// Records whose distributions are computed together (they share the emission rows).
const GROUP: usize = 8;

/// How many records ahead [`PcCodec::sweep`] starts loading a record's context.
const PREFETCH: usize = 4;

/// Records coded side by side by one thread in [`PcCodec::encode_each`].
const EACH_BLOCK: usize = 64;

/// Bytes of records per chunk by default: the pcmix codec's context models learn within a
/// chunk, so larger chunks code smaller (MNIST test with the M = 64 model: 1.178 bits per
/// pixel in chunks of 256 records, 1.135 in chunks of 5,000), while two chunks or more
/// still keep both cores of a small machine busy on inputs of several MiB.
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// Default records per chunk for records of `d` bytes (about [`DEFAULT_CHUNK_BYTES`]).
pub fn default_chunk_records(d: usize) -> usize {
    (DEFAULT_CHUNK_BYTES / d.max(1)).max(1)
}

/// The distributions [`PcCodec::sweep`] mixes together: row j (`q[j * 256..]`, sum
/// `sums[j]`) is that of record `pick[j]`, for j < `rows`.
struct Batch {
    q: Vec<f64>,
    sums: [f64; GROUP],
    pick: [usize; GROUP],
    rows: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            q: vec![0.0; GROUP * 256],
            sums: [0.0; GROUP],
            pick: [0; GROUP],
            rows: 0,
        }
    }
}

/// A circuit prepared for coding.
#[derive(Debug, Clone)]
pub struct PcCodec {
    conditionals: Conditionals,
    pub(super) vars: Vec<u32>,
    alphabet: Vec<u16>,
}

impl PcCodec {
    /// Prepares `circuit` for coding.
    pub fn new(circuit: &Circuit) -> Self {
        PcCodec {
            conditionals: Conditionals::new(circuit),
            vars: circuit.tree().vars().to_vec(),
            alphabet: circuit.alphabet().to_vec(),
        }
    }

    /// Values per record (D).
    pub fn dims(&self) -> usize {
        self.vars.len()
    }

    /// True when every value of `records` (row-major, whole records) is inside the model's
    /// alphabet, i.e. the chunk can be coded with this model.
    pub fn accepts(&self, records: &[u8]) -> bool {
        let d = self.dims();
        records.len().is_multiple_of(d)
            && records
                .iter()
                .enumerate()
                .all(|(i, &x)| u16::from(x) < self.alphabet[i % d])
    }

    /// Encodes `n` records (`records.len() = n * D`, row-major) as one stream.
    pub fn encode_chunk(&self, records: &[u8]) -> Result<Vec<u8>> {
        let d = self.dims();
        let n = self.check(records)?;
        let mut encoder = Encoder::new();
        self.sweep(n, |pos, r, cdf| {
            let x = records[r * d + self.vars[pos] as usize];
            if let Some(cdf) = cdf {
                encoder.encode(usize::from(x), cdf)?;
            }
            Ok(x)
        })?;
        Ok(encoder.finish())
    }

    /// Encodes every record as a stream of its own: record r's stream is exactly what
    /// [`PcCodec::encode_chunk`] writes for record r alone. Coding records side by side
    /// shares each pass over the emission tables among them (random access per record, at
    /// the cost of one record per pass, is memory-bound on large models).
    pub fn encode_each(&self, records: &[u8]) -> Result<Vec<Vec<u8>>> {
        let d = self.dims();
        self.check(records)?;
        let blocks: Vec<Vec<Vec<u8>>> = records
            .par_chunks(EACH_BLOCK * d.max(1))
            .map(|block| {
                let mut encoders: Vec<Encoder> = block.chunks(d).map(|_| Encoder::new()).collect();
                self.sweep(encoders.len(), |pos, r, cdf| {
                    let x = block[r * d + self.vars[pos] as usize];
                    if let Some(cdf) = cdf {
                        encoders[r].encode(usize::from(x), cdf)?;
                    }
                    Ok(x)
                })?;
                Ok(encoders.into_iter().map(Encoder::finish).collect())
            })
            .collect::<Result<_>>()?;
        Ok(blocks.concat())
    }

    /// Decodes streams of one record each (from [`PcCodec::encode_each`]) into row-major
    /// records.
    pub fn decode_each(&self, streams: &[&[u8]]) -> Result<Vec<u8>> {
        let d = self.dims();
        let blocks: Vec<Vec<u8>> = streams
            .par_chunks(EACH_BLOCK)
            .map(|block| {
                let mut decoders: Vec<Decoder> = block
                    .iter()
                    .map(|s| Decoder::new(s))
                    .collect::<Result<_>>()?;
                let mut out = vec![0u8; block.len() * d];
                self.sweep(block.len(), |pos, r, cdf| {
                    let x = match cdf {
                        Some(cdf) => decoders[r].decode(cdf)? as u8,
                        None => 0,
                    };
                    out[r * d + self.vars[pos] as usize] = x;
                    Ok(x)
                })?;
                Ok(out)
            })
            .collect::<Result<_>>()?;
        Ok(blocks.concat())
    }

    /// The number of records in `records`, after checking that they are whole records of
    /// values inside the model's alphabet.
    fn check(&self, records: &[u8]) -> Result<usize> {
        let d = self.dims();
        if !records.len().is_multiple_of(d) {
            return Err(Error::parameter("chunk is not a whole number of records"));
        }
        for (i, &x) in records.iter().enumerate() {
            if u16::from(x) >= self.alphabet[i % d] {
                return Err(Error::parameter(format!(
                    "record {}: value {x} of variable {} is outside the model's alphabet of {}",
                    i / d,
                    i % d,
                    self.alphabet[i % d]
                )));
            }
        }
        Ok(records.len() / d)
    }

    /// Decodes a stream of `n` records written by [`PcCodec::encode_chunk`].
    pub fn decode_chunk(&self, stream: &[u8], n: usize) -> Result<Vec<u8>> {
        let d = self.dims();
        let total = n
            .checked_mul(d)
            .ok_or_else(|| Error::LimitExceeded("chunk size overflows".into()))?;
        let mut out = vec![0u8; total];
        let mut decoder = Decoder::new(stream)?;
        self.sweep(n, |pos, r, cdf| {
            let x = match cdf {
                Some(cdf) => decoder.decode(cdf)? as u8,
                None => 0,
            };
            out[r * d + self.vars[pos] as usize] = x;
            Ok(x)
        })?;
        Ok(out)
    }

    /// Visits every (variable, record) of a chunk in stream order, giving `visit` the
    /// variable's position in the coding order, the record and the quantized distribution
    /// (`None` for a one-letter alphabet); `visit` returns the value, which updates the
    /// record's context.
    ///
    /// A record whose mixing weights equal those of the record before it (see
    /// [`Conditionals::same_weights`]) has the same distribution, so it is coded with the
    /// table already quantized: on MNIST rows more than half the values are.
    pub(super) fn sweep(
        &self,
        n: usize,
        mut visit: impl FnMut(usize, usize, Option<&Cdf>) -> Result<u8>,
    ) -> Result<()> {
        let mut contexts = vec![Context::default(); n];
        for ctx in &mut contexts {
            self.conditionals.begin(ctx);
        }
        let mut batch = Batch::default();
        let mut cdf = Cdf::default();
        for pos in 0..self.dims() {
            let k = self.conditionals.alphabet(pos);
            let mut start = 0;
            while start < n {
                let end = self.gather(pos, &mut contexts, start, &mut batch);
                let mut row = 0;
                for (r, ctx) in contexts.iter_mut().enumerate().take(end).skip(start) {
                    let x = if k > 1 {
                        if batch.pick[..batch.rows].get(row) == Some(&r) {
                            self.quantize(pos, &batch, row, &mut cdf);
                            row += 1;
                        }
                        visit(pos, r, Some(&cdf))?
                    } else {
                        visit(pos, r, None)?
                    };
                    self.conditionals.observe(ctx, x);
                }
                start = end;
            }
        }
        Ok(())
    }

    /// Readies the records from `start` on at position `pos` until [`GROUP`] of them need
    /// a distribution of their own (none does for a one-letter alphabet), and mixes those
    /// into `batch`. Returns the end of the records readied.
    fn gather(
        &self,
        pos: usize,
        contexts: &mut [Context],
        start: usize,
        batch: &mut Batch,
    ) -> usize {
        let coded = self.conditionals.alphabet(pos) > 1;
        batch.rows = 0;
        let mut r = start;
        while r < contexts.len() && batch.rows < GROUP {
            // The contexts themselves are out of cache too: their fields twice as far ahead.
            if let Some(ahead) = contexts.get(r + 2 * PREFETCH) {
                prefetch(ahead);
            }
            if let Some(ahead) = contexts.get(r + PREFETCH) {
                ahead.prefetch();
            }
            self.conditionals.prepare_next(&mut contexts[r]);
            if coded && (r == 0 || !Conditionals::same_weights(&contexts[r - 1], &contexts[r])) {
                batch.pick[batch.rows] = r;
                batch.rows += 1;
            }
            r += 1;
        }
        let Batch {
            q,
            sums,
            pick,
            rows,
        } = batch;
        self.conditionals.prepared_class_distributions(
            pos,
            |j| &contexts[pick[j]],
            q,
            &mut sums[..*rows],
        );
        r
    }

    /// Quantizes row `row` of `batch` (position `pos`) into `cdf`.
    fn quantize(&self, pos: usize, batch: &Batch, row: usize, cdf: &mut Cdf) {
        let q = &batch.q[row * 256..];
        let s = batch.sums[row];
        match self.conditionals.classes(pos) {
            Some(classes) => cdf.quantize_classes(&q[..classes.len()], classes, s),
            None => cdf.quantize_summed(&q[..self.conditionals.alphabet(pos)], s),
        }
    }

    /// Encodes row-major records in chunks of `chunk_records`, chunks in parallel.
    pub fn encode(&self, records: &[u8], chunk_records: usize) -> Result<Vec<Vec<u8>>> {
        let step = chunk_records.max(1) * self.dims();
        records
            .par_chunks(step)
            .map(|chunk| self.encode_chunk(chunk))
            .collect()
    }

    /// Decodes chunks (with their record counts), in parallel, into row-major records.
    pub fn decode(&self, chunks: &[(&[u8], usize)]) -> Result<Vec<u8>> {
        let parts: Vec<Vec<u8>> = chunks
            .par_iter()
            .map(|&(s, n)| self.decode_chunk(s, n))
            .collect::<Result<_>>()?;
        Ok(parts.concat())
    }
}

#[cfg(test)]
mod tests;

pub mod cm;
mod mix;
pub use mix::{PcMixCodec, Scheme, Scratch, ScratchPool};
