//! The scheduler's filters beyond one node's resources, for `--fits`: what a
//! pod asks of its placement ([`Constraints`]: host ports, required pod
//! affinity and anti-affinity, topology spread), what the pods already
//! placed tell those filters ([`Neighbours`], folded pod by pod), and how
//! many more replicas land over the whole cluster ([`answer`]), exact where
//! the total does not depend on the scheduler's order, an upper bound (and
//! said) where it does. Pure.
//!
//! The rules are kube-scheduler v1.37's (`framework/plugins/nodeports`,
//! `interpodaffinity`, `podtopologyspread`):
//! - NodePorts: a (hostIP, protocol, port) conflicts with one in use when
//!   protocol and port agree and either IP is 0.0.0.0 or both are equal; a
//!   replica takes its ports, so at most one lands on a node.
//! - InterPodAffinity: an incoming anti-affinity term excludes the nodes
//!   whose topology domain holds a pod it matches (namespace and selector);
//!   an existing pod's required anti-affinity term that matches the incoming
//!   pod excludes its domain; an affinity term admits only domains holding a
//!   pod that matches every affinity term (or, when no pod anywhere does and
//!   the pod matches its own terms, any node with the keys: the first pod).
//!   Terminating pods count; finished ones are not in the scheduler's cache.
//! - PodTopologySpread (`DoNotSchedule`): a node passes when matching(its
//!   domain) + self-match − min over domains ≤ maxSkew; domains are the
//!   values of the key on nodes that have every constraint's key and pass
//!   the inclusion policies; min is 0 while there are fewer than minDomains
//!   domains; terminating pods and other namespaces do not count.

use std::collections::{BTreeMap, BTreeSet};

use super::node::NodeInfo;
use super::replay;
use super::selector::LabelSelector;

/// The label kube-scheduler's hostname fast path and most anti-affinity use.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

/// Node labels always kept when a shape has inter-pod constraints: existing
/// pods' anti-affinity is read over these keys.
pub const TOPOLOGY_KEYS: [&str; 3] = [HOSTNAME, "topology.kubernetes.io/zone", "topology.kubernetes.io/region"];

/// A host port a pod binds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostPort {
    /// `0.0.0.0` when not given.
    pub ip: String,
    /// `TCP` when not given.
    pub protocol: String,
    pub port: i32,
}

impl HostPort {
    pub fn new(ip: Option<&str>, protocol: Option<&str>, port: i32) -> HostPort {
        HostPort {
            ip: ip.filter(|i| !i.is_empty()).unwrap_or("0.0.0.0").to_string(),
            protocol: protocol.filter(|p| !p.is_empty()).unwrap_or("TCP").to_string(),
            port,
        }
    }

    /// `HostPortInfo.CheckConflict`.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port
            && self.protocol == other.protocol
            && (self.ip == "0.0.0.0" || other.ip == "0.0.0.0" || self.ip == other.ip)
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ip == "0.0.0.0" {
            write!(f, "{}/{}", self.port, self.protocol)
        } else {
            write!(f, "{}:{}/{}", self.ip, self.port, self.protocol)
        }
    }
}

/// Which namespaces a pod affinity term looks in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Namespaces {
    /// These (the pod's own when the term names none and has no selector).
    Listed(BTreeSet<String>),
    /// `namespaceSelector: {}`: every namespace.
    All,
    /// A non-empty `namespaceSelector`, plus any listed ones. An incoming
    /// term's is resolved to [`Namespaces::Listed`] before counting.
    Selected(LabelSelector, BTreeSet<String>),
}

impl Namespaces {
    /// Whether a pod in `ns` (whose namespace has `labels`) is looked at.
    pub fn contains(&self, ns: &str, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Namespaces::Listed(names) => names.contains(ns),
            Namespaces::All => true,
            Namespaces::Selected(sel, names) => names.contains(ns) || sel.matches_map(labels),
        }
    }
}

/// A required pod affinity or anti-affinity term.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodTerm {
    /// None (no `labelSelector`): matches no pod.
    pub selector: Option<LabelSelector>,
    pub namespaces: Namespaces,
    pub topology_key: String,
}

impl PodTerm {
    /// `AffinityTerm.Matches`: the pod's namespace is looked at and its
    /// labels match.
    pub fn matches(&self, ns: &str, ns_labels: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
        self.namespaces.contains(ns, ns_labels) && self.selector.as_ref().is_some_and(|s| s.matches_map(labels))
    }
}

/// A `whenUnsatisfiable: DoNotSchedule` topology spread constraint, with
/// `matchLabelKeys` merged into its selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Spread {
    pub max_skew: u32,
    pub topology_key: String,
    pub selector: Option<LabelSelector>,
    /// 1 when not given.
    pub min_domains: u32,
    /// `nodeAffinityPolicy: Honor` (the default): only nodes the pod's
    /// nodeSelector and required node affinity admit form domains.
    pub honor_node_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default Ignore): only nodes whose taints
    /// the pod tolerates form domains.
    pub honor_taints: bool,
}

impl Spread {
    /// `countPodsMatchSelector`: an empty selector counts no existing pod.
    pub fn counts_placed(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_some_and(|s| !s.is_everything() && s.matches_map(labels))
    }

    /// Whether the incoming pod counts toward its own domains (its labels
    /// match the selector).
    pub fn counts_incoming(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_some_and(|sel| sel.matches_map(labels))
    }
}

/// What a pod asks of its placement beyond one node's resources and labels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Constraints {
    /// A real pod (`--fits-pod`), not a `--fits` resource shape: placed
    /// pods' required anti-affinity is checked against it whatever terms it
    /// has itself (the symmetric rule; a `{}` selector matches a pod with
    /// no labels too).
    pub pod: bool,
    /// The pod's namespace and labels (what other pods' terms match).
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// Its namespace's labels (existing terms' namespaceSelector read them).
    pub namespace_labels: BTreeMap<String, String>,
    /// Containers' and restartable init containers' host ports (a
    /// hostNetwork pod's container ports).
    pub host_ports: Vec<HostPort>,
    pub anti_affinity: Vec<PodTerm>,
    pub affinity: Vec<PodTerm>,
    pub spread: Vec<Spread>,
    /// The PersistentVolumeClaims it mounts (in its namespace).
    pub claims: Vec<Claim>,
}

/// A PersistentVolumeClaim a pod mounts, and what the cluster says of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Claim {
    pub name: String,
    pub state: ClaimState,
}

/// What the scheduler's volume filters see of a claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClaimState {
    /// Not read (yet, or by a watch).
    #[default]
    Unread,
    /// Could not be read: why (a missing RBAC verb).
    Unreadable(String),
    /// No such claim: VolumeBinding places none.
    Missing,
    /// Unbound, with Immediate binding: the scheduler waits for it.
    UnboundImmediate,
    /// Unbound, WaitForFirstConsumer: where a volume can be provisioned is
    /// not known without provisioning.
    UnboundDeferred,
    Bound(BoundVolume),
}

/// The volume a bound claim names, as the volume filters read it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct BoundVolume {
    /// The claim's access modes include ReadWriteOncePod (VolumeRestrictions:
    /// one pod in the cluster).
    pub read_write_once_pod: bool,
    /// The PersistentVolume's required node affinity (VolumeBinding).
    pub node_affinity: Option<super::selector::NodeAffinity>,
    /// Its zone and region labels (VolumeZone): key, allowed values.
    pub zones: Vec<(String, Vec<String>)>,
    /// A CSI driver some node limits attachments of (NodeVolumeLimits,
    /// not modelled).
    pub attach_limited: Option<String>,
}

impl Constraints {
    /// Whether the pods already placed matter (their labels, ports, terms,
    /// claims). For a pod, always: any placed pod's required anti-affinity
    /// may repel it (kube-scheduler checks `PodsWithRequiredAntiAffinity`
    /// against every incoming pod).
    pub fn reads_neighbours(&self) -> bool {
        self.pod || !self.host_ports.is_empty() || self.inter_pod() || self.claims.iter().any(Claim::one_pod)
    }

    /// A pod that asks nothing of placed pods but whether their required
    /// anti-affinity repels it: only pods carrying such terms need reading.
    pub fn reads_repelling_only(&self) -> bool {
        self.pod && !self.inter_pod() && self.host_ports.is_empty() && !self.claims.iter().any(Claim::one_pod)
    }

    /// Whether the pods placed on nodes outside the view could change the
    /// answer (through a topology domain the view shares with them).
    pub fn reads_domains(&self) -> bool {
        self.pod || self.inter_pod()
    }

    /// Pod affinity, anti-affinity or spread.
    pub fn inter_pod(&self) -> bool {
        !self.anti_affinity.is_empty() || !self.affinity.is_empty() || !self.spread.is_empty()
    }

    /// The node label keys the constraints read.
    pub fn node_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .anti_affinity
            .iter()
            .chain(&self.affinity)
            .map(|t| t.topology_key.clone())
            .chain(self.spread.iter().map(|s| s.topology_key.clone()))
            .collect();
        if self.reads_domains() {
            keys.extend(TOPOLOGY_KEYS.iter().map(|k| k.to_string()));
        }
        // A bound volume's node affinity and zone labels.
        for claim in &self.claims {
            if let ClaimState::Bound(v) = &claim.state {
                keys.extend(v.node_affinity.iter().flat_map(|a| a.keys().cloned()));
                keys.extend(v.zones.iter().map(|(k, _)| k.clone()));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// An incoming term that matches the pod itself: each replica placed
    /// closes its domain to the next.
    fn self_matching(&self, t: &PodTerm) -> bool {
        t.matches(&self.namespace, &self.namespace_labels, &self.labels)
    }

    /// Incoming terms with a namespaceSelector, resolved against every
    /// namespace's labels (the scheduler merges them into the names).
    pub fn resolve_namespaces(&mut self, all: &BTreeMap<String, BTreeMap<String, String>>) {
        for t in self.anti_affinity.iter_mut().chain(self.affinity.iter_mut()) {
            if let Namespaces::Selected(sel, names) = &t.namespaces {
                let mut names = names.clone();
                names.extend(all.iter().filter(|(_, l)| sel.matches_map(l)).map(|(n, _)| n.clone()));
                t.namespaces = Namespaces::Listed(names);
            }
        }
    }

    /// The pod's namespace where the manifest gave none (terms that look
    /// in "its own" namespace were read with it empty).
    pub fn bind_namespace(&mut self, ns: &str) {
        if !self.namespace.is_empty() {
            return;
        }
        self.namespace = ns.to_string();
        for t in self.anti_affinity.iter_mut().chain(self.affinity.iter_mut()) {
            if let Namespaces::Listed(names) = &mut t.namespaces
                && names.remove("")
            {
                names.insert(ns.to_string());
            }
        }
    }

    /// Whether any incoming term still needs the namespace list.
    pub fn selects_namespaces(&self) -> bool {
        self.anti_affinity.iter().chain(&self.affinity).any(|t| matches!(t.namespaces, Namespaces::Selected(..)))
    }
}

impl Claim {
    /// A ReadWriteOncePod claim: one pod at a time in the cluster.
    pub fn one_pod(&self) -> bool {
        matches!(&self.state, ClaimState::Bound(v) if v.read_write_once_pod)
    }
}

/// One placed pod, as [`Neighbours::add`] reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neighbour {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub terminating: bool,
    pub host_ports: Vec<HostPort>,
    /// Its required anti-affinity terms (namespaces relative to its own).
    pub anti_affinity: Vec<PodTerm>,
    /// The claims it mounts (in its namespace).
    pub claims: Vec<String>,
}

/// What the pods already placed tell one shape's filters, per node. Every
/// field counts pods, so one pod's part can be added and taken out again
/// (a watch keeps each pod's part, [`Neighbours::of`], and the sum).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neighbours {
    /// Per incoming anti-affinity term, per node: pods it matches.
    pub anti: Vec<BTreeMap<String, u32>>,
    /// Per node: pods that match every affinity term.
    pub affinity: BTreeMap<String, u32>,
    /// Per spread constraint, per node: non-terminating pods of the pod's
    /// namespace it counts.
    pub spread: Vec<BTreeMap<String, u32>>,
    /// Per node: the host ports in use there that the shape binds, and by
    /// how many pods.
    pub ports_taken: BTreeMap<String, BTreeMap<HostPort, u32>>,
    /// (node, topology key) of placed pods whose required anti-affinity
    /// matches the shape's pod: how many.
    pub repelled: BTreeMap<(String, String), u32>,
    /// The shape's claims that placed pods mount: by how many.
    pub claims_in_use: BTreeMap<String, u32>,
}

impl Neighbours {
    pub fn new(c: &Constraints) -> Neighbours {
        Neighbours {
            anti: vec![BTreeMap::new(); c.anti_affinity.len()],
            spread: vec![BTreeMap::new(); c.spread.len()],
            ..Default::default()
        }
    }

    /// One pod's part alone (None when it tells the shape nothing).
    pub fn of(c: &Constraints, node: &str, p: &Neighbour) -> Option<Neighbours> {
        let mut n = Neighbours::default();
        n.add(c, node, p);
        (!n.is_empty()).then_some(n)
    }

    /// Nothing counted.
    pub fn is_empty(&self) -> bool {
        self.anti.iter().chain(&self.spread).all(BTreeMap::is_empty)
            && self.affinity.is_empty()
            && self.ports_taken.is_empty()
            && self.repelled.is_empty()
            && self.claims_in_use.is_empty()
    }

    /// One pod counted against `node` (bound, not finished).
    pub fn add(&mut self, c: &Constraints, node: &str, p: &Neighbour) {
        self.anti.resize_with(c.anti_affinity.len().max(self.anti.len()), BTreeMap::new);
        self.spread.resize_with(c.spread.len().max(self.spread.len()), BTreeMap::new);
        let bump = |m: &mut BTreeMap<String, u32>| *m.entry(node.to_string()).or_default() += 1;
        let no_labels = BTreeMap::new();
        for (t, counts) in c.anti_affinity.iter().zip(self.anti.iter_mut()) {
            if t.matches(&p.namespace, &no_labels, &p.labels) {
                bump(counts);
            }
        }
        if !c.affinity.is_empty() && c.affinity.iter().all(|t| t.matches(&p.namespace, &no_labels, &p.labels)) {
            bump(&mut self.affinity);
        }
        for (s, counts) in c.spread.iter().zip(self.spread.iter_mut()) {
            if !p.terminating && p.namespace == c.namespace && s.counts_placed(&p.labels) {
                bump(counts);
            }
        }
        for port in p.host_ports.iter().filter(|u| c.host_ports.iter().any(|w| w.conflicts(u))) {
            *self.ports_taken.entry(node.to_string()).or_default().entry(port.clone()).or_default() += 1;
        }
        for t in &p.anti_affinity {
            if t.matches(&c.namespace, &c.namespace_labels, &c.labels) {
                *self.repelled.entry((node.to_string(), t.topology_key.clone())).or_default() += 1;
            }
        }
        if p.namespace == c.namespace {
            for name in p.claims.iter().filter(|n| c.claims.iter().any(|k| k.name == **n)) {
                *self.claims_in_use.entry(name.clone()).or_default() += 1;
            }
        }
    }

    /// Another page's neighbours, added.
    pub fn merge(&mut self, other: Neighbours) {
        self.combine(&other, true);
    }

    /// `other` added (`add`) or taken out; counts that reach 0 are dropped.
    pub fn combine(&mut self, other: &Neighbours, add: bool) {
        fn counts<K: Ord + Clone>(into: &mut BTreeMap<K, u32>, from: &BTreeMap<K, u32>, add: bool) {
            for (k, v) in from {
                let e = into.entry(k.clone()).or_default();
                *e = if add { *e + v } else { e.saturating_sub(*v) };
                if *e == 0 {
                    into.remove(k);
                }
            }
        }
        self.anti.resize_with(other.anti.len().max(self.anti.len()), BTreeMap::new);
        self.spread.resize_with(other.spread.len().max(self.spread.len()), BTreeMap::new);
        for (into, from) in self.anti.iter_mut().zip(&other.anti) {
            counts(into, from, add);
        }
        counts(&mut self.affinity, &other.affinity, add);
        for (into, from) in self.spread.iter_mut().zip(&other.spread) {
            counts(into, from, add);
        }
        for (node, ports) in &other.ports_taken {
            let into = self.ports_taken.entry(node.clone()).or_default();
            counts(into, ports, add);
            if into.is_empty() {
                self.ports_taken.remove(node);
            }
        }
        counts(&mut self.repelled, &other.repelled, add);
        counts(&mut self.claims_in_use, &other.claims_in_use, add);
    }
}

/// Why a node admits none by the inter-pod filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A host port the pod binds is in use there.
    Port(HostPort),
    /// The pod's anti-affinity over this key: its domain holds a match.
    AntiAffinity(String),
    /// A placed pod's anti-affinity over this key repels the pod.
    Repelled(String),
    /// The pod's affinity over this key: its domain holds no match.
    Affinity(String),
    /// The node lacks the spread constraint's key.
    SpreadKey(String),
    /// The domain over this key is already too far above the minimum.
    Skew(String),
    /// A claim the pod mounts keeps it off (`claim data not found`,
    /// `volume node affinity data`).
    Volume(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Port(p) => write!(f, "host port {p}"),
            Refusal::AntiAffinity(k) => write!(f, "anti-affinity {k}"),
            Refusal::Repelled(k) => write!(f, "anti-affinity of placed pods {k}"),
            Refusal::Affinity(k) => write!(f, "affinity {k}"),
            Refusal::SpreadKey(k) => write!(f, "no label {k}"),
            Refusal::Skew(k) => write!(f, "spread {k}"),
            Refusal::Volume(why) => f.write_str(why),
        }
    }
}

/// What one node offers a shape before the inter-pod filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offer {
    /// How many more it admits by itself (resources, pod slots, ports).
    pub more: u64,
    /// It passes the shape's nodeSelector and required node affinity.
    pub affinity: bool,
    /// It carries no taint the shape does not tolerate.
    pub tolerated: bool,
}

/// The answer over the cluster for one shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// How many more replicas land (an upper bound where `bound_by` says;
    /// the most any order places where `order` says).
    pub more: u64,
    /// The least any order the filters allow places (equal to `more` where
    /// the order does not matter).
    pub least: u64,
    /// Why the count depends on the order the scheduler places them in
    /// (its scores and random ties): `least..=more`.
    pub order: Vec<String>,
    /// Per node, in the order given: how many more it can take by itself,
    /// and why none where it can take none by the inter-pod filters.
    pub nodes: Vec<(u64, Option<Refusal>)>,
    /// Why `more` is only an upper bound (empty: exact).
    pub bound_by: Vec<String>,
    /// With a constraint per domain: how many land in each domain of this key.
    pub by_domain: Option<(String, BTreeMap<String, u64>)>,
}

/// A node's value of a label, for the answer's domains.
fn label<'n>(n: &'n NodeInfo, key: &str) -> Option<&'n str> {
    n.labels.get(key).map(String::as_str)
}

/// Sums per node into sums per domain of `key` (nodes without it left out).
fn per_domain(nodes: &[NodeInfo], key: &str, per_node: &BTreeMap<String, u32>) -> BTreeMap<String, u64> {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for n in nodes {
        if let (Some(v), Some(c)) = (label(n, key), per_node.get(&n.name)) {
            *out.entry(v.to_string()).or_default() += u64::from(*c);
        }
    }
    out
}

/// How many more replicas of a pod with `c` land, given what each node
/// offers by itself (`offers`, aligned with `nodes`) and the placed pods.
pub fn answer(c: &Constraints, nodes: &[NodeInfo], offers: &[Offer], nb: &Neighbours) -> Answer {
    let first = !c.affinity.is_empty()
        && !nb.affinity.values().any(|v| *v > 0)
        && c.affinity.iter().all(|t| c.self_matching(t));
    if first && let Some(a) = first_domain(c, nodes, offers, nb) {
        return a;
    }
    filtered(c, nodes, offers, nb, false)
}

/// First domains a self-affinity is replayed over at most.
const FIRST_DOMAINS: usize = 200;

/// Affinity to its own pods with none placed: the first replica goes to any
/// node that passes, and every other follows it into its domain (the tuple
/// of its values of the affinity keys). The answer over each such domain in
/// turn; the scheduler's scores pick one, so the count is the range over
/// them. None past [`FIRST_DOMAINS`] domains.
fn first_domain(c: &Constraints, nodes: &[NodeInfo], offers: &[Offer], nb: &Neighbours) -> Option<Answer> {
    let plain = filtered(c, nodes, offers, nb, true);
    let mut firsts: BTreeMap<Vec<&str>, &str> = BTreeMap::new();
    for (n, (more, _)) in nodes.iter().zip(&plain.nodes) {
        let values: Option<Vec<&str>> = c.affinity.iter().map(|t| label(n, &t.topology_key)).collect();
        if let Some(values) = values.filter(|_| *more > 0) {
            firsts.entry(values).or_insert(&n.name);
        }
    }
    if firsts.len() > FIRST_DOMAINS {
        return None;
    }
    let mut out = Answer { nodes: plain.nodes.clone(), bound_by: plain.bound_by.clone(), ..Default::default() };
    let mut range: Option<(u64, u64)> = None;
    for node in firsts.values() {
        let mut there = nb.clone();
        there.affinity.insert(node.to_string(), 1);
        let a = filtered(c, nodes, offers, &there, false);
        if a.more == 0 {
            continue;
        }
        for why in a.bound_by {
            if !out.bound_by.contains(&why) {
                out.bound_by.push(why);
            }
        }
        for why in a.order {
            if !out.order.contains(&why) {
                out.order.push(why);
            }
        }
        range = Some(range.map_or((a.least, a.more), |(l, m)| (l.min(a.least), m.max(a.more))));
    }
    (out.least, out.more) = range.unwrap_or((0, 0));
    if out.least < out.more {
        let keys: Vec<&str> = c.affinity.iter().map(|t| t.topology_key.as_str()).collect();
        out.order.insert(0, format!("affinity to its own pods over {}, none placed: the scheduler's scores pick the first pod's domain, and the domains take between {} and {}", keys.join(", "), out.least, out.more));
    }
    Some(out)
}

/// [`answer`] by the filters alone; `first`: a self-affinity with none
/// placed is left to [`first_domain`] (not said here).
fn filtered(c: &Constraints, nodes: &[NodeInfo], offers: &[Offer], nb: &Neighbours, first: bool) -> Answer {
    let mut refusals: Vec<Option<Refusal>> = vec![None; nodes.len()];
    let refuse = |refusals: &mut Vec<Option<Refusal>>, i: usize, r: Refusal| {
        if refusals[i].is_none() && offers[i].more > 0 {
            refusals[i] = Some(r);
        }
    };
    let mut bound_by: Vec<String> = Vec::new();

    // The volume filters: a claim that is missing, unbound (Immediate) or
    // ReadWriteOncePod in use closes every node; a bound volume's node
    // affinity and zone close the nodes outside them.
    let mut one_pod = false;
    for claim in &c.claims {
        let name = &claim.name;
        let everywhere = |why: String, refusals: &mut Vec<Option<Refusal>>| {
            for i in 0..nodes.len() {
                refuse(refusals, i, Refusal::Volume(why.clone()));
            }
        };
        match &claim.state {
            ClaimState::Unread => bound_by.push(format!("claim {name}: not read (its volume's filters are not modelled here)")),
            ClaimState::Unreadable(why) => bound_by.push(format!("claim {name}: {why}")),
            ClaimState::Missing => everywhere(format!("claim {name} not found"), &mut refusals),
            ClaimState::UnboundImmediate => everywhere(format!("claim {name} unbound"), &mut refusals),
            ClaimState::UnboundDeferred => bound_by.push(format!(
                "claim {name} is unbound (WaitForFirstConsumer): where a volume can be provisioned is not known without provisioning"
            )),
            ClaimState::Bound(v) => {
                if v.read_write_once_pod && nb.claims_in_use.contains_key(name) {
                    everywhere(format!("claim {name} in use (ReadWriteOncePod)"), &mut refusals);
                }
                one_pod |= v.read_write_once_pod;
                for (i, n) in nodes.iter().enumerate() {
                    let labels = |k: &str| n.labels.get(k).map(String::as_str);
                    if v.node_affinity.as_ref().is_some_and(|a| !a.matches(&n.name, labels)) {
                        refuse(&mut refusals, i, Refusal::Volume(format!("volume node affinity {name}")));
                    } else if v.zones.iter().any(|(k, vals)| !labels(k).is_some_and(|z| vals.iter().any(|v| v == z))) {
                        refuse(&mut refusals, i, Refusal::Volume(format!("volume zone {name}")));
                    }
                }
                if let Some(driver) = &v.attach_limited {
                    bound_by.push(format!("claim {name}: attach limits of {driver} (NodeVolumeLimits) are not modelled"));
                }
            }
        }
    }

    // NodePorts: a port in use closes the node.
    for (i, n) in nodes.iter().enumerate() {
        if let Some(p) = nb.ports_taken.get(&n.name).and_then(|m| m.keys().next()) {
            refuse(&mut refusals, i, Refusal::Port(p.clone()));
        }
    }
    // Placed pods' anti-affinity: (key, value) pairs closed.
    let mut closed: BTreeSet<(String, String)> = BTreeSet::new();
    let by_name: BTreeMap<&str, &NodeInfo> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut unread: BTreeSet<String> = BTreeSet::new();
    for (node, key) in nb.repelled.keys() {
        match by_name.get(node.as_str()) {
            Some(n) if n.labels.contains_key(key) => {
                closed.insert((key.clone(), n.labels[key].clone()));
            }
            Some(_) if !TOPOLOGY_KEYS.contains(&key.as_str()) => {
                unread.insert(key.clone());
            }
            _ => {}
        }
    }
    for key in unread {
        bound_by.push(format!("placed pods' anti-affinity over {key} (a node label not read)"));
    }
    for (i, n) in nodes.iter().enumerate() {
        if let Some((k, _)) = closed.iter().find(|(k, v)| label(n, k) == Some(v.as_str())) {
            refuse(&mut refusals, i, Refusal::Repelled(k.clone()));
        }
    }
    // The pod's anti-affinity: domains holding a match close; a term that
    // matches the pod itself allows one replica per domain.
    let mut self_anti: Vec<&str> = Vec::new();
    let none = BTreeMap::new();
    for (i, t) in c.anti_affinity.iter().enumerate() {
        let counts = nb.anti.get(i).unwrap_or(&none);
        let held = per_domain(nodes, &t.topology_key, counts);
        for (i, n) in nodes.iter().enumerate() {
            if label(n, &t.topology_key).is_some_and(|v| held.get(v).is_some_and(|c| *c > 0)) {
                refuse(&mut refusals, i, Refusal::AntiAffinity(t.topology_key.clone()));
            }
        }
        if c.self_matching(t) {
            self_anti.push(&t.topology_key);
        }
    }
    // The pod's affinity: only domains holding a pod matching every term.
    if !c.affinity.is_empty() {
        let anywhere = nb.affinity.values().any(|v| *v > 0);
        let itself = c.affinity.iter().all(|t| c.self_matching(t));
        let held: Vec<BTreeMap<String, u64>> =
            c.affinity.iter().map(|t| per_domain(nodes, &t.topology_key, &nb.affinity)).collect();
        for (i, n) in nodes.iter().enumerate() {
            let missing = c.affinity.iter().find(|t| label(n, &t.topology_key).is_none());
            let lacking = c.affinity.iter().zip(&held).find_map(|(t, held)| {
                let holds = label(n, &t.topology_key).is_some_and(|v| held.get(v).is_some_and(|c| *c > 0));
                (!holds).then_some(t)
            });
            match (missing, lacking) {
                (Some(t), _) => refuse(&mut refusals, i, Refusal::Affinity(t.topology_key.clone())),
                (None, Some(t)) if anywhere || !itself => {
                    refuse(&mut refusals, i, Refusal::Affinity(t.topology_key.clone()))
                }
                _ => {}
            }
        }
        if !anywhere && itself && !first {
            bound_by.push(format!(
                "affinity to its own pods over {}: the scheduler's scoring picks the first pod's domain",
                c.affinity.iter().map(|t| t.topology_key.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }

    // Spread: nodes without every key are refused; domains and counts.
    let keys: Vec<&str> = c.spread.iter().map(|s| s.topology_key.as_str()).collect();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(k) = keys.iter().find(|k| label(n, k).is_none()) {
            refuse(&mut refusals, i, Refusal::SpreadKey(k.to_string()));
        }
    }
    let mut dynamic: Vec<(usize, &Spread)> = Vec::new();
    for (si, s) in c.spread.iter().enumerate() {
        let counts = nb.spread.get(si).unwrap_or(&none);
        let (existing, _) = spread_domains(s, &keys, nodes, offers, counts, &vec![0; nodes.len()]);
        let min = spread_min(s, &existing);
        if self_counts(c, s) {
            dynamic.push((si, s));
        } else {
            // Placing the pod changes no count: a fixed test per domain.
            for (i, n) in nodes.iter().enumerate() {
                let d = label(n, &s.topology_key).and_then(|v| existing.get(v));
                if d.is_some_and(|e| e.saturating_sub(min) > u64::from(s.max_skew)) {
                    refuse(&mut refusals, i, Refusal::Skew(s.topology_key.clone()));
                }
            }
        }
    }

    // What each node offers after the fixed filters.
    let cap: Vec<u64> = offers.iter().zip(&refusals).map(|(o, r)| if r.is_some() { 0 } else { o.more }).collect();
    let nodes_out: Vec<(u64, Option<Refusal>)> = cap.iter().copied().zip(refusals.iter().cloned()).collect();

    // Self anti-affinity: at most one a domain of its key (nodes without the
    // key are not limited by it).
    let one_per = |key: &str, cap: &[u64]| -> Vec<u64> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        nodes
            .iter()
            .zip(cap)
            .map(|(n, &c)| match label(n, key) {
                Some(v) if c > 0 => u64::from(seen.insert(v)),
                Some(_) => 0,
                None => c,
            })
            .collect()
    };
    // The coarsest self anti-affinity key decides how many per domain.
    let coarsest = coarsest(nodes, &self_anti);
    let host_level = |cap: &[u64]| -> Vec<u64> {
        // Finer keys first: one a node (hostname), then one a coarser domain
        // is applied by the domain sums below.
        let mut out = cap.to_vec();
        for k in self_anti.iter().filter(|k| Some(**k) != coarsest) {
            out = one_per(k, &out);
        }
        out
    };
    let fine = host_level(&cap);

    let mut answer_nodes = nodes_out;
    // Constraints that tie nodes together so that the total depends on the
    // order: anti-affinity to its own pods over keys that do not nest,
    // several spreads, a spread with such anti-affinity over a key not
    // within its domains. Replayed.
    let anti_keys: BTreeSet<&str> = self_anti.iter().copied().collect();
    let tangled = (anti_keys.len() > 1 && !nested(nodes, &anti_keys))
        || dynamic.len() > 1
        || dynamic.iter().any(|(_, s)| coarsest.is_some_and(|k| !nested_in(nodes, k, &s.topology_key)));
    if tangled {
        let r = replayed(nodes, offers, &cap, &dynamic, &anti_keys, &keys, nb);
        for (slot, f) in answer_nodes.iter_mut().zip(&r.per_node) {
            slot.0 = *f;
        }
        let mut answer = Answer {
            more: r.most,
            least: r.least,
            order: r.why.into_iter().collect(),
            nodes: answer_nodes,
            bound_by,
            by_domain: None,
        };
        if one_pod {
            answer.clamp_to_one();
        }
        return answer;
    }
    // At most one spread is left here (several are tangled, above).
    let mut answer = match (dynamic.first(), coarsest) {
        (None, None) => {
            // Fixed filters only: every node's own capacity.
            let more = fine.iter().sum();
            for (slot, f) in answer_nodes.iter_mut().zip(&fine) {
                slot.0 = *f;
            }
            Answer { more, least: more, order: vec![], nodes: answer_nodes, bound_by, by_domain: None }
        }
        (None, Some(key)) => {
            // One replica a domain of `key` (and nodes without it, all they take).
            let taken = one_per(key, &fine);
            let more = taken.iter().sum();
            let mut by: BTreeMap<String, u64> = BTreeMap::new();
            for (n, t) in nodes.iter().zip(&taken) {
                if let Some(v) = label(n, key) {
                    *by.entry(v.to_string()).or_default() += t;
                }
            }
            for (slot, f) in answer_nodes.iter_mut().zip(&fine) {
                slot.0 = if key == HOSTNAME { (*f).min(1) } else { *f };
            }
            let by_domain = (key != HOSTNAME).then(|| (key.to_string(), by));
            Answer { more, least: more, order: vec![], nodes: answer_nodes, bound_by, by_domain }
        }
        (Some(&(si, s)), anti) => {
            // One spread constraint with the per-domain caps (and one a
            // domain of a key within its domains): water-filling, exact.
            let mut caps = fine.clone();
            if let Some(key) = anti {
                caps = one_per(key, &caps);
            }
            let counts = nb.spread.get(si).unwrap_or(&none);
            let (existing, capacity) = spread_domains(s, &keys, nodes, offers, counts, &caps);
            let by = water_fill(s, &existing, &capacity);
            let more: u64 = by.values().sum();
            let per_node = match anti {
                Some(HOSTNAME) => one_per(HOSTNAME, &fine),
                _ => fine,
            };
            for (slot, f) in answer_nodes.iter_mut().zip(&per_node) {
                slot.0 = *f;
            }
            let key = s.topology_key.clone();
            let by_domain = (key != HOSTNAME).then_some((key, by));
            Answer { more, least: more, order: vec![], nodes: answer_nodes, bound_by, by_domain }
        }
    };
    // ReadWriteOncePod: one pod in the cluster mounts the claim.
    if one_pod {
        answer.clamp_to_one();
    }
    answer
}

impl Answer {
    /// ReadWriteOncePod: one pod in the cluster mounts the claim.
    fn clamp_to_one(&mut self) {
        self.more = self.more.min(1);
        self.least = self.least.min(1);
        for n in &mut self.nodes {
            n.0 = n.0.min(1);
        }
    }
}

/// What [`replayed`] finds.
struct Replayed {
    /// Per node: how many more it takes by itself, one a node where a
    /// constraint says so.
    per_node: Vec<u64>,
    least: u64,
    most: u64,
    /// Why the order decides (None: every order places as many).
    why: Option<String>,
}

/// Constraints tying nodes together, replayed over every order the filters
/// allow ([`replay::range`]). Where there are too many orders to replay:
/// between 0 and an upper bound, the least of each constraint alone with
/// each node capped by the hostname-level ones (a node's final count is at
/// most the final minimum + maxSkew, and that minimum at most the least any
/// domain can reach).
fn replayed(
    nodes: &[NodeInfo],
    offers: &[Offer],
    cap: &[u64],
    dynamic: &[(usize, &Spread)],
    anti: &BTreeSet<&str>,
    keys: &[&str],
    nb: &Neighbours,
) -> Replayed {
    let none = BTreeMap::new();
    let index = |values: Vec<Option<&str>>| -> (Vec<Option<usize>>, usize) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let domain = values
            .into_iter()
            .map(|v| {
                v.map(|v| {
                    let next = seen.len();
                    *seen.entry(v).or_insert(next)
                })
            })
            .collect();
        (domain, seen.len())
    };
    let mut problem = replay::Problem { caps: cap.to_vec(), ..Default::default() };
    for key in anti {
        let (domain, domains) = index(nodes.iter().map(|n| label(n, key)).collect());
        problem.one_per.push(replay::OnePer { domain, domains });
    }
    for &(si, s) in dynamic {
        let counts = nb.spread.get(si).unwrap_or(&none);
        let values = nodes
            .iter()
            .zip(offers)
            .map(|(n, o)| eligible(s, keys, n, o).then(|| label(n, &s.topology_key)).flatten())
            .collect();
        let (domain, domains) = index(values);
        let mut existing = vec![0; domains];
        for (n, d) in nodes.iter().zip(&domain) {
            if let Some(d) = d {
                existing[*d] += u64::from(counts.get(&n.name).copied().unwrap_or(0));
            }
        }
        problem.spreads.push(replay::Spread {
            max_skew: u64::from(s.max_skew),
            min_domains: s.min_domains as usize,
            existing,
            domain,
        });
    }
    // Hostname-level constraints cap each node.
    let caps = &mut problem.caps;
    for (key, o) in anti.iter().zip(&problem.one_per) {
        if *key == HOSTNAME {
            for (c, d) in caps.iter_mut().zip(&o.domain) {
                if d.is_some() {
                    *c = (*c).min(1);
                }
            }
        }
    }
    for s in &problem.spreads {
        let mut held = vec![0usize; s.existing.len()];
        for d in s.domain.iter().flatten() {
            held[*d] += 1;
        }
        if held.iter().all(|h| *h == 1) {
            let mut room = vec![0u64; s.existing.len()];
            for (c, d) in caps.iter().zip(&s.domain) {
                if let Some(d) = d {
                    room[*d] += c;
                }
            }
            let level = s.level(&room);
            for (c, d) in caps.iter_mut().zip(&s.domain) {
                if let Some(d) = d {
                    let e = s.existing[*d];
                    *c = (*c).min(e.max(level + s.max_skew) - e);
                }
            }
        }
    }
    let mut upper: u64 = problem.caps.iter().sum();
    for s in &problem.spreads {
        let mut room = vec![0u64; s.existing.len()];
        for (c, d) in problem.caps.iter().zip(&s.domain) {
            if let Some(d) = d {
                room[*d] += c;
            }
        }
        upper = upper.min(s.filled(&room));
    }
    for o in &problem.one_per {
        let mut open = vec![false; o.domains];
        let mut free = 0;
        for (c, d) in problem.caps.iter().zip(&o.domain) {
            match d {
                Some(d) => open[*d] |= *c > 0,
                None => free += c,
            }
        }
        upper = upper.min(free + open.iter().filter(|o| **o).count() as u64);
    }
    let what: Vec<String> = dynamic
        .iter()
        .map(|(_, s)| format!("a spread over {}", s.topology_key))
        .chain(anti.iter().map(|k| format!("anti-affinity to its own pods over {k}")))
        .collect();
    let what = what.join(" with ");
    let searched = match replay::settled(&problem) {
        Some(k) => Some(replay::Range { least: k, most: k }),
        None => replay::range(&problem, upper, replay::BUDGET),
    };
    let (least, most, why) = match searched {
        Some(r) if r.least == r.most => (r.least, r.most, None),
        Some(r) => (
            r.least,
            r.most,
            Some(format!(
                "{what}: which node the scheduler picks decides; every order the filters allow places between {} and {}",
                r.least, r.most
            )),
        ),
        None => {
            (0, upper, Some(format!("{what}: too many orders to replay; at most {upper} (each constraint's bound)")))
        }
    };
    Replayed { per_node: problem.caps, least, most, why }
}

/// Whether a node is one of a spread's domains: it has every constraint's
/// key and passes the inclusion policies.
fn eligible(s: &Spread, keys: &[&str], n: &NodeInfo, offer: &Offer) -> bool {
    keys.iter().all(|k| label(n, k).is_some())
        && (offer.affinity || !s.honor_node_affinity)
        && (offer.tolerated || !s.honor_taints)
}

/// Whether the new pod counts toward a spread constraint's domains.
fn self_counts(c: &Constraints, s: &Spread) -> bool {
    s.counts_incoming(&c.labels)
}

/// The spread's eligible domains (nodes with every constraint's key that
/// pass the inclusion policies): the matching pods already in each, and how
/// many more each takes (`caps` per node).
fn spread_domains(
    s: &Spread,
    keys: &[&str],
    nodes: &[NodeInfo],
    offers: &[Offer],
    counts: &BTreeMap<String, u32>,
    caps: &[u64],
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut existing: BTreeMap<String, u64> = BTreeMap::new();
    let mut capacity: BTreeMap<String, u64> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if !eligible(s, keys, n, &offers[i]) {
            continue;
        }
        let v = label(n, &s.topology_key).expect("every key").to_string();
        *existing.entry(v.clone()).or_default() += u64::from(counts.get(&n.name).copied().unwrap_or(0));
        *capacity.entry(v).or_default() += caps[i];
    }
    (existing, capacity)
}

/// The global minimum the skew is measured from.
fn spread_min(s: &Spread, existing: &BTreeMap<String, u64>) -> u64 {
    if existing.len() < s.min_domains as usize { 0 } else { existing.values().copied().min().unwrap_or(0) }
}

/// How many land in each domain. Replicas go one at a time to any domain
/// where count + 1 − min ≤ maxSkew. The end state does not depend on the
/// order: the domains at the minimum end full, so the minimum ends at
/// L = min(existing + capacity); every other domain ends at
/// min(existing + capacity, max(existing, L + maxSkew)). While there are
/// fewer domains than minDomains, the minimum stays 0.
fn water_fill(s: &Spread, existing: &BTreeMap<String, u64>, capacity: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    let skew = u64::from(s.max_skew);
    let level: u64 = if existing.len() < s.min_domains as usize {
        0
    } else {
        existing.iter().map(|(d, e)| e + capacity.get(d).copied().unwrap_or(0)).min().unwrap_or(0)
    };
    existing
        .iter()
        .map(|(d, &e)| {
            let full = e + capacity.get(d).copied().unwrap_or(0);
            let end = full.min(e.max(level + skew));
            (d.clone(), end - e)
        })
        .collect()
}

/// Whether every domain of the finer keys lies within one of the coarser:
/// then one a fine domain and one a coarse domain combine exactly.
fn nested(nodes: &[NodeInfo], keys: &BTreeSet<&str>) -> bool {
    let keys: Vec<&str> = keys.iter().copied().collect();
    keys.iter().all(|a| keys.iter().all(|b| a == b || nested_in(nodes, a, b) || nested_in(nodes, b, a)))
}

/// Whether each value of `fine` sits within one value of `coarse`.
fn nested_in(nodes: &[NodeInfo], fine: &str, coarse: &str) -> bool {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    nodes.iter().all(|n| match (label(n, fine), label(n, coarse)) {
        (Some(f), Some(c)) => *parent.entry(f).or_insert(c) == c,
        _ => true,
    })
}

/// Of several self anti-affinity keys, the one whose domains hold the
/// others' (None without any).
fn coarsest<'k>(nodes: &[NodeInfo], keys: &[&'k str]) -> Option<&'k str> {
    keys.iter().copied().find(|k| keys.iter().all(|o| o == k || nested_in(nodes, o, k))).or(keys.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::selector::Requirement;

    fn node(name: &str, zone: &str) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            labels: [(HOSTNAME, name), ("topology.kubernetes.io/zone", zone)]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            ..Default::default()
        }
    }

    fn app(v: &str) -> Option<LabelSelector> {
        Some(LabelSelector(vec![Requirement::equals("app", v)]))
    }

    fn web() -> Constraints {
        Constraints {
            namespace: "ns".into(),
            labels: [("app".to_string(), "web".to_string())].into(),
            ..Default::default()
        }
    }

    fn term(key: &str, sel: Option<LabelSelector>) -> PodTerm {
        PodTerm { selector: sel, namespaces: Namespaces::Listed(["ns".to_string()].into()), topology_key: key.into() }
    }

    fn offers(more: &[u64]) -> Vec<Offer> {
        more.iter().map(|&more| Offer { more, affinity: true, tolerated: true }).collect()
    }

    fn placed(c: &Constraints, pods: &[(&str, &str)]) -> Neighbours {
        let mut nb = Neighbours::new(c);
        for (node, a) in pods {
            let p = Neighbour {
                namespace: "ns".into(),
                labels: [("app".to_string(), a.to_string())].into(),
                ..Default::default()
            };
            nb.add(c, node, &p);
        }
        nb
    }

    fn zones() -> Vec<NodeInfo> {
        // a: n1 n2 n3; b: n4 n5; c: n6
        [("n1", "a"), ("n2", "a"), ("n3", "a"), ("n4", "b"), ("n5", "b"), ("n6", "c")]
            .iter()
            .map(|(n, z)| node(n, z))
            .collect()
    }

    #[test]
    fn self_anti_affinity_by_hostname_is_one_a_node_and_none_where_one_runs() {
        let c = Constraints { anti_affinity: vec![term(HOSTNAME, app("web"))], ..web() };
        let nodes = zones();
        let nb = placed(&c, &[("n2", "web"), ("n4", "db")]);
        let a = answer(&c, &nodes, &offers(&[5, 5, 0, 3, 3, 1]), &nb);
        assert_eq!(a.more, 4, "n1, n4, n5, n6: one each; n2 holds one; n3 is full");
        assert_eq!(a.nodes.iter().map(|n| n.0).collect::<Vec<_>>(), [1, 0, 0, 1, 1, 1]);
        assert_eq!(a.nodes[1].1, Some(Refusal::AntiAffinity(HOSTNAME.into())));
        assert!(a.bound_by.is_empty() && a.by_domain.is_none());
    }

    #[test]
    fn self_anti_affinity_by_zone_is_one_a_zone() {
        let zone = "topology.kubernetes.io/zone";
        let c = Constraints { anti_affinity: vec![term(zone, app("web"))], ..web() };
        let nb = placed(&c, &[("n5", "web")]);
        let a = answer(&c, &zones(), &offers(&[5, 5, 5, 3, 3, 0]), &nb);
        // a: one; b: holds one already; c: full.
        assert_eq!(a.more, 1);
        assert_eq!(
            a.by_domain,
            Some((zone.to_string(), [("a", 1), ("b", 0), ("c", 0)].map(|(z, n)| (z.to_string(), n)).into()))
        );
    }

    #[test]
    fn anti_affinity_to_another_app_and_placed_pods_that_repel() {
        let c = Constraints { anti_affinity: vec![term(HOSTNAME, app("db"))], ..web() };
        let mut nb = placed(&c, &[("n1", "db")]);
        // A placed pod on n4 whose own anti-affinity (by zone) matches app=web.
        let repeller = Neighbour {
            namespace: "ns".into(),
            labels: [("app".to_string(), "cache".to_string())].into(),
            anti_affinity: vec![term("topology.kubernetes.io/zone", app("web"))],
            ..Default::default()
        };
        nb.add(&c, "n4", &repeller);
        let a = answer(&c, &zones(), &offers(&[2, 2, 2, 2, 2, 2]), &nb);
        // n1: db there; n4, n5: zone b repelled; n2, n3, n6 take 2 each.
        assert_eq!(a.more, 6);
        assert_eq!(a.nodes[3].1, Some(Refusal::Repelled("topology.kubernetes.io/zone".into())));
    }

    #[test]
    fn a_pod_with_no_terms_of_its_own_is_still_repelled_by_placed_pods() {
        // A plain Deployment's pod: labels, no affinity, no ports.
        let c = Constraints { pod: true, ..web() };
        assert!(c.reads_neighbours() && c.reads_repelling_only());
        // A --fits resource shape has no pod to repel.
        assert!(!Constraints::default().reads_neighbours());
        let guard = Neighbour {
            namespace: "ns".into(),
            labels: [("app".to_string(), "guard".to_string())].into(),
            anti_affinity: vec![term(HOSTNAME, app("web"))],
            ..Default::default()
        };
        let mut nb = placed(&c, &[("n1", "web"), ("n3", "db")]);
        nb.add(&c, "n2", &guard);
        let a = answer(&c, &zones(), &offers(&[2, 2, 2, 2, 2, 2]), &nb);
        assert_eq!(a.more, 10, "every node but guard's");
        assert_eq!(a.nodes[1], (0, Some(Refusal::Repelled(HOSTNAME.into()))));
        assert!(a.bound_by.is_empty(), "exact");
    }

    #[test]
    fn affinity_admits_only_domains_with_a_match() {
        let zone = "topology.kubernetes.io/zone";
        let c = Constraints { affinity: vec![term(zone, app("db"))], ..web() };
        let nb = placed(&c, &[("n4", "db")]);
        let a = answer(&c, &zones(), &offers(&[2, 2, 2, 2, 3, 2]), &nb);
        assert_eq!(a.more, 5, "zone b only");
        assert!(a.bound_by.is_empty());
        // Affinity to its own kind with none placed: the first pod's zone is
        // the scheduler's pick; every zone in turn: c takes 2, a 6.
        let own = Constraints { affinity: vec![term(zone, app("web"))], ..web() };
        let a = answer(&own, &zones(), &offers(&[2, 2, 2, 2, 3, 2]), &placed(&own, &[]));
        assert_eq!((a.least, a.more), (2, 6), "{a:?}");
        assert!(a.bound_by.is_empty() && a.order.len() == 1, "{a:?}");
        // Only zone b has room: exact.
        let a = answer(&own, &zones(), &offers(&[0, 0, 0, 2, 3, 0]), &placed(&own, &[]));
        assert_eq!((a.least, a.more, a.order.len()), (5, 5, 0), "{a:?}");
    }

    fn spread(key: &str, skew: u32, min_domains: u32) -> Spread {
        Spread {
            max_skew: skew,
            topology_key: key.into(),
            selector: app("web"),
            min_domains,
            honor_node_affinity: true,
            honor_taints: false,
        }
    }

    #[test]
    fn zone_spread_water_fills_unequal_zones() {
        let zone = "topology.kubernetes.io/zone";
        let c = Constraints { spread: vec![spread(zone, 1, 1)], ..web() };
        // Existing: a 2, b 0, c 1. Capacity: a 10, b 4, c 1.
        let nb = placed(&c, &[("n1", "web"), ("n2", "web"), ("n6", "web")]);
        let a = answer(&c, &zones(), &offers(&[4, 3, 3, 2, 2, 1]), &nb);
        // L = min(2+10, 0+4, 1+1) = 2; a ends min(12, max(2, 3)) = 3 (+1),
        // b ends min(4, 3) = 3 (+3), c ends 2 (+1).
        assert_eq!(a.more, 5);
        assert_eq!(a.by_domain.unwrap().1, [("a".to_string(), 1), ("b".to_string(), 3), ("c".to_string(), 1)].into());
        assert!(a.bound_by.is_empty());
        // minDomains above the zones there are: the minimum stays 0, so each
        // zone ends at maxSkew (or where it already is).
        let c = Constraints { spread: vec![spread(zone, 2, 5)], ..web() };
        let a = answer(&c, &zones(), &offers(&[4, 3, 3, 2, 2, 1]), &placed(&c, &[("n1", "web")]));
        assert_eq!(a.more, 1 + 2 + 1, "a: 1 -> 2, b: 0 -> 2, c: 0 -> 1 (full)");
    }

    #[test]
    fn spread_with_self_anti_affinity_by_hostname() {
        let zone = "topology.kubernetes.io/zone";
        let c =
            Constraints { spread: vec![spread(zone, 1, 1)], anti_affinity: vec![term(HOSTNAME, app("web"))], ..web() };
        // One a node: a 3, b 2, c 1 -> L = 1, ends a 2, b 2, c 1.
        let a = answer(&c, &zones(), &offers(&[9, 9, 9, 9, 9, 9]), &placed(&c, &[]));
        assert_eq!(a.more, 5);
        assert!(a.bound_by.is_empty(), "{:?}", a.bound_by);
        // Ignore the node affinity policy: a node outside the selector still
        // holds its domain's minimum down.
        let mut offers = offers(&[9, 9, 9, 9, 9, 0]);
        offers[5].affinity = false;
        let a = answer(&c, &zones(), &offers, &placed(&c, &[]));
        assert_eq!(a.more, 5, "Honor: zone c drops out; a 3 and b 2 nodes, L = 2: a 3, b 2");
        let mut ignore = c.clone();
        ignore.spread[0].honor_node_affinity = false;
        let a = answer(&ignore, &zones(), &offers, &placed(&ignore, &[]));
        assert_eq!(a.more, 2, "Ignore: zone c stays at 0 and full, so a and b end at 1");
    }

    #[test]
    fn host_ports_in_use_close_a_node() {
        let c = Constraints { host_ports: vec![HostPort::new(None, None, 8080)], ..web() };
        let mut nb = Neighbours::new(&c);
        let user =
            Neighbour { host_ports: vec![HostPort::new(Some("10.0.0.1"), Some("TCP"), 8080)], ..Default::default() };
        nb.add(&c, "n2", &user);
        let udp = Neighbour { host_ports: vec![HostPort::new(None, Some("UDP"), 8080)], ..Default::default() };
        nb.add(&c, "n3", &udp);
        let a = answer(&c, &zones(), &offers(&[1, 1, 1, 1, 1, 1]), &nb);
        assert_eq!(a.more, 5);
        assert_eq!(a.nodes[1].1, Some(Refusal::Port(HostPort::new(Some("10.0.0.1"), None, 8080))));
        assert!(!HostPort::new(Some("10.0.0.1"), None, 80).conflicts(&HostPort::new(Some("10.0.0.2"), None, 80)));
    }

    #[test]
    fn claims_missing_unbound_in_use_and_bound_volumes() {
        use crate::model::selector::{NodeAffinity, NodeTerm, Requirement};
        let claim = |state: ClaimState| Constraints { claims: vec![Claim { name: "data".into(), state }], ..web() };
        let all = offers(&[2, 2, 2, 2, 2, 2]);
        let a = answer(&claim(ClaimState::Missing), &zones(), &all, &Neighbours::default());
        assert_eq!((a.more, a.nodes[0].1.clone()), (0, Some(Refusal::Volume("claim data not found".into()))));
        assert_eq!(answer(&claim(ClaimState::UnboundImmediate), &zones(), &all, &Neighbours::default()).more, 0);
        let a = answer(&claim(ClaimState::UnboundDeferred), &zones(), &all, &Neighbours::default());
        assert_eq!(a.more, 12);
        assert!(a.bound_by[0].contains("WaitForFirstConsumer"), "{:?}", a.bound_by);
        // ReadWriteOncePod: one in the cluster; none while a placed pod mounts it.
        let rwop = claim(ClaimState::Bound(BoundVolume { read_write_once_pod: true, ..Default::default() }));
        assert!(rwop.reads_neighbours());
        let a = answer(&rwop, &zones(), &all, &Neighbours::new(&rwop));
        assert_eq!((a.more, a.nodes.iter().map(|n| n.0).max()), (1, Some(1)));
        let user = Neighbour { namespace: "ns".into(), claims: vec!["data".into()], ..Default::default() };
        let mut nb = Neighbours::new(&rwop);
        nb.add(&rwop, "n3", &user);
        assert_eq!(answer(&rwop, &zones(), &all, &nb).more, 0);
        // A bound volume's node affinity and zone close the nodes outside them.
        let only = |zone: &str| {
            NodeAffinity(vec![NodeTerm {
                labels: vec![Requirement::equals("topology.kubernetes.io/zone", zone)],
                fields: vec![],
            }])
        };
        let pinned = claim(ClaimState::Bound(BoundVolume { node_affinity: Some(only("b")), ..Default::default() }));
        assert_eq!(answer(&pinned, &zones(), &all, &Neighbours::default()).more, 4, "n4 and n5");
        let zoned = claim(ClaimState::Bound(BoundVolume {
            zones: vec![("topology.kubernetes.io/zone".into(), vec!["a".into(), "c".into()])],
            ..Default::default()
        }));
        let a = answer(&zoned, &zones(), &all, &Neighbours::default());
        assert_eq!(a.more, 8, "zones a and c");
        assert_eq!(a.nodes[3].1, Some(Refusal::Volume("volume zone data".into())));
    }

    #[test]
    fn a_pods_part_comes_out_as_it_went_in() {
        let c = Constraints {
            anti_affinity: vec![term(HOSTNAME, app("web"))],
            spread: vec![spread("topology.kubernetes.io/zone", 1, 1)],
            host_ports: vec![HostPort::new(None, None, 80)],
            ..web()
        };
        let pod = |a: &str| Neighbour {
            namespace: "ns".into(),
            labels: [("app".to_string(), a.to_string())].into(),
            host_ports: vec![HostPort::new(None, None, 80)],
            ..Default::default()
        };
        assert!(Neighbours::of(&c, "n1", &Neighbour::default()).is_none(), "a pod in another namespace tells nothing");
        let parts = [("n1", pod("web")), ("n1", pod("web")), ("n4", pod("db"))]
            .map(|(n, p)| Neighbours::of(&c, n, &p).unwrap());
        let mut sum = Neighbours::default();
        for p in &parts {
            sum.combine(p, true);
        }
        assert_eq!(sum, placed_with_ports(&c));
        let before = answer(&c, &zones(), &offers(&[2, 2, 2, 2, 2, 2]), &sum);
        assert_eq!(before.nodes[0].1, Some(Refusal::Port(HostPort::new(None, None, 80))));
        for p in &parts {
            sum.combine(p, false);
        }
        assert_eq!(
            sum,
            Neighbours { anti: vec![BTreeMap::new()], spread: vec![BTreeMap::new()], ..Default::default() }
        );
        assert_eq!(
            answer(&c, &zones(), &offers(&[2, 2, 2, 2, 2, 2]), &sum).more,
            5,
            "one a node, zones within 1: a 2, b 2, c 1"
        );
    }

    /// The same pods as [`a_pods_part_comes_out_as_it_went_in`] adds, folded at once.
    fn placed_with_ports(c: &Constraints) -> Neighbours {
        let mut nb = Neighbours::new(c);
        for (node, a) in [("n1", "web"), ("n1", "web"), ("n4", "db")] {
            let p = Neighbour {
                namespace: "ns".into(),
                labels: [("app".to_string(), a.to_string())].into(),
                host_ports: vec![HostPort::new(None, None, 80)],
                ..Default::default()
            };
            nb.add(c, node, &p);
        }
        nb
    }

    #[test]
    fn several_spread_constraints_are_replayed() {
        let c =
            Constraints { spread: vec![spread("topology.kubernetes.io/zone", 1, 1), spread(HOSTNAME, 1, 1)], ..web() };
        // Zone c's one node holds at most the hostname minimum + 1, and
        // that minimum stays 0 while zone a's third node is empty, which
        // zone c at 1 keeps it: 2 + 2 + 1 in every order. Each constraint
        // alone says more (zone 3 + 3 + 3... capped: 11; hostname 6 × 3).
        let a = answer(&c, &zones(), &offers(&[3, 3, 3, 3, 3, 3]), &placed(&c, &[]));
        assert_eq!((a.least, a.more), (5, 5), "{a:?}");
        assert!(a.order.is_empty() && a.bound_by.is_empty(), "{a:?}");
        let zone_only = Constraints { spread: vec![spread("topology.kubernetes.io/zone", 1, 1)], ..web() };
        let z = answer(&zone_only, &zones(), &offers(&[3, 3, 3, 3, 3, 3]), &placed(&zone_only, &[]));
        assert_eq!(z.more, 11, "{z:?}");
    }

    #[test]
    fn a_zone_and_hostname_spread_at_scale_settles_or_says_its_bound() {
        let c =
            Constraints { spread: vec![spread("topology.kubernetes.io/zone", 1, 1), spread(HOSTNAME, 1, 1)], ..web() };
        let nodes: Vec<NodeInfo> = (0..900).map(|i| node(&format!("n{i}"), ["a", "b", "c"][i % 3])).collect();
        // One full node (a cordoned one, say) holds the hostname minimum at
        // 0: one a node, then the zones within one of zone a's 299.
        let mut more = vec![3; 900];
        more[0] = 0;
        let a = answer(&c, &nodes, &offers(&more), &placed(&c, &[]));
        assert_eq!((a.least, a.more, a.order.len()), (899, 899, 0), "{:?}", a.order);
        // Nothing holds it: too many orders to replay here; between 0 and
        // each constraint's bound, said.
        let a = answer(&c, &nodes, &offers(&[3; 900]), &placed(&c, &[]));
        assert_eq!((a.least, a.more), (0, 2700));
        assert!(a.order[0].contains("too many orders"), "{:?}", a.order);
    }

    #[test]
    fn water_filling_matches_placing_one_at_a_time() {
        // Against a simulation: random existing counts and capacities.
        let s = spread("z", 1, 1);
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..500 {
            let n = 1 + next(5) as usize;
            let skew = 1 + next(3) as u32;
            let s = Spread { max_skew: skew, min_domains: 1 + next(6) as u32, ..s.clone() };
            let existing: BTreeMap<String, u64> = (0..n).map(|i| (format!("d{i}"), next(6))).collect();
            let capacity: BTreeMap<String, u64> = (0..n).map(|i| (format!("d{i}"), next(6))).collect();
            let fast = water_fill(&s, &existing, &capacity);
            // One at a time, always the first domain that admits one.
            let mut now = existing.clone();
            let mut left = capacity.clone();
            loop {
                let min = spread_min(&s, &now);
                let Some(d) = now.keys().find(|d| left[*d] > 0 && now[*d] < min + u64::from(skew)).cloned() else {
                    break;
                };
                *now.get_mut(&d).unwrap() += 1;
                *left.get_mut(&d).unwrap() -= 1;
            }
            let slow: BTreeMap<String, u64> = now.iter().map(|(d, v)| (d.clone(), v - existing[d])).collect();
            assert_eq!(fast, slow, "existing {existing:?} capacity {capacity:?} skew {skew} {s:?}");
        }
    }
}
