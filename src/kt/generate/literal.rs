//! The literal generator: `set_list([...])`, always correct; the floor.

use crate::kt::dsl::{Arg, Line, Op, Program};

/// `sequence_1 = set_list([...])`, `output = sequence_1`.
pub fn literal(seq: &[u8]) -> Program {
    Program::from_lines(vec![Line {
        op: Op::SetList,
        args: vec![Arg::List(seq.iter().map(|&b| b as i64).collect())],
    }])
}
