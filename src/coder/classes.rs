//! Values that share one weight: what [`crate::coder::Cdf::quantize_classes`] needs to
//! quantize a distribution from one weight per class.

/// A partition of the K values of an alphabet into classes numbered by first appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classes {
    class: Vec<u16>,
    /// Members per class.
    count: Vec<u32>,
    /// The first member of each class (ascending, as classes are numbered by it).
    first: Vec<u16>,
    /// The class with the most members (lowest among equals).
    common: u16,
    /// `(value, class)` of every value outside `common`, ascending.
    others: Vec<(u16, u16)>,
}

impl Classes {
    /// From `class[a]`, value a's class. Classes must be numbered by first appearance
    /// (`class[a]` <= every earlier class + 1), so that every class has a member.
    pub fn new(class: Vec<u16>) -> Self {
        let mut count: Vec<u32> = Vec::new();
        let mut first = Vec::new();
        for (a, &c) in class.iter().enumerate() {
            let c = usize::from(c);
            assert!(c <= count.len(), "classes numbered by first appearance");
            if c == count.len() {
                count.push(0);
                first.push(a as u16);
            }
            count[c] += 1;
        }
        let common = (0..count.len())
            .max_by_key(|&c| (count[c], std::cmp::Reverse(c)))
            .unwrap_or(0) as u16;
        let others = (0..class.len() as u16)
            .zip(class.iter().copied())
            .filter(|&(_, c)| c != common)
            .collect();
        Classes {
            class,
            count,
            first,
            common,
            others,
        }
    }

    /// Value a's class, for every value (K entries).
    pub fn of_values(&self) -> &[u16] {
        &self.class
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.count.len()
    }

    /// True for an empty alphabet.
    pub fn is_empty(&self) -> bool {
        self.count.is_empty()
    }

    /// The first value of class `c` (of value 0 for a class out of range).
    pub fn first_value(&self, c: usize) -> usize {
        self.first.get(c).map_or(0, |&a| usize::from(a))
    }

    /// Number of values outside the largest class.
    pub fn outside_common(&self) -> usize {
        self.others.len()
    }

    /// `(value, class)` of every value outside the largest class, ascending.
    pub fn others(&self) -> &[(u16, u16)] {
        &self.others
    }

    /// The class with the most members (lowest among equals).
    pub fn common(&self) -> usize {
        usize::from(self.common)
    }

    /// Members of each class.
    #[cfg(test)]
    fn counts(&self) -> &[u32] {
        &self.count
    }

    /// `f[a] = per_class[class[a]]` for every value: the common class's entry everywhere,
    /// then the others'. Returns the sum of `f` modulo 2^32, taken on the way (the common
    /// class's entries by one multiply).
    pub(super) fn spread(&self, per_class: &[u32], f: &mut [u32]) -> u32 {
        let common = usize::from(self.common);
        f.fill(per_class[common]);
        let mut sum = per_class[common].wrapping_mul(self.count[common]);
        for &(a, c) in &self.others {
            let fa = per_class[usize::from(c)];
            f[usize::from(a)] = fa;
            sum = sum.wrapping_add(fa);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreading_gives_each_value_its_class_entry() {
        let c = Classes::new(vec![0, 1, 0, 2, 1, 0]);
        assert_eq!((c.len(), c.counts()), (3, &[3u32, 2, 1][..]));
        assert_eq!([0, 1, 2, 3].map(|i| c.first_value(i)), [0, 1, 3, 0]);
        let mut f = [0u32; 6];
        let sum = c.spread(&[7, 8, u32::MAX], &mut f);
        assert_eq!(f, [7, 8, 7, u32::MAX, 8, 7]);
        assert_eq!(sum, 7 * 3 + 8 * 2 - 1, "wrapping");
    }
}
