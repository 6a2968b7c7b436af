use super::*;
use crate::circuit::tests::random_circuit;
use crate::rng::Rng;

/// Records that are smooth along the variables (so the spatial contexts matter) and stay
/// inside each variable's alphabet.
fn smooth_records(rng: &mut Rng, c: &Circuit, n: usize) -> Vec<u8> {
    let d = c.dims();
    let mut out = Vec::with_capacity(n * d);
    for _ in 0..n {
        let mut x = rng.below(256) as u16;
        for v in 0..d {
            if rng.below(4) == 0 {
                x = rng.below(256) as u16;
            }
            out.push((x % c.alphabet()[v]) as u8);
        }
    }
    out
}

#[test]
fn round_trip_random_circuits_alphabets_and_rows() {
    let mut rng = Rng::new(41);
    for trial in 0..24 {
        let d = 1 + trial % 11;
        let k = [2, 3, 5, 256][trial % 4];
        let c = random_circuit(&mut rng, d, k, 1 + trial % 3);
        let codec = PcMixCodec::new(&c);
        let n = rng.below(30) as usize;
        let records = smooth_records(&mut rng, &c, n);
        // Rows longer than the record (d < 3) are taken as the whole record.
        let row = trial % 4;
        for b in [Scheme::Msb, Scheme::ModeFirst, Scheme::Lean] {
            let (pc, mix) = codec.encode_chunk(&records, row, b).unwrap();
            assert_eq!(
                codec.pc().decode_chunk(&pc, n).unwrap(),
                records,
                "trial {trial}"
            );
            assert_eq!(
                codec.decode_chunk(&mix, n, b).unwrap(),
                records,
                "trial {trial} {b:?}"
            );
        }
    }
}

/// A random circuit of `d` variables (alphabets up to 256) and `n` smooth records for it.
fn codec_and_records(seed: u64, d: usize, n: usize) -> (PcMixCodec, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let c = random_circuit(&mut rng, d, 256, 2);
    let records = smooth_records(&mut rng, &c, n);
    (PcMixCodec::new(&c), records)
}

#[test]
fn learns_what_the_circuit_misses() {
    // A circuit fitted to nothing (random weights) on records whose neighbours agree: the
    // counters must save at least a tenth of its size.
    let (codec, records) = codec_and_records(42, 16, 2000);
    let (pc, mix) = codec.encode_chunk(&records, 4, Scheme::Lean).unwrap();
    assert!(
        mix.len() * 10 < pc.len() * 9,
        "pcmix {} vs pc {}",
        mix.len(),
        pc.len()
    );
}

#[test]
fn encoding_is_deterministic() {
    let (codec, records) = codec_and_records(43, 9, 50);
    assert_eq!(
        codec.encode_chunk(&records, 3, Scheme::Lean).unwrap(),
        codec.encode_chunk(&records, 3, Scheme::Lean).unwrap()
    );
}

#[test]
fn hostile_payloads_give_errors_or_values_never_panics() {
    let (codec, records) = codec_and_records(44, 7, 20);
    let mut rng = Rng::new(45);
    let (_, mix) = codec.encode_chunk(&records, 2, Scheme::Lean).unwrap();
    assert!(
        codec.decode_chunk(&mix[..3], 20, Scheme::Lean).is_err(),
        "no row stride"
    );
    let mut wide = mix.clone();
    wide[..4].copy_from_slice(&8u32.to_le_bytes());
    assert!(
        codec.decode_chunk(&wide, 20, Scheme::Lean).is_err(),
        "row stride beyond the record"
    );
    assert!(
        codec
            .decode_chunk(&mix[..mix.len() - 1], 20, Scheme::Lean)
            .is_err(),
        "not whole words"
    );
    for len in [4usize, 8, 12, 40, mix.len()] {
        let mut junk = mix[..4].to_vec();
        junk.extend((4..len).map(|_| rng.below(256) as u8));
        if let Ok(out) = codec.decode_chunk(&junk, 20, Scheme::Lean) {
            assert_eq!(out.len(), 20 * 7);
        }
    }
}

#[test]
fn learns_from_the_previous_record() {
    // One variable whose value is a fixed function of the previous record's: no context
    // inside the record varies, so only the previous-record contexts can predict it.
    let c = (46..)
        .map(|seed| random_circuit(&mut Rng::new(seed), 1, 256, 2))
        .find(|c| c.alphabet()[0] >= 64)
        .expect("a wide alphabet");
    let k = u32::from(c.alphabet()[0]);
    let mut x = 1u32;
    let records: Vec<u8> = (0..3000)
        .map(|_| {
            x = (5 * x + 3) % k;
            x as u8
        })
        .collect();
    let codec = PcMixCodec::new(&c);
    let (pc, mix) = codec.encode_chunk(&records, 0, Scheme::Lean).unwrap();
    assert!(
        mix.len() * 2 < pc.len(),
        "pcmix {} vs pc {}",
        mix.len(),
        pc.len()
    );
    assert_eq!(
        codec.decode_chunk(&mix, 3000, Scheme::Lean).unwrap(),
        records
    );
}

#[test]
fn the_mode_first_variant_beats_msb_first_on_a_dominant_value() {
    // Records mostly of one value, which the circuit (fitted to nothing) does not know:
    // both variants' counters learn it, codec 4's coarse contexts learn it faster.
    let mut rng = Rng::new(49);
    let c = random_circuit(&mut rng, 12, 256, 2);
    let codec = PcMixCodec::new(&c);
    let records: Vec<u8> = (0..12 * 1500)
        .map(|i| match rng.below(10) {
            0 => (rng.below(256) as u16 % c.alphabet()[i % 12]) as u8,
            _ => 0,
        })
        .collect();
    let size = |b| {
        let (_, mix) = codec.encode_chunk(&records, 4, b).unwrap();
        assert_eq!(codec.decode_chunk(&mix, 1500, b).unwrap(), records);
        mix.len()
    };
    let (msb, mode_first) = (size(Scheme::Msb), size(Scheme::ModeFirst));
    assert!(
        mode_first < msb,
        "mode-first {mode_first} vs MSB-first {msb}"
    );
}

#[test]
fn a_reused_scratch_decodes_like_fresh_memory() {
    // Chunks of different sizes and schemes (so different table layouts, with and
    // without the spatial APM) through one scratch, the larger after the smaller and back:
    // any state left over would change the decoding.
    let (codec, records) = codec_and_records(47, 6, 900);
    let mut scratch = Scratch::default();
    let runs = [
        (900, Scheme::ModeFirst),
        (40, Scheme::Lean),
        (900, Scheme::Lean),
        (300, Scheme::ModeFirst),
    ];
    for (n, scheme) in runs {
        let chunk = &records[..n * 6];
        let (_, mix) = codec.encode_chunk(chunk, 3, scheme).unwrap();
        let out = codec
            .decode_chunk_in(&mix, n, scheme, &mut scratch)
            .unwrap();
        assert_eq!(out, chunk, "{n} records, {scheme:?}");
    }
    let pool = ScratchPool::default();
    let (_, mix) = codec.encode_chunk(&records, 3, Scheme::Msb).unwrap();
    for _ in 0..2 {
        let out = pool.with(|s| codec.decode_chunk_in(&mix, 900, Scheme::Msb, s));
        assert_eq!(out.unwrap(), records);
    }
}
