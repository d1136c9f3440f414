//! What-if removals (`--drain`, `--lose`): what becomes of each pod on the
//! nodes removed ([`fate`]), the owners that would replace them
//! ([`owners`]), and which PodDisruptionBudgets a drain would wait on
//! ([`blocking`]). Pure; where the displaced pods' replacements land is the
//! release replay's ([`super::release`]).
//!
//! The rules, as the cluster applies them (k8s.io/kubectl pkg/drain,
//! kube-controller-manager's taint eviction and workload controllers):
//! - **drain** cordons the nodes and evicts each pod through the Eviction
//!   API. DaemonSet pods stay (`--ignore-daemonsets`), mirror pods stay,
//!   pods with no controller are deleted for good (`--force`), emptyDir
//!   data is lost (`--delete-emptydir-data`); a PDB that allows fewer
//!   disruptions than it would take makes the eviction wait.
//! - **lose** leaves the nodes unreachable: the node lifecycle controller
//!   taints them `node.kubernetes.io/unreachable` (NoSchedule, NoExecute),
//!   and the taint eviction controller deletes each pod that does not
//!   tolerate NoExecute for ever, after its `tolerationSeconds`. With no
//!   kubelet to confirm, a deleted pod stays terminating on its node. No
//!   PDB is asked. ReplicaSets and Jobs replace a terminating pod at once; a
//!   StatefulSet waits until the old pod object is gone.

use std::collections::BTreeMap;

use super::fits::Toleration;
use super::node::Effect;
use super::selector::LabelSelector;

/// The taint the node lifecycle controller sets on a node it cannot reach.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// How the nodes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Planned: `kubectl drain`.
    Drain,
    /// Failure: the nodes stop answering.
    Lose,
}

impl Kind {
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Drain => "--drain",
            Kind::Lose => "--lose",
        }
    }
}

/// The workload a user names for a pod: a ReplicaSet's Deployment where it
/// has one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    /// Deployment, ReplicaSet, StatefulSet, Job, DaemonSet,
    /// ReplicationController, or another controller's kind.
    pub kind: String,
    pub name: String,
}

impl Owner {
    /// The controllers podcount knows to make a replacement for a pod that
    /// goes.
    fn replaces(&self) -> bool {
        matches!(self.kind.as_str(), "Deployment" | "ReplicaSet" | "ReplicationController" | "Job" | "StatefulSet")
    }
}

/// A pod on a removed node, as [`fate`] reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub labels: BTreeMap<String, String>,
    /// Its controller (None: a bare pod).
    pub owner: Option<Owner>,
    /// A static pod's mirror (`kubernetes.io/config.mirror`).
    pub mirror: bool,
    /// Succeeded or Failed: counted nowhere.
    pub finished: bool,
    /// Already being deleted.
    pub terminating: bool,
    /// Mounts an emptyDir volume.
    pub empty_dir: bool,
    pub tolerations: Vec<Toleration>,
    /// Per toleration (aligned): `tolerationSeconds`.
    pub toleration_seconds: Vec<Option<i64>>,
    /// A drain: the PodDisruptionBudget that allows no disruption of it
    /// (`namespace/name`): the eviction is refused, and it stays.
    pub held_by: Option<String>,
}

impl Pod {
    /// How long it stays on an unreachable node before the taint eviction
    /// deletes it: None for ever (a toleration without
    /// `tolerationSeconds`); the shortest of the tolerations that match
    /// (`getMinTolerationTime`); 0 when none tolerates it.
    pub fn stays_unreachable_for(&self) -> Option<i64> {
        let matching: Vec<Option<i64>> = self
            .tolerations
            .iter()
            .zip(&self.toleration_seconds)
            .filter(|(t, _)| t.tolerates(UNREACHABLE, "", Effect::NoExecute))
            .map(|(_, s)| *s)
            .collect();
        if matching.is_empty() {
            return Some(0);
        }
        if matching.iter().all(Option::is_none) {
            return None;
        }
        matching.into_iter().flatten().min().map(|s| s.max(0))
    }
}

/// What becomes of a pod on a removed node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Not counted before or after (finished, or already going).
    Ignored,
    /// Stays on its node (a DaemonSet's, a mirror, one that tolerates the
    /// loss for ever).
    Stays(String),
    /// Goes, and its owner makes a replacement for the scheduler to place.
    Replaced,
    /// Goes, and its owner makes no replacement (yet): why.
    NotReplaced(String),
    /// Goes, with no controller to replace it: why.
    Lost(String),
}

/// What a drain or a loss does to `p`.
pub fn fate(kind: Kind, p: &Pod) -> Fate {
    if p.finished || p.terminating {
        return Fate::Ignored;
    }
    let daemon_set = p.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet");
    match kind {
        Kind::Drain if daemon_set => {
            Fate::Stays("a DaemonSet's pod: kubectl drain --ignore-daemonsets leaves it".into())
        }
        Kind::Drain if p.mirror => Fate::Stays("a static pod's mirror: kubectl drain skips it".into()),
        Kind::Drain if p.held_by.is_some() => Fate::Stays(format!(
            "PodDisruptionBudget {} allows no disruption: its eviction is refused",
            p.held_by.as_deref().unwrap_or_default()
        )),
        Kind::Drain => match &p.owner {
            None => {
                Fate::Lost("no controller: kubectl drain refuses it without --force, which deletes it for good".into())
            }
            Some(o) if o.replaces() => Fate::Replaced,
            Some(o) => Fate::NotReplaced(format!(
                "its controller is a {}, which podcount does not model: whether it makes a replacement is not known",
                o.kind
            )),
        },
        // Its controller's replacement is for the same node, and its
        // controller adds the toleration anyway.
        Kind::Lose if daemon_set => Fate::Stays("a DaemonSet's pod: it belongs to its node".into()),
        Kind::Lose if p.mirror => {
            Fate::Stays("a static pod's mirror: its node's kubelet runs it, and nothing moves it".into())
        }
        Kind::Lose => {
            let after = match p.stays_unreachable_for() {
                None => return Fate::Stays("it tolerates node.kubernetes.io/unreachable:NoExecute for ever".into()),
                Some(s) => format!("deleted {s}s after the node is marked unreachable"),
            };
            match &p.owner {
                None => Fate::Lost(format!("no controller: {after}, and nothing replaces it")),
                Some(o) if o.kind == "StatefulSet" => Fate::NotReplaced(format!(
                    "{after}, it stays terminating on the unreachable node, and a StatefulSet makes no replacement while the old pod object remains (until the node is deleted, tainted node.kubernetes.io/out-of-service, or the pod force-deleted)"
                )),
                Some(o) if o.replaces() => Fate::Replaced,
                Some(o) => Fate::NotReplaced(format!(
                    "{after}; its controller is a {}, which podcount does not model: whether it makes a replacement is not known",
                    o.kind
                )),
            }
        }
    }
}

/// An owner's displaced pods, as the what-if counts them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Displaced {
    /// The pods that go (Replaced, NotReplaced, Lost), by index into the
    /// pods given.
    pub pods: Vec<usize>,
    pub replaced: u64,
    pub not_replaced: u64,
    /// Why some are not replaced (once each).
    pub why: Vec<String>,
}

/// The pods that go, by owner (`Kind/namespace/name`; a bare pod is its
/// own: `Pod/namespace/name`).
pub fn owners(kind: Kind, pods: &[Pod]) -> BTreeMap<String, Displaced> {
    let mut out: BTreeMap<String, Displaced> = BTreeMap::new();
    for (i, p) in pods.iter().enumerate() {
        let fate = fate(kind, p);
        if matches!(fate, Fate::Ignored | Fate::Stays(_)) {
            continue;
        }
        let id = match &p.owner {
            Some(o) => format!("{}/{}/{}", o.kind, p.namespace, o.name),
            None => format!("Pod/{}/{}", p.namespace, p.name),
        };
        let d = out.entry(id).or_default();
        d.pods.push(i);
        match fate {
            Fate::Replaced => d.replaced += 1,
            Fate::NotReplaced(why) | Fate::Lost(why) => {
                d.not_replaced += 1;
                if !d.why.contains(&why) {
                    d.why.push(why);
                }
            }
            Fate::Ignored | Fate::Stays(_) => unreachable!("skipped above"),
        }
    }
    out
}

/// A PodDisruptionBudget, as a drain reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub namespace: String,
    pub name: String,
    /// None: selects nothing (a PDB without a selector).
    pub selector: Option<LabelSelector>,
    /// `status.disruptionsAllowed`.
    pub allowed: i64,
}

/// Marks the pods a drain cannot evict: those a PDB that allows no
/// disruption selects (the Eviction API answers 429 until it allows one).
pub fn hold(budgets: &[Budget], pods: &mut [Pod]) {
    for b in budgets.iter().filter(|b| b.allowed <= 0) {
        let Some(sel) = &b.selector else { continue };
        for p in pods.iter_mut().filter(|p| p.namespace == b.namespace && sel.matches_map(&p.labels)) {
            p.held_by.get_or_insert_with(|| format!("{}/{}", b.namespace, b.name));
        }
    }
}

/// A PDB a drain would wait on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// `namespace/name`.
    pub pdb: String,
    pub allowed: i64,
    /// The evictions it would take.
    pub wanted: u64,
    /// Each owner of the pods it covers.
    pub owners: Vec<String>,
}

/// The PDBs that allow fewer disruptions than the drain's evictions
/// (`evicted`: the pods it evicts) of the pods they select would take.
/// Whether the drain then waits for good depends on the replacements
/// becoming ready (the caller knows whether they land).
pub fn blocking(
    budgets: &[Budget],
    pods: &[Pod],
    evicted: &[usize],
    owner_of: impl Fn(usize) -> String,
) -> Vec<Blocking> {
    budgets
        .iter()
        .filter_map(|b| {
            let sel = b.selector.as_ref()?;
            let covered: Vec<usize> = evicted
                .iter()
                .copied()
                .filter(|i| pods[*i].namespace == b.namespace && sel.matches_map(&pods[*i].labels))
                .collect();
            let wanted = covered.len() as u64;
            if wanted == 0 || i128::from(wanted) <= i128::from(b.allowed) {
                return None;
            }
            let mut owners: Vec<String> = covered.iter().map(|i| owner_of(*i)).collect();
            owners.sort();
            owners.dedup();
            Some(Blocking { pdb: format!("{}/{}", b.namespace, b.name), allowed: b.allowed, wanted, owners })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(kind: &str) -> Pod {
        Pod {
            namespace: "shop".into(),
            name: "web-1".into(),
            node: "n1".into(),
            owner: Some(Owner { kind: kind.into(), name: "web".into() }),
            // The DefaultTolerationSeconds admission plugin's.
            tolerations: vec![Toleration {
                key: Some(UNREACHABLE.into()),
                exists: true,
                value: String::new(),
                effect: Some("NoExecute".into()),
            }],
            toleration_seconds: vec![Some(300)],
            ..Default::default()
        }
    }

    #[test]
    fn a_drain_keeps_daemon_sets_and_mirrors_and_loses_bare_pods() {
        assert_eq!(fate(Kind::Drain, &owned("Deployment")), Fate::Replaced);
        assert_eq!(fate(Kind::Drain, &owned("StatefulSet")), Fate::Replaced);
        assert!(matches!(fate(Kind::Drain, &owned("DaemonSet")), Fate::Stays(_)));
        assert!(matches!(fate(Kind::Drain, &Pod { mirror: true, ..owned("Node") }), Fate::Stays(_)));
        assert!(matches!(fate(Kind::Drain, &Pod { owner: None, ..owned("x") }), Fate::Lost(_)));
        assert!(matches!(fate(Kind::Drain, &owned("Rollout")), Fate::NotReplaced(_)));
        assert_eq!(fate(Kind::Drain, &Pod { finished: true, ..owned("Deployment") }), Fate::Ignored);
        assert_eq!(fate(Kind::Drain, &Pod { terminating: true, ..owned("Deployment") }), Fate::Ignored);
    }

    #[test]
    fn a_loss_keeps_what_tolerates_it_for_ever_and_a_stateful_set_waits() {
        assert_eq!(fate(Kind::Lose, &owned("Deployment")), Fate::Replaced);
        assert_eq!(owned("Deployment").stays_unreachable_for(), Some(300));
        let Fate::NotReplaced(why) = fate(Kind::Lose, &owned("StatefulSet")) else { panic!() };
        assert!(why.starts_with("deleted 300s after"), "{why}");
        let Fate::Lost(why) = fate(Kind::Lose, &Pod { owner: None, ..owned("x") }) else { panic!() };
        assert!(why.contains("nothing replaces it"), "{why}");
        // A DaemonSet's pods tolerate it with no seconds.
        let ds = Pod { toleration_seconds: vec![None], ..owned("DaemonSet") };
        assert_eq!(ds.stays_unreachable_for(), None);
        assert!(matches!(fate(Kind::Lose, &ds), Fate::Stays(_)));
        assert!(matches!(fate(Kind::Lose, &owned("DaemonSet")), Fate::Stays(_)), "even with seconds");
        // No toleration: at once; the shortest of several.
        assert_eq!(
            Pod { tolerations: vec![], toleration_seconds: vec![], ..owned("x") }.stays_unreachable_for(),
            Some(0)
        );
        let mut two = owned("Deployment");
        two.tolerations.push(Toleration { key: None, exists: true, value: String::new(), effect: None });
        two.toleration_seconds.push(Some(30));
        assert_eq!(two.stays_unreachable_for(), Some(30));
        // A NoSchedule toleration does not hold it.
        let no_schedule = Pod {
            tolerations: vec![Toleration {
                key: Some(UNREACHABLE.into()),
                exists: true,
                value: String::new(),
                effect: Some("NoSchedule".into()),
            }],
            toleration_seconds: vec![None],
            ..owned("Deployment")
        };
        assert_eq!(no_schedule.stays_unreachable_for(), Some(0));
    }

    #[test]
    fn owners_count_what_goes_and_budgets_that_allow_too_few_block() {
        let mut pods =
            vec![owned("Deployment"), owned("Deployment"), owned("DaemonSet"), Pod { owner: None, ..owned("x") }];
        pods[0].labels.insert("app".into(), "web".into());
        pods[1].labels.insert("app".into(), "web".into());
        let by = owners(Kind::Drain, &pods);
        assert_eq!(by.keys().collect::<Vec<_>>(), ["Deployment/shop/web", "Pod/shop/web-1"]);
        assert_eq!((by["Deployment/shop/web"].replaced, by["Deployment/shop/web"].not_replaced), (2, 0));
        assert_eq!((by["Pod/shop/web-1"].replaced, by["Pod/shop/web-1"].not_replaced), (0, 1));
        let budget = |allowed| Budget {
            namespace: "shop".into(),
            name: "web".into(),
            selector: Some(LabelSelector(vec![super::super::selector::Requirement::equals("app", "web")])),
            allowed,
        };
        let owner_of = |_| "Deployment/shop/web".to_string();
        assert_eq!(blocking(&[budget(2)], &pods, &[0, 1, 3], owner_of), []);
        let b = blocking(&[budget(1)], &pods, &[0, 1, 3], owner_of);
        assert_eq!((b[0].pdb.as_str(), b[0].allowed, b[0].wanted), ("shop/web", 1, 2));
        assert_eq!(b[0].owners, ["Deployment/shop/web"]);
        // Another namespace, or no selector: not covered.
        let other = Budget { namespace: "else".into(), ..budget(0) };
        let none = Budget { selector: None, ..budget(0) };
        assert_eq!(blocking(&[other, none], &pods, &[0, 1, 3], owner_of), []);
    }
}
