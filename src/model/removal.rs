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
    /// The pods that go (Replaced, NotReplaced, Lost).
    pub displaced: u64,
    pub replaced: u64,
    pub not_replaced: u64,
    /// Why some are not replaced (once each).
    pub why: Vec<String>,
}

/// The owner a user names for `p` (`Kind/namespace/name`; a bare pod is
/// its own: `Pod/namespace/name`).
pub fn owner_id(p: &Pod) -> String {
    match &p.owner {
        Some(o) => format!("{}/{}/{}", o.kind, p.namespace, o.name),
        None => format!("Pod/{}/{}", p.namespace, p.name),
    }
}

/// The UIDs of the pods that go, compactly (a UUID as 16 bytes), for the
/// count's pass to take out or leave terminating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Going {
    uuids: std::collections::HashSet<u128>,
    other: std::collections::HashSet<String>,
}

impl Going {
    fn uuid(uid: &str) -> Option<u128> {
        let hex: String = uid.chars().filter(|c| *c != '-').collect();
        (hex.len() == 32).then(|| u128::from_str_radix(&hex, 16).ok()).flatten()
    }

    pub fn insert(&mut self, uid: &str) {
        match Going::uuid(uid) {
            Some(u) => {
                self.uuids.insert(u);
            }
            None => {
                self.other.insert(uid.to_string());
            }
        }
    }

    pub fn contains(&self, uid: &str) -> bool {
        match Going::uuid(uid) {
            Some(u) => self.uuids.contains(&u),
            None => self.other.contains(uid),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.uuids.len() + self.other.len()
    }
}

/// What a removal does, folded pod by pod as the removed nodes' pods are
/// read (none is kept whole).
#[derive(Clone, Debug)]
pub struct Plan {
    pub kind: Kind,
    /// By [`owner_id`].
    pub owners: BTreeMap<String, Displaced>,
    pub going: Going,
    /// `namespace/name` of the pods lost for good, those whose emptyDir
    /// data goes, and those a PDB holds on their node.
    pub lost: Vec<String>,
    pub empty_dir: Vec<String>,
    pub held: Vec<String>,
    /// Pods that stay (DaemonSets', mirrors', tolerating the loss).
    pub stays: u64,
    budgets: Vec<Budget>,
    /// Per budget: the evictions it would take (were none held), and the
    /// owners of those pods.
    covered: Vec<(u64, std::collections::BTreeSet<String>)>,
}

impl Plan {
    /// A drain asks `budgets`; a loss none.
    pub fn new(kind: Kind, budgets: Vec<Budget>) -> Plan {
        let budgets = if kind == Kind::Drain { budgets } else { Vec::new() };
        Plan {
            kind,
            owners: BTreeMap::new(),
            going: Going::default(),
            lost: Vec::new(),
            empty_dir: Vec::new(),
            held: Vec::new(),
            stays: 0,
            covered: vec![Default::default(); budgets.len()],
            budgets,
        }
    }

    /// Adds a pod on a removed node; true when it is the first replaced
    /// pod of its owner (its spec stands for them all: replicas of one
    /// owner share one).
    pub fn add(&mut self, mut p: Pod, uid: &str) -> bool {
        let gone = |f: &Fate| matches!(f, Fate::Replaced | Fate::NotReplaced(_) | Fate::Lost(_));
        let id = owner_id(&p);
        // Which budgets the drain would ask for it, and whether one that
        // allows no disruption holds it.
        if gone(&fate(self.kind, &p)) {
            for (b, (wanted, owners)) in self.budgets.iter().zip(self.covered.iter_mut()) {
                if b.namespace == p.namespace && b.selector.as_ref().is_some_and(|s| s.matches_map(&p.labels)) {
                    *wanted += 1;
                    owners.insert(id.clone());
                    if b.allowed <= 0 && p.held_by.is_none() {
                        p.held_by = Some(format!("{}/{}", b.namespace, b.name));
                    }
                }
            }
        }
        let name = format!("{}/{}", p.namespace, p.name);
        let f = fate(self.kind, &p);
        if p.held_by.is_some() {
            self.held.push(name);
            return false;
        }
        match f {
            Fate::Ignored => return false,
            Fate::Stays(_) => {
                self.stays += 1;
                return false;
            }
            _ => {}
        }
        self.going.insert(uid);
        if p.empty_dir {
            self.empty_dir.push(name.clone());
        }
        let d = self.owners.entry(id).or_default();
        d.displaced += 1;
        match f {
            Fate::Replaced => {
                d.replaced += 1;
                return d.replaced == 1;
            }
            Fate::NotReplaced(why) | Fate::Lost(why) => {
                if matches!(fate(self.kind, &p), Fate::Lost(_)) {
                    self.lost.push(name);
                }
                d.not_replaced += 1;
                if !d.why.contains(&why) {
                    d.why.push(why);
                }
            }
            Fate::Ignored | Fate::Stays(_) => unreachable!("returned above"),
        }
        false
    }

    /// The PDBs that allow fewer disruptions than the drain's evictions of
    /// the pods they select would take (were none held). Whether the drain
    /// then waits for good depends on the replacements becoming ready.
    pub fn blocking(&self) -> Vec<Blocking> {
        self.budgets
            .iter()
            .zip(&self.covered)
            .filter(|(b, (wanted, _))| *wanted > 0 && i128::from(*wanted) > i128::from(b.allowed))
            .map(|(b, (wanted, owners))| Blocking {
                pdb: format!("{}/{}", b.namespace, b.name),
                allowed: b.allowed,
                wanted: *wanted,
                owners: owners.iter().cloned().collect(),
            })
            .collect()
    }
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
    fn a_plan_counts_what_goes_by_owner_and_budgets_that_allow_too_few_block() {
        let uid = |i: u32| format!("00000000-0000-4000-8000-{i:012x}");
        let web = |i: u32| {
            let mut p = owned("Deployment");
            p.name = format!("web-{i}");
            p.labels.insert("app".into(), "web".into());
            p
        };
        let budget = |allowed| Budget {
            namespace: "shop".into(),
            name: "web".into(),
            selector: Some(LabelSelector(vec![super::super::selector::Requirement::equals("app", "web")])),
            allowed,
        };
        let mut plan = Plan::new(Kind::Drain, vec![budget(1)]);
        assert!(plan.add(web(0), &uid(0)), "the first replaced pod of its owner");
        assert!(!plan.add(web(1), &uid(1)));
        assert!(!plan.add(owned("DaemonSet"), &uid(2)));
        assert!(!plan.add(Pod { owner: None, empty_dir: true, ..owned("x") }, "not-a-uuid"));
        assert_eq!(plan.owners.keys().collect::<Vec<_>>(), ["Deployment/shop/web", "Pod/shop/web-1"]);
        let d = &plan.owners["Deployment/shop/web"];
        assert_eq!((d.displaced, d.replaced, d.not_replaced), (2, 2, 0));
        assert_eq!(
            (plan.stays, plan.lost.as_slice(), plan.empty_dir.as_slice()),
            (1, &["shop/web-1".to_string()][..], &["shop/web-1".to_string()][..])
        );
        assert!(plan.going.contains(&uid(0)) && plan.going.contains("not-a-uuid") && !plan.going.contains(&uid(2)));
        assert_eq!(plan.going.len(), 3);
        let b = plan.blocking();
        assert_eq!((b[0].pdb.as_str(), b[0].allowed, b[0].wanted), ("shop/web", 1, 2));
        assert_eq!(b[0].owners, ["Deployment/shop/web"]);
        // A budget that allows none holds its pods on the node.
        let mut held = Plan::new(Kind::Drain, vec![budget(0)]);
        assert!(!held.add(web(0), &uid(0)));
        assert_eq!(
            (held.held.as_slice(), held.owners.len(), held.going.len()),
            (&["shop/web-0".to_string()][..], 0, 0)
        );
        assert_eq!(held.blocking()[0].wanted, 1);
        // A loss asks no budget.
        let mut lose = Plan::new(Kind::Lose, vec![budget(0)]);
        assert!(lose.add(web(0), &uid(0)));
        assert!(lose.blocking().is_empty());
    }
}
