//! Image mode on the two bundled images (a 64x64 grey PGM and an 8x8 RGB PNG): pcz and
//! every in-process peer verified per image, image codecs fed each image at its shape and
//! colour type, absent programs as "not installed" rows, damage as failed round trips.

use std::path::PathBuf;

use super::external::{self, ImageView, ToolFinder};
use super::images::{self, ImageFile};
use super::pcz::SelfTrained;
use super::tests::{assert_failed, fake_tool, in_process, tampered};
use super::*;
use crate::auto::{self, AutoOptions};

fn bundled(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/images")
        .join(name)
}

fn two_images() -> (Vec<ImageFile>, Corpus) {
    let paths = [bundled("camera-64.pgm"), bundled("astronaut-rgb-8.png")];
    images::read(&paths)
        .unwrap()
        .expect("both files are images")
}

/// 64 x 64 grey + 8 x 8 RGB.
const SUBPIXELS: u64 = 64 * 64 + 8 * 8 * 3;

fn pcz() -> Peer {
    Peer {
        key: "pcz",
        availability: Availability::Ready(Box::new(SelfTrained::new(auto::DEFAULT_LEVEL))),
        per_record_skip: None,
    }
}

fn bench(peers: Vec<Peer>, corpus: &Corpus) -> Vec<Measurement> {
    run::run(peers, corpus, None, 1, |_| {}).unwrap()
}

fn external_peers(tools: &std::path::Path, keys: &[&str]) -> Vec<Peer> {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let finder = ToolFinder::from_path(tools);
    select(external::catalogue(&finder, ImageView::Files), &keys).unwrap()
}

#[test]
fn image_files_are_read_with_their_own_shapes() {
    let (files, corpus) = two_images();
    let names: Vec<&str> = files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["camera-64.pgm", "astronaut-rgb-8.png"]);
    assert_eq!(corpus.images(), [files[0].shape, files[1].shape]);
    assert_eq!((files[1].shape.width, files[1].shape.channels), (8, 3));
    assert_eq!(corpus.bytes().len() as u64, SUBPIXELS);
    assert_eq!(
        images::summary(&files),
        "2 images (1 grey, 1 RGB), 4288 subpixels"
    );
    let not_image = bundled("../digits/digits-images-idx3-ubyte.gz");
    assert!(images::read(&[bundled("camera-64.pgm"), not_image])
        .unwrap()
        .is_none());
}

#[test]
fn pcz_and_every_in_process_peer_round_trip_each_image() {
    let (_, corpus) = two_images();
    let mut peers = vec![pcz()];
    peers.extend(peers::catalogue(None).unwrap());
    peers.extend(external_peers(
        &std::env::temp_dir().join("no-such-dir"),
        &[],
    ));
    let rows = bench(peers, &corpus);
    assert_eq!(rows.len(), 1 + 8 + 5, "one row per peer: per image only");
    let (measured, external) = rows.split_at(9);
    let (dict, measured): (Vec<_>, Vec<_>) =
        measured.iter().partition(|r| r.compressor.contains("dict"));
    assert_eq!(dict[0].status, Status::Skipped, "no training split");
    for row in measured {
        assert_eq!(
            (row.status, row.variant),
            (Status::Verified, Variant::PerRecord),
            "{row:?}"
        );
        assert_eq!(row.input_bytes, SUBPIXELS);
        assert_eq!(row.image_bytes.len(), 2, "{row:?}");
        assert_eq!(
            row.image_bytes.iter().sum::<u64>(),
            row.output_bytes.unwrap()
        );
    }
    for row in external {
        assert_eq!(row.status, Status::NotInstalled, "{row:?}");
        assert!(row.detail.contains("not on PATH"), "{row:?}");
    }
    assert!(
        external.iter().any(|r| r.compressor == "zpaq -m5"),
        "not skipped per image"
    );
    // pcz's sizes are those of `pcz compress camera-64.pgm` and of the PNG's pixels as
    // `pcz compress --pixels` codes them.
    let camera = std::fs::read(bundled("camera-64.pgm")).unwrap();
    let png = std::fs::read(bundled("astronaut-rgb-8.png")).unwrap();
    let pixels = crate::data::png::png_to_pnm(&png, 1 << 20).unwrap();
    let options = AutoOptions {
        png_pixels: true,
        ..Default::default()
    };
    let expected = [
        auto::compress(&camera, &AutoOptions::default(), &mut |_| {}),
        auto::compress(&pixels, &options, &mut |_| {}),
    ]
    .map(|o| o.unwrap().packed.len() as u64);
    assert_eq!(rows[0].image_bytes, expected);
    assert!(rows[0].compressor.starts_with("pcz"));
}

#[test]
fn image_codecs_get_each_image_at_its_shape_and_colour_type() {
    // Stand-ins that store their input as is: the decoded file must come back as an image
    // of the same size and channels, or the row fails.
    let tools = tempfile::tempdir().unwrap();
    fake_tool(tools.path(), "cjxl", r#"cp "$1" "$2""#);
    fake_tool(tools.path(), "djxl", r#"cp "$1" "$2""#);
    fake_tool(tools.path(), "optipng", "cp in.png out.png");
    let (_, corpus) = two_images();
    let rows = bench(
        external_peers(tools.path(), &["cjxl-7", "optipng"]),
        &corpus,
    );
    for row in &rows {
        assert_eq!(row.status, Status::Verified, "{row:?}");
    }
    // A PGM of 64x64 and a PPM of 8x8: 13- and 11-byte headers.
    assert_eq!(rows[0].image_bytes, [13 + 64 * 64, 11 + 8 * 8 * 3]);

    fake_tool(
        tools.path(),
        "djxl",
        r#"printf 'P5\n8 8\n255\n' > "$2"; head -c 64 /dev/zero >> "$2""#,
    );
    let rows = bench(external_peers(tools.path(), &["cjxl-9"]), &corpus);
    assert_failed(&rows[0], "8x8 where 64x64 was encoded");
}

#[test]
fn a_damaged_image_is_a_failed_round_trip() {
    let (_, corpus) = two_images();
    let mut peers = vec![tampered(pcz(), true)];
    peers.extend(in_process(&["xz"]).into_iter().map(|p| tampered(p, false)));
    let rows = bench(peers, &corpus);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.status, Status::Failed, "{row:?}");
        assert!(row.output_bytes.is_none() && row.image_bytes.is_empty());
    }
    assert_failed(&rows[1], "differs from the input at byte");
}
