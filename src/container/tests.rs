use super::*;
use crate::circuit::tests::random_circuit;
use crate::rng::Rng;

fn round_trip(input: &[u8], options: &CompressOptions<'_>, external: Option<&Circuit>) -> Vec<u8> {
    let packed = compress(input, options).unwrap();
    let parsed = parse(&packed, &Limits::default()).unwrap();
    let back = decompress(&parsed, external).unwrap();
    assert_eq!(back, input);
    packed
}

#[test]
fn round_trips_with_and_without_models() {
    let mut rng = Rng::new(41);
    let c = random_circuit(&mut rng, 5, 3, 2);
    for len in [0usize, 1, 4, 5, 17, 1000] {
        let input: Vec<u8> = (0..len)
            .map(|i| (rng.below(3) as u8).min(c.alphabet()[i % 5] as u8 - 1))
            .collect();
        round_trip(&input, &CompressOptions::default(), None);
        let embed = CompressOptions {
            model: Some((&c, ModelMode::Embed)),
            prefix_len: 2,
            chunk_records: 7,
            ..Default::default()
        };
        round_trip(&input, &embed, None);
        let reference = CompressOptions {
            model: Some((&c, ModelMode::Reference("m.pcm".into()))),
            ..Default::default()
        };
        round_trip(&input, &reference, Some(&c));
    }
}

#[test]
fn wrong_or_missing_model_is_an_error() {
    let mut rng = Rng::new(42);
    let c = random_circuit(&mut rng, 4, 2, 2);
    let other = random_circuit(&mut rng, 4, 2, 2);
    let input: Vec<u8> = (0..400)
        .map(|i| (i % 2) as u8 * (c.alphabet()[i % 4] as u8 - 1))
        .collect();
    let options = CompressOptions {
        model: Some((&c, ModelMode::Reference("m.pcm".into()))),
        ..Default::default()
    };
    let packed = compress(&input, &options).unwrap();
    let parsed = parse(&packed, &Limits::default()).unwrap();
    assert!(decompress(&parsed, None).is_err());
    assert!(decompress(&parsed, Some(&other)).is_err());
}

#[test]
fn truncation_is_an_error_and_flips_never_give_wrong_output() {
    let input: Vec<u8> = (0..300u32).map(|i| (i * i % 7) as u8).collect();
    let packed = compress(&input, &CompressOptions::default()).unwrap();
    for len in 0..packed.len() {
        assert!(
            parse(&packed[..len], &Limits::default()).is_err(),
            "truncated to {len}"
        );
    }
    for i in 0..packed.len() {
        let mut bad = packed.clone();
        bad[i] ^= 0x10;
        // A flip may hit bits that do not change the content (e.g. zstd frame flags); then the
        // output must still be the exact input. Never a wrong output.
        if let Ok(out) = parse(&bad, &Limits::default()).and_then(|p| decompress(&p, None)) {
            assert_eq!(out, input, "flip in byte {i} gave wrong output");
        }
    }
}
