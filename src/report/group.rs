//! `--group-by`: node rows grouped by a node label (or an alias for the
//! well-known ones), with the group's totals and its fullest node.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::percent::Percent;
use super::ratio::serialize_round4;
use super::resources::Resources;
use super::rows::NodeRow;
use super::sort::{SortBy, Sortable, least_fits, sort_rows};
use crate::model::fits::{Limit, Shape};
use crate::model::vecmap::VecMap;

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
    pub fn value_of<'l>(&self, labels: &'l VecMap<String, String>) -> &'l str {
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
    #[serde(serialize_with = "serialize_round4")]
    pub saturation: Option<f64>,
    pub fullest_node: Option<String>,
    #[serde(serialize_with = "serialize_round4")]
    pub fullest_saturation: Option<f64>,
    /// Nodes at or above the threshold (`--max-saturation`, else 90 %).
    pub at_or_above_threshold: u64,
    /// With `--resources`: each resource summed over the group's nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// With `--fits`: per shape, the more that fit on the group's nodes, and
    /// on how many nodes each limit holds them back.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fits: BTreeMap<String, Option<u64>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fits_limited_by: BTreeMap<String, BTreeMap<Limit, u64>>,
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
    fn fits(&self) -> Option<u64> {
        least_fits(&self.fits)
    }
    fn resource_saturation(&self, name: &str) -> Option<f64> {
        self.resources.as_ref()?.get(name)?.saturation()
    }
}

/// Rows grouped by `key`, in name order; nodes at or above `threshold`
/// counted.
pub fn groups(rows: &[NodeRow], key: &GroupKey, threshold: Percent) -> Vec<GroupRow> {
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
            resources: None,
            fits: BTreeMap::new(),
            fits_limited_by: BTreeMap::new(),
        });
        g.nodes += 1;
        g.pods += u64::from(r.pods);
        if let (Some(a), Some(f)) = (r.allocatable, r.free) {
            g.allocatable = Some(g.allocatable.unwrap_or(0) + u64::from(a));
            g.free = Some(g.free.unwrap_or(0) + f);
        }
        if let Some(res) = &r.resources {
            g.resources = Some(Resources::sum(g.resources.iter().chain([res])));
        }
        for (shape, more) in &r.fits {
            let sum = g.fits.entry(shape.clone()).or_default();
            if let Some(m) = more {
                *sum = Some(sum.unwrap_or(0) + m);
            }
        }
        for (shape, limit) in r.fits_limited_by.iter().filter_map(|(s, l)| Some((s, l.as_ref()?))) {
            *g.fits_limited_by.entry(shape.clone()).or_default().entry(limit.clone()).or_default() += 1;
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
            if threshold.reached_by(s) {
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

/// The node labels a view reads, sorted, once each: `-L` columns, the
/// `--group-by` key's labels, and those the shapes' filters read.
pub fn labels_read(columns: &[String], group_by: Option<&GroupKey>, shapes: &[Shape]) -> Vec<String> {
    let mut keys: Vec<String> = columns.to_vec();
    keys.extend(group_by.iter().flat_map(|g| g.labels.iter().cloned()));
    keys.extend(crate::model::fits::labels_needed(shapes));
    keys.sort();
    keys.dedup();
    keys
}

/// Node rows grouped by a label (`--group-by`).
#[derive(Clone, Debug, PartialEq)]
pub struct Grouped {
    pub by: String,
    /// The threshold `atOrAboveThreshold` counts against; None when read
    /// back from a served document, which does not carry it.
    pub threshold: Option<Percent>,
    pub rows: Vec<GroupRow>,
}

/// The group rows `count` and `watch` print: `rows` grouped by `key`, nodes
/// at or above `threshold` counted, in `--sort-by` order.
pub fn grouped(rows: &[NodeRow], key: &GroupKey, threshold: Percent, sort: &SortBy) -> Grouped {
    let mut groups = groups(rows, key, threshold);
    sort_rows(&mut groups, sort);
    Grouped { by: key.name.clone(), threshold: Some(threshold), rows: groups }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Bucket;
    use crate::report::rows::{Extra, rows};
    use crate::report::testing::{info, tally};

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
        let r = rows(&t, Some(&[a, b, c]), true, &Extra::default());
        let key = GroupKey::parse("zone");
        let g = groups(&r, &key, Percent::SATURATED);
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
    fn without_a_node_list_every_node_is_in_the_unknown_group() {
        let t = tally(&[("a", Bucket::Running)]);
        let r = rows(&t, None, true, &Extra::default());
        assert_eq!(GroupKey::parse("zone").group_of(&r[0]), "<unknown>");
    }
}
