//! The KT synthetic DSL as data: 21 list-producing primitives plus 3 filter predicates
//! (24 names), straight-line programs of `name = primitive(args)` lines ending in
//! `output = name`, and the canonical printer (inverse of [`super::parse::parse`]).

use std::fmt::{self, Write as _};

/// A filter predicate (`filter(pred, L)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pred {
    /// `x % 2 == 0`
    IsEven,
    /// `x % 2 != 0`
    IsOdd,
    /// `x != 0`
    IsNotZero,
}

impl Pred {
    /// All predicates, in code order.
    pub const ALL: [Pred; 3] = [Pred::IsEven, Pred::IsOdd, Pred::IsNotZero];
    /// The DSL name.
    pub fn name(self) -> &'static str {
        match self {
            Pred::IsEven => "is_even",
            Pred::IsOdd => "is_odd",
            Pred::IsNotZero => "is_not_zero",
        }
    }
    /// Looks a predicate up by name.
    pub fn from_name(s: &str) -> Option<Pred> {
        Pred::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// Kind of one argument slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A reference to an earlier line.
    Var,
    /// An integer (a value, index or count).
    Int,
    /// A small integer parameter (step, jump, repeat factor): cheap in the codes.
    Small,
    /// An integer list literal.
    List,
    /// A predicate name.
    Pred,
}

macro_rules! ops {
    ($( $v:ident => $name:literal, [$($slot:ident),*] ; )*) => {
        /// A list-producing primitive.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Op { $( #[doc = $name] $v, )* }
        impl Op {
            /// All primitives, in code order.
            pub const ALL: &'static [Op] = &[$(Op::$v),*];
            /// The DSL name.
            pub fn name(self) -> &'static str { match self { $(Op::$v => $name,)* } }
            /// Argument slots (for `concatenate`: one `Var`, repeated one or more times).
            pub fn slots(self) -> &'static [Slot] { match self { $(Op::$v => &[$(Slot::$slot),*],)* } }
        }
    };
}

ops! {
    RangeUp => "range_func_up", [Int, Int];
    RangeInterval => "range_func_interval", [Int, Int, Small];
    RepeatNum => "repeat_num", [Int, Int];
    SetList => "set_list", [List];
    RepeatList => "repeat_list", [Small, Var];
    Reverse => "reverse_list", [Var];
    Substitute => "substitute", [Var, Int, Int];
    Jumps => "get_subsequence_with_jumps", [Var, Small];
    Between => "get_subsequence_between_indices", [Var, Int, Int];
    MaxN => "max_n", [Var, Int];
    MinN => "min_n", [Var, Int];
    AddItem => "add_item_list", [Var, Int];
    SubItem => "subtract_item_list", [Var, Int];
    ModItem => "modulo_item_list", [Var, Int];
    Filter => "filter", [Pred, Var];
    AddTwo => "add_two_lists", [Var, Var];
    SubTwo => "subtract_two_lists", [Var, Var];
    ModTwo => "modulo_two_lists", [Var, Var];
    ScanAdd => "scan_add", [Var];
    Concat => "concatenate", [Var];
    Interleave => "interleave", [Var, Var];
}

impl Op {
    /// Looks a primitive up by name.
    pub fn from_name(s: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|o| o.name() == s)
    }
    /// Index in [`Op::ALL`].
    pub fn index(self) -> usize {
        Op::ALL.iter().position(|&o| o == self).expect("listed")
    }
    /// True for `concatenate`, whose single `Var` slot repeats (1 or more arguments).
    pub fn variadic(self) -> bool {
        self == Op::Concat
    }
}

/// Number of names in the DSL counting the predicates (KT's F).
pub const NUM_NAMES: usize = 24;

/// One argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arg {
    /// Reference to line `i` (0-based) of the program.
    Var(usize),
    /// An integer.
    Int(i64),
    /// An integer list literal.
    List(Vec<i64>),
    /// A predicate.
    Pred(Pred),
}

/// One line: `names[i] = op(args)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Line {
    /// The primitive.
    pub op: Op,
    /// Its arguments, matching [`Op::slots`].
    pub args: Vec<Arg>,
}

/// A straight-line program. Variable names are cosmetic: two programs with the same `lines`
/// and `output` are the same program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Variable name of each line.
    pub names: Vec<String>,
    /// The lines.
    pub lines: Vec<Line>,
    /// The line whose value is `output`.
    pub output: usize,
}

impl Program {
    /// A program from lines with default names `sequence_1..`; `output` is the last line.
    pub fn from_lines(lines: Vec<Line>) -> Program {
        let output = lines.len().saturating_sub(1);
        Program::with_output(lines, output)
    }

    /// A program from lines with default names and the given output line.
    pub fn with_output(lines: Vec<Line>, output: usize) -> Program {
        let names = (1..=lines.len()).map(|i| format!("sequence_{i}")).collect();
        Program {
            names,
            lines,
            output,
        }
    }

    /// Same lines and output (names ignored).
    pub fn same_structure(&self, other: &Program) -> bool {
        self.lines == other.lines && self.output == other.output
    }

    /// The canonical text: one `name = op(args)` line each, then `output = name`.
    pub fn to_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines.iter().enumerate() {
            let mut s = String::new();
            for (k, a) in line.args.iter().enumerate() {
                if k > 0 {
                    s.push_str(", ");
                }
                match a {
                    Arg::Var(v) => s.push_str(&self.names[*v]),
                    Arg::Int(x) => {
                        let _ = write!(s, "{x}");
                    }
                    Arg::Pred(p) => s.push_str(p.name()),
                    Arg::List(xs) => {
                        s.push('[');
                        for (j, x) in xs.iter().enumerate() {
                            if j > 0 {
                                s.push_str(", ");
                            }
                            let _ = write!(s, "{x}");
                        }
                        s.push(']');
                    }
                }
            }
            if i + 1 == self.lines.len() && self.names[i] == "output" && self.output == i {
                write!(f, "{} = {}({})", self.names[i], line.op.name(), s)?;
            } else {
                writeln!(f, "{} = {}({})", self.names[i], line.op.name(), s)?;
            }
        }
        if self.names.get(self.output).map(String::as_str) == Some("output") {
            return Ok(());
        }
        write!(f, "output = {}", self.names[self.output])
    }
}
