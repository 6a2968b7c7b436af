//! Golden files (`testdata/golden/`, listed in its `MANIFEST.md`): every committed `.pcz`
//! decodes to its input forever, and the current encoder reproduces it byte for byte.
//!
//! Files of older format versions, which the encoder no longer writes, are listed with the
//! compress options `frozen`: they are only decoded.
//!
//! A change of encoder output fails here on purpose. When it is intended, re-bless:
//! `PCZ_BLESS=1 cargo test --release --test golden` rewrites the `.pcz` files whose encoding
//! changed, the manifest and the expected `inspect` output (never the inputs), after checking
//! that the old files still decode. Say why in the commit message.

use std::path::{Path, PathBuf};
use std::process::Command;
use xxhash_rust::xxh3::xxh3_64;

/// The compress options of a golden file the encoder no longer writes (an older version):
/// it is only decoded.
const FROZEN: &str = "frozen";

const BLESS: &str = "re-bless on purpose with `PCZ_BLESS=1 cargo test --release --test golden` \
                     and give the reason in the commit message";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/golden")
}

fn blessing() -> bool {
    std::env::var_os("PCZ_BLESS").is_some()
}

/// Runs `pcz` in `testdata/golden` (so model names stay relative) and returns stdout.
fn pcz(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_pcz"))
        .current_dir(golden_dir())
        .args(args)
        .output()
        .expect("runs pcz");
    assert!(
        out.status.success(),
        "pcz {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// One row of the manifest.
struct Golden {
    name: String,
    input: String,
    compress: String,
    decompress: String,
    comment: String,
}

/// The manifest: the prose before the table, and its rows.
fn manifest() -> (String, Vec<Golden>) {
    let text = std::fs::read_to_string(golden_dir().join("MANIFEST.md")).expect("manifest");
    let (intro, table) = text.split_at(text.find("\n|").expect("a table") + 1);
    let rows = table
        .lines()
        .skip(2)
        .map(|line| {
            let cells: Vec<String> = line
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect();
            assert_eq!(cells.len(), 8, "manifest row {line}");
            Golden {
                name: cells[0].clone(),
                input: cells[1].clone(),
                compress: cells[2].clone(),
                decompress: cells[3].clone(),
                comment: cells[4].clone(),
            }
        })
        .collect();
    (intro.to_string(), rows)
}

/// The manifest as it must read for the current files.
fn render_manifest(intro: &str, rows: &[Golden]) -> String {
    let mut text = intro.to_string();
    text.push_str("| file | input | compress options | decompress options | comment | input XXH3-64 | bytes | XXH3-64 |\n");
    text.push_str("|---|---|---|---|---|---|---|---|\n");
    let code = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            format!("`{s}`")
        }
    };
    for g in rows {
        let packed = std::fs::read(golden_dir().join(&g.name)).expect("golden file");
        text.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {:016x} | {} | {:016x} |\n",
            g.name,
            g.input,
            code(&g.compress),
            code(&g.decompress),
            g.comment,
            xxh3_64(&input_bytes(&g.input)),
            packed.len(),
            xxh3_64(&packed),
        ));
    }
    text
}

/// The input bytes: a file in `testdata/golden`, or a gzipped file elsewhere in `testdata`.
fn input_bytes(input: &str) -> Vec<u8> {
    let bytes = std::fs::read(golden_dir().join(input)).expect("golden input");
    if !input.ends_with(".gz") {
        return bytes;
    }
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut raw)
        .expect("gunzip");
    raw
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Compresses the input with the current build; returns the `.pcz` bytes.
fn encode(g: &Golden, tmp: &Path) -> Vec<u8> {
    let input = tmp.join(format!("{}.in", g.name));
    std::fs::write(&input, input_bytes(&g.input)).expect("write input");
    let input = input.to_str().expect("utf8 path");
    let mut args = vec!["compress", "-q", input, "-c"];
    args.extend(words(&g.compress));
    pcz(&args)
}

fn decode(g: &Golden) -> Vec<u8> {
    let mut args = vec!["decompress", "-q", g.name.as_str(), "-c"];
    args.extend(words(&g.decompress));
    pcz(&args)
}

#[test]
fn golden_files_decode_and_encode_exactly() {
    let (intro, rows) = manifest();
    assert!(rows.len() >= 8);
    let tmp = tempfile::tempdir().expect("tmp");
    for g in &rows {
        let input = input_bytes(&g.input);
        let path = golden_dir().join(&g.name);
        let committed = std::fs::read(&path).ok();
        assert!(
            committed.is_some() || blessing(),
            "{}: missing; {BLESS}",
            g.name
        );
        if committed.is_some() {
            assert!(
                decode(g) == input,
                "{}: does not decode to its input",
                g.name
            );
        }
        if g.compress == FROZEN {
            assert!(
                committed.is_some(),
                "{}: a frozen file cannot be blessed",
                g.name
            );
            continue;
        }
        let encoded = encode(g, tmp.path());
        if committed.as_ref() != Some(&encoded) {
            assert!(
                blessing(),
                "{}: the encoder's output changed ({} bytes now); {BLESS}",
                g.name,
                encoded.len()
            );
            std::fs::write(&path, &encoded).expect("bless");
            assert!(decode(g) == input, "{}: new file does not decode", g.name);
        }
    }
    let path = golden_dir().join("MANIFEST.md");
    let expected = render_manifest(&intro, &rows);
    if blessing() {
        std::fs::write(&path, &expected).expect("bless manifest");
    }
    let actual = std::fs::read_to_string(&path).expect("manifest");
    assert!(
        actual == expected,
        "testdata/golden/MANIFEST.md does not match the files; {BLESS}"
    );
}

#[test]
fn inspect_json_is_stable() {
    let file = "digits-100-m4-embedded.pcz";
    let expected_path = golden_dir().join(format!("{file}.inspect.json"));
    let out = pcz(&["inspect", "--json", file]);
    if blessing() {
        std::fs::write(&expected_path, &out).expect("bless");
    }
    let expected = std::fs::read(&expected_path).expect("expected inspect output");
    assert!(
        out == expected,
        "`pcz inspect --json {file}` changed:\n{}\n{BLESS}",
        String::from_utf8_lossy(&out)
    );
}

/// The annotated hex dumps of format-spec/examples.md are exactly the golden files they name.
#[test]
fn examples_md_matches_golden_files() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("format-spec/examples.md");
    let text = std::fs::read_to_string(path).expect("examples.md");
    let mut checked = 0;
    for section in text.split("\n### ").skip(1) {
        let Some(name) = section
            .lines()
            .next()
            .and_then(|h| h.strip_prefix("`testdata/golden/"))
            .and_then(|h| h.strip_suffix('`'))
        else {
            continue;
        };
        // Table rows: | offset | bytes | field | meaning |; the bytes column is hex pairs.
        let dump: Vec<u8> = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| offset"))
            .flat_map(|l| words(l.split('|').nth(2).expect("bytes column")))
            .map(|h| u8::from_str_radix(h, 16).unwrap_or_else(|_| panic!("{name}: {h}")))
            .collect();
        let golden = std::fs::read(golden_dir().join(name)).expect("golden file");
        assert!(
            dump == golden,
            "examples.md: {name} differs from the golden file"
        );
        checked += 1;
    }
    assert!(checked >= 2);
}
