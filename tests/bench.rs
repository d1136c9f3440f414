//! `kubectl podcount bench` on a cluster of its own (a bench lists the whole
//! cluster; other tests' writes would make strategies disagree).

mod support;

use support::{Cluster, Options, json_of, podcount};

fn cluster() -> &'static Cluster {
    Cluster::shared(Options {
        nodes: 8,
        pods: 400,
        no_pod_watch_cache: false,
        feature_gates: "",
        scheduler: false,
        fast_seed: false,
        controllers: false,
        kubelets: false,
    })
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
        "list (protobuf, chunk 50)",
        "list (json, chunk 400)",
        "floor (protobuf, chunk 50)",
        "floor (json, chunk 400)",
        "floor-table (chunk 50)",
        "list-cached (protobuf, rv=0)",
        "per-node (json)",
        "table (chunk 50)",
        "informer (protobuf, chunk 50)",
        "informer (json, chunk 50)",
        "informer-streaming (protobuf)",
        "list (json, chunk 50, full Pod decode)",
    ] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
    assert_eq!(doc["baseline"], "list (protobuf, chunk 50)");
    assert_eq!(doc["agreementBaseline"], "list (protobuf, chunk 50)");
    for r in results {
        // The default apiserver serves WatchList: nothing is skipped.
        assert!(r["skipped"].is_null(), "{} skipped: {}", r["label"], r["skipped"]);
        assert!(r["failed"].is_null(), "{} failed: {}", r["label"], r["failed"]);
        // Machine-readable fields besides the label.
        let wire = r["wire"].as_str().unwrap();
        assert!(r["label"].as_str().unwrap().starts_with(r["strategy"].as_str().unwrap()), "{r}");
        assert!(r["chunkSize"].as_u64().unwrap() >= 50, "{r}");
        assert!(wire == "protobuf" || wire == "json", "{r}");
        assert!(["none", "lean", "full", "table-rows"].contains(&r["decode"].as_str().unwrap()), "{r}");
        assert!(r["disagrees"].is_null(), "{}: {}", r["label"], r["disagrees"]);
        assert!(r["requests"].as_u64().unwrap() >= 1 && r["bytes"].as_u64().unwrap() > 0, "{r}");
        assert!(r["peakRssKib"].as_u64().unwrap() > 0);
    }
    // Chunk 50 needs more requests than chunk 400; the Table API far fewer bytes.
    let get = |label: &str| results.iter().find(|r| r["label"] == label).unwrap();
    assert!(
        get("list (protobuf, chunk 50)")["requests"].as_u64() > get("list (protobuf, chunk 400)")["requests"].as_u64()
    );
    assert!(
        get("table (chunk 50)")["bytes"].as_u64().unwrap() * 10
            < get("list (protobuf, chunk 50)")["bytes"].as_u64().unwrap()
    );
    // Protobuf puts fewer bytes on the wire than JSON, for the same pods.
    assert!(get("list (protobuf, chunk 50)")["bytes"].as_u64() < get("list (json, chunk 50)")["bytes"].as_u64());
    // The floor and its list make the same requests; the floor decodes none.
    let (list, floor) = (get("list (protobuf, chunk 50)"), get("floor (protobuf, chunk 50)"));
    assert_eq!(
        (list["requests"].as_u64(), list["bytes"].as_u64()),
        (floor["requests"].as_u64(), floor["bytes"].as_u64())
    );
    assert!(floor["disagrees"].is_null() && list["overFloor"].as_f64().unwrap() > 0.0);
    // Measured from the heap, not computed: a store entry is at least its
    // 24-byte key and slot.
    let informer = get("informer (protobuf, chunk 50)");
    assert!(informer["storeBytesPerPod"].as_f64().unwrap() > 16.0, "{informer}");
    assert_eq!(informer["storePods"], doc["countedPods"], "the store tracks every unfinished pod");
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
    let args = [
        "bench",
        "--strategies",
        "informer",
        "--chunk-sizes",
        "500",
        "--iterations",
        "1",
        "--steady",
        "60s",
        "--request-timeout",
        "5s",
    ];
    let out = podcount(&c.kubeconfig, &args);
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("failed: timed out after 5s (--request-timeout)"), "{text}\n{}", support::stderr(&out));
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    // A strategy that failed fails the bench, saying which.
    assert_eq!(out.status.code(), Some(3));
    let err = support::stderr(&out);
    assert!(err.starts_with("error: 2 strategies failed: informer (protobuf, chunk 500): timed out"), "{err}");
}

/// Floors count nothing: with no `list` in the run, ratios are against the
/// first strategy and agreement against the first that counts, never a floor.
#[test]
fn floors_are_never_the_agreement_baseline() {
    let c = cluster();
    let args = ["bench", "--strategies", "floor,table", "--iterations", "1", "--chunk-sizes", "100", "-o", "json"];
    let out = podcount(&c.kubeconfig, &args);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let doc = json_of(&out);
    assert_eq!(doc["baseline"], "floor (protobuf, chunk 100)");
    assert_eq!(doc["agreementBaseline"], "table (chunk 100)");
    let results = doc["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["disagrees"].is_null()), "{results:?}");
    let table = results.iter().find(|r| r["label"] == "table (chunk 100)").unwrap();
    assert!(table["overFloor"].is_null(), "table's floor is floor-table, not in this run: {table}");
}
