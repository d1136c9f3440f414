//! What counting keeps of a Node: allocatable pods, readiness,
//! schedulability, the taints that keep new pods off, and the labels a view
//! asked for. Pure.

use super::vecmap::VecMap;
use crate::model::resource_name::ResourceName;
use std::fmt;

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
    /// unreachable ones (those say what READY says).
    pub taints: Vec<Taint>,
    /// The not-ready and unreachable NoSchedule/NoExecute taints the node
    /// lifecycle controller sets (what the scheduler filters unhealthy
    /// nodes by).
    pub health_taints: Vec<Taint>,
    /// The node's labels that a view asked for (`-L`, `--group-by`).
    pub labels: VecMap<String, String>,
    /// `status.allocatable` but `pods`, in the scheduler's units (cpu in
    /// millicores, the rest whole units).
    pub resources: VecMap<ResourceName, i64>,
}

impl NodeInfo {
    /// See [`closed`].
    pub fn closed(&self) -> bool {
        closed(self.schedulable, &self.taints)
    }
}

/// Cordoned, or tainted against new pods: what `--schedulable-only` leaves
/// out (rows and stores both ask).
pub fn closed(schedulable: bool, taints: &[Taint]) -> bool {
    !schedulable || !taints.is_empty()
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
    pub fn read<'a, L, A, C, T>(n: NodeFields<'a, L, A, C, T>, keep: &NodeKeep) -> NodeInfo
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
                resources.insert(name.into(), scheduler_units(name, q));
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
            let Some(effect) = Effect::keeping_pods_off(effect) else { continue };
            let taint = Taint { key: key.to_string(), value: value.unwrap_or_default().to_string(), effect };
            if HEALTH_TAINTS.contains(&key) {
                info.health_taints.push(taint);
            } else {
                info.taints.push(taint);
            }
        }
        info
    }
}

/// What a node list or informer keeps of each node beyond counting, as the
/// views ask: some labels (`-L`, `--group-by`, a `--fits` shape's
/// nodeSelector), allocatable resources (`--resources`, `--fits`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeKeep {
    pub labels: Vec<String>,
    pub resources: bool,
}

/// A taint that keeps new pods off a node (the only effects kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    NoSchedule,
    NoExecute,
}

impl Effect {
    /// The effect as written, if it keeps new pods off (PreferNoSchedule
    /// does not).
    pub fn keeping_pods_off(effect: &str) -> Option<Effect> {
        match effect {
            "NoSchedule" => Some(Effect::NoSchedule),
            "NoExecute" => Some(Effect::NoExecute),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Effect::NoSchedule => "NoSchedule",
            Effect::NoExecute => "NoExecute",
        }
    }
}

/// A node's taint (`spec.taints[]`); the value is empty when none is set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: Effect,
}

/// `key=value:Effect`, or `key:Effect` without a value, as kubectl writes taints.
impl fmt::Display for Taint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value.as_str() {
            "" => write!(f, "{}:{}", self.key, self.effect.as_str()),
            v => write!(f, "{}={v}:{}", self.key, self.effect.as_str()),
        }
    }
}

impl std::str::FromStr for Taint {
    type Err = String;
    /// The form [`Display`](fmt::Display) writes (served documents carry it).
    fn from_str(s: &str) -> Result<Taint, String> {
        let bad = || format!("expected a taint as KEY[=VALUE]:NoSchedule|NoExecute, not {s:?}");
        let (kv, effect) = s.rsplit_once(':').ok_or_else(bad)?;
        let effect = Effect::keeping_pods_off(effect).ok_or_else(bad)?;
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        Ok(Taint { key: key.to_string(), value: value.to_string(), effect })
    }
}

/// Taints travel in documents as kubectl writes them.
impl serde::Serialize for Taint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Taint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Taint, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Taints the node lifecycle controller sets while a node is unhealthy.
const HEALTH_TAINTS: [&str; 2] = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_that_show() {
        let fields = |taints| NodeFields {
            name: "n",
            labels: [],
            allocatable: [],
            conditions: [],
            unschedulable: false,
            taints,
        };
        let n = NodeInfo::read(
            fields(vec![
                ("dedicated", Some("gpu"), "NoSchedule"),
                ("drain", None, "NoExecute"),
                ("spot", Some("yes"), "PreferNoSchedule"),
                ("node.kubernetes.io/not-ready", Some(""), "NoExecute"),
            ]),
            &NodeKeep::default(),
        );
        let text = |t: &[Taint]| t.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(text(&n.taints), ["dedicated=gpu:NoSchedule", "drain:NoExecute"]);
        assert_eq!(text(&n.health_taints), ["node.kubernetes.io/not-ready:NoExecute"]);
        for t in ["a=b:NoSchedule", "a:NoExecute", "a=b=c:NoSchedule", "example.com/x=y:NoSchedule"] {
            assert_eq!(t.parse::<Taint>().unwrap().to_string(), t);
        }
        assert!("a=b:PreferNoSchedule".parse::<Taint>().is_err());
        assert!("no effect".parse::<Taint>().is_err());
        let n = NodeInfo { schedulable: true, ..Default::default() };
        assert!(!n.closed());
        assert!(NodeInfo { taints: vec!["a:NoSchedule".parse().unwrap()], ..n.clone() }.closed());
        assert!(NodeInfo { schedulable: false, ..n }.closed());
    }
}
