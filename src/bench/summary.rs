//! From runs to the comparison: each strategy's times summarised, its ratio
//! to the baseline and to its floor, and whether its counts agree.

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::{Plan, Strategy};
use super::run::Run;

/// One strategy's runs over all iterations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub label: String,
    pub strategy: String,
    pub chunk_size: u32,
    pub wire: String,
    pub decode: String,
    pub skipped: Option<String>,
    /// The strategy could not run: bench exits non-zero.
    pub failed: Option<String>,
    pub min_seconds: f64,
    pub median_seconds: f64,
    pub p95_seconds: f64,
    pub requests: u64,
    pub bytes: u64,
    pub peak_rss_kib: Option<u64>,
    pub steady_rss_kib: Option<u64>,
    pub store_bytes_per_pod: Option<f64>,
    pub store_pods: Option<u64>,
    pub query_micros: Option<f64>,
    /// Median time over the named baseline's median.
    pub ratio: Option<f64>,
    /// Median time over its floor's (same requests, nothing decoded).
    pub over_floor: Option<f64>,
    /// Counts differ from the agreement baseline's (per node).
    pub disagrees: Option<String>,
    /// A difference that is not a disagreement, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn summarize(plan: &Plan, runs: &[Run]) -> Summary {
    let mut secs: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let first = runs.first();
    Summary {
        label: first.map_or_else(|| plan.label(), |r| r.label.clone()),
        strategy: plan.strategy.name().to_string(),
        chunk_size: plan.chunk,
        wire: first.map_or_else(|| plan.wire.name().to_string(), |r| r.wire.clone()),
        decode: plan.decode().to_string(),
        skipped: first.and_then(|r| r.skipped.clone()),
        failed: None,
        min_seconds: secs.first().copied().unwrap_or(0.0),
        median_seconds: percentile(&secs, 50.0),
        p95_seconds: percentile(&secs, 95.0),
        requests: first.map_or(0, |r| r.requests),
        bytes: first.map_or(0, |r| r.bytes),
        peak_rss_kib: runs.iter().filter_map(|r| r.peak_rss_kib).max(),
        steady_rss_kib: runs.iter().filter_map(|r| r.steady_rss_kib).max(),
        store_bytes_per_pod: first.and_then(|r| r.store_bytes_per_pod),
        store_pods: first.and_then(|r| r.store_pods),
        query_micros: first.and_then(|r| r.query_micros),
        ratio: None,
        over_floor: None,
        disagrees: None,
        note: None,
    }
}

/// Pods `counts` has on nodes `listed` lacks (a per-node strategy lists
/// pods only of the nodes the node List has: pods bound to a deleted or
/// never-registered node are invisible to it): those counts left out, and
/// what they were, said.
fn unseen(counts: &BTreeMap<String, u64>, listed: &[String]) -> (BTreeMap<String, u64>, Option<String>) {
    let listed: std::collections::BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    let (seen, missing): (BTreeMap<_, _>, BTreeMap<_, _>) =
        counts.iter().map(|(k, v)| (k.clone(), *v)).partition(|(k, _)| listed.contains(k.as_str()));
    if missing.is_empty() {
        return (seen, None);
    }
    let pods: u64 = missing.values().sum();
    let mut names: Vec<&str> = missing.keys().map(String::as_str).take(3).collect();
    if missing.len() > 3 {
        names.push("...");
    }
    let nodes = if missing.len() == 1 { "node" } else { "nodes" };
    let note = format!(
        "{pods} pods are bound to {} {nodes} the node List lacks ({}): per-node cannot see them",
        missing.len(),
        names.join(", ")
    );
    (seen, Some(note))
}

/// How two strategies' per-node counts differ, if they do.
pub fn disagreement(base: &BTreeMap<String, u64>, other: &BTreeMap<String, u64>) -> Option<String> {
    let mut diffs = Vec::new();
    for k in base.keys().chain(other.keys().filter(|k| !base.contains_key(*k))) {
        let (a, b) = (base.get(k).copied().unwrap_or(0), other.get(k).copied().unwrap_or(0));
        if a != b {
            diffs.push(format!("{k}: {a} vs {b}"));
        }
    }
    (!diffs.is_empty()).then(|| {
        let n = diffs.len();
        diffs.truncate(3);
        format!("{n} nodes differ ({}{})", diffs.join(", "), if n > 3 { ", ..." } else { "" })
    })
}

/// The summaries side by side: ratios, floors, agreement.
pub struct Comparison {
    pub summaries: Vec<Summary>,
    /// What RATIO is over, and what AGREES compares with.
    pub baseline: Option<usize>,
    pub counts_base: Option<usize>,
    pub disagree: bool,
}

/// Summarises every planned run (`failed`: why a strategy could not run)
/// and compares them: ratios against list (the first encoding, first chunk
/// size), else the first strategy that ran; agreement against the first
/// that counts.
pub fn compare(plan: &[Plan], runs: &[Vec<Run>], failed: &[Option<String>]) -> Comparison {
    let mut summaries: Vec<Summary> = plan.iter().zip(runs).map(|(p, r)| summarize(p, r)).collect();
    for (sum, f) in summaries.iter_mut().zip(failed) {
        sum.failed = f.clone();
    }
    let ok: Vec<bool> =
        summaries.iter().zip(runs).map(|(s, r)| s.failed.is_none() && s.skipped.is_none() && !r.is_empty()).collect();
    let ran = |i: usize| ok[i];
    let baseline = (0..plan.len())
        .find(|&i| plan[i].strategy == Strategy::List && !plan[i].full && ran(i))
        .or_else(|| (0..plan.len()).find(|&i| ran(i)));
    let counts_base = (0..plan.len()).find(|&i| ran(i) && plan[i].strategy.counts_pods());
    let base_median = baseline.map(|i| summaries[i].median_seconds).filter(|m| *m > 0.0);
    let mut disagree = false;
    for i in (0..plan.len()).filter(|&i| ran(i)) {
        summaries[i].ratio = base_median.map(|m| summaries[i].median_seconds / m);
        if let Some(f) = plan[i].floor().and_then(|f| plan.iter().position(|p| *p == f)).filter(|&f| ran(f)) {
            let floor = summaries[f].median_seconds;
            summaries[i].over_floor = (floor > 0.0).then(|| summaries[i].median_seconds / floor);
        }
        let (Some(b), Some(first)) = (counts_base, runs[i].first()) else { continue };
        if !plan[i].strategy.counts_pods() || i == b {
            continue; // counts no pods: nothing to agree on
        }
        let base = &runs[b][0];
        // A per-node strategy on either side sees only the nodes it listed.
        let (mut ours, mut theirs) = (base.counts.clone(), first.counts.clone());
        for (run, other) in [(first, &mut ours), (base, &mut theirs)] {
            if let Some(listed) = &run.listed_nodes {
                let (seen, note) = unseen(other, listed);
                *other = seen;
                if note.is_some() {
                    summaries[i].note = note;
                }
            }
        }
        let mut d = disagreement(&ours, &theirs);
        if plan[i].strategy != Strategy::PerNode
            && plan[b].strategy != Strategy::PerNode
            && first.unscheduled != base.unscheduled
        {
            d.get_or_insert_with(|| format!("unscheduled {} vs {}", base.unscheduled, first.unscheduled));
        }
        disagree |= d.is_some();
        summaries[i].disagrees = d;
    }
    Comparison { summaries, baseline, counts_base, disagree }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert_eq!(percentile(&v, 95.0), 5.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn per_node_cannot_see_pods_on_nodes_the_node_list_lacks() {
        let plan = [
            Plan { strategy: Strategy::List, chunk: 500, full: false, wire: crate::decode::Encoding::Protobuf },
            Plan { strategy: Strategy::PerNode, chunk: 500, full: false, wire: crate::decode::Encoding::Protobuf },
        ];
        let counts = |v: &[(&str, u64)]| v.iter().map(|(k, c)| (k.to_string(), *c)).collect::<BTreeMap<_, _>>();
        let list = Run { counts: counts(&[("a", 3), ("gone", 28)]), seconds: 1.0, ..Default::default() };
        let mut per_node = Run {
            counts: counts(&[("a", 3)]),
            listed_nodes: Some(vec!["a".into(), "b".into()]),
            seconds: 2.0,
            ..Default::default()
        };
        let c = compare(&plan, &[vec![list.clone()], vec![per_node.clone()]], &[None, None]);
        assert!(!c.disagree);
        assert_eq!(
            c.summaries[1].note.as_deref(),
            Some("28 pods are bound to 1 node the node List lacks (gone): per-node cannot see them")
        );
        // A real difference on a listed node still disagrees.
        per_node.counts.insert("b".into(), 1);
        let c = compare(&plan, &[vec![list], vec![per_node]], &[None, None]);
        assert!(c.disagree);
        assert_eq!(c.summaries[1].disagrees.as_deref(), Some("1 nodes differ (b: 0 vs 1)"));
    }

    #[test]
    fn disagreements_name_the_nodes() {
        let a: BTreeMap<String, u64> = [("n1".to_string(), 3), ("n2".to_string(), 1)].into();
        let b: BTreeMap<String, u64> = [("n1".to_string(), 3), ("n3".to_string(), 2)].into();
        assert_eq!(disagreement(&a, &a), None);
        assert_eq!(disagreement(&a, &b).unwrap(), "2 nodes differ (n2: 1 vs 0, n3: 0 vs 2)");
    }
}
