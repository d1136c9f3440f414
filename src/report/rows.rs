//! Joins a tally with the node list: one [`NodeRow`] per node, with what is
//! known of it (listed, missing from the node list, or unreadable), and the
//! totals under them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ratio::serialize_round4;
use super::resources::{Resources, Shown};
use super::sort::{Sortable, least_fits};
use crate::model::fits::{Limit, Shape, fit};
use crate::model::node::{NodeInfo, Taint, closed};
use crate::model::tally::{NodeCounts, Tally};
use crate::model::vecmap::VecMap;

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
    #[serde(serialize_with = "serialize_round4")]
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
    pub taints: Option<Vec<Taint>>,
    /// With `-L`/`--group-by`: the node's values of those labels.
    #[serde(default, skip_serializing_if = "VecMap::is_empty")]
    pub labels: VecMap<String, String>,
    /// With `--resources`: requests (and limits) against allocatable, per
    /// resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// With `--fits`: per shape, how many more the node admits (None: the
    /// node is not known).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fits: BTreeMap<String, Option<u64>>,
    /// Per shape, what limits it: a resource, `pods`, `cordoned`,
    /// `not-ready`, `taint KEY`, `node-selector`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fits_limited_by: BTreeMap<String, Option<Limit>>,
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
            resources: None,
            fits: BTreeMap::new(),
            fits_limited_by: BTreeMap::new(),
        }
    }

    /// Known and cordoned or tainted (see [`closed`]).
    pub fn closed(&self) -> bool {
        closed(self.schedulable != Some(false), self.taints.as_deref().unwrap_or_default())
    }
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
    fn fits(&self) -> Option<u64> {
        least_fits(&self.fits)
    }
    fn resource_saturation(&self, name: &str) -> Option<f64> {
        self.resources.as_ref()?.get(name)?.saturation()
    }
}

/// What rows carry beyond pod slots: resources (`--resources`) and how many
/// more of each shape fit (`--fits`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Extra<'a> {
    pub shown: Option<&'a Shown>,
    pub shapes: &'a [Shape],
}

/// Every listed node (zero-pod nodes included) plus any node that pods point
/// at but the node list lacks. With a node selector (`nodes_complete` false)
/// pods on nodes outside the selection are left out instead of flagged.
/// Without a node list (`None`: it could not be read) a row per node that
/// has pods, nothing known of the node. With `shown`, each row carries
/// those resources.
pub fn rows(
    tally: &Tally<String>,
    nodes: Option<&[NodeInfo]>,
    nodes_complete: bool,
    extra: &Extra<'_>,
) -> Vec<NodeRow> {
    let row = |name: &String, counts: NodeCounts, known: Known<'_>| {
        let mut r = NodeRow::new(name.clone(), counts, known);
        let info = match known {
            Known::Listed(i) => Some(i),
            _ => None,
        };
        let demand = tally.demand(name.as_str());
        r.resources = extra.shown.map(|s| Resources::of_node(s, demand, info));
        for shape in extra.shapes {
            let f = info.map(|i| fit(shape, i, counts.pods, demand));
            r.fits.insert(shape.name.clone(), f.as_ref().map(|f| f.more));
            r.fits_limited_by.insert(shape.name.clone(), f.map(|f| f.limited_by));
        }
        r
    };
    let Some(nodes) = nodes else {
        return tally.nodes().map(|(name, counts)| row(name, *counts, Known::Unreadable)).collect();
    };
    let mut rows: Vec<NodeRow> =
        nodes.iter().map(|n| row(&n.name, tally.node(n.name.as_str()), Known::Listed(n))).collect();
    if nodes_complete {
        let mut known: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        known.sort_unstable();
        for (name, counts) in tally.nodes() {
            if known.binary_search(&name.as_str()).is_err() {
                rows.push(row(name, *counts, Known::Missing));
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

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")] // `fitsLimitedBy`, as in rows and groups
pub struct Totals {
    pub nodes: u64,
    pub pods: u64,
    /// Over the nodes whose allocatable is known; None when none is (the
    /// node list could not be read).
    pub allocatable: Option<u64>,
    /// With `--resources`: each resource summed over the nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// With `--fits`: per shape, how many more fit over the nodes, and on how
    /// many nodes each limit was the one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fits: BTreeMap<String, Option<u64>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fits_limited_by: BTreeMap<String, BTreeMap<Limit, u64>>,
}

pub fn totals(rows: &[NodeRow]) -> Totals {
    let known = rows.is_empty() || rows.iter().any(|r| r.allocatable.is_some());
    Totals {
        nodes: rows.len() as u64,
        pods: rows.iter().map(|r| u64::from(r.pods)).sum(),
        allocatable: known.then(|| rows.iter().filter_map(|r| r.allocatable).map(u64::from).sum()),
        resources: rows
            .iter()
            .any(|r| r.resources.is_some())
            .then(|| Resources::sum(rows.iter().filter_map(|r| r.resources.as_ref()))),
        fits: fits_sum(rows),
        fits_limited_by: limits_count(rows),
    }
}

/// Per shape, the more that fit over `rows` (None where no node is known).
pub fn fits_sum(rows: &[NodeRow]) -> BTreeMap<String, Option<u64>> {
    let mut out: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for (shape, more) in rows.iter().flat_map(|r| &r.fits) {
        let sum = out.entry(shape.clone()).or_default();
        if let Some(m) = more {
            *sum = Some(sum.unwrap_or(0) + m);
        }
    }
    out
}

/// Per shape, how many of `rows` each limit holds back.
pub fn limits_count(rows: &[NodeRow]) -> BTreeMap<String, BTreeMap<Limit, u64>> {
    let mut out: BTreeMap<String, BTreeMap<Limit, u64>> = BTreeMap::new();
    for (shape, limit) in rows.iter().flat_map(|r| &r.fits_limited_by) {
        let counts = out.entry(shape.clone()).or_default();
        if let Some(l) = limit {
            *counts.entry(l.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Bucket;
    use crate::report::testing::{info, tally};

    #[test]
    fn joins_zero_pod_and_missing_nodes() {
        let t = tally(&[("a", Bucket::Running), ("a", Bucket::Pending), ("ghost", Bucket::Unknown)]);
        let nodes = [info("a", Some(4), true, true), info("b", Some(110), false, false), info("c", None, true, true)];
        let r = rows(&t, Some(&nodes), true, &Extra::default());
        assert_eq!(r.len(), 4);
        assert_eq!((r[0].pods, r[0].free, r[0].saturation, r[0].status.as_str()), (2, Some(2), Some(0.5), "Ready"));
        assert_eq!((r[1].pods, r[1].free, r[1].status.as_str()), (0, Some(110), "NotReady,SchedulingDisabled"));
        assert_eq!((r[2].allocatable, r[2].saturation), (None, None));
        assert_eq!((r[3].name.as_str(), r[3].missing, r[3].status.as_str()), ("ghost", true, "Missing"));
        assert_eq!((r[3].ready, r[3].free), (None, None));
        // With a node selector the ghost is outside the selection, not missing.
        assert_eq!(rows(&t, Some(&nodes), false, &Extra::default()).len(), 3);
        assert_eq!(totals(&r), Totals { nodes: 4, pods: 3, allocatable: Some(114), ..Default::default() });
        // No node list: the nodes with pods, nothing known of them.
        let r = rows(&t, None, true, &Extra::default());
        let names: Vec<&str> = r.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "ghost"]);
        assert!(r.iter().all(|r| r.allocatable.is_none() && r.ready.is_none() && !r.missing && r.status == "Unknown"));
        assert_eq!(totals(&r), Totals { nodes: 2, pods: 3, allocatable: None, ..Default::default() });
    }
}
