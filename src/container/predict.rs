//! The prediction transform (format-spec/FORMAT.md section 7.1): the records of an image
//! are coded as the residuals of a causal pixel predictor, which gives the circuit the
//! vertical context that horizontal strips of pixels lack.
//!
//! Residuals are taken modulo 256 over the record bytes in file order, so the transform is
//! a bijection on byte strings of any length: decoding restores the bytes in place, each
//! from its residual and its already restored neighbours. For RGB the red and blue
//! residuals may be taken relative to the green one, which removes most of what the
//! three channels' errors share (a small circuit over strips of pixels does not learn that
//! linear relation well).

use crate::bytes::Reader;
use crate::error::{Error, Result};

/// Largest samples per pixel of a raster (gray, gray + alpha, RGB, RGBA).
pub const MAX_CHANNELS: u8 = 4;

/// `Transform_Id` of the median edge detector (LOCO-I / JPEG-LS) predictor.
const MED_ID: u8 = 1;

/// `Transform_Id` of the same predictor with red and blue residuals minus the green one.
const MED_GREEN_ID: u8 = 2;

/// A reversible transform of the record bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "predictor", rename_all = "lowercase")]
pub enum Transform {
    /// Residuals of the median edge detector over a raster of interleaved samples: `row`
    /// samples per image row, `channels` samples per pixel.
    Med {
        /// Samples per image row (width x channels).
        row: u32,
        /// Samples per pixel.
        channels: u8,
        /// RGB only: the red and blue residuals are stored minus the green one.
        green: bool,
    },
}

impl Transform {
    /// The MED transform of a raster `width` pixels wide with `channels` samples per pixel;
    /// `green` (RGB only) subtracts the green residual from the red and blue ones.
    pub fn med(width: usize, channels: u8, green: bool) -> Result<Transform> {
        let row = width
            .checked_mul(usize::from(channels))
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| Error::parameter("image row longer than 2^32 samples"))?;
        Transform::checked(row, channels, green)
    }

    fn checked(row: u32, channels: u8, green: bool) -> Result<Transform> {
        if !(1..=MAX_CHANNELS).contains(&channels)
            || row == 0
            || !row.is_multiple_of(u32::from(channels))
            || (green && channels != 3)
        {
            return Err(Error::format(
                "pcz file",
                format!("invalid prediction transform: {row} samples per row, {channels} channels"),
            ));
        }
        Ok(Transform::Med {
            row,
            channels,
            green,
        })
    }

    /// Appends the transform section: `Transform_Id`, `Row_Samples`, `Channels`.
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        let Transform::Med {
            row,
            channels,
            green,
        } = *self;
        out.push(if green { MED_GREEN_ID } else { MED_ID });
        out.extend_from_slice(&row.to_le_bytes());
        out.push(channels);
    }

    /// Reads and validates a transform section.
    pub(super) fn read(r: &mut Reader<'_>) -> Result<Transform> {
        let green = match r.u8()? {
            MED_ID => false,
            MED_GREEN_ID => true,
            id => {
                return Err(Error::Unsupported {
                    what: format!("prediction transform {id}"),
                })
            }
        };
        let row = r.u32()?;
        Transform::checked(row, r.u8()?, green)
    }

    /// Samples per pixel.
    pub fn channels(&self) -> usize {
        self.shape().1
    }

    /// Samples per row, samples per pixel, and whether red and blue are relative to green.
    fn shape(&self) -> (usize, usize, bool) {
        let Transform::Med {
            row,
            channels,
            green,
        } = *self;
        (row as usize, usize::from(channels), green)
    }

    /// The residuals of `x`, the record bytes in file order.
    pub fn residuals(&self, x: &[u8]) -> Vec<u8> {
        let (s, c, green) = self.shape();
        let mut r: Vec<u8> = (0..x.len())
            .map(|t| x[t].wrapping_sub(predict(x, t, s, c)))
            .collect();
        if green {
            for pixel in r.chunks_mut(3) {
                if let [red, g, rest @ ..] = pixel {
                    *red = red.wrapping_sub(*g);
                    rest.iter_mut()
                        .for_each(|blue| *blue = blue.wrapping_sub(*g));
                }
            }
        }
        r
    }

    /// Turns residuals back into the record bytes, in place, in file order.
    pub fn restore(&self, r: &mut [u8]) {
        let (s, c, green) = self.shape();
        // The green residual of the current pixel, read before its sample is restored.
        let mut g = 0u8;
        for t in 0..r.len() {
            if green {
                match t % 3 {
                    0 => {
                        g = r.get(t + 1).copied().unwrap_or(0);
                        r[t] = r[t].wrapping_add(g);
                    }
                    2 => r[t] = r[t].wrapping_add(g),
                    _ => {}
                }
            }
            r[t] = r[t].wrapping_add(predict(r, t, s, c));
        }
    }
}

/// The prediction of sample `t` from the samples before it: the left neighbour in the
/// first row (0 for the first pixel), the one above in the first column, else the median
/// edge detector of left `a`, above `b` and above-left `c`.
fn predict(x: &[u8], t: usize, s: usize, c: usize) -> u8 {
    if t < s {
        return if t >= c { x[t - c] } else { 0 };
    }
    if t % s < c {
        return x[t - s];
    }
    let (a, b, nw) = (x[t - c], x[t - s], x[t - s - c]);
    if nw >= a.max(b) {
        a.min(b)
    } else if nw <= a.min(b) {
        a.max(b)
    } else {
        // a + b - nw lies strictly between min(a, b) and max(a, b) here, so the wrapping
        // sum (a + b may pass 255) gives it exactly.
        a.wrapping_add(b).wrapping_sub(nw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn residuals_of_a_small_raster_match_the_definition() {
        // 4 x 2 gray. Row 1 from the left (the first pixel from 0); row 2: 5 from above
        // (10); then MED(a, b, c) with a left, b above, c above-left:
        // (5, 20, 10) -> 5 + 20 - 10 = 15, (30, 50, 20) -> max = 50, (9, 40, 50) -> min = 9.
        let x = [10, 20, 50, 40, 5, 30, 9, 60];
        let t = Transform::med(4, 1, false).unwrap();
        let want = [10, 10, 30, 246, 251, 15, 215, 51];
        assert_eq!(t.residuals(&x), want);
    }

    #[test]
    fn green_residual_is_subtracted_from_red_and_blue() {
        // One row of two RGB pixels: plain residuals (10, 20, 30) and (1, 5, 250) (each
        // channel from its left neighbour); then red and blue minus green.
        let x = [10, 20, 30, 11, 25, 24];
        let plain = Transform::med(2, 3, false).unwrap().residuals(&x);
        assert_eq!(plain, [10, 20, 30, 1, 5, 250]);
        let t = Transform::med(2, 3, true).unwrap();
        assert_eq!(t.residuals(&x), [246, 20, 10, 252, 5, 245]);
        // Bright neighbours: MED(a = 200, b = 100, c = 150) = 150, with a + b past 255.
        let bright = Transform::med(2, 1, false).unwrap();
        assert_eq!(bright.residuals(&[150, 100, 200, 160]), [150, 206, 50, 10]);
        // A last pixel cut short keeps what it has: red alone is not changed.
        assert_eq!(t.residuals(&x[..4]), [246, 20, 10, 1]);
    }

    #[test]
    fn restore_inverts_residuals_for_any_length_and_shape() {
        let mut rng = Rng::new(7);
        for (width, channels, green) in [
            (1, 1, false),
            (5, 1, false),
            (4, 3, false),
            (4, 3, true),
            (1, 3, true),
            (7, 4, false),
            (3, 2, false),
        ] {
            let t = Transform::med(width, channels, green).unwrap();
            for len in [0, 1, 5, 23, 200] {
                let x: Vec<u8> = (0..len).map(|_| (rng.next_u64() >> 56) as u8).collect();
                let mut r = t.residuals(&x);
                t.restore(&mut r);
                assert_eq!(r, x, "{width}x{channels}, {len} bytes");
            }
        }
    }

    #[test]
    fn invalid_shapes_are_rejected() {
        assert!(Transform::med(0, 1, false).is_err());
        assert!(Transform::med(4, 0, false).is_err());
        assert!(Transform::med(4, 5, false).is_err());
        assert!(Transform::med(4, 1, true).is_err(), "green needs RGB");
        assert!(
            Transform::checked(7, 3, false).is_err(),
            "row not whole pixels"
        );
    }

    #[test]
    fn the_section_round_trips() {
        for (green, id) in [(false, 1), (true, 2)] {
            let t = Transform::med(512, 3, green).unwrap();
            let mut bytes = Vec::new();
            t.write(&mut bytes);
            assert_eq!(bytes, [id, 0, 6, 0, 0, 3]);
            let back = Transform::read(&mut Reader::new(&bytes, "test")).unwrap();
            assert_eq!(back, t);
        }
        let bytes = vec![3, 0, 6, 0, 0, 3];
        let err = Transform::read(&mut Reader::new(&bytes, "test")).unwrap_err();
        assert!(err.to_string().contains("unsupported"), "{err}");
    }
}
