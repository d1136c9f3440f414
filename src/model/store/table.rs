//! The pod map: UID -> a small `Copy` value, in one flat allocation that
//! grows by a quarter, never by doubling.
//!
//! Why not `HashMap`: its bucket count is a power of two, so at 141,000
//! pods it holds 262,144 buckets (39 bytes a pod for a 20-byte entry), and
//! what a pod costs swings by 2x with the pod count. Here an entry is the
//! 20 (or 24) bytes and nothing else: open addressing with linear probing,
//! an all-zero UID marks a free entry (the one pod whose UID is all zeros,
//! if any, is kept beside the table), the home of a UID is its mixed hash
//! scaled onto the table (any size works, not only powers of two), and a
//! delete shifts the run behind it back, so there are no tombstones and
//! probes stay short. The table is at most 85 % full and grows by 25 %, so
//! an entry costs between 1.18x and 1.47x its size at every pod count.

use super::uid::Uid;

const FREE: Uid = [0; 4];
/// Full at 17/20 = 85 %.
const LOAD_NUM: usize = 17;
const LOAD_DEN: usize = 20;
const MIN_CAPACITY: usize = 16;

#[derive(Clone, Debug)]
pub(super) struct UidTable<V> {
    entries: Box<[(Uid, V)]>,
    /// Occupied entries (not counting `zero`).
    used: usize,
    /// The value of the all-zero UID, which cannot live in `entries`.
    zero: Option<V>,
}

impl<V: Copy + Default> Default for UidTable<V> {
    fn default() -> Self {
        UidTable { entries: Box::default(), used: 0, zero: None }
    }
}

/// The entry a UID would sit at if nothing were in its way.
fn home(uid: &Uid, size: usize) -> usize {
    let hi = (u64::from(uid[0]) << 32 | u64::from(uid[1])).rotate_left(29);
    let lo = u64::from(uid[2]) << 32 | u64::from(uid[3]);
    let h = (hi ^ lo).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // The high bits of the product, scaled onto [0, size).
    ((u128::from(h) * size as u128) >> 64) as usize
}

impl<V: Copy + Default> UidTable<V> {
    pub(super) fn len(&self) -> usize {
        self.used + usize::from(self.zero.is_some())
    }

    /// Entries allocated (free or not).
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Bytes the table has allocated.
    pub(super) fn allocated_bytes(&self) -> usize {
        std::mem::size_of_val::<[(Uid, V)]>(&self.entries)
    }

    /// The entry holding `uid`, or the free entry where it would go.
    fn find(&self, uid: &Uid) -> Result<usize, usize> {
        let size = self.entries.len();
        let mut i = home(uid, size);
        loop {
            let (k, _) = &self.entries[i];
            if k == uid {
                return Ok(i);
            }
            if *k == FREE {
                return Err(i);
            }
            i = if i + 1 == size { 0 } else { i + 1 };
        }
    }

    #[cfg(test)]
    fn get(&self, uid: &Uid) -> Option<V> {
        if *uid == FREE {
            return self.zero;
        }
        if self.entries.is_empty() {
            return None;
        }
        self.find(uid).ok().map(|i| self.entries[i].1)
    }

    /// An empty table with room for `n` entries.
    pub(super) fn with_room(n: usize) -> Self {
        let mut t = Self::default();
        t.reserve(n);
        t
    }

    /// Room for `more` entries beyond those held, without growing.
    pub(super) fn reserve(&mut self, more: usize) {
        let want = (self.used + more) * LOAD_DEN / LOAD_NUM + 1;
        if want > self.entries.len() {
            self.resize(want.max(MIN_CAPACITY));
        }
    }

    pub(super) fn insert(&mut self, uid: Uid, value: V) -> Option<V> {
        if uid == FREE {
            return self.zero.replace(value);
        }
        if (self.used + 1) * LOAD_DEN > self.entries.len() * LOAD_NUM {
            let grown = self.entries.len() + self.entries.len() / 4;
            self.resize(grown.max(MIN_CAPACITY));
        }
        match self.find(&uid) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries[i] = (uid, value);
                self.used += 1;
                None
            }
        }
    }

    pub(super) fn remove(&mut self, uid: &Uid) -> Option<V> {
        if *uid == FREE {
            return self.zero.take();
        }
        if self.entries.is_empty() {
            return None;
        }
        let mut hole = self.find(uid).ok()?;
        let value = self.entries[hole].1;
        self.used -= 1;
        // Backward shift: an entry further along the run moves into the hole
        // unless its home lies cyclically after the hole (then moving it
        // would put it before its home, where a lookup never looks).
        let size = self.entries.len();
        let mut j = hole;
        loop {
            j = if j + 1 == size { 0 } else { j + 1 };
            let k = self.entries[j].0;
            if k == FREE {
                break;
            }
            let h = home(&k, size);
            let stays = if hole <= j { hole < h && h <= j } else { hole < h || h <= j };
            if !stays {
                self.entries[hole] = self.entries[j];
                hole = j;
            }
        }
        self.entries[hole] = (FREE, V::default());
        Some(value)
    }

    /// A table of `size` entries holding what this one holds.
    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.entries, vec![(FREE, V::default()); size].into_boxed_slice());
        for &(k, v) in old.iter().filter(|(k, _)| *k != FREE) {
            let i = self.find(&k).expect_err("a key is moved once");
            self.entries[i] = (k, v);
        }
    }

    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = (Uid, V)> + '_ {
        self.entries.iter().copied().filter(|(k, _)| *k != FREE).chain(self.zero.map(|v| (FREE, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(Uid, u32),
        Remove(Uid),
        Reserve(u16),
    }

    /// Keys from a small range, so inserts, updates and removes of the same
    /// key interleave, long runs form, and the all-zero UID comes up; and a
    /// few random ones.
    fn key() -> impl Strategy<Value = Uid> {
        prop_oneof![
            4 => (0u32..64).prop_map(|k| [0, 0, k & 1, k]),
            1 => any::<[u32; 4]>(),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (key(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => key().prop_map(Op::Remove),
            1 => (0u16..200).prop_map(Op::Reserve),
        ]
    }

    proptest! {
        /// Any sequence of inserts, updates, removes and reserves answers
        /// every lookup as a BTreeMap does, and stays at most 85 % full.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 0..600)) {
            let mut table: UidTable<u32> = UidTable::default();
            let mut want: BTreeMap<Uid, u32> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(table.insert(k, v), want.insert(k, v)),
                    Op::Remove(k) => prop_assert_eq!(table.remove(&k), want.remove(&k)),
                    Op::Reserve(n) => table.reserve(usize::from(n)),
                }
                prop_assert_eq!(table.len(), want.len());
                prop_assert!(table.used * LOAD_DEN <= table.capacity() * LOAD_NUM);
            }
            for k in (0u32..64).map(|k| [0, 0, k & 1, k]) {
                prop_assert_eq!(table.get(&k), want.get(&k).copied());
            }
            let got: BTreeMap<Uid, u32> = table.iter().collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn grows_by_a_quarter_and_stays_dense() {
        let mut table: UidTable<u32> = UidTable::default();
        let mut worst: f64 = 0.0;
        for n in 1..=200_000u32 {
            table.insert([n.wrapping_mul(2_654_435_761), n, 7, n ^ 0x5555], n);
            if n >= 1_000 {
                worst = worst.max(table.capacity() as f64 / f64::from(n));
            }
        }
        // Full at 85 %, then 25 % more: never more than 1.25 / 0.85 = 1.47 entries a key.
        assert!(worst <= 1.25 / 0.85 + 0.01, "{worst}");
        assert_eq!(table.len(), 200_000);
        for n in (1..=200_000u32).step_by(7) {
            assert_eq!(table.get(&[n.wrapping_mul(2_654_435_761), n, 7, n ^ 0x5555]), Some(n));
        }
    }

    #[test]
    fn reserve_sizes_to_the_hint() {
        let mut table: UidTable<u32> = UidTable::default();
        table.reserve(150_000);
        let size = table.capacity();
        assert!(size * LOAD_NUM >= 150_000 * LOAD_DEN && size < 150_000 * 6 / 5, "{size}");
        for n in 1..=150_000u32 {
            table.insert([n, 0, n, 1], n);
        }
        assert_eq!(table.capacity(), size, "no growth within the hint");
    }
}
