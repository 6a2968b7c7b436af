//! The compact embedded model (format-spec/FORMAT.md section 2.2): the circuit with every
//! row quantized to integers summing to 2^bits, and everything (alphabets, tree, weights)
//! coded by the adaptive integer coder. A self-trained model is embedded this way, so its
//! bytes, which count in the file size, are a small fraction of the raw model file's.

use crate::bytes::Reader;
use crate::circuit::{Circuit, Quantization, Tree, MAX_DIMS, MAX_HIDDEN, MAX_ROW_BITS, NO_PARENT};
use crate::coder::{IntDecoder, IntEncoder};
use crate::error::{Error, Result};

const CONTEXT: &str = "compact model";

/// Bytes before the coded stream: `Hidden` u16, `Dims` u32, `Bits` u8, `Shift` u8.
const FIXED: usize = 8;

/// Memory a decoded weight takes (its `f32` and the coding layout's `f64`), for the limit.
pub const BYTES_PER_WEIGHT: u64 = 12;

/// Contexts of the integer coder: alphabet sizes, parent gaps, variable steps, then per row
/// kind (prior, transition, emission) one context per class of the previous entry of the
/// row, plus one for a row's first entry.
const ALPHABET: usize = 0;
const PARENT: usize = 1;
const VAR: usize = 2;
const ROW_CONTEXTS: usize = MAX_ROW_BITS as usize + 3;
const CONTEXTS: usize = 3 + 3 * ROW_CONTEXTS;

/// Row kinds, in file order.
#[derive(Clone, Copy)]
enum Kind {
    Prior = 0,
    Transition = 1,
    Emission = 2,
}

fn row_context(kind: Kind, previous: Option<u32>) -> usize {
    let class = previous.map_or(ROW_CONTEXTS - 1, crate::coder::class);
    3 + kind as usize * ROW_CONTEXTS + class
}

/// The compact form of `circuit` quantized as `quant` says: the circuit a decoder will see
/// (the quantized one; code chunks with it) and the bytes.
pub fn encode(circuit: &Circuit, quant: Quantization) -> Result<(Circuit, Vec<u8>)> {
    if !quant.is_valid() {
        return Err(Error::parameter(format!("invalid quantization {quant:?}")));
    }
    let q = circuit.quantized(quant);
    let mut out = Vec::new();
    out.extend_from_slice(&(q.hidden() as u16).to_le_bytes());
    out.extend_from_slice(&(q.dims() as u32).to_le_bytes());
    out.push(quant.bits);
    out.push(quant.shift);
    let mut e = IntEncoder::new(CONTEXTS);
    for &k in q.alphabet() {
        e.encode(u32::from(k) - 1, ALPHABET)?;
    }
    let tree = q.tree();
    let vars = tree.vars();
    for (pos, &var) in vars.iter().enumerate() {
        match tree.parent(pos) {
            None => e.encode(var, VAR)?,
            Some(p) => {
                e.encode((pos - 1 - p) as u32, PARENT)?;
                e.encode(zigzag(i64::from(var) - i64::from(vars[p])), VAR)?;
            }
        }
    }
    let m = q.hidden();
    let mut rows = |w: &[f32], len: usize, kind: Kind| -> Result<()> {
        for row in w.chunks(len) {
            let mut previous = None;
            for &w in &row[..len - 1] {
                let n = quant.count(w);
                e.encode(n, row_context(kind, previous))?;
                previous = Some(n);
            }
        }
        Ok(())
    };
    rows(q.prior(), m, Kind::Prior)?;
    rows(q.transitions(), m, Kind::Transition)?;
    for pos in 0..q.dims() {
        rows(q.emission_block(pos), q.node_alphabet(pos), Kind::Emission)?;
    }
    out.extend_from_slice(&e.finish());
    Ok((q, out))
}

/// Decodes a compact model for records of `dims` bytes, refusing models of more than
/// `max_weights` weights before allocating them.
pub fn decode(bytes: &[u8], dims: usize, max_weights: u64) -> Result<Circuit> {
    decode_fields(bytes, dims, max_weights).map_err(|e| match e {
        Error::Format(f) if f.context != CONTEXT => Error::format(CONTEXT, f.to_string()),
        other => other,
    })
}

fn decode_fields(bytes: &[u8], dims: usize, max_weights: u64) -> Result<Circuit> {
    let mut r = Reader::new(bytes, CONTEXT);
    let m = usize::from(r.u16()?);
    let d = r.u32()? as usize;
    let quant = Quantization {
        bits: r.u8()?,
        shift: r.u8()?,
    };
    if m == 0 || m > MAX_HIDDEN || d == 0 || d > MAX_DIMS || d != dims {
        return Err(Error::format(
            CONTEXT,
            format!("hidden {m} or dims {d} out of range (record size {dims})"),
        ));
    }
    if !quant.is_valid() {
        return Err(Error::format(
            CONTEXT,
            format!("bits {} and shift {} out of range", quant.bits, quant.shift),
        ));
    }
    let mut dec = IntDecoder::new(&bytes[FIXED..], CONTEXTS)?;
    let alphabet = (0..d)
        .map(|_| Ok(dec.decode(ALPHABET, 255)? as u16 + 1))
        .collect::<Result<Vec<u16>>>()?;
    let tree = read_tree(&mut dec, d)?;
    let emissions: u64 = tree
        .vars()
        .iter()
        .map(|&v| u64::from(alphabet[v as usize]))
        .sum::<u64>()
        * m as u64;
    let m2 = (m * m) as u64;
    let weights = m as u64 + (tree.latent_count() as u64 - 1) * m2 + emissions;
    if weights > max_weights {
        return Err(Error::LimitExceeded(format!(
            "embedded model of {weights} weights is above the memory limit ({max_weights})"
        )));
    }
    let mut rows = |weights: u64, len: usize, kind: Kind| -> Result<Vec<f32>> {
        let mut w = Vec::with_capacity(weights as usize);
        while (w.len() as u64) < weights {
            read_row(&mut dec, len, kind, quant, &mut w)?;
        }
        Ok(w)
    };
    let prior = rows(m as u64, m, Kind::Prior)?;
    let transition = rows((tree.latent_count() as u64 - 1) * m2, m, Kind::Transition)?;
    let mut emission = Vec::with_capacity(emissions as usize);
    for &v in tree.vars() {
        let k = usize::from(alphabet[v as usize]);
        emission.extend(rows((m * k) as u64, k, Kind::Emission)?);
    }
    Circuit::new(m, alphabet, tree, prior, transition, emission)
}

/// Appends the weights of one row of `len` counts summing to 2^bits to `w`.
fn read_row(
    dec: &mut IntDecoder,
    len: usize,
    kind: Kind,
    quant: Quantization,
    w: &mut Vec<f32>,
) -> Result<()> {
    let mut left = 1u32 << quant.bits;
    let mut previous = None;
    for _ in 1..len {
        let n = dec.decode(row_context(kind, previous), left)?;
        left -= n;
        w.push(quant.weight(n));
        previous = Some(n);
    }
    w.push(quant.weight(left));
    Ok(())
}

fn read_tree(dec: &mut IntDecoder, d: usize) -> Result<Tree> {
    let last = d as u32 - 1;
    let mut vars = Vec::with_capacity(d);
    let mut parents = Vec::with_capacity(d);
    vars.push(dec.decode(VAR, last)?);
    parents.push(NO_PARENT);
    for pos in 1..d {
        let p = pos - 1 - dec.decode(PARENT, pos as u32 - 1)? as usize;
        let step = unzigzag(dec.decode(VAR, u32::MAX)?);
        let var = i64::from(vars[p]) + step;
        if !(0..=i64::from(last)).contains(&var) {
            return Err(Error::format(
                CONTEXT,
                format!("variable of node {pos} out of range"),
            ));
        }
        vars.push(var as u32);
        parents.push(p as u32);
    }
    Tree::new(vars, parents)
}

/// Signed step to unsigned: 0, -1, 1, -2, 2, ... -> 0, 1, 2, 3, 4, ...
fn zigzag(v: i64) -> u32 {
    (if v < 0 { -2 * v - 1 } else { 2 * v }) as u32
}

fn unzigzag(u: u32) -> i64 {
    let u = i64::from(u);
    if u & 1 == 1 {
        -(u + 1) / 2
    } else {
        u / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::tests::random_circuit;
    use crate::rng::Rng;

    #[test]
    fn compact_models_decode_to_the_quantized_circuit() {
        let mut rng = Rng::new(8);
        for (d, k, m, bits, shift) in [
            (1, 3, 1, 1, 0),
            (7, 2, 3, 4, 16),
            (30, 40, 4, 10, 3),
            (12, 256, 2, 16, 4),
        ] {
            let c = random_circuit(&mut rng, d, k, m);
            let quant = Quantization { bits, shift };
            let (q, bytes) = encode(&c, quant).unwrap();
            assert_eq!(q, c.quantized(quant));
            assert_eq!(decode(&bytes, d, u64::MAX).unwrap(), q);
            assert!(
                decode(&bytes, d + 1, u64::MAX).is_err(),
                "wrong record size"
            );
            assert!(matches!(decode(&bytes, d, 1), Err(Error::LimitExceeded(_))));
        }
    }

    #[test]
    fn zigzag_round_trips() {
        for v in [-5i64, -1, 0, 1, 7, 1 << 20] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn truncated_or_corrupt_models_are_errors_not_panics() {
        let mut rng = Rng::new(9);
        let c = random_circuit(&mut rng, 20, 9, 3);
        let (q, bytes) = encode(&c, Quantization { bits: 8, shift: 4 }).unwrap();
        for len in 0..bytes.len() {
            let _ = decode(&bytes[..len], 20, u64::MAX);
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x21;
            if let Ok(other) = decode(&bad, 20, u64::MAX) {
                assert_eq!(other.dims(), q.dims());
            }
        }
        assert!(decode(&bytes[..FIXED - 1], 20, u64::MAX).is_err());
    }
}
