//! `--fits` against kube-scheduler itself (built from the same Go modules as
//! the apiserver, scheduler name `podcount-fits`, so it schedules only the
//! pods these tests make). For each case podcount says node N admits K more
//! of a shape; K+1 such pods pinned to N (nodeSelector on the hostname) are
//! then made: the scheduler must bind exactly K and leave one Pending with a
//! FailedScheduling event naming the same limit. Over the seeded cluster,
//! the sum of FITS must equal what the scheduler binds when flooded.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};
use support::{Cluster, Options, json_of, nodes_of, podcount, stderr};

const SEEDED: Options = Options {
    nodes: 16,
    pods: 1500,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: true,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};
const SCHEDULER: &str = "podcount-fits";

fn cluster() -> &'static Cluster {
    Cluster::shared(SEEDED)
}

/// A Ready node with these allocatable resources (pods, cpu, memory, gpus).
async fn node(client: &kube::Client, name: &str, res: Value, extra: Value) {
    labelled_node(client, name, res, extra, json!({})).await
}

async fn labelled_node(client: &kube::Client, name: &str, res: Value, extra: Value, labels: Value) {
    let api: Api<Node> = Api::all(client.clone());
    let mut n = json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "podcount.test/fits": "true"}},
        "spec": {}, "status": {"allocatable": res, "capacity": res, "conditions": [{"type": "Ready", "status": "True"}]}});
    for (k, v) in labels.as_object().unwrap() {
        n["metadata"]["labels"][k] = v.clone();
    }
    if let Some(spec) = extra.as_object() {
        for (k, v) in spec {
            n["spec"][k] = v.clone();
        }
    }
    api.create(&PostParams::default(), &serde_json::from_value(n).unwrap()).await.expect("create node");
}

/// A pod already on `node` (bound, no scheduler), with this spec.
async fn resident(client: &kube::Client, ns: &str, name: &str, node: &str, mut spec: Value) {
    spec["nodeName"] = json!(node);
    support::create_pod_json(client, ns, json!({"metadata": {"name": name}, "spec": spec})).await;
}

/// podcount's FITS and LIMITED BY for one node and one shape (`args` name it).
fn fits(c: &Cluster, node: &str, args: &[&str]) -> (u64, String) {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let out = podcount(&c.kubeconfig, &all);
    let doc = json_of(&out);
    let n = &nodes_of(&doc)[node];
    let (shape, more) = n["fits"].as_object().unwrap().iter().next().unwrap();
    (more.as_u64().unwrap(), n["fitsLimitedBy"][shape].as_str().unwrap().to_string())
}

/// What the scheduler's FailedScheduling message says for a limit.
fn says(limit: &str) -> String {
    match limit {
        "pods" => "Too many pods".into(),
        "cordoned" => "node(s) were unschedulable".into(),
        l if l.starts_with("taint ") => "node(s) had untolerated taint(s)".into(),
        resource => format!("Insufficient {resource}"),
    }
}

/// Makes `count` pods of `spec` for the scheduler, pinned to `node`, and
/// waits until it has bound what it will: returns (bound, the messages of
/// FailedScheduling events of the pods left Pending).
async fn flood(
    c: &Cluster,
    ns: &str,
    prefix: &str,
    node: Option<&str>,
    spec: &Value,
    count: u64,
) -> (u64, Vec<String>) {
    let client = c.client().await;
    for i in 0..count {
        let mut spec = spec.clone();
        spec["schedulerName"] = json!(SCHEDULER);
        if let Some(n) = node {
            spec["nodeSelector"] = json!({"kubernetes.io/hostname": n});
        }
        let pod = json!({"metadata": {"name": format!("{prefix}-{i}"), "labels": {"flood": prefix}}, "spec": spec});
        support::create_pod_json(&client, ns, pod).await;
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let lp = ListParams::default().labels(&format!("flood={prefix}"));
    let start = Instant::now();
    let mut last = (u64::MAX, Instant::now());
    loop {
        let list = pods.list(&lp).await.unwrap();
        let bound =
            list.items.iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()).count() as u64;
        let pending: Vec<String> = list
            .items
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none())
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        let refusals: Vec<Event> = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .filter(|e| e.involved_object.name.as_ref().is_some_and(|n| pending.contains(n)))
            .collect();
        let refused: BTreeSet<&str> = refusals.iter().filter_map(|e| e.involved_object.name.as_deref()).collect();
        // Settled: every pod bound or refused (a FailedScheduling event
        // names it), and the bound count unchanged for 3 s.
        let settled = bound + pending.len() as u64 == count && pending.iter().all(|p| refused.contains(p.as_str()));
        if bound != last.0 {
            last = (bound, Instant::now());
        } else if settled && last.1.elapsed() > Duration::from_secs(3) {
            return (bound, refusals.into_iter().filter_map(|e| e.message).collect());
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the scheduler did not settle: {bound} bound, {} pending",
            pending.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One case: podcount says K more fit on `node`; K+1 pods of `spec` go to
/// it; the scheduler binds K and says why not the last one.
async fn case(c: &Cluster, ns: &str, node: &str, args: &[&str], spec: Value, want: (u64, &str)) {
    let (k, limit) = fits(c, node, args);
    assert_eq!((k, limit.as_str()), want, "podcount's answer for {node}");
    let (bound, failed) = flood(c, ns, node, Some(node), &spec, k + 1).await;
    assert_eq!(bound, k, "the scheduler bound {bound} of {} on {node}; podcount said {k} ({limit})", k + 1);
    let reason = says(&limit);
    assert!(failed.iter().any(|m| m.contains(&reason)), "FailedScheduling on {node} names {reason:?}: {failed:?}");
}

fn requests(cpu: &str, memory: &str) -> Value {
    json!({"containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]})
}

#[tokio::test]
async fn each_limit_is_the_one_the_scheduler_hits() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("fits").await;
    let n = |what: &str| format!("{ns}-{what}");
    let res = |cpu: &str, memory: &str, pods: &str| json!({"cpu": cpu, "memory": memory, "pods": pods});

    // cpu: 2 cores, 500m used, 400m a pod: 3 more.
    node(&client, &n("cpu"), res("2", "8Gi", "110"), json!({})).await;
    resident(&client, &ns, "cpu-0", &n("cpu"), requests("500m", "64Mi")).await;
    case(c, &ns, &n("cpu"), &["--fits", "cpu=400m,memory=64Mi"], requests("400m", "64Mi"), (3, "cpu")).await;

    // memory: 1Gi, 100Mi used, 300Mi a pod: 3 more.
    node(&client, &n("mem"), res("8", "1Gi", "110"), json!({})).await;
    resident(&client, &ns, "mem-0", &n("mem"), requests("10m", "100Mi")).await;
    case(c, &ns, &n("mem"), &["--fits", "cpu=10m,memory=300Mi"], requests("10m", "300Mi"), (3, "memory")).await;

    // pod slots: 5, 2 used: 3 more.
    node(&client, &n("pods"), res("8", "8Gi", "5"), json!({})).await;
    for i in 0..2 {
        resident(&client, &ns, &format!("pods-{i}"), &n("pods"), requests("10m", "16Mi")).await;
    }
    case(c, &ns, &n("pods"), &["--fits", "cpu=10m,memory=16Mi"], requests("10m", "16Mi"), (3, "pods")).await;

    // GPUs: 4, 1 used: 3 more.
    let gpu = json!({"cpu": "8", "memory": "8Gi", "pods": "110", "nvidia.com/gpu": "4"});
    node(&client, &n("gpu"), gpu, json!({})).await;
    let gpu_pod = json!({"containers": [{"name": "app", "image": "a",
        "resources": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}}]});
    resident(&client, &ns, "gpu-0", &n("gpu"), gpu_pod.clone()).await;
    case(c, &ns, &n("gpu"), &["--fits", "nvidia.com/gpu=1"], gpu_pod, (3, "nvidia.com/gpu")).await;

    // Cordoned: none; the scheduler says unschedulable.
    node(&client, &n("cordoned"), res("8", "8Gi", "110"), json!({"unschedulable": true})).await;
    case(c, &ns, &n("cordoned"), &["--fits", "cpu=100m"], requests("100m", "16Mi"), (0, "cordoned")).await;

    // Tainted: none without a toleration; with --tolerate as many as cpu allows.
    let taint = json!({"taints": [{"key": "dedicated", "value": "fits", "effect": "NoSchedule"}]});
    node(&client, &n("tainted"), res("1", "8Gi", "110"), taint.clone()).await;
    case(c, &ns, &n("tainted"), &["--fits", "cpu=300m"], requests("300m", "16Mi"), (0, "taint dedicated")).await;
    node(&client, &n("tolerated"), res("1", "8Gi", "110"), taint).await;
    let mut tolerating = requests("300m", "16Mi");
    tolerating["tolerations"] =
        json!([{"key": "dedicated", "operator": "Equal", "value": "fits", "effect": "NoSchedule"}]);
    let args = ["--fits", "cpu=300m", "--tolerate", "dedicated=fits:NoSchedule"];
    case(c, &ns, &n("tolerated"), &args, tolerating, (3, "cpu")).await;
}

#[tokio::test]
async fn manifests_with_sidecars_init_containers_pod_level_resources_and_overhead() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("fits-pod").await;
    let n = |what: &str| format!("{ns}-{what}");
    let dir = std::env::temp_dir().join(format!("podcount-fits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // A Deployment whose pod has a native sidecar (100m) and an init
    // container larger than the app (600m): 700m a pod by the rule; on 2.5
    // cores free: 3 more (podcount must not say 5 from the app and sidecar
    // alone, nor 4 from the init container alone).
    node(&client, &n("sidecar"), json!({"cpu": "2500m", "memory": "8Gi", "pods": "110"}), json!({})).await;
    let spec = json!({"initContainers": [
            {"name": "proxy", "image": "p", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            {"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "600m", "memory": "64Mi"}}}],
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "200m", "memory": "64Mi"}}}]});
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 40, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}});
    let file = dir.join("web.yaml");
    std::fs::write(&file, serde_yaml::to_string(&deployment).unwrap()).unwrap();
    let f = file.to_string_lossy().to_string();
    case(c, &ns, &n("sidecar"), &["--fits-pod", &f], spec.clone(), (3, "cpu")).await;

    // Pod-level resources: cpu 1 a pod whatever the containers ask; 3.5 cores: 3 more.
    node(&client, &n("podlevel"), json!({"cpu": "3500m", "memory": "8Gi", "pods": "110"}), json!({})).await;
    let spec = json!({"resources": {"requests": {"cpu": "1", "memory": "256Mi"}},
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "100m"}}}]});
    let file = dir.join("podlevel.json");
    std::fs::write(&file, json!({"kind": "Pod", "metadata": {"name": "pl"}, "spec": spec}).to_string()).unwrap();
    let f = file.to_string_lossy().to_string();
    case(c, &ns, &n("podlevel"), &["--fits-pod", &f], spec, (3, "cpu")).await;

    // A node carrying pods with RuntimeClass overhead (250m each, from the
    // seeder's kata-lite): 2 of them take 2 x (250m + 250m) = 1 core of 2;
    // the shape also runs on kata-lite: 250m + 250m a pod: 2 more.
    node(&client, &n("overhead"), json!({"cpu": "2", "memory": "8Gi", "pods": "110"}), json!({})).await;
    let spec = json!({"runtimeClassName": "kata-lite",
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]});
    for i in 0..2 {
        resident(&client, &ns, &format!("oh-{i}"), &n("overhead"), spec.clone()).await;
    }
    let file = dir.join("overhead.yaml");
    std::fs::write(
        &file,
        serde_yaml::to_string(&json!({"kind": "Pod", "metadata": {"name": "oh"}, "spec": spec})).unwrap(),
    )
    .unwrap();
    let f = file.to_string_lossy().to_string();
    case(c, &ns, &n("overhead"), &["--fits-pod", &f], spec, (2, "cpu")).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_cluster_total_is_what_the_scheduler_binds_when_flooded() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let ns = c.namespace("flood").await;
    // Every node: the seeded ones and any other test has made (serial()
    // keeps them still meanwhile; their pending pods are pinned elsewhere).
    let out = podcount(&c.kubeconfig, &["--fits", "cpu=1,memory=2Gi", "-o", "json"]);
    let doc = json_of(&out);
    let total = doc["totals"]["fits"]["cpu=1,memory=2Gi"].as_u64().unwrap();
    assert!(total > 10, "the seed leaves room: {total}");
    let spec = requests("1", "2Gi");
    let (bound, failed) = flood(c, &ns, "flood", None, &spec, total + 5).await;
    assert_eq!(bound, total, "podcount said {total} more fit; the scheduler bound {bound}: {:?}", failed.first());
    // The --min-fits gate: exit 1 below, 0 at the total.
    let out = podcount(&c.kubeconfig, &["--fits", "cpu=1,memory=2Gi", "--min-fits", "1"]);
    assert_eq!(out.status.code(), Some(1), "nothing fits any more: {}", stderr(&out));
    assert!(
        stderr(&out).contains("cpu=1,memory=2Gi: 0 more fit in the cluster, fewer than --min-fits 1"),
        "{}",
        stderr(&out)
    );
    // The pods left Pending would be bound to the next node any later test
    // makes: take them away (unbound pods are deleted at once).
    let pods: Api<Pod> = Api::namespaced(c.client().await, &ns);
    let pending = ListParams::default().fields("spec.nodeName=");
    pods.delete_collection(&kube::api::DeleteParams::default(), &pending).await.unwrap();
    let start = Instant::now();
    while !pods.list(&pending).await.unwrap().items.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the pending flood pods outlived their deletion");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn bad_input_is_a_usage_error() {
    let c = cluster();
    for (args, says) in [
        (&["--fits", "cpu=abc"][..], "Kubernetes quantity"),
        (&["--fits", "cpu=0"], "more than zero"),
        (&["--fits", "gpus=1"], "not a resource a pod can request"),
        (&["--min-fits", "3"], "--min-fits goes with --fits"),
        (&["--fits-pod", "/nonexistent.yaml"], "cannot read it"),
        (&["--fits", "cpu=1", "--tolerate", "k=v:Sometimes"], "NoSchedule, PreferNoSchedule or NoExecute"),
        (&["--fits", "cpu=1", "-l", "app=web"], "-l leaves some out"),
    ] {
        let out = podcount(&c.kubeconfig, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: one line: {}", stderr(&out));
    }
    // A manifest that bears no pod.
    let file = std::env::temp_dir().join(format!("podcount-svc-{}.yaml", std::process::id()));
    std::fs::write(&file, "kind: Service\nmetadata: {name: s}\n").unwrap();
    let out = podcount(&c.kubeconfig, &["--fits-pod", &file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("(it has: Service)"), "{}", stderr(&out));
    std::fs::remove_file(&file).unwrap();
}

/// What the scheduler applies and --fits does not model (a generic
/// ephemeral volume here: each replica's claim is made with the pod) is
/// said once on stderr, and the document calls the answer a bound; pod
/// anti-affinity is modelled, and says nothing.
#[test]
fn unmodelled_scheduling_features_are_said_once() {
    let c = cluster();
    let file = std::env::temp_dir().join(format!("podcount-aff-{}.yaml", std::process::id()));
    let pod = json!({"kind": "Pod", "metadata": {"name": "aff"}, "spec": {
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "x"}}, "topologyKey": "kubernetes.io/hostname"}]}},
        "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}}}],
        "containers": [{"name": "a", "image": "a", "resources": {"requests": {"cpu": "100m"}}}]}});
    std::fs::write(&file, pod.to_string()).unwrap();
    let out = podcount(&c.kubeconfig, &["--fits-pod", &file.to_string_lossy(), "-o", "json"]);
    let err = stderr(&out);
    assert!(err.contains("note: Pod/aff: the answer is an upper bound: generic ephemeral volumes"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let doc = json_of(&out);
    assert_eq!(doc["shapes"][0]["requests"], json!({"cpu": 0.1}));
    assert_eq!(
        (doc["fits"]["aff"]["exact"].as_bool(), doc["fits"]["aff"]["boundBy"].as_array().map(Vec::len)),
        (Some(false), Some(1))
    );
    // Without the volume: modelled, exact, nothing said.
    let mut pod = pod;
    pod["spec"].as_object_mut().unwrap().remove("volumes");
    std::fs::write(&file, pod.to_string()).unwrap();
    let out = podcount(&c.kubeconfig, &["--fits-pod", &file.to_string_lossy(), "-o", "json"]);
    assert_eq!(stderr(&out), "");
    assert_eq!(json_of(&out)["fits"]["aff"]["exact"], true);
    std::fs::remove_file(&file).unwrap();
}

/// The value of a sample in a Prometheus text exposition, if present.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn watch_serves_fits_follows_pods_and_stops_below_the_floor() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("fits-watch").await;
    let (a, b) = (format!("{ns}-a"), format!("{ns}-b"));
    let labels = json!({"podcount.test/fits-watch": ns});
    labelled_node(&client, &a, json!({"cpu": "4", "memory": "16Gi", "pods": "110"}), json!({}), labels.clone()).await;
    labelled_node(&client, &b, json!({"cpu": "2", "memory": "16Gi", "pods": "110"}), json!({}), labels).await;
    let sel = format!("podcount.test/fits-watch={ns}");
    let shape = "web=cpu=1,memory=2Gi";
    let args = ["--fits", shape, "--node-selector", &sel, "--listen", "127.0.0.1:0", "--until-fits-below", "3"];
    let mut w = support::watcher::Watcher::start(&c.kubeconfig, &args);
    let url = w.listen_url();
    w = support::blocking(move || {
        w.synced();
        w
    })
    .await;
    let series = |node: &str| format!(r#"podcount_node_fits{{context="podcount-test",shape="web",node="{node}"}}"#);
    let total = r#"podcount_cluster_fits{context="podcount-test",shape="web"}"#;
    let served = |want: [f64; 3]| {
        let (url, sa, sb) = (url.clone(), series(&a), series(&b));
        support::blocking(move || {
            let start = Instant::now();
            loop {
                let (_, m) = support::http("GET", &url, "/metrics");
                let got = [sample(&m, &sa), sample(&m, &sb), sample(&m, total)];
                if got == want.map(Some) {
                    return;
                }
                assert!(start.elapsed() < Duration::from_secs(30), "/metrics fits {got:?}, want {want:?}:\n{m}");
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    served([4.0, 2.0, 6.0]).await;

    // count --from answers from it, as the List does; a shape it does not
    // compute falls back to a List, saying why.
    let from = podcount(&c.kubeconfig, &["--fits", shape, "--node-selector", &sel, "-o", "json", "--from", &url]);
    assert_eq!(stderr(&from), "", "answered from the watch");
    let listed = podcount(&c.kubeconfig, &["--fits", shape, "--node-selector", &sel, "-o", "json"]);
    for doc in [json_of(&from), json_of(&listed)] {
        assert_eq!(doc["totals"]["fits"]["web"], 6);
        assert_eq!(nodes_of(&doc)[&a]["fitsLimitedBy"]["web"], "cpu");
    }
    let other = podcount(&c.kubeconfig, &["--fits", "cpu=2", "--node-selector", &sel, "--from", &url]);
    assert!(
        stderr(&other).contains("it computes no fits for cpu=2 (start it with the same --fits)"),
        "{}",
        stderr(&other)
    );
    assert_eq!(other.status.code(), Some(0));

    // Pods arrive: 2 on a (2 left there), 1 on b (1 left): 3, not below 3.
    for (i, node) in [&a, &a, &b].into_iter().enumerate() {
        resident(&client, &ns, &format!("p{i}"), node, requests("1", "1Gi")).await;
    }
    served([2.0, 1.0, 3.0]).await; // it answers: still watching
    // One more on b: 2 fit, below 3: the watch ends with exit 1 and says why.
    resident(&client, &ns, "p3", &b, requests("1", "1Gi")).await;
    let (code, err) = support::blocking(move || (w.exit_code(Duration::from_secs(30)), w.stderr())).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("web: 2 more fit in the cluster, fewer than --until-fits-below 3 (limited by cpu on 2 nodes)"),
        "{err}"
    );
}
