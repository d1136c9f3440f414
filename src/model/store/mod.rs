//! What `watch` and `bench` keep: per pod 16 bytes of UID and a 4-byte slot
//! (interned node index, phase, flags) — never the Pod object — and the
//! tally those slots add up to; per node what the report needs. [`Mirror`]
//! applies informer events to a store, relists included (build a fresh
//! store, swap it in, report what differs), and is the only writer of its
//! state. Pure: events in, counts out.
//!
//! - [`Store`] and [`Mirror`] (here): the protocol, and the writer;
//! - `pods`: [`PodStore`] and the [`PodRecord`] it takes;
//! - `nodes`: [`NodeStore`];
//! - `slot`: a pod packed in 4 bytes; `uid`: UIDs as keys and their hasher;
//!   `table`: the UID -> slot map, dense at every pod count;
//!   `intern`: node names and pod demands, interned.

mod intern;
mod nodes;
mod pods;
mod slot;
mod table;
mod uid;

pub use nodes::{NodeStore, NodeTouch};
pub use pods::{PodRecord, PodStore};
pub use uid::{Uid, uid_key};

use super::event::Event;

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
    live: S,
    next: Option<S>,
    /// Synced at least once.
    synced: bool,
    /// The resourceVersion `live` is exactly the state at (empty until the
    /// first sync): set from `At` only once what it covers is applied.
    resource_version: String,
    /// The resourceVersion of the relist being built, `live`'s at `Synced`.
    next_rv: Option<String>,
}

impl<S: Store> Mirror<S> {
    pub fn new(live: S) -> Self {
        Mirror { live, next: None, synced: false, resource_version: String::new(), next_rv: None }
    }

    /// The current state (the previous one while a relist is built).
    pub fn live(&self) -> &S {
        &self.live
    }

    /// Synced at least once.
    pub fn synced(&self) -> bool {
        self.synced
    }

    /// The resourceVersion the live store is exactly the state at; empty
    /// until the first sync.
    pub fn resource_version(&self) -> &str {
        &self.resource_version
    }

    /// Nothing will be listed (the resource cannot be read): the store
    /// counts as synced, empty, so what depends on it goes on without it.
    pub fn synced_empty(&mut self) {
        self.synced = true;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Relist;
    use crate::model::node::NodeInfo;
    use crate::model::pod::{Phase, PodFacts};
    use crate::model::tally::NodeCounts;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

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
                m.live().tally().nodes().map(|(k, v)| (m.live().names().name(*k).to_string(), *v)).collect();
            m.handle(Event::Relist { why: Relist::WatchExpired("410".into()) }, &mut |_| {});
            m.handle(Event::Page(after.iter().map(|&(u, n, p)| record(u, n, p)).collect()), &mut |_| {});
            let mut touched = Vec::new();
            m.handle(Event::Synced, &mut |n| touched.push(n));
            let new: BTreeMap<String, NodeCounts> =
                m.live().tally().nodes().map(|(k, v)| (m.live().names().name(*k).to_string(), *v)).collect();
            let mut want: Vec<String> = old.keys().chain(new.keys())
                .filter(|k| old.get(*k) != new.get(*k)).cloned().collect();
            want.sort();
            want.dedup();
            let mut got: Vec<String> = touched.iter().map(|n| m.live().names().name(*n).to_string()).collect();
            got.sort();
            prop_assert_eq!(&got, &want, "touched nodes, each once");
            let mut fresh = PodStore::new();
            for &(u, n, p) in &after {
                let r = record(u, n, p);
                fresh.apply_facts(r.uid, r.facts());
            }
            let fresh_counts: BTreeMap<String, NodeCounts> =
                fresh.tally().nodes().map(|(k, v)| (fresh.names().name(*k).to_string(), *v)).collect();
            prop_assert_eq!(new, fresh_counts);
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
        assert_eq!(m.resource_version(), "", "not before the first sync");
        m.handle(Event::Synced, &mut |_| {});
        assert_eq!(m.resource_version(), "10");
        m.handle(Event::Apply(node("b"), Some("11".into())), &mut |_| {});
        assert_eq!(m.resource_version(), "11");
        // A relist in progress: the live store (and its claim) stay at 11.
        m.handle(Event::Relist { why: Relist::Reconnected }, &mut |_| {});
        m.handle(Event::Page(vec![node("c")]), &mut |_| {});
        m.handle(Event::At("20".into()), &mut |_| {});
        assert_eq!((m.resource_version(), m.live().len()), ("11", 2));
        m.handle(Event::Synced, &mut |_| {});
        assert_eq!((m.resource_version(), m.live().len()), ("20", 1));
    }
}
