//! External-command generator: a long-running process speaking JSON lines. pcz writes one
//! request per line to its stdin — `{"id", "sequence", "prompt", "attempt", "feedback"}` —
//! and reads one response line — `{"program": "..."}` or `{"generation": "..."}` (a raw
//! answer; the program is extracted tolerantly). Each response must arrive within the
//! timeout. k samples per task keep the shortest correct program; repair rounds send back
//! the error or the first mismatch. Responses are cached by a hash of (command, request).

use super::RunConfig;
use crate::kt::parse::parse;
use crate::kt::python::run_python_subset;
use crate::kt::score::extract_tolerant;
use crate::kt::sha256::sha256_hex;
use crate::kt::tasks::Task;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// KT's prompt (paraphrased), with the sequence appended.
pub fn kt_prompt(seq: &[u8]) -> String {
    let list: Vec<String> = seq.iter().map(|b| b.to_string()).collect();
    format!(
        "Generate a program, as concise as possible, that reproduces the input sequence.\n### Instructions:\n\
         - Write a multi-line program; each line assigns a variable (KT DSL) or defines a function (Python).\n\
         - Exploit patterns in the sequence to minimise the length of the program.\n\
         - Assign the final result to `output`; no print or return.\n\
         - The code must run unmodified; do not wrap it in code fences.\n\
         - End your response with `###`.\n\n### Input Sequence:\n[{}]\n\n### Expected Output:\nThe program that generates the sequence is:",
        list.join(", ")
    )
}

/// A running external generator.
pub struct External {
    cmd: String,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    cfg: RunConfig,
}

impl Drop for External {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check(program: &str, seq: &[u8]) -> (Result<(), String>, &'static str, usize) {
    let want: Vec<i64> = seq.iter().map(|&b| b as i64).collect();
    let (out, lang) = match parse(program) {
        Ok(p) => (
            crate::kt::interp::run(&p, &Default::default()).map_err(|e| e.to_string()),
            "dsl",
        ),
        Err(pe) => match run_python_subset(program, 1_000_000, 4096) {
            Ok(o) => (Ok(o), "python"),
            Err(e) => (
                Err(format!(
                    "not a DSL program ({pe}) nor supported Python ({})",
                    e.0
                )),
                "python",
            ),
        },
    };
    match out {
        Err(e) => (Err(e), lang, 0),
        Ok(o) => {
            let k = o.iter().zip(&want).take_while(|(a, b)| a == b).count();
            if o == want {
                (Ok(()), lang, k)
            } else if k < o.len().min(want.len()) {
                (
                    Err(format!(
                        "first mismatch at index {k}: expected {}, got {}",
                        want[k], o[k]
                    )),
                    lang,
                    k,
                )
            } else {
                (
                    Err(format!(
                        "output has length {}, expected {}",
                        o.len(),
                        want.len()
                    )),
                    lang,
                    k,
                )
            }
        }
    }
}

impl External {
    /// Starts `cmd` (run through `sh -c`).
    pub fn new(cmd: &str, cfg: &RunConfig) -> Result<External, String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {cmd:?}: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        if let Some(dir) = &cfg.cache {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        Ok(External {
            cmd: cmd.into(),
            child,
            stdin,
            lines: rx,
            cfg: cfg.clone(),
        })
    }

    fn ask(&mut self, req: &serde_json::Value) -> Result<String, String> {
        let line = serde_json::to_string(req).expect("json");
        let key = sha256_hex(format!("{}\n{line}", self.cmd).as_bytes());
        if let Some(dir) = &self.cfg.cache {
            if let Ok(s) = std::fs::read_to_string(dir.join(&key)) {
                return Ok(s);
            }
        }
        writeln!(self.stdin, "{line}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("generator stdin: {e}"))?;
        let resp = self
            .lines
            .recv_timeout(Duration::from_secs(self.cfg.timeout_s))
            .map_err(|_| format!("generator gave no answer within {} s", self.cfg.timeout_s))?;
        let v: serde_json::Value = serde_json::from_str(&resp)
            .map_err(|e| format!("generator answer is not JSON: {e}"))?;
        let prog = match (
            v.get("program").and_then(|p| p.as_str()),
            v.get("generation").and_then(|g| g.as_str()),
        ) {
            (Some(p), _) => p.to_string(),
            (None, Some(g)) => extract_tolerant(g),
            _ => return Err("generator answer has neither `program` nor `generation`".into()),
        };
        if let Some(dir) = &self.cfg.cache {
            let _ = std::fs::write(dir.join(&key), &prog);
        }
        Ok(prog)
    }

    /// Solves one task: k samples, each with up to `repair` repair rounds. Returns the
    /// shortest correct program (else the literal), its language and the attempts made.
    pub fn solve(&mut self, t: &Task) -> Result<(String, String, usize), String> {
        let mut best: Option<(String, &'static str)> = None;
        let mut attempts = 0;
        for k in 0..self.cfg.samples.max(1) {
            let mut feedback: Option<String> = None;
            let mut last: Option<String> = None;
            for round in 0..=self.cfg.repair {
                attempts += 1;
                let req = serde_json::json!({
                    "id": t.id, "sequence": t.sequence, "prompt": kt_prompt(&t.sequence),
                    "sample": k, "round": round, "previous": last, "feedback": feedback,
                });
                let prog = self.ask(&req)?;
                let (res, lang, _) = check(&prog, &t.sequence);
                match res {
                    Ok(()) => {
                        if best.as_ref().is_none_or(|b| prog.len() < b.0.len()) {
                            best = Some((prog, lang));
                        }
                        break;
                    }
                    Err(e) => {
                        feedback = Some(e);
                        last = Some(prog);
                    }
                }
            }
        }
        Ok(match best {
            Some((p, l)) => (p, l.to_string(), attempts),
            None => (
                super::literal::literal(&t.sequence).to_text(),
                "dsl".into(),
                attempts,
            ),
        })
    }
}
