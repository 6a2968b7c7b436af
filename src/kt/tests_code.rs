//! Tests of the prefix-free program code: exact length, prefix-freeness, hostile input.

use super::cost::{code_bits, code_ideal_bits, decode, encode};
use super::parse::parse;
use super::sample::sample_tasks;

/// Concatenates bit strings (MSB-first bytes with exact bit counts).
fn concat_bits(parts: &[(Vec<u8>, u64)]) -> Vec<u8> {
    let total: u64 = parts.iter().map(|p| p.1).sum();
    let mut out = vec![0u8; total.div_ceil(8) as usize];
    let mut at = 0u64;
    for (bytes, bits) in parts {
        for i in 0..*bits {
            if bytes[(i / 8) as usize] & (0x80 >> (i % 8)) != 0 {
                out[(at / 8) as usize] |= 0x80 >> (at % 8);
            }
            at += 1;
        }
    }
    out
}

#[test]
fn code_is_within_two_bits_of_the_ideal_length() {
    for t in sample_tasks(100, 11, 128) {
        let p = parse(t.program.as_deref().expect("program")).expect("parses");
        let ideal = code_ideal_bits(&p);
        let bits = code_bits(&p) as f64;
        assert!(
            bits >= ideal - 1e-6 && bits <= ideal.ceil() + 1.0,
            "{bits} vs {ideal}"
        );
    }
}

#[test]
fn programs_decode_back_to_back_without_lengths() {
    let progs: Vec<_> = sample_tasks(30, 5, 128)
        .iter()
        .map(|t| parse(t.program.as_deref().expect("program")).expect("parses"))
        .collect();
    for w in progs.windows(2) {
        let stream = concat_bits(&[encode(&w[0]), encode(&w[1])]);
        let (q, used) = decode(&stream).expect("decodes");
        assert_eq!(used, code_bits(&w[0]));
        assert!(q.same_structure(&w[0]), "{q}\nvs\n{}", w[0]);
    }
}

#[test]
fn truncated_or_garbage_code_is_an_error_not_a_panic() {
    let p = parse("a = set_list([1, 2, 3, 250, 7])\nb = reverse_list(a)\noutput = b").expect("ok");
    let (bytes, bits) = encode(&p);
    assert!(bits > 16);
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "cut to {cut} bytes decoded");
    }
    // Arbitrary bytes either decode to a program whose codeword they start with, or fail.
    let mut x = 12345u64;
    for len in [1usize, 3, 17, 200] {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect();
        if let Ok((q, used)) = decode(&junk) {
            let (code, bits) = encode(&q);
            assert_eq!(bits, used);
            assert_eq!(code[..(bits / 8) as usize], junk[..(bits / 8) as usize]);
        }
    }
}
