//! A fast hasher for the small maps on the per-record path (topic names, task ids).
//!
//! The keys are names the topology chose, not input data, so the hash need not resist
//! collision attacks; SipHash (the std default) costs more than the lookups it serves here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The multiply-rotate hash of rustc's `FxHasher`, a word at a time.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length first, so that zero padding of the last word cannot make two slices equal.
        self.add(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_names_land_in_distinct_entries() {
        let mut map: FastMap<String, usize> = FastMap::default();
        let names: Vec<String> = (0..1000).map(|i| format!("topic-{i}")).collect();
        for (i, n) in names.iter().enumerate() {
            map.insert(n.clone(), i);
        }
        assert_eq!(map.len(), 1000);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(map.get(n.as_str()), Some(&i));
        }
        // A name and the same name padded with a zero byte hash differently.
        let mut a = FastHasher::default();
        std::hash::Hash::hash("ab", &mut a);
        let mut b = FastHasher::default();
        std::hash::Hash::hash("ab\0", &mut b);
        assert_ne!(a.finish(), b.finish());
    }
}
