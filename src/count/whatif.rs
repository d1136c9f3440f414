//! `count --drain`/`--lose`: the removed nodes' pods read first
//! ([`prepare`]: folded into a plan, each owner's replacement a release
//! workload, so that the lean pass collects what their filters read and
//! knows which pods go), then the counted cluster's nodes cordoned or made
//! unreachable ([`apply`]; the pass itself took the pods that go out, or
//! left them terminating), and the release's answer split into the
//! what-if ([`conclude`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::client::connect::Target;
use crate::decode::manifest;
use crate::error::{Error, Result};
use crate::model::fits::Shape;
use crate::model::node::{Effect, NodeInfo, Taint};
use crate::model::placement::Neighbours;
use crate::model::release::Workload;
use crate::model::removal::{Kind, UNREACHABLE};
use crate::model::tally::Tally;
use crate::report::Counted;
use crate::report::fits::{answer_line, answers};
use crate::report::release;
use crate::report::rows::{Extra, rows, totals};
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
        let spec: serde_json::Value = serde_json::from_str(spec.get())
            .map_err(|e| Error::cluster(format!("{id}: a pod on a removed node cannot be read: {e}")))?;
        let m = manifest::read_replacement(&spec, &asked.default_profile)
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

/// What the owners' replacements are placed over: the count after the
/// removal, and the placed pods' facts for their filters (aligned with the
/// owners; empty where none reads them).
pub struct At<'a> {
    pub tally: &'a Tally<String>,
    pub nodes: Option<&'a [NodeInfo]>,
    pub neighbours: &'a [Neighbours],
    pub free: release::Free<'a>,
}

/// Each owner's replacement as a release workload, why it falls short in
/// words, and the free pod slots where any could land.
pub struct Placed {
    pub workloads: Vec<Workload>,
    pub short: BTreeMap<String, String>,
    pub slots: u64,
}

/// Owners answered this many at a time: their per-node fits live only
/// while their workloads are made (hundreds of owners over thousands of
/// nodes would otherwise hold a map entry for each pair).
const BATCH: usize = 4;

/// The owners' workloads, from their answers over the nodes after the
/// removal, a batch at a time.
pub fn place(owners: &[Shape], at: &At<'_>) -> Placed {
    let mut out = Placed { workloads: Vec::new(), short: BTreeMap::new(), slots: 0 };
    let mut any_room: Vec<u64> = Vec::new();
    let mut free_slots: Vec<u64> = Vec::new();
    for (b, batch) in owners.chunks(BATCH).enumerate() {
        let mut rows = rows(at.tally, at.nodes, true, &Extra { shown: None, shapes: batch });
        let neighbours = (!at.neighbours.is_empty()).then(|| &at.neighbours[b * BATCH..b * BATCH + batch.len()]);
        let answers = answers(&mut rows, at.nodes, batch, neighbours, false);
        let t = totals(&rows);
        let listed = rows.iter().filter(|r| !r.missing).count();
        if free_slots.is_empty() {
            free_slots = rows.iter().map(|r| r.free.unwrap_or(0).max(0) as u64).collect();
            any_room = vec![0; rows.len().div_ceil(64)];
        }
        for s in batch {
            let a = answers.get(&s.name);
            let w = release::workload(s, a, &rows, at.free);
            for (into, bits) in any_room.iter_mut().zip(&w.nodes) {
                *into |= bits;
            }
            out.workloads.push(w);
            if let Some(a) = a {
                let limits = t.fits_limited_by.get(&s.name).cloned().unwrap_or_default();
                out.short.insert(s.name.clone(), format!("on the nodes left, {}", answer_line(a, listed, &limits)));
            }
        }
    }
    out.slots =
        free_slots.iter().enumerate().filter(|(i, _)| any_room[i / 64] & (1 << (i % 64)) != 0).map(|(_, f)| f).sum();
    out
}

/// The what-if, from the counted cluster after the removal: the owners'
/// workloads taken out of the release, the PDBs.
pub fn conclude(p: &Prepared, placed: Placed, c: &mut Counted) -> WhatIf {
    let plan = &p.read.plan;
    let ids: BTreeSet<String> = p.shapes.iter().map(|s| s.name.clone()).collect();
    let ours = match c.release.take() {
        Some(r) => {
            let (ours, theirs) = release::split(r, &ids);
            c.release = (!theirs.workloads.is_empty()).then_some(theirs);
            Some(ours)
        }
        None => None,
    };
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
        slots: placed.slots,
    };
    whatif::of(plan.kind, gone, &plan.owners, ours.as_ref(), &placed.short, &plan.blocking())
}
