//! The per-node tally: counts per node, kept by adding and removing pods'
//! contributions (the rule is in [`super::pod`]). A pure state machine, no
//! I/O: `count` (folding list pages) and `watch` (applying events) both go
//! through [`Tally::add`] and [`Tally::remove`], so the two agree by
//! construction.

use super::vecmap::VecMap;
use crate::model::resource_name::ResourceName;
use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::pod::{Bucket, Contribution};
use super::requests::Demand;

/// Requests and limits summed over a node's counted pods, by resource name,
/// in the scheduler's units (cpu millicores, the rest whole units).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeDemand {
    pub requests: VecMap<ResourceName, i128>,
    pub limits: VecMap<ResourceName, i128>,
}

impl NodeDemand {
    fn apply<N: AsRef<str>>(&mut self, d: &Demand<N>, sign: i128) {
        for (sums, list) in [(&mut self.requests, &d.requests), (&mut self.limits, &d.limits)] {
            for (name, v) in list {
                let name = name.as_ref();
                match sums.get_mut(name) {
                    Some(s) => *s += sign * i128::from(*v),
                    None => {
                        sums.insert(ResourceName::from(name), sign * i128::from(*v));
                    }
                }
            }
        }
    }

    fn merge(&mut self, other: &NodeDemand) {
        for (mine, theirs) in [(&mut self.requests, &other.requests), (&mut self.limits, &other.limits)] {
            for (name, v) in theirs {
                *mine.or_default(name.as_str()) += v;
            }
        }
    }
}

/// Counts on one node. `pods` is the sum of the four buckets; `daemon_set`
/// and `host_network` are "of which"s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCounts {
    pub pods: u32,
    pub running: u32,
    pub pending: u32,
    pub unknown: u32,
    pub terminating: u32,
    pub daemon_set: u32,
    pub host_network: u32,
}

impl NodeCounts {
    fn bucket_mut(&mut self, bucket: Bucket) -> &mut u32 {
        match bucket {
            Bucket::Running => &mut self.running,
            Bucket::Pending => &mut self.pending,
            Bucket::Unknown => &mut self.unknown,
            Bucket::Terminating => &mut self.terminating,
        }
    }

    fn add(&mut self, bucket: Bucket, daemon_set: bool, host_network: bool) {
        self.pods += 1;
        *self.bucket_mut(bucket) += 1;
        self.daemon_set += u32::from(daemon_set);
        self.host_network += u32::from(host_network);
    }

    /// Removing what was never added is a caller bug; counts still never go
    /// below zero.
    fn remove(&mut self, bucket: Bucket, daemon_set: bool, host_network: bool) {
        debug_assert!(self.pods > 0 && *self.bucket_mut(bucket) > 0, "removing an uncounted pod");
        self.pods = self.pods.saturating_sub(1);
        let b = self.bucket_mut(bucket);
        *b = b.saturating_sub(1);
        if daemon_set {
            debug_assert!(self.daemon_set > 0, "removing an uncounted DaemonSet pod");
            self.daemon_set = self.daemon_set.saturating_sub(1);
        }
        if host_network {
            debug_assert!(self.host_network > 0, "removing an uncounted hostNetwork pod");
            self.host_network = self.host_network.saturating_sub(1);
        }
    }
}

/// Per-node counts keyed by `K` (node names for `count`), plus the
/// unscheduled total. Nodes whose count drops to zero are forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally<K: Ord> {
    nodes: BTreeMap<K, NodeCounts>,
    /// Per node, what its counted pods request (when resources are read).
    demand: BTreeMap<K, NodeDemand>,
    unscheduled: u64,
}

impl<K: Ord> Default for Tally<K> {
    fn default() -> Self {
        Tally { nodes: BTreeMap::new(), demand: BTreeMap::new(), unscheduled: 0 }
    }
}

impl<K: Ord> Tally<K> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add<Q>(&mut self, c: Contribution<&Q>)
    where
        K: Borrow<Q>,
        Q: Ord + ToOwned<Owned = K> + ?Sized,
    {
        match c {
            Contribution::Nothing => {}
            Contribution::Unscheduled => self.unscheduled += 1,
            Contribution::Node { node, bucket, daemon_set, host_network } => match self.nodes.get_mut(node) {
                Some(counts) => counts.add(bucket, daemon_set, host_network),
                None => {
                    let mut counts = NodeCounts::default();
                    counts.add(bucket, daemon_set, host_network);
                    self.nodes.insert(node.to_owned(), counts);
                }
            },
        }
    }

    pub fn remove<Q>(&mut self, c: Contribution<&Q>)
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match c {
            Contribution::Nothing => {}
            Contribution::Unscheduled => {
                debug_assert!(self.unscheduled > 0, "removing an uncounted unscheduled pod");
                self.unscheduled = self.unscheduled.saturating_sub(1)
            }
            Contribution::Node { node, bucket, daemon_set, host_network } => {
                if let Some(counts) = self.nodes.get_mut(node) {
                    counts.remove(bucket, daemon_set, host_network);
                    if counts.pods == 0 {
                        self.nodes.remove(node);
                        self.demand.remove(node);
                    }
                } else {
                    debug_assert!(false, "removing a pod from a node with no count");
                }
            }
        }
    }

    pub fn node<Q>(&self, node: &Q) -> NodeCounts
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.nodes.get(node).copied().unwrap_or_default()
    }

    /// Nodes with at least one counted pod, in key order.
    pub fn nodes(&self) -> impl Iterator<Item = (&K, &NodeCounts)> {
        self.nodes.iter()
    }

    /// Adds a counted pod's demand to its node (call with the pod's
    /// `Contribution::Node`, once).
    pub fn add_demand<Q, N: AsRef<str>>(&mut self, node: &Q, d: &Demand<N>)
    where
        K: Borrow<Q>,
        Q: Ord + ToOwned<Owned = K> + ?Sized,
    {
        if d.is_empty() {
            return;
        }
        match self.demand.get_mut(node) {
            Some(sums) => sums.apply(d, 1),
            None => {
                let mut sums = NodeDemand::default();
                sums.apply(d, 1);
                self.demand.insert(node.to_owned(), sums);
            }
        }
    }

    /// Takes a counted pod's demand off its node (before removing the pod).
    pub fn remove_demand<Q, N: AsRef<str>>(&mut self, node: &Q, d: &Demand<N>)
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        if let Some(sums) = self.demand.get_mut(node) {
            sums.apply(d, -1);
        }
    }

    /// Every resource name a counted pod requests or limits.
    pub fn demanded(&self) -> impl Iterator<Item = &ResourceName> {
        let mut names: std::collections::BTreeSet<&ResourceName> = std::collections::BTreeSet::new();
        for d in self.demand.values() {
            names.extend(d.requests.keys());
            names.extend(d.limits.keys());
        }
        names.into_iter()
    }

    /// What the node's counted pods request, if resources are read and any do.
    pub fn demand<Q>(&self, node: &Q) -> Option<&NodeDemand>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.demand.get(node)
    }

    /// Adds another tally's counts under new keys (interned node indices
    /// back to names, for printing).
    pub fn absorb<J: Ord>(&mut self, other: &Tally<J>, key: impl Fn(&J) -> K) {
        for (k, c) in &other.nodes {
            let mine = self.nodes.entry(key(k)).or_default();
            mine.pods += c.pods;
            mine.running += c.running;
            mine.pending += c.pending;
            mine.unknown += c.unknown;
            mine.terminating += c.terminating;
            mine.daemon_set += c.daemon_set;
            mine.host_network += c.host_network;
        }
        for (k, d) in &other.demand {
            self.demand.entry(key(k)).or_default().merge(d);
        }
        self.unscheduled += other.unscheduled;
    }

    pub fn unscheduled(&self) -> u64 {
        self.unscheduled
    }

    /// All pods counted against some node.
    pub fn counted(&self) -> u64 {
        self.nodes.values().map(|c| u64::from(c.pods)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::{Phase, PodFacts};
    use proptest::prelude::*;

    fn facts(node: Option<&str>, phase: Phase, terminating: bool, daemon_set: bool) -> PodFacts<&str> {
        // DaemonSet pods on the host network, as node agents often are.
        PodFacts { node, phase, terminating, daemon_set, host_network: daemon_set && !terminating }
    }

    fn arb_pod() -> impl Strategy<Value = (Option<String>, Phase, bool, bool)> {
        let phase = crate::model::pod::any_phase();
        (proptest::option::weighted(0.9, "n[0-7]"), phase, any::<bool>(), any::<bool>())
    }

    /// A recount straight from the rule, written without the tally.
    fn recount(pods: &[(Option<String>, Phase, bool, bool)]) -> (BTreeMap<String, NodeCounts>, u64) {
        let mut nodes: BTreeMap<String, NodeCounts> = BTreeMap::new();
        let mut unscheduled = 0;
        for (node, phase, terminating, ds) in pods {
            if matches!(phase, Phase::Succeeded | Phase::Failed) {
                continue;
            }
            let Some(node) = node else {
                unscheduled += 1;
                continue;
            };
            let c = nodes.entry(node.clone()).or_default();
            c.pods += 1;
            c.daemon_set += *ds as u32;
            c.host_network += (*ds && !*terminating) as u32;
            match (terminating, phase) {
                (true, _) => c.terminating += 1,
                (false, Phase::Running) => c.running += 1,
                (false, Phase::Pending) => c.pending += 1,
                _ => c.unknown += 1,
            }
        }
        (nodes, unscheduled)
    }

    fn tally_of(pods: &[(Option<String>, Phase, bool, bool)]) -> Tally<String> {
        let mut t = Tally::new();
        for (node, phase, terminating, ds) in pods {
            t.add(facts(node.as_deref(), *phase, *terminating, *ds).contribution());
        }
        t
    }

    proptest! {
        /// Folding page by page (any page size) equals a from-scratch recount.
        #[test]
        fn paged_fold_equals_recount(pods in proptest::collection::vec(arb_pod(), 0..300), page in 1usize..50) {
            let mut t: Tally<String> = Tally::new();
            for chunk in pods.chunks(page) {
                // A page is decoded, folded in and dropped.
                for (node, phase, terminating, ds) in chunk.iter().cloned() {
                    t.add(facts(node.as_deref(), phase, terminating, ds).contribution());
                }
            }
            let (nodes, unscheduled) = recount(&pods);
            prop_assert_eq!(t.nodes().map(|(k, v)| (k.clone(), *v)).collect::<BTreeMap<_, _>>(), nodes);
            prop_assert_eq!(t.unscheduled(), unscheduled);
            for (_, c) in t.nodes() {
                prop_assert_eq!(c.pods, c.running + c.pending + c.unknown + c.terminating);
                prop_assert!(c.daemon_set <= c.pods && c.host_network <= c.pods);
            }
        }

        /// Removing a subset of pods leaves the tally of the rest: the
        /// incremental path `watch` takes.
        #[test]
        fn remove_is_inverse_of_add(pods in proptest::collection::vec(arb_pod(), 0..200), keep in proptest::collection::vec(any::<bool>(), 200)) {
            let mut t = tally_of(&pods);
            let mut kept = Vec::new();
            for (i, (node, phase, terminating, ds)) in pods.iter().enumerate() {
                if keep[i] {
                    kept.push((node.clone(), *phase, *terminating, *ds));
                } else {
                    t.remove(facts(node.as_deref(), *phase, *terminating, *ds).contribution());
                }
            }
            prop_assert_eq!(t, tally_of(&kept));
        }
    }
}
