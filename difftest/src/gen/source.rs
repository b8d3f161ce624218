//! Where the generator's decisions come from: a seeded PRNG for campaigns,
//! or raw bytes (proptest, cargo fuzz) through `arbitrary`.

/// A stream of bounded choices.
pub trait Source {
    /// A number in `0..n` (`n ≥ 1`).
    fn below(&mut self, n: u32) -> u32;

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    /// Pick one of `items`.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
}

/// SplitMix64: tiny, fast, and good enough for test generation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Source for Rng {
    fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }
}

/// Decisions read from fuzzer bytes; once the bytes run out every choice is 0,
/// which the generator maps to its smallest option, so generation ends.
pub struct Bytes<'a, 'b>(pub &'b mut arbitrary::Unstructured<'a>);

impl Source for Bytes<'_, '_> {
    fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        self.0.int_in_range(0..=n - 1).unwrap_or(0)
    }
}
