//! One watched cluster: its pod and node stores (kept current by informer
//! events), what was last printed, what `--until-saturated` still has to
//! judge, and the informers' health as `/readyz` and `/metrics` report it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::lines::{Changed, Moved, Printer, State, Synced};
use super::view::View;
use crate::model::event::{Event, Relist};
use crate::model::fits::Shape;
use crate::model::node::NodeInfo;
use crate::model::resource_name::ResourceName;
use crate::model::store::{Mirror, NodeStore, NodeTouch, PodRecord, PodStore, Uid};
use crate::model::tally::Tally;
use crate::render::time;
use crate::report::Counted;
use crate::report::fits::answers;
use crate::report::group::{GroupKey, GroupRow, MISSING, UNKNOWN, groups};
use crate::report::percent::Percent;
use crate::report::resources::{Selection, Shown};
use crate::report::rows::{Extra, leave_out_closed, rows};
use crate::report::sort::{SortBy, sort_rows};
use crate::report::verdict::first_saturated;
use crate::source::informer::Meter;

pub type PodEvent = Event<PodRecord, Uid>;
pub type NodeEvent = Event<NodeInfo, String>;

/// Counted for `/metrics`: what one informer's events did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub relists: u64,
    pub reconnects: u64,
    pub events: u64,
}

impl Counters {
    fn count<T, K>(&mut self, ev: &Event<T, K>) {
        match ev {
            Event::Relist { .. } => self.relists += 1,
            Event::Reconnecting { .. } => self.reconnects += 1,
            Event::Page(items) => self.events += items.len() as u64,
            Event::Apply(..) | Event::Delete(..) => self.events += 1,
            Event::Synced | Event::At(_) => {}
        }
    }
}

/// Why an informer's store is not a current view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stale {
    /// It stopped for good.
    Failed,
    /// Its first list is in progress.
    Listing,
    /// A relist is in progress (after a 410, or a failure with nothing to
    /// resume from).
    Relisting,
    /// Its watch is not open: it is retrying.
    Reconnecting,
}

impl Stale {
    fn word(self) -> &'static str {
        match self {
            Stale::Failed => "failed",
            Stale::Listing => "listing",
            Stale::Relisting => "relisting",
            Stale::Reconnecting => "reconnecting",
        }
    }
}

/// Whether each informer of a cluster is current, and if not why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    pub pods: Option<Stale>,
    /// None also when the node list cannot be read at all (counts go on
    /// without it).
    pub nodes: Option<Stale>,
}

impl Readiness {
    /// `context X: pods: listing, nodes: reconnecting`, or None when ready.
    pub fn why(&self, context: &str) -> Option<String> {
        let why: Vec<String> = [("pods", self.pods), ("nodes", self.nodes)]
            .into_iter()
            .filter_map(|(what, stale)| stale.map(|s| format!("{what}: {}", s.word())))
            .collect();
        (!why.is_empty()).then(|| format!("context {context}: {}", why.join(", ")))
    }
}

/// One cluster's state: pods, nodes, and what was last printed. Only its
/// own methods write it.
pub struct Cluster {
    context: String,
    /// The cluster's identity, served for `count --from` (`--listen` reads it).
    cluster_id: Option<String>,
    /// `--fits`: the shapes as this cluster's own facts make them.
    shapes: Vec<Shape>,
    pods: Mirror<PodStore>,
    nodes: Mirror<NodeStore>,
    /// Shown the first table (both informers synced once).
    started: bool,
    /// Pod count per interned node as last printed.
    printed: Vec<u32>,
    dirty: BTreeSet<u32>,
    /// `--until-saturated`: nodes whose counts changed since last judged
    /// (so an event costs its own nodes, not a walk over all of them), or
    /// all of them after a sync or a node change.
    to_judge: BTreeSet<u32>,
    judge_all: bool,
    failed: bool,
    /// The node list is forbidden: counts go on without allocatable.
    nodes_unreadable: bool,
    /// `--resources`: requests per shown resource per interned node, as
    /// last printed.
    printed_requests: HashMap<u32, Vec<(String, i128)>>,
    /// Pods whose unreadable quantities were already warned about.
    warned: BTreeSet<String>,
    /// `--group-by`: pods per group as last printed.
    printed_groups: BTreeMap<String, u64>,
    groups_dirty: bool,
    /// Shared with the informers: whether their watches are open, the last
    /// resourceVersion.
    pod_meter: Meter,
    node_meter: Meter,
    pod_counters: Counters,
    node_counters: Counters,
}

impl Cluster {
    /// `resources`: keep each pod's requests too.
    pub fn new(context: String, resources: bool, shapes: Vec<Shape>) -> Cluster {
        Cluster {
            context,
            cluster_id: None,
            shapes,
            pods: Mirror::new(if resources { PodStore::with_resources() } else { PodStore::new() }),
            nodes: Mirror::default(),
            started: false,
            printed: Vec::new(),
            dirty: BTreeSet::new(),
            to_judge: BTreeSet::new(),
            judge_all: true,
            failed: false,
            nodes_unreadable: false,
            printed_requests: HashMap::new(),
            warned: BTreeSet::new(),
            printed_groups: BTreeMap::new(),
            groups_dirty: false,
            pod_meter: Meter::default(),
            node_meter: Meter::default(),
            pod_counters: Counters::default(),
            node_counters: Counters::default(),
        }
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    /// `--fits`: the shapes, as this cluster's facts make them.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// What `/v1/podcount` says of which cluster this is.
    pub fn set_cluster_id(&mut self, id: Option<String>) {
        self.cluster_id = id;
    }

    pub fn pods(&self) -> &Mirror<PodStore> {
        &self.pods
    }

    pub fn nodes(&self) -> &Mirror<NodeStore> {
        &self.nodes
    }

    /// What the pod and node informers report their watches' state through.
    pub fn meters(&self) -> (Meter, Meter) {
        (self.pod_meter.clone(), self.node_meter.clone())
    }

    /// What the pod and node informers' events did.
    pub fn counters(&self) -> (Counters, Counters) {
        (self.pod_counters, self.node_counters)
    }

    /// Both informers have synced once.
    pub fn synced(&self) -> bool {
        self.pods.synced() && self.nodes.synced()
    }

    /// The first table is out.
    pub fn started(&self) -> bool {
        self.started
    }

    pub fn failed(&self) -> bool {
        self.failed
    }

    /// An informer stopped for good, or the view cannot be shown.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// The node list cannot be read: counts go on without allocatable.
    pub fn go_on_without_nodes(&mut self) {
        self.nodes_unreadable = true;
        self.nodes.synced_empty();
    }

    fn printed(&self, node: u32) -> u32 {
        self.printed.get(node as usize).copied().unwrap_or(0)
    }

    fn set_printed(&mut self, node: u32, pods: u32) {
        let i = node as usize;
        if self.printed.len() <= i {
            self.printed.resize(i + 1, 0);
        }
        self.printed[i] = pods;
    }

    fn tally_by_name(&self) -> Tally<String> {
        let mut t = Tally::new();
        let names = self.pods.live().names();
        t.absorb(self.pods.live().tally(), |i| names.name(*i).to_string());
        t
    }

    /// Whether the stores are a current view: not while listing, relisting,
    /// or while a watch is not open (reconnecting).
    pub fn readiness(&self) -> Readiness {
        let stale = |synced: bool, relisting: bool, meter: &Meter| {
            if self.failed {
                Some(Stale::Failed)
            } else if !synced {
                Some(Stale::Listing)
            } else if relisting {
                Some(Stale::Relisting)
            } else if !meter.watching.load(std::sync::atomic::Ordering::Relaxed) {
                Some(Stale::Reconnecting)
            } else {
                None
            }
        };
        Readiness {
            pods: stale(self.pods.synced(), self.pods.relisting(), &self.pod_meter),
            nodes: stale(self.nodes.synced(), self.nodes.relisting(), &self.node_meter)
                .filter(|_| !self.nodes_unreadable),
        }
    }

    /// The count as `count -o json` would give it, from memory; with
    /// `--resources`, every resource tracked (so `count --from` can pick
    /// the ones it is asked for).
    pub fn document_view(&self, view: &View) -> Counted {
        let all = View { resources: view.resources.as_ref().map(|_| Selection::Tracked), ..view.clone() };
        let mut counted = self.counted(&all);
        sort_rows(&mut counted.rows, &SortBy::Name);
        // What the stores applied, never what the wire has brought since.
        let rv = |r: &str| Some(r.to_string()).filter(|r| !r.is_empty());
        counted.resource_version = rv(self.pods.resource_version());
        counted.node_resource_version = rv(self.nodes.resource_version()).filter(|_| !self.nodes_unreadable);
        counted.cluster_id = self.cluster_id.clone();
        counted
    }

    /// The group of a node (`--group-by`).
    fn group_of(&self, key: &GroupKey, node: &str) -> String {
        match self.nodes.live().get(node) {
            _ if self.nodes_unreadable => UNKNOWN.into(),
            Some(info) => key.value_of(&info.labels).to_string(),
            None => MISSING.into(),
        }
    }

    /// The resources the view shows of this cluster.
    fn shown(&self, view: &View) -> Option<Shown> {
        let tally = self.pods.live().tally();
        let requested: Vec<&str> = tally.demanded().map(ResourceName::as_str).collect();
        view.shown(self.nodes.live().iter(), requested)
    }

    /// Node rows of the current stores: listed nodes in name order, then
    /// nodes known only from their pods.
    pub fn counted(&self, view: &View) -> Counted {
        let filter = &view.filter;
        let tally = self.tally_by_name();
        let listed = (!self.nodes_unreadable).then_some(self.nodes.live().as_slice());
        let shown = self.shown(view);
        // With a node selector, pods on other nodes are outside the view.
        let shapes: &[Shape] = if view.fits { &self.shapes } else { &[] };
        let extra = Extra { shown: shown.as_ref(), shapes };
        let mut rows = rows(&tally, listed, filter.node_selector.is_none(), &extra);
        // The store's sums when it reads placed pods (it does for every
        // shape, or for none).
        let placed = self.pods.live().neighbours();
        let reads = shapes.iter().any(|s| s.constraints.reads_neighbours());
        let neighbours = reads.then_some(placed);
        let answers = answers(&mut rows, listed, shapes, neighbours, filter.node_selector.is_some());
        let left_out = filter.schedulable_only.then(|| leave_out_closed(&mut rows));
        Counted {
            context: self.context.clone(),
            cluster_id: None,
            observed_at: time::now(),
            resource_version: None,
            node_resource_version: None,
            filter: filter.clone(),
            rows,
            unscheduled: tally.unscheduled(),
            groups: None,
            left_out,
            shapes: shapes.to_vec(),
            answers,
            release: None,
            what_if: None,
            loss_each: None,
        }
    }

    /// Both informers have synced once: remember what the first table shows
    /// (change lines are counted from it) and return that view; or why the
    /// view cannot be (a named resource the cluster lacks).
    pub fn start(&mut self, view: &View) -> Result<Counted, String> {
        let requested: Vec<&str> = self.pods.live().tally().demanded().map(ResourceName::as_str).collect();
        view.check(self.nodes.live().iter(), requested)?;
        self.started = true;
        for (node, pods) in self.pods.live().tally().nodes().map(|(k, v)| (*k, v.pods)).collect::<Vec<_>>() {
            self.set_printed(node, pods);
        }
        if let Some(shown) = self.shown(view) {
            let nodes: Vec<u32> = self.pods.live().tally().nodes().map(|(k, _)| *k).collect();
            for node in nodes {
                let now = self.requests_of(node, &shown);
                self.printed_requests.insert(node, now);
            }
        }
        self.dirty.clear();
        let mut counted = self.counted(view);
        counted.groups = view.grouped(&counted.rows);
        if let Some(g) = &counted.groups {
            self.printed_groups = g.rows.iter().map(|g| (g.name.clone(), g.pods)).collect();
        }
        self.judge_all = true;
        Ok(counted)
    }

    /// A node's requests of the shown resources (0 where none).
    fn requests_of(&self, node: u32, shown: &Shown) -> Vec<(String, i128)> {
        let demand = self.pods.live().tally().demand(&node);
        shown
            .names
            .iter()
            .map(|n| (n.clone(), demand.and_then(|d| d.requests.get(n.as_str())).copied().unwrap_or(0)))
            .collect()
    }

    /// The `synced` event (jsonl), over the first view's rows.
    pub fn synced_event<'a>(&'a self, counted: &'a Counted) -> Synced<'a> {
        let grouped = counted.groups.as_ref();
        Synced {
            pods: self.pods.live().tally().counted(),
            tracked_pods: self.pods.live().len() as u64,
            nodes: self.nodes.live().len() as u64,
            unscheduled: counted.unscheduled,
            rows: &counted.rows,
            resource_version: self.pods.resource_version(),
            node_resource_version: self.nodes.resource_version(),
            group_by: grouped.map(|g| g.by.as_str()),
            groups: grouped.map(|_| &self.printed_groups),
        }
    }

    pub fn on_pod_event(&mut self, ev: PodEvent, p: &mut Printer) {
        self.pod_counters.count(&ev);
        announce_state(&self.context, &ev, p, None);
        self.warn_unreadable(&ev, p);
        let (dirty, to_judge) = (&mut self.dirty, &mut self.to_judge);
        self.pods.handle(ev, &mut |node| {
            dirty.insert(node);
            to_judge.insert(node);
        });
    }

    /// One warning per pod whose quantities cannot be read.
    fn warn_unreadable(&mut self, ev: &PodEvent, p: &mut Printer) {
        let records: &[PodRecord] = match ev {
            Event::Page(items) => items,
            Event::Apply(r, _) => std::slice::from_ref(r),
            _ => &[],
        };
        for why in records.iter().filter_map(|r| r.unreadable.as_ref()) {
            if self.warned.insert(why.clone()) {
                p.warn(&self.context, &format!("{why}; counted, without those quantities in its requests"));
            }
        }
    }

    pub fn on_node_event(&mut self, ev: NodeEvent, p: &mut Printer) {
        self.node_counters.count(&ev);
        announce_state(&self.context, &ev, p, Some("nodes"));
        // A node's labels may have moved it to another group.
        self.groups_dirty = true;
        let mut touched = Vec::new();
        self.nodes.handle(ev, &mut |t| touched.push(t));
        self.judge_all |= !touched.is_empty();
        // Said once the first table is out. The event carries the node's current
        // count: with a node selector, a node entering the view brings its pods
        // with it and one leaving takes them along (no change lines for either).
        for t in touched {
            let n = match &t {
                NodeTouch::Added(n) | NodeTouch::Removed(n) => n,
            };
            // A node no pod was ever counted on has nothing printed yet.
            let pods = match self.pods.live().names().get(&n.name) {
                Some(idx) => {
                    let pods = self.pods.live().node(idx).pods;
                    self.set_printed(idx, pods);
                    pods
                }
                None => 0,
            };
            if self.started {
                let (node, allocatable) = (n.name.as_str(), n.allocatable);
                let state = match t {
                    NodeTouch::Added(_) => State::NodeAdded { node, allocatable, pods },
                    NodeTouch::Removed(_) => State::NodeRemoved { node, allocatable, pods },
                };
                p.state(&self.context, &state);
            }
        }
    }

    /// Prints one line per node whose count (or, with `--resources`,
    /// requests) differs from what was last printed (with `--group-by`: per
    /// group, and node lines only in jsonl).
    pub fn flush(&mut self, p: &mut Printer, view: &View) {
        if !self.started {
            return;
        }
        let shown = self.shown(view);
        p.resource_version.clear();
        p.resource_version.push_str(self.pods.resource_version());
        for node in std::mem::take(&mut self.dirty) {
            let now = self.pods.live().node(node).pods;
            let before = self.printed(node);
            let moved = match &shown {
                Some(shown) => self.moved_requests(node, shown),
                None => Vec::new(),
            };
            if now == before && moved.is_empty() {
                continue;
            }
            self.set_printed(node, now);
            self.groups_dirty = true;
            let name = self.pods.live().names().name(node).to_string();
            let info = self.nodes.live().get(&name);
            // With a node selector, pods on other nodes are outside it.
            if view.filter.node_selector.is_some() && info.is_none() {
                continue;
            }
            // With --schedulable-only, cordoned and tainted nodes are out of view.
            if view.filter.schedulable_only && info.is_some_and(NodeInfo::closed) {
                continue;
            }
            if view.group_key.is_some() && !p.jsonl {
                continue;
            }
            let allocatable = info.and_then(|i| i.allocatable).map(u64::from);
            let group = view.group_key.as_ref().map(|k| self.group_of(k, &name));
            let moved: Vec<Moved> = moved
                .into_iter()
                .map(|(resource, from, to)| {
                    let allocatable = info.and_then(|i| i.resources.get(resource.as_str())).map(|&a| i128::from(a));
                    Moved { resource, from, to, allocatable }
                })
                .collect();
            let what = Changed::Node { name: &name, group: group.as_deref() };
            p.change(&self.context, what, before.into(), now.into(), allocatable, &moved);
        }
        if let Some(key) = &view.group_key
            && std::mem::take(&mut self.groups_dirty)
        {
            self.flush_groups(p, view, key);
        }
    }

    /// The shown resources whose requests on `node` moved since last
    /// printed: (name, from, to); remembers the new values.
    fn moved_requests(&mut self, node: u32, shown: &Shown) -> Vec<(String, i128, i128)> {
        let now = self.requests_of(node, shown);
        let before = self.printed_requests.insert(node, now.clone()).unwrap_or_default();
        now.into_iter()
            .filter_map(|(name, to)| {
                let from = before.iter().find(|(n, _)| *n == name).map_or(0, |(_, v)| *v);
                (from != to).then_some((name, from, to))
            })
            .collect()
    }

    /// One line per group whose count differs from what was last printed.
    fn flush_groups(&mut self, p: &mut Printer, view: &View, key: &GroupKey) {
        let rows = self.counted(view).rows;
        let now: Vec<GroupRow> = groups(&rows, key, view.threshold);
        let mut printed = std::mem::take(&mut self.printed_groups);
        for g in &now {
            let before = printed.remove(&g.name).unwrap_or(0);
            if before != g.pods {
                let what = Changed::Group { by: &key.name, name: &g.name };
                p.change(&self.context, what, before, g.pods, g.allocatable, &[]);
            }
        }
        // Groups that are gone (their last node left): down to nothing.
        for (name, before) in printed.into_iter().filter(|(_, b)| *b > 0) {
            p.change(&self.context, Changed::Group { by: &key.name, name: &name }, before, 0, None, &[]);
        }
        self.printed_groups = now.into_iter().map(|g| (g.name, g.pods)).collect();
    }

    /// `--until-saturated`: the line naming the first node above `pct`, among
    /// the nodes touched since the last call (every node after a sync or a
    /// node change). `context` prefixes the line when several are watched.
    pub fn judge(&mut self, pct: Option<Percent>, schedulable_only: bool, context: Option<&str>) -> Option<String> {
        let (all, touched) = (std::mem::take(&mut self.judge_all), std::mem::take(&mut self.to_judge));
        let pct = pct?;
        let live = self.pods.live();
        fn as_judged<'n>(live: &PodStore, n: &'n NodeInfo) -> (&'n str, u32, Option<u32>) {
            let pods = live.names().get(&n.name).map_or(0, |i| live.node(i).pods);
            (n.name.as_str(), pods, n.allocatable)
        }
        let judged = |n| as_judged(live, n);
        // With --schedulable-only, cordoned and tainted nodes are not judged.
        let in_view = |n: &&NodeInfo| !(schedulable_only && n.closed());
        if all {
            first_saturated(pct, context, self.nodes.live().iter().filter(in_view).map(judged))
        } else {
            let nodes = touched.iter().filter_map(|&i| self.nodes.live().get(live.names().name(i)));
            first_saturated(pct, context, nodes.filter(in_view).map(judged))
        }
    }
}

/// Relists and reconnects are said as they happen, whatever the store does.
fn announce_state<T, K>(context: &str, ev: &Event<T, K>, p: &mut Printer, resource: Option<&'static str>) {
    let state = match ev {
        Event::Relist { why } if *why != Relist::Start => State::Relisting { reason: why.to_string(), resource },
        Event::Reconnecting { why } => State::Reconnecting { reason: why.clone(), resource },
        _ => return,
    };
    p.state(context, &state);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::filter::Filter;
    use crate::model::pod::{Phase, PodFacts};
    use crate::watch::lines::captured;

    fn pod(u: u32, node: &str) -> PodRecord {
        let facts = PodFacts {
            node: Some(node),
            phase: Phase::Running,
            terminating: false,
            daemon_set: false,
            host_network: false,
        };
        PodRecord::new(&format!("00000000-0000-0000-0000-{u:012x}"), facts)
    }

    fn uid(u: u32) -> Uid {
        crate::model::store::uid_key(&format!("00000000-0000-0000-0000-{u:012x}"))
    }

    fn node(name: &str, zone: &str) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            allocatable: Some(4),
            ready: true,
            schedulable: true,
            labels: [("rack".to_string(), zone.to_string())].into(),
            ..Default::default()
        }
    }

    fn view(group_key: Option<GroupKey>) -> View {
        View {
            group_key,
            threshold: Percent::SATURATED,
            filter: Filter::default(),
            sort: SortBy::Name,
            resources: None,
            limits: false,
            fits: false,
        }
    }

    /// Nodes a (rack x) and b (rack y), 4 slots each; pods 1, 2 on a, 3 on b.
    fn synced(p: &mut Printer, v: &View) -> Cluster {
        let mut c = Cluster::new("kind".into(), false, Vec::new());
        c.on_node_event(Event::Page(vec![node("a", "x"), node("b", "y")]), p);
        c.on_node_event(Event::Synced, p);
        c.on_pod_event(Event::Page(vec![pod(1, "a"), pod(2, "a"), pod(3, "b")]), p);
        c.on_pod_event(Event::Synced, p);
        c.start(v).unwrap();
        c
    }

    #[test]
    fn changes_are_coalesced_per_node_between_flushes() {
        let (mut p, out, err) = captured(false);
        let v = view(None);
        let mut c = synced(&mut p, &v);
        let (mut jsonl, synced_line, _) = captured(true);
        let counted = c.counted(&v);
        jsonl.synced("kind", &c.synced_event(&counted));
        assert!(synced_line.take()[0].contains(r#""counts":{"a":2,"b":1}"#));
        // Created: one line.
        c.on_pod_event(Event::Apply(pod(4, "a"), Some("11".into())), &mut p);
        c.flush(&mut p, &v);
        assert_eq!(out.take(), ["12:00:00  a  2 → 3  (+1)  75%"]);
        // Created and deleted before the flush: nothing to say.
        c.on_pod_event(Event::Apply(pod(5, "b"), None), &mut p);
        c.on_pod_event(Event::Delete(uid(5), None), &mut p);
        // Two creations: one line with both.
        c.on_pod_event(Event::Apply(pod(6, "b"), None), &mut p);
        c.on_pod_event(Event::Apply(pod(7, "b"), None), &mut p);
        c.flush(&mut p, &v);
        assert_eq!(out.take(), ["12:00:00  b  1 → 3  (+2)  75%"]);
        // Deleted.
        c.on_pod_event(Event::Delete(uid(1), None), &mut p);
        c.flush(&mut p, &v);
        assert_eq!(out.take(), ["12:00:00  a  3 → 2  (-1)  50%"]);
        c.flush(&mut p, &v);
        assert!(out.take().is_empty(), "nothing moved since");
        assert!(err.take().is_empty());
        assert_eq!(p.changes, 3);
    }

    #[test]
    fn thresholds_are_judged_on_the_nodes_touched() {
        let (mut p, ..) = captured(false);
        let v = view(None);
        let mut c = synced(&mut p, &v);
        let pct = Some(Percent(60.0));
        assert_eq!(c.judge(pct, false, None), None, "after the sync every node is judged: none above");
        c.on_pod_event(Event::Apply(pod(4, "b"), None), &mut p);
        c.on_pod_event(Event::Apply(pod(5, "b"), None), &mut p);
        c.on_pod_event(Event::Apply(pod(6, "a"), None), &mut p);
        // Both crossed: the first by name is named, with its context.
        assert_eq!(
            c.judge(pct, false, Some("kind")).as_deref(),
            Some("context kind: node a is 75.0% saturated (3/4 pods), above --until-saturated 60%")
        );
        assert_eq!(c.judge(pct, false, None), None, "judged once: untouched since");
        assert_eq!(c.judge(None, false, None), None);
    }

    #[test]
    fn a_node_that_goes_or_comes_is_said_with_its_pods() {
        let (mut p, _out, err) = captured(false);
        let v = view(None);
        let mut c = synced(&mut p, &v);
        c.on_node_event(Event::Delete("b".into(), None), &mut p);
        c.on_node_event(Event::Apply(node("c", "x"), None), &mut p);
        assert_eq!(
            err.take(),
            [
                "12:00:00  kind: node-removed allocatable=4 node=b pods=1",
                "12:00:00  kind: node-added allocatable=4 node=c pods=0"
            ]
        );
        // Listed nodes by name, then b: its pods still count, on a node the
        // list no longer has.
        let rows = c.counted(&v).rows;
        assert_eq!(
            rows.iter().map(|r| (r.name.as_str(), r.missing)).collect::<Vec<_>>(),
            [("a", false), ("c", false), ("b", true)]
        );
    }

    #[test]
    fn a_relabelled_node_moves_its_pods_to_another_group() {
        let (mut p, out, err) = captured(true);
        let v = view(Some(GroupKey::parse("rack")));
        let mut c = synced(&mut p, &v);
        c.on_pod_event(Event::Apply(pod(4, "b"), Some("12".into())), &mut p);
        c.flush(&mut p, &v);
        let lines = out.take();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains(r#""group":"y","node":"b""#) && lines[0].contains(r#""type":"change""#), "{lines:?}");
        assert!(
            lines[1].contains(r#""from":1,"group":"y","groupBy":"rack""#)
                && lines[1].contains(r#""to":2,"type":"group-change""#)
        );
        // a moves from x to y: y takes a's pods, then x (now gone) empties.
        c.on_node_event(Event::Apply(node("a", "y"), None), &mut p);
        c.flush(&mut p, &v);
        let lines = out.take();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains(r#""delta":2,"from":2,"group":"y""#), "{lines:?}");
        assert!(lines[1].contains(r#""delta":-2,"from":2,"group":"x""#), "a group gone: {lines:?}");
        assert!(err.take().is_empty());
    }
}
