//! An independent reading of format-spec/FORMAT.md section 6 ("Entropy coder"): a decoder
//! and an encoder written from that text alone (no constriction), checked against pcz's
//! [`Encoder`] and [`Decoder`]. The spec encoder keeps the lower bound L as exact base-2^32
//! digits, so it also checks the text's claim that carries are plain integer carries.

use super::{Cdf, Decoder, Encoder, TOTAL};
use crate::rng::Rng;

/// One coded item: a bit with its probability of a one (units of 2^-16), or a symbol of a
/// categorical table.
#[derive(Debug, Clone)]
enum Item {
    Bit(bool, u16),
    Symbol(usize, Cdf),
}

impl Item {
    /// The section 6 frequencies of the item's distribution.
    fn frequencies(&self) -> Vec<u32> {
        match self {
            Item::Bit(_, p) => {
                let one = u32::from(*p) << 8;
                vec![TOTAL - one, one]
            }
            Item::Symbol(_, cdf) => cdf.frequencies().to_vec(),
        }
    }

    fn symbol(&self) -> usize {
        match self {
            Item::Bit(bit, _) => usize::from(*bit),
            Item::Symbol(a, _) => *a,
        }
    }

    fn encode(&self, enc: &mut Encoder) {
        match self {
            Item::Bit(bit, p) => enc.encode_bit(*bit, *p).unwrap(),
            Item::Symbol(a, cdf) => enc.encode(*a, cdf).unwrap(),
        }
    }

    fn decode(&self, dec: &mut Decoder) -> Option<usize> {
        match self {
            Item::Bit(_, p) => dec.decode_bit(*p).ok().map(usize::from),
            Item::Symbol(_, cdf) => dec.decode(cdf).ok(),
        }
    }
}

/// C[a] for frequencies `f`.
fn cumulative(f: &[u32], a: usize) -> u32 {
    f[..a].iter().sum()
}

/// The section 6 decoder: lower l, range R and point x, all u64 arithmetic modulo 2^64.
struct SpecDecoder {
    words: Vec<u32>,
    /// Index of the next word to read (may pass the end: those read as 0).
    next: usize,
    lower: u64,
    range: u64,
    point: u64,
}

impl SpecDecoder {
    /// `None` when the byte length is not a multiple of 4.
    fn new(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(4) {
            return None;
        }
        let words = bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let mut dec = SpecDecoder {
            words,
            next: 0,
            lower: 0,
            range: u64::MAX,
            point: 0,
        };
        dec.point = u64::from(dec.read()) << 32 | u64::from(dec.read());
        Some(dec)
    }

    fn read(&mut self) -> u32 {
        let word = self.words.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        word
    }

    /// The next symbol under frequencies `f`, or `None` when t >= 2^24 (invalid stream).
    fn decode(&mut self, f: &[u32]) -> Option<usize> {
        let s = self.range >> 24;
        let t = self.point.wrapping_sub(self.lower) / s;
        if t >= 1 << 24 {
            return None;
        }
        let a = (0..f.len())
            .rev()
            .find(|&a| u64::from(cumulative(f, a)) <= t)
            .expect("C[0] = 0");
        self.lower = self.lower.wrapping_add(s * u64::from(cumulative(f, a)));
        self.range = s * u64::from(f[a]);
        if self.range < 1 << 32 {
            self.lower <<= 32;
            self.range <<= 32;
            self.point = self.point << 32 | u64::from(self.read());
        }
        Some(a)
    }
}

/// The section 6 encoder with an exact lower bound L: base-2^32 digits, most significant
/// first, k + 2 of them after k renormalizations.
struct SpecEncoder {
    digits: Vec<u32>,
    range: u64,
    coded: bool,
    /// Additions to L that carried into the digits above its lowest two.
    carries: usize,
}

/// Adds `x` to the number `digits`; true when the sum carried past the lowest two digits.
fn add(digits: &mut [u32], x: u64) -> bool {
    let n = digits.len();
    let low = u64::from(digits[n - 2]) << 32 | u64::from(digits[n - 1]);
    let (sum, carried) = low.overflowing_add(x);
    digits[n - 2] = (sum >> 32) as u32;
    digits[n - 1] = sum as u32;
    if carried {
        let mut up = digits[..n - 2].iter_mut().rev();
        let stopped = up.any(|d| {
            *d = d.wrapping_add(1);
            *d != 0
        });
        assert!(stopped, "L + R stays below 2^(64 + 32k)");
    }
    carried
}

impl SpecEncoder {
    fn new() -> Self {
        SpecEncoder {
            digits: vec![0, 0],
            range: u64::MAX,
            coded: false,
            carries: 0,
        }
    }

    fn encode(&mut self, f: &[u32], a: usize) {
        let s = self.range >> 24;
        self.carries += usize::from(add(&mut self.digits, s * u64::from(cumulative(f, a))));
        self.range = s * u64::from(f[a]);
        self.coded = true;
        if self.range < 1 << 32 {
            self.digits.push(0);
            self.range <<= 32;
        }
    }

    /// The stream and whether it ends with the extra zero word.
    fn finish(self) -> (Vec<u8>, bool) {
        if !self.coded {
            return (Vec::new(), false);
        }
        // P = the least multiple of 2^32 >= L: its first k + 1 digits.
        let mut point = self.digits.clone();
        add(&mut point, (1 << 32) - 1);
        point.pop();
        let mut upper = self.digits;
        add(&mut upper, self.range);
        upper.pop();
        let padded = upper == point;
        if padded {
            point.push(0);
        }
        (point.iter().flat_map(|w| w.to_le_bytes()).collect(), padded)
    }
}

/// What coding `items` showed about the stream's end.
#[derive(Debug, Default)]
struct Seen {
    carries: usize,
    padded: usize,
    unpadded: usize,
}

/// Codes `items` with pcz's [`Encoder`]; asserts that the spec encoder writes the same
/// bytes and the spec decoder reads the same items back, having read every word (and at
/// most one past the end: it reads k + 2 of the k + 1 or k + 2 words).
fn check(items: &[Item], seen: &mut Seen) -> Vec<u8> {
    let mut enc = Encoder::new();
    let mut spec = SpecEncoder::new();
    for item in items {
        item.encode(&mut enc);
        spec.encode(&item.frequencies(), item.symbol());
    }
    let bytes = enc.finish();
    seen.carries += spec.carries;
    let (spec_bytes, padded) = spec.finish();
    assert_eq!(spec_bytes, bytes, "spec encoder's stream");
    *if padded {
        &mut seen.padded
    } else {
        &mut seen.unpadded
    } += 1;
    let mut dec = SpecDecoder::new(&bytes).unwrap();
    for (i, item) in items.iter().enumerate() {
        let got = dec.decode(&item.frequencies());
        assert_eq!(got, Some(item.symbol()), "item {i} of {}", items.len());
    }
    let words = bytes.len() / 4;
    if !items.is_empty() {
        assert!(
            (words..=words + 1).contains(&dec.next),
            "read {} of {words}",
            dec.next
        );
    }
    bytes
}

/// A table over 2..=256 symbols, often very skewed.
fn random_cdf(rng: &mut Rng) -> Cdf {
    let k = 2 + rng.below(255) as usize;
    let power = [1, 4, 16][rng.below(3) as usize];
    let q: Vec<f64> = (0..k).map(|_| rng.next_f64().powi(power)).collect();
    let mut cdf = Cdf::default();
    cdf.quantize(&q);
    cdf
}

/// Bits (sometimes at the extreme probabilities 1 and 65535) and symbols (uniformly
/// drawn, so often improbable ones), mixed.
fn random_items(rng: &mut Rng, n: usize) -> Vec<Item> {
    (0..n)
        .map(|_| match rng.below(4) {
            0 => Item::Bit(rng.below(2) == 1, [1, 65535][rng.below(2) as usize]),
            1 => {
                let p = 1 + rng.below(65535) as u16;
                Item::Bit(rng.below(65536) < u64::from(p), p)
            }
            _ => {
                let cdf = random_cdf(rng);
                Item::Symbol(rng.below(cdf.len() as u64) as usize, cdf)
            }
        })
        .collect()
}

#[test]
fn spec_coder_matches_long_streams() {
    let mut seen = Seen::default();
    for seed in 1..=6 {
        let items = random_items(&mut Rng::new(seed), 4000);
        check(&items, &mut seen);
    }
    assert!(seen.carries > 0, "no carry exercised: {seen:?}");
}

#[test]
fn spec_coder_matches_short_streams_and_both_ends() {
    let mut rng = Rng::new(31);
    let mut seen = Seen::default();
    for _ in 0..4000 {
        let n = 1 + rng.below(3) as usize;
        check(&random_items(&mut rng, n), &mut seen);
    }
    assert!(seen.padded > 0 && seen.unpadded > 0, "{seen:?}");
}

#[test]
fn spec_coder_matches_edge_cases() {
    let mut seen = Seen::default();
    assert!(check(&[], &mut seen).is_empty());
    for p in [1, 2, 32768, 65534, 65535] {
        for bit in [false, true] {
            check(&[Item::Bit(bit, p)], &mut seen);
            check(&vec![Item::Bit(bit, p); 3000], &mut seen);
        }
    }
    // A table of one likely value and 255 values of frequency 1.
    let mut q = vec![0.0; 256];
    q[0] = 1.0;
    let mut cdf = Cdf::default();
    cdf.quantize(&q);
    assert_eq!(cdf.frequency(255), 1);
    for a in [0, 1, 255] {
        check(&[Item::Symbol(a, cdf.clone())], &mut seen);
        check(&vec![Item::Symbol(a, cdf.clone()); 2000], &mut seen);
    }
}

/// The examples in the section's table.
#[test]
fn spec_examples_are_pcz_streams() {
    let mut seen = Seen::default();
    assert_eq!(check(&[Item::Bit(true, 32768)], &mut seen), [0, 0, 0, 0x80]);
    assert_eq!(seen.carries, 0);
    let ones = vec![Item::Bit(true, 1); 3];
    let words = [0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x01, 0xFF, 0xFD];
    assert_eq!(check(&ones, &mut seen), words);
    assert_eq!(seen.carries, 1);
}

/// Any whole number of words: both decoders give the same symbols and fail at the same
/// item; other lengths are refused by both.
#[test]
fn decoders_agree_on_hostile_streams() {
    let mut rng = Rng::new(41);
    let mut failures = 0;
    for round in 0..600 {
        let words = rng.below(12) as usize;
        let bytes: Vec<u8> = (0..words)
            .flat_map(|_| match rng.below(3) {
                0 => [0xFF; 4],
                1 => [0; 4],
                _ => (rng.next_u64() as u32).to_le_bytes(),
            })
            .collect();
        let items = random_items(&mut rng, 50);
        let mut spec = SpecDecoder::new(&bytes).unwrap();
        let mut pcz = Decoder::new(&bytes).unwrap();
        for (i, item) in items.iter().enumerate() {
            let want = spec.decode(&item.frequencies());
            assert_eq!(item.decode(&mut pcz), want, "round {round} item {i}");
            if want.is_none() {
                failures += 1;
                break;
            }
        }
    }
    assert!(failures > 0);
    for len in [1, 2, 3, 5, 7] {
        assert!(SpecDecoder::new(&vec![0; len]).is_none());
        assert!(Decoder::new(&vec![0; len]).is_err());
    }
}
