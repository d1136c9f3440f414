//! `kubectl podcount bench` on a cluster of its own (a bench lists the whole
//! cluster; other tests' writes would make strategies disagree).

mod support;

use support::{Cluster, Options, json_of, podcount};

fn cluster() -> &'static Cluster {
    Cluster::shared(Options { nodes: 8, pods: 400, no_pod_watch_cache: false, feature_gates: "" })
}

#[test]
fn bench_runs_every_strategy_and_they_agree() {
    let c = cluster();
    let out = podcount(
        &c.kubeconfig,
        &[
            "bench",
            "--iterations",
            "1",
            "--chunk-sizes",
            "50,400",
            "--steady",
            "1s",
            "--decode",
            "full",
            "--probe",
            "--probe-samples",
            "5",
            "-o",
            "json",
        ],
    );
    let doc = json_of(&out);
    assert_eq!(doc["kind"], "PodCountBench");
    assert_eq!(doc["serverVersion"], "v1.37.2");
    let results = doc["results"].as_array().unwrap();
    let labels: Vec<&str> = results.iter().map(|r| r["label"].as_str().unwrap()).collect();
    for want in [
        "list (chunk 50)",
        "list (chunk 400)",
        "floor (chunk 50)",
        "list-cached (rv=0)",
        "per-node",
        "table (chunk 50)",
        "informer",
        "informer-streaming",
        "list (chunk 50, full Pod decode)",
    ] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
    for r in results {
        // The default apiserver serves WatchList: nothing is skipped.
        assert!(r["skipped"].is_null(), "{} skipped: {}", r["label"], r["skipped"]);
        assert!(r["disagrees"].is_null(), "{}: {}", r["label"], r["disagrees"]);
        assert!(r["requests"].as_u64().unwrap() >= 1 && r["bytes"].as_u64().unwrap() > 0, "{r}");
        assert!(r["peakRssKib"].as_u64().unwrap() > 0);
    }
    // Chunk 50 needs more requests than chunk 400; the Table API far fewer bytes.
    let get = |label: &str| results.iter().find(|r| r["label"] == label).unwrap();
    assert!(get("list (chunk 50)")["requests"].as_u64() > get("list (chunk 400)")["requests"].as_u64());
    assert!(
        get("table (chunk 50)")["bytes"].as_u64().unwrap() * 10 < get("list (chunk 50)")["bytes"].as_u64().unwrap()
    );
    assert!(get("informer")["storeBytesPerPod"].as_f64().unwrap() > 24.0);
    let probe = &doc["probe"];
    assert_eq!(probe["samples"], 5);
    assert!(probe["createP99Ms"].as_f64().unwrap() > 0.0, "{probe}");
    // The probe cleaned up its pods.
    let left = std::process::Command::new("kubectl")
        .args(["get", "pods", "-A", "--field-selector", "spec.nodeName!=", "-o", "name"])
        .env("KUBECONFIG", &c.kubeconfig)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&left.stdout).contains("probe-"), "probe pods left behind");
}

#[test]
fn request_timeout_bounds_each_strategy_run() {
    let c = cluster();
    let started = std::time::Instant::now();
    // The informer keeps watching for --steady after it syncs: 60 s, cut at 5 s.
    let args = ["bench", "--strategies", "informer", "--iterations", "1", "--steady", "60s", "--request-timeout", "5s"];
    let out = podcount(&c.kubeconfig, &args);
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("failed: timed out after 5s (--request-timeout)"), "{text}\n{}", support::stderr(&out));
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
}
