//! Resources beside pod slots: per node and resource, what its counted pods
//! request (and limit) against what it allocates; which resources a view
//! shows; their units. Amounts are kept in the scheduler's units (cpu in
//! millicores, everything else whole units) and written in base units
//! (cores exact to the millicore, bytes, integers).

use crate::model::resource_name::ResourceName;
use crate::model::vecmap::VecMap;
use std::collections::{BTreeMap, BTreeSet};

use serde::de::Deserializer;
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::ratio::round4;
use crate::model::node::NodeInfo;
use crate::model::tally::NodeDemand;

/// What a resource is counted in (the `unit` label kube-state-metrics uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Core,
    Byte,
    Integer,
}

impl Unit {
    pub fn of(name: &str) -> Unit {
        match name {
            "cpu" => Unit::Core,
            "memory" | "ephemeral-storage" | "storage" => Unit::Byte,
            n if n.starts_with("hugepages-") => Unit::Byte,
            _ => Unit::Integer,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Unit::Core => "core",
            Unit::Byte => "byte",
            Unit::Integer => "integer",
        }
    }
}

/// An amount in the scheduler's units as a base-unit JSON number (cpu
/// millicores to cores: 3250 -> 3.25, exact to the millicore).
pub fn base_units(name: &str, v: i128) -> serde_json::Value {
    serde_json::to_value(BaseUnits(name, v)).unwrap_or(serde_json::Value::Null)
}

/// A quantity of resource `.0` in scheduler units (`.1`), serialised in base
/// units as [`base_units`] gives it, without building a value first.
#[derive(Clone, Copy)]
pub struct BaseUnits<'a>(pub &'a str, pub i128);

impl serde::Serialize for BaseUnits<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let BaseUnits(name, v) = *self;
        match Unit::of(name) {
            Unit::Core if v % 1000 == 0 => s.serialize_i64((v / 1000) as i64),
            Unit::Core => s.serialize_f64(v as f64 / 1000.0),
            _ => s.serialize_i64(v as i64),
        }
    }
}

/// The inverse of [`base_units`] (reading a served document back).
fn from_base_units(name: &str, v: &serde_json::Value) -> Option<i128> {
    match Unit::of(name) {
        Unit::Core => v.as_f64().map(|c| (c * 1000.0).round() as i128),
        _ => v.as_i64().map(i128::from),
    }
}

/// An amount as people read it: cpu as kubectl prints it (`3250m`, or
/// whole cores `8`), bytes in binary units (`32Gi`, `4.7Gi`, exact when
/// whole), anything else as an integer.
pub fn human(name: &str, v: i128) -> String {
    if v < 0 {
        return format!("-{}", human(name, -v));
    }
    match Unit::of(name) {
        Unit::Core if v % 1000 == 0 => format!("{}", v / 1000),
        Unit::Core if v < 10_000 => format!("{v}m"),
        // Ten cores and more: cores to one decimal (278.7, not 278700m).
        Unit::Core => tenths(v, 1000, ""),
        Unit::Byte => bytes(v),
        Unit::Integer => v.to_string(),
    }
}

/// `v / scale` to one decimal, rounded half up, without a trailing `.0`.
fn tenths(v: i128, scale: i128, unit: &str) -> String {
    let t = (v * 10 + scale / 2).div_euclid(scale);
    if t % 10 == 0 { format!("{}{unit}", t / 10) } else { format!("{}.{}{unit}", t / 10, t % 10) }
}

fn bytes(v: i128) -> String {
    const UNITS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    let scale = |i: usize| 1i128 << (10 * (i + 1));
    // Exact in the largest unit that divides it, while that stays short
    // (4764Mi, 32Gi) ...
    if v == 0 {
        return "0".into();
    }
    if let Some(i) = (0..UNITS.len()).rev().find(|&i| v % scale(i) == 0 && (v / scale(i)).abs() < 10_000) {
        return format!("{}{}", v / scale(i), UNITS[i]);
    }
    // ... else one decimal of the largest unit it reaches (4.7Gi).
    let Some(i) = (0..UNITS.len()).rev().find(|&i| v.abs() >= scale(i)) else { return v.to_string() };
    tenths(v, scale(i), UNITS[i])
}

/// Extended resources (`IsExtendedResourceName`): a domain-prefixed name
/// outside kubernetes.io, not a quota `requests.` name.
pub fn extended(name: &str) -> bool {
    name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.")
}

/// One resource on one node (or group, or in total).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceRow {
    pub requests: i128,
    /// With `--limits`.
    pub limits: Option<i128>,
    /// 0: the node allocates none of it; None: nothing is known of the node.
    pub allocatable: Option<i128>,
}

impl ResourceRow {
    /// allocatable - requests; negative when overcommitted.
    pub fn free(&self) -> Option<i128> {
        self.allocatable.map(|a| a - self.requests)
    }

    /// Nothing of it here, nothing asked: a node that has none of it.
    pub fn none(&self) -> bool {
        self.allocatable == Some(0) && self.requests == 0 && self.limits.is_none_or(|l| l == 0)
    }

    /// requests / allocatable.
    pub fn saturation(&self) -> Option<f64> {
        self.allocatable.filter(|&a| a > 0).map(|a| self.requests as f64 / a as f64)
    }

    /// limits / allocatable: the overcommit a node would see if every pod
    /// used its limit.
    pub fn overcommit(&self) -> Option<f64> {
        let a = self.allocatable.filter(|&a| a > 0)?;
        Some(self.limits? as f64 / a as f64)
    }

    fn add(&mut self, other: &ResourceRow, known: bool) {
        self.requests += other.requests;
        if let Some(l) = other.limits {
            self.limits = Some(self.limits.unwrap_or(0) + l);
        }
        if let (true, Some(a)) = (known, other.allocatable) {
            self.allocatable = Some(self.allocatable.unwrap_or(0) + a);
        }
    }
}

/// Rows by resource name, in name order; written in base units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources(pub VecMap<ResourceName, ResourceRow>);

impl Resources {
    /// One node's rows for `shown`: its pods' demand against its allocatable
    /// (`info`: None when nothing is known of the node).
    pub fn of_node(shown: &Shown, demand: Option<&NodeDemand>, info: Option<&NodeInfo>) -> Resources {
        let rows = shown
            .names
            .iter()
            .map(|name| {
                let requests = demand.and_then(|d| d.requests.get(name.as_str())).copied().unwrap_or(0);
                let limits = demand.and_then(|d| d.limits.get(name.as_str())).copied().unwrap_or(0);
                let row = ResourceRow {
                    requests,
                    limits: shown.limits.then_some(limits),
                    // A listed node that reports none of it has none (as the
                    // scheduler reads it): 0, not unknown.
                    allocatable: info.map(|i| i.resources.get(name.as_str()).map_or(0, |&a| i128::from(a))),
                };
                (ResourceName::from(name), row)
            })
            .collect();
        Resources(rows)
    }

    /// Sums over `rows`: requests and limits of all, allocatable of those
    /// whose allocatable is known.
    pub fn sum<'r>(rows: impl IntoIterator<Item = &'r Resources>) -> Resources {
        let mut out: VecMap<ResourceName, ResourceRow> = VecMap::new();
        for r in rows {
            for (name, row) in &r.0 {
                out.or_default(name.as_str()).add(row, true);
            }
        }
        Resources(out)
    }

    pub fn get(&self, name: &str) -> Option<&ResourceRow> {
        self.0.get(name)
    }
}

/// One resource as the documents write it, fields in this order.
#[derive(Serialize)]
struct ResourceDoc {
    requests: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<serde_json::Value>,
    allocatable: serde_json::Value,
    free: serde_json::Value,
    saturation: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    overcommit: Option<Option<f64>>,
}

impl Serialize for Resources {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, r) in &self.0 {
            let base = |v: Option<i128>| v.map_or(serde_json::Value::Null, |v| base_units(name, v));
            let doc = ResourceDoc {
                requests: base_units(name, r.requests),
                limits: r.limits.map(|l| base_units(name, l)),
                allocatable: base(r.allocatable),
                free: base(r.free()),
                saturation: r.saturation().map(round4),
                overcommit: r.limits.map(|_| r.overcommit().map(round4)),
            };
            m.serialize_entry(name, &doc)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Resources {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = BTreeMap::deserialize(d)?;
        let mut out = VecMap::new();
        for (name, f) in raw {
            let get = |k: &str| f.get(k).and_then(|v| from_base_units(&name, v));
            let row = ResourceRow {
                requests: get("requests").unwrap_or(0),
                limits: get("limits"),
                allocatable: get("allocatable"),
            };
            out.insert(name.into(), row);
        }
        Ok(Resources(out))
    }
}

/// Which resources a view shows (`--resources`), and whether limits too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    pub names: Vec<String>,
    pub limits: bool,
}

/// What `--resources` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// cpu, memory, and every extended resource a node allocates.
    Default,
    /// cpu and memory (`-o wide`).
    CpuMemory,
    /// Every allocatable resource but pods.
    All,
    /// Every resource a node allocates or a pod requests (what a watch
    /// serves, so `count --from` can pick any selection from it).
    Tracked,
    /// Exactly these (each must be allocated by a node or requested by a pod).
    Named(Vec<String>),
}

impl Selection {
    /// `--resources` with no value, `all`, or a comma-separated list.
    pub fn parse(s: &str) -> Result<Selection, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Selection::Default);
        }
        if s == "all" {
            return Ok(Selection::All);
        }
        let names: Vec<String> = s.split(',').map(|n| n.trim().to_string()).collect();
        if let Some(bad) = names.iter().find(|n| n.is_empty() || *n == "pods") {
            return Err(format!(
                "--resources takes resource names (cpu,memory,nvidia.com/gpu), or all; {:?} is not one{}",
                bad,
                if bad == "pods" { " (pod slots are always shown)" } else { "" }
            ));
        }
        Ok(Selection::Named(names))
    }

    /// The names to show, given what the nodes allocate and the pods
    /// request; for `Named`, an error naming what the cluster has when a
    /// name is in neither.
    pub fn resolve<'n>(
        &self,
        allocated: impl IntoIterator<Item = &'n str>,
        requested: impl IntoIterator<Item = &'n str>,
    ) -> Result<Vec<String>, String> {
        let allocated: BTreeSet<&str> = allocated.into_iter().collect();
        let requested: BTreeSet<&str> = requested.into_iter().collect();
        let mut names: Vec<String> = match self {
            Selection::Default => ["cpu", "memory"]
                .into_iter()
                .chain(allocated.iter().copied().filter(|n| extended(n)))
                .map(String::from)
                .collect(),
            Selection::CpuMemory => vec!["cpu".to_string(), "memory".to_string()],
            Selection::All => allocated.iter().map(|n| n.to_string()).collect(),
            Selection::Tracked => allocated.union(&requested).map(|n| n.to_string()).collect(),
            Selection::Named(names) => {
                if let Some(unknown) =
                    names.iter().find(|n| !allocated.contains(n.as_str()) && !requested.contains(n.as_str()))
                {
                    let have: BTreeSet<&str> = allocated.union(&requested).copied().collect();
                    return Err(format!(
                        "--resources {unknown}: no node allocates it and no pod requests it; the cluster has: {}",
                        have.into_iter().collect::<Vec<_>>().join(", ")
                    ));
                }
                names.clone()
            }
        };
        let mut seen = BTreeSet::new();
        names.retain(|n| seen.insert(n.clone()));
        Ok(names)
    }
}

/// The resources a view shows of a cluster: `selection` resolved against
/// what its nodes allocate and its counted pods request, `also` (what
/// thresholds judge) added.
pub fn shown<'n>(
    selection: &Selection,
    limits: bool,
    nodes: impl IntoIterator<Item = &'n NodeInfo>,
    requested: impl IntoIterator<Item = &'n str>,
    also: &[String],
) -> Result<Shown, String> {
    let allocated = nodes.into_iter().flat_map(|n| n.resources.keys().map(ResourceName::as_str));
    let mut names = selection.resolve(allocated, requested)?;
    for judged in also {
        if !names.contains(judged) {
            names.push(judged.clone());
        }
    }
    Ok(Shown { names, limits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_base_numbers() {
        assert_eq!(Unit::of("cpu"), Unit::Core);
        assert_eq!(Unit::of("hugepages-2Mi"), Unit::Byte);
        assert_eq!(Unit::of("nvidia.com/gpu"), Unit::Integer);
        assert_eq!(base_units("cpu", 3250).to_string(), "3.25");
        assert_eq!(base_units("cpu", 8000).to_string(), "8");
        assert_eq!(base_units("cpu", 1).to_string(), "0.001");
        assert_eq!(base_units("memory", 1 << 30).to_string(), "1073741824");
        assert!(extended("nvidia.com/gpu") && !extended("cpu") && !extended("kubernetes.io/batteries"));
        assert_eq!(human("cpu", 3250), "3250m");
        assert_eq!(human("cpu", 8000), "8");
        assert_eq!(human("cpu", 278_700), "278.7");
        assert_eq!(human("cpu", 23_100), "23.1");
        assert_eq!(human("memory", -(19 << 30) - (100 << 20)), "-19.1Gi");
        assert_eq!(human("memory", 32 << 30), "32Gi");
        assert_eq!(human("memory", 4764 << 20), "4764Mi");
        assert_eq!(human("memory", 5_000_000_000), "4.7Gi");
        assert_eq!(human("memory", 1000), "1000");
        assert_eq!(human("memory", 0), "0");
        assert_eq!(human("nvidia.com/gpu", 2), "2");
    }

    #[test]
    fn documents_round_trip() {
        let mut m = VecMap::new();
        m.insert("cpu".into(), ResourceRow { requests: 3250, limits: Some(4000), allocatable: Some(8000) });
        m.insert("nvidia.com/gpu".into(), ResourceRow { requests: 2, limits: None, allocatable: None });
        let r = Resources(m);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["cpu"]["free"], 4.75);
        assert_eq!(v["cpu"]["saturation"], 0.4063);
        assert_eq!(v["cpu"]["overcommit"], 0.5);
        assert!(v["nvidia.com/gpu"]["allocatable"].is_null() && v["nvidia.com/gpu"].get("limits").is_none());
        let back: Resources = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn selections() {
        let alloc = ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "hugepages-2Mi"];
        let d = Selection::Default.resolve(alloc, []).unwrap();
        assert_eq!(d, ["cpu", "memory", "nvidia.com/gpu"]);
        let a = Selection::All.resolve(alloc, []).unwrap();
        assert_eq!(a, ["cpu", "ephemeral-storage", "hugepages-2Mi", "memory", "nvidia.com/gpu"]);
        let e = Selection::parse("nvdia.com/gpu").unwrap().resolve(alloc, ["example.com/foo"]).unwrap_err();
        assert!(e.starts_with("--resources nvdia.com/gpu: no node allocates it"), "{e}");
        assert!(e.contains("example.com/foo") && e.contains("nvidia.com/gpu"), "{e}");
        assert!(Selection::parse("cpu,,memory").is_err());
        assert!(Selection::parse("pods").unwrap_err().contains("always shown"));
    }
}
