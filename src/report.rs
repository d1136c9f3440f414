//! Joins a tally with the node list into the rows every view prints. Pure.

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
}

impl NodeInfo {
    pub fn from_wire(n: &SlimNode) -> NodeInfo {
        NodeInfo {
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
        }
    }
}

/// One node's line in every output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    pub name: String,
    pub pods: u32,
    pub allocatable: u32,
    /// allocatable - pods; negative when a node holds more than it admits.
    pub free: i64,
    /// pods / allocatable (0.0..), None when the node reports no allocatable pods.
    #[serde(serialize_with = "round4")]
    pub saturation: Option<f64>,
    pub running: u32,
    pub pending: u32,
    pub unknown: u32,
    pub terminating: u32,
    pub daemon_set: u32,
    pub ready: bool,
    pub schedulable: bool,
    /// Pods point at this node but the node list does not have it.
    pub missing: bool,
    /// Ready | NotReady | Ready,SchedulingDisabled | NotReady,SchedulingDisabled | Missing
    pub status: String,
}

/// Saturation to four decimals in documents: 0.9091, not 0.9090909090909091.
fn round4<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_f64((v * 10_000.0).round() / 10_000.0),
        None => s.serialize_none(),
    }
}

impl NodeRow {
    fn new(name: String, counts: NodeCounts, info: Option<&NodeInfo>) -> NodeRow {
        let allocatable = info.and_then(|i| i.allocatable).unwrap_or(0);
        let (ready, schedulable) = info.map_or((false, false), |i| (i.ready, i.schedulable));
        let status = match info {
            None => "Missing".to_string(),
            Some(i) => {
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
            free: i64::from(allocatable) - i64::from(counts.pods),
            saturation: (allocatable > 0).then(|| f64::from(counts.pods) / f64::from(allocatable)),
            running: counts.running,
            pending: counts.pending,
            unknown: counts.unknown,
            terminating: counts.terminating,
            daemon_set: counts.daemon_set,
            ready,
            schedulable,
            missing: info.is_none(),
            status,
        }
    }
}

/// Every listed node (zero-pod nodes included) plus any node that pods point
/// at but the node list lacks. With a node selector (`nodes_complete` false)
/// pods on nodes outside the selection are left out instead of flagged.
pub fn rows(tally: &Tally<String>, nodes: &[NodeInfo], nodes_complete: bool) -> Vec<NodeRow> {
    let mut rows: Vec<NodeRow> =
        nodes.iter().map(|n| NodeRow::new(n.name.clone(), tally.node(n.name.as_str()), Some(n))).collect();
    if nodes_complete {
        let mut known: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        known.sort_unstable();
        for (name, counts) in tally.nodes() {
            if known.binary_search(&name.as_str()).is_err() {
                rows.push(NodeRow::new(name.clone(), *counts, None));
            }
        }
    }
    rows
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    #[default]
    Name,
    Pods,
    Free,
    Saturation,
}

/// Name ascending; pods and saturation fullest first; free least first.
/// Ties break by name so output is stable.
pub fn sort_rows(rows: &mut [NodeRow], by: SortBy) {
    let sat = |r: &NodeRow| r.saturation.unwrap_or(f64::INFINITY);
    rows.sort_by(|a, b| {
        let primary = match by {
            SortBy::Name => std::cmp::Ordering::Equal,
            SortBy::Pods => b.pods.cmp(&a.pods),
            SortBy::Free => a.free.cmp(&b.free),
            SortBy::Saturation => sat(b).total_cmp(&sat(a)),
        };
        primary.then_with(|| a.name.cmp(&b.name))
    });
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
    for r in rows.iter().filter(|r| !r.missing && r.allocatable > 0) {
        n[range_of(u64::from(r.pods), u64::from(r.allocatable))] += 1;
    }
    RANGES.iter().zip(n).map(|(range, nodes)| SaturationRange { range: range.to_string(), nodes }).collect()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub nodes: u64,
    pub pods: u64,
    pub allocatable: u64,
}

pub fn totals(rows: &[NodeRow]) -> Totals {
    Totals {
        nodes: rows.len() as u64,
        pods: rows.iter().map(|r| u64::from(r.pods)).sum(),
        allocatable: rows.iter().map(|r| u64::from(r.allocatable)).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::{Bucket, Contribution};

    fn info(name: &str, alloc: Option<u32>, ready: bool, schedulable: bool) -> NodeInfo {
        NodeInfo { name: name.into(), allocatable: alloc, ready, schedulable }
    }

    fn tally(pods: &[(&str, Bucket)]) -> Tally<String> {
        let mut t = Tally::new();
        for (n, b) in pods {
            t.add(Contribution::Node { node: *n, bucket: *b, daemon_set: false });
        }
        t
    }

    #[test]
    fn joins_zero_pod_and_missing_nodes() {
        let t = tally(&[("a", Bucket::Running), ("a", Bucket::Pending), ("ghost", Bucket::Unknown)]);
        let nodes = [info("a", Some(4), true, true), info("b", Some(110), false, false), info("c", None, true, true)];
        let r = rows(&t, &nodes, true);
        assert_eq!(r.len(), 4);
        assert_eq!((r[0].pods, r[0].free, r[0].saturation, r[0].status.as_str()), (2, 2, Some(0.5), "Ready"));
        assert_eq!((r[1].pods, r[1].free, r[1].status.as_str()), (0, 110, "NotReady,SchedulingDisabled"));
        assert_eq!((r[2].allocatable, r[2].saturation), (0, None));
        assert_eq!((r[3].name.as_str(), r[3].missing, r[3].status.as_str()), ("ghost", true, "Missing"));
        // With a node selector the ghost is outside the selection, not missing.
        assert_eq!(rows(&t, &nodes, false).len(), 3);
        assert_eq!(totals(&r), Totals { nodes: 4, pods: 3, allocatable: 114 });
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
        let h = histogram(&rows(&t, &nodes, true));
        let counts: Vec<u64> = h.iter().map(|r| r.nodes).collect();
        // a is full, b empty; c (no allocatable) and ghost (missing) are in no range.
        assert_eq!(counts, [1, 0, 0, 0, 1, 0]);
        assert_eq!(h[4].range, "full");
    }

    #[test]
    fn sorting() {
        let t = tally(&[("a", Bucket::Running), ("b", Bucket::Running), ("b", Bucket::Running)]);
        let nodes = [info("c", Some(1), true, true), info("b", Some(10), true, true), info("a", Some(2), true, true)];
        let mut r = rows(&t, &nodes, true);
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
