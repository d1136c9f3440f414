//! The protobuf decoder and the JSON decoder agree: the seeder's pods (its
//! edge cases: every phase, terminating, DaemonSet-owned, mirror, unbound),
//! encoded by apimachinery's own JSON and protobuf serializers
//! (`tests/cluster/ctl pod-lists`, built from the test bed's Go modules),
//! give the same counting facts for every pod, however the bytes arrive.

use std::collections::{BTreeMap, BTreeSet};

use super::proto::{DecodeError, ListSplitter};
use super::split::Splitter;
use super::{Item, LeanPod};
use crate::test_oracle::ctl;

/// uid -> (node, phase, terminating, DaemonSet-owned).
type Facts = BTreeMap<String, (Option<String>, String, bool, bool)>;

fn facts(into: &mut Facts, item: Item<'_>) {
    let p = LeanPod::decode(item).unwrap();
    let f = p.facts();
    let fact = (f.node.map(String::from), format!("{:?}", f.phase), f.terminating, f.daemon_set);
    into.insert(p.uid().to_string(), fact);
}

#[test]
fn protobuf_and_json_decoders_agree_on_the_seeders_pods() {
    let dir = std::env::temp_dir().join(format!("podcount-pod-lists-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = ctl().args(["pod-lists", "--out"]).arg(&dir).output().expect("run tests/cluster/ctl pod-lists");
    assert!(out.status.success(), "tests/cluster/ctl pod-lists: {}", String::from_utf8_lossy(&out.stderr));
    let json = std::fs::read(dir.join("pods.json")).unwrap();
    let pb = std::fs::read(dir.join("pods.pb")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(pb.starts_with(b"k8s\0") && pb.len() < json.len(), "protobuf {} bytes, JSON {}", pb.len(), json.len());

    let mut from_json = Facts::new();
    let mut split = Splitter::new();
    split
        .feed::<DecodeError>(&json, |i| {
            facts(&mut from_json, Item::Json(i));
            Ok(())
        })
        .unwrap();
    assert!(split.done());
    for chunk_size in [1, 1021, pb.len()] {
        let mut from_pb = Facts::new();
        let mut split = ListSplitter::new();
        // In odd-sized chunks, as bytes arrive off the network.
        for chunk in pb.chunks(chunk_size) {
            split
                .feed::<DecodeError>(chunk, |i| {
                    facts(&mut from_pb, Item::Proto(i));
                    Ok(())
                })
                .unwrap();
        }
        assert!(split.done());
        assert_eq!(from_pb, from_json, "protobuf in chunks of {chunk_size}");
    }
    assert_eq!(from_json.len(), 1500);
    let unbound = from_json.values().filter(|f| f.0.is_none()).count();
    let terminating = from_json.values().filter(|f| f.2).count();
    let daemon_sets = from_json.values().filter(|f| f.3).count();
    let phases: BTreeSet<&str> = from_json.values().map(|f| f.1.as_str()).collect();
    assert!(
        unbound > 0 && terminating > 0 && daemon_sets > 0 && phases.len() >= 4,
        "edge cases: {unbound} unbound, {terminating} terminating, {daemon_sets} DaemonSet, phases {phases:?}"
    );
}
