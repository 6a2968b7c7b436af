//! Parser for the DSL's `name = primitive(args)` line syntax. `#` starts a comment (KT's
//! generator appends each line's value as one); blank lines are skipped; the last
//! statement must be `output = name` (or `output = primitive(args)`).

use super::dsl::{Arg, Line, Op, Pred, Program, Slot};
use std::collections::HashMap;

/// A parse error with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0: the program as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Most lines and list-literal elements a program may have (keeps hostile input bounded).
pub const MAX_LINES: usize = 4096;

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn split_args(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in s.char_indices() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = s[start..].trim();
    if !(last.is_empty() && out.is_empty()) {
        out.push(last);
    }
    out
}

fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() || t.len() > 20 {
        return None;
    }
    t.parse::<i64>().ok()
}

/// Parses a program.
pub fn parse(text: &str) -> Result<Program, ParseError> {
    let mut names: Vec<String> = Vec::new();
    let mut lines: Vec<Line> = Vec::new();
    let mut scope: HashMap<String, usize> = HashMap::new();
    let mut output: Option<usize> = None;
    for (ln0, raw) in text.lines().enumerate() {
        let ln = ln0 + 1;
        let err = |m: String| ParseError {
            line: ln,
            message: m,
        };
        let code = raw.split('#').next().unwrap_or("").trim();
        if code.is_empty() {
            continue;
        }
        if output.is_some() {
            return Err(err("statement after `output`".into()));
        }
        if lines.len() >= MAX_LINES {
            return Err(err(format!("more than {MAX_LINES} lines")));
        }
        let (lhs, rhs) = code
            .split_once('=')
            .ok_or_else(|| err("expected `name = primitive(args)`".into()))?;
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        if !is_ident(lhs) {
            return Err(err(format!("bad variable name {lhs:?}")));
        }
        if lhs == "output" && is_ident(rhs) {
            let v = *scope
                .get(rhs)
                .ok_or_else(|| err(format!("undefined variable {rhs:?}")))?;
            output = Some(v);
            continue;
        }
        let open = rhs
            .find('(')
            .ok_or_else(|| err("expected a call `primitive(args)`".into()))?;
        if !rhs.ends_with(')') {
            return Err(err("call does not end with `)`".into()));
        }
        let fname = rhs[..open].trim();
        let op = Op::from_name(fname).ok_or_else(|| err(format!("unknown primitive {fname:?}")))?;
        let inner = &rhs[open + 1..rhs.len() - 1];
        let parts = split_args(inner);
        let slots = op.slots();
        let arity_ok = if op.variadic() {
            !parts.is_empty()
        } else {
            parts.len() == slots.len()
        };
        if !arity_ok {
            return Err(err(format!(
                "{} takes {} argument(s), got {}",
                op.name(),
                if op.variadic() {
                    "1 or more".to_string()
                } else {
                    slots.len().to_string()
                },
                parts.len()
            )));
        }
        let mut args = Vec::with_capacity(parts.len());
        for (k, p) in parts.iter().enumerate() {
            let slot = if op.variadic() { Slot::Var } else { slots[k] };
            let a = match slot {
                Slot::Var => Arg::Var(
                    *scope
                        .get(*p)
                        .ok_or_else(|| err(format!("undefined variable {p:?}")))?,
                ),
                Slot::Int | Slot::Small => Arg::Int(
                    parse_int(p).ok_or_else(|| err(format!("expected an integer, got {p:?}")))?,
                ),
                Slot::Pred => Arg::Pred(
                    Pred::from_name(p).ok_or_else(|| err(format!("unknown predicate {p:?}")))?,
                ),
                Slot::List => {
                    let t = p.trim();
                    if !(t.starts_with('[') && t.ends_with(']')) {
                        return Err(err(format!("expected a list literal, got {p:?}")));
                    }
                    let body = &t[1..t.len() - 1];
                    let items = split_args(body);
                    let items: Vec<&str> = match items.last() {
                        Some(s) if s.is_empty() && items.len() > 1 => {
                            items[..items.len() - 1].to_vec()
                        }
                        _ => items,
                    };
                    let mut xs = Vec::with_capacity(items.len());
                    for it in items {
                        xs.push(
                            parse_int(it).ok_or_else(|| err(format!("bad list element {it:?}")))?,
                        );
                    }
                    Arg::List(xs)
                }
            };
            args.push(a);
        }
        let idx = lines.len();
        lines.push(Line { op, args });
        names.push(lhs.to_string());
        scope.insert(lhs.to_string(), idx);
        if lhs == "output" {
            output = Some(idx);
        }
    }
    let output = output.ok_or(ParseError {
        line: 0,
        message: "no `output = ...` line".into(),
    })?;
    Ok(Program {
        names,
        lines,
        output,
    })
}
