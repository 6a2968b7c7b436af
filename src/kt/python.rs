//! A tiny, safe evaluator for the Python that LLMs write for KT: assignments (also tuple
//! unpacking), string/int/list literals, `+`, `*`, indexing and slicing, list comprehensions,
//! `lambda`, one-line `def f(x): return ...`, and the builtins `ord`, `chr`, `list`, `map`,
//! `range`, `len`, `str.encode`, `str.join`. No I/O, no imports, no attributes beyond those:
//! anything else is "not translatable" (not run). Every operation spends fuel and every value
//! is size-checked, so hostile input stops with an error.
//!
//! Real Python is never run here; see the CLI's `--python` option for the sandboxed path.

use std::collections::HashMap;
use std::rc::Rc;

/// Why a Python program could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyError(pub String);

fn e<T>(s: impl Into<String>) -> Result<T, PyError> {
    Err(PyError(s.into()))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Str(Vec<char>),
    Bytes(Vec<u8>),
    Name(String),
    Op(&'static str),
    Newline,
}

const OPS: [&str; 14] = [
    "**", "(", ")", "[", "]", ",", ":", "=", ".", "+", "*", "-", ";", "%",
];

fn lex(src: &str) -> Result<Vec<Tok>, PyError> {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut depth = 0i32;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch == '#' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if ch == '\\' && c.get(i + 1) == Some(&'\n') {
            i += 2;
            continue;
        }
        if ch == '\n' {
            if depth == 0 && !matches!(out.last(), Some(Tok::Newline) | None) {
                out.push(Tok::Newline);
            }
            i += 1;
            continue;
        }
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch.is_ascii_digit() {
            let s = i;
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '_') {
                i += 1;
            }
            let t: String = c[s..i].iter().filter(|&&x| x != '_').collect();
            out.push(Tok::Int(
                t.parse()
                    .map_err(|_| PyError("integer literal too large".into()))?,
            ));
            continue;
        }
        if ch.is_alphabetic() || ch == '_' {
            let s = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let name: String = c[s..i].iter().collect();
            let lower = name.to_ascii_lowercase();
            if i < c.len()
                && (c[i] == '\'' || c[i] == '"')
                && matches!(lower.as_str(), "r" | "b" | "u" | "br" | "rb")
            {
                let raw = lower.contains('r');
                let (s, ni) = lex_str(&c, i, raw)?;
                i = ni;
                if lower.contains('b') {
                    if s.iter().any(|&x| x as u32 > 255) {
                        return e("non-byte in bytes literal");
                    }
                    out.push(Tok::Bytes(s.iter().map(|&x| x as u32 as u8).collect()));
                } else {
                    out.push(Tok::Str(s));
                }
                continue;
            }
            out.push(Tok::Name(name));
            continue;
        }
        if ch == '\'' || ch == '"' {
            let (s, ni) = lex_str(&c, i, false)?;
            i = ni;
            out.push(Tok::Str(s));
            continue;
        }
        let mut matched = false;
        for op in OPS {
            let oc: Vec<char> = op.chars().collect();
            if c[i..].starts_with(&oc) {
                match op {
                    "(" | "[" => depth += 1,
                    ")" | "]" => depth -= 1,
                    _ => {}
                }
                out.push(Tok::Op(op));
                i += oc.len();
                matched = true;
                break;
            }
        }
        if !matched {
            return e(format!("unsupported character {ch:?}"));
        }
    }
    out.push(Tok::Newline);
    Ok(out)
}

fn lex_str(c: &[char], mut i: usize, raw: bool) -> Result<(Vec<char>, usize), PyError> {
    let q = c[i];
    let triple = c.get(i + 1) == Some(&q) && c.get(i + 2) == Some(&q);
    i += if triple { 3 } else { 1 };
    let mut s = Vec::new();
    loop {
        let Some(&ch) = c.get(i) else {
            return e("unterminated string");
        };
        if triple {
            if ch == q && c.get(i + 1) == Some(&q) && c.get(i + 2) == Some(&q) {
                return Ok((s, i + 3));
            }
        } else if ch == q {
            return Ok((s, i + 1));
        } else if ch == '\n' {
            return e("unterminated string");
        }
        if ch == '\\' && !raw {
            let Some(&n) = c.get(i + 1) else {
                return e("unterminated string");
            };
            i += 2;
            match n {
                'n' => s.push('\n'),
                't' => s.push('\t'),
                'r' => s.push('\r'),
                '0'..='7' => {
                    let mut v = n.to_digit(8).expect("octal");
                    for _ in 0..2 {
                        match c.get(i).and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                i += 1;
                            }
                            None => break,
                        }
                    }
                    s.push(char::from_u32(v).ok_or(PyError("bad escape".into()))?);
                }
                'x' | 'u' | 'U' => {
                    let k = match n {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = c
                        .get(i..i + k)
                        .ok_or(PyError("bad escape".into()))?
                        .iter()
                        .collect();
                    let v =
                        u32::from_str_radix(&hex, 16).map_err(|_| PyError("bad escape".into()))?;
                    s.push(char::from_u32(v).ok_or(PyError("bad escape".into()))?);
                    i += k;
                }
                'a' => s.push('\x07'),
                'b' => s.push('\x08'),
                'f' => s.push('\x0c'),
                'v' => s.push('\x0b'),
                '\n' => {}
                '\\' | '\'' | '"' => s.push(n),
                other => {
                    s.push('\\');
                    s.push(other);
                }
            }
            continue;
        }
        if raw && ch == '\\' {
            if let Some(&n) = c.get(i + 1) {
                s.push('\\');
                s.push(n);
                i += 2;
                continue;
            }
        }
        s.push(ch);
        i += 1;
    }
}

#[derive(Debug, Clone)]
enum Ex {
    Int(i64),
    Str(Rc<Vec<char>>),
    Bytes(Rc<Vec<u8>>),
    Name(String),
    List(Vec<(bool, Ex)>), // (starred, item)
    Tuple(Vec<Ex>),
    Bin(&'static str, Box<Ex>, Box<Ex>),
    Neg(Box<Ex>),
    Call(Box<Ex>, Vec<Ex>),
    Attr(Box<Ex>, String),
    Index(Box<Ex>, Box<Ex>),
    Slice(Box<Ex>, Option<Box<Ex>>, Option<Box<Ex>>, Option<Box<Ex>>),
    Comp(Box<Ex>, Vec<String>, Box<Ex>),
    Lambda(Rc<Vec<String>>, Rc<Ex>),
}

enum Stmt {
    Assign(Vec<String>, Ex),
}

struct P {
    t: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> &Tok {
        &self.t[self.i.min(self.t.len() - 1)]
    }
    fn is(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn eat(&mut self, op: &str) -> bool {
        if self.is(op) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn want(&mut self, op: &str) -> Result<(), PyError> {
        if self.eat(op) {
            Ok(())
        } else {
            e(format!("expected {op:?}, got {:?}", self.peek()))
        }
    }
    fn name(&mut self) -> Result<String, PyError> {
        match self.peek().clone() {
            Tok::Name(n) => {
                self.i += 1;
                Ok(n)
            }
            t => e(format!("expected a name, got {t:?}")),
        }
    }
    fn stmts(&mut self) -> Result<Vec<Stmt>, PyError> {
        let mut out = Vec::new();
        while self.i < self.t.len() {
            if matches!(self.peek(), Tok::Newline) || self.eat(";") {
                self.i += 1;
                continue;
            }
            if matches!(self.peek(), Tok::Name(n) if n == "def") {
                self.i += 1;
                let f = self.name()?;
                self.want("(")?;
                let mut ps = Vec::new();
                while !self.eat(")") {
                    ps.push(self.name()?);
                    self.eat(",");
                }
                self.want(":")?;
                while matches!(self.peek(), Tok::Newline) {
                    self.i += 1;
                }
                if !matches!(self.peek(), Tok::Name(n) if n == "return") {
                    return e("only `def f(...): return expr` is supported");
                }
                self.i += 1;
                let body = self.expr_tuple()?;
                out.push(Stmt::Assign(
                    vec![f],
                    Ex::Lambda(Rc::new(ps), Rc::new(body)),
                ));
                continue;
            }
            let mut targets = vec![self.name()?];
            while self.eat(",") {
                targets.push(self.name()?);
            }
            self.want("=")?;
            let v = self.expr_tuple()?;
            if !matches!(self.peek(), Tok::Newline) && !self.is(";") {
                return e(format!("unexpected {:?}", self.peek()));
            }
            out.push(Stmt::Assign(targets, v));
        }
        Ok(out)
    }
    fn expr_tuple(&mut self) -> Result<Ex, PyError> {
        let first = self.expr()?;
        if !self.is(",") {
            return Ok(first);
        }
        let mut v = vec![first];
        while self.eat(",") {
            if matches!(self.peek(), Tok::Newline) || self.is(")") {
                break;
            }
            v.push(self.expr()?);
        }
        Ok(Ex::Tuple(v))
    }
    fn expr(&mut self) -> Result<Ex, PyError> {
        if matches!(self.peek(), Tok::Name(n) if n == "lambda") {
            self.i += 1;
            let mut ps = Vec::new();
            while !self.eat(":") {
                ps.push(self.name()?);
                self.eat(",");
            }
            let body = self.expr()?;
            return Ok(Ex::Lambda(Rc::new(ps), Rc::new(body)));
        }
        let mut l = self.term()?;
        loop {
            if self.eat("+") {
                l = Ex::Bin("+", Box::new(l), Box::new(self.term()?));
            } else if self.eat("-") {
                l = Ex::Bin("-", Box::new(l), Box::new(self.term()?));
            } else {
                return Ok(l);
            }
        }
    }
    fn term(&mut self) -> Result<Ex, PyError> {
        let mut l = self.unary()?;
        loop {
            if self.eat("*") {
                l = Ex::Bin("*", Box::new(l), Box::new(self.unary()?));
            } else if self.eat("%") {
                l = Ex::Bin("%", Box::new(l), Box::new(self.unary()?));
            } else {
                return Ok(l);
            }
        }
    }
    fn unary(&mut self) -> Result<Ex, PyError> {
        if self.eat("-") {
            return Ok(Ex::Neg(Box::new(self.unary()?)));
        }
        self.postfix()
    }
    fn postfix(&mut self) -> Result<Ex, PyError> {
        let mut x = self.atom()?;
        loop {
            if self.eat("(") {
                let mut args = Vec::new();
                while !self.eat(")") {
                    args.push(self.expr()?);
                    if !self.eat(",") {
                        self.want(")")?;
                        break;
                    }
                }
                x = Ex::Call(Box::new(x), args);
            } else if self.eat("[") {
                let a = if self.is(":") {
                    None
                } else {
                    Some(Box::new(self.expr()?))
                };
                if self.eat(":") {
                    let b = if self.is("]") || self.is(":") {
                        None
                    } else {
                        Some(Box::new(self.expr()?))
                    };
                    let c = if self.eat(":") && !self.is("]") {
                        Some(Box::new(self.expr()?))
                    } else {
                        None
                    };
                    self.want("]")?;
                    x = Ex::Slice(Box::new(x), a, b, c);
                } else {
                    self.want("]")?;
                    x = Ex::Index(Box::new(x), a.ok_or(PyError("empty index".into()))?);
                }
            } else if self.eat(".") {
                x = Ex::Attr(Box::new(x), self.name()?);
            } else {
                return Ok(x);
            }
        }
    }
    fn atom(&mut self) -> Result<Ex, PyError> {
        let t = self.peek().clone();
        self.i += 1;
        Ok(match t {
            Tok::Int(v) => Ex::Int(v),
            Tok::Str(mut s) => {
                while let Tok::Str(more) = self.peek().clone() {
                    s.extend(more);
                    self.i += 1;
                }
                Ex::Str(Rc::new(s))
            }
            Tok::Bytes(b) => Ex::Bytes(Rc::new(b)),
            Tok::Name(n) => Ex::Name(n),
            Tok::Op("(") => {
                if self.eat(")") {
                    return Ok(Ex::Tuple(vec![]));
                }
                let x = self.expr_tuple()?;
                self.want(")")?;
                x
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if self.eat("]") {
                    return Ok(Ex::List(items));
                }
                let star = self.eat("*");
                let first = self.expr()?;
                if !star && matches!(self.peek(), Tok::Name(n) if n == "for") {
                    self.i += 1;
                    let mut vars = vec![self.name()?];
                    while self.eat(",") {
                        vars.push(self.name()?);
                    }
                    if !matches!(self.peek(), Tok::Name(n) if n == "in") {
                        return e("expected `in`");
                    }
                    self.i += 1;
                    let src = self.expr()?;
                    self.want("]")?;
                    return Ok(Ex::Comp(Box::new(first), vars, Box::new(src)));
                }
                items.push((star, first));
                while self.eat(",") {
                    if self.is("]") {
                        break;
                    }
                    let star = self.eat("*");
                    items.push((star, self.expr()?));
                }
                self.want("]")?;
                Ex::List(items)
            }
            t => return e(format!("unexpected {t:?}")),
        })
    }
}

#[derive(Debug, Clone)]
enum V {
    Int(i64),
    Str(Rc<Vec<char>>),
    List(Rc<Vec<V>>),
    Func(Rc<Vec<String>>, Rc<Ex>),
    Builtin(&'static str),
    Method(Box<V>, String),
}

struct Ev<'a> {
    globals: HashMap<String, V>,
    fuel: u64,
    max_len: usize,
    depth: usize,
    _p: std::marker::PhantomData<&'a ()>,
}

const BUILTINS: [&str; 6] = ["ord", "chr", "list", "map", "range", "len"];

impl Ev<'_> {
    fn spend(&mut self, n: usize) -> Result<(), PyError> {
        let n = n as u64 + 1;
        if n > self.fuel {
            return e("out of fuel");
        }
        self.fuel -= n;
        Ok(())
    }
    fn check_len(&mut self, n: usize) -> Result<(), PyError> {
        if n > self.max_len {
            return e(format!("value of {n} elements exceeds the size limit"));
        }
        self.spend(n)
    }
    fn iter(&mut self, v: V) -> Result<Vec<V>, PyError> {
        Ok(match v {
            V::List(l) => l.as_ref().clone(),
            V::Str(s) => s.iter().map(|&c| V::Str(Rc::new(vec![c]))).collect(),
            _ => return e("not iterable"),
        })
    }
    fn call(&mut self, f: V, args: Vec<V>) -> Result<V, PyError> {
        self.spend(args.len())?;
        match f {
            V::Func(ps, body) => {
                if ps.len() != args.len() {
                    return e("wrong number of arguments");
                }
                if self.depth > 50 {
                    return e("recursion too deep");
                }
                let mut locals = HashMap::new();
                for (p, a) in ps.iter().zip(args) {
                    locals.insert(p.clone(), a);
                }
                self.depth += 1;
                let r = self.eval(&body, &locals);
                self.depth -= 1;
                r
            }
            V::Builtin(name) => {
                let mut a = args.into_iter();
                let mut one = || {
                    a.next()
                        .ok_or(PyError(format!("{name}() needs an argument")))
                };
                match name {
                    "ord" => match one()? {
                        V::Str(s) if s.len() == 1 => Ok(V::Int(s[0] as i64)),
                        _ => e("ord() expects one character"),
                    },
                    "chr" => match one()? {
                        V::Int(i) => Ok(V::Str(Rc::new(vec![char::from_u32(i as u32)
                            .ok_or(PyError("chr() arg not in range".into()))?]))),
                        _ => e("chr() expects an int"),
                    },
                    "len" => {
                        let v = one()?;
                        Ok(V::Int(self.iter(v)?.len() as i64))
                    }
                    "list" => {
                        let v = one()?;
                        Ok(V::List(Rc::new(self.iter(v)?)))
                    }
                    "map" => {
                        let f = one()?;
                        let src = one()?;
                        let items = self.iter(src)?;
                        self.check_len(items.len())?;
                        let mut out = Vec::with_capacity(items.len());
                        for x in items {
                            out.push(self.call(f.clone(), vec![x])?);
                        }
                        Ok(V::List(Rc::new(out)))
                    }
                    "range" => {
                        let mut nums = Vec::new();
                        for v in a.by_ref() {
                            match v {
                                V::Int(i) => nums.push(i),
                                _ => return e("range() expects ints"),
                            }
                        }
                        let (s, t, st) = match nums[..] {
                            [b] => (0, b, 1),
                            [a, b] => (a, b, 1),
                            [a, b, c] => (a, b, c),
                            _ => return e("range() arity"),
                        };
                        let n = super::interp::range_len(s, t, st)
                            .ok_or(PyError("range() step 0".into()))?;
                        if n > self.max_len as u128 {
                            return e("range too long");
                        }
                        self.check_len(n as usize)?;
                        Ok(V::List(Rc::new(
                            (0..n as i64).map(|k| V::Int(s + k * st)).collect(),
                        )))
                    }
                    _ => e(format!("unsupported builtin {name}")),
                }
            }
            V::Method(recv, m) => match (*recv, m.as_str()) {
                (V::Str(s), "encode") => {
                    let text: String = s.iter().collect();
                    if let Some(V::Str(enc)) = args.first() {
                        let enc: String = enc
                            .iter()
                            .collect::<String>()
                            .to_ascii_lowercase()
                            .replace(['-', '_'], "");
                        if enc == "latin1" || enc == "latin" || enc == "iso88591" {
                            if s.iter().any(|&c| c as u32 > 255) {
                                return e("latin-1 cannot encode");
                            }
                            return Ok(V::List(Rc::new(
                                s.iter().map(|&c| V::Int(c as i64)).collect(),
                            )));
                        }
                        if enc != "utf8" {
                            return e("unsupported encoding");
                        }
                    }
                    Ok(V::List(Rc::new(
                        text.bytes().map(|b| V::Int(b as i64)).collect(),
                    )))
                }
                (V::Str(sep), "join") => {
                    let items = match args.into_iter().next() {
                        Some(v) => self.iter(v)?,
                        None => return e("join() needs an argument"),
                    };
                    let mut out: Vec<char> = Vec::new();
                    for (k, it) in items.into_iter().enumerate() {
                        if k > 0 {
                            out.extend(sep.iter());
                        }
                        match it {
                            V::Str(s) => out.extend(s.iter()),
                            _ => return e("join() expects strings"),
                        }
                        self.check_len(out.len())?;
                    }
                    Ok(V::Str(Rc::new(out)))
                }
                (_, m) => e(format!("unsupported method {m}")),
            },
            _ => e("not callable"),
        }
    }
    fn eval(&mut self, x: &Ex, locals: &HashMap<String, V>) -> Result<V, PyError> {
        self.spend(1)?;
        Ok(match x {
            Ex::Int(i) => V::Int(*i),
            Ex::Str(s) => V::Str(s.clone()),
            Ex::Bytes(b) => V::List(Rc::new(b.iter().map(|&x| V::Int(x as i64)).collect())),
            Ex::Name(n) => {
                if let Some(v) = locals.get(n).or_else(|| self.globals.get(n)) {
                    v.clone()
                } else if let Some(b) = BUILTINS.iter().find(|b| *b == n) {
                    V::Builtin(b)
                } else {
                    return e(format!("name {n:?} is not defined"));
                }
            }
            Ex::List(items) => {
                let mut out = Vec::new();
                for (star, it) in items {
                    let v = self.eval(it, locals)?;
                    if *star {
                        out.extend(self.iter(v)?);
                    } else {
                        out.push(v);
                    }
                    self.check_len(out.len())?;
                }
                V::List(Rc::new(out))
            }
            Ex::Tuple(items) => {
                let mut out = Vec::new();
                for it in items {
                    out.push(self.eval(it, locals)?);
                }
                V::List(Rc::new(out))
            }
            Ex::Lambda(ps, body) => V::Func(ps.clone(), body.clone()),
            Ex::Neg(a) => match self.eval(a, locals)? {
                V::Int(i) => V::Int(i.checked_neg().ok_or(PyError("overflow".into()))?),
                _ => return e("bad operand for unary -"),
            },
            Ex::Bin(op, a, b) => {
                let (a, b) = (self.eval(a, locals)?, self.eval(b, locals)?);
                match (*op, a, b) {
                    ("+", V::Int(x), V::Int(y)) => {
                        V::Int(x.checked_add(y).ok_or(PyError("overflow".into()))?)
                    }
                    ("-", V::Int(x), V::Int(y)) => {
                        V::Int(x.checked_sub(y).ok_or(PyError("overflow".into()))?)
                    }
                    ("*", V::Int(x), V::Int(y)) => {
                        V::Int(x.checked_mul(y).ok_or(PyError("overflow".into()))?)
                    }
                    ("%", V::Int(x), V::Int(y)) => {
                        V::Int(super::interp::py_mod(x, y).ok_or(PyError("modulo by zero".into()))?)
                    }
                    ("+", V::List(x), V::List(y)) => {
                        self.check_len(x.len() + y.len())?;
                        let mut v = x.as_ref().clone();
                        v.extend(y.iter().cloned());
                        V::List(Rc::new(v))
                    }
                    ("+", V::Str(x), V::Str(y)) => {
                        self.check_len(x.len() + y.len())?;
                        let mut v = x.as_ref().clone();
                        v.extend(y.iter());
                        V::Str(Rc::new(v))
                    }
                    ("*", V::List(l), V::Int(k)) | ("*", V::Int(k), V::List(l)) => {
                        let n = (k.max(0) as u128) * l.len() as u128;
                        if n > self.max_len as u128 {
                            return e("repetition too long");
                        }
                        self.check_len(n as usize)?;
                        V::List(Rc::new(
                            l.iter().cloned().cycle().take(n as usize).collect(),
                        ))
                    }
                    ("*", V::Str(s), V::Int(k)) | ("*", V::Int(k), V::Str(s)) => {
                        let n = (k.max(0) as u128) * s.len() as u128;
                        if n > self.max_len as u128 {
                            return e("repetition too long");
                        }
                        self.check_len(n as usize)?;
                        V::Str(Rc::new(
                            s.iter().copied().cycle().take(n as usize).collect(),
                        ))
                    }
                    (op, _, _) => return e(format!("unsupported operands for {op}")),
                }
            }
            Ex::Call(f, args) => {
                let f = self.eval(f, locals)?;
                let mut a = Vec::with_capacity(args.len());
                for x in args {
                    a.push(self.eval(x, locals)?);
                }
                self.call(f, a)?
            }
            Ex::Attr(r, name) => {
                let v = self.eval(r, locals)?;
                match (&v, name.as_str()) {
                    (V::Str(_), "encode" | "join") => V::Method(Box::new(v), name.clone()),
                    _ => return e(format!("unsupported attribute {name}")),
                }
            }
            Ex::Index(x, i) => {
                let (x, i) = (self.eval(x, locals)?, self.eval(i, locals)?);
                let V::Int(i) = i else {
                    return e("index must be an int");
                };
                let items = self.iter(x)?;
                let n = items.len() as i64;
                let j = if i < 0 { i + n } else { i };
                if j < 0 || j >= n {
                    return e("index out of range");
                }
                items[j as usize].clone()
            }
            Ex::Slice(x, a, b, c) => {
                let xv = self.eval(x, locals)?;
                let is_str = matches!(xv, V::Str(_));
                let items = self.iter(xv)?;
                let mut get = |o: &Option<Box<Ex>>| -> Result<Option<i64>, PyError> {
                    match o {
                        None => Ok(None),
                        Some(ex) => match self.eval(ex, locals)? {
                            V::Int(i) => Ok(Some(i)),
                            _ => e("slice indices must be ints"),
                        },
                    }
                };
                let (a, b, c) = (get(a)?, get(b)?, get(c)?);
                let step = c.unwrap_or(1);
                if step == 0 {
                    return e("slice step cannot be zero");
                }
                let n = items.len() as i64;
                let idx: Vec<usize> = if step > 0 {
                    let norm = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
                    let (s, t) = (a.map_or(0, norm), b.map_or(n, norm));
                    (s..t.max(s))
                        .step_by(step as usize)
                        .map(|k| k as usize)
                        .collect()
                } else {
                    let norm = |v: i64| if v < 0 { (v + n).max(-1) } else { v.min(n - 1) };
                    let (s, t) = (a.map_or(n - 1, norm), b.map_or(-1, norm));
                    let mut v = Vec::new();
                    let mut k = s;
                    while k > t {
                        v.push(k as usize);
                        k += step;
                    }
                    v
                };
                let picked: Vec<V> = idx.into_iter().map(|k| items[k].clone()).collect();
                if is_str {
                    V::Str(Rc::new(
                        picked
                            .into_iter()
                            .map(|v| if let V::Str(s) = v { s[0] } else { ' ' })
                            .collect(),
                    ))
                } else {
                    V::List(Rc::new(picked))
                }
            }
            Ex::Comp(body, vars, src) => {
                let s = self.eval(src, locals)?;
                let items = self.iter(s)?;
                self.check_len(items.len())?;
                let mut out = Vec::with_capacity(items.len());
                let mut scope = locals.clone();
                for it in items {
                    if vars.len() == 1 {
                        scope.insert(vars[0].clone(), it);
                    } else {
                        let parts = self.iter(it)?;
                        if parts.len() != vars.len() {
                            return e("cannot unpack");
                        }
                        for (v, p) in vars.iter().zip(parts) {
                            scope.insert(v.clone(), p);
                        }
                    }
                    out.push(self.eval(body, &scope)?);
                }
                V::List(Rc::new(out))
            }
        })
    }
}

/// Evaluates a Python program of the supported subset and returns `output` as integers.
pub fn run_python_subset(src: &str, fuel: u64, max_len: usize) -> Result<Vec<i64>, PyError> {
    if src.len() > 1 << 20 {
        return e("program too long");
    }
    let toks = lex(src)?;
    let stmts = P { t: toks, i: 0 }.stmts()?;
    let mut ev = Ev {
        globals: HashMap::new(),
        fuel,
        max_len,
        depth: 0,
        _p: std::marker::PhantomData,
    };
    let empty = HashMap::new();
    for Stmt::Assign(targets, x) in &stmts {
        let v = ev.eval(x, &empty)?;
        if targets.len() == 1 {
            ev.globals.insert(targets[0].clone(), v);
        } else {
            let parts = ev.iter(v)?;
            if parts.len() != targets.len() {
                return e("cannot unpack");
            }
            for (t, p) in targets.iter().zip(parts) {
                ev.globals.insert(t.clone(), p);
            }
        }
    }
    match ev.globals.get("output") {
        Some(V::List(items)) => items
            .iter()
            .map(|v| match v {
                V::Int(i) => Ok(*i),
                _ => e("output has a non-int element"),
            })
            .collect(),
        Some(_) => e("output is not a list"),
        None => e("no `output` variable"),
    }
}
