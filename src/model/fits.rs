//! How many more pods of a shape a node admits by itself: kube-scheduler's
//! per-node filters (NodeUnschedulable, NodeName, TaintToleration with the
//! not-ready and unreachable taints, NodeAffinity with the nodeSelector and
//! required terms, NodePorts' one a node, NodeResourcesFit and the pod
//! count), from what counting already holds. What other pods decide
//! (ports in use, pod affinity, topology spread) is [`super::placement`]'s.
//! Pure.
//!
//! A node admits K more when K more pods each fit: for every resource the
//! shape requests, K × request ≤ allocatable − requested, and K ≤ free pod
//! slots; a pod binding a host port, at most one.

use std::collections::BTreeMap;
use std::fmt;

use super::node::{Effect, NodeInfo, Taint};
use super::placement::{Constraints, Offer};
use super::quantity::{GRAMMAR, Quantity};
use super::requests::scheduler_units;
use super::selector::NodeAffinity;
use super::tally::NodeDemand;

/// A taint's toleration (`spec.tolerations[]`, or `--tolerate KEY[=VALUE][:EFFECT]`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Toleration {
    /// None with `exists`: every key.
    pub key: Option<String>,
    /// `Exists` (any value) rather than `Equal`.
    pub exists: bool,
    pub value: String,
    /// None: every effect.
    pub effect: Option<String>,
}

impl Toleration {
    /// `KEY[=VALUE][:EFFECT]`: without a value, any value of the key.
    pub fn parse(s: &str) -> Result<Toleration, String> {
        let s = s.trim();
        let (rest, effect) = match s.rsplit_once(':') {
            Some((r, e)) => (r, Some(e.to_string())),
            None => (s, None),
        };
        if let Some(e) = &effect
            && !matches!(e.as_str(), "NoSchedule" | "PreferNoSchedule" | "NoExecute")
        {
            return Err(format!("--tolerate {s}: the effect is NoSchedule, PreferNoSchedule or NoExecute, not {e:?}"));
        }
        let (key, value) = match rest.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (rest, None),
        };
        if key.is_empty() {
            return Err(format!("--tolerate {s}: expected KEY[=VALUE][:EFFECT], such as dedicated=batch:NoSchedule"));
        }
        Ok(Toleration {
            key: Some(key.to_string()),
            exists: value.is_none(),
            value: value.unwrap_or_default().to_string(),
            effect,
        })
    }

    /// `ToleratesTaint`: the effect matches (or none is given), the key
    /// matches (or, with Exists, none is given), and the value matches
    /// (Equal) or does not matter (Exists).
    pub fn tolerates(&self, key: &str, value: &str, effect: Effect) -> bool {
        if self.effect.as_deref().is_some_and(|e| e != effect.as_str()) {
            return false;
        }
        match &self.key {
            None => self.exists,
            Some(k) if k != key => false,
            Some(_) => self.exists || self.value == value,
        }
    }
}

/// The pods `--fits` asks about: what each requests (scheduler units), what
/// it tolerates, where it may go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Shape {
    /// What outputs call it: the name given (`web=...`), the manifest's
    /// name, or the shape as written.
    pub name: String,
    /// By resource, cpu in millicores, the rest whole units; all > 0.
    pub requests: Vec<(String, i64)>,
    pub tolerations: Vec<Toleration>,
    pub node_selector: BTreeMap<String, String>,
    /// `spec.nodeName`: only that node (the pod skips the scheduler).
    pub node_name: Option<String>,
    /// Required node affinity terms.
    pub node_affinity: Option<NodeAffinity>,
    /// Host ports, pod affinity, anti-affinity, spread.
    pub constraints: Constraints,
    /// A DaemonSet's pod: one a node that admits it, no "more".
    pub daemon_set: bool,
    /// What the scheduler applies and `--fits` does not model: the answer
    /// is an upper bound.
    pub bound_by: Vec<String>,
    /// Why the scheduler could place more (preemption).
    pub may_place_more: Vec<String>,
    /// Said with the answer, changing nothing of it (scheduling gates).
    pub notes: Vec<String>,
    /// How many replicas are asked about (`--replicas`, or a workload's
    /// `spec.replicas`): the answer says whether they land.
    pub asked: Option<u64>,
    /// `--fits-release`: the workload it is the pod of, `Kind/name`.
    pub workload: Option<String>,
}

/// Resource names a pod may request: the standard ones, hugepages, and
/// domain-prefixed (extended) names.
pub fn known_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-") || name.contains('/')
}

impl Shape {
    /// `[NAME=]RESOURCE=QUANTITY,...` (`cpu=500m,memory=1Gi`,
    /// `web=cpu=250m,memory=512Mi,nvidia.com/gpu=1`).
    pub fn parse(s: &str) -> Result<Shape, String> {
        let s = s.trim();
        let mut parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let mut name = s.to_string();
        if let Some(first) = parts.first().copied()
            && first.matches('=').count() == 2
        {
            let (n, rest) = first.split_once('=').expect("two =");
            name = n.to_string();
            parts[0] = rest;
        }
        let mut requests: Vec<(String, i64)> = Vec::new();
        for p in parts {
            let Some((res, qty)) = p.split_once('=') else {
                return Err(format!("--fits {s}: expected RESOURCE=QUANTITY pairs, such as cpu=500m,memory=1Gi"));
            };
            let res = res.trim();
            if !known_resource(res) {
                return Err(format!(
                    "--fits {s}: {res:?} is not a resource a pod can request (cpu, memory, ephemeral-storage, hugepages-<size>, or a domain-prefixed name such as nvidia.com/gpu)"
                ));
            }
            let q = Quantity::parse(qty.trim()).map_err(|_| format!("--fits {s}: {res}={qty} is not {GRAMMAR}"))?;
            let v = scheduler_units(res, q);
            if v <= 0 {
                return Err(format!("--fits {s}: {res}={qty}: a request must be more than zero"));
            }
            if requests.iter().any(|(r, _)| r == res) {
                return Err(format!("--fits {s}: {res} is given twice"));
            }
            requests.push((res.to_string(), v));
        }
        Ok(Shape { name, requests, ..Shape::default() })
    }
}

/// What keeps a node from admitting more of a shape. Ordered by its words
/// (how summaries and documents list limits); written as those words in
/// documents.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Free pod slots ran out first.
    Pods,
    /// This resource ran out first (or the node does not allocate it).
    Resource(String),
    NotReady,
    /// Unschedulable, and the shape does not tolerate that.
    Cordoned,
    /// A NoSchedule/NoExecute taint the shape does not tolerate.
    Taint(String),
    /// The shape's nodeSelector does not match the node's labels.
    NodeSelector,
    /// The shape names another node (`spec.nodeName`).
    NodeName,
    /// No required node affinity term matches the node.
    NodeAffinity,
    /// A host port the shape binds: one a node.
    HostPort(String),
    /// Another pod decides: a port in use, pod (anti-)affinity, spread
    /// (as [`super::placement::Refusal`] words it).
    Placement(String),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Pods => f.write_str("pods"),
            Limit::Resource(r) => f.write_str(r),
            Limit::NotReady => f.write_str("not-ready"),
            Limit::Cordoned => f.write_str("cordoned"),
            Limit::Taint(k) => write!(f, "taint {k}"),
            Limit::NodeSelector => f.write_str("node-selector"),
            Limit::NodeName => f.write_str("node-name"),
            Limit::NodeAffinity => f.write_str("node-affinity"),
            Limit::HostPort(p) => write!(f, "host port {p}"),
            Limit::Placement(why) => f.write_str(why),
        }
    }
}

impl Ord for Limit {
    fn cmp(&self, other: &Limit) -> std::cmp::Ordering {
        self.to_string().cmp(&other.to_string()).then_with(|| self.rank().cmp(&other.rank()))
    }
}

impl PartialOrd for Limit {
    fn partial_cmp(&self, other: &Limit) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Limit, D::Error> {
        Ok(Limit::parse(&std::borrow::Cow::<str>::deserialize(d)?))
    }
}

impl Limit {
    /// Breaks ties between limits whose words agree (none that [`Limit::parse`]
    /// gives back), so the order stays total.
    fn rank(&self) -> u8 {
        match self {
            Limit::Pods => 0,
            Limit::Resource(_) => 1,
            Limit::NotReady => 2,
            Limit::Cordoned => 3,
            Limit::Taint(_) => 4,
            Limit::NodeSelector => 5,
            Limit::NodeName => 6,
            Limit::NodeAffinity => 7,
            Limit::HostPort(_) => 8,
            Limit::Placement(_) => 9,
        }
    }

    /// Parses [`Limit`]'s words back (documents served by a watch).
    pub fn parse(s: &str) -> Limit {
        match s {
            "pods" => Limit::Pods,
            "not-ready" => Limit::NotReady,
            "cordoned" => Limit::Cordoned,
            "node-selector" => Limit::NodeSelector,
            "node-name" => Limit::NodeName,
            "node-affinity" => Limit::NodeAffinity,
            s if PLACEMENT.iter().any(|p| s.starts_with(p)) || s.ends_with(" in use") => Limit::Placement(s.into()),
            s => match (s.strip_prefix("taint "), s.strip_prefix("host port ")) {
                (Some(k), _) => Limit::Taint(k.to_string()),
                (_, Some(p)) => Limit::HostPort(p.to_string()),
                _ => Limit::Resource(s.to_string()),
            },
        }
    }

    /// Whether it keeps the node from taking the shape at all (rather than
    /// from taking more of it).
    pub fn excludes(&self) -> bool {
        match self {
            Limit::Pods | Limit::Resource(_) | Limit::HostPort(_) => false,
            // One a node caps the node at one; it does not close it.
            Limit::Placement(why) => !why.starts_with("one a "),
            _ => true,
        }
    }
}

/// How [`super::placement::Refusal`]s begin, to read them back.
const PLACEMENT: [&str; 7] = ["anti-affinity ", "affinity ", "spread ", "no label ", "one a ", "claim ", "volume "];

/// How many more a node admits, and what limits it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fit {
    pub more: u64,
    pub limited_by: Limit,
}

/// How many more pods of `shape` the listed node `n` admits by itself,
/// given the pods counted on it and what they request. The filters go in
/// the scheduler's order; the first that refuses names the limit.
pub fn fit(shape: &Shape, n: &NodeInfo, pods: u32, demand: Option<&NodeDemand>) -> Fit {
    let none = |limited_by| Fit { more: 0, limited_by };
    let tolerated =
        |key: &str, value: &str, effect: Effect| shape.tolerations.iter().any(|t| t.tolerates(key, value, effect));
    let untolerated = |t: &&Taint| !tolerated(&t.key, &t.value, t.effect);
    if !n.schedulable && !tolerated("node.kubernetes.io/unschedulable", "", Effect::NoSchedule) {
        return none(Limit::Cordoned);
    }
    if shape.node_name.as_ref().is_some_and(|name| *name != n.name) {
        return none(Limit::NodeName);
    }
    // NotReady is a taint the node lifecycle controller sets, as the
    // scheduler reads it; a node without it takes pods whatever its Ready.
    if n.health_taints.iter().any(|t| untolerated(&t)) {
        return none(Limit::NotReady);
    }
    if let Some(t) = n.taints.iter().find(untolerated) {
        return none(Limit::Taint(t.key.clone()));
    }
    if shape.node_selector.iter().any(|(k, v)| n.labels.get(k) != Some(v)) {
        return none(Limit::NodeSelector);
    }
    if shape.node_affinity.as_ref().is_some_and(|a| !a.matches(&n.name, |k| n.labels.get(k).map(String::as_str))) {
        return none(Limit::NodeAffinity);
    }
    let slots = i128::from(n.allocatable.unwrap_or(0)) - i128::from(pods);
    let mut best = Fit { more: slots.max(0) as u64, limited_by: Limit::Pods };
    if let Some(port) = shape.constraints.host_ports.first()
        && best.more > 1
    {
        best = Fit { more: 1, limited_by: Limit::HostPort(port.to_string()) };
    }
    for (name, req) in &shape.requests {
        let allocatable = n.resources.get(name.as_str()).copied().map_or(0, i128::from);
        let requested = demand.and_then(|d| d.requests.get(name.as_str())).copied().unwrap_or(0);
        let more = ((allocatable - requested) / i128::from(*req)).max(0) as u64;
        if more < best.more {
            best = Fit { more, limited_by: Limit::Resource(name.clone()) };
        }
    }
    best
}

/// What a node offers the inter-pod filters: what it admits by itself, and
/// whether it passes the node affinity and taints (spread's inclusion
/// policies read those).
pub fn offer(shape: &Shape, n: &NodeInfo, more: u64) -> Offer {
    let labels = |k: &str| n.labels.get(k).map(String::as_str);
    let affinity = shape.node_selector.iter().all(|(k, v)| labels(k) == Some(v.as_str()))
        && shape.node_affinity.as_ref().is_none_or(|a| a.matches(&n.name, labels));
    let tolerated = n
        .taints
        .iter()
        .chain(&n.health_taints)
        .all(|taint| shape.tolerations.iter().any(|t| t.tolerates(&taint.key, &taint.value, taint.effect)));
    Offer { more, affinity, tolerated }
}

/// The node labels a shape's filters read (they must be kept).
pub fn labels_needed(shapes: &[Shape]) -> Vec<String> {
    let mut keys: Vec<String> = shapes
        .iter()
        .flat_map(|s| {
            let affinity = s.node_affinity.iter().flat_map(|a| a.keys().cloned());
            s.node_selector.keys().cloned().chain(affinity).chain(s.constraints.node_keys())
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(cpu: i64, memory: i64, pods: u32) -> NodeInfo {
        NodeInfo {
            name: "n".into(),
            allocatable: Some(pods),
            ready: true,
            schedulable: true,
            resources: [("cpu".into(), cpu), ("memory".into(), memory)].into(),
            ..Default::default()
        }
    }

    fn used(cpu: i128, memory: i128) -> NodeDemand {
        NodeDemand { requests: [("cpu".into(), cpu), ("memory".into(), memory)].into(), ..Default::default() }
    }

    #[test]
    fn parses_shapes() {
        let s = Shape::parse("cpu=500m,memory=1Gi").unwrap();
        assert_eq!(
            (s.name.as_str(), s.requests.clone()),
            ("cpu=500m,memory=1Gi", vec![("cpu".into(), 500), ("memory".into(), 1 << 30)])
        );
        let s = Shape::parse("web=cpu=250m,nvidia.com/gpu=1").unwrap();
        assert_eq!((s.name.as_str(), s.requests.len()), ("web", 2));
        for (bad, says) in [
            ("cpu=abc", "Kubernetes quantity"),
            ("cpu=0", "more than zero"),
            ("cpu=-1", "more than zero"),
            ("gpu=1", "not a resource a pod can request"),
            ("cpu", "RESOURCE=QUANTITY"),
            ("cpu=1,cpu=2", "given twice"),
        ] {
            let e = Shape::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_first_resource_to_run_out_limits() {
        let shape = Shape::parse("cpu=400m,memory=1Gi").unwrap();
        // cpu: (2000-500)/400 = 3; memory: (8Gi-1Gi)/1Gi = 7; pods: 110-1.
        let f = fit(&shape, &node(2000, 8 << 30, 110), 1, Some(&used(500, 1 << 30)));
        assert_eq!(f, Fit { more: 3, limited_by: Limit::Resource("cpu".into()) });
        let f = fit(&shape, &node(8000, 8 << 30, 4), 2, Some(&used(500, 1 << 30)));
        assert_eq!(f, Fit { more: 2, limited_by: Limit::Pods });
        // Overcommitted: none, never negative.
        let f = fit(&shape, &node(2000, 8 << 30, 110), 1, Some(&used(2500, 1 << 30)));
        assert_eq!(f.more, 0);
        // A resource the node does not allocate: none.
        let gpu = Shape::parse("nvidia.com/gpu=1").unwrap();
        assert_eq!(fit(&gpu, &node(2000, 8 << 30, 110), 0, None).limited_by, Limit::Resource("nvidia.com/gpu".into()));
    }

    #[test]
    fn nodes_the_shape_cannot_go_to() {
        let shape = Shape::parse("cpu=100m").unwrap();
        let mut n = node(2000, 1 << 30, 110);
        n.ready = false;
        assert_eq!(fit(&shape, &n, 0, None).more, 20, "NotReady without the taint: the scheduler places pods");
        n.health_taints = vec!["node.kubernetes.io/not-ready:NoSchedule".parse().unwrap()];
        assert_eq!(fit(&shape, &n, 0, None).limited_by, Limit::NotReady);
        let daemon = Shape {
            tolerations: vec![Toleration::parse("node.kubernetes.io/not-ready:NoSchedule").unwrap()],
            ..shape.clone()
        };
        assert_eq!(fit(&daemon, &n, 0, None).more, 20);
        let mut n = node(2000, 1 << 30, 110);
        n.schedulable = false;
        assert_eq!(fit(&shape, &n, 0, None).limited_by, Limit::Cordoned);
        let mut n = node(2000, 1 << 30, 110);
        n.taints = vec!["dedicated=batch:NoSchedule".parse().unwrap()];
        assert_eq!(fit(&shape, &n, 0, None).limited_by, Limit::Taint("dedicated".into()));
        let tolerating =
            Shape { tolerations: vec![Toleration::parse("dedicated=batch:NoSchedule").unwrap()], ..shape.clone() };
        assert_eq!(fit(&tolerating, &n, 0, None).more, 20);
        let wrong_value = Shape { tolerations: vec![Toleration::parse("dedicated=web").unwrap()], ..shape.clone() };
        assert_eq!(fit(&wrong_value, &n, 0, None).more, 0);
        let any_value = Shape { tolerations: vec![Toleration::parse("dedicated").unwrap()], ..shape.clone() };
        assert_eq!(fit(&any_value, &n, 0, None).more, 20);
        let selective = Shape { node_selector: [("pool".to_string(), "gpu".to_string())].into(), ..shape };
        assert_eq!(fit(&selective, &node(2000, 1 << 30, 110), 0, None).limited_by, Limit::NodeSelector);
        assert!(Toleration::parse("k=v:Sometimes").is_err());
        assert_eq!(Limit::parse("taint dedicated"), Limit::Taint("dedicated".into()));
        assert_eq!(Limit::parse("nvidia.com/gpu").to_string(), "nvidia.com/gpu");
        for l in [
            Limit::NodeName,
            Limit::NodeAffinity,
            Limit::HostPort("8080/TCP".into()),
            Limit::Placement("host port 8080/TCP in use".into()),
            Limit::Placement("anti-affinity kubernetes.io/hostname".into()),
        ] {
            assert_eq!(Limit::parse(&l.to_string()), l);
        }
    }

    #[test]
    fn node_name_affinity_and_ports() {
        use crate::model::placement::HostPort;
        use crate::model::selector::{NodeTerm, Requirement};
        let shape = Shape::parse("cpu=100m").unwrap();
        let mut n = node(2000, 1 << 30, 110);
        n.labels = [("cores".to_string(), "16".to_string()), ("pool".to_string(), "b".to_string())].into();
        let pinned = Shape { node_name: Some("other".into()), ..shape.clone() };
        assert_eq!(fit(&pinned, &n, 0, None).limited_by, Limit::NodeName);
        let req = |k: &str, op: &str, v: &[&str]| {
            Requirement::parse("f", k, op, v.iter().map(|s| s.to_string()).collect(), true).unwrap()
        };
        let term = |reqs: Vec<Requirement>| NodeTerm { labels: reqs, fields: vec![] };
        let big = Shape {
            node_affinity: Some(NodeAffinity(vec![term(vec![
                req("cores", "Gt", &["8"]),
                req("pool", "NotIn", &["a"]),
            ])])),
            ..shape.clone()
        };
        assert_eq!(fit(&big, &n, 0, None).more, 20);
        let small =
            Shape { node_affinity: Some(NodeAffinity(vec![term(vec![req("cores", "Lt", &["8"])])])), ..shape.clone() };
        assert_eq!(fit(&small, &n, 0, None).limited_by, Limit::NodeAffinity);
        assert!(!offer(&small, &n, fit(&small, &n, 0, None).more).affinity);
        let ported = Shape {
            constraints: Constraints { host_ports: vec![HostPort::new(None, None, 80)], ..Default::default() },
            ..shape
        };
        assert_eq!(fit(&ported, &n, 0, None), Fit { more: 1, limited_by: Limit::HostPort("80/TCP".into()) });
        assert_eq!(fit(&ported, &n, 110, None).limited_by, Limit::Pods);
    }
}
