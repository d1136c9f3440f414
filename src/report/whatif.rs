//! `--drain`/`--lose`: per owner, what the removal displaces, what its
//! controller replaces, where the replacements land (the release replay
//! over the nodes left, [`super::release`]), what stays Pending and what is
//! never replaced; the pods lost; the PDBs a drain waits on. As the
//! documents (`whatIf`), the footer and the verdict say it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::release::{Count, Release};
use crate::model::removal::{Blocking, Displaced, Kind};

/// One owner's displaced pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerDoc {
    pub displaced: u64,
    pub replaced: u64,
    pub lands: Count,
    pub pending: Count,
    pub not_replaced: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub why: Vec<String>,
}

/// A PDB a drain waits on for good.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedBy {
    /// `namespace/name`.
    pub pdb: String,
    pub allowed: i64,
    pub wanted: u64,
}

/// What the removal does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIf {
    /// `drain` or `lose`.
    pub removal: String,
    pub nodes: Vec<String>,
    /// By `Kind/namespace/name` (a bare pod: `Pod/namespace/name`).
    pub owners: BTreeMap<String, OwnerDoc>,
    /// Pods with no controller: gone for good (`namespace/name`).
    pub lost: Vec<String>,
    /// Pods whose emptyDir data goes with them (`namespace/name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub empty_dir: Vec<String>,
    pub blocked_by: Vec<BlockedBy>,
    /// At least this many replacements stay Pending in every order, of
    /// whichever owners (more than the free pod slots where any could go).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending_at_least: u64,
    /// Every count is one number, and whether a PDB blocks does not
    /// depend on the order.
    pub exact: bool,
    /// Said with the answer (a drain that goes in rounds, what stays).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What goes besides the owners' counts: the nodes, the pods lost for
/// good, those whose emptyDir data goes, and notes.
#[derive(Clone, Debug, Default)]
pub struct Gone {
    pub nodes: Vec<String>,
    pub lost: Vec<String>,
    pub empty_dir: Vec<String>,
    pub notes: Vec<String>,
    /// Free pod slots on the nodes any replacement has room on.
    pub slots: u64,
}

/// The what-if, from the owners' displaced pods, the replay of their
/// replacements (`release`: one workload an owner that has any, keyed as
/// the owners are), why each owner's replacements fall short (`short`), and
/// the PDBs that allow fewer evictions than the drain takes.
pub fn of(
    kind: Kind,
    gone: Gone,
    owners: &BTreeMap<String, Displaced>,
    release: Option<&Release>,
    short: &BTreeMap<String, String>,
    blocking: &[Blocking],
) -> WhatIf {
    let Gone { nodes, lost, empty_dir, mut notes, slots } = gone;
    let replaced: u64 = owners.values().map(|d| d.replaced).sum();
    let pending_at_least = replaced.saturating_sub(slots);
    let mut docs = BTreeMap::new();
    for (id, d) in owners {
        let landed = release.and_then(|r| r.workloads.get(id));
        let (lands, pending) = match landed {
            Some(w) => (w.lands, w.pending),
            None => (Count::One(0), Count::One(0)),
        };
        let mut why = d.why.clone();
        if let Some(w) = landed {
            why.extend(w.why.iter().cloned());
        }
        if pending.least() > 0 || pending.most() > 0 {
            why.extend(short.get(id).cloned());
        }
        let displaced = d.displaced;
        docs.insert(
            id.clone(),
            OwnerDoc { displaced, replaced: d.replaced, lands, pending, not_replaced: d.not_replaced, why },
        );
    }
    let mut exact = docs.values().all(|o| matches!(o.lands, Count::One(_)));
    let mut blocked_by = Vec::new();
    for b in blocking {
        // A budget that allows some evicts in rounds, each once the last
        // round's replacements are ready: it waits for good only where
        // some of them stay Pending.
        let pending: Vec<Count> = b.owners.iter().filter_map(|o| docs.get(o)).map(|o| o.pending).collect();
        let surely = b.allowed <= 0 || pending.iter().any(|p| p.least() > 0);
        let maybe = pending.iter().any(|p| p.most() > 0);
        if surely {
            blocked_by.push(BlockedBy { pdb: b.pdb.clone(), allowed: b.allowed, wanted: b.wanted });
        } else if maybe {
            exact = false;
            notes.push(format!(
                "PodDisruptionBudget {} allows {} of the {} evictions at a time: the drain waits for good if the order leaves replacements Pending",
                b.pdb, b.allowed, b.wanted
            ));
        } else {
            notes.push(format!(
                "PodDisruptionBudget {} allows {} of the {} evictions at a time: the drain goes in rounds, each once the last one's replacements are ready",
                b.pdb, b.allowed, b.wanted
            ));
        }
    }
    WhatIf {
        removal: match kind {
            Kind::Drain => "drain",
            Kind::Lose => "lose",
        }
        .into(),
        nodes,
        owners: docs,
        lost,
        empty_dir,
        blocked_by,
        pending_at_least,
        exact,
        notes,
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Owners the footer lists one a line; the rest are counted.
const LISTED: usize = 10;

/// The footer: what goes, per owner, then what is lost and what blocks.
pub fn footer(w: &WhatIf) -> Vec<String> {
    let what = if w.removal == "drain" { "draining" } else { "losing" };
    let displaced: u64 = w.owners.values().map(|o| o.displaced).sum();
    let mut out = vec![format!(
        "what if: {what} {} node{} ({}) displaces {displaced} pod{}",
        w.nodes.len(),
        if w.nodes.len() == 1 { "" } else { "s" },
        abbreviated(&w.nodes),
        if displaced == 1 { "" } else { "s" }
    )];
    // Owners whose replacements all land are one line where there are many.
    let whole = |o: &OwnerDoc| o.not_replaced == 0 && matches!(o.pending, Count::One(0));
    let landing: Vec<&OwnerDoc> = w.owners.values().filter(|o| whole(o)).collect();
    let together = w.owners.len() > 3 && landing.len() > 1;
    if together {
        let pods: u64 = landing.iter().map(|o| o.replaced).sum();
        out.push(format!("  {} owners: all {pods} of their replacements land", landing.len()));
    }
    let listed: Vec<(&String, &OwnerDoc)> = w.owners.iter().filter(|(_, o)| !together || !whole(o)).collect();
    let hidden = listed.len().saturating_sub(LISTED);
    for (id, o) in listed.into_iter().take(LISTED) {
        let mut parts = vec![format!("{} displaced", o.displaced)];
        if o.replaced > 0 {
            parts.push(format!("{} replaced, {} land", o.replaced, o.lands));
        }
        if !matches!(o.pending, Count::One(0)) {
            parts.push(format!("{} stay Pending", o.pending));
        }
        if o.not_replaced > 0 {
            parts.push(format!("{} not replaced", o.not_replaced));
        }
        let why = if o.why.is_empty() { String::new() } else { format!(" ({})", o.why.join("; ")) };
        out.push(format!("  {id}: {}{why}", parts.join(", ")));
    }
    if hidden > 0 {
        out.push(format!("  and {hidden} more owners (-o json lists every owner)"));
    }
    if !w.lost.is_empty() {
        out.push(format!("  lost for good (no controller): {}", abbreviated(&w.lost)));
    }
    if !w.empty_dir.is_empty() {
        let n = w.empty_dir.len();
        out.push(format!(
            "  emptyDir data lost with {n} pod{}: {}",
            if n == 1 { "" } else { "s" },
            abbreviated(&w.empty_dir)
        ));
    }
    if w.pending_at_least > 0 {
        out.push(format!("  {}", at_least(w)));
    }
    for b in &w.blocked_by {
        out.push(format!(
            "  blocked by PodDisruptionBudget {}: allows {} disruption{}, the drain needs {}",
            b.pdb,
            b.allowed,
            if b.allowed == 1 { "" } else { "s" },
            b.wanted
        ));
    }
    for n in &w.notes {
        out.push(format!("  note: {n}"));
    }
    out
}

/// The line for replacements that outnumber the free pod slots.
fn at_least(w: &WhatIf) -> String {
    let replaced: u64 = w.owners.values().map(|o| o.replaced).sum();
    format!(
        "at least {} of the {replaced} replacements stay Pending in every order: {} pod slots are free where they could land",
        w.pending_at_least,
        replaced - w.pending_at_least
    )
}

/// At most five names, then how many more.
fn abbreviated(names: &[String]) -> String {
    match names.len() {
        0..=5 => names.join(", "),
        n => format!("{}, and {} more", names[..5].join(", "), n - 5),
    }
}

/// The verdict's lines and exit codes: 1 where replicas stay Pending in
/// every order, are not replaced or lost, or a PDB blocks; 4 where it
/// depends on the order.
pub fn breaches(w: &WhatIf, prefix: &str) -> Vec<(i32, String)> {
    use crate::error::exit;
    let flag = if w.removal == "drain" { "--drain" } else { "--lose" };
    let mut out = Vec::new();
    // Many owners the order decides for: one line (whatIf names them).
    let ordered: Vec<&String> =
        w.owners.iter().filter(|(_, o)| o.pending.least() == 0 && o.pending.most() > 0).map(|(id, _)| id).collect();
    let many = ordered.len() > 5;
    if many {
        let pods: u64 = w.owners.values().filter(|o| o.pending.least() == 0).map(|o| o.pending.most()).sum();
        out.push((
            exit::NOT_EXACT,
            format!(
                "{prefix}{flag}: up to {pods} replacements of {} owners may stay Pending; the order decides (the footer or -o json names them)",
                ordered.len()
            ),
        ));
    }
    for (id, o) in &w.owners {
        if o.pending.least() > 0 {
            out.push((
                exit::THRESHOLD,
                format!("{prefix}{flag}: {id}: {} of its replacements stay Pending", o.pending),
            ));
        } else if o.pending.most() > 0 && !many {
            out.push((
                exit::NOT_EXACT,
                format!("{prefix}{flag}: {id}: {} of its replacements stay Pending; the order decides", o.pending),
            ));
        }
        if o.not_replaced > 0 {
            out.push((exit::THRESHOLD, format!("{prefix}{flag}: {id}: {} not replaced", o.not_replaced)));
        }
    }
    for b in &w.blocked_by {
        out.push((exit::THRESHOLD, format!("{prefix}{flag}: blocked by PodDisruptionBudget {}", b.pdb)));
    }
    if w.pending_at_least > 0 {
        out.push((exit::THRESHOLD, format!("{prefix}{flag}: {}", at_least(w))));
    }
    if !w.exact && !out.iter().any(|(c, _)| *c == exit::NOT_EXACT) {
        out.push((
            exit::NOT_EXACT,
            format!("{prefix}{flag}: the outcome depends on the order the replacements arrive in"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::release::WorkloadDoc;

    fn displaced(n: usize, replaced: u64, why: &[&str]) -> Displaced {
        Displaced {
            displaced: n as u64,
            replaced,
            not_replaced: n as u64 - replaced,
            why: why.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn release(lands: Count, pending: Count) -> Release {
        Release {
            workloads: [(
                "Deployment/shop/web".to_string(),
                WorkloadDoc { shape: "web".into(), asked: 3, lands, pending, why: vec![] },
            )]
            .into(),
            exact: matches!(lands, Count::One(_)),
            verdict: String::new(),
            naming: vec![],
        }
    }

    fn n1() -> Gone {
        Gone { nodes: vec!["n1".into()], slots: 100, ..Default::default() }
    }

    fn blocking(allowed: i64) -> Blocking {
        Blocking { pdb: "shop/web".into(), allowed, wanted: 3, owners: vec!["Deployment/shop/web".into()] }
    }

    #[test]
    fn owners_budgets_and_the_exit_codes() {
        let owners: BTreeMap<String, Displaced> = [
            ("Deployment/shop/web".to_string(), displaced(3, 3, &[])),
            ("StatefulSet/shop/db".to_string(), displaced(1, 0, &["a StatefulSet waits"])),
        ]
        .into();
        let short: BTreeMap<String, String> = [("Deployment/shop/web".to_string(), "1 more fits".to_string())].into();
        let r = release(Count::One(1), Count::One(2));
        let w = of(Kind::Lose, n1(), &owners, Some(&r), &short, &[]);
        assert_eq!(
            footer(&w),
            [
                "what if: losing 1 node (n1) displaces 4 pods",
                "  Deployment/shop/web: 3 displaced, 3 replaced, 1 land, 2 stay Pending (1 more fits)",
                "  StatefulSet/shop/db: 1 displaced, 1 not replaced (a StatefulSet waits)",
            ]
        );
        let codes: Vec<i32> = breaches(&w, "").iter().map(|b| b.0).collect();
        assert_eq!(codes, [1, 1]);
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["owners"]["Deployment/shop/web"]["pending"], 2);
        assert_eq!(json["owners"]["StatefulSet/shop/db"]["notReplaced"], 1);
        assert_eq!(json["blockedBy"], serde_json::json!([]));

        // Everything lands: a PDB that allows 1 of 3 goes in rounds; one
        // that allows none blocks.
        let web: BTreeMap<String, Displaced> = [("Deployment/shop/web".to_string(), displaced(3, 3, &[]))].into();
        let all = release(Count::One(3), Count::One(0));
        let w = of(Kind::Drain, n1(), &web, Some(&all), &short, &[blocking(1)]);
        assert!(w.blocked_by.is_empty() && w.exact && w.notes[0].contains("in rounds"), "{w:?}");
        assert_eq!(breaches(&w, ""), []);
        let w = of(Kind::Drain, n1(), &web, Some(&all), &short, &[blocking(0)]);
        assert_eq!(w.blocked_by, [BlockedBy { pdb: "shop/web".into(), allowed: 0, wanted: 3 }]);
        assert_eq!(breaches(&w, "")[0].0, 1);

        // The order decides: 4, never 0.
        let ranged = release(Count::Range([2, 3]), Count::Range([0, 1]));
        let w = of(Kind::Drain, n1(), &web, Some(&ranged), &short, &[blocking(1)]);
        assert!(!w.exact && w.blocked_by.is_empty());
        let codes: Vec<i32> = breaches(&w, "").iter().map(|b| b.0).collect();
        assert_eq!(codes, [4]);
        assert_eq!(
            serde_json::to_value(&w).unwrap()["owners"]["Deployment/shop/web"]["lands"],
            serde_json::json!([2, 3])
        );
    }
}
