//! What counting keeps of a Node: allocatable pods, readiness,
//! schedulability, the taints that keep new pods off, and the labels a view
//! asked for. Pure.

use super::vecmap::VecMap;
use std::collections::BTreeMap;

use super::keep::Keep;
use super::quantity::{Quantity, parse_count_quantity};
use super::requests::scheduler_units;

/// What the node list says about one node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    /// `status.allocatable.pods`; None when the node does not report it.
    pub allocatable: Option<u32>,
    pub ready: bool,
    pub schedulable: bool,
    /// NoSchedule/NoExecute taints other than the standard not-ready and
    /// unreachable ones (those say what READY says), as `key=value:Effect`
    /// ([`taint_text`]).
    pub taints: Vec<String>,
    /// The not-ready and unreachable NoSchedule/NoExecute taints the node
    /// lifecycle controller sets (what the scheduler filters unhealthy
    /// nodes by), in the same form.
    pub health_taints: Vec<String>,
    /// The node's labels that a view asked for (`-L`, `--group-by`).
    pub labels: BTreeMap<String, String>,
    /// `status.allocatable` but `pods`, in the scheduler's units (cpu in
    /// millicores, the rest whole units).
    pub resources: VecMap<String, i64>,
}

impl NodeInfo {
    /// Cordoned, or tainted against new pods (`--schedulable-only` leaves it out).
    pub fn closed(&self) -> bool {
        !self.schedulable || !self.taints.is_empty()
    }
}

/// The fields of a Node that counting reads, borrowed from either encoding.
pub struct NodeFields<'a, L, A, C, T> {
    pub name: &'a str,
    /// Every label (only those in `keep` are kept).
    pub labels: L,
    /// `status.allocatable`: resource name, quantity as written.
    pub allocatable: A,
    /// `status.conditions`: type, status.
    pub conditions: C,
    pub unschedulable: bool,
    /// `spec.taints`: key, value, effect.
    pub taints: T,
}

impl NodeInfo {
    /// What counting keeps of a node, the same from JSON and protobuf, and
    /// what `keep` asks for: some labels, allocatable resources.
    pub fn read<'a, L, A, C, T>(n: NodeFields<'a, L, A, C, T>, keep: &Keep) -> NodeInfo
    where
        L: IntoIterator<Item = (&'a str, &'a str)>,
        A: IntoIterator<Item = (&'a str, &'a str)>,
        C: IntoIterator<Item = (&'a str, &'a str)>,
        T: IntoIterator<Item = (&'a str, Option<&'a str>, &'a str)>,
    {
        let mut allocatable = None;
        let mut resources = VecMap::new();
        for (name, q) in n.allocatable {
            if name == "pods" {
                allocatable = parse_count_quantity(q).map(|v| v.min(u64::from(u32::MAX)) as u32);
            } else if !keep.resources {
                continue;
            } else if let Ok(q) = Quantity::parse(q) {
                // In the scheduler's units; a quantity that cannot be read
                // is left out (unknown).
                resources.insert(name.to_string(), scheduler_units(name, q));
            }
        }
        let mut info = NodeInfo {
            name: n.name.to_string(),
            labels: n
                .labels
                .into_iter()
                .filter(|(k, _)| keep.labels.iter().any(|want| want == k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            allocatable,
            resources,
            ready: n.conditions.into_iter().any(|(t, s)| t == "Ready" && s == "True"),
            schedulable: !n.unschedulable,
            taints: Vec::new(),
            health_taints: Vec::new(),
        };
        for (key, value, effect) in n.taints {
            if shown_taint(key, effect) {
                info.taints.push(taint_text(key, value, effect));
            } else if matches!(effect, "NoSchedule" | "NoExecute") {
                info.health_taints.push(taint_text(key, value, effect));
            }
        }
        info
    }
}

/// Taints the node lifecycle controller sets while a node is unhealthy.
const HEALTH_TAINTS: [&str; 2] = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

/// Whether a taint keeps new pods off the node and is not one of the health
/// taints (which READY/STATUS already show).
pub fn shown_taint(key: &str, effect: &str) -> bool {
    matches!(effect, "NoSchedule" | "NoExecute") && !HEALTH_TAINTS.contains(&key)
}

/// `key=value:Effect`, or `key:Effect` without a value, as kubectl writes taints.
pub fn taint_text(key: &str, value: Option<&str>, effect: &str) -> String {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => format!("{key}={v}:{effect}"),
        None => format!("{key}:{effect}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_that_show() {
        assert!(shown_taint("dedicated", "NoSchedule"));
        assert!(shown_taint("drain", "NoExecute"));
        assert!(!shown_taint("spot", "PreferNoSchedule"));
        assert!(!shown_taint("node.kubernetes.io/not-ready", "NoExecute"));
        assert_eq!(taint_text("a", Some("b"), "NoSchedule"), "a=b:NoSchedule");
        assert_eq!(taint_text("a", Some(""), "NoExecute"), "a:NoExecute");
        let n = NodeInfo { schedulable: true, ..Default::default() };
        assert!(!n.closed());
        assert!(NodeInfo { taints: vec!["a:NoSchedule".into()], ..n.clone() }.closed());
        assert!(NodeInfo { schedulable: false, ..n }.closed());
    }
}
