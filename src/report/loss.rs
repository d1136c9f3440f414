//! `watch --lose-each LABEL`: for each value of a node label (each zone),
//! what losing all its nodes at once would do, summed from that loss's
//! what-if ([`super::whatif`]): the replacements that stay Pending, the pods
//! never replaced. As `/metrics`, the served document (`lossEach`, read back
//! by `count --from`) and the lines the watch prints have it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::release::Count;
use super::whatif::{OwnerDoc, WhatIf};

impl Default for Loss {
    fn default() -> Loss {
        Loss {
            nodes: 0,
            displaced: 0,
            stranded: Count::One(0),
            unreplaced: 0,
            exact: true,
            short: BTreeMap::new(),
            lost: Vec::new(),
        }
    }
}

/// Every value's answer, as of the last round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LossEach {
    /// The node label, as given.
    pub label: String,
    /// When the answers were last worked out (RFC 3339); None before the
    /// first round ends.
    #[serde(default)]
    pub evaluated_at: Option<String>,
    /// By the label's value.
    #[serde(default)]
    pub values: BTreeMap<String, Loss>,
    /// Why the last round failed for some value (its answer is the one
    /// before, or missing).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, String>,
}

/// What losing one value's nodes does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Loss {
    pub nodes: u64,
    /// Pods the loss takes off their nodes (DaemonSets' and those that
    /// tolerate it for ever stay).
    pub displaced: u64,
    /// Replacements that stay Pending: a range where the order decides.
    pub stranded: Count,
    /// Pods nothing replaces: a StatefulSet's while its node objects remain,
    /// and pods with no controller.
    pub unreplaced: u64,
    pub exact: bool,
    /// The owners that fall short, as `whatIf.owners` has them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub short: BTreeMap<String, OwnerDoc>,
    /// Pods with no controller (`namespace/name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<String>,
}

impl Loss {
    /// One loss's what-if, summed.
    pub fn of(w: &WhatIf) -> Loss {
        let least: u64 = w.owners.values().map(|o| o.pending.least()).sum::<u64>().max(w.pending_at_least);
        let most: u64 = w.owners.values().map(|o| o.pending.most()).sum::<u64>().max(least);
        let not_replaced: u64 = w.owners.values().map(|o| o.not_replaced).sum();
        let short = w
            .owners
            .iter()
            .filter(|(_, o)| o.pending.most() > 0 || o.not_replaced > 0)
            .map(|(id, o)| (id.clone(), o.clone()))
            .collect();
        Loss {
            nodes: w.nodes.len() as u64,
            // (A bare pod is an owner of its own, `Pod/namespace/name`.)
            displaced: w.owners.values().map(|o| o.displaced).sum(),
            stranded: Count::of(least, most),
            unreplaced: not_replaced,
            exact: w.exact,
            short,
            lost: w.lost.clone(),
        }
    }

    /// Nothing stranded or unreplaced in any order.
    pub fn harmless(&self) -> bool {
        self.stranded.most() == 0 && self.unreplaced == 0
    }

    /// What the line and the footer say of it: the counts, then the owners
    /// that fall short (the first few).
    pub fn said(&self) -> String {
        const NAMED: usize = 3;
        let nodes = if self.nodes == 1 { "1 node".to_string() } else { format!("{} nodes", self.nodes) };
        if self.harmless() {
            return format!("{nodes}, {} pods displaced, every replacement lands", self.displaced);
        }
        let mut s = format!(
            "{nodes}, {} pods displaced: {} stay Pending, {} never replaced",
            self.displaced, self.stranded, self.unreplaced
        );
        let mut named: Vec<String> = self
            .short
            .iter()
            .take(NAMED)
            .map(|(id, o)| {
                let mut parts = Vec::new();
                if o.pending.most() > 0 {
                    parts.push(format!("{} Pending", o.pending));
                }
                if o.not_replaced > 0 {
                    parts.push(format!("{} not replaced", o.not_replaced));
                }
                format!("{id} {}", parts.join(", "))
            })
            .collect();
        if self.short.len() > NAMED {
            named.push(format!("{} more owners", self.short.len() - NAMED));
        }
        s.push_str(&format!(" ({})", named.join("; ")));
        s
    }
}

/// The table footer of a served document: one line a value.
pub fn footer(l: &LossEach) -> Vec<String> {
    let when = l.evaluated_at.as_deref().map(|t| format!(" (as of {t})")).unwrap_or_default();
    let mut out = vec![format!("Losing each {}{when}:", l.label)];
    if l.evaluated_at.is_none() {
        out.push("  not answered yet: the watch's first round has not ended".into());
    }
    for (value, loss) in &l.values {
        out.push(format!("  {}={value}: {}", l.label, loss.said()));
    }
    for (value, why) in &l.errors {
        out.push(format!("  {}={value}: not answered: {why}", l.label));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(displaced: u64, pending: Count, not_replaced: u64) -> OwnerDoc {
        let replaced = displaced - not_replaced;
        let lands = Count::of(replaced - pending.most(), replaced - pending.least());
        OwnerDoc { displaced, replaced, lands, pending, not_replaced, why: vec![] }
    }

    fn what_if(owners: &[(&str, OwnerDoc)], lost: &[&str], pending_at_least: u64) -> WhatIf {
        WhatIf {
            removal: "lose".into(),
            nodes: vec!["a".into(), "b".into()],
            owners: owners.iter().map(|(id, o)| (id.to_string(), o.clone())).collect(),
            lost: lost.iter().map(|s| s.to_string()).collect(),
            empty_dir: vec![],
            blocked_by: vec![],
            pending_at_least,
            exact: owners.iter().all(|(_, o)| matches!(o.pending, Count::One(_))),
            notes: vec![],
        }
    }

    #[test]
    fn a_loss_sums_its_owners_and_names_those_that_fall_short() {
        let w = what_if(
            &[
                ("Deployment/ns/api", owner(4, Count::One(0), 0)),
                ("Deployment/ns/web", owner(3, Count::Range([1, 2]), 0)),
                ("StatefulSet/ns/db", owner(2, Count::One(0), 2)),
                ("Pod/ns/lonely", owner(1, Count::One(0), 1)),
            ],
            &["ns/lonely"],
            0,
        );
        let l = Loss::of(&w);
        assert_eq!((l.nodes, l.displaced, l.stranded, l.unreplaced), (2, 10, Count::Range([1, 2]), 3));
        assert_eq!(l.short.keys().collect::<Vec<_>>(), ["Deployment/ns/web", "Pod/ns/lonely", "StatefulSet/ns/db"]);
        assert!(!l.harmless() && !l.exact);
        assert_eq!(
            l.said(),
            "2 nodes, 10 pods displaced: 1 to 2 stay Pending, 3 never replaced (Deployment/ns/web 1 to 2 Pending; Pod/ns/lonely 1 not replaced; StatefulSet/ns/db 2 not replaced)"
        );
    }

    #[test]
    fn pending_in_every_order_counts_even_when_no_owner_is_sure_alone() {
        // Five replacements, each owner's Pending in some order only, but
        // three more than the slots left: three stay Pending in every order.
        let w = what_if(
            &[
                ("Deployment/ns/a", owner(3, Count::Range([0, 3]), 0)),
                ("Deployment/ns/b", owner(2, Count::Range([0, 2]), 0)),
            ],
            &[],
            3,
        );
        assert_eq!(Loss::of(&w).stranded, Count::Range([3, 5]));
        let quiet = what_if(&[("Deployment/ns/a", owner(3, Count::One(0), 0))], &[], 0);
        let l = Loss::of(&quiet);
        assert!(l.harmless() && l.short.is_empty());
        assert_eq!(l.said(), "2 nodes, 3 pods displaced, every replacement lands");
    }

    #[test]
    fn the_footer_says_each_value_and_what_failed() {
        let mut l = LossEach { label: "zone".into(), ..Default::default() };
        assert_eq!(footer(&l)[1], "  not answered yet: the watch's first round has not ended");
        l.evaluated_at = Some("2026-12-07T10:00:00.000Z".into());
        l.values.insert("a".into(), Loss::of(&what_if(&[("Deployment/ns/a", owner(1, Count::One(0), 0))], &[], 0)));
        l.errors.insert("b".into(), "forbidden".into());
        assert_eq!(
            footer(&l),
            [
                "Losing each zone (as of 2026-12-07T10:00:00.000Z):",
                "  zone=a: 2 nodes, 1 pods displaced, every replacement lands",
                "  zone=b: not answered: forbidden",
            ]
        );
    }
}
