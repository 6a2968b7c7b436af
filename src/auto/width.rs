//! Candidate record widths for plain bytes (no recognised header).
//!
//! A circuit learns dependencies *inside* a record, and each variable keeps its own
//! emission table, so the best width puts bytes that play the same role at the same
//! position. Text with lines of one fixed length (FASTA sequences wrapped at 60, 70 or 80
//! columns) has an obvious such width: the line length plus its line feed, which makes the
//! line feed's position certain. Otherwise short widths are tried: a few neighbours are
//! where most of the dependence is, and the model's size grows with the width.

/// Widths tried after a detected line period, in the order tried.
pub const GENERIC_WIDTHS: [usize; 5] = [8, 16, 4, 32, 2];

/// Longest line period taken as a record width.
const MAX_LINE_PERIOD: usize = 512;

/// Lines looked at to find a period.
const LINES_EXAMINED: usize = 2000;

/// Candidate widths for plain bytes, best guess first.
pub fn candidates(bytes: &[u8]) -> Vec<usize> {
    let period = line_period(bytes);
    period
        .into_iter()
        .chain(GENERIC_WIDTHS.into_iter().filter(|&w| Some(w) != period))
        .collect()
}

/// The length (line feed included) shared by at least 90% of the first lines, when there
/// are at least 8 of them and it is at most [`MAX_LINE_PERIOD`].
fn line_period(bytes: &[u8]) -> Option<usize> {
    let mut lengths = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            lengths.push(i + 1 - start);
            start = i + 1;
            if lengths.len() == LINES_EXAMINED {
                break;
            }
        }
    }
    if lengths.len() < 8 {
        return None;
    }
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let same = lengths.iter().filter(|&&l| l == median).count();
    (same * 10 >= lengths.len() * 9 && (2..=MAX_LINE_PERIOD).contains(&median)).then_some(median)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_length_lines_give_their_period_first() {
        let mut fasta = b">seq header\n".to_vec();
        for i in 0..50 {
            fasta.extend((0..60).map(|j| b"ACGT"[(i * 7 + j) % 4]));
            fasta.push(b'\n');
        }
        assert_eq!(candidates(&fasta)[0], 61);
    }

    #[test]
    fn ragged_or_no_lines_give_generic_widths() {
        let ragged: Vec<u8> = (0..40)
            .flat_map(|i| vec![b'x'; i % 7 + 1].into_iter().chain([b'\n']))
            .collect();
        assert_eq!(candidates(&ragged), GENERIC_WIDTHS.to_vec());
        assert_eq!(candidates(&[0u8; 100]), GENERIC_WIDTHS.to_vec());
    }
}
