//! Pod UIDs as 16-byte keys, and the cheap hasher they need.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A pod's UID in 16 bytes. Four u32s rather than a u128 or two u64s: with
/// 4-byte alignment the 4-byte slot packs next to it, a 20-byte map entry
/// (a u128 key pads an entry to 32 bytes, two u64s to 24).
pub type Uid = [u32; 4];

/// A pod's UID as a number. The apiserver issues RFC 4122 UUIDs; anything
/// else is hashed so it still has a stable key.
pub fn uid_key(uid: &str) -> Uid {
    let v = uid_u128(uid);
    [(v >> 96) as u32, (v >> 64) as u32, (v >> 32) as u32, v as u32]
}

fn uid_u128(uid: &str) -> u128 {
    let hex: String = uid.chars().filter(|c| *c != '-').collect();
    if hex.len() == 32
        && let Ok(v) = u128::from_str_radix(&hex, 16)
    {
        return v;
    }
    // FNV-1a, 128-bit.
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in uid.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h
}

/// UIDs are random already: mixing them once is hash enough, and far
/// cheaper than SipHash on the per-event path.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct UidHasher(u64);

impl Hasher for UidHasher {
    fn write(&mut self, bytes: &[u8]) {
        // A key's 16 bytes arrive in one call: mix them 8 at a time.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = self.0.rotate_left(29) ^ v;
    }
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

pub(super) type UidMap<V> = HashMap<Uid, V, BuildHasherDefault<UidHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_keys() {
        assert_eq!(uid_key("00000000-0000-0001-0000-00000000000a"), [0, 1, 0, 10]);
        assert_ne!(uid_key("not-a-uuid"), uid_key("not-a-uuid2"));
        assert_eq!(uid_key("not-a-uuid"), uid_key("not-a-uuid"));
    }
}
