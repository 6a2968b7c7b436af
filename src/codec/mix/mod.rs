//! The `pcmix` codec (format-spec/FORMAT.md section 6.1): each value is coded as binary
//! decisions down a fixed tree over its alphabet, and each decision's probability mixes
//! the circuit's conditional with adaptive counters whose contexts are values the record
//! has already coded. The circuit is a strong but fixed model; the counters learn, on the
//! data at hand, what it gets wrong (on MNIST test with a 60k-trained M = 64 circuit,
//! 1.1783 instead of 1.1990 bits/dim with 256-record chunks, 1.1345 with 5000: the
//! counters start afresh in every chunk, so larger chunks gain more).
//!
//! A `pcmix` payload is the row stride W (u32, little-endian), then the coded stream.
//! W names the variable "above" a variable v (v - W) for the spatial contexts; 0 means the
//! records have no rows and those contexts are constant.

mod context;

use super::PcCodec;
use crate::circuit::Circuit;
use crate::coder::{Cdf, Decoder, Encoder, TOTAL};
use crate::error::{Error, Result};
use crate::mix::{stretch, Apm, Counter, Counters, Mixer, WEIGHT_ONE};
use context::{Contexts, Layout, Runs, TABLES};
use std::sync::Mutex;

/// Mixer weight sets: 25 buckets of the circuit's logit times 9 decision kinds (the 8
/// tree depths, then the mode decision of [`Scheme::ModeFirst`]).
const MIXER_SETS: usize = 25 * 9;

/// Tree node number of the mode decision (the tree's nodes are 1..=255, so 0 is free).
const MODE_NODE: usize = 0;

/// A `pcmix` scheme: how a value becomes binary decisions, and which contexts predict
/// them (one per chunk codec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Most significant bit first down the tree over the alphabet, twelve context tables
    /// (chunk codec 3; read, no longer written).
    Msb,
    /// When the circuit's most probable value (its mode) has more than 3/4 of the
    /// probability, first "is it the mode?", then, if not, the tree with the mode removed;
    /// twenty context tables and two APMs (chunk codec 4). A background pixel costs one
    /// decision instead of eight.
    ModeFirst,
    /// Mode first with the ten tables of [`Scheme::ModeFirst`] that gain most, one APM
    /// and a faster-learning mixer (chunk codec 5): about 1.4x faster than `ModeFirst`,
    /// and within 0.5% of its size with the small circuits self-training makes (1.7%
    /// larger with a strong 60k-trained M = 64 MNIST circuit, where `ModeFirst` stays the
    /// choice).
    Lean,
}

impl Scheme {
    /// Mixer learning rate (units of 2^-22): mode-first's larger inputs set learns a
    /// little faster, and the lean set, whose inputs overlap less, faster still.
    fn mixer_rate(self) -> i32 {
        match self {
            Scheme::Msb => 32,
            Scheme::ModeFirst => 48,
            Scheme::Lean => 160,
        }
    }

    /// Whether a value whose mode has frequency `top` (of [`TOTAL`]) starts with the mode
    /// decision: when the mode has over 3/4 of the probability (and not all of it).
    fn mode_first(self, top: u32) -> bool {
        self != Scheme::Msb && 4 * u64::from(top) > 3 * u64::from(TOTAL) && top < TOTAL
    }

    /// Whether the scheme refines with the spatial APM (neighbours' top bits and node).
    fn spatial_apm(self) -> bool {
        self != Scheme::Lean
    }
}

/// APM update rate (a bucket moves by 1/2^6 of its error).
const APM_RATE: u32 = 6;

/// The logit of `part` of `total` (units of 1/256; `part` <= `total`, `total` > 0).
fn logit(part: u32, total: u32) -> i32 {
    stretch(((u64::from(part) << 16) / u64::from(total)) as i32)
}

/// Which of 25 buckets, 1.0 apart, logit `d` falls in.
fn logit_bucket(d: i32) -> u32 {
    ((d + 3072) / 256) as u32
}

/// A circuit prepared for `pcmix` coding.
#[derive(Debug, Clone)]
pub struct PcMixCodec {
    pc: PcCodec,
    /// Parent position of each position (itself for the root).
    parent: Vec<u32>,
    /// Position of each variable in the coding order.
    pos_of: Vec<u32>,
}

/// Where a decision's bit comes from: the encoder knows it, the decoder reads it.
trait BitIo {
    fn bit(&mut self, bit: bool, p1: u16) -> Result<bool>;
}

impl BitIo for Encoder {
    fn bit(&mut self, bit: bool, p1: u16) -> Result<bool> {
        self.encode_bit(bit, p1)?;
        Ok(bit)
    }
}

impl BitIo for Decoder {
    fn bit(&mut self, _: bool, p1: u16) -> Result<bool> {
        self.decode_bit(p1)
    }
}

/// The large tables of a chunk model (over 100 MB for an MNIST chunk), kept by a worker
/// from one chunk to the next: clearing them again is several times cheaper than the
/// page faults and unmapping of fresh memory for every chunk.
#[derive(Debug, Default)]
pub struct Scratch {
    counters: Option<Counters>,
    apm: Option<Apm>,
}

/// The [`Scratch`] of every worker of a parallel loop over chunks: a chunk borrows one
/// (a fresh one if all are in use) and gives it back, so the loop holds one per worker.
/// (Rayon's `map_init` makes one per split of the work, several per worker.)
#[derive(Debug, Default)]
pub struct ScratchPool(Mutex<Vec<Scratch>>);

impl ScratchPool {
    /// Runs `f` with a scratch of the pool.
    pub fn with<R>(&self, f: impl FnOnce(&mut Scratch) -> R) -> R {
        let spare = self.0.lock().ok().and_then(|mut spares| spares.pop());
        let mut scratch = spare.unwrap_or_default();
        let result = f(&mut scratch);
        if let Ok(mut spares) = self.0.lock() {
            spares.push(scratch);
        }
        result
    }
}

/// The adaptive state of one chunk: every chunk starts from this same state.
struct ChunkModel<'a> {
    contexts: Contexts<'a>,
    counters: Counters,
    layout: Layout,
    /// Each table's run of slots for the value being coded.
    runs: Runs,
    /// The decision's slot in each table, and the counter read from it (kept between the
    /// prediction and the update).
    slots: [usize; TABLES],
    read: [Counter; TABLES],
    mixer: Mixer,
    apm_node: Apm,
    /// The spatial APM, for the schemes that have it.
    apm_spatial: Option<Apm>,
    scheme: Scheme,
}

impl<'a> ChunkModel<'a> {
    /// The starting state of a chunk of `n` records, in `scratch`'s memory if it has some.
    fn new(
        codec: &'a PcMixCodec,
        n: usize,
        row: usize,
        scheme: Scheme,
        scratch: &mut Scratch,
    ) -> Self {
        let layout = Layout::new(codec.dims(), n * codec.dims(), scheme);
        let inputs = 1 + layout.count;
        let mut init = vec![0; inputs];
        init[0] = WEIGHT_ONE;
        let counters = match scratch.counters.take() {
            Some(mut c) => {
                c.reset(layout.len);
                c
            }
            None => Counters::new(layout.len),
        };
        let apm_spatial = scheme.spatial_apm().then(|| match scratch.apm.take() {
            Some(mut a) => {
                a.reset();
                a
            }
            None => Apm::new(1 << 16, APM_RATE),
        });
        ChunkModel {
            contexts: Contexts::new(codec, n, row, scheme),
            counters,
            layout,
            runs: Runs::new(),
            slots: [0; TABLES],
            read: [Counter::default(); TABLES],
            mixer: Mixer::new(inputs, MIXER_SETS, &init, scheme.mixer_rate()),
            apm_node: Apm::new(256, APM_RATE),
            apm_spatial,
            scheme,
        }
    }

    /// Gives the model's large tables back to `scratch` for the next chunk.
    fn recycle(self, scratch: &mut Scratch) {
        scratch.counters = Some(self.counters);
        if let Some(apm) = self.apm_spatial {
            scratch.apm = Some(apm);
        }
    }

    /// Codes value `x` (ignored when decoding) of position `pos` of record `r` under the
    /// circuit's `cdf` (the mode decision, if any, then most significant bit first);
    /// returns the value coded.
    fn code(&mut self, pos: usize, r: usize, x: u8, cdf: &Cdf, io: &mut impl BitIo) -> Result<u8> {
        let freqs = cdf.frequencies();
        let k = freqs.len();
        let (mode, top) = cdf.mode();
        let circuit = context::Circuit {
            mode: mode as u32,
            confidence: logit_bucket(logit(top, TOTAL)),
        };
        let hashes = self.contexts.hashes(pos, r, circuit);
        self.runs.start(&self.layout, &hashes);
        // Frequency of the values in [from, to) (clipped to the alphabet), the mode left
        // out once the mode decision has said no.
        let mut skip = None;
        let range = |skip: Option<usize>, from: usize, to: usize| -> u32 {
            let (from, to) = (from.min(k), to.min(k));
            let sum: u32 = freqs[from..to].iter().sum();
            match skip {
                Some(m) if (from..to).contains(&m) => sum - freqs[m],
                _ => sum,
            }
        };
        if self.scheme.mode_first(top) {
            let want = usize::from(x) == mode;
            if self.decide(MODE_NODE, &hashes, top, TOTAL, want, io)? {
                self.contexts.set(pos, r, mode as u8);
                return Ok(mode as u8);
            }
            skip = Some(mode);
        }
        let bits = usize::BITS - (k - 1).leading_zeros();
        let (mut node, mut lo) = (1usize, 0usize);
        // The frequency under the current node: of [lo, lo + 2 half). At the root, that of
        // the whole alphabet, which the frequencies sum to: no need to add them up.
        let mut total = match skip {
            Some(m) => TOTAL - freqs[m],
            None => TOTAL,
        };
        for b in (0..bits).rev() {
            let half = 1usize << b;
            let ones = range(skip, lo + half, lo + 2 * half);
            let bit = if ones == 0 || ones == total {
                ones != 0
            } else {
                let want = (usize::from(x) >> b) & 1 == 1;
                self.decide(node, &hashes, ones, total, want, io)?
            };
            total = if bit { ones } else { total - ones };
            node = node * 2 + usize::from(bit);
            lo += usize::from(bit) << b;
        }
        self.contexts.set(pos, r, lo as u8);
        Ok(lo as u8)
    }

    /// One binary decision at tree node `node`, where the circuit gives a one `ones` of
    /// `total` frequency.
    fn decide(
        &mut self,
        node: usize,
        hashes: &context::Hashes,
        ones: u32,
        total: u32,
        want: bool,
        io: &mut impl BitIo,
    ) -> Result<bool> {
        let pc = logit(ones, total);
        let key = context::NodeKey::new(self.scheme, node);
        self.runs.slots(&self.layout, hashes, key, &mut self.slots);
        let count = self.layout.count.min(TABLES);
        let (slots, read) = (&self.slots[..count], &mut self.read[..count]);
        let depth = match node {
            MODE_NODE => 8,
            _ => (usize::BITS - 1 - node.leading_zeros()) as usize,
        };
        let (weights, inputs) = self.mixer.select(logit_bucket(pc) as usize * 9 + depth);
        inputs[0] = pc;
        let dot = i64::from(weights[0]) * i64::from(pc);
        let dot = dot
            + self
                .counters
                .predict(slots, read, &mut inputs[1..], &weights[1..]);
        let mixed = self.mixer.mix(dot);
        let logit = stretch(mixed);
        let a1 = self.apm_node.refine(logit, node);
        let p = match &mut self.apm_spatial {
            Some(apm) => {
                (2 * mixed + a1 + apm.refine(logit, (hashes.apm as usize) << 8 | node)) / 4
            }
            None => (mixed + a1) / 2,
        };
        let bit = io.bit(want, p as u16)?;
        self.mixer.update(bit);
        self.apm_node.update(bit);
        if let Some(apm) = &mut self.apm_spatial {
            apm.update(bit);
        }
        let (slots, read) = (&self.slots[..count], &self.read[..count]);
        self.counters
            .learn(slots, read, bit, &self.layout.limits[..count]);
        Ok(bit)
    }
}

impl PcMixCodec {
    /// Prepares `circuit` for `pcmix` coding.
    pub fn new(circuit: &Circuit) -> Self {
        let tree = circuit.tree();
        let parent = (0..tree.len())
            .map(|pos| tree.parent(pos).unwrap_or(pos) as u32)
            .collect();
        let mut pos_of = vec![0u32; tree.len()];
        for (pos, &v) in tree.vars().iter().enumerate() {
            pos_of[v as usize] = pos as u32;
        }
        PcMixCodec {
            pc: PcCodec::new(circuit),
            parent,
            pos_of,
        }
    }

    /// Values per record (D).
    pub fn dims(&self) -> usize {
        self.pc.dims()
    }

    /// The plain circuit codec of the same circuit.
    pub fn pc(&self) -> &PcCodec {
        &self.pc
    }

    /// Encodes whole records (row-major, inside the model's alphabet: see
    /// [`PcCodec::accepts`]) with row stride `row` (at most the record: a longer row is
    /// the whole record) as two payloads from one pass of the circuit: the `pc` stream and
    /// the `pcmix` payload.
    pub fn encode_chunk(
        &self,
        records: &[u8],
        row: usize,
        scheme: Scheme,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        self.encode_chunk_in(records, row, scheme, &mut Scratch::default())
    }

    /// [`PcMixCodec::encode_chunk`] in the memory of `scratch`, which a worker passes from
    /// one chunk to the next.
    pub fn encode_chunk_in(
        &self,
        records: &[u8],
        row: usize,
        scheme: Scheme,
        scratch: &mut Scratch,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let d = self.dims();
        let row = row.min(d);
        if !self.pc.accepts(records) {
            return Err(Error::parameter("chunk does not fit the model's alphabet"));
        }
        let n = records.len() / d;
        let mut model = ChunkModel::new(self, n, row, scheme, scratch);
        let (mut pc, mut mix) = (Encoder::new(), Encoder::new());
        self.pc.sweep(n, |pos, r, cdf| {
            let x = records[r * d + self.pc.vars[pos] as usize];
            match cdf {
                Some(cdf) => {
                    pc.encode(usize::from(x), cdf)?;
                    model.code(pos, r, x, cdf, &mut mix)
                }
                None => Ok(0),
            }
        })?;
        model.recycle(scratch);
        let row = u32::try_from(row).expect("a record size fits in u32");
        let mut payload = row.to_le_bytes().to_vec();
        payload.extend_from_slice(&mix.finish());
        Ok((pc.finish(), payload))
    }

    /// Decodes a `pcmix` payload of `n` records written by [`PcMixCodec::encode_chunk`].
    pub fn decode_chunk(&self, payload: &[u8], n: usize, scheme: Scheme) -> Result<Vec<u8>> {
        self.decode_chunk_in(payload, n, scheme, &mut Scratch::default())
    }

    /// [`PcMixCodec::decode_chunk`] in the memory of `scratch`, which a worker passes from
    /// one chunk to the next.
    pub fn decode_chunk_in(
        &self,
        payload: &[u8],
        n: usize,
        scheme: Scheme,
        scratch: &mut Scratch,
    ) -> Result<Vec<u8>> {
        let d = self.dims();
        let total = n
            .checked_mul(d)
            .ok_or_else(|| Error::LimitExceeded("chunk size overflows".into()))?;
        let (row, stream) = payload
            .split_first_chunk::<4>()
            .ok_or_else(|| Error::format("pcmix chunk", "shorter than its row stride"))?;
        let row = u32::from_le_bytes(*row) as usize;
        if row > d {
            return Err(Error::format(
                "pcmix chunk",
                "row stride exceeds the record",
            ));
        }
        let mut out = vec![0u8; total];
        let mut model = ChunkModel::new(self, n, row, scheme, scratch);
        let mut decoder = Decoder::new(stream)?;
        self.pc.sweep(n, |pos, r, cdf| {
            let x = match cdf {
                Some(cdf) => model.code(pos, r, 0, cdf, &mut decoder)?,
                None => 0,
            };
            out[r * d + self.pc.vars[pos] as usize] = x;
            Ok(x)
        })?;
        model.recycle(scratch);
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
