//! `--fits` in words and for CI: how many more fit and what holds them back,
//! and `--min-fits`'s verdict over the cluster or each group.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Counted;
use super::resources::{Unit, base_units};
use super::rows::totals;
use crate::model::fits::{Shape, Toleration};
use crate::model::label::look_alikes;
use crate::model::node::NodeInfo;

/// A shape as the documents state it: requests in base units (cores, bytes,
/// integers), tolerations as in a pod spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeDoc {
    pub name: String,
    pub requests: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<TolerationDoc>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TolerationDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub operator: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

impl ShapeDoc {
    pub fn of(s: &Shape) -> ShapeDoc {
        ShapeDoc {
            name: s.name.clone(),
            requests: s.requests.iter().map(|(n, v)| (n.clone(), base_units(n, i128::from(*v)))).collect(),
            tolerations: s
                .tolerations
                .iter()
                .map(|t| TolerationDoc {
                    key: t.key.clone(),
                    operator: if t.exists { "Exists" } else { "Equal" }.into(),
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                })
                .collect(),
            node_selector: s.node_selector.clone(),
        }
    }

    /// The shape back, requests in the scheduler's units.
    pub fn shape(&self) -> Shape {
        Shape {
            name: self.name.clone(),
            requests: self
                .requests
                .iter()
                .map(|(n, v)| {
                    let units = match Unit::of(n) {
                        Unit::Core => (v.as_f64().unwrap_or(0.0) * 1000.0).round() as i64,
                        _ => v.as_i64().unwrap_or(0),
                    };
                    (n.clone(), units)
                })
                .collect(),
            tolerations: self
                .tolerations
                .iter()
                .map(|t| Toleration {
                    key: t.key.clone(),
                    exists: t.operator == "Exists",
                    value: t.value.clone(),
                    effect: t.effect.clone(),
                })
                .collect(),
            node_selector: self.node_selector.clone(),
        }
    }
}

/// `--fits` asking for a resource no listed node allocates: the scheduler
/// places none of it either, so the answer (0) stands, but a typo
/// (`nvidia.com/gpus`) deserves a word. One warning per such resource, with
/// look-alikes and what the cluster has (as `--resources` says it).
pub fn unallocated<'n>(shapes: &[Shape], nodes: impl IntoIterator<Item = &'n NodeInfo>) -> Vec<String> {
    let mut listed = 0;
    let mut have = std::collections::BTreeSet::new();
    for n in nodes {
        listed += 1;
        have.extend(n.resources.iter().filter(|(_, a)| **a > 0).map(|(k, _)| k.as_str()));
    }
    if listed == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in shapes {
        for (name, _) in s.requests.iter().filter(|(n, _)| !have.contains(n.as_str())) {
            // An extended name looks like other extended names, not like cpu.
            let domain = name.contains('/');
            let alike: Vec<&str> =
                look_alikes(name, have.iter().copied()).into_iter().filter(|k| k.contains('/') == domain).collect();
            let hint = if alike.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", alike.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", "))
            };
            let list: Vec<&str> = have.iter().copied().collect();
            out.push(format!(
                "--fits {}: no node allocates {name:?}, so none fit{hint}; the cluster has: {}",
                s.name,
                list.join(", ")
            ));
        }
    }
    out
}

/// Whether a limit keeps the node from taking the shape at all (rather than
/// from taking more of it).
fn excludes(limit: &str) -> bool {
    matches!(limit, "not-ready" | "cordoned" | "node-selector") || limit.starts_with("taint ")
}

/// `42 more (limited by memory on 31 nodes, pods on 6; 5 nodes cannot take it:
/// cordoned 1, taint dedicated 2, not-ready 2)`; `unknown` without a node list.
pub fn summary(more: Option<u64>, limits: &BTreeMap<String, u64>) -> String {
    let Some(more) = more else { return "unknown (the node list could not be read)".into() };
    match detail(limits) {
        Some(d) => format!("{more} more ({d})"),
        None => format!("{more} more"),
    }
}

/// What holds them back: `limited by memory on 31 nodes, pods on 6; 5 nodes
/// cannot take it: cordoned 1, ...`.
pub fn detail(limits: &BTreeMap<String, u64>) -> Option<String> {
    let mut by: Vec<(&String, &u64)> = limits.iter().filter(|(l, _)| !excludes(l)).collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = Vec::new();
    if !by.is_empty() {
        // "limited by memory on 31 nodes, pods on 6": the unit said once.
        let list: Vec<String> = by
            .iter()
            .enumerate()
            .map(|(i, (l, n))| match (i, **n) {
                (0, 1) => format!("{l} on 1 node"),
                (0, n) => format!("{l} on {n} nodes"),
                (_, n) => format!("{l} on {n}"),
            })
            .collect();
        parts.push(format!("limited by {}", list.join(", ")));
    }
    let excluded: Vec<(&String, &u64)> = limits.iter().filter(|(l, _)| excludes(l)).collect();
    if !excluded.is_empty() {
        let n: u64 = excluded.iter().map(|(_, n)| **n).sum();
        let list: Vec<String> = excluded.iter().map(|(l, n)| format!("{l} {n}")).collect();
        parts.push(format!("{n} node{} cannot take it: {}", if n == 1 { "" } else { "s" }, list.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// One breach line: `SHAPE: 9 more fit in WHERE, fewer than FLAG N (why)`.
pub fn too_few(shape: &str, more: u64, place: &str, flag: &str, min: u64, limits: &BTreeMap<String, u64>) -> String {
    let why = detail(limits).map(|d| format!(" ({d})")).unwrap_or_default();
    format!("{shape}: {more} more fit {place}, fewer than {flag} {min}{why}")
}

/// `--min-fits N`: one line per shape (and with `--group-by`, per group)
/// where fewer than `min` more fit.
pub fn min_fits_breaches(min: u64, context: Option<&str>, c: &Counted) -> Vec<String> {
    let prefix = context.map(|c| format!("context {c}: ")).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(g) = &c.groups {
        for row in &g.rows {
            for (shape, more) in row.fits.iter().filter_map(|(s, m)| Some((s, (*m)?))) {
                if more < min {
                    let limits = row.fits_limited_by.get(shape).cloned().unwrap_or_default();
                    let place = format!("in {}={}", g.by, row.name);
                    out.push(format!("{prefix}{}", too_few(shape, more, &place, "--min-fits", min, &limits)));
                }
            }
        }
        return out;
    }
    let t = totals(&c.rows);
    for (shape, more) in t.fits.iter().filter_map(|(s, m)| Some((s, (*m)?))) {
        if more < min {
            let limits = t.fits_limited_by.get(shape).cloned().unwrap_or_default();
            out.push(format!("{prefix}{}", too_few(shape, more, "in the cluster", "--min-fits", min, &limits)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_limits() {
        let limits: BTreeMap<String, u64> = [("memory", 31), ("pods", 6), ("cordoned", 1), ("taint dedicated", 2)]
            .map(|(k, v)| (k.to_string(), v))
            .into();
        assert_eq!(
            summary(Some(42), &limits),
            "42 more (limited by memory on 31 nodes, pods on 6; 3 nodes cannot take it: cordoned 1, taint dedicated 2)"
        );
        let one: BTreeMap<String, u64> = [("cpu".to_string(), 1)].into();
        assert_eq!(summary(Some(3), &one), "3 more (limited by cpu on 1 node)");
        assert_eq!(summary(Some(0), &BTreeMap::new()), "0 more");
        assert!(summary(None, &BTreeMap::new()).starts_with("unknown"));
    }

    #[test]
    fn a_resource_no_node_allocates_is_said_with_look_alikes() {
        let node = |gpus: i64| NodeInfo {
            name: "n".into(),
            resources: [
                ("cpu".to_string(), 4000),
                ("memory".to_string(), 1 << 33),
                ("nvidia.com/gpu".to_string(), gpus),
            ]
            .into(),
            ..Default::default()
        };
        let typo = Shape::parse("nvidia.com/gpus=1").unwrap();
        let w = unallocated(std::slice::from_ref(&typo), &[node(8), node(0)]);
        assert_eq!(
            w,
            [
                "--fits nvidia.com/gpus=1: no node allocates \"nvidia.com/gpus\", so none fit (did you mean \"nvidia.com/gpu\"?); the cluster has: cpu, memory, nvidia.com/gpu"
            ]
        );
        // Only nodes with none of it (allocatable 0): the same word, no look-alike of itself.
        let gpu = Shape::parse("nvidia.com/gpu=1").unwrap();
        let w = unallocated(std::slice::from_ref(&gpu), &[node(0)]);
        assert!(w[0].starts_with("--fits nvidia.com/gpu=1: no node allocates \"nvidia.com/gpu\", so none fit; the cluster has: cpu, memory"), "{w:?}");
        assert!(unallocated(std::slice::from_ref(&gpu), &[node(8)]).is_empty());
        assert!(unallocated(&[gpu], &[]).is_empty(), "no node list: nothing to say");
    }
}
