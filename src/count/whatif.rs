//! `count --drain`/`--lose`: the removed nodes' pods read first
//! ([`prepare`]: folded into a plan, each owner's replacement a release
//! workload, so that the lean pass collects what their filters read and
//! knows which pods go), then the counted cluster's nodes cordoned or made
//! unreachable ([`apply`]; the pass itself took the pods that go out, or
//! left them terminating), and the release's answer split into the
//! what-if ([`conclude`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::client::connect::Target;
use crate::decode::manifest;
use crate::error::{Error, Result};
use crate::model::fits::Shape;
use crate::model::node::{Effect, NodeInfo, Taint};
use crate::model::removal::{Kind, UNREACHABLE};
use crate::report::Counted;
use crate::report::fits::answer_line;
use crate::report::release;
use crate::report::rows::totals;
use crate::report::whatif::{self, Gone, WhatIf};
use crate::source::query::Removed;
use crate::source::removal::{Asked, Read, read};

/// What the removal takes, read before the count.
pub struct Prepared {
    pub read: Read,
    /// Each owner's replacement pod (named by the owner's id), asked for
    /// as many as it replaces.
    pub shapes: Vec<Shape>,
}

impl Prepared {
    pub fn kind(&self) -> Kind {
        self.read.plan.kind
    }

    /// What the count's pass does with the pods that go.
    pub fn removed(&self) -> Removed {
        Removed { lose: self.kind() == Kind::Lose, going: Arc::new(self.read.plan.going.clone()) }
    }
}

/// Reads what `asked` removes and makes each owner's replacement a release
/// workload.
pub async fn prepare(t: &Target, asked: &Asked) -> Result<Prepared> {
    let read = read(t, asked).await?;
    let mut shapes = Vec::new();
    for (id, spec) in &read.specs {
        let d = &read.plan.owners[id];
        let m = manifest::read_replacement(spec, &asked.default_profile)
            .map_err(|e| Error::cluster(format!("{id}: {e}")))?;
        let mut shape = m.shape;
        let mut parts = id.splitn(3, '/');
        let (kind, ns, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        shape.name = id.clone();
        shape.asked = Some(d.replaced);
        shape.workload = Some(format!("{kind}/{name}"));
        shape.constraints.bind_namespace(ns);
        shapes.push(shape);
    }
    Ok(Prepared { read, shapes })
}

/// `--fits`/`--fits-pod` beside a removal are answered on the nodes left,
/// before the displaced pods' replacements take their room: an upper bound
/// where there are any (`--fits-release` replays them together).
pub fn before_replacements(fits: &mut [(Shape, Option<String>)], p: &Prepared) {
    let replaced: u64 = p.read.plan.owners.values().map(|d| d.replaced).sum();
    if replaced == 0 {
        return;
    }
    for (s, _) in fits.iter_mut().filter(|(s, _)| s.workload.is_none()) {
        s.bound_by.push(format!(
            "answered on the nodes left by {}, before its {replaced} replacement pods take their room (--fits-release replays them together)",
            p.kind().flag()
        ));
    }
}

/// The nodes as they would be after the removal: cordoned (a drain) or
/// unreachable (a loss: the node lifecycle controller's taints).
pub fn apply(p: &Prepared, nodes: &mut [NodeInfo]) {
    let removed: BTreeSet<&str> = p.read.nodes.iter().map(String::as_str).collect();
    for n in nodes.iter_mut().filter(|n| removed.contains(n.name.as_str())) {
        match p.kind() {
            Kind::Drain => n.schedulable = false,
            Kind::Lose => {
                n.ready = false;
                for effect in [Effect::NoSchedule, Effect::NoExecute] {
                    let t = Taint { key: UNREACHABLE.into(), value: String::new(), effect };
                    if !n.health_taints.contains(&t) {
                        n.health_taints.push(t);
                    }
                }
            }
        }
    }
}

/// The what-if, from the counted cluster after the removal: the owners'
/// workloads taken out of the release (and their shapes out of the
/// fits), why replacements fall short in words, the PDBs.
pub fn conclude(p: &Prepared, c: &mut Counted) -> WhatIf {
    let plan = &p.read.plan;
    let ids: BTreeSet<String> = p.shapes.iter().map(|s| s.name.clone()).collect();
    let t = totals(&c.rows);
    let nodes = c.rows.iter().filter(|r| !r.missing).count();
    let short = ids
        .iter()
        .filter_map(|id| {
            let a = c.answers.get(id)?;
            let limits = t.fits_limited_by.get(id).cloned().unwrap_or_default();
            Some((id.clone(), format!("on the nodes left, {}", answer_line(a, nodes, &limits))))
        })
        .collect();
    // Free slots on the nodes any replacement has room on (before the
    // owners' fits are taken out of the rows).
    let slots: u64 = c
        .rows
        .iter()
        .filter(|r| ids.iter().any(|id| r.fits.get(id).copied().flatten().unwrap_or(0) > 0))
        .map(|r| r.free.unwrap_or(0).max(0) as u64)
        .sum();
    let (ours, theirs) = match c.release.take() {
        Some(r) => {
            let (ours, theirs) = release::split(r, &ids);
            (Some(ours), (!theirs.workloads.is_empty()).then_some(theirs))
        }
        None => (None, None),
    };
    c.release = theirs;
    c.shapes.retain(|s| !ids.contains(&s.name));
    c.answers.retain(|k, _| !ids.contains(k));
    for r in &mut c.rows {
        r.fits.retain(|k, _| !ids.contains(k));
        r.fits_limited_by.retain(|k, _| !ids.contains(k));
    }
    let mut notes = Vec::new();
    if plan.stays > 0 {
        notes.push(format!(
            "{} pod{} on the nodes (DaemonSets', mirrors', or tolerating the removal)",
            plan.stays,
            if plan.stays == 1 { " stays" } else { "s stay" }
        ));
    }
    if !plan.held.is_empty() {
        notes.push(format!(
            "held on the nodes by a PodDisruptionBudget that allows no disruption: {}",
            plan.held.join(", ")
        ));
    }
    let sorted = |names: &[String]| {
        let mut v = names.to_vec();
        v.sort();
        v
    };
    let gone = Gone {
        nodes: p.read.nodes.clone(),
        lost: sorted(&plan.lost),
        empty_dir: sorted(&plan.empty_dir),
        notes,
        slots,
    };
    whatif::of(plan.kind, gone, &plan.owners, ours.as_ref(), &short, &plan.blocking())
}
