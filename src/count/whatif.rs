//! `count --drain`/`--lose`: the removed nodes' pods read first
//! ([`prepare`]: each owner's replacement becomes a release workload, so
//! the lean pass collects what their filters read), then the counted
//! cluster turned into the cluster after the removal ([`apply`]: nodes
//! cordoned or unreachable, the pods that go taken out or left
//! terminating), and the release's answer split into the what-if
//! ([`conclude`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::client::connect::Target;
use crate::decode::neighbour;
use crate::decode::resources::ResourcePod;
use crate::decode::{Item, LeanPod, manifest};
use crate::error::{Error, Result};
use crate::model::fits::Shape;
use crate::model::node::{Effect, NodeInfo, Taint};
use crate::model::placement::{Constraints, Neighbours};
use crate::model::removal::{self, Displaced, Fate, Kind, UNREACHABLE};
use crate::model::tally::Tally;
use crate::report::Counted;
use crate::report::fits::answer_line;
use crate::report::release;
use crate::report::rows::totals;
use crate::report::whatif::{self, Gone, WhatIf};
use crate::source::removal::{Asked, Read, read};

/// What the removal takes, read before the count.
pub struct Prepared {
    pub kind: Kind,
    pub read: Read,
    pub owners: BTreeMap<String, Displaced>,
    /// Each owner's replacement pod (named by the owner's id), asked for
    /// as many as it replaces.
    pub shapes: Vec<Shape>,
}

/// Reads what `asked` removes and makes each owner's replacement a release
/// workload.
pub async fn prepare(t: &Target, asked: &Asked) -> Result<Prepared> {
    let mut read = read(t, asked).await?;
    let mut pods: Vec<removal::Pod> = read.pods.iter().map(|(p, _)| p.clone()).collect();
    if asked.kind == Kind::Drain {
        removal::hold(&read.budgets, &mut pods);
        for ((p, _), held) in read.pods.iter_mut().zip(&pods) {
            p.held_by.clone_from(&held.held_by);
        }
    }
    let owners = removal::owners(asked.kind, &pods);
    let mut shapes = Vec::new();
    for (id, d) in owners.iter().filter(|(_, d)| d.replaced > 0) {
        // The first pod that is replaced stands for them all: replicas of
        // one owner share a spec.
        let first = d.pods.iter().copied().find(|i| removal::fate(asked.kind, &pods[*i]) == Fate::Replaced);
        let Some(i) = first else { continue };
        let value: serde_json::Value = serde_json::from_slice(&read.pods[i].1)
            .map_err(|e| Error::cluster(format!("internal error: a pod re-read: {e}")))?;
        let m = manifest::read_replacement(&value, &asked.default_profile)
            .map_err(|e| Error::cluster(format!("{id}: {e}")))?;
        let mut shape = m.shape;
        let (kind, rest) = id.split_once('/').unwrap_or(("Pod", id));
        let name = rest.split_once('/').map_or(rest, |(_, n)| n);
        shape.name = id.clone();
        shape.asked = Some(d.replaced);
        shape.workload = Some(format!("{kind}/{name}"));
        shape.constraints.bind_namespace(&pods[i].namespace);
        shapes.push(shape);
    }
    Ok(Prepared { kind: asked.kind, read, owners, shapes })
}

/// `--fits`/`--fits-pod` beside a removal are answered on the nodes left,
/// before the displaced pods' replacements take their room: an upper bound
/// where there are any (`--fits-release` replays them together).
pub fn before_replacements(fits: &mut [(Shape, Option<String>)], p: &Prepared) {
    let replaced: u64 = p.owners.values().map(|d| d.replaced).sum();
    if replaced == 0 {
        return;
    }
    for (s, _) in fits.iter_mut().filter(|(s, _)| s.workload.is_none()) {
        s.bound_by.push(format!(
            "answered on the nodes left by {}, before its {replaced} replacement pods take their room (--fits-release replays them together)",
            p.kind.flag()
        ));
    }
}

/// The cluster as it would be after the removal: the nodes cordoned (a
/// drain) or unreachable (a loss: the node lifecycle controller's taints);
/// the pods that go taken out (a drain) or left terminating on their dead
/// node (a loss: they still count there and for inter-pod affinity, not
/// for spread).
pub fn apply(
    p: &Prepared,
    nodes: &mut [NodeInfo],
    tally: &mut Tally<String>,
    resources: bool,
    placing: &[Constraints],
    neighbours: &mut [Neighbours],
) -> Result<()> {
    let removed: BTreeSet<&str> = p.read.nodes.iter().map(String::as_str).collect();
    for n in nodes.iter_mut().filter(|n| removed.contains(n.name.as_str())) {
        match p.kind {
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
    let bad = |e: String| Error::cluster(format!("internal error: a displaced pod re-read: {e}"));
    for (pod, bytes) in &p.read.pods {
        if matches!(removal::fate(p.kind, pod), Fate::Ignored | Fate::Stays(_)) {
            continue;
        }
        let item = Item::Json(bytes);
        let lean = LeanPod::decode(item).map_err(bad)?;
        let facts = lean.facts();
        let node = pod.node.as_str();
        if tally.node(node).pods == 0 {
            // Gone between the two reads.
            continue;
        }
        if resources {
            let r = ResourcePod::decode(item).map_err(bad)?;
            let (res, _) = r.resources();
            if p.kind == Kind::Drain {
                tally.remove_demand(node, &res.demand());
            }
        }
        tally.remove(facts.contribution());
        if p.kind == Kind::Lose {
            let mut dying = lean.facts();
            dying.terminating = true;
            tally.add(dying.contribution());
        }
        let mut n = neighbour::decode(item).map_err(bad)?;
        for (c, nb) in placing.iter().zip(neighbours.iter_mut()) {
            if let Some(part) = Neighbours::of(c, node, &n) {
                nb.combine(&part, false);
            }
        }
        if p.kind == Kind::Lose {
            n.terminating = true;
            for (c, nb) in placing.iter().zip(neighbours.iter_mut()) {
                nb.add(c, node, &n);
            }
        }
    }
    Ok(())
}

/// The what-if, from the counted cluster after the removal: the owners'
/// workloads taken out of the release (and their shapes out of the
/// fits), why replacements fall short in words, the PDBs.
pub fn conclude(p: &Prepared, c: &mut Counted) -> WhatIf {
    let ids: BTreeSet<String> = p.shapes.iter().map(|s| s.name.clone()).collect();
    let t = totals(&c.rows);
    let nodes = c.rows.iter().filter(|r| !r.missing).count();
    let short: BTreeMap<String, String> = ids
        .iter()
        .filter_map(|id| {
            let a = c.answers.get(id)?;
            let limits = t.fits_limited_by.get(id).cloned().unwrap_or_default();
            Some((id.clone(), format!("on the nodes left, {}", answer_line(a, nodes, &limits))))
        })
        .collect();
    // Free slots on the nodes any replacement has room on (before the
    // owners' fits are taken out of the rows).
    let free_slots: u64 = c
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
    let pods = &p.read.pods;
    let lost: Vec<String> = pods
        .iter()
        .filter(|(pod, _)| matches!(removal::fate(p.kind, pod), Fate::Lost(_)))
        .map(|(pod, _)| format!("{}/{}", pod.namespace, pod.name))
        .collect();
    let gone = |f: &Fate| matches!(f, Fate::Replaced | Fate::NotReplaced(_) | Fate::Lost(_));
    let empty_dir: Vec<String> = pods
        .iter()
        .filter(|(pod, _)| pod.empty_dir && gone(&removal::fate(p.kind, pod)))
        .map(|(pod, _)| format!("{}/{}", pod.namespace, pod.name))
        .collect();
    // Which PDBs wait: over the pods the drain would evict were none held.
    let model: Vec<removal::Pod> = pods.iter().map(|(pod, _)| removal::Pod { held_by: None, ..pod.clone() }).collect();
    let owner_of = |i: usize| {
        let pod = &model[i];
        match &pod.owner {
            Some(o) => format!("{}/{}/{}", o.kind, pod.namespace, o.name),
            None => format!("Pod/{}/{}", pod.namespace, pod.name),
        }
    };
    let evicted: Vec<usize> = (0..model.len()).filter(|i| gone(&removal::fate(p.kind, &model[*i]))).collect();
    let blocking = match p.kind {
        Kind::Drain => removal::blocking(&p.read.budgets, &model, &evicted, owner_of),
        Kind::Lose => Vec::new(),
    };
    let mut notes = Vec::new();
    let stays =
        pods.iter().filter(|(pod, _)| pod.held_by.is_none() && matches!(removal::fate(p.kind, pod), Fate::Stays(_)));
    let stays = stays.count();
    if stays > 0 {
        notes.push(format!(
            "{stays} pod{} on the nodes (DaemonSets', mirrors', or tolerating the removal)",
            if stays == 1 { " stays" } else { "s stay" }
        ));
    }
    let held: Vec<String> = pods
        .iter()
        .filter(|(pod, _)| pod.held_by.is_some())
        .map(|(pod, _)| format!("{}/{}", pod.namespace, pod.name))
        .collect();
    if !held.is_empty() {
        notes
            .push(format!("held on the nodes by a PodDisruptionBudget that allows no disruption: {}", held.join(", ")));
    }
    let slots = free_slots;
    let gone = Gone { nodes: p.read.nodes.clone(), lost, empty_dir, notes, slots };
    whatif::of(p.kind, gone, &p.owners, ours.as_ref(), &short, &blocking)
}
