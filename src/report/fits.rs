//! `--fits` in words and for CI: how many more fit and what holds them back,
//! and `--min-fits`'s verdict over the cluster or each group.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Counted;
use super::resources::{Unit, base_units};
use super::rows::NodeRow;
use crate::model::fits::{Limit, Shape, Toleration, offer};
use crate::model::label::look_alikes;
use crate::model::node::NodeInfo;
use crate::model::placement::{self, HOSTNAME, Neighbours};

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
            ..Shape::default()
        }
    }
}

/// One shape's answer over the cluster, as the documents carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FitsAnswer {
    /// How many more replicas land (a DaemonSet: on how many nodes it
    /// runs); None when the node list could not be read.
    pub more: Option<u64>,
    /// `more` is the scheduler's answer, not a bound.
    pub exact: bool,
    /// Why `more` is only an upper bound: what the scheduler applies and
    /// is not modelled, or an order its scoring decides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bound_by: Vec<String>,
    /// Why the count depends on the order the scheduler places them in
    /// (its scores and random ties): `range` holds every order's count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<String>,
    /// Where not exact: the least and the most that land. The least is 0
    /// where `bound_by` says what was not modelled; the most is null where
    /// preemption could place more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<(u64, Option<u64>)>,
    /// Why the scheduler could place more than `more` (preemption).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub may_place_more: Vec<String>,
    /// Where the answer is per domain (a zone spread, one a zone): the
    /// domain's label key and how many land in each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_domain: BTreeMap<String, u64>,
    /// Said with the answer, changing nothing of it (scheduling gates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A DaemonSet's pod: `more` is the nodes that would run one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub daemon_set: bool,
    /// How many replicas were asked about (`--replicas`, or the manifest's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked: Option<u64>,
    /// Whether the asked replicas all land: null where the answer is not
    /// exact and could be on either side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lands: Option<bool>,
}

impl FitsAnswer {
    /// Whether `n` more land: yes or no where the answer says, None where
    /// it could be either (a bound at or above n; preemption below it).
    pub fn lands(&self, n: u64) -> Option<bool> {
        let (least, most) = self.bounds()?;
        if least >= n {
            Some(true)
        } else if most.is_some_and(|m| m < n) {
            Some(false)
        } else {
            None
        }
    }

    /// The least that land, and the most (None: preemption could place any
    /// number more); None without a node list.
    pub fn bounds(&self) -> Option<(u64, Option<u64>)> {
        let more = self.more?;
        Some(if self.exact { (more, Some(more)) } else { self.range.unwrap_or((0, Some(more))) })
    }
}

/// What the answers say when the placed pods were not read.
const NOT_READ: &str = "placed pods' labels, host ports, claims and anti-affinity were not read";

/// Each shape's answer over the cluster, with the rows' per-node fits
/// lowered where other pods decide (ports in use, pod affinity, spread, one
/// a node). `rows` must still be in `nodes` order (as [`super::rows::rows`]
/// makes them); `neighbours` aligns with `shapes` (None: not read);
/// `partial`: a node selector left nodes (and their pods) out.
pub fn answers(
    rows: &mut [NodeRow],
    nodes: Option<&[NodeInfo]>,
    shapes: &[Shape],
    neighbours: Option<&[Neighbours]>,
    partial: bool,
) -> BTreeMap<String, FitsAnswer> {
    let mut out = BTreeMap::new();
    for (i, shape) in shapes.iter().enumerate() {
        let mut a = FitsAnswer {
            bound_by: shape.bound_by.clone(),
            may_place_more: shape.may_place_more.clone(),
            notes: shape.notes.clone(),
            daemon_set: shape.daemon_set,
            ..Default::default()
        };
        let Some(nodes) = nodes else {
            out.insert(shape.name.clone(), a);
            continue;
        };
        let c = &shape.constraints;
        let empty = Neighbours::new(c);
        let nb = match neighbours {
            // Read; none of the placed pods told this shape anything.
            Some(all) => all.get(i).unwrap_or(&empty),
            None => {
                if c.reads_neighbours() {
                    a.bound_by.push(NOT_READ.to_string());
                }
                &empty
            }
        };
        if partial && c.reads_domains() {
            a.bound_by.push(
                "--node-selector: pods on the nodes it leaves out count toward affinity and spread, and were not read"
                    .into(),
            );
        }
        let listed = &mut rows[..nodes.len()];
        let offers: Vec<placement::Offer> = nodes
            .iter()
            .zip(listed.iter())
            .map(|(n, r)| offer(shape, n, r.fits.get(&shape.name).copied().flatten().unwrap_or(0)))
            .collect();
        let placed = placement::answer(c, nodes, &offers, nb);
        let self_host = c
            .anti_affinity
            .iter()
            .any(|t| t.topology_key == HOSTNAME && t.matches(&c.namespace, &c.namespace_labels, &c.labels));
        for (row, (more, refusal)) in listed.iter_mut().zip(&placed.nodes) {
            let before = row.fits.get(&shape.name).copied().flatten().unwrap_or(0);
            let more = if shape.daemon_set { (*more).min(1) } else { *more };
            let why = match refusal {
                Some(r) if before > 0 => Some(Limit::Placement(refusal_text(r))),
                _ if more < before && self_host => {
                    Some(Limit::Placement(format!("one a node: anti-affinity {HOSTNAME}")))
                }
                _ => None,
            };
            row.fits.insert(shape.name.clone(), Some(more));
            if let Some(why) = why {
                row.fits_limited_by.insert(shape.name.clone(), Some(why));
            }
        }
        a.more = Some(if shape.daemon_set {
            listed.iter().filter(|r| r.fits.get(&shape.name).copied().flatten().unwrap_or(0) > 0).count() as u64
        } else {
            placed.more
        });
        a.bound_by.extend(placed.bound_by);
        if let Some((key, by)) = placed.by_domain {
            a.by = Some(key);
            a.by_domain = by;
        }
        a.order = placed.order;
        a.exact = a.bound_by.is_empty() && a.may_place_more.is_empty() && a.order.is_empty();
        if !a.exact {
            let least = if a.bound_by.is_empty() { placed.least } else { 0 };
            a.range = Some((least, a.may_place_more.is_empty().then_some(placed.more)));
        }
        if !shape.daemon_set {
            a.asked = shape.asked;
            a.lands = shape.asked.and_then(|n| a.lands(n));
        }
        out.insert(shape.name.clone(), a);
    }
    out
}

/// A refusal as a limit's words (`host port 8080/TCP in use`).
fn refusal_text(r: &placement::Refusal) -> String {
    match r {
        placement::Refusal::Port(p) => format!("host port {p} in use"),
        other => other.to_string(),
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

/// `42 more (limited by memory on 31 nodes, pods on 6; 5 nodes cannot take it:
/// cordoned 1, taint dedicated 2, not-ready 2)`; `unknown` without a node list.
pub fn summary(more: Option<u64>, limits: &BTreeMap<Limit, u64>) -> String {
    let Some(more) = more else { return "unknown (the node list could not be read)".into() };
    match detail(limits) {
        Some(d) => format!("{more} more ({d})"),
        None => format!("{more} more"),
    }
}

/// One shape's answer in words: `at most 12 more (...)` where it is a
/// bound, `exactly 12 more (...)` where other pods decide and it is not,
/// `runs on 14 of 16 nodes (...)` for a DaemonSet.
pub fn answer_line(a: &FitsAnswer, nodes: usize, limits: &BTreeMap<Limit, u64>) -> String {
    let Some(more) = a.more else { return summary(None, limits) };
    let why = detail(limits).map(|d| format!(" ({d})")).unwrap_or_default();
    if a.daemon_set {
        let head = format!("runs on {more} of {nodes} node{}", if nodes == 1 { "" } else { "s" });
        return if a.exact { format!("{head}{why}") } else { format!("{head} at most{why}") };
    }
    match a.bounds() {
        _ if a.exact => format!("{more} more{why}"),
        // Only preemption could change it: at least this many.
        Some((least, None)) => format!("at least {least} more{why}"),
        Some((least, Some(most))) if least > 0 => format!("between {least} and {most} more{why}"),
        _ => format!("at most {more} more{why}"),
    }
}

/// What holds them back: `limited by memory on 31 nodes, pods on 6; 5 nodes
/// cannot take it: cordoned 1, ...`.
pub fn detail(limits: &BTreeMap<Limit, u64>) -> Option<String> {
    let mut by: Vec<(&Limit, &u64)> = limits.iter().filter(|(l, _)| !l.excludes()).collect();
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
    let excluded: Vec<(&Limit, &u64)> = limits.iter().filter(|(l, _)| l.excludes()).collect();
    if !excluded.is_empty() {
        let n: u64 = excluded.iter().map(|(_, n)| **n).sum();
        let list: Vec<String> = excluded.iter().map(|(l, n)| format!("{l} {n}")).collect();
        parts.push(format!("{n} node{} cannot take it: {}", if n == 1 { "" } else { "s" }, list.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// One breach line: `SHAPE: 9 more fit in WHERE, fewer than FLAG N (why)`.
pub fn too_few(shape: &str, more: u64, place: &str, flag: &str, min: u64, limits: &BTreeMap<Limit, u64>) -> String {
    let why = detail(limits).map(|d| format!(" ({d})")).unwrap_or_default();
    format!("{shape}: {more} more fit {place}, fewer than {flag} {min}{why}")
}

/// `--min-fits N`: one line per shape (and with `--group-by`, per group)
/// where fewer than `min` more fit, with its exit code: 1 where the answer
/// (exact, or an upper bound) is below N; 4 where it is not exact and the
/// verdict could go either way (a bound at or above N, or fewer than N
/// where preemption could place more), naming what was not modelled.
pub fn min_fits_breaches(min: u64, flag: &str, context: Option<&str>, c: &Counted) -> Vec<(i32, String)> {
    let prefix = context.map(|c| format!("context {c}: ")).unwrap_or_default();
    let mut out = Vec::new();
    if let Some(g) = &c.groups {
        for row in &g.rows {
            for (shape, more) in row.fits.iter().filter_map(|(s, m)| Some((s, (*m)?))) {
                let limits = row.fits_limited_by.get(shape).cloned().unwrap_or_default();
                let place = format!("in {}={}", g.by, row.name);
                let a = c.answers.get(shape);
                // A group's sum of per-node answers is exact only where the
                // shape's answer is per node.
                let per_node = a.is_none_or(|a| a.by.is_none());
                let verdict = verdict(min, more, a.filter(|_| per_node), a.filter(|_| !per_node), false);
                if let Some((code, why)) = verdict {
                    out.push((code, format!("{prefix}{}{why}", too_few(shape, more, &place, flag, min, &limits))));
                }
            }
        }
        return out;
    }
    let t = c.totals();
    for (shape, more) in t.fits.iter().filter_map(|(s, m)| Some((s, (*m)?))) {
        let limits = t.fits_limited_by.get(shape).cloned().unwrap_or_default();
        if let Some((code, why)) = verdict(min, more, c.answers.get(shape), None, true) {
            let line = if more < min {
                format!("{}{why}", too_few(shape, more, "in the cluster", flag, min, &limits))
            } else {
                format!("{shape}: {more} more fit in the cluster, at or above {flag} {min}, but {}", &why[2..])
            };
            out.push((code, format!("{prefix}{line}")));
        }
    }
    out
}

/// The verdict for `more` against `min`: None (passes), or the exit code
/// and what makes it uncertain. `split`: a per-domain answer, whose sum
/// over a group is not exact. `whole`: `more` is the cluster's answer (its
/// range's least decides), not a group's sum of per-node answers.
fn verdict(
    min: u64,
    more: u64,
    a: Option<&FitsAnswer>,
    split: Option<&FitsAnswer>,
    whole: bool,
) -> Option<(i32, String)> {
    use crate::error::exit;
    let bound: Vec<&str> = a.iter().chain(split.iter()).flat_map(|a| a.bound_by.iter().map(String::as_str)).collect();
    let more_possible: Vec<&str> = a.iter().flat_map(|a| a.may_place_more.iter().map(String::as_str)).collect();
    let split_said = split.map(|s| format!("per {} answer", s.by.as_deref().unwrap_or("domain")));
    let mut uncertain: Vec<String> = bound.iter().map(|b| b.to_string()).collect();
    uncertain.extend(split_said);
    // The order decides: it passes only where every order places enough.
    for a in a.iter().chain(split.iter()) {
        let least = a.bounds().map_or(0, |(least, _)| least);
        if !(whole && least >= min) {
            uncertain.extend(a.order.iter().cloned());
        }
    }
    match (more < min, uncertain.is_empty(), more_possible.is_empty()) {
        // Below, and nothing could place more: too few for sure.
        (true, _, true) => Some((exit::THRESHOLD, String::new())),
        (true, _, false) => Some((exit::NOT_EXACT, format!("; not exact: {}", more_possible.join("; ")))),
        (false, true, _) => None,
        (false, false, _) => Some((exit::NOT_EXACT, format!("; not exact: {}", uncertain.join("; ")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_limits() {
        let limits: BTreeMap<Limit, u64> = [("memory", 31), ("pods", 6), ("cordoned", 1), ("taint dedicated", 2)]
            .map(|(k, v)| (Limit::parse(k), v))
            .into();
        assert_eq!(
            summary(Some(42), &limits),
            "42 more (limited by memory on 31 nodes, pods on 6; 3 nodes cannot take it: cordoned 1, taint dedicated 2)"
        );
        let one: BTreeMap<Limit, u64> = [(Limit::Resource("cpu".into()), 1)].into();
        assert_eq!(summary(Some(3), &one), "3 more (limited by cpu on 1 node)");
        assert_eq!(summary(Some(0), &BTreeMap::new()), "0 more");
        assert!(summary(None, &BTreeMap::new()).starts_with("unknown"));
    }

    #[test]
    fn whether_the_asked_replicas_land() {
        let exact = FitsAnswer { more: Some(8), exact: true, ..Default::default() };
        assert_eq!((exact.lands(8), exact.lands(9)), (Some(true), Some(false)));
        let bound = FitsAnswer { more: Some(8), bound_by: vec!["volumes".into()], ..Default::default() };
        assert_eq!(
            (bound.lands(8), bound.lands(9)),
            (None, Some(false)),
            "a bound says no below it, nothing at or above"
        );
        let preempt = FitsAnswer {
            more: Some(8),
            may_place_more: vec!["priority".into()],
            range: Some((8, None)),
            ..Default::default()
        };
        assert_eq!((preempt.lands(8), preempt.lands(9)), (Some(true), None));
        let ordered = FitsAnswer {
            more: Some(7),
            order: vec!["a zone and a hostname spread".into()],
            range: Some((5, Some(7))),
            ..Default::default()
        };
        assert_eq!(
            (ordered.lands(5), ordered.lands(6), ordered.lands(7), ordered.lands(8)),
            (Some(true), None, None, Some(false)),
            "yes at or below the least, no above the most, either way between"
        );
        assert_eq!(FitsAnswer::default().lands(1), None, "no node list");
    }

    #[test]
    fn a_resource_no_node_allocates_is_said_with_look_alikes() {
        let node = |gpus: i64| NodeInfo {
            name: "n".into(),
            resources: [("cpu".into(), 4000), ("memory".into(), 1 << 33), ("nvidia.com/gpu".into(), gpus)].into(),
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
