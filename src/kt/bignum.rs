//! A little unsigned bignum (little-endian u32 limbs, no leading zero limbs) for the program
//! code's exact interval arithmetic: only what [`super::cost`] needs.

use std::cmp::Ordering;

/// An unsigned integer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nat(Vec<u32>);

impl Nat {
    /// `x`.
    pub fn from_u64(x: u64) -> Nat {
        let mut n = Nat(vec![x as u32, (x >> 32) as u32]);
        n.trim();
        n
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// `self = self * r + d`.
    pub fn mul_add(&mut self, r: u64, d: u64) {
        let mut carry = d as u128;
        for limb in self.0.iter_mut() {
            let v = (*limb as u128) * r as u128 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        while carry > 0 {
            self.0.push(carry as u32);
            carry >>= 32;
        }
    }

    /// Number of significant bits (0 for zero).
    pub fn bit_len(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }

    /// Bit `k`.
    pub fn bit(&self, k: u64) -> bool {
        self.0
            .get((k / 32) as usize)
            .is_some_and(|l| (l >> (k % 32)) & 1 == 1)
    }

    /// Sets bit `k`.
    pub fn set_bit(&mut self, k: u64) {
        let i = (k / 32) as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] |= 1 << (k % 32);
    }

    /// True if a power of two.
    pub fn is_pow2(&self) -> bool {
        self.0.iter().map(|l| l.count_ones()).sum::<u32>() == 1
    }

    /// `self >> k` as u64 (the caller knows it fits), and `self` keeps its low `k` bits.
    pub fn split_high(&mut self, k: u64) -> u64 {
        let mut high = 0u64;
        for b in (k..self.bit_len()).rev() {
            high = (high << 1) | self.bit(b) as u64;
        }
        let keep = k.div_ceil(32) as usize;
        self.0.truncate(keep);
        if !k.is_multiple_of(32) {
            if let Some(last) = self.0.get_mut(keep - 1) {
                *last &= (1u32 << (k % 32)) - 1;
            }
        }
        self.trim();
        high
    }

    /// `self - other` (requires `self >= other`).
    pub fn sub(&mut self, other: &Nat) {
        debug_assert!(*self >= *other);
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let v = self.0[i] as i64 - other.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = (v < 0) as i64;
            self.0[i] = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }

    /// `self + other`.
    pub fn add(&mut self, other: &Nat) {
        let mut carry = 0u64;
        let n = self.0.len().max(other.0.len());
        self.0.resize(n, 0);
        for i in 0..n {
            let v = self.0[i] as u64 + other.0.get(i).copied().unwrap_or(0) as u64 + carry;
            self.0[i] = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// `2^k`.
    pub fn pow2(k: u64) -> Nat {
        let mut n = Nat::default();
        n.set_bit(k);
        n
    }
}

impl PartialOrd for Nat {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Nat {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}
