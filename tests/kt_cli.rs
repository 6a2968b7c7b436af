//! End-to-end tests of `pcz kt`.

use std::process::Command;

fn pcz(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pcz"))
        .args(args)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "pcz {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn sample_run_score_is_deterministic() {
    let d = tempfile::tempdir().expect("tmp");
    let p = |n: &str| d.path().join(n).to_str().expect("utf8").to_string();
    for name in ["s.jsonl", "s2.jsonl"] {
        pcz(&[
            "kt",
            "sample",
            "--count",
            "60",
            "--seed",
            "5",
            "-o",
            &p(name),
        ]);
    }
    assert_eq!(
        std::fs::read(p("s.jsonl")).unwrap(),
        std::fs::read(p("s2.jsonl")).unwrap()
    );
    let run = [
        "kt",
        "run",
        "--generator",
        "search",
        "--tasks",
        &p("s.jsonl"),
    ];
    pcz(&[&run[..], &["-o", &p("a.jsonl"), "--summary", &p("sum")]].concat());
    pcz(&[&run[..], &["-o", &p("b.jsonl")]].concat());
    assert_eq!(
        std::fs::read(p("a.jsonl")).unwrap(),
        std::fs::read(p("b.jsonl")).unwrap()
    );
    assert!(std::fs::metadata(p("sum.md")).is_ok() && std::fs::metadata(p("sum.json")).is_ok());
    let js: serde_json::Value =
        serde_json::from_str(&pcz(&["kt", "score", &p("a.jsonl"), "--json"])).expect("json");
    assert_eq!(js["report"]["all"]["accuracy"], 1.0);
    assert_eq!(js["report"]["variant"], "corrected");
    assert!(
        js["report"]["all"]["overall_rate"].as_f64().unwrap()
            <= js["report"]["all"]["fallback_rate"].as_f64().unwrap() + 0.01
    );
}

#[test]
fn tasks_from_text_and_wav() {
    let d = tempfile::tempdir().expect("tmp");
    let txt = d.path().join("t.txt");
    std::fs::write(&txt, b"hello world, hello world, hello world!").unwrap();
    let out = d.path().join("t.jsonl");
    pcz(&[
        "kt",
        "tasks",
        "--from",
        txt.to_str().unwrap(),
        "--length",
        "8",
        "-o",
        out.to_str().unwrap(),
    ]);
    let s = std::fs::read_to_string(&out).unwrap();
    assert_eq!(s.lines().count(), 4);
    // A 4-sample 16-bit WAV.
    let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&[1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]);
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&8u32.to_le_bytes());
    for s in [1i16, -1, 256, -256] {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    let w = d.path().join("a.wav");
    std::fs::write(&w, &wav).unwrap();
    pcz(&[
        "kt",
        "tasks",
        "--from",
        w.to_str().unwrap(),
        "--audio",
        "int8",
        "--length",
        "4",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("[0,255,1,255]"));
}

#[test]
fn external_generator_with_repair() {
    let d = tempfile::tempdir().expect("tmp");
    let tasks = d.path().join("t.jsonl");
    std::fs::write(
        &tasks,
        "{\"id\":\"x\",\"modality\":\"synthetic\",\"sequence\":[1,2,3]}\n",
    )
    .unwrap();
    // First answer is wrong; once feedback arrives, answer correctly (in Python).
    let script = d.path().join("gen.sh");
    std::fs::write(
        &script,
        "while read line; do\n  case \"$line\" in\n    *'\"feedback\":null'*) printf '%s\\n' '{\"program\":\"a = range_func_up(1, 4)\\noutput = a\"}' ;;\n    *) printf '%s\\n' '{\"generation\":\"```python\\noutput = [1, 2, 3]\\n```\\n###\"}' ;;\n  esac\ndone\n",
    )
    .unwrap();
    let out = d.path().join("p.jsonl");
    let cmd = format!("cmd:sh {}", script.display());
    pcz(&[
        "kt",
        "run",
        "--generator",
        &cmd,
        "--tasks",
        tasks.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--repair",
        "1",
        "--timeout",
        "20",
    ]);
    let s = std::fs::read_to_string(&out).unwrap();
    assert!(s.contains("output = [1, 2, 3]"), "{s}");
    assert!(s.contains("\"attempts\":2"), "{s}");
}
