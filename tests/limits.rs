//! Toward Kubernetes' published limits: 2,000 production-shaped nodes (about
//! 15 KB each as JSON: images, conditions, labels, annotations, taints) and
//! 60,000 pods, written straight into etcd by the seeder, on the real
//! apiserver with its watch cache. The counts, allocatable, requests and the
//! watch must be exact against the seeder's truth at this size too, where
//! the node List runs to several pages and the pod List to many.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use support::{Cluster, Options, json_of, nodes_of, podcount, stderr, watcher::Watcher};

const LARGE: Options = Options {
    nodes: 2000,
    pods: 60000,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: true,
    controllers: false,
    kubelets: false,
};

fn cluster() -> &'static Cluster {
    Cluster::shared(LARGE)
}

fn truth() -> &'static Value {
    cluster().truth.as_ref().expect("seeded cluster has a ground truth")
}

fn truth_nodes() -> &'static serde_json::Map<String, Value> {
    truth()["nodes"].as_object().unwrap()
}

/// A fast seed lands in etcd before the watch cache has caught up: until
/// then a consistent List may be answered 504. Counts once it answers.
fn settled_count(args: &[&str]) -> Value {
    let kc = &cluster().kubeconfig;
    for _ in 0..120 {
        let out = podcount(kc, args);
        if out.status.code() == Some(0) || out.status.code() == Some(1) {
            return json_of(&out);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("the apiserver never answered the count: {}", stderr(&podcount(kc, args)));
}

#[test]
fn count_is_exact_on_every_one_of_2000_nodes() {
    let doc = settled_count(&["-o", "json", "--resources", "cpu,memory"]);
    let nodes = nodes_of(&doc);
    assert_eq!(nodes.len(), truth_nodes().len(), "every node listed (the node List pages at 500)");
    assert_eq!(doc["totals"]["pods"], truth()["counted"]);
    assert_eq!(doc["unscheduled"], truth()["unscheduled"]);
    for (name, want) in truth_nodes() {
        let got = &nodes[name];
        assert_eq!(got["pods"], want["pods"], "pods on {name}");
        assert_eq!(got["allocatable"], want["allocatable"], "allocatable pods of {name}");
        let res = &want["resources"];
        // The truth leaves out a resource no pod there asks for.
        let cpu = (got["resources"]["cpu"]["requests"].as_f64().unwrap() * 1000.0).round() as i64;
        assert_eq!(cpu, res["requests"]["cpu"].as_i64().unwrap_or(0), "cpu requests on {name}");
        let memory = got["resources"]["memory"]["requests"].as_i64();
        assert_eq!(memory, Some(res["requests"]["memory"].as_i64().unwrap_or(0)), "memory requests on {name}");
        let alloc = (got["resources"]["cpu"]["allocatable"].as_f64().unwrap() * 1000.0).round() as i64;
        assert_eq!(Some(alloc), res["allocatable"]["cpu"].as_i64(), "allocatable cpu of {name}");
    }
    // The Table path and the JSON wire agree with it.
    let table = podcount(&cluster().kubeconfig, &["--no-headers"]);
    let rows: BTreeMap<String, u64> = String::from_utf8_lossy(&table.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            Some((f.next()?.to_string(), f.next()?.parse().ok()?))
        })
        .filter(|(n, _)| truth_nodes().contains_key(n))
        .collect();
    assert_eq!(rows.len(), truth_nodes().len(), "{}", stderr(&table));
    for (name, pods) in rows {
        assert_eq!(Some(pods), truth_nodes()[&name]["pods"].as_u64(), "table row of {name}");
    }
    let json_wire = nodes_of(&settled_count(&["-o", "json", "--wire", "json"]));
    assert_eq!(json_wire.len(), nodes.len());
    for (name, n) in &json_wire {
        assert_eq!(n["pods"], nodes[name]["pods"], "JSON wire against protobuf on {name}");
    }
}

#[test]
fn watch_syncs_exact_on_2000_nodes() {
    settled_count(&["-o", "json"]);
    let want: BTreeMap<String, u64> =
        truth_nodes().iter().map(|(k, v)| (k.clone(), v["pods"].as_u64().unwrap())).collect();
    let w = Watcher::start(&cluster().kubeconfig, &[]);
    w.synced();
    w.converges_to(&want, Duration::from_secs(30));
}
