//! The counting rule: which pods count against a node, in which breakdown
//! column, and the facts about a pod it reads. Pure.
//!
//! A pod counts against node N when `spec.nodeName == N` and its phase is
//! neither Succeeded nor Failed (what kubelet's max-pods admission,
//! kube-scheduler and `kubectl describe node` count). A pod with no node and a
//! non-terminal phase is "unscheduled".

/// A pod's phase. An absent phase is Pending (what the apiserver sets on
/// create); a phase this build does not know still counts, as Unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    pub fn parse(phase: Option<&str>) -> Phase {
        match phase {
            None | Some("") | Some("Pending") => Phase::Pending,
            Some("Running") => Phase::Running,
            Some("Succeeded") => Phase::Succeeded,
            Some("Failed") => Phase::Failed,
            Some(_) => Phase::Unknown,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// Which breakdown column a counted pod falls in. The buckets partition the
/// count: a terminating pod is Terminating whatever its phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Running,
    Pending,
    Unknown,
    Terminating,
}

/// The facts about one pod that counting needs, and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodFacts<N> {
    pub node: Option<N>,
    pub phase: Phase,
    pub terminating: bool,
    pub daemon_set: bool,
    /// `spec.hostNetwork`: counts toward max-pods but takes no pod IP.
    pub host_network: bool,
}

/// What one pod adds to a tally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Contribution<N> {
    /// Succeeded or Failed: not counted anywhere.
    Nothing,
    /// No node yet, phase not terminal.
    Unscheduled,
    /// Counted against `node`.
    Node { node: N, bucket: Bucket, daemon_set: bool, host_network: bool },
}

impl<N> PodFacts<N> {
    /// The counting rule.
    pub fn contribution(self) -> Contribution<N> {
        if self.phase.is_terminal() {
            return Contribution::Nothing;
        }
        let Some(node) = self.node else {
            return Contribution::Unscheduled;
        };
        let bucket = if self.terminating {
            Bucket::Terminating
        } else {
            match self.phase {
                Phase::Running => Bucket::Running,
                Phase::Pending => Bucket::Pending,
                _ => Bucket::Unknown,
            }
        };
        Contribution::Node { node, bucket, daemon_set: self.daemon_set, host_network: self.host_network }
    }
}

impl<N> Contribution<N> {
    /// The same contribution, borrowing its node key.
    pub fn as_ref(&self) -> Contribution<&N> {
        match self {
            Contribution::Nothing => Contribution::Nothing,
            Contribution::Unscheduled => Contribution::Unscheduled,
            Contribution::Node { node, bucket, daemon_set, host_network } => {
                Contribution::Node { node, bucket: *bucket, daemon_set: *daemon_set, host_network: *host_network }
            }
        }
    }
}

impl<'a> PodFacts<&'a str> {
    /// The facts from a pod's fields as decoded, in either encoding: an
    /// empty node name is no node; `owners` are the owner references'
    /// (kind, controller) pairs.
    pub fn read<'o>(
        node: Option<&'a str>,
        phase: Option<&str>,
        terminating: bool,
        owners: impl IntoIterator<Item = (Option<&'o str>, Option<bool>)>,
        host_network: Option<bool>,
    ) -> Self {
        PodFacts {
            node: node.filter(|n| !n.is_empty()),
            phase: Phase::parse(phase),
            terminating,
            daemon_set: controlled_by_daemon_set(owners),
            host_network: host_network == Some(true),
        }
    }
}

/// The DaemonSet rule: a pod is a DaemonSet's when its controlling owner
/// reference is one (an owner that is not the controller does not count).
pub fn controlled_by_daemon_set<'o>(owners: impl IntoIterator<Item = (Option<&'o str>, Option<bool>)>) -> bool {
    owners.into_iter().any(|(kind, controller)| controller == Some(true) && kind == Some("DaemonSet"))
}

/// Any phase, for property tests.
#[cfg(test)]
pub fn any_phase() -> impl proptest::strategy::Strategy<Value = Phase> {
    use proptest::prelude::*;
    prop_oneof![
        Just(Phase::Pending),
        Just(Phase::Running),
        Just(Phase::Succeeded),
        Just(Phase::Failed),
        Just(Phase::Unknown)
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(node: Option<&str>, phase: Phase, terminating: bool, daemon_set: bool) -> PodFacts<&str> {
        // DaemonSet pods on the host network, as node agents often are.
        PodFacts { node, phase, terminating, daemon_set, host_network: daemon_set && !terminating }
    }

    #[test]
    fn counting_rule() {
        use Contribution::*;
        let n = Some("n1");
        assert_eq!(facts(n, Phase::Succeeded, false, false).contribution(), Nothing);
        assert_eq!(facts(n, Phase::Failed, true, false).contribution(), Nothing);
        assert_eq!(facts(None, Phase::Succeeded, false, false).contribution(), Nothing);
        assert_eq!(facts(None, Phase::Pending, false, false).contribution(), Unscheduled);
        assert_eq!(facts(None, Phase::Running, false, false).contribution(), Unscheduled);
        let on = |bucket, daemon_set| Node { node: "n1", bucket, daemon_set, host_network: daemon_set };
        assert_eq!(facts(n, Phase::Pending, false, false).contribution(), on(Bucket::Pending, false));
        assert_eq!(facts(n, Phase::Running, false, true).contribution(), on(Bucket::Running, true));
        assert_eq!(facts(n, Phase::Unknown, false, false).contribution(), on(Bucket::Unknown, false));
        assert_eq!(facts(n, Phase::Running, true, false).contribution(), on(Bucket::Terminating, false));
        assert_eq!(facts(n, Phase::Pending, true, false).contribution(), on(Bucket::Terminating, false));
    }

    #[test]
    fn phase_parse() {
        assert_eq!(Phase::parse(None), Phase::Pending);
        assert_eq!(Phase::parse(Some("Running")), Phase::Running);
        assert_eq!(Phase::parse(Some("Succeeded")), Phase::Succeeded);
        assert_eq!(Phase::parse(Some("Failed")), Phase::Failed);
        assert_eq!(Phase::parse(Some("Unknown")), Phase::Unknown);
        assert_eq!(Phase::parse(Some("SomethingNew")), Phase::Unknown);
    }

    #[test]
    fn only_a_controlling_daemon_set_makes_a_daemon_set_pod() {
        assert!(controlled_by_daemon_set([(Some("ReplicaSet"), None), (Some("DaemonSet"), Some(true))]));
        assert!(!controlled_by_daemon_set([(Some("DaemonSet"), None)]));
        assert!(!controlled_by_daemon_set([(Some("DaemonSet"), Some(false))]));
        assert!(!controlled_by_daemon_set([(None, Some(true))]));
        let f = PodFacts::read(Some(""), Some("Running"), false, [], Some(true));
        assert_eq!((f.node, f.phase, f.host_network), (None, Phase::Running, true));
    }
}
