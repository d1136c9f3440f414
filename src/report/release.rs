//! `--fits-release`: from each workload's answer alone (its shape's) and
//! what the workloads' pods can do to each other, how many of each land
//! over every order ([`crate::model::release`]), as the documents, the
//! footer and the verdict say it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fits::FitsAnswer;
use super::rows::NodeRow;
use crate::model::fits::Shape;
use crate::model::placement::{HOSTNAME, PodTerm};
use crate::model::release::{self, Alone, Block, Landing, Relation, Verdict, Workload};

/// A count that is one number, or `[least, most]` where the order decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Count {
    One(u64),
    Range([u64; 2]),
}

impl Count {
    pub fn of(least: u64, most: u64) -> Count {
        if least == most { Count::One(least) } else { Count::Range([least, most]) }
    }

    /// The count in the order that gives the fewest.
    pub fn least(self) -> u64 {
        match self {
            Count::One(n) | Count::Range([n, _]) => n,
        }
    }

    /// The count in the order that gives the most.
    pub fn most(self) -> u64 {
        match self {
            Count::One(n) | Count::Range([_, n]) => n,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::One(n) => write!(f, "{n}"),
            Count::Range([l, m]) => write!(f, "{l} to {m}"),
        }
    }
}

/// One workload of the release, as the documents carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadDoc {
    /// The shape (FITS column) that is its pod.
    pub shape: String,
    pub asked: u64,
    pub lands: Count,
    pub pending: Count,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
}

/// The release over every order: `lands` (every workload whole in every
/// order), `strands` (some replicas stay Pending in every order) or
/// `depends` (on the order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// By `Kind/namespace/name`.
    pub workloads: BTreeMap<String, WorkloadDoc>,
    /// Every workload's count is one number.
    pub exact: bool,
    pub verdict: String,
    /// The workloads the verdict names (stranded, or depending on the order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub naming: Vec<String>,
}

/// `Kind/namespace/name` of a release's shape (`workload` is `Kind/name`).
fn id(s: &Shape) -> String {
    let what = s.workload.as_deref().unwrap_or_default();
    let (kind, name) = what.split_once('/').unwrap_or(("Pod", what));
    format!("{kind}/{}/{name}", s.constraints.namespace)
}

/// How a shape's answer alone is made up.
fn alone(s: &Shape, a: Option<&FitsAnswer>) -> Alone {
    let c = &s.constraints;
    let own = |t: &PodTerm| t.matches(&c.namespace, &c.namespace_labels, &c.labels);
    let spreads = c.spread.iter().filter(|sp| sp.counts_incoming(&c.labels)).count();
    let ties = c.affinity.iter().any(own)
        || c.anti_affinity.iter().any(|t| own(t) && t.topology_key != HOSTNAME)
        || c.claims.iter().any(|k| k.one_pod());
    let one_a_node = s.daemon_set || !c.host_ports.is_empty() || c.anti_affinity.iter().any(own);
    // One spread alone, answered per domain (every eligible domain listed).
    let domains = a.filter(|a| a.exact && a.by.is_some()).map(|a| a.by_domain.len() as u64);
    if spreads == 1
        && !ties
        && !one_a_node
        && let Some(d) = domains
    {
        Alone::Spread(d)
    } else if ties || spreads > 0 {
        Alone::Tied
    } else if one_a_node {
        Alone::OneANode
    } else {
        Alone::Additive
    }
}

/// What `x`'s pods can do to `w`'s beyond taking room.
fn relation(x: &Shape, w: &Shape) -> Relation {
    let (xc, wc) = (&x.constraints, &w.constraints);
    let matches_x = |t: &PodTerm| t.matches(&xc.namespace, &xc.namespace_labels, &xc.labels);
    let spread_counts_x = xc.namespace == wc.namespace && wc.spread.iter().any(|s| s.counts_placed(&xc.labels));
    let helps = wc.affinity.iter().any(matches_x) || spread_counts_x;
    let xid = id(x);
    let ours: Vec<&PodTerm> = wc.anti_affinity.iter().filter(|t| matches_x(t)).collect();
    let theirs: Vec<&PodTerm> =
        xc.anti_affinity.iter().filter(|t| t.matches(&wc.namespace, &wc.namespace_labels, &wc.labels)).collect();
    let by_host = |terms: &[&PodTerm]| terms.iter().all(|t| t.topology_key == HOSTNAME);
    let block = |node_only: bool, why: String| Some(Block { node_only, why });
    let blocks = if spread_counts_x {
        block(false, format!("its spread counts {xid}'s pods"))
    } else if !ours.is_empty() || !theirs.is_empty() {
        let why = if ours.is_empty() {
            format!("{xid}'s anti-affinity matches its pods")
        } else {
            format!("its anti-affinity matches {xid}'s pods")
        };
        block(by_host(&ours) && by_host(&theirs), why)
    } else {
        let shared = wc.host_ports.iter().find(|p| xc.host_ports.iter().any(|q| q.conflicts(p)));
        shared.and_then(|p| block(true, format!("host port {p} also bound by {xid}")))
    };
    Relation { helps, blocks }
}

/// What is free on a row's node in a dimension (`pods`, or a resource in
/// the scheduler's units); None where not known.
pub type Free<'a> = &'a dyn Fn(&NodeRow, &str) -> Option<i64>;

/// What is free on each row's node, from the nodes' allocatable and the
/// counted pods' requests.
pub fn free_on<'a>(
    nodes: &'a [crate::model::node::NodeInfo],
    tally: &'a crate::model::tally::Tally<String>,
) -> impl Fn(&NodeRow, &str) -> Option<i64> + 'a {
    let by_name: BTreeMap<&str, &crate::model::node::NodeInfo> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    move |r: &NodeRow, dim: &str| {
        if dim == "pods" {
            return r.free;
        }
        let n = by_name.get(r.name.as_str())?;
        let allocatable = i128::from(*n.resources.get(dim)?);
        let requested = tally.demand(r.name.as_str()).and_then(|d| d.requests.get(dim)).copied().unwrap_or(0);
        i64::try_from(allocatable - requested).ok()
    }
}

/// Per dimension of `s`'s room (slots, then each resource it requests),
/// per node it has room on: that room and the dimension's slack.
fn slack(s: &Shape, rows: &[NodeRow], free: Free<'_>) -> Vec<release::Slack> {
    let dims = std::iter::once(("pods".to_string(), 1)).chain(s.requests.iter().cloned());
    let mut out = Vec::new();
    for (dim, want) in dims.filter(|(_, q)| *q > 0) {
        let mut nodes = Vec::new();
        for r in rows {
            let room = r.fits.get(&s.name).copied().flatten().unwrap_or(0);
            if room == 0 {
                continue;
            }
            // Not known: no slack (the room itself is all it can lose).
            let alone = free(r, &dim).map_or(0, |f| (f.max(0) / want) as u64);
            nodes.push((room, alone.saturating_sub(room)));
        }
        out.push((dim, release::counted(nodes).into_iter().map(|((room, slack), n)| (room, slack, n)).collect()));
    }
    out
}

/// A release shape's workload, from its answer and the rows that carry its
/// per-node fits: what [`judge`] needs of it, by kind of node (the rows can
/// go once it is made).
pub fn workload(s: &Shape, a: Option<&FitsAnswer>, rows: &[NodeRow], free: Free<'_>) -> Workload {
    let (least, most) = a.and_then(FitsAnswer::bounds).unwrap_or((0, None));
    let asked = if s.daemon_set { a.and_then(|a| a.more).unwrap_or(0) } else { s.asked.unwrap_or(1) };
    let room = |r: &NodeRow| r.fits.get(&s.name).copied().flatten().unwrap_or(0);
    Workload {
        name: id(s),
        asked,
        least,
        most: most.unwrap_or(asked),
        may_place_more: most.is_none() || a.is_none_or(|a| a.more.is_none()),
        alone: alone(s, a),
        requests: s.requests.clone(),
        nodes: release::bits(rows.iter().enumerate().filter(|(_, r)| room(r) > 0).map(|(i, _)| i)),
        slack: slack(s, rows, free),
        rooms: release::counted(rows.iter().map(room).filter(|k| *k > 0)),
    }
}

/// The release over the workloads of `shapes` (aligned).
pub fn judge(shapes: &[&Shape], ws: &[Workload]) -> Release {
    let landings = release::land(ws, |x, w| relation(shapes[x], shapes[w]));
    let (verdict, naming) = match release::verdict(ws, &landings) {
        Verdict::Lands => ("lands", vec![]),
        Verdict::Strands(n) => ("strands", n),
        Verdict::Depends(n) => ("depends", n),
    };
    Release {
        exact: landings.iter().all(|l| l.least == l.most),
        workloads: ws.iter().zip(shapes.iter().zip(&landings)).map(|(w, (s, l))| (w.name.clone(), doc(s, l))).collect(),
        verdict: verdict.to_string(),
        naming,
    }
}

/// The release's workloads named by `ids`, and the rest, each with its own
/// verdict (replayed together, judged apart: `--drain` with
/// `--fits-release`).
pub fn split(r: Release, ids: &std::collections::BTreeSet<String>) -> (Release, Release) {
    let (ours, theirs): (BTreeMap<_, _>, BTreeMap<_, _>) = r.workloads.into_iter().partition(|(k, _)| ids.contains(k));
    (judged(ours), judged(theirs))
}

/// A release's verdict from its workloads' counts: strands where some stay
/// Pending in every order, depends where some may.
fn judged(workloads: BTreeMap<String, WorkloadDoc>) -> Release {
    let named = |f: &dyn Fn(&WorkloadDoc) -> bool| -> Vec<String> {
        workloads.iter().filter(|(_, w)| f(w)).map(|(k, _)| k.clone()).collect()
    };
    let stranded = named(&|w| matches!(w.pending, Count::One(n) | Count::Range([n, _]) if n > 0));
    let depends = named(&|w| matches!(w.pending, Count::Range([_, m]) if m > 0));
    let (verdict, naming) = match (stranded.is_empty(), depends.is_empty()) {
        (false, _) => ("strands", stranded),
        (true, false) => ("depends", depends),
        (true, true) => ("lands", vec![]),
    };
    Release {
        exact: workloads.values().all(|w| matches!(w.lands, Count::One(_))),
        workloads,
        verdict: verdict.to_string(),
        naming,
    }
}

fn doc(s: &Shape, l: &Landing) -> WorkloadDoc {
    WorkloadDoc {
        shape: s.name.clone(),
        asked: l.asked,
        lands: Count::of(l.least, l.most),
        pending: Count::of(l.asked - l.most, l.asked - l.least),
        why: l.why.clone(),
    }
}

/// The footer: the verdict, then one line a workload.
pub fn footer(r: &Release) -> Vec<String> {
    let mut out = vec![match r.verdict.as_str() {
        "lands" => "release: lands in every order".to_string(),
        "strands" => format!("release: strands replicas in every order: {}", r.naming.join(", ")),
        _ => format!("release: depends on the order the pods arrive in: {}", r.naming.join(", ")),
    }];
    for (name, w) in &r.workloads {
        let pending = match w.pending {
            Count::One(0) => String::new(),
            p => format!(", {p} stay Pending"),
        };
        let why = if w.why.is_empty() { String::new() } else { format!(" ({})", w.why.join("; ")) };
        out.push(format!("  {name}: {} asked, {} land{pending}{why}", w.asked, w.lands));
    }
    out
}

/// The verdict's lines and exit codes: 1 where replicas stay Pending in
/// every order, 4 where it depends on the order.
pub fn breaches(r: &Release, prefix: &str) -> Vec<(i32, String)> {
    use crate::error::exit;
    let line = |name: &String| {
        let w = &r.workloads[name];
        let why = if w.why.is_empty() { String::new() } else { format!(" ({})", w.why.join("; ")) };
        format!("{prefix}release: {name}: {} asked, {} land{why}", w.asked, w.lands)
    };
    match r.verdict.as_str() {
        "strands" => r.naming.iter().map(|n| (exit::THRESHOLD, line(n))).collect(),
        "depends" => r.naming.iter().map(|n| (exit::NOT_EXACT, format!("{}; the order decides", line(n)))).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::manifest::read_release;

    /// The release's shapes, as `--fits-release` lowers them (namespace
    /// bound, the workload named).
    fn shapes(text: &str) -> Vec<Shape> {
        let (ms, _) = read_release(text).unwrap();
        ms.into_iter()
            .map(|m| {
                let mut s = m.shape;
                s.constraints.bind_namespace("shop");
                s.asked = m.replicas;
                s.workload = Some(m.what);
                s
            })
            .collect()
    }

    fn deployment(name: &str, replicas: u64, extra: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: c, image: x, resources: {{requests: {{cpu: 100m}}}}}}]\n{extra}"
        )
    }

    const ANTI_FRONT: &str = "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - {labelSelector: {matchLabels: {app: front}}, topologyKey: kubernetes.io/hostname}\n";
    const NEAR_FRONT: &str = "      affinity:\n        podAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - {labelSelector: {matchLabels: {app: front}}, topologyKey: topology.kubernetes.io/zone}\n";

    #[test]
    fn what_one_workloads_pods_do_to_anothers() {
        let s = shapes(
            &[
                deployment("front", 5, ANTI_FRONT),
                deployment("back", 3, ANTI_FRONT),
                deployment("near", 2, NEAR_FRONT),
                deployment("plain", 2, ""),
            ]
            .join("---\n"),
        );
        let [front, back, near, plain] = [&s[0], &s[1], &s[2], &s[3]];
        assert_eq!(id(front), "Deployment/shop/front");
        assert_eq!(
            (alone(front, None), alone(back, None), alone(near, None), alone(plain, None)),
            (Alone::OneANode, Alone::Additive, Alone::Additive, Alone::Additive)
        );
        // back's anti-affinity matches front: front's pods block back, and
        // back's pods (holding that term) repel front's.
        let blocks = |x, w| relation(x, w).blocks.map(|b| (b.node_only, b.why));
        assert_eq!(blocks(front, back), Some((true, "its anti-affinity matches Deployment/shop/front's pods".into())));
        assert_eq!(blocks(back, front), Some((true, "Deployment/shop/back's anti-affinity matches its pods".into())));
        // near's affinity to front: front's pods help it.
        assert_eq!(relation(front, near), Relation { helps: true, blocks: None });
        assert_eq!(relation(plain, near), Relation::default());
        assert_eq!(relation(near, plain), Relation::default());
    }

    #[test]
    fn the_footer_and_the_verdicts_lines() {
        let w = |asked, lands, pending, why: &[&str]| WorkloadDoc {
            shape: "x".into(),
            asked,
            lands,
            pending,
            why: why.iter().map(|s| s.to_string()).collect(),
        };
        let r = Release {
            workloads: [
                (
                    "Deployment/shop/back".to_string(),
                    w(
                        3,
                        Count::Range([0, 3]),
                        Count::Range([0, 3]),
                        &["its anti-affinity matches Deployment/shop/front's pods"],
                    ),
                ),
                ("Deployment/shop/front".to_string(), w(5, Count::One(5), Count::One(0), &[])),
            ]
            .into(),
            exact: false,
            verdict: "depends".into(),
            naming: vec!["Deployment/shop/back".into()],
        };
        assert_eq!(
            footer(&r),
            [
                "release: depends on the order the pods arrive in: Deployment/shop/back",
                "  Deployment/shop/back: 3 asked, 0 to 3 land, 0 to 3 stay Pending (its anti-affinity matches Deployment/shop/front's pods)",
                "  Deployment/shop/front: 5 asked, 5 land",
            ]
        );
        let b = breaches(&r, "");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].0, crate::error::exit::NOT_EXACT);
        assert!(b[0].1.ends_with("; the order decides"), "{b:?}");
        // JSON: a number, or [least, most].
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["workloads"]["Deployment/shop/back"]["lands"], serde_json::json!([0, 3]));
        assert_eq!(json["workloads"]["Deployment/shop/front"]["lands"], 5);
    }
}
