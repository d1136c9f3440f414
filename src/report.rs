//! Joins a tally with the node list into the rows every view prints. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tally::{NodeCounts, Tally};
use crate::wire::{SlimNode, parse_count_quantity};

/// What the node list says about one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    /// `status.allocatable.pods`; None when the node does not report it.
    pub allocatable: Option<u32>,
    pub ready: bool,
    pub schedulable: bool,
    /// NoSchedule/NoExecute taints other than the standard not-ready and
    /// unreachable ones (those say what READY says), as `key=value:Effect`.
    pub taints: Vec<String>,
    /// The node's labels that a view asked for (`-L`, `--group-by`).
    pub labels: BTreeMap<String, String>,
}

/// Taints the node lifecycle controller sets while a node is unhealthy.
const HEALTH_TAINTS: [&str; 2] = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

impl NodeInfo {
    /// A node from the wire, keeping only the labels in `keep`.
    pub fn from_wire(n: &SlimNode, keep: &[String]) -> NodeInfo {
        NodeInfo {
            labels: keep
                .iter()
                .filter_map(|k| n.metadata.labels.get(k.as_str()).map(|v| (k.clone(), v.to_string())))
                .collect(),
            name: n.metadata.name.to_string(),
            allocatable: n
                .status
                .allocatable
                .as_ref()
                .and_then(|a| a.pods.as_deref())
                .and_then(parse_count_quantity)
                .map(|v| v.min(u64::from(u32::MAX)) as u32),
            ready: n.status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True"),
            schedulable: !n.spec.unschedulable.unwrap_or(false),
            taints: n
                .spec
                .taints
                .iter()
                .filter(|t| matches!(t.effect.as_str(), "NoSchedule" | "NoExecute"))
                .filter(|t| !HEALTH_TAINTS.contains(&t.key.as_str()))
                .map(|t| match t.value.as_deref().filter(|v| !v.is_empty()) {
                    Some(v) => format!("{}={v}:{}", t.key, t.effect),
                    None => format!("{}:{}", t.key, t.effect),
                })
                .collect(),
        }
    }

    /// Cordoned, or tainted against new pods (`--schedulable-only` leaves it out).
    pub fn closed(&self) -> bool {
        !self.schedulable || !self.taints.is_empty()
    }
}

/// What is known of the node a row is about.
#[derive(Clone, Copy, Debug)]
pub enum Known<'a> {
    /// In the node list.
    Listed(&'a NodeInfo),
    /// Pods point at it but the node list does not have it.
    Missing,
    /// The node list could not be read (no permission): nothing is known.
    Unreadable,
}

/// One node's line in every output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    pub name: String,
    pub pods: u32,
    /// None when unknown: the node is missing, reports none, or the node
    /// list could not be read.
    pub allocatable: Option<u32>,
    /// allocatable - pods; negative when a node holds more than it admits.
    pub free: Option<i64>,
    /// pods / allocatable (0.0..), None when allocatable is unknown or 0.
    #[serde(serialize_with = "round4")]
    pub saturation: Option<f64>,
    pub running: u32,
    pub pending: u32,
    pub unknown: u32,
    pub terminating: u32,
    pub daemon_set: u32,
    /// Of `pods`, those on the host network: they take no pod IP.
    #[serde(default)]
    pub host_network: u32,
    /// None when the node is not in the node list or it could not be read.
    pub ready: Option<bool>,
    pub schedulable: Option<bool>,
    /// Pods point at this node but the node list does not have it.
    pub missing: bool,
    /// Ready | NotReady | Ready,SchedulingDisabled | NotReady,SchedulingDisabled
    /// | Missing | Unknown (the node list could not be read)
    pub status: String,
    /// See [`NodeInfo::taints`]; None when the node is not known.
    #[serde(default)]
    pub taints: Option<Vec<String>>,
    /// With `-L`/`--group-by`: the node's values of those labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// Saturation to four decimals in documents: 0.9091, not 0.9090909090909091.
fn round4<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_f64((v * 10_000.0).round() / 10_000.0),
        None => s.serialize_none(),
    }
}

impl NodeRow {
    /// A ready, schedulable node's row with every pod running (for tests).
    #[cfg(test)]
    pub fn sample(name: &str, pods: u32, allocatable: u32) -> NodeRow {
        let info = NodeInfo {
            name: name.into(),
            allocatable: Some(allocatable),
            ready: true,
            schedulable: true,
            ..Default::default()
        };
        let counts = NodeCounts { pods, running: pods, ..Default::default() };
        NodeRow::new(name.into(), counts, Known::Listed(&info))
    }

    pub fn new(name: String, counts: NodeCounts, known: Known<'_>) -> NodeRow {
        let info = match known {
            Known::Listed(i) => Some(i),
            _ => None,
        };
        let allocatable = info.and_then(|i| i.allocatable);
        let status = match known {
            Known::Missing => "Missing".to_string(),
            Known::Unreadable => "Unknown".to_string(),
            Known::Listed(i) => {
                let mut s = if i.ready { "Ready" } else { "NotReady" }.to_string();
                if !i.schedulable {
                    s.push_str(",SchedulingDisabled");
                }
                s
            }
        };
        NodeRow {
            name,
            pods: counts.pods,
            allocatable,
            free: allocatable.map(|a| i64::from(a) - i64::from(counts.pods)),
            saturation: allocatable.filter(|&a| a > 0).map(|a| f64::from(counts.pods) / f64::from(a)),
            running: counts.running,
            pending: counts.pending,
            unknown: counts.unknown,
            terminating: counts.terminating,
            daemon_set: counts.daemon_set,
            host_network: counts.host_network,
            ready: info.map(|i| i.ready),
            schedulable: info.map(|i| i.schedulable),
            missing: matches!(known, Known::Missing),
            status,
            taints: info.map(|i| i.taints.clone()),
            labels: info.map(|i| i.labels.clone()).unwrap_or_default(),
        }
    }

    /// Known and cordoned or tainted (see [`NodeInfo::closed`]).
    pub fn closed(&self) -> bool {
        self.schedulable == Some(false) || self.taints.as_ref().is_some_and(|t| !t.is_empty())
    }
}

/// Every listed node (zero-pod nodes included) plus any node that pods point
/// at but the node list lacks. With a node selector (`nodes_complete` false)
/// pods on nodes outside the selection are left out instead of flagged.
/// Without a node list (`None`: it could not be read) a row per node that
/// has pods, nothing known of the node.
pub fn rows(tally: &Tally<String>, nodes: Option<&[NodeInfo]>, nodes_complete: bool) -> Vec<NodeRow> {
    let Some(nodes) = nodes else {
        return tally.nodes().map(|(name, counts)| NodeRow::new(name.clone(), *counts, Known::Unreadable)).collect();
    };
    let mut rows: Vec<NodeRow> =
        nodes.iter().map(|n| NodeRow::new(n.name.clone(), tally.node(n.name.as_str()), Known::Listed(n))).collect();
    if nodes_complete {
        let mut known: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        known.sort_unstable();
        for (name, counts) in tally.nodes() {
            if known.binary_search(&name.as_str()).is_err() {
                rows.push(NodeRow::new(name.clone(), *counts, Known::Missing));
            }
        }
    }
    rows
}

/// `--schedulable-only`: drops the cordoned and tainted rows; how many.
pub fn leave_out_closed(rows: &mut Vec<NodeRow>) -> u64 {
    let before = rows.len();
    rows.retain(|r| !r.closed());
    (before - rows.len()) as u64
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    #[default]
    Name,
    Pods,
    Free,
    Saturation,
}

/// What `--sort-by` sorts on, for node rows and group rows alike.
trait Sortable {
    fn name(&self) -> &str;
    fn pods(&self) -> u64;
    fn free(&self) -> Option<i64>;
    fn saturation(&self) -> Option<f64>;
}

impl Sortable for NodeRow {
    fn name(&self) -> &str {
        &self.name
    }
    fn pods(&self) -> u64 {
        u64::from(self.pods)
    }
    fn free(&self) -> Option<i64> {
        self.free
    }
    fn saturation(&self) -> Option<f64> {
        self.saturation
    }
}

impl Sortable for GroupRow {
    fn name(&self) -> &str {
        &self.name
    }
    fn pods(&self) -> u64 {
        self.pods
    }
    fn free(&self) -> Option<i64> {
        self.free
    }
    fn saturation(&self) -> Option<f64> {
        self.saturation
    }
}

/// Name ascending; pods and saturation fullest first; free least first.
/// Ties break by name so output is stable. Unknown allocatable sorts as fullest.
fn sort_by<T: Sortable>(rows: &mut [T], by: SortBy) {
    let sat = |r: &T| r.saturation().unwrap_or(f64::INFINITY);
    rows.sort_by(|a, b| {
        let primary = match by {
            SortBy::Name => std::cmp::Ordering::Equal,
            SortBy::Pods => b.pods().cmp(&a.pods()),
            SortBy::Free => a.free().unwrap_or(i64::MIN).cmp(&b.free().unwrap_or(i64::MIN)),
            SortBy::Saturation => sat(b).total_cmp(&sat(a)),
        };
        primary.then_with(|| a.name().cmp(b.name()))
    });
}

pub fn sort_rows(rows: &mut [NodeRow], by: SortBy) {
    sort_by(rows, by);
}

/// The group of nodes without the label.
pub const NONE: &str = "<none>";
/// The group of pods on nodes the node list lacks.
pub const MISSING: &str = "<missing>";
/// The group of every node when the node list could not be read.
pub const UNKNOWN: &str = "<unknown>";

/// `--group-by`'s aliases and the label keys each stands for (first present wins).
pub const ALIASES: [(&str, &[&str]); 3] = [
    ("zone", &["topology.kubernetes.io/zone"]),
    ("instance-type", &["node.kubernetes.io/instance-type"]),
    (
        "nodepool",
        &[
            "karpenter.sh/nodepool",
            "eks.amazonaws.com/nodegroup",
            "cloud.google.com/gke-nodepool",
            "kubernetes.azure.com/agentpool",
        ],
    ),
];

/// `--group-by`: a label key, or an alias for well-known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    /// What the user asked for (shown as the column and `groupBy`).
    pub name: String,
    /// The label keys to look at, first present wins.
    pub labels: Vec<String>,
}

impl GroupKey {
    pub fn parse(s: &str) -> GroupKey {
        let labels = match ALIASES.iter().find(|(alias, _)| *alias == s) {
            Some((_, labels)) => labels.iter().map(|l| l.to_string()).collect(),
            None => vec![s.to_string()],
        };
        GroupKey { name: s.to_string(), labels }
    }

    /// The group a row falls in.
    pub fn group_of(&self, r: &NodeRow) -> String {
        if r.missing {
            return MISSING.into();
        }
        if r.ready.is_none() {
            return UNKNOWN.into();
        }
        self.value_of(&r.labels).to_string()
    }

    /// The group of a listed node with these labels.
    pub fn value_of<'l>(&self, labels: &'l BTreeMap<String, String>) -> &'l str {
        self.labels.iter().find_map(|l| labels.get(l)).map_or(NONE, String::as_str)
    }
}

/// One `--group-by` row: the nodes sharing a label value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    pub name: String,
    pub nodes: u64,
    pub pods: u64,
    /// Of the nodes whose allocatable is known; None when none is.
    pub allocatable: Option<u64>,
    pub free: Option<i64>,
    #[serde(serialize_with = "round4")]
    pub saturation: Option<f64>,
    pub fullest_node: Option<String>,
    #[serde(serialize_with = "round4")]
    pub fullest_saturation: Option<f64>,
    /// Nodes at or above the threshold (`--max-saturation`, else 90 %).
    pub at_or_above_threshold: u64,
}

/// Rows grouped by `key`, in name order; `threshold` is a fraction (0.9).
pub fn groups(rows: &[NodeRow], key: &GroupKey, threshold: f64) -> Vec<GroupRow> {
    let mut by: BTreeMap<String, GroupRow> = BTreeMap::new();
    for r in rows {
        let name = key.group_of(r);
        let g = by.entry(name.clone()).or_insert_with(|| GroupRow {
            name,
            nodes: 0,
            pods: 0,
            allocatable: None,
            free: None,
            saturation: None,
            fullest_node: None,
            fullest_saturation: None,
            at_or_above_threshold: 0,
        });
        g.nodes += 1;
        g.pods += u64::from(r.pods);
        if let (Some(a), Some(f)) = (r.allocatable, r.free) {
            g.allocatable = Some(g.allocatable.unwrap_or(0) + u64::from(a));
            g.free = Some(g.free.unwrap_or(0) + f);
        }
        if let Some(s) = r.saturation {
            // Ties go to the first by name: rows come in any order, so compare names too.
            let fuller = match (g.fullest_saturation, &g.fullest_node) {
                (Some(f), Some(n)) => s > f || (s == f && r.name < *n),
                _ => true,
            };
            if fuller {
                g.fullest_saturation = Some(s);
                g.fullest_node = Some(r.name.clone());
            }
            if s >= threshold - 1e-12 {
                g.at_or_above_threshold += 1;
            }
        }
    }
    by.into_values()
        .map(|mut g| {
            g.saturation = g.allocatable.filter(|&a| a > 0).map(|a| g.pods as f64 / a as f64);
            g
        })
        .collect()
}

/// The saturation ranges of the histogram, in order.
pub const RANGES: [&str; 6] = ["0-50%", "50-80%", "80-90%", "90-100%", "full", "over"];

/// How many nodes sit in one saturation range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaturationRange {
    pub range: String,
    pub nodes: u64,
}

/// Which of [`RANGES`] `pods` of `allocatable` falls in (exact integer
/// comparisons: 99 of 110 is 90 %, in 90-100%).
fn range_of(pods: u64, allocatable: u64) -> usize {
    if 2 * pods < allocatable {
        0
    } else if 5 * pods < 4 * allocatable {
        1
    } else if 10 * pods < 9 * allocatable {
        2
    } else if pods < allocatable {
        3
    } else if pods == allocatable {
        4
    } else {
        5
    }
}

/// Nodes per saturation range. Nodes without a known allocatable (missing
/// from the node list, or reporting none) are in no range.
pub fn histogram(rows: &[NodeRow]) -> Vec<SaturationRange> {
    let mut n = [0u64; RANGES.len()];
    for r in rows {
        if let Some(a) = r.allocatable.filter(|&a| a > 0) {
            n[range_of(u64::from(r.pods), u64::from(a))] += 1;
        }
    }
    RANGES.iter().zip(n).map(|(range, nodes)| SaturationRange { range: range.to_string(), nodes }).collect()
}

/// Group rows in the order `--sort-by` asks for (as node rows are).
pub fn sort_groups(rows: &mut [GroupRow], by: SortBy) {
    sort_by(rows, by);
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub nodes: u64,
    pub pods: u64,
    /// Over the nodes whose allocatable is known; None when none is (the
    /// node list could not be read).
    pub allocatable: Option<u64>,
}

pub fn totals(rows: &[NodeRow]) -> Totals {
    let known = rows.is_empty() || rows.iter().any(|r| r.allocatable.is_some());
    Totals {
        nodes: rows.len() as u64,
        pods: rows.iter().map(|r| u64::from(r.pods)).sum(),
        allocatable: known.then(|| rows.iter().filter_map(|r| r.allocatable).map(u64::from).sum()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::{Bucket, Contribution};

    fn info(name: &str, alloc: Option<u32>, ready: bool, schedulable: bool) -> NodeInfo {
        NodeInfo { name: name.into(), allocatable: alloc, ready, schedulable, ..Default::default() }
    }

    fn tally(pods: &[(&str, Bucket)]) -> Tally<String> {
        let mut t = Tally::new();
        for (n, b) in pods {
            t.add(Contribution::Node { node: *n, bucket: *b, daemon_set: false, host_network: false });
        }
        t
    }

    #[test]
    fn joins_zero_pod_and_missing_nodes() {
        let t = tally(&[("a", Bucket::Running), ("a", Bucket::Pending), ("ghost", Bucket::Unknown)]);
        let nodes = [info("a", Some(4), true, true), info("b", Some(110), false, false), info("c", None, true, true)];
        let r = rows(&t, Some(&nodes), true);
        assert_eq!(r.len(), 4);
        assert_eq!((r[0].pods, r[0].free, r[0].saturation, r[0].status.as_str()), (2, Some(2), Some(0.5), "Ready"));
        assert_eq!((r[1].pods, r[1].free, r[1].status.as_str()), (0, Some(110), "NotReady,SchedulingDisabled"));
        assert_eq!((r[2].allocatable, r[2].saturation), (None, None));
        assert_eq!((r[3].name.as_str(), r[3].missing, r[3].status.as_str()), ("ghost", true, "Missing"));
        assert_eq!((r[3].ready, r[3].free), (None, None));
        // With a node selector the ghost is outside the selection, not missing.
        assert_eq!(rows(&t, Some(&nodes), false).len(), 3);
        assert_eq!(totals(&r), Totals { nodes: 4, pods: 3, allocatable: Some(114) });
        // No node list: the nodes with pods, nothing known of them.
        let r = rows(&t, None, true);
        let names: Vec<&str> = r.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "ghost"]);
        assert!(r.iter().all(|r| r.allocatable.is_none() && r.ready.is_none() && !r.missing && r.status == "Unknown"));
        assert_eq!(totals(&r), Totals { nodes: 2, pods: 3, allocatable: None });
        assert_eq!(GroupKey::parse("zone").group_of(&r[0]), "<unknown>");
    }

    #[test]
    fn groups_partition_the_rows() {
        let t = tally(&[
            ("a", Bucket::Running),
            ("a", Bucket::Running),
            ("b", Bucket::Running),
            ("ghost", Bucket::Running),
        ]);
        let mut a = info("a", Some(2), true, true);
        a.labels.insert("topology.kubernetes.io/zone".into(), "z1".into());
        let mut b = info("b", Some(10), true, true);
        b.labels.insert("topology.kubernetes.io/zone".into(), "z1".into());
        let c = info("c", Some(110), true, true);
        let r = rows(&t, Some(&[a, b, c]), true);
        let key = GroupKey::parse("zone");
        let g = groups(&r, &key, 0.9);
        let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["<missing>", "<none>", "z1"]);
        let z1 = &g[2];
        assert_eq!((z1.nodes, z1.pods, z1.allocatable, z1.free), (2, 3, Some(12), Some(9)));
        assert_eq!(
            (z1.fullest_node.as_deref(), z1.fullest_saturation, z1.at_or_above_threshold),
            (Some("a"), Some(1.0), 1)
        );
        assert_eq!((g[0].nodes, g[0].pods, g[0].saturation), (1, 1, None));
        assert_eq!(g.iter().map(|g| g.pods).sum::<u64>(), r.iter().map(|r| u64::from(r.pods)).sum::<u64>());
        let pool = GroupKey::parse("nodepool");
        assert_eq!(pool.labels[2], "cloud.google.com/gke-nodepool");
        assert_eq!(GroupKey::parse("team").labels, ["team"]);
    }

    #[test]
    fn histogram_ranges_are_exact_at_their_edges() {
        let cases = [(0, 110, 0), (54, 110, 0), (55, 110, 1), (87, 110, 1), (88, 110, 2), (98, 110, 2), (99, 110, 3)];
        for (pods, alloc, want) in cases {
            assert_eq!(range_of(pods, alloc), want, "{pods}/{alloc}");
        }
        assert_eq!((range_of(109, 110), range_of(110, 110), range_of(111, 110)), (3, 4, 5));
        let t = tally(&[("a", Bucket::Running), ("a", Bucket::Running), ("ghost", Bucket::Running)]);
        let nodes = [info("a", Some(2), true, true), info("b", Some(110), true, true), info("c", None, true, true)];
        let h = histogram(&rows(&t, Some(&nodes), true));
        let counts: Vec<u64> = h.iter().map(|r| r.nodes).collect();
        // a is full, b empty; c (no allocatable) and ghost (missing) are in no range.
        assert_eq!(counts, [1, 0, 0, 0, 1, 0]);
        assert_eq!(h[4].range, "full");
    }

    #[test]
    fn sorting() {
        let t = tally(&[("a", Bucket::Running), ("b", Bucket::Running), ("b", Bucket::Running)]);
        let nodes = [info("c", Some(1), true, true), info("b", Some(10), true, true), info("a", Some(2), true, true)];
        let mut r = rows(&t, Some(&nodes), true);
        let names = |r: &[NodeRow]| r.iter().map(|r| r.name.clone()).collect::<Vec<_>>().join(",");
        sort_rows(&mut r, SortBy::Name);
        assert_eq!(names(&r), "a,b,c");
        sort_rows(&mut r, SortBy::Pods);
        assert_eq!(names(&r), "b,a,c");
        sort_rows(&mut r, SortBy::Free);
        assert_eq!(names(&r), "a,c,b");
        sort_rows(&mut r, SortBy::Saturation);
        assert_eq!(names(&r), "a,b,c");
    }
}
