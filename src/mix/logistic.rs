//! The logistic function and its inverse in fixed point, from a table of 49 integer knots.
//!
//! Logits ("stretched" probabilities) are in units of 1/256, clamped to +-[`LOGIT_LIMIT`]
//! (12.0); probabilities in units of 2^-16. `squash` interpolates linearly between knots
//! spaced 0.5 apart; `stretch` is its exact inverse on the integer grid (the smallest logit
//! whose squash reaches the probability), so neither needs `exp` or `ln`.

/// Largest logit magnitude, in units of 1/256 (12.0).
pub const LOGIT_LIMIT: i32 = 12 * 256;

/// Logit units between knots (0.5).
const KNOT_STEP: i32 = 128;

/// round(65536 / (1 + exp(-x))) for x = -12, -11.5, ..., 12 (clamped to 1..=65535): the
/// only place the logistic function enters, as constants (format-spec lists them).
const KNOTS: [i32; 49] = [
    1, 1, 1, 2, 3, 5, 8, 13, 22, 36, 60, 98, 162, 267, 439, 720, 1179, 1921, 3108, 4971, 7812,
    11955, 17625, 24743, 32768, 40793, 47911, 53581, 57724, 60565, 62428, 63615, 64357, 64816,
    65097, 65269, 65374, 65438, 65476, 65500, 65514, 65523, 65528, 65531, 65533, 65534, 65535,
    65535, 65535,
];

/// The probability (1..=65535, units of 2^-16) of logit `d` (units of 1/256).
pub fn squash(d: i32) -> i32 {
    squash_const(d)
}

/// [`squash`], usable in constants (where `clamp` is not). In unsigned integers: the
/// clamped offset and the interpolation term are never negative, and unsigned division by
/// the power-of-two step is a shift, where signed division needs a sign fix-up.
const fn squash_const(d: i32) -> i32 {
    let d = if d < -LOGIT_LIMIT {
        -LOGIT_LIMIT
    } else if d > LOGIT_LIMIT {
        LOGIT_LIMIT
    } else {
        d
    };
    let x = (d + LOGIT_LIMIT) as u32;
    let step = KNOT_STEP as u32;
    let i = (x / step) as usize;
    if i + 1 >= KNOTS.len() {
        return KNOTS[KNOTS.len() - 1];
    }
    // Knots never decrease, so the rise is not negative either.
    let rise = (KNOTS[i + 1] - KNOTS[i]) as u32;
    KNOTS[i] + (rise * (x % step) / step) as i32
}

/// The logit (units of 1/256) of probability `p` (units of 2^-16, clamped to 1..=65535).
#[inline]
pub fn stretch(p: i32) -> i32 {
    i32::from(STRETCH[p.clamp(1, 65535) as usize])
}

/// [`stretch`] of a 16-bit probability (a counter's), without the clamp: entry 0 of the
/// table is entry 1's (the smallest logit), so 0 stretches as the clamp to 1 would.
#[inline]
pub fn stretch_u16(p: u16) -> i32 {
    i32::from(STRETCH[usize::from(p)])
}

/// stretch(p) for every p: the smallest d with squash(d) >= p, or LOGIT_LIMIT if none.
/// A constant, not built on first use: decoding stretches over twenty times a decision,
/// and a lazily built table costs a check and an indirection on each.
static STRETCH: [i16; 1 << 16] = {
    let mut t = [LOGIT_LIMIT as i16; 1 << 16];
    let mut next = 0usize;
    let mut d = -LOGIT_LIMIT;
    while d <= LOGIT_LIMIT {
        let v = squash_const(d) as usize;
        while next <= v {
            t[next] = d as i16;
            next += 1;
        }
        d += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition of [`squash`] (format-spec "pcmix"), in signed division.
    fn plain_squash(d: i32) -> i32 {
        let x = d.clamp(-LOGIT_LIMIT, LOGIT_LIMIT) + LOGIT_LIMIT;
        let i = (x / KNOT_STEP) as usize;
        match i >= 48 {
            true => KNOTS[48],
            false => KNOTS[i] + (KNOTS[i + 1] - KNOTS[i]) * (x % KNOT_STEP) / KNOT_STEP,
        }
    }

    #[test]
    fn squash_matches_its_definition() {
        for d in -LOGIT_LIMIT - 300..=LOGIT_LIMIT + 300 {
            assert_eq!(squash(d), plain_squash(d), "d {d}");
        }
    }

    #[test]
    fn squash_is_monotone_and_symmetric() {
        let mut last = 0;
        for d in -LOGIT_LIMIT - 5..=LOGIT_LIMIT + 5 {
            let p = squash(d);
            assert!(p >= last && (1..=65535).contains(&p), "d {d}");
            last = p;
        }
        assert_eq!(squash(0), 32768);
        for d in [100, 700, 1500] {
            assert!((squash(d) + squash(-d) - 65536).abs() <= 1, "d {d}");
        }
    }

    #[test]
    fn stretch_inverts_squash() {
        for p in [1, 2, 100, 1000, 32768, 50000, 65535] {
            let d = stretch(p);
            assert!(squash(d) >= p, "p {p}");
            assert!(d == -LOGIT_LIMIT || squash(d - 1) < p, "p {p}");
        }
        assert_eq!(stretch(32768), 0);
        assert!(stretch(65535) > 2500 && stretch(1) == -LOGIT_LIMIT);
    }

    #[test]
    fn stretch_u16_is_stretch() {
        for p in 0..=u16::MAX {
            assert_eq!(stretch_u16(p), stretch(i32::from(p)), "p {p}");
        }
    }
}
