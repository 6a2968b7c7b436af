//! `pcz compress` with no model: layout detection, self-training, and the fallback, end to
//! end through the binary and through the library.

use pcz::auto::{self, AutoOptions, Kind};
use pcz::container::{self, Codec, Limits, Model, Transform};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

fn pcz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pcz"))
        .args(args)
        .output()
        .expect("runs")
}

fn ok(args: &[&str]) -> String {
    let out = pcz(args);
    assert!(
        out.status.success(),
        "pcz {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn fixture(path: &str) -> Vec<u8> {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture");
    if !path.ends_with(".gz") {
        return bytes;
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// A 16-bit mono PCM WAV: a slow sine plus a little noise.
fn wav(samples: usize) -> Vec<u8> {
    let jitter = noise(samples, 9);
    let data: Vec<u8> = (0..samples)
        .flat_map(|i| {
            let s = (8000.0 * (i as f64 * 0.05).sin()) as i16 + i16::from(jitter[i] % 16);
            s.to_le_bytes()
        })
        .collect();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(b"\x02\0\x10\0data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

fn text() -> Vec<u8> {
    let words = [
        "the ",
        "circuit ",
        "codes ",
        "every ",
        "record ",
        "exactly, ",
        "and\n",
    ];
    let picks = noise(6000, 3);
    picks
        .iter()
        .flat_map(|&p| words[p as usize % words.len()].bytes())
        .collect()
}

fn fasta() -> Vec<u8> {
    let mut out = b">synthetic sequence\n".to_vec();
    for line in noise(60 * 300, 5).chunks(60) {
        out.extend(line.iter().map(|&b| b"ACGT"[b as usize % 4]));
        out.push(b'\n');
    }
    out
}

/// A 32 x 32 crop of the bundled camera photo as an 8-bit gray PNG (default deflate).
fn gray_png() -> Vec<u8> {
    let pgm = fixture("testdata/images/camera-64.pgm");
    let pixels: Vec<u8> = pgm[pgm.len() - 64 * 64..]
        .chunks(64)
        .take(32)
        .flat_map(|row| &row[..32])
        .copied()
        .collect();
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &pixels,
        32,
        32,
        image::ExtendedColorType::L8,
    )
    .expect("png");
    png
}

/// Every kind of input, with the kind detection should report.
fn cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "mnist.idx",
            fixture("testdata/mnist/test-200-idx3-ubyte.gz"),
            "idx",
        ),
        (
            "digits.idx",
            fixture("testdata/digits/digits-images-idx3-ubyte.gz"),
            "idx",
        ),
        (
            "camera.pgm",
            fixture("testdata/images/camera-64.pgm"),
            "pnm",
        ),
        (
            "digit.pgm",
            fixture("testdata/images/digits/digit-0.pgm"),
            "pnm",
        ),
        ("gray.png", gray_png(), "bytes"),
        (
            "astronaut.png",
            fixture("testdata/images/astronaut-rgb-8.png"),
            "bytes",
        ),
        ("sound.wav", wav(6000), "wav"),
        ("words.txt", text(), "bytes"),
        ("seq.fa", fasta(), "bytes"),
        ("random.bin", noise(50_000, 11), "bytes"),
        ("zeros.bin", vec![0; 50_000], "bytes"),
        ("empty.bin", Vec::new(), "bytes"),
        ("one.bin", vec![42], "bytes"),
    ]
}

#[test]
fn every_kind_round_trips_through_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, bytes, kind) in cases() {
        let input = dir.path().join(name);
        std::fs::write(&input, &bytes).expect("write");
        let packed = dir.path().join(format!("{name}.pcz"));
        let restored = dir.path().join(format!("{name}.out"));
        let (i, p, r) = (
            input.to_str().expect("utf8"),
            packed.to_str().expect("utf8"),
            restored.to_str().expect("utf8"),
        );
        let json: serde_json::Value =
            serde_json::from_str(&ok(&["compress", "-q", "--json", i, "-o", p])).expect("json");
        assert_eq!(json["auto"]["kind"], kind, "{name}");
        ok(&["decompress", "-q", p, "-o", r]);
        assert_eq!(std::fs::read(&restored).expect("read"), bytes, "{name}");
    }
}

#[test]
fn the_circuit_codes_the_digits_idx_and_beats_zstd() {
    let bytes = fixture("testdata/digits/digits-images-idx3-ubyte.gz");
    let outcome = auto::compress(&bytes, &AutoOptions::default(), &mut |_| {}).expect("ok");
    assert_eq!((outcome.kind, outcome.prefix_len), (Kind::Idx, 16));
    let parsed = container::parse(&outcome.packed, &Limits::default()).expect("parse");
    assert!(matches!(parsed.header.model, Model::Compact { .. }));
    assert!(parsed
        .header
        .chunks
        .iter()
        .any(|c| matches!(c.codec, Codec::Pc | Codec::Pcmix3)));
    let zstd = zstd::bulk::compress(&bytes, 19).expect("zstd").len();
    assert!(
        outcome.packed.len() < zstd,
        "{} vs zstd -19 {zstd}",
        outcome.packed.len()
    );
    assert_eq!(container::decompress(&parsed, None).expect("decode"), bytes);
}

#[test]
fn random_bytes_cost_a_small_constant_and_no_model() {
    let bytes = noise(200_000, 21);
    let mut notes = Vec::new();
    let outcome =
        auto::compress(&bytes, &AutoOptions::default(), &mut |m| notes.push(m)).expect("ok");
    assert!(outcome.model.is_none());
    // Neither the circuit nor zstd finds anything: the pcmix sample is not even tried.
    assert!(notes.iter().all(|m| !m.contains("pcmix")), "{notes:?}");
    assert!(
        outcome.packed.len() <= bytes.len() + 128,
        "{} bytes for {} random bytes",
        outcome.packed.len(),
        bytes.len()
    );
}

#[test]
fn forced_record_size_is_used_and_round_trips() {
    let bytes = wav(3000);
    let options = AutoOptions {
        level: 1,
        record_size: Some(6),
        ..Default::default()
    };
    let outcome = auto::compress(&bytes, &options, &mut |_| {}).expect("ok");
    assert_eq!((outcome.kind, outcome.prefix_len), (Kind::Wav, 44));
    let parsed = container::parse(&outcome.packed, &Limits::default()).expect("parse");
    assert_eq!(parsed.header.record_size, 6);
    assert_eq!(container::decompress(&parsed, None).expect("decode"), bytes);
}

#[test]
fn bad_options_are_usage_errors_that_say_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("x.bin");
    std::fs::write(&input, b"abc").expect("write");
    let i = input.to_str().expect("utf8");
    let out = pcz(&["compress", "--level", "10", i, "-c"]);
    assert_eq!(out.status.code(), Some(2));
    let out = pcz(&["compress", "--record-size", "0", i, "-c"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'--record-size <D>'"), "{err}");
    for args in [
        &["train", "--record-size", "0", i, "-o", "m.pcm"][..],
        &["eval", "--record-size", "0", "m.pcm", i],
        &["bench", "--record-size", "0", i],
    ] {
        let out = pcz(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("'--record-size <D>'"), "{args:?}: {err}");
    }
    let out = pcz(&["compress", "--level", "3", "--model", "m.pcm", i, "-c"]);
    assert_eq!(out.status.code(), Some(2), "--level needs self-training");
}

#[test]
fn photographs_are_coded_as_residuals() {
    let photo = fixture("testdata/images/camera-64.pgm");
    let outcome = auto::compress(&photo, &AutoOptions::default(), &mut |_| {}).expect("ok");
    assert_eq!(
        outcome.transform,
        Some(Transform::med(64, 1, false).expect("shape"))
    );
    let parsed = container::parse(&outcome.packed, &Limits::default()).expect("parse");
    assert_eq!(parsed.header.transform, outcome.transform);
    assert_eq!(container::decompress(&parsed, None).expect("decode"), photo);
}

/// The codecs of the chunks `auto::compress` writes for `bytes` at `level`.
fn codecs_at(bytes: &[u8], level: u8) -> Vec<Codec> {
    let options = AutoOptions {
        level,
        ..Default::default()
    };
    let outcome = auto::compress(bytes, &options, &mut |_| {}).expect("ok");
    let parsed = container::parse(&outcome.packed, &Limits::default()).expect("parse");
    assert_eq!(container::decompress(&parsed, None).expect("decode"), bytes);
    parsed.header.chunks.iter().map(|c| c.codec).collect()
}

#[test]
fn the_level_decides_when_pcmix_may_be_used() {
    // On the digits pcmix saves far more than 3%: level 3 takes it (the lean scheme),
    // levels 1-2 never do.
    let digits = fixture("testdata/digits/digits-images-idx3-ubyte.gz");
    let mixed = |codecs: Vec<Codec>| -> Vec<Codec> {
        codecs
            .into_iter()
            .filter(|c| c.scheme().is_some())
            .collect()
    };
    let level3 = mixed(codecs_at(&digits, 3));
    assert!(!level3.is_empty() && level3.iter().all(|&c| c == Codec::Pcmix3));
    assert_eq!(mixed(codecs_at(&digits, 2)), vec![]);
    // Level 7 takes the full mode-first scheme wherever it is smaller.
    let level7 = mixed(codecs_at(&digits, 7));
    assert!(!level7.is_empty() && level7.iter().all(|&c| c == Codec::Pcmix2));
    // On the small photograph pcmix saves under 3%: level 3 keeps pc (and does not try
    // cm on a detected image). At level 7 the byte-stream cm codec, smaller than any
    // circuit file there (its model costs bytes), takes the whole file.
    let camera = fixture("testdata/images/camera-64.pgm");
    assert_eq!(codecs_at(&camera, 3), vec![Codec::Pc]);
    assert_eq!(codecs_at(&camera, 7), vec![Codec::Cm]);
}
