//! xorshift64*: a small deterministic generator, so that a generated set
//! (the bench's store curve, the differential tests' clusters) is its seed.

pub(crate) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    #[cfg(test)]
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
