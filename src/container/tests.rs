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
            chunk_records: Some(7),
            ..Default::default()
        };
        round_trip(&input, &embed, None);
        for (bits, shift) in [(1, 0), (9, 11)] {
            let q = crate::circuit::Quantization { bits, shift };
            let compact = CompressOptions {
                model: Some((&c, ModelMode::EmbedCompact(q))),
                chunk_records: Some(5),
                ..Default::default()
            };
            let packed = round_trip(&input, &compact, None);
            let parsed = parse(&packed, &Limits::default()).unwrap();
            assert_eq!(parsed.header.version, VERSION_COMPACT);
            assert!(matches!(parsed.header.model, Model::Compact { .. }));
        }
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

#[test]
fn compact_model_respects_the_memory_limit() {
    let mut rng = Rng::new(43);
    let c = random_circuit(&mut rng, 6, 200, 4);
    let input: Vec<u8> = (0..600)
        .map(|i| (i % 7) as u8 % c.alphabet()[i % 6] as u8)
        .collect();
    let options = CompressOptions {
        model: Some((
            &c,
            ModelMode::EmbedCompact(crate::circuit::Quantization { bits: 8, shift: 4 }),
        )),
        ..Default::default()
    };
    let packed = compress(&input, &options).unwrap();
    let tight = Limits { max_output: 4096 };
    let parsed = parse(&packed, &tight).unwrap();
    let err = decompress(&parsed, None).unwrap_err();
    assert!(matches!(err, Error::LimitExceeded(_)), "{err}");
}

#[test]
fn version_1_files_may_not_use_the_compact_flag() {
    let mut packed = compress(b"abc", &CompressOptions::default()).unwrap();
    assert_eq!(u16::from_le_bytes([packed[4], packed[5]]), VERSION_1);
    packed[6] = FLAG_MODEL_COMPACT as u8;
    let err = parse(&packed, &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("invalid flags 0x0004"), "{err}");
}

#[test]
fn residual_records_round_trip_as_version_3() {
    // A smooth 12 x 9 RGB raster plus a prefix and a suffix that no record fills.
    let raster: Vec<u8> = (0..12 * 9 * 3)
        .map(|i| (i / 3 % 12 + i / 36) as u8)
        .collect();
    let mut input = b"P6 12 9 255\n".to_vec();
    input.extend_from_slice(&raster);
    let transform = Transform::med(12, 3, true).unwrap();
    for record_size in [1, 12, 15] {
        let options = CompressOptions {
            prefix_len: 12,
            record_size,
            chunk_records: Some(10),
            transform: Some(transform),
            ..Default::default()
        };
        let packed = round_trip(&input, &options, None);
        let parsed = parse(&packed, &Limits::default()).unwrap();
        assert_eq!(parsed.header.version, super::VERSION_TRANSFORM);
        assert_eq!(parsed.header.transform, Some(transform));
        // Chunk checksums cover the residuals, which are what the chunks decode to.
        let d = record_size;
        let coded = transform.residuals(&raster[..raster.len() / d * d]);
        let first = &parsed.header.chunks[0];
        let bytes = &coded[..first.records as usize * d];
        assert_eq!(first.checksum, xxhash_rust::xxh3::xxh3_64(bytes));
    }
}

#[test]
fn version_2_files_may_not_use_the_transform_flag() {
    let mut rng = Rng::new(44);
    let c = random_circuit(&mut rng, 3, 2, 2);
    let q = crate::circuit::Quantization { bits: 6, shift: 4 };
    let options = CompressOptions {
        model: Some((&c, ModelMode::EmbedCompact(q))),
        ..Default::default()
    };
    let mut packed = compress(&[0, 1, 0], &options).unwrap();
    assert_eq!(u16::from_le_bytes([packed[4], packed[5]]), VERSION_COMPACT);
    packed[6] |= FLAG_TRANSFORM as u8;
    let err = parse(&packed, &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("invalid flags 0x000c"), "{err}");
}

/// Records of 16 values on a random walk (steps of -1, 0 or 1), reduced into the
/// alphabet of `c`, which the pcmix codec's spatial contexts predict far better than a
/// random circuit or zstd do.
fn walk(rng: &mut Rng, c: &Circuit, records: usize) -> Vec<u8> {
    let mut x = 0u8;
    (0..records * 16)
        .map(|i| {
            x = x.wrapping_add(rng.below(3) as u8).wrapping_sub(1);
            (u16::from(x) % c.alphabet()[i % 16]) as u8
        })
        .collect()
}

/// Options coding walks with `c` (referenced) in chunks of 200 records of rows of 4.
fn walk_options(c: &Circuit, mix: MixPolicy) -> CompressOptions<'_> {
    CompressOptions {
        model: Some((c, ModelMode::Reference("m.pcm".into()))),
        chunk_records: Some(200),
        row: 4,
        mix,
        ..Default::default()
    }
}

/// The policy that keeps `scheme`'s pcmix chunks whenever they are not larger.
fn whenever(scheme: Scheme) -> MixPolicy {
    MixPolicy::AtMost {
        fraction: 1.0,
        scheme,
    }
}

#[test]
fn pcmix_chunks_round_trip_on_any_thread_count_and_need_their_version() {
    let mut rng = Rng::new(47);
    let c = random_circuit(&mut rng, 16, 256, 2);
    let input = walk(&mut rng, &c, 600);
    for (scheme, codec, version) in [
        (Scheme::ModeFirst, Codec::Pcmix2, VERSION_MODE_FIRST),
        (Scheme::Lean, Codec::Pcmix3, super::VERSION_LEAN),
    ] {
        let options = walk_options(&c, whenever(scheme));
        let packed = round_trip(&input, &options, Some(&c));
        assert_eq!(packed, compress(&input, &options).unwrap(), "deterministic");
        let parsed = parse(&packed, &Limits::default()).unwrap();
        assert_eq!(parsed.header.version, version);
        let codecs: Vec<Codec> = parsed.header.chunks.iter().map(|ch| ch.codec).collect();
        assert_eq!(codecs.len(), 3);
        assert!(codecs.contains(&codec), "{codecs:?}");
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let out = pool.install(|| decompress(&parsed, Some(&c))).unwrap();
            assert_eq!(out, input, "{threads} threads");
        }
        // A codec needs its version: no older reader may take it.
        for older in [VERSION_TRANSFORM, super::VERSION_PCMIX, version - 1] {
            let mut old = packed.clone();
            old[4..6].copy_from_slice(&older.to_le_bytes());
            let err = parse(&old, &Limits::default()).unwrap_err().to_string();
            let want = format!("codec {} needs version {version}", codec.id());
            assert!(err.contains(&want), "{err}");
        }
    }
}

#[test]
fn the_mix_policy_decides_whether_chunks_may_use_pcmix() {
    let mut rng = Rng::new(48);
    let c = random_circuit(&mut rng, 16, 256, 2);
    let input = walk(&mut rng, &c, 400);
    let codecs = |mix| {
        let packed = round_trip(&input, &walk_options(&c, mix), Some(&c));
        let parsed = parse(&packed, &Limits::default()).unwrap();
        let codecs: Vec<Codec> = parsed.header.chunks.iter().map(|ch| ch.codec).collect();
        (parsed.header.version, codecs)
    };
    let (version, smallest) = codecs(whenever(Scheme::Lean));
    assert_eq!(
        (version, smallest.as_slice()),
        (super::VERSION_LEAN, &[Codec::Pcmix3; 2][..])
    );
    // pcmix's saving on these chunks is below 100%: a demand for more keeps pc.
    let all = MixPolicy::AtMost {
        fraction: 0.0,
        scheme: Scheme::Lean,
    };
    for policy in [MixPolicy::Never, all] {
        let (version, codecs) = codecs(policy);
        assert!(version < VERSION_MODE_FIRST, "{policy:?}");
        assert!(
            codecs.iter().all(|c| c.scheme().is_none()),
            "{policy:?}: {codecs:?}"
        );
    }
}

#[test]
fn a_staged_container_finishes_as_compress_does_at_every_level() {
    let mut rng = Rng::new(49);
    let c = random_circuit(&mut rng, 16, 256, 2);
    // Walks the circuit codes, then constant records zstd codes to almost nothing.
    let mut input = walk(&mut rng, &c, 400);
    input.extend(std::iter::repeat_n(0u8, 200 * 16));
    let options = walk_options(&c, whenever(Scheme::ModeFirst));
    let staged = Staged::new(&input, &options, None).unwrap();
    for level in [1, 3, 9, 19] {
        let finished = staged.finish(level).unwrap();
        let direct = CompressOptions {
            zstd_level: level,
            ..options.clone()
        };
        assert_eq!(
            finished,
            compress(&input, &direct).unwrap(),
            "level {level}"
        );
        let parsed = parse(&finished, &Limits::default()).unwrap();
        let codecs: Vec<Codec> = parsed.header.chunks.iter().map(|ch| ch.codec).collect();
        assert_eq!(codecs.len(), 3);
        assert!(
            codecs[1] == Codec::Pcmix2 && codecs[2] == Codec::Zstd,
            "{codecs:?}"
        );
        assert_eq!(decompress(&parsed, Some(&c)).unwrap(), input);
    }
}

#[test]
fn a_known_chunk_is_taken_only_for_its_own_records() {
    let mut rng = Rng::new(50);
    let c = random_circuit(&mut rng, 16, 256, 2);
    let input = walk(&mut rng, &c, 400);
    let (first, second) = input.split_at(200 * 16);
    let codec = PcMixCodec::new(&c);
    let (pc, mix) = codec.encode_chunk(first, 4, Scheme::Lean).unwrap();
    // pcmix's pc stream is the pc codec's own: the container may take either.
    assert_eq!(pc, codec.pc().encode_chunk(first).unwrap());
    for policy in [MixPolicy::Never, whenever(Scheme::Lean)] {
        let options = walk_options(&c, policy);
        let direct = compress(&input, &options).unwrap();
        let known = KnownChunk {
            records: first,
            pc: pc.clone(),
            mix: mix.clone(),
        };
        let staged = Staged::new(&input, &options, Some(&known)).unwrap();
        assert!(staged.finish(19).unwrap() == direct, "{policy:?}");
        // Payloads are taken only for their own records: one-byte payloads (smaller than
        // any other codec's) given for records of no chunk change nothing.
        let mut elsewhere = first.to_vec();
        elsewhere[0] ^= 1;
        let wrong = KnownChunk {
            records: &elsewhere,
            pc: vec![0],
            mix: vec![0],
        };
        let staged = Staged::new(&input, &options, Some(&wrong)).unwrap();
        assert!(staged.finish(19).unwrap() == direct, "{policy:?}");
        // ... and taken as they are for their own records (then the chunk is one byte).
        let taken = KnownChunk {
            records: first,
            ..wrong
        };
        let staged = Staged::new(&input, &options, Some(&taken)).unwrap();
        assert!(
            staged.finish(19).unwrap().len() < direct.len(),
            "{policy:?}"
        );
        let (other_pc, other_mix) = codec.encode_chunk(second, 4, Scheme::Lean).unwrap();
        let right = KnownChunk {
            records: second,
            pc: other_pc,
            mix: other_mix,
        };
        let staged = Staged::new(&input, &options, Some(&right)).unwrap();
        assert!(staged.finish(19).unwrap() == direct, "{policy:?}");
    }
}

#[test]
fn pcmix_must_save_its_fraction_over_the_smallest_other_coding() {
    let mut rng = Rng::new(49);
    let lean = MixPolicy::AtMost {
        fraction: 0.97,
        scheme: Scheme::Lean,
    };
    // Only the payloads' sizes matter to the choice.
    let kept = |raw: &[u8], pc: usize, mix: usize| {
        mix_kept(raw, 1, (&vec![0; pc], &vec![0; mix]), lean, 19).unwrap()
    };
    // Random bytes: stored (4000 bytes) is the smallest other coding when pc is larger.
    let noise: Vec<u8> = (0..4000).map(|_| rng.next_u64() as u8).collect();
    assert!(kept(&noise, 5000, 3880));
    assert!(
        !kept(&noise, 5000, 3881),
        "78% of pc but above 97% of stored"
    );
    assert!(kept(&noise, 3000, 2910));
    assert!(!kept(&noise, 3000, 2911));
    // Four letters: zstd (about 2 bits a letter) is the coding to beat, not a larger pc.
    let dna: Vec<u8> = (0..4000).map(|_| b"ACGT"[rng.below(4) as usize]).collect();
    let zstd = zstd::bulk::compress(&dna, 19).unwrap().len();
    assert!(zstd < 1200, "{zstd}");
    assert!(kept(&dna, 3000, zstd * 97 / 100));
    assert!(
        !kept(&dna, 3000, zstd - 1),
        "below pc and zstd, but not by 3%"
    );
    assert!(!MixPolicy::Never.keeps(3000, 1));
}

/// A small English-like text (a sample of LLM-written programs, testdata/kt).
const TEXT: &[u8] = include_bytes!("../../testdata/kt/o1_mini_sample.jsonl");

#[test]
fn cm_chunks_are_kept_as_the_policy_says_and_need_version_7() {
    let codecs = |cm| {
        let options = CompressOptions {
            chunk_records: Some(4000),
            cm,
            ..Default::default()
        };
        let packed = round_trip(TEXT, &options, None);
        let parsed = parse(&packed, &Limits::default()).unwrap();
        let codecs: Vec<Codec> = parsed.header.chunks.iter().map(|ch| ch.codec).collect();
        (packed.clone(), parsed.header.version, codecs)
    };
    let cm = |max_bytes, fraction| {
        Some(CmPolicy {
            max_bytes,
            fraction,
        })
    };
    let (packed, version, with_cm) = codecs(cm(TEXT.len(), 0.97));
    assert_eq!((version, with_cm.as_slice()), (VERSION, &[Codec::Cm][..]));
    let zstd = codecs(None);
    assert_eq!((zstd.1, zstd.2.as_slice()), (VERSION_1, &[Codec::Zstd][..]));
    assert!(packed.len() < zstd.0.len());
    // A demand the saving cannot meet keeps zstd, and so does a chunk over the size cap.
    assert_eq!(codecs(cm(TEXT.len(), 0.1)).2, [Codec::Zstd]);
    assert_eq!(codecs(cm(TEXT.len() - 1, 1.0)).2, [Codec::Zstd]);
    let mut old = packed.clone();
    old[4..6].copy_from_slice(&VERSION_LEAN.to_le_bytes());
    let err = parse(&old, &Limits::default()).unwrap_err().to_string();
    assert!(err.contains("codec 6 needs version 7"), "{err}");
}
