//! What `watch` keeps per pod: 16 bytes of UID and 8 bytes of slot (interned
//! node index, phase, flags) — never the Pod object — and the tally those
//! slots add up to. Pure: events in, per-node counts out.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::tally::{Contribution, NodeCounts, Phase, PodFacts, Tally};

/// Interned node names: a pod stores a u32, not a String.
#[derive(Clone, Debug, Default)]
pub struct Nodes {
    names: Vec<Box<str>>,
    index: HashMap<Box<str>, u32>,
}

impl Nodes {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), i);
        i
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }
}

/// No node: the slot of an unscheduled pod.
const NO_NODE: u32 = u32::MAX;

/// One pod as counting sees it, in 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    node: u32,
    phase: Phase,
    terminating: bool,
    daemon_set: bool,
}

impl Slot {
    fn contribution(self) -> Contribution<u32> {
        PodFacts {
            node: (self.node != NO_NODE).then_some(self.node),
            phase: self.phase,
            terminating: self.terminating,
            daemon_set: self.daemon_set,
        }
        .contribution()
    }
}

/// A pod's UID in 16 bytes. Two u64s rather than a u128, whose 16-byte
/// alignment would pad every map entry from 24 to 32 bytes.
pub type Uid = [u64; 2];

/// A pod's UID as a number. The apiserver issues RFC 4122 UUIDs; anything
/// else is hashed so it still has a stable key.
pub fn uid_key(uid: &str) -> Uid {
    let v = uid_u128(uid);
    [(v >> 64) as u64, v as u64]
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
pub struct UidHasher(u64);

impl Hasher for UidHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = self.0.rotate_left(29) ^ v;
    }
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

type UidMap = HashMap<Uid, Slot, BuildHasherDefault<UidHasher>>;

/// Every tracked pod and the counts they make.
#[derive(Clone, Debug, Default)]
pub struct PodStore {
    pods: UidMap,
    tally: Tally<u32>,
}

impl PodStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or updates a pod: its old contribution out, its new one in.
    /// Returns the nodes whose counts this touched.
    pub fn apply(&mut self, nodes: &mut Nodes, uid: Uid, facts: PodFacts<&str>) -> [Option<u32>; 2] {
        let slot = Slot {
            node: facts.node.map_or(NO_NODE, |n| nodes.intern(n)),
            phase: facts.phase,
            terminating: facts.terminating,
            daemon_set: facts.daemon_set,
        };
        let old = self.pods.insert(uid, slot);
        if old == Some(slot) {
            return [None, None];
        }
        let before = old.map(|o| {
            self.tally.remove(o.contribution().as_ref());
            o.node
        });
        self.tally.add(slot.contribution().as_ref());
        [before.filter(|&n| n != NO_NODE), Some(slot.node).filter(|&n| n != NO_NODE)]
    }

    /// Forgets a pod; returns the node it was on, if any.
    pub fn delete(&mut self, uid: Uid) -> Option<u32> {
        let old = self.pods.remove(&uid)?;
        self.tally.remove(old.contribution().as_ref());
        (old.node != NO_NODE).then_some(old.node)
    }

    pub fn tally(&self) -> &Tally<u32> {
        &self.tally
    }

    pub fn node(&self, node: u32) -> NodeCounts {
        self.tally.node(&node)
    }

    pub fn len(&self) -> usize {
        self.pods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }

    /// Bytes the map holds per tracked pod: its buckets (a 24-byte entry and
    /// a control byte each; 8 buckets for every 7 usable) over the pods in it.
    pub fn bytes_per_pod(&self) -> f64 {
        if self.pods.is_empty() {
            return 0.0;
        }
        let buckets = (self.pods.capacity() * 8 / 7).next_power_of_two();
        (buckets * (std::mem::size_of::<(Uid, Slot)>() + 1)) as f64 / self.pods.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_entry_is_24_bytes() {
        assert_eq!(std::mem::size_of::<(Uid, Slot)>(), 24);
    }

    #[test]
    fn uid_keys() {
        assert_eq!(uid_key("00000000-0000-0001-0000-00000000000a"), [1, 10]);
        assert_ne!(uid_key("not-a-uuid"), uid_key("not-a-uuid2"));
        assert_eq!(uid_key("not-a-uuid"), uid_key("not-a-uuid"));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Apply(u8, Option<u8>, Phase, bool, bool),
        Delete(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        let phase = prop_oneof![
            Just(Phase::Pending),
            Just(Phase::Running),
            Just(Phase::Succeeded),
            Just(Phase::Failed),
            Just(Phase::Unknown)
        ];
        prop_oneof![
            4 => (0u8..30, proptest::option::of(0u8..5), phase, any::<bool>(), any::<bool>())
                .prop_map(|(u, n, p, t, d)| Op::Apply(u, n, p, t, d)),
            1 => (0u8..30).prop_map(Op::Delete),
        ]
    }

    proptest! {
        /// Any sequence of adds, moves, phase changes and deletes leaves the
        /// same counts as counting the surviving pods from scratch, and the
        /// touched nodes are exactly those whose counts changed.
        #[test]
        fn incremental_equals_recount(ops in proptest::collection::vec(op(), 0..400)) {
            let mut nodes = Nodes::default();
            let mut store = PodStore::new();
            let mut live: BTreeMap<u8, (Option<String>, Phase, bool, bool)> = BTreeMap::new();
            for op in ops {
                let before: BTreeMap<u32, NodeCounts> = store.tally().nodes().map(|(k, v)| (*k, *v)).collect();
                let touched: Vec<u32> = match op {
                    Op::Apply(u, n, p, t, d) => {
                        let node = n.map(|n| format!("n{n}"));
                        let facts = PodFacts { node: node.as_deref(), phase: p, terminating: t, daemon_set: d };
                        live.insert(u, (node.clone(), p, t, d));
                        store.apply(&mut nodes, [0, u64::from(u)], facts).into_iter().flatten().collect()
                    }
                    Op::Delete(u) => {
                        live.remove(&u);
                        store.delete([0, u64::from(u)]).into_iter().collect()
                    }
                };
                let after: BTreeMap<u32, NodeCounts> = store.tally().nodes().map(|(k, v)| (*k, *v)).collect();
                for k in before.keys().chain(after.keys()) {
                    if before.get(k) != after.get(k) {
                        prop_assert!(touched.contains(k), "node {k} changed but was not reported");
                    }
                }
            }
            let mut want: Tally<String> = Tally::new();
            for (node, p, t, d) in live.values() {
                want.add(PodFacts { node: node.as_deref(), phase: *p, terminating: *t, daemon_set: *d }.contribution());
            }
            let got: BTreeMap<String, NodeCounts> =
                store.tally().nodes().map(|(k, v)| (nodes.name(*k).to_string(), *v)).collect();
            let want_map: BTreeMap<String, NodeCounts> = want.nodes().map(|(k, v)| (k.clone(), *v)).collect();
            prop_assert_eq!(got, want_map);
            prop_assert_eq!(store.tally().unscheduled(), want.unscheduled());
            prop_assert_eq!(store.len(), live.len());
        }
    }
}
