//! `kubectl-podcount bench-store`: what the watch's pod store holds a pod,
//! measured (live heap bytes, counting allocator) at any number of pods,
//! with no cluster: the store is filled the way an informer fills it, one
//! pod at a time, with random version-4 UIDs and the test bed's node names
//! (30 pods a node, about one pod in twelve finished). It draws the curve
//! between the sizes a cluster run measures.

use serde::Serialize;

use crate::memory;
use crate::model::pod::{Phase, PodFacts};
use crate::model::requests::Demand;
use crate::model::store::{PodStore, uid_key};
use crate::rng::Rng;

const PODS_PER_NODE: usize = 30;

/// One size's measurement.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    pub pods: usize,
    pub nodes: usize,
    pub resources: bool,
    /// Live heap the filled store holds.
    pub bytes: usize,
    pub bytes_per_pod: f64,
    /// Of which the pod map's entries.
    pub map_bytes: usize,
}

/// A version-4 UID as the apiserver writes it.
fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    // Version 4 in the 13th hex digit, variant 10 in the 17th's top bits.
    let a = (a & !(0xF << 12)) | (0x4 << 12);
    let b = (b & !(0b11 << 62)) | (0b10 << 62);
    let h = format!("{a:016x}{b:016x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The store filled with `pods` pods; None without the counting allocator.
pub fn measure(pods: usize, resources: bool) -> Option<Point> {
    let nodes = pods.div_ceil(PODS_PER_NODE).max(1);
    let names: Vec<String> = (0..nodes)
        .map(|i| format!("ip-10-{}-{}-{}.us-west-2.compute.internal", 16 + i / 65536 % 16, i / 256 % 256, i % 256))
        .collect();
    let uids: Vec<String> = {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ pods as u64);
        (0..pods).map(|_| uuid(&mut rng)).collect()
    };
    let before = memory::live_bytes()?;
    let mut store = if resources { PodStore::with_resources() } else { PodStore::new() };
    for (i, uid) in uids.iter().enumerate() {
        let phase = if i % 12 == 11 { Phase::Succeeded } else { Phase::Running };
        let facts = PodFacts {
            node: Some(names[i / PODS_PER_NODE].as_str()),
            phase,
            terminating: false,
            daemon_set: i % PODS_PER_NODE < 4,
            host_network: false,
        };
        // Twenty request shapes, as a cluster's few Deployments make.
        let shape = (i % 20) as i64;
        let demand =
            Demand { requests: vec![("cpu", 100 + shape * 50), ("memory", (128 + shape * 64) << 20)], limits: vec![] };
        store.apply_with(uid_key(uid), facts, resources.then_some(&demand));
    }
    let bytes = memory::live_bytes()?.saturating_sub(before);
    let map_bytes = store.allocated_bytes();
    drop(std::hint::black_box(store));
    Some(Point { pods, nodes, resources, bytes, bytes_per_pod: bytes as f64 / pods as f64, map_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_version_4_and_distinct() {
        let mut rng = Rng(1);
        let a = uuid(&mut rng);
        let b = uuid(&mut rng);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4", "{a}");
    }
}
