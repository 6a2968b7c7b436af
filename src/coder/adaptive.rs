//! Adaptive coding of small non-negative integers (format-spec/FORMAT.md section 2.2), used
//! for the compact embedded model: most of its numbers are zeros and small counts, whose
//! statistics are learnt while coding instead of being stored.
//!
//! An integer x is coded as its **class** c (0 for x = 0, else the bit length of x, 1..=32)
//! under an adaptive frequency table chosen by the caller's context, followed by the c - 1
//! bits of x below its leading one, most significant first, in groups of at most 8 bits,
//! each group coded as a uniform symbol. A table starts with every count 1; after coding
//! class c its count grows by [`INCREMENT`], and when the counts sum to more than [`LIMIT`]
//! every count n becomes (n + 1) / 2 (integer division). The frequencies of a table are the
//! section 5 quantization of its counts, so encoder and decoder compute them identically.

use super::{Cdf, Decoder, Encoder};
use crate::error::{Error, Result};

/// Number of classes: 0 and the bit lengths 1..=32.
pub const CLASSES: usize = 33;

/// Added to a class's count after it is coded.
pub const INCREMENT: u32 = 24;

/// Counts are halved when their sum exceeds this.
pub const LIMIT: u32 = 1 << 16;

/// The class of `x`: 0 for 0, else its bit length.
pub fn class(x: u32) -> usize {
    (32 - x.leading_zeros()) as usize
}

/// Adaptive class tables, one per context.
#[derive(Debug, Clone)]
struct Tables {
    counts: Vec<[u32; CLASSES]>,
    sums: Vec<u32>,
    cdf: Cdf,
}

impl Tables {
    fn new(contexts: usize) -> Self {
        Tables {
            counts: vec![[1; CLASSES]; contexts],
            sums: vec![CLASSES as u32; contexts],
            cdf: Cdf::default(),
        }
    }

    /// The frequencies of context `ctx` in `self.cdf`.
    fn prepare(&mut self, ctx: usize) -> &Cdf {
        let mut q = [0.0f64; CLASSES];
        for (w, &n) in q.iter_mut().zip(&self.counts[ctx]) {
            *w = f64::from(n);
        }
        // The counts are integers summing to at most LIMIT + INCREMENT, so their `f64` sum
        // is exact in any order: the kept integer sum is the quantizer's step 1, without
        // its serial chain of additions (the compact model codes every weight this way).
        debug_assert_eq!(self.sums[ctx], self.counts[ctx].iter().sum::<u32>());
        self.cdf.quantize_summed(&q, f64::from(self.sums[ctx]));
        &self.cdf
    }

    fn update(&mut self, ctx: usize, c: usize) {
        let counts = &mut self.counts[ctx];
        counts[c] += INCREMENT;
        self.sums[ctx] += INCREMENT;
        if self.sums[ctx] > LIMIT {
            let mut sum = 0;
            for n in counts.iter_mut() {
                *n = n.div_ceil(2);
                sum += *n;
            }
            self.sums[ctx] = sum;
        }
    }
}

/// A uniform table over 2^bits symbols (1 <= bits <= 8).
fn uniform(bits: u32) -> Cdf {
    let mut cdf = Cdf::default();
    cdf.quantize(&vec![1.0; 1 << bits]);
    cdf
}

/// The uniform tables for 1..=8 bits (index 0 unused).
fn uniforms() -> Vec<Cdf> {
    (0..=8).map(|b| uniform(b.max(1))).collect()
}

/// Codes integers into one range-coder stream.
#[derive(Debug)]
pub struct IntEncoder {
    coder: Encoder,
    tables: Tables,
    uniform: Vec<Cdf>,
}

impl IntEncoder {
    /// An encoder with `contexts` adaptive tables.
    pub fn new(contexts: usize) -> Self {
        IntEncoder {
            coder: Encoder::new(),
            tables: Tables::new(contexts),
            uniform: uniforms(),
        }
    }

    /// Codes `x` with the table of context `ctx` (< contexts).
    pub fn encode(&mut self, x: u32, ctx: usize) -> Result<()> {
        let c = class(x);
        let cdf = self.tables.prepare(ctx);
        self.coder.encode(c, cdf)?;
        self.tables.update(ctx, c);
        let mut left = c.saturating_sub(1) as u32;
        while left > 0 {
            let g = left.min(8);
            left -= g;
            let group = (x >> left) & ((1 << g) - 1);
            self.coder
                .encode(group as usize, &self.uniform[g as usize])?;
        }
        Ok(())
    }

    /// The finished stream (whole little-endian 32-bit words).
    pub fn finish(self) -> Vec<u8> {
        self.coder.finish()
    }
}

/// Decodes integers written by [`IntEncoder`].
#[derive(Debug)]
pub struct IntDecoder {
    coder: Decoder,
    tables: Tables,
    uniform: Vec<Cdf>,
}

impl IntDecoder {
    /// A decoder of `stream` with `contexts` adaptive tables.
    pub fn new(stream: &[u8], contexts: usize) -> Result<Self> {
        Ok(IntDecoder {
            coder: Decoder::new(stream)?,
            tables: Tables::new(contexts),
            uniform: uniforms(),
        })
    }

    /// The next integer, coded with the table of context `ctx`; an error when it exceeds
    /// `max` (the caller's bound for that number).
    pub fn decode(&mut self, ctx: usize, max: u32) -> Result<u32> {
        let cdf = self.tables.prepare(ctx);
        let c = self.coder.decode(cdf)?;
        self.tables.update(ctx, c);
        if c > class(max) {
            return Err(too_large(max));
        }
        let mut x: u32 = u32::from(c > 0);
        let mut left = c.saturating_sub(1) as u32;
        while left > 0 {
            let g = left.min(8);
            left -= g;
            let group = self.coder.decode(&self.uniform[g as usize])? as u32;
            x = (x << g) | group;
        }
        if x > max {
            return Err(too_large(max));
        }
        Ok(x)
    }
}

fn too_large(max: u32) -> Error {
    Error::format("coded stream", format!("a number exceeds its bound {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn integers_round_trip_across_contexts_and_halvings() {
        let mut rng = Rng::new(5);
        let values: Vec<(u32, usize)> = (0..20_000)
            .map(|i| {
                let x = match i % 4 {
                    0 => 0,
                    1 => rng.below(3) as u32,
                    2 => rng.below(1 << 12) as u32,
                    _ => (rng.below(u64::from(u32::MAX)) as u32) | (i as u32 & 1) << 31,
                };
                (x, i % 3)
            })
            .collect();
        let mut enc = IntEncoder::new(3);
        for &(x, ctx) in &values {
            enc.encode(x, ctx).unwrap();
        }
        let stream = enc.finish();
        let mut dec = IntDecoder::new(&stream, 3).unwrap();
        for &(x, ctx) in &values {
            assert_eq!(dec.decode(ctx, u32::MAX).unwrap(), x);
        }
    }

    #[test]
    fn skewed_integers_cost_little() {
        let mut enc = IntEncoder::new(1);
        for i in 0..10_000u32 {
            enc.encode(u32::from(i % 100 == 0), 0).unwrap();
        }
        // About 0.08 bits each (entropy of 1 % ones) plus the adaptation.
        assert!(enc.finish().len() < 200);
    }

    #[test]
    fn bounds_are_enforced_and_garbage_never_panics() {
        let mut enc = IntEncoder::new(1);
        enc.encode(1000, 0).unwrap();
        let stream = enc.finish();
        assert!(IntDecoder::new(&stream, 1).unwrap().decode(0, 999).is_err());
        assert!(IntDecoder::new(&stream, 1).unwrap().decode(0, 511).is_err());
        let mut rng = Rng::new(6);
        let garbage: Vec<u8> = (0..64).map(|_| rng.below(256) as u8).collect();
        if let Ok(mut dec) = IntDecoder::new(&garbage, 2) {
            for i in 0..1000 {
                let _ = dec.decode(i % 2, 1 << 20);
            }
        }
    }
}
