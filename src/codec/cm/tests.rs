use super::model::Model;
use super::*;
use crate::rng::Rng;

/// Text for the round trips: the golden files' manifest and a short text.
fn text() -> Vec<u8> {
    let mut t = include_bytes!("../../../testdata/golden/MANIFEST.md").to_vec();
    t.extend_from_slice(include_bytes!("../../../testdata/golden/text_small.txt"));
    t
}

fn round_trip(data: &[u8]) -> Vec<u8> {
    let payload = encode(data).unwrap();
    assert_eq!(decode(&payload, data.len()).unwrap(), data);
    payload
}

#[test]
fn round_trips_edge_cases() {
    assert!(round_trip(&[]).is_empty());
    round_trip(&[0x41]);
    round_trip(&[0xFF]);
    let zeros = round_trip(&[0; 10_000]);
    assert!(zeros.len() < 100, "all-zero payload {}", zeros.len());
}

#[test]
fn round_trips_random_bytes() {
    let mut rng = Rng::new(31);
    let data: Vec<u8> = (0..20_000).map(|_| rng.below(256) as u8).collect();
    let payload = round_trip(&data);
    // Incompressible: the model may cost a little, not much.
    assert!(
        payload.len() < data.len() + data.len() / 32,
        "{}",
        payload.len()
    );
}

#[test]
fn compresses_text() {
    let data = text();
    let payload = round_trip(&data);
    assert!(
        payload.len() * 5 < data.len() * 2,
        "{} of {}",
        payload.len(),
        data.len()
    );
}

#[test]
fn round_trips_repeats_and_sequences() {
    // A random block repeated with changed bytes (the match model's recovery), then
    // arithmetic sequences, plain and interleaved (the stride models).
    let mut rng = Rng::new(32);
    let block: Vec<u8> = (0..3000).map(|_| rng.below(256) as u8).collect();
    let mut data = block.clone();
    let mut copy = block.clone();
    for i in (0..copy.len()).step_by(97) {
        copy[i] ^= 0x5A;
    }
    data.extend_from_slice(&copy);
    let sequences: Vec<u8> = (0..4000u32)
        .map(|i| match i % 2 {
            0 => (i * 3) as u8,
            _ => 200u32.wrapping_sub(i) as u8,
        })
        .collect();
    data.extend_from_slice(&sequences);
    let payload = round_trip(&data);
    assert!(payload.len() < 4000, "{}", payload.len());
}

/// Decoding `payload` as `len` bytes must return (an error or some bytes), not panic.
fn decode_returns(payload: &[u8], len: usize) -> Option<Vec<u8>> {
    decode(payload, len).ok()
}

#[test]
fn truncated_payloads_never_panic() {
    let data = &text()[..600];
    let payload = encode(data).unwrap();
    for k in 0..payload.len() {
        if let Some(out) = decode_returns(&payload[..k], data.len()) {
            assert_eq!(out.len(), data.len());
            assert_ne!(out, data, "truncated to {k} of {}", payload.len());
        }
    }
}

#[test]
fn corrupt_payloads_never_panic() {
    let data = &text()[..600];
    let payload = encode(data).unwrap();
    let mut rng = Rng::new(33);
    for _ in 0..200 {
        let mut bad = payload.clone();
        let i = rng.below(bad.len() as u64) as usize;
        bad[i] ^= 1 + rng.below(255) as u8;
        if let Some(out) = decode_returns(&bad, data.len()) {
            assert_eq!(out.len(), data.len());
        }
    }
    let garbage: Vec<u8> = (0..64).map(|_| rng.below(256) as u8).collect();
    assert_eq!(decode_returns(&garbage, 5000).map(|o| o.len()), Some(5000));
    assert!(
        decode(&payload[..3], data.len()).is_err(),
        "not whole words"
    );
    assert!(decode(&payload, 0).is_err(), "data for an empty chunk");
    assert!(
        decode(&payload, usize::MAX).is_err(),
        "an impossible length"
    );
}

#[test]
fn state_stays_within_the_memory_bound() {
    let mut last = 0;
    for len in [1, 100, 5000, 1 << 16, 1 << 20, 3 << 20, 1 << 30] {
        let bound = memory_bound(len);
        let held = Model::new(len).heap_bytes();
        assert!(held <= bound, "len {len}: {held} > {bound}");
        assert!(bound >= last, "the bound grows with len");
        last = bound;
    }
    assert!(memory_bound(1) < 9 << 20, "{}", memory_bound(1));
    assert!(
        memory_bound(usize::MAX) < 110 << 20,
        "{}",
        memory_bound(usize::MAX)
    );
}
