//! What `watch` and `bench` keep: per pod 16 bytes of UID and a 4-byte slot
//! (interned node index, phase, flags) — never the Pod object — and the
//! tally those slots add up to; per node what the report needs. [`Mirror`]
//! applies informer events to a store, relists included (build a fresh
//! store, swap it in, report what differs). Pure: events in, counts out.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::event::Event;
use super::node::NodeInfo;
use super::placement::Neighbours;
use super::pod::{Contribution, Phase, PodFacts};
use super::requests::Demand;
use super::tally::{NodeCounts, Tally};

/// A store that informer events keep up to date.
pub trait Store {
    type Item;
    type Key;
    /// What a change touched, for the consumer to redraw.
    type Touch;
    /// An empty store to relist into, sharing whatever must stay stable
    /// across the swap (interned node indices).
    fn fresh(&self) -> Self;
    fn apply(&mut self, item: Self::Item, touched: &mut impl FnMut(Self::Touch));
    fn delete(&mut self, key: &Self::Key, touched: &mut impl FnMut(Self::Touch));
    /// What differs between `old` and `new` (`new` came from `old.fresh()`).
    fn changed(old: &Self, new: &Self, touched: &mut impl FnMut(Self::Touch));
}

/// A store and, while a relist is in progress, the next one being built.
#[derive(Clone, Debug, Default)]
pub struct Mirror<S> {
    pub live: S,
    next: Option<S>,
    /// Synced at least once.
    pub synced: bool,
    /// The resourceVersion `live` is exactly the state at (empty until the
    /// first sync): set from `At` only once what it covers is applied.
    pub resource_version: String,
    /// The resourceVersion of the relist being built, `live`'s at `Synced`.
    next_rv: Option<String>,
}

impl<S: Store> Mirror<S> {
    pub fn new(live: S) -> Self {
        Mirror { live, next: None, synced: false, resource_version: String::new(), next_rv: None }
    }

    /// A relist is being built (the live store is the previous state).
    pub fn relisting(&self) -> bool {
        self.next.is_some()
    }

    /// Applies one event. `touched` hears what changed in the live store:
    /// at once for Apply and Delete, at `Synced` for a whole relist.
    pub fn handle(&mut self, ev: Event<S::Item, S::Key>, touched: &mut impl FnMut(S::Touch)) {
        match ev {
            Event::Relist { .. } => {
                self.next = Some(self.live.fresh());
                self.next_rv = None;
            }
            Event::Page(items) => {
                let next = self.next.get_or_insert_with(|| self.live.fresh());
                for item in items {
                    next.apply(item, &mut |_| {});
                }
            }
            Event::Synced => {
                if let Some(next) = self.next.take() {
                    let old = std::mem::replace(&mut self.live, next);
                    S::changed(&old, &self.live, touched);
                    if let Some(rv) = self.next_rv.take() {
                        self.resource_version = rv;
                    }
                }
                self.synced = true;
            }
            // Changes come between relists, to the live store.
            Event::Apply(item, rv) => {
                self.live.apply(item, touched);
                if let Some(rv) = rv {
                    self.resource_version = rv;
                }
            }
            Event::Delete(key, rv) => {
                self.live.delete(&key, touched);
                if let Some(rv) = rv {
                    self.resource_version = rv;
                }
            }
            Event::Reconnecting { .. } => {}
            // Behind a relist, `live` stays at its own resourceVersion.
            Event::At(rv) if self.next.is_some() => self.next_rv = Some(rv),
            Event::At(rv) => self.resource_version = rv,
        }
    }
}

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

/// Bits of a slot that hold the interned node.
const NODE_BITS: u32 = 26;
/// No node: the slot of an unscheduled pod. (An interner never gets this
/// far: 67 million node names.)
const NO_NODE: u32 = (1 << NODE_BITS) - 1;

/// One pod as counting sees it, in 4 bytes: the interned node (26 bits),
/// the phase (3), terminating (1), daemon set (1), host network (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot(u32);

impl Slot {
    /// `f`'s node is already interned as `node`.
    fn new<N>(node: u32, f: &PodFacts<N>) -> Slot {
        let phase = match f.phase {
            Phase::Pending => 0,
            Phase::Running => 1,
            Phase::Succeeded => 2,
            Phase::Failed => 3,
            Phase::Unknown => 4,
        };
        Slot(
            node.min(NO_NODE)
                | phase << NODE_BITS
                | u32::from(f.terminating) << 29
                | u32::from(f.daemon_set) << 30
                | u32::from(f.host_network) << 31,
        )
    }

    fn node(self) -> u32 {
        self.0 & NO_NODE
    }

    fn phase(self) -> Phase {
        match (self.0 >> NODE_BITS) & 7 {
            0 => Phase::Pending,
            1 => Phase::Running,
            2 => Phase::Succeeded,
            3 => Phase::Failed,
            _ => Phase::Unknown,
        }
    }

    fn contribution(self) -> Contribution<u32> {
        PodFacts {
            node: (self.node() != NO_NODE).then_some(self.node()),
            phase: self.phase(),
            terminating: self.0 >> 29 & 1 == 1,
            daemon_set: self.0 >> 30 & 1 == 1,
            host_network: self.0 >> 31 == 1,
        }
        .contribution()
    }
}

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
pub struct UidHasher(u64);

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

type UidMap<V> = HashMap<Uid, V, BuildHasherDefault<UidHasher>>;

/// A pod as the store takes it (decoded by the informer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRecord {
    pub uid: Uid,
    pub node: Option<Box<str>>,
    pub phase: Phase,
    pub terminating: bool,
    pub daemon_set: bool,
    pub host_network: bool,
    /// What the pod requests, when resources are tracked.
    pub demand: Option<Demand<Box<str>>>,
    /// Quantities of it that could not be read (left out of `demand`).
    pub unreadable: Option<String>,
    /// What it tells each `--fits` shape's inter-pod filters, when they
    /// read placed pods (None: nothing).
    pub placed: Option<Box<[Neighbours]>>,
}

impl PodRecord {
    pub fn new(uid: &str, f: PodFacts<&str>) -> PodRecord {
        PodRecord {
            uid: uid_key(uid),
            node: f.node.map(Into::into),
            phase: f.phase,
            terminating: f.terminating,
            daemon_set: f.daemon_set,
            host_network: f.host_network,
            demand: None,
            unreadable: None,
            placed: None,
        }
    }

    pub fn facts(&self) -> PodFacts<&str> {
        PodFacts {
            node: self.node.as_deref(),
            phase: self.phase,
            terminating: self.terminating,
            daemon_set: self.daemon_set,
            host_network: self.host_network,
        }
    }
}

/// A pod's demand, interned: most pods share a shape with their replicas,
/// so a pod keeps a 4-byte id, and a shape is freed with its last pod.
#[derive(Clone, Debug, Default)]
struct Shapes {
    /// By id - 1: the shape and how many pods hold it.
    list: Vec<(Demand<Box<str>>, u32)>,
    index: HashMap<Demand<Box<str>>, u32>,
    free: Vec<u32>,
}

/// The id of no shape.
const NO_SHAPE: u32 = 0;

impl Shapes {
    /// One more pod of this shape; its id.
    fn acquire<N: AsRef<str>>(&mut self, d: &Demand<N>) -> u32 {
        if d.is_empty() {
            return NO_SHAPE;
        }
        let owned = d.to_owned();
        if let Some(&id) = self.index.get(&owned) {
            self.list[id as usize - 1].1 += 1;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                self.list[id as usize - 1] = (owned.clone(), 1);
                id
            }
            None => {
                self.list.push((owned.clone(), 1));
                self.list.len() as u32
            }
        };
        self.index.insert(owned, id);
        id
    }

    /// One pod fewer of this shape.
    fn release(&mut self, id: u32) {
        if id == NO_SHAPE {
            return;
        }
        let entry = &mut self.list[id as usize - 1];
        entry.1 -= 1;
        if entry.1 == 0 {
            let gone = std::mem::take(&mut entry.0);
            self.index.remove(&gone);
            self.free.push(id);
        }
    }

    fn get(&self, id: u32) -> Option<&Demand<Box<str>>> {
        (id != NO_SHAPE).then(|| &self.list[id as usize - 1].0)
    }

    fn len(&self) -> usize {
        self.index.len()
    }
}

/// The pod map: 20-byte entries, or 24 with the shape when resources are
/// tracked (so counting alone does not pay for them).
#[derive(Clone, Debug)]
enum Pods {
    Plain(UidMap<Slot>),
    Shaped(UidMap<(Slot, u32)>),
}

impl Default for Pods {
    fn default() -> Self {
        Pods::Plain(UidMap::default())
    }
}

impl Pods {
    fn empty_like(&self) -> Pods {
        match self {
            Pods::Plain(_) => Pods::Plain(UidMap::default()),
            Pods::Shaped(_) => Pods::Shaped(UidMap::default()),
        }
    }

    fn insert(&mut self, uid: Uid, slot: Slot, shape: u32) -> Option<(Slot, u32)> {
        match self {
            Pods::Plain(m) => m.insert(uid, slot).map(|s| (s, NO_SHAPE)),
            Pods::Shaped(m) => m.insert(uid, (slot, shape)),
        }
    }

    fn remove(&mut self, uid: &Uid) -> Option<(Slot, u32)> {
        match self {
            Pods::Plain(m) => m.remove(uid).map(|s| (s, NO_SHAPE)),
            Pods::Shaped(m) => m.remove(uid),
        }
    }

    fn len(&self) -> usize {
        match self {
            Pods::Plain(m) => m.len(),
            Pods::Shaped(m) => m.len(),
        }
    }

    /// Entries the map has room for, and the bytes of one entry.
    fn capacity(&self) -> (usize, usize) {
        match self {
            Pods::Plain(m) => (m.capacity(), std::mem::size_of::<(Uid, Slot)>()),
            Pods::Shaped(m) => (m.capacity(), std::mem::size_of::<(Uid, (Slot, u32))>()),
        }
    }
}

/// Every tracked pod and the counts (and with resources, the demand) they
/// make.
#[derive(Clone, Debug, Default)]
pub struct PodStore {
    names: Nodes,
    pods: Pods,
    shapes: Shapes,
    tally: Tally<u32>,
    /// The pods that tell a `--fits` shape's inter-pod filters something:
    /// each one's part, and their sum per shape.
    placed: UidMap<Box<[Neighbours]>>,
    neighbours: Vec<Neighbours>,
}

impl Store for PodStore {
    type Item = PodRecord;
    type Key = Uid;
    /// An interned node whose counts (or demand) changed.
    type Touch = u32;

    fn fresh(&self) -> Self {
        PodStore { names: self.names.clone(), pods: self.pods.empty_like(), ..Default::default() }
    }

    fn apply(&mut self, mut r: PodRecord, touched: &mut impl FnMut(u32)) {
        self.place(r.uid, r.placed.take());
        self.apply_with(r.uid, r.facts(), r.demand.as_ref()).into_iter().flatten().for_each(touched);
    }

    fn delete(&mut self, uid: &Uid, touched: &mut impl FnMut(u32)) {
        self.place(*uid, None);
        self.delete(*uid).into_iter().for_each(touched);
    }

    fn changed(old: &Self, new: &Self, touched: &mut impl FnMut(u32)) {
        let same = |n: &u32| old.tally.node(n) == new.tally.node(n) && old.tally.demand(n) == new.tally.demand(n);
        for (node, _) in old.tally.nodes() {
            if !same(node) {
                touched(*node);
            }
        }
        // A node with no pods has no entry: absent from `old` is zero there.
        for (node, _) in new.tally.nodes().filter(|(n, _)| old.tally.node(*n) == NodeCounts::default()) {
            touched(*node);
        }
    }
}

impl PodStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that keeps each pod's demand too (24-byte entries).
    pub fn with_resources() -> Self {
        PodStore { pods: Pods::Shaped(UidMap::default()), ..Default::default() }
    }

    /// The interned node names; indices are stable across relists.
    pub fn names(&self) -> &Nodes {
        &self.names
    }

    pub fn intern(&mut self, name: &str) -> u32 {
        self.names.intern(name)
    }

    /// Adds or updates a pod without resources (see [`PodStore::apply_with`]).
    pub fn apply(&mut self, uid: Uid, facts: PodFacts<&str>) -> [Option<u32>; 2] {
        self.apply_with::<Box<str>>(uid, facts, None)
    }

    /// Adds or updates a pod: its old contribution (and demand) out, its new
    /// one in. Returns the nodes this touched. `demand` is kept only in a
    /// store made [`PodStore::with_resources`].
    pub fn apply_with<N: AsRef<str>>(
        &mut self,
        uid: Uid,
        facts: PodFacts<&str>,
        demand: Option<&Demand<N>>,
    ) -> [Option<u32>; 2] {
        let node = facts.node.map_or(NO_NODE, |n| self.names.intern(n));
        let slot = Slot::new(node, &facts);
        let shape = match (&self.pods, demand) {
            (Pods::Shaped(_), Some(d)) => self.shapes.acquire(d),
            _ => NO_SHAPE,
        };
        let old = self.pods.insert(uid, slot, shape);
        if old == Some((slot, shape)) {
            self.shapes.release(shape);
            return [None, None];
        }
        let before = old.map(|(o, old_shape)| {
            self.take_out(o, old_shape);
            o.node()
        });
        let c = slot.contribution();
        if let (Contribution::Node { node, .. }, Some(d)) = (c, self.shapes.get(shape)) {
            self.tally.add_demand(&node, d);
        }
        self.tally.add(c.as_ref());
        [before.filter(|&n| n != NO_NODE), Some(slot.node()).filter(|&n| n != NO_NODE)]
    }

    /// A pod's contribution and demand out of the tally, its shape released.
    fn take_out(&mut self, slot: Slot, shape: u32) {
        let c = slot.contribution();
        if let (Contribution::Node { node, .. }, Some(d)) = (c, self.shapes.get(shape)) {
            self.tally.remove_demand(&node, d);
        }
        self.tally.remove(c.as_ref());
        self.shapes.release(shape);
    }

    /// Forgets a pod; returns the node it was on, if any.
    pub fn delete(&mut self, uid: Uid) -> Option<u32> {
        let (old, shape) = self.pods.remove(&uid)?;
        self.take_out(old, shape);
        (old.node() != NO_NODE).then_some(old.node())
    }

    pub fn tally(&self) -> &Tally<u32> {
        &self.tally
    }

    /// A pod's part for the inter-pod filters: the old one out of the sums,
    /// the new one in.
    fn place(&mut self, uid: Uid, part: Option<Box<[Neighbours]>>) {
        if let Some(old) = self.placed.remove(&uid) {
            for (sum, p) in self.neighbours.iter_mut().zip(old.iter()) {
                sum.combine(p, false);
            }
        }
        if let Some(new) = part {
            if self.neighbours.len() < new.len() {
                self.neighbours.resize_with(new.len(), Neighbours::default);
            }
            for (sum, p) in self.neighbours.iter_mut().zip(new.iter()) {
                sum.combine(p, true);
            }
            self.placed.insert(uid, new);
        }
    }

    /// Per `--fits` shape, what the placed pods tell its inter-pod filters
    /// (empty when none is read).
    pub fn neighbours(&self) -> &[Neighbours] {
        &self.neighbours
    }

    pub fn node(&self, node: u32) -> NodeCounts {
        self.tally.node(&node)
    }

    pub fn len(&self) -> usize {
        self.pods.len()
    }

    /// Distinct request shapes held (with resources).
    pub fn shapes(&self) -> usize {
        self.shapes.len()
    }

    /// Bytes the pod map has allocated: its buckets (7 usable in 8, a power
    /// of two), each an entry and a control byte, plus one group of
    /// control bytes. Arithmetic on the allocation, not a measurement.
    pub fn allocated_bytes(&self) -> usize {
        let (cap, entry) = self.pods.capacity();
        if cap == 0 {
            return 0;
        }
        let buckets = if cap < 8 { (cap + 1).next_power_of_two() } else { (cap * 8 / 7).next_power_of_two() };
        buckets * (entry + 1) + 16
    }

    pub fn is_empty(&self) -> bool {
        self.pods.len() == 0
    }
}

/// Nodes by name, as the report needs them.
#[derive(Clone, Debug, Default)]
pub struct NodeStore {
    pub nodes: HashMap<String, NodeInfo>,
}

/// A node entering or leaving the store.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeTouch {
    Added(NodeInfo),
    Removed(NodeInfo),
}

impl Store for NodeStore {
    type Item = NodeInfo;
    type Key = String;
    type Touch = NodeTouch;

    fn fresh(&self) -> Self {
        NodeStore::default()
    }

    fn apply(&mut self, n: NodeInfo, touched: &mut impl FnMut(NodeTouch)) {
        if !self.nodes.contains_key(&n.name) {
            touched(NodeTouch::Added(n.clone()));
        }
        self.nodes.insert(n.name.clone(), n);
    }

    fn delete(&mut self, name: &String, touched: &mut impl FnMut(NodeTouch)) {
        if let Some(n) = self.nodes.remove(name) {
            touched(NodeTouch::Removed(n));
        }
    }

    fn changed(old: &Self, new: &Self, touched: &mut impl FnMut(NodeTouch)) {
        for n in new.nodes.values().filter(|n| !old.nodes.contains_key(&n.name)) {
            touched(NodeTouch::Added(n.clone()));
        }
        for n in old.nodes.values().filter(|n| !new.nodes.contains_key(&n.name)) {
            touched(NodeTouch::Removed(n.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Relist;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_entry_is_20_bytes_or_24_with_resources() {
        assert_eq!(std::mem::size_of::<(Uid, Slot)>(), 20);
        assert_eq!(std::mem::size_of::<(Uid, (Slot, u32))>(), 24);
    }

    #[test]
    fn slots_round_trip() {
        let phases = [Phase::Pending, Phase::Running, Phase::Succeeded, Phase::Failed, Phase::Unknown];
        for node in [0, 1, 77, NO_NODE - 1, NO_NODE] {
            for phase in phases {
                for flags in 0..8 {
                    let (t, d, h) = (flags & 1 == 1, flags & 2 == 2, flags & 4 == 4);
                    let want = PodFacts {
                        node: (node != NO_NODE).then_some(node),
                        phase,
                        terminating: t,
                        daemon_set: d,
                        host_network: h,
                    };
                    let s = Slot::new(node, &want);
                    assert_eq!((s.node(), s.contribution()), (node, want.contribution()));
                }
            }
        }
    }

    #[test]
    fn uid_keys() {
        assert_eq!(uid_key("00000000-0000-0001-0000-00000000000a"), [0, 1, 0, 10]);
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
            let mut store = PodStore::new();
            let mut live: BTreeMap<u8, (Option<String>, Phase, bool, bool)> = BTreeMap::new();
            for op in ops {
                let before: BTreeMap<u32, NodeCounts> = store.tally().nodes().map(|(k, v)| (*k, *v)).collect();
                let touched: Vec<u32> = match op {
                    Op::Apply(u, n, p, t, d) => {
                        let node = n.map(|n| format!("n{n}"));
                        let facts = PodFacts { node: node.as_deref(), phase: p, terminating: t, daemon_set: d, host_network: d && p == Phase::Running };
                        live.insert(u, (node.clone(), p, t, d));
                        store.apply([0, 0, 0, u32::from(u)], facts).into_iter().flatten().collect()
                    }
                    Op::Delete(u) => {
                        live.remove(&u);
                        store.delete([0, 0, 0, u32::from(u)]).into_iter().collect()
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
                let host_network = *d && *p == Phase::Running;
                want.add(PodFacts { node: node.as_deref(), phase: *p, terminating: *t, daemon_set: *d, host_network }.contribution());
            }
            let got: BTreeMap<String, NodeCounts> =
                store.tally().nodes().map(|(k, v)| (store.names().name(*k).to_string(), *v)).collect();
            let want_map: BTreeMap<String, NodeCounts> = want.nodes().map(|(k, v)| (k.clone(), *v)).collect();
            prop_assert_eq!(got, want_map);
            prop_assert_eq!(store.tally().unscheduled(), want.unscheduled());
            prop_assert_eq!(store.len(), live.len());
        }
    }

    fn record(u: u8, n: Option<u8>, p: Phase) -> PodRecord {
        let node = n.map(|n| format!("n{n}"));
        PodRecord::new(
            &format!("00000000-0000-0000-0000-0000000000{u:02x}"),
            PodFacts { node: node.as_deref(), phase: p, terminating: false, daemon_set: false, host_network: false },
        )
    }

    fn arb_pods() -> impl Strategy<Value = Vec<(u8, Option<u8>, Phase)>> {
        let phase = prop_oneof![Just(Phase::Running), Just(Phase::Pending), Just(Phase::Succeeded)];
        proptest::collection::vec((0u8..40, proptest::option::of(0u8..6), phase), 0..60)
    }

    proptest! {
        /// A relist swap reports exactly the nodes whose counts differ
        /// between the store before and the store after, and leaves the
        /// store equal to one built from the relisted pods alone.
        #[test]
        fn a_swap_reports_every_node_whose_count_changed(before in arb_pods(), after in arb_pods()) {
            let mut m = Mirror::new(PodStore::new());
            m.handle(Event::Relist { why: Relist::Start }, &mut |_| {});
            m.handle(Event::Page(before.iter().map(|&(u, n, p)| record(u, n, p)).collect()), &mut |_| {});
            m.handle(Event::Synced, &mut |_| {});
            let old: BTreeMap<String, NodeCounts> =
                m.live.tally().nodes().map(|(k, v)| (m.live.names().name(*k).to_string(), *v)).collect();
            m.handle(Event::Relist { why: Relist::WatchExpired("410".into()) }, &mut |_| {});
            m.handle(Event::Page(after.iter().map(|&(u, n, p)| record(u, n, p)).collect()), &mut |_| {});
            let mut touched = Vec::new();
            m.handle(Event::Synced, &mut |n| touched.push(n));
            let new: BTreeMap<String, NodeCounts> =
                m.live.tally().nodes().map(|(k, v)| (m.live.names().name(*k).to_string(), *v)).collect();
            let mut want: Vec<String> = old.keys().chain(new.keys())
                .filter(|k| old.get(*k) != new.get(*k)).cloned().collect();
            want.sort();
            want.dedup();
            let mut got: Vec<String> = touched.iter().map(|n| m.live.names().name(*n).to_string()).collect();
            got.sort();
            prop_assert_eq!(&got, &want, "touched nodes, each once");
            let mut fresh = PodStore::new();
            for &(u, n, p) in &after {
                let r = record(u, n, p);
                fresh.apply(r.uid, r.facts());
            }
            let fresh_counts: BTreeMap<String, NodeCounts> =
                fresh.tally().nodes().map(|(k, v)| (fresh.names().name(*k).to_string(), *v)).collect();
            prop_assert_eq!(new, fresh_counts);
        }
    }

    proptest! {
        /// With resources: any sequence of adds, moves, resizes, phase
        /// changes and deletes leaves each node's demand equal to the sum
        /// over its counted pods, and no shape outlives its last pod.
        #[test]
        fn demand_follows_the_pods(ops in proptest::collection::vec(
            (0u8..20, proptest::option::of(0u8..4), any::<bool>(), 0i64..4, any::<bool>()), 0..300)
        ) {
            let mut store = PodStore::with_resources();
            let mut live: BTreeMap<u8, (Option<String>, bool, i64)> = BTreeMap::new();
            for (u, n, finished, cpu, delete) in ops {
                let uid = [0, 0, 0, u32::from(u)];
                if delete {
                    live.remove(&u);
                    store.delete(uid);
                    continue;
                }
                let node = n.map(|n| format!("n{n}"));
                let phase = if finished { Phase::Succeeded } else { Phase::Running };
                let facts = PodFacts { node: node.as_deref(), phase, terminating: false, daemon_set: false, host_network: false };
                let demand = Demand { requests: vec![("cpu", cpu * 100)], limits: vec![] };
                store.apply_with(uid, facts, Some(&demand).filter(|_| cpu > 0));
                live.insert(u, (node, finished, cpu));
            }
            let mut want: BTreeMap<String, i128> = BTreeMap::new();
            for (node, finished, cpu) in live.values() {
                if let (Some(n), false, true) = (node, finished, *cpu > 0) {
                    *want.entry(n.clone()).or_default() += i128::from(*cpu * 100);
                }
            }
            for n in 0..4 {
                let name = format!("n{n}");
                let got = store.names().get(&name).and_then(|i| store.tally().demand(&i)).and_then(|d| d.requests.get("cpu")).copied().unwrap_or(0);
                prop_assert_eq!(got, want.get(&name).copied().unwrap_or(0), "node {}", name);
            }
            let shapes: std::collections::BTreeSet<i64> = live.values().map(|(_, _, c)| *c).filter(|c| *c > 0).collect();
            prop_assert_eq!(store.shapes(), shapes.len());
        }
    }

    #[test]
    fn node_relists_report_arrivals_and_departures() {
        let node = |name: &str| NodeInfo { name: name.into(), ..Default::default() };
        let mut m = Mirror::new(NodeStore::default());
        m.handle(Event::Page(vec![node("a"), node("b")]), &mut |_| {});
        m.handle(Event::Synced, &mut |_| {});
        m.handle(Event::Relist { why: Relist::Start }, &mut |_| {});
        m.handle(Event::Page(vec![node("b"), node("c")]), &mut |_| {});
        let mut seen = Vec::new();
        m.handle(Event::Synced, &mut |t| seen.push(t));
        assert_eq!(seen, [NodeTouch::Added(node("c")), NodeTouch::Removed(node("a"))]);
        let mut seen = Vec::new();
        m.handle(Event::Delete("b".into(), None), &mut |t| seen.push(t));
        m.handle(Event::Delete("zz".into(), None), &mut |t| seen.push(t));
        assert_eq!(seen, [NodeTouch::Removed(node("b"))]);
    }

    /// The resourceVersion a mirror claims is the one its live store is at:
    /// a relist's moves only with the swap, a change's once it is applied.
    #[test]
    fn the_resource_version_claimed_is_the_one_applied() {
        let node = |name: &str| NodeInfo { name: name.into(), ..Default::default() };
        let mut m = Mirror::new(NodeStore::default());
        m.handle(Event::Relist { why: Relist::Start }, &mut |_| {});
        m.handle(Event::Page(vec![node("a")]), &mut |_| {});
        m.handle(Event::At("10".into()), &mut |_| {});
        assert_eq!(m.resource_version, "", "not before the first sync");
        m.handle(Event::Synced, &mut |_| {});
        assert_eq!(m.resource_version, "10");
        m.handle(Event::Apply(node("b"), Some("11".into())), &mut |_| {});
        assert_eq!(m.resource_version, "11");
        // A relist in progress: the live store (and its claim) stay at 11.
        m.handle(Event::Relist { why: Relist::Reconnected }, &mut |_| {});
        m.handle(Event::Page(vec![node("c")]), &mut |_| {});
        m.handle(Event::At("20".into()), &mut |_| {});
        assert_eq!((m.resource_version.as_str(), m.live.nodes.len()), ("11", 2));
        m.handle(Event::Synced, &mut |_| {});
        assert_eq!((m.resource_version.as_str(), m.live.nodes.len()), ("20", 1));
    }
}
