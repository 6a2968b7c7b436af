//! Harness functions for the cargo-fuzz targets in `fuzz/` (each target is a one-liner that
//! calls one of these), built and linted with the crate and replayed on
//! `testdata/fuzz-regressions/` by the unit tests below.
//!
//! Every function takes arbitrary bytes and panics only when the library breaks one of its
//! promises: no panic on any input, limits honoured, any successful decode consistent with
//! its checksums, and compress-then-decompress returning the input.
//!
//! Checksums would stop a fuzzer at the door, so the container and model harnesses also try
//! the input with its `Header_Checksum` (or the model's `Checksum`) recomputed: mutated
//! header fields then reach the checks behind it.

use crate::bytes::Reader;
use crate::circuit::{Quantization, Tree, NO_PARENT};
use crate::codec::PcCodec;
use crate::container::{self, CompressOptions, Limits, ModelMode, Transform, MAGIC};
use crate::container::{FLAG_MODEL_COMPACT, FLAG_MODEL_EMBEDDED, FLAG_TRANSFORM, MODEL_FLAGS};
use crate::rng::Rng;
use crate::Circuit;
use std::sync::OnceLock;
use xxhash_rust::xxh3::xxh3_64;

/// The tight output limit of the decompress harness: hostile sizes fail before allocating.
pub const MAX_OUTPUT: u64 = 256 << 10;

/// The model that `testdata/golden/digits-100*.pcz` reference, given to the decompress
/// harness as the external model so that those seeds decode all the way.
const GOLDEN_MODEL: &[u8] = include_bytes!("../testdata/golden/digits-m4.pcm");

/// `container::parse` on arbitrary bytes: an error or a header that adds up.
pub fn container_parse(data: &[u8]) {
    for bytes in with_fixed_checksum(data, header_end) {
        let limits = Limits {
            max_output: MAX_OUTPUT,
        };
        if let Ok(parsed) = container::parse(&bytes, &limits) {
            let h = &parsed.header;
            assert!(h.original_size <= MAX_OUTPUT);
            assert_eq!(
                h.record_count * u64::from(h.record_size)
                    + (h.prefix.len() + h.suffix.len()) as u64,
                h.original_size
            );
            assert_eq!(parsed.payloads.len(), h.chunks.len());
        }
    }
}

/// Parse and decompress arbitrary bytes under [`MAX_OUTPUT`], with the golden model as the
/// external model: an error, or exactly the content that the checksums describe.
pub fn decompress(data: &[u8]) {
    let model = golden_model();
    for bytes in with_fixed_checksum(data, header_end) {
        let limits = Limits {
            max_output: MAX_OUTPUT,
        };
        let Ok(parsed) = container::parse(&bytes, &limits) else {
            continue;
        };
        if let Ok(out) = container::decompress(&parsed, Some(model)) {
            assert_eq!(out.len() as u64, parsed.header.original_size);
            assert_eq!(xxh3_64(&out), parsed.header.content_checksum);
        }
    }
}

/// Compress arbitrary data with options taken from its first three bytes, then decompress:
/// the result must be the data. Byte 0: record size (low 4 bits + 1), model (bits 4-5:
/// none, embedded, referenced), values folded into the model's alphabet (bit 6) so that
/// `pc` chunks occur, a prediction transform (bit 7) whose shape comes from bytes 1 and 2
/// (red and blue minus green when RGB and bit 7 of byte 2 is set);
/// byte 1: prefix length; byte 2: records per chunk (+ 1).
pub fn roundtrip(data: &[u8]) {
    let (options, input) = match data {
        [a, b, c, rest @ ..] => ((*a, *b, *c), rest),
        _ => ((0, 0, 0), data),
    };
    let (a, prefix_len, chunk_records) = options;
    let circuit = small_model();
    let mode = match (a >> 4) & 3 {
        1 => Some(ModelMode::Embed),
        2 => Some(ModelMode::Reference("small.pcm".into())),
        3 => Some(ModelMode::EmbedCompact(Quantization {
            bits: 1 + chunk_records % 16,
            shift: chunk_records / 16 % 5,
        })),
        _ => None,
    };
    let mut input = input.to_vec();
    if mode.is_some() && a & 0x40 != 0 {
        let alphabet = circuit.alphabet();
        let d = alphabet.len();
        for (i, x) in input.iter_mut().skip(usize::from(prefix_len)).enumerate() {
            *x = (u16::from(*x) % alphabet[i % d]) as u8;
        }
    }
    let options = CompressOptions {
        model: mode.map(|m| (circuit, m)),
        prefix_len: usize::from(prefix_len),
        record_size: usize::from(a & 15) + 1,
        chunk_records: Some(usize::from(chunk_records) + 1),
        zstd_level: 1,
        transform: (a & 0x80 != 0).then(|| {
            let channels = 1 + prefix_len % container::predict::MAX_CHANNELS;
            let green = channels == 3 && chunk_records & 0x80 != 0;
            Transform::med(1 + usize::from(chunk_records % 7), channels, green)
                .expect("valid shape")
        }),
        png_pixels: false,
        row: usize::from(chunk_records % 5),
        mix: match prefix_len % 3 {
            0 => container::MixPolicy::Never,
            1 => container::MixPolicy::AtMost {
                fraction: 0.97,
                scheme: crate::codec::Scheme::Lean,
            },
            _ => container::MixPolicy::SMALLEST,
        },
        // Without a model, `cm` whenever it is not larger.
        cm: (prefix_len & 4 != 0).then_some(container::CmPolicy {
            max_bytes: usize::from(chunk_records) * 8,
            fraction: 1.0,
        }),
    };
    let packed = container::compress(&input, &options).expect("compress");
    let parsed = container::parse(&packed, &Limits::default()).expect("parse");
    let out = container::decompress(&parsed, Some(circuit)).expect("decompress");
    assert!(out == input, "round trip changed the data");
}

/// `Circuit::from_bytes` on arbitrary bytes: an error, or a model that writes back to the
/// same bytes and codes a record.
pub fn model_parse(data: &[u8]) {
    for bytes in with_fixed_checksum(data, |b| b.len().checked_sub(8)) {
        let Ok(circuit) = Circuit::from_bytes(&bytes) else {
            continue;
        };
        assert!(bytes == circuit.to_bytes(), "model does not write back");
        let codec = PcCodec::new(&circuit);
        let record = vec![0u8; circuit.dims()];
        let stream = codec.encode_chunk(&record).expect("encode");
        assert_eq!(codec.decode_chunk(&stream, 1).expect("decode"), record);
    }
}

/// `data`, and when the position of its checksum can be found (`checksum_at`) and the
/// checksum is wrong, a copy with the XXH3-64 of the bytes before it written there.
fn with_fixed_checksum(
    data: &[u8],
    checksum_at: impl Fn(&[u8]) -> Option<usize>,
) -> Vec<std::borrow::Cow<'_, [u8]>> {
    let mut variants = vec![std::borrow::Cow::Borrowed(data)];
    if let Some(at) = checksum_at(data).filter(|&at| at + 8 <= data.len()) {
        let sum = xxh3_64(&data[..at]).to_le_bytes();
        if data[at..at + 8] != sum {
            let mut fixed = data.to_vec();
            fixed[at..at + 8].copy_from_slice(&sum);
            variants.push(fixed.into());
        }
    }
    variants
}

/// Where a container's `Header_Checksum` is, read leniently (any flags, no limits): the
/// fields up to the chunk index, as in format-spec/FORMAT.md section 7.
fn header_end(bytes: &[u8]) -> Option<usize> {
    let mut r = Reader::new(bytes, "fuzz input");
    if r.take(4).ok()? != MAGIC {
        return None;
    }
    r.skip(2).ok()?;
    let flags = r.u16().ok()?;
    r.skip(8 + 4 + 8).ok()?;
    for _ in 0..2 {
        let n = r.u32().ok()?;
        r.skip(n as usize).ok()?;
    }
    if flags & FLAG_TRANSFORM != 0 {
        r.skip(6).ok()?;
    }
    if flags & MODEL_FLAGS != 0 {
        r.skip(16).ok()?;
        let n = if flags & (FLAG_MODEL_EMBEDDED | FLAG_MODEL_COMPACT) != 0 {
            usize::try_from(r.u64().ok()?).ok()?
        } else {
            usize::from(r.u16().ok()?)
        };
        r.skip(n).ok()?;
    }
    let count = r.u32().ok()? as usize;
    r.skip(count.checked_mul(17)?).ok()?;
    Some(r.position())
}

fn golden_model() -> &'static Circuit {
    static MODEL: OnceLock<Circuit> = OnceLock::new();
    MODEL.get_or_init(|| Circuit::from_bytes(GOLDEN_MODEL).expect("golden model"))
}

/// A fixed small circuit with every kind of alphabet: 5 variables of alphabets 2, 256, 1,
/// 17 and 5, 3 hidden states, two latent nodes and three leaves.
fn small_model() -> &'static Circuit {
    static MODEL: OnceLock<Circuit> = OnceLock::new();
    MODEL.get_or_init(|| {
        let alphabet = vec![2u16, 256, 1, 17, 5];
        let tree = Tree::new(vec![2, 0, 4, 1, 3], vec![NO_PARENT, 0, 1, 1, 0]).expect("tree");
        let m = 3;
        let emissions: usize = tree
            .vars()
            .iter()
            .map(|&v| m * usize::from(alphabet[v as usize]))
            .sum();
        let mut rng = Rng::new(6);
        let mut weights =
            |n: usize| -> Vec<f32> { (0..n).map(|_| (rng.next_f64() as f32) + 0.01).collect() };
        let (prior, transition, emission) = (weights(m), weights(m * m), weights(emissions));
        Circuit::new(m, alphabet, tree, prior, transition, emission).expect("small model")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn testdata(dir: &str) -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    /// Every harness on every regression file and every golden file (the fuzz seeds).
    #[test]
    fn harnesses_pass_on_regressions_and_golden_files() {
        let mut files = testdata("fuzz-regressions");
        assert!(!files.is_empty());
        files.extend(testdata("golden"));
        for (name, bytes) in &files {
            for harness in [container_parse, decompress, roundtrip, model_parse] {
                let caught = std::panic::catch_unwind(|| harness(bytes));
                assert!(caught.is_ok(), "{name}");
            }
        }
    }

    #[test]
    fn fixed_header_checksum_reaches_the_checks_behind_it() {
        let packed = container::compress(b"abc", &CompressOptions::default()).unwrap();
        let mut bad = packed.clone();
        bad[8] ^= 1; // Original_Size: 3 -> 2
        let variants = with_fixed_checksum(&bad, header_end);
        assert_eq!(variants.len(), 2);
        let err = container::parse(&variants[1], &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("do not add up"), "{err}");
        assert_eq!(with_fixed_checksum(&packed, header_end).len(), 1);
    }

    #[test]
    fn small_model_round_trips_through_its_file() {
        let c = small_model();
        assert_eq!(Circuit::from_bytes(&c.to_bytes()).unwrap(), *c);
        model_parse(&c.to_bytes());
        let mut input = vec![0x50u8, 0, 0];
        input.extend((0..200u8).map(|i| i.wrapping_mul(37)));
        roundtrip(&input);
    }
}
