//! One pod as counting sees it, packed in 4 bytes.

use crate::model::pod::{Contribution, Phase, PodFacts};

/// Bits of a slot that hold the interned node.
const NODE_BITS: u32 = 26;
/// No node: the slot of an unscheduled pod. (An interner never gets this
/// far: 67 million node names.)
pub(super) const NO_NODE: u32 = (1 << NODE_BITS) - 1;
/// The phase: 3 bits above the node.
const PHASE_SHIFT: u32 = NODE_BITS;
const PHASE_MASK: u32 = 0b111;
const TERMINATING: u32 = 1 << 29;
const DAEMON_SET: u32 = 1 << 30;
const HOST_NETWORK: u32 = 1 << 31;
// The fields do not overlap.
const _: () = assert!(PHASE_SHIFT + PHASE_MASK.count_ones() <= TERMINATING.trailing_zeros());

/// One pod as counting sees it, in 4 bytes: the interned node (26 bits),
/// the phase (3), terminating (1), daemon set (1), host network (1).
/// (The default, 0, is only a free table entry's filler.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Slot(u32);

impl Slot {
    /// `f`'s node is already interned as `node`.
    pub(super) fn new<N>(node: u32, f: &PodFacts<N>) -> Slot {
        let phase = match f.phase {
            Phase::Pending => 0,
            Phase::Running => 1,
            Phase::Succeeded => 2,
            Phase::Failed => 3,
            Phase::Unknown => 4,
        };
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        Slot(
            node.min(NO_NODE)
                | phase << PHASE_SHIFT
                | flag(f.terminating, TERMINATING)
                | flag(f.daemon_set, DAEMON_SET)
                | flag(f.host_network, HOST_NETWORK),
        )
    }

    /// The interned node, or [`NO_NODE`].
    pub(super) fn node(self) -> u32 {
        self.0 & NO_NODE
    }

    fn phase(self) -> Phase {
        match (self.0 >> PHASE_SHIFT) & PHASE_MASK {
            0 => Phase::Pending,
            1 => Phase::Running,
            2 => Phase::Succeeded,
            3 => Phase::Failed,
            _ => Phase::Unknown,
        }
    }

    pub(super) fn contribution(self) -> Contribution<u32> {
        PodFacts {
            node: (self.node() != NO_NODE).then_some(self.node()),
            phase: self.phase(),
            terminating: self.0 & TERMINATING != 0,
            daemon_set: self.0 & DAEMON_SET != 0,
            host_network: self.0 & HOST_NETWORK != 0,
        }
        .contribution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip() {
        let phases = [Phase::Pending, Phase::Running, Phase::Succeeded, Phase::Failed, Phase::Unknown];
        for node in [0, 1, 77, NO_NODE - 1, NO_NODE] {
            for phase in phases {
                for flags in 0..8 {
                    let (t, d, h) = (flags & 1 == 1, flags & 2 == 2, flags & 4 == 4);
                    let want = PodFacts {
                        node: (node != NO_NODE).then_some(node),
                        phase,
                        terminating: t,
                        daemon_set: d,
                        host_network: h,
                    };
                    let s = Slot::new(node, &want);
                    assert_eq!((s.node(), s.contribution()), (node, want.contribution()));
                }
            }
        }
    }
}
