use super::*;
use crate::circuit::tests::random_circuit;
use crate::rng::Rng;

fn random_records(rng: &mut Rng, c: &Circuit, n: usize) -> Vec<u8> {
    (0..n * c.dims())
        .map(|i| rng.below(u64::from(c.alphabet()[i % c.dims()])) as u8)
        .collect()
}

#[test]
fn round_trip_random_circuits_and_data() {
    let mut rng = Rng::new(31);
    for trial in 0..60 {
        let d = 1 + trial % 13;
        let c = random_circuit(
            &mut rng,
            d,
            if trial % 2 == 0 { 4 } else { 256 },
            1 + trial % 4,
        );
        let codec = PcCodec::new(&c);
        let n = rng.below(40) as usize;
        let records = random_records(&mut rng, &c, n);
        let chunks = codec.encode(&records, 1 + trial % 7).unwrap();
        let counts: Vec<usize> = (0..chunks.len())
            .map(|i| (n - i * (1 + trial % 7)).min(1 + trial % 7))
            .collect();
        let pairs: Vec<(&[u8], usize)> = chunks.iter().map(|c| c.as_slice()).zip(counts).collect();
        assert_eq!(codec.decode(&pairs).unwrap(), records, "trial {trial}");
    }
}

#[test]
fn improbable_values_round_trip() {
    // One dominant emission entry per row: every other value has tiny probability.
    let mut rng = Rng::new(32);
    let c = random_circuit(&mut rng, 6, 256, 2);
    let mut emission = c.emissions().to_vec();
    for (i, w) in emission.iter_mut().enumerate() {
        *w = if i % 97 == 0 { 1.0 } else { 1e-30 };
    }
    let c = Circuit::new(
        2,
        c.alphabet().to_vec(),
        c.tree().clone(),
        c.prior().to_vec(),
        c.transitions().to_vec(),
        emission,
    )
    .unwrap();
    let codec = PcCodec::new(&c);
    let records = random_records(&mut rng, &c, 50);
    let stream = codec.encode_chunk(&records).unwrap();
    assert_eq!(codec.decode_chunk(&stream, 50).unwrap(), records);
}

#[test]
fn rejects_values_outside_alphabet() {
    let mut rng = Rng::new(33);
    let c = random_circuit(&mut rng, 3, 2, 2);
    let bad = vec![255u8; 3];
    assert!(PcCodec::new(&c).encode_chunk(&bad).is_err());
}

#[test]
fn each_record_alone_is_its_own_chunk_stream() {
    let mut rng = Rng::new(34);
    for trial in 0..12 {
        let c = random_circuit(
            &mut rng,
            1 + trial % 9,
            if trial % 2 == 0 { 5 } else { 256 },
            3,
        );
        let codec = PcCodec::new(&c);
        // More records than one block, so blocks run on several threads.
        let n = [0, 1, 7, 64, 65, 150][trial % 6];
        let records = random_records(&mut rng, &c, n);
        let streams = codec.encode_each(&records).unwrap();
        assert_eq!(streams.len(), n);
        for (r, stream) in streams.iter().enumerate() {
            let record = &records[r * c.dims()..(r + 1) * c.dims()];
            assert_eq!(
                stream,
                &codec.encode_chunk(record).unwrap(),
                "trial {trial} record {r}"
            );
        }
        let views: Vec<&[u8]> = streams.iter().map(Vec::as_slice).collect();
        assert_eq!(codec.decode_each(&views).unwrap(), records, "trial {trial}");
    }
}

#[test]
fn every_table_is_its_own_records_even_when_reused() {
    // Few letters and repeated records: many records share their context with the one
    // before, and sweep reuses that record's table for them.
    let mut rng = Rng::new(35);
    for trial in 0..8 {
        let d = 2 + trial % 6;
        let c = random_circuit(&mut rng, d, 2 + trial % 3, 1 + trial % 4);
        let codec = PcCodec::new(&c);
        let mut records = Vec::new();
        for _ in 0..30 {
            let record = random_records(&mut rng, &c, 1);
            for _ in 0..1 + rng.below(3) {
                records.extend_from_slice(&record);
            }
        }
        let n = records.len() / d;
        // Each record's tables computed alone, position by position.
        let cond = Conditionals::new(&c);
        let mut want = vec![Vec::new(); n];
        let (mut ctx, mut q) = (Context::default(), vec![0.0; 256]);
        for (r, tables) in want.iter_mut().enumerate() {
            cond.begin(&mut ctx);
            for pos in 0..d {
                let (_, s) = cond.distribution(&mut ctx, &mut q);
                let mut cdf = Cdf::default();
                let k = cond.alphabet(pos);
                if k > 1 {
                    cdf.quantize_summed(&q[..k], s);
                }
                tables.push(cdf);
                cond.observe(&mut ctx, records[r * d + codec.vars[pos] as usize]);
            }
        }
        let mut visits = 0;
        codec
            .sweep(n, |pos, r, cdf| {
                assert_eq!(cdf, Some(&want[r][pos]).filter(|t| !t.is_empty()));
                visits += 1;
                Ok(records[r * d + codec.vars[pos] as usize])
            })
            .unwrap();
        assert_eq!(visits, n * d, "trial {trial}");
    }
}
