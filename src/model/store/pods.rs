//! The pod store: per pod 16 bytes of UID and a 4-byte slot (with
//! resources, a 4-byte shape id too), and the tally they add up to.

use super::Store;
use super::intern::{NO_SHAPE, Nodes, Shapes};
use super::slot::{NO_NODE, Slot};
use super::table::UidTable;
use super::uid::{Uid, UidMap, uid_key};
use crate::model::placement::Neighbours;
use crate::model::pod::{Contribution, Phase, PodFacts};
use crate::model::requests::Demand;
use crate::model::tally::{NodeCounts, Tally};

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

/// The pod map: 20-byte entries, or 24 with the shape when resources are
/// tracked (so counting alone does not pay for them).
#[derive(Clone, Debug)]
enum Pods {
    Plain(UidTable<Slot>),
    Shaped(UidTable<(Slot, u32)>),
}

impl Default for Pods {
    fn default() -> Self {
        Pods::Plain(UidTable::default())
    }
}

impl Pods {
    /// An empty map of the same kind, with room for as many pods as this
    /// one holds (a relist brings back about as many).
    fn empty_like(&self) -> Pods {
        match self {
            Pods::Plain(_) => Pods::Plain(UidTable::with_room(self.len())),
            Pods::Shaped(_) => Pods::Shaped(UidTable::with_room(self.len())),
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

    fn allocated_bytes(&self) -> usize {
        match self {
            Pods::Plain(m) => m.allocated_bytes(),
            Pods::Shaped(m) => m.allocated_bytes(),
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
        self.remove(*uid).into_iter().for_each(touched);
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
        PodStore { pods: Pods::Shaped(UidTable::default()), ..Default::default() }
    }

    /// The interned node names; indices are stable across relists.
    pub fn names(&self) -> &Nodes {
        &self.names
    }

    /// Adds or updates a pod without resources (see [`PodStore::apply_with`]).
    #[cfg(test)]
    pub fn apply_facts(&mut self, uid: Uid, facts: PodFacts<&str>) -> [Option<u32>; 2] {
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
    pub fn remove(&mut self, uid: Uid) -> Option<u32> {
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
    #[cfg(test)]
    pub fn shapes(&self) -> usize {
        self.shapes.len()
    }

    /// Bytes the pod map has allocated (its entries, free ones included).
    pub fn allocated_bytes(&self) -> usize {
        self.pods.allocated_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn an_entry_is_20_bytes_or_24_with_resources() {
        assert_eq!(std::mem::size_of::<(Uid, Slot)>(), 20);
        assert_eq!(std::mem::size_of::<(Uid, (Slot, u32))>(), 24);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Apply(u8, Option<u8>, Phase, bool, bool),
        Delete(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        let phase = crate::model::pod::any_phase();
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
                        store.apply_facts([0, 0, 0, u32::from(u)], facts).into_iter().flatten().collect()
                    }
                    Op::Delete(u) => {
                        live.remove(&u);
                        store.remove([0, 0, 0, u32::from(u)]).into_iter().collect()
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
                    store.remove(uid);
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
}
