//! An independent reading of format-spec/FORMAT.md section 6.2 (the `cm` chunk): a decoder
//! written from that text alone, with the section 6.1 pieces it reuses (hash, counters,
//! squash and stretch, mixer, APMs), checked against payloads written by pcz's
//! [`super::encode`] and the golden file. Nothing of [`super::model`], [`super::matcher`]
//! or `crate::mix` is used: if this decoder and pcz disagree, the text is incomplete or
//! wrong. Only the range decoding of section 6 is [`Decoder::decode_bit`], which
//! `crate::coder::spec_tests` checks against its own reading of section 6.

use crate::coder::Decoder;
use crate::container::{parse, Codec, Limits};
use crate::rng::Rng;

/// The 49 knots K[0..48] of section 6.1 "Squash and stretch", as listed.
const KNOTS: [i64; 49] = [
    1, 1, 1, 2, 3, 5, 8, 13, 22, 36, 60, 98, 162, 267, 439, 720, 1179, 1921, 3108, 4971, 7812,
    11955, 17625, 24743, 32768, 40793, 47911, 53581, 57724, 60565, 62428, 63615, 64357, 64816,
    65097, 65269, 65374, 65438, 65476, 65500, 65514, 65523, 65528, 65531, 65533, 65534, 65535,
    65535, 65535,
];

/// hash(x) = y xor (y >> 15), y = x * 0x9E3779B1 (u32).
fn hash(x: u32) -> u32 {
    let y = x.wrapping_mul(0x9E37_79B1);
    y ^ (y >> 15)
}

/// squash(d) of section 6.1: the piecewise-linear logistic over the knots.
fn squash(d: i64) -> i64 {
    let x = d.clamp(-3072, 3072) + 3072;
    let i = (x / 128) as usize;
    if i >= 48 {
        return KNOTS[48];
    }
    KNOTS[i] + (KNOTS[i + 1] - KNOTS[i]) * (x % 128) / 128
}

/// stretch(q) of section 6.1: the least d in -3072..3072 with squash(d) >= q, else 3072.
fn stretch(q: i64) -> i64 {
    let q = q.clamp(1, 65535);
    (-3072..=3072).find(|&d| squash(d) >= q).unwrap_or(3072)
}

/// stretch for every 16-bit probability (the linear search above is too slow per call).
fn stretch_table() -> Vec<i64> {
    let mut table = vec![0; 65536];
    let mut d = -3072;
    for (q, slot) in table.iter_mut().enumerate() {
        let q = (q as i64).max(1);
        while d < 3072 && squash(d) < q {
            d += 1;
        }
        *slot = d;
    }
    table
}

/// A fresh counter slot: p22 = 2^21, count 0.
const FRESH: u32 = 1 << 31;

/// The section 6.1 counter update after bit `y`.
fn update_counter(s: u32, y: i64, limit: u32) -> u32 {
    let p22 = i64::from(s >> 10);
    let k = i64::from(s % 1024);
    let p = (p22 + ((((y << 22) - p22) * (131072 / (2 * k + 3))) >> 16)).clamp(0, (1 << 22) - 1);
    let k = (s % 1024 + 1).min(limit);
    (p as u32) << 10 | k
}

/// A table of 25-entry APM maps (section 6.1 "APMs"), entries 16 x squash(256 i - 3072).
struct Apm {
    entries: Vec<i64>,
}

impl Apm {
    fn new(maps: usize) -> Self {
        let map: Vec<i64> = (0..25).map(|i| 16 * squash(256 * i - 3072)).collect();
        Apm {
            entries: map.repeat(maps),
        }
    }

    /// The output of map `m` for logit `d`, and the index of its nearest entry.
    fn predict(&self, m: usize, d: i64) -> (i64, usize) {
        let x = d.clamp(-3072, 3071) + 3072;
        let (i, f) = ((x / 256) as usize, x % 256);
        let e = &self.entries[25 * m..25 * m + 25];
        let out = (((e[i] * (256 - f) + e[i + 1] * f) / 256) >> 4).clamp(1, 65535);
        let j = if 2 * f >= 256 { i + 1 } else { i };
        (out, 25 * m + j)
    }

    /// Rate 7 (section 6.2 "Updates").
    fn update(&mut self, entry: usize, y: i64) {
        let e = &mut self.entries[entry];
        *e += ((y << 20) - *e) >> 7;
    }
}

/// Length bucket of section 6.2 "Decisions".
fn bucket(len: u32) -> u32 {
    match len {
        0..=11 => len,
        12..=15 => 12,
        16..=23 => 13,
        24..=31 => 14,
        _ => 15,
    }
}

/// Whether predicted byte `e` agrees with the partial byte `c0` before decision `i`, and
/// its next bit.
fn agrees(e: u32, c0: u32, i: u32) -> Option<u32> {
    ((e | 256) >> (8 - i) == c0).then_some((e >> (7 - i)) & 1)
}

/// The state of section 6.2 "State".
struct Spec {
    hb: u32,
    mb: u32,
    counters: Vec<u32>,
    pos: Vec<u32>,
    ptr: u32,
    len: u32,
    /// (E_s, R_s) for s = 1, 2.
    strides: [(u32, u32); 2],
    c4: u32,
    c8: u32,
    wd: u32,
    weights: Vec<i64>,
    a0: Apm,
    a1: Apm,
    x: [u32; 5],
    stretch: Vec<i64>,
}

/// What one decision's prediction used, for its updates.
struct Decision {
    slots: [usize; 10],
    inputs: [i64; 11],
    z: usize,
    pm: i64,
    apm: (usize, usize),
    p1: i64,
}

impl Spec {
    fn new(n: usize) -> Self {
        let lg = (0..).find(|&b| 1u64 << b >= n as u64).unwrap();
        let hb = (lg + 2).clamp(16, 22);
        let mb = lg.clamp(12, 22);
        let mut spec = Spec {
            hb,
            mb,
            counters: vec![FRESH; 256 + 65536 + 5 * (1 << hb) + 99],
            pos: vec![0; 1 << mb],
            ptr: 0,
            len: 0,
            strides: [(0, 0); 2],
            c4: 0,
            c8: 0,
            wd: 0,
            weights: vec![16384; 1024 * 11],
            a0: Apm::new(256),
            a1: Apm::new(65536),
            x: [0; 5],
            stretch: stretch_table(),
        };
        spec.contexts();
        spec
    }

    /// Section 6.2 "Per-byte contexts".
    fn contexts(&mut self) {
        let (c4, c8) = (self.c4, self.c8);
        self.x = [
            hash((c4 & 0xFFFF) | 2 << 24),
            hash((c4 & 0xFF_FFFF) | 3 << 24),
            hash(hash(c4) ^ 4),
            hash(hash(c4) ^ ((c8 & 0xFFFF) << 8) ^ 6),
            hash(self.wd ^ hash((c4 & 0xFF) | 0x5700)),
        ];
    }

    /// The absolute counter slots of decision `i` with partial byte `c0`, and G0's slot.
    fn slots(&self, out: &[u8], c0: u32, i: u32) -> ([usize; 10], u32) {
        let c1 = self.c4 & 0xFF;
        let mut slots = [0; 10];
        slots[0] = c0 as usize;
        slots[1] = 256 + (c1 << 8 | c0) as usize;
        let (t, wn) = match i {
            0..=2 => (0, c0),
            _ => {
                let e = i - 4;
                (c0 >> e, (c0 & ((1 << e) - 1)) | 1 << e)
            }
        };
        for k in 0..5 {
            let h = self.x[k].wrapping_add(t.wrapping_mul(0x9E37_79B1));
            let slot = ((h << 4) | wn) % (1 << self.hb);
            slots[2 + k] = 65792 + (k << self.hb) + slot as usize;
        }
        let matched = (self.ptr > 0)
            .then(|| agrees(u32::from(out[self.ptr as usize]), c0, i))
            .flatten();
        let g0 = matched.map_or(0, |bit| 1 + bucket(self.len) * 2 + bit);
        let g_base = 65792 + 5 * (1 << self.hb);
        slots[7] = g_base + g0 as usize;
        for (s, &(e, r)) in self.strides.iter().enumerate() {
            let g = agrees(e, c0, i).map_or(0, |bit| 1 + bucket(r) * 2 + bit);
            slots[8 + s] = g_base + 33 * (s + 1) + g as usize;
        }
        (slots, g0)
    }

    /// Section 6.2 "Mixer inputs" to "Probability".
    fn predict(&self, out: &[u8], c0: u32, i: u32) -> Decision {
        let (slots, g0) = self.slots(out, c0, i);
        let mut inputs = [256; 11];
        for (x, &slot) in inputs.iter_mut().zip(&slots) {
            *x = self.stretch[(self.counters[slot] >> 16) as usize];
        }
        let s = match (g0, self.len) {
            (0, _) => 0,
            (_, 0..=15) => 1,
            (_, 16..=31) => 2,
            _ => 3,
        };
        let z = 256 * s + c0 as usize;
        let w = &self.weights[11 * z..11 * z + 11];
        let dot: i64 = w.iter().zip(&inputs).map(|(w, x)| w * x).sum();
        let pm = squash((dot >> 16).clamp(-3072, 3072));
        let d = self.stretch[pm as usize];
        let (a0, j0) = self.a0.predict(c0 as usize, d);
        let c1 = (self.c4 & 0xFF) as usize;
        let (a1, j1) = self.a1.predict(c1 << 8 | c0 as usize, d);
        Decision {
            slots,
            inputs,
            z,
            pm,
            apm: (j0, j1),
            p1: (pm + a0 + 2 * a1) / 4,
        }
    }

    /// Section 6.2 "Updates".
    fn update(&mut self, d: &Decision, y: i64) {
        for (k, &slot) in d.slots.iter().enumerate() {
            let limit = if k < 7 { 127 } else { 1023 };
            self.counters[slot] = update_counter(self.counters[slot], y, limit);
        }
        let err = y * 65536 - d.pm;
        let w = &mut self.weights[11 * d.z..11 * d.z + 11];
        for (w, x) in w.iter_mut().zip(&d.inputs) {
            *w = (*w + ((x * err * 96) >> 22)).clamp(-(1 << 22), 1 << 22);
        }
        self.a0.update(d.apm.0, y);
        self.a1.update(d.apm.1, y);
    }

    /// Section 6.2 "After each byte"; `out` ends with the byte just decoded.
    fn end_byte(&mut self, out: &[u8]) {
        let p = out.len();
        let b = u32::from(out[p - 1]);
        self.c8 = self.c8 << 8 | self.c4 >> 24;
        self.c4 = self.c4 << 8 | b;
        self.wd = match b as u8 {
            b'a'..=b'z' | 128..=255 => (self.wd ^ b).wrapping_mul(0x2F0B_3C4D),
            b'A'..=b'Z' => (self.wd ^ (b + 32)).wrapping_mul(0x2F0B_3C4D),
            _ => 0,
        };
        self.follow_match(out);
        for (s, stride) in self.strides.iter_mut().enumerate() {
            let (e, r) = *stride;
            let r = if b == e { r.saturating_add(1) } else { 0 };
            let cs = (self.c4 >> (8 * s)) & 0xFF;
            let c2s = (self.c4 >> (16 * s + 8)) & 0xFF;
            *stride = ((2 * cs).wrapping_sub(c2s) % 256, r);
        }
        self.contexts();
    }

    /// Step 3 of "After each byte": the match model.
    fn follow_match(&mut self, out: &[u8]) {
        let p = out.len();
        let b = out[p - 1];
        if self.ptr > 0 {
            self.len = if out[self.ptr as usize] == b {
                (self.len + 1).min(65535)
            } else {
                0
            };
            self.ptr += 1;
        }
        if p < 6 {
            return;
        }
        let q: Vec<u32> = out[p - 6..].iter().map(|&q| u32::from(q)).collect();
        let k = hash(hash(q[0] | q[1] << 8 | q[2] << 16 | q[3] << 24) ^ (q[4] | q[5] << 8));
        let slot = (k % (1 << self.mb)) as usize;
        let cd = self.pos[slot] as usize;
        if self.len < 16 && cd > 0 {
            let l = (1..=cd.min(32))
                .take_while(|&k| out[cd - k] == out[p - k])
                .count() as u32;
            if l > self.len {
                self.len = l;
                self.ptr = cd as u32;
            }
        }
        self.pos[slot] = u32::try_from(p).unwrap_or(0);
    }
}

/// Decodes a `cm` payload of `n` bytes by the text of section 6.2.
fn spec_decode(payload: &[u8], n: usize) -> Vec<u8> {
    if n == 0 {
        assert!(payload.is_empty());
        return Vec::new();
    }
    let mut spec = Spec::new(n);
    let mut decoder = Decoder::new(payload).unwrap();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut c0 = 1u32;
        for i in 0..8 {
            let d = spec.predict(&out, c0, i);
            assert!((1..=65535).contains(&d.p1), "P1 = {}", d.p1);
            let y = decoder.decode_bit(d.p1 as u16).unwrap();
            spec.update(&d, i64::from(y));
            c0 = 2 * c0 + u32::from(y);
        }
        out.push((c0 - 256) as u8);
        spec.end_byte(&out);
    }
    out
}

/// pcz encodes `data`; the text-only decoder must give it back.
fn round_trip(name: &str, data: &[u8]) {
    let payload = super::encode(data).unwrap();
    let got = spec_decode(&payload, data.len());
    let first = got.iter().zip(data).position(|(a, b)| a != b);
    assert!(got == data, "{name}: first difference at byte {first:?}");
}

#[test]
fn listed_knots_are_the_formula() {
    for (i, &k) in KNOTS.iter().enumerate() {
        let x = -12.0 + 0.5 * i as f64;
        let exact = (65536.0 / (1.0 + (-x).exp())).round() as i64;
        assert_eq!(k, exact.clamp(1, 65535), "knot {i}");
    }
}

#[test]
fn stretch_table_is_the_definition() {
    let table = stretch_table();
    for q in (0..65536).step_by(97).chain([0, 1, 2, 32768, 65534, 65535]) {
        assert_eq!(table[q], stretch(q as i64), "q = {q}");
    }
}

#[test]
fn spec_decoder_reads_text() {
    let text = std::fs::read("testdata/kt/o1_mini_sample.jsonl").unwrap();
    round_trip("o1_mini_sample", &text);
    let mut shouting = text[..3000].to_ascii_uppercase();
    shouting.extend("Größe café naïve Ærø ÅSA ÉTÉ".bytes().cycle().take(600));
    round_trip("upper case and UTF-8", &shouting);
}

#[test]
fn spec_decoder_reads_models_corner_cases() {
    let mut rng = Rng::new(7);
    let random: Vec<u8> = (0..3000).map(|_| rng.next_u64() as u8).collect();
    // Long repeats of a random block, with a few changed bytes (match model).
    let mut repeats = random[..700].to_vec();
    for round in 0..5 {
        repeats.extend_from_slice(&random[..700]);
        repeats[700 * round + 350] ^= 0x5A;
    }
    round_trip("repeats", &repeats);
    // Words drawn from a small vocabulary: short matches that break and are replaced.
    let words = [
        "the ", "cat ", "sat ", "on ", "a ", "mat ", "and ", "then ", "at ",
    ];
    let salad: Vec<u8> = (0..1500)
        .flat_map(|_| words[rng.below(words.len() as u64) as usize].bytes())
        .collect();
    round_trip("word salad", &salad);
    let arithmetic: Vec<u8> = (0..2000u32).map(|i| (7 * i + 3) as u8).collect();
    round_trip("arithmetic", &arithmetic);
    let interleaved: Vec<u8> = (0..2000u32)
        .map(|i| match i % 2 {
            0 => (3 * i) as u8,
            _ => (250 - 5 * i) as u8,
        })
        .collect();
    round_trip("interleaved", &interleaved);
    let high: Vec<u8> = (0..1500u32).map(|i| 128 + (i * i % 128) as u8).collect();
    round_trip("high bytes", &high);
    round_trip("zeros", &[0; 3000]);
    round_trip("random", &random);
    for byte in [0, 0x41, 0xFF] {
        round_trip("one byte", &[byte]);
    }
    round_trip("empty", &[]);
}

/// Lengths at and past the thresholds of Mb (4096) and Hb (16384).
#[test]
fn spec_decoder_reads_table_size_thresholds() {
    let text = std::fs::read("testdata/kt/o1_mini_sample.jsonl").unwrap();
    let long: Vec<u8> = text.iter().copied().cycle().take(16385).collect();
    for n in [4096, 4097, 16385] {
        round_trip("thresholds", &long[..n]);
    }
}

#[test]
fn spec_decoder_reads_golden_file() {
    let file = std::fs::read("testdata/golden/o1_mini_sample-cm.jsonl.pcz").unwrap();
    let text = std::fs::read("testdata/kt/o1_mini_sample.jsonl").unwrap();
    let parsed = parse(&file, &Limits::default()).unwrap();
    let header = &parsed.header;
    let chunk = &header.chunks[0];
    assert_eq!(chunk.codec, Codec::Cm);
    // One chunk of the whole file, a record per byte.
    assert_eq!(header.chunks.len(), 1);
    let n = chunk.records as usize * header.record_size as usize;
    assert_eq!(n, text.len());
    assert!(spec_decode(parsed.payloads[0], n) == text, "golden payload");
}
