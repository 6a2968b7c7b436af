//! Corrupt files (`testdata/invalid/`, listed with their expected error in its `MANIFEST.md`)
//! are refused by the command line with exit code 1 and one line naming the file, never a
//! panic; and a golden file cut at any byte is an error.
//!
//! The files are made from golden files by [`make`]; `PCZ_BLESS=1 cargo test --release --test
//! invalid` writes them again (only needed when a defect is added or a golden file changed).

use pcz::container::{self, Limits};
use pcz::Circuit;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use xxhash_rust::xxh3::xxh3_64;

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Where `Header_Checksum` of a valid container is: before the payloads and the content
/// checksum.
fn header_end(pcz: &[u8]) -> usize {
    let parsed = container::parse(pcz, &Limits::default()).expect("golden file parses");
    pcz.len() - 16 - parsed.payloads.iter().map(|p| p.len()).sum::<usize>()
}

/// A golden container with `edit` applied and its header checksum recomputed, so that the
/// defect is the only one.
fn edit_header(golden: &str, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = read(&format!("golden/{golden}"));
    let end = header_end(&b);
    edit(&mut b);
    let sum = xxh3_64(&b[..end]).to_le_bytes();
    b[end..end + 8].copy_from_slice(&sum);
    b
}

fn edit_bytes(golden: &str, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = read(&format!("golden/{golden}"));
    edit(&mut b);
    b
}

/// The golden model with `edit` applied and its checksum recomputed.
fn edit_model(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = read("golden/digits-m4.pcm");
    b.truncate(b.len() - 8);
    edit(&mut b);
    let sum = xxh3_64(&b).to_le_bytes();
    b.extend_from_slice(&sum);
    b
}

/// In `digits-m4.pcm` (D = 64): `Alphabet` at 16, `Nodes` at 16 + 2D, `Prior` at 16 + 10D.
const NODES: usize = 16 + 2 * 64;
const PRIOR: usize = 16 + 10 * 64;
/// In the digits-100 containers: `Model_Hash` after 28 fixed bytes, the 16-byte IDX prefix
/// and the two size fields; the embedded model file after its hash and size.
const MODEL_HASH: usize = 28 + 4 + 16 + 4;
const EMBEDDED_MODEL: usize = MODEL_HASH + 16 + 8;

/// The version-2 golden file with a compact model (D = 64: IDX prefix of 16 bytes); its
/// compact model starts after the model hash and size.
const COMPACT_GOLDEN: &str = "digits-1797.pcz";
const COMPACT: usize = EMBEDDED_MODEL;

/// The compact golden container with `edit` applied to its compact model, whose
/// `Model_Hash` and the `Header_Checksum` are recomputed, so that the defect is the only one.
fn edit_compact(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    edit_header(COMPACT_GOLDEN, |b| {
        edit(b);
        let size = u64::from_le_bytes(b[COMPACT - 8..COMPACT].try_into().expect("8")) as usize;
        let hash = xxhash_rust::xxh3::xxh3_128(&b[COMPACT..COMPACT + size]).to_le_bytes();
        b[MODEL_HASH..MODEL_HASH + 16].copy_from_slice(&hash);
    })
}

/// The version-3 golden file (PGM coded as residuals): its `Transform` section follows the
/// 28 fixed bytes, the 13-byte PGM header as prefix and the empty suffix.
const TRANSFORM_GOLDEN: &str = "camera-64.pgm.pcz";
const TRANSFORM: usize = 28 + 4 + 13 + 4;

/// An edit that overwrites bytes from `at` with `v`.
fn set(at: usize, v: &[u8]) -> impl FnOnce(&mut Vec<u8>) {
    let v = v.to_vec();
    move |b| b[at..at + v.len()].copy_from_slice(&v)
}

/// Makes the invalid file `name` from a golden file.
fn make(name: &str) -> Vec<u8> {
    let one = "one_byte.pcz";
    match name {
        "bad_magic.pcz" => edit_bytes(one, set(3, &[0])),
        "unknown_version.pcz" => edit_header(one, set(4, &[9])),
        "compact_flag_in_version_1.pcz" => edit_header(one, set(6, &[4])),
        "compact_bad_bits.pcz" => edit_compact(set(COMPACT + 6, &[17])),
        "compact_bad_shift.pcz" => edit_compact(set(COMPACT + 7, &[15])),
        "compact_dims_mismatch.pcz" => edit_compact(set(COMPACT + 2, &63u32.to_le_bytes())),
        "compact_stream_corrupt.pcz" => edit_compact(|b| b[COMPACT + 40] ^= 0x10),
        "compact_hash_mismatch.pcz" => edit_header(COMPACT_GOLDEN, |b| b[COMPACT + 40] ^= 0x10),
        "transform_flag_in_version_2.pcz" => edit_header(COMPACT_GOLDEN, set(6, &[12])),
        "transform_unknown_predictor.pcz" => edit_header(TRANSFORM_GOLDEN, set(TRANSFORM, &[7])),
        "transform_green_on_gray.pcz" => edit_header(TRANSFORM_GOLDEN, set(TRANSFORM, &[2])),
        "transform_bad_channels.pcz" => edit_header(TRANSFORM_GOLDEN, set(TRANSFORM + 5, &[5])),
        "reserved_flags.pcz" => edit_header(one, set(6, &[4])),
        "both_model_flags.pcz" => edit_header(one, set(6, &[3])),
        "record_size_zero.pcz" => edit_header(one, set(16, &[0])),
        "sizes_do_not_add_up.pcz" => edit_header(one, set(8, &[2])),
        "huge_original_size.pcz" => edit_header(one, set(8, &(1u64 << 40).to_le_bytes())),
        "unknown_codec.pcz" => edit_header(one, set(40, &[7])),
        "records_mismatch.pcz" => edit_header(one, set(41, &[2])),
        "chunk_count_overflow.pcz" => edit_header(one, set(36, &[0xff; 4])),
        "truncated_header.pcz" => edit_bytes(one, |b| b.truncate(30)),
        "header_checksum.pcz" => edit_bytes(one, |b| b[57] ^= 1),
        "content_checksum.pcz" => edit_bytes(one, |b| *b.last_mut().unwrap() ^= 1),
        "trailing_bytes.pcz" => edit_bytes(one, |b| b.push(0)),
        "chunk_checksum.pcz" => edit_bytes("seeded_random_1k.pcz", |b| b[500] ^= 1),
        "truncated_payload.pcz" => edit_bytes("seeded_random_1k.pcz", |b| b.truncate(900)),
        "zstd_chunk_corrupt.pcz" => edit_bytes("zeros_4k-v1.pcz", |b| b[80] ^= 0x40),
        "pc_chunk_corrupt.pcz" => edit_bytes("digits-100-m4-referenced.pcz", |b| b[1000] ^= 1),
        "referenced_model_mismatch.pcz" => {
            edit_header("digits-100-m4-referenced.pcz", |b| b[MODEL_HASH] ^= 1)
        }
        "model_hash_mismatch.pcz" => {
            edit_header("digits-100-m4-embedded.pcz", |b| b[MODEL_HASH] ^= 1)
        }
        "embedded_model_corrupt.pcz" => edit_header("digits-100-m4-embedded.pcz", |b| {
            b[EMBEDDED_MODEL + 999] ^= 1
        }),
        "model_bad_magic.pcm" => edit_model(set(0, b"X")),
        "model_unknown_version.pcm" => edit_model(set(4, &[9])),
        "model_reserved_flags.pcm" => edit_model(set(6, &[1])),
        "model_hidden_out_of_range.pcm" => edit_model(set(8, &0u32.to_le_bytes())),
        "model_alphabet_zero.pcm" => edit_model(set(16, &[0, 0])),
        "model_parent_not_earlier.pcm" => edit_model(set(NODES + 12, &5u32.to_le_bytes())),
        "model_non_preorder_tree.pcm" => non_preorder_model(),
        "model_negative_weight.pcm" => edit_model(|b| b[PRIOR + 3] |= 0x80),
        "model_parameter_size.pcm" => edit_model(|b| b.extend_from_slice(&[0; 4])),
        "model_truncated_header.pcm" => read("golden/digits-m4.pcm")[..20].to_vec(),
        "model_truncated.pcm" => read("golden/digits-m4.pcm")[..9000].to_vec(),
        "model_bitflip.pcm" => {
            let mut b = read("golden/digits-m4.pcm");
            b[5000] ^= 4;
            b
        }
        other => panic!("no recipe for {other}"),
    }
}

/// The golden model with one parent moved so that every parent still comes first but the
/// positions are no longer a depth-first pre-order (the first such move found).
fn non_preorder_model() -> Vec<u8> {
    for p in (2..64).rev() {
        for q in 0..p {
            let at = NODES + 8 * p + 4;
            let b = edit_model(|b| b[at..at + 4].copy_from_slice(&(q as u32).to_le_bytes()));
            if matches!(Circuit::from_bytes(&b), Err(e) if e.to_string().contains("pre-order")) {
                return b;
            }
        }
    }
    panic!("no non-pre-order move found")
}

/// One row of `testdata/invalid/MANIFEST.md`: file, made from, defect, kind, message.
struct Case {
    file: String,
    kind: String,
    message: String,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(testdata("invalid/MANIFEST.md")).expect("manifest");
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
            assert_eq!(cells.len(), 7, "{l}");
            Case {
                file: cells[1].to_string(),
                kind: cells[4].to_string(),
                message: cells[5].to_string(),
            }
        })
        .collect()
}

/// `pcz decompress` of a corrupt container, or of a golden container with a corrupt model.
fn decompress(path: &Path) -> Output {
    let golden_model = testdata("golden/digits-m4.pcm");
    let (file, model) = if path.extension().is_some_and(|e| e == "pcm") {
        (
            testdata("golden/digits-100-m4-referenced.pcz"),
            path.to_path_buf(),
        )
    } else {
        (path.to_path_buf(), golden_model)
    };
    Command::new(env!("CARGO_BIN_EXE_pcz"))
        .arg("decompress")
        .arg(&file)
        .arg("-c")
        .arg("--model")
        .arg(&model)
        .output()
        .expect("runs pcz")
}

/// Exit code 1, nothing on stdout, one line on stderr naming `path`; returns that line.
fn one_line_error(out: &Output, path: &Path) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
    assert!(out.stdout.is_empty(), "{}: wrote output", path.display());
    assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", path.display());
    assert!(stderr.starts_with("pcz: "), "{stderr}");
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    stderr.trim_end().to_string()
}

#[test]
fn invalid_files_give_their_expected_error() {
    let cases = cases();
    assert!(cases.len() >= 30);
    let bless = std::env::var_os("PCZ_BLESS").is_some();
    for case in &cases {
        let path = testdata(&format!("invalid/{}", case.file));
        if bless {
            std::fs::write(&path, make(&case.file)).expect("write invalid file");
        }
        let line = one_line_error(&decompress(&path), &path);
        let kind = match case.kind.as_str() {
            "format" => "invalid ",
            "unsupported" => "unsupported ",
            "limit" => "limit exceeded: ",
            "model" => "wrong model",
            other => panic!("{}: unknown kind {other}", case.file),
        };
        assert!(
            line.contains(kind) && line.contains(&case.message),
            "{}: expected {} error with {:?}, got {line:?}",
            case.file,
            case.kind,
            case.message
        );
    }
    let mut listed: Vec<_> = cases.iter().map(|c| c.file.as_str()).collect();
    listed.push("MANIFEST.md");
    listed.sort_unstable();
    let mut present: Vec<String> = std::fs::read_dir(testdata("invalid"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    present.sort_unstable();
    assert_eq!(listed, present, "files and MANIFEST.md differ");
}

#[test]
fn every_truncation_of_a_small_golden_file_is_an_error() {
    let golden = read("golden/one_byte.pcz");
    let tmp = tempfile::tempdir().expect("tmp");
    for len in 0..golden.len() {
        let path = tmp.path().join(format!("cut-{len}.pcz"));
        std::fs::write(&path, &golden[..len]).expect("write");
        one_line_error(&decompress(&path), &path);
    }
    for name in ["text_small.txt.pcz", "digits-100-m4-referenced.pcz"] {
        let golden = read(&format!("golden/{name}"));
        let model = Circuit::from_bytes(&read("golden/digits-m4.pcm")).expect("model");
        for len in 0..golden.len() {
            let result = container::parse(&golden[..len], &Limits::default())
                .and_then(|p| container::decompress(&p, Some(&model)));
            assert!(result.is_err(), "{name} cut to {len} bytes decoded");
        }
    }
}
