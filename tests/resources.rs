//! Requests, limits and allocatable per node and resource, on the real
//! apiserver (watch cache on), against oracles that share no code with
//! podcount: kube-scheduler's own accounting (`tests/cluster/ctl requests`:
//! framework.NodeInfo over the live pods, which calls component-helpers
//! PodRequests with this release's options; PodLimits with the same), and
//! the seeder's truth (the same accounting over the pods it built). The
//! seeded pods carry every shape the rule distinguishes: native sidecars,
//! init containers larger than the app, pod-level resources, RuntimeClass
//! overhead, BestEffort, GPUs, pods mid-resize and one Infeasible.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use support::{Cluster, Options, json_of, nodes_of, podcount, stderr};

const SEEDED: Options = Options {
    nodes: 16,
    pods: 1500,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};

fn cluster() -> &'static Cluster {
    Cluster::shared(SEEDED)
}

/// An amount of a podcount document in the oracle's units (cpu millicores).
fn units(resource: &str, v: &Value) -> Option<i64> {
    if v.is_null() {
        return None;
    }
    Some(if resource == "cpu" { (v.as_f64().unwrap() * 1000.0).round() as i64 } else { v.as_i64().unwrap() })
}

/// `{node: {resource: (requests, limits, allocatable)}}` of a document.
type Table = BTreeMap<String, BTreeMap<String, (i64, Option<i64>, Option<i64>)>>;

fn of_document(doc: &Value) -> Table {
    nodes_of(doc)
        .into_iter()
        .map(|(name, n)| {
            let res = n["resources"].as_object().unwrap_or_else(|| panic!("{name} has no resources"));
            let rows = res
                .iter()
                .map(|(r, v)| {
                    (
                        r.clone(),
                        (units(r, &v["requests"]).unwrap(), units(r, &v["limits"]), units(r, &v["allocatable"])),
                    )
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// The same from the oracle, for the resources `names` (absent is 0: a
/// listed node that reports none of a resource has none, as the scheduler
/// reads it).
fn of_oracle(o: &Value, nodes: impl IntoIterator<Item = String>, names: &BTreeSet<String>) -> Table {
    nodes
        .into_iter()
        .map(|node| {
            let n = &o["nodes"][&node];
            let rows = names
                .iter()
                .map(|r| {
                    let get = |f: &str| n[f][r].as_i64();
                    (
                        r.clone(),
                        (
                            get("requests").unwrap_or(0),
                            Some(get("limits").unwrap_or(0)),
                            Some(get("allocatable").unwrap_or(0)),
                        ),
                    )
                })
                .collect();
            (node, rows)
        })
        .collect()
}

fn all_names(o: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for n in o["nodes"].as_object().unwrap().values() {
        for f in ["requests", "limits", "allocatable"] {
            names.extend(n[f].as_object().into_iter().flatten().map(|(k, _)| k.clone()));
        }
    }
    names.remove("pods");
    names
}

#[tokio::test]
async fn requests_and_limits_equal_the_schedulers_accounting_on_every_node() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let oracle = support::oracle_requests(&c.kubeconfig, None, None);
    assert_eq!(oracle["options"]["UseStatusResources"], true, "the bed's scheduler options: {}", oracle["options"]);
    let names = all_names(&oracle);
    for want in ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu", "hugepages-2Mi"] {
        assert!(names.contains(want), "the seed covers {want}: {names:?}");
    }
    for wire in ["protobuf", "json"] {
        let doc = json_of(&podcount(&c.kubeconfig, &["--resources", "all", "--limits", "-o", "json", "--wire", wire]));
        let got = of_document(&doc);
        let want = of_oracle(&oracle, got.keys().cloned(), &names);
        for (node, rows) in &want {
            assert_eq!(&got[node], rows, "node {node} over {wire}");
        }
        assert_eq!(got.len(), oracle["nodes"].as_object().unwrap().len());
    }
    // The seeder's truth: the same accounting over the pods as it built them.
    let truth = c.truth.as_ref().unwrap();
    for (node, t) in truth["nodes"].as_object().unwrap() {
        for f in ["requests", "limits", "allocatable"] {
            assert_eq!(t["resources"][f], oracle["nodes"][node][f], "truth vs oracle: {node} {f}");
        }
    }
    // Every shape is on the bed, seen by the oracle as by us: GPU pods, and
    // a node whose cpu is mostly native sidecars and init containers is
    // not needed to prove it; the totals are.
    let doc = json_of(&podcount(&c.kubeconfig, &["--resources", "-o", "json"]));
    let total = &doc["totals"]["resources"];
    let sum = |r: &str| -> i64 {
        oracle["nodes"].as_object().unwrap().values().map(|n| n["requests"][r].as_i64().unwrap_or(0)).sum()
    };
    assert_eq!(units("cpu", &total["cpu"]["requests"]), Some(sum("cpu")));
    assert_eq!(units("memory", &total["memory"]["requests"]), Some(sum("memory")));
    assert_eq!(units("nvidia.com/gpu", &total["nvidia.com/gpu"]["requests"]), Some(sum("nvidia.com/gpu")));
    let shown: Vec<&String> = doc["nodes"][0]["resources"].as_object().unwrap().keys().collect();
    assert_eq!(shown, ["cpu", "memory", "nvidia.com/gpu"], "bare --resources: cpu, memory and extended resources");
}

#[tokio::test]
async fn each_shape_of_pod_is_accounted_as_the_scheduler_does() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("shapes").await;
    let node = format!("{ns}-node");
    support::create_node(&client, &node, 110, true, true).await;
    let sidecar =
        json!({"name": "proxy", "image": "p", "restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}});
    let pods = [
        // sidecar 100m, then init 200m, app 100m: 300m (kubernetes/website#57373).
        json!({"initContainers": [sidecar, {"name": "init", "image": "i", "resources": {"requests": {"cpu": "200m"}}}],
               "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "100m"}}}]}),
        // Pod-level resources only (what describe node shows as 0 before 1.36).
        json!({"resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
               "containers": [{"name": "app", "image": "a"}]}),
        // Sub-millicore requests round up once per pod: 0.5m + 0.5m = 1m.
        json!({"containers": [{"name": "a", "image": "a", "resources": {"requests": {"cpu": "500u"}}},
                              {"name": "b", "image": "b", "resources": {"requests": {"cpu": "0.5m", "memory": "1e3"}}}]}),
        // BestEffort.
        json!({"containers": [{"name": "app", "image": "a"}]}),
    ];
    for (i, spec) in pods.iter().enumerate() {
        let mut spec = spec.clone();
        spec["nodeName"] = json!(node);
        support::create_pod_json(&client, &ns, json!({"metadata": {"name": format!("p{i}")}, "spec": spec})).await;
    }
    let oracle = support::oracle_requests(&c.kubeconfig, Some(&ns), None);
    let want = &oracle["nodes"][&node]["requests"];
    // (The apiserver stores each 0.5m as 1m: the once-per-pod rounding is
    // in the unit tests; here every container's value is already whole.)
    assert_eq!(want, &json!({"cpu": 1302, "memory": 2147484648_i64}), "the oracle itself");
    let doc = json_of(&podcount(&c.kubeconfig, &["-n", &ns, "--resources", "cpu,memory", "-o", "json"]));
    let n = &nodes_of(&doc)[&node];
    assert_eq!(n["resources"]["cpu"]["requests"], 1.302);
    assert_eq!(n["resources"]["memory"]["requests"], 2147484648_i64);
    assert_eq!(n["resources"]["cpu"]["allocatable"], 4, "the node allocates 4 cores");
}

#[tokio::test]
async fn thresholds_per_resource_breach_exactly_where_the_oracle_says() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let oracle = support::oracle_requests(&c.kubeconfig, None, None);
    let mut want = BTreeSet::new();
    for (node, n) in oracle["nodes"].as_object().unwrap() {
        let (req, alloc) = (n["requests"]["cpu"].as_i64().unwrap_or(0), n["allocatable"]["cpu"].as_i64());
        if let Some(a) = alloc.filter(|a| *a > 0)
            && req * 100 > 80 * a
        {
            want.insert(format!("{node} cpu"));
        }
        let (req, alloc) = (n["requests"]["memory"].as_i64().unwrap_or(0), n["allocatable"]["memory"].as_i64());
        if let Some(a) = alloc
            && a - req < 40 << 30
        {
            want.insert(format!("{node} memory"));
        }
    }
    assert!(!want.is_empty(), "the seed puts some node over 80% cpu or under 40Gi memory");
    let out = podcount(&c.kubeconfig, &["--max-saturation", "cpu=80%", "--min-free", "memory=40Gi", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let got: BTreeSet<String> = err
        .lines()
        .filter_map(|l| {
            let node = l.strip_prefix("node ")?.split(' ').next()?;
            let what = if l.contains("saturated in cpu") {
                "cpu"
            } else if l.contains(" memory free ") {
                "memory"
            } else {
                return None;
            };
            Some(format!("{node} {what}"))
        })
        .collect();
    assert_eq!(got, want, "{err}");
    assert!(
        err.lines().all(|l| l.contains("above --max-saturation cpu=80%") || l.contains("below --min-free memory=40Gi")),
        "{err}"
    );
    // Nothing above 100% of pods: exit 0 with the pod threshold alone.
    let out = podcount(&c.kubeconfig, &["--max-saturation", "pods=100%"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn bad_input_is_a_usage_error_naming_what_to_do() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let out = podcount(&c.kubeconfig, &["--resources", "nvdia.com/gpu"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("--resources nvdia.com/gpu: no node allocates it and no pod requests it"), "{err}");
    assert!(
        err.contains("the cluster has: ") && err.contains("nvidia.com/gpu") && err.contains("hugepages-2Mi"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    for (args, says) in [
        (&["--max-saturation", "cpu=abc"][..], "cpu=abc: expected a percentage"),
        (&["--min-free", "memory=8GB"], "Kubernetes quantity"),
        (&["--limits"], "--limits goes with --resources"),
        (&["--resources", "--method", "table"], "--method table reads no pod objects"),
    ] {
        let out = podcount(&c.kubeconfig, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn table_csv_and_yaml_say_what_the_json_says() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let doc = json_of(&podcount(&c.kubeconfig, &["--resources", "-o", "json"]));
    let nodes = nodes_of(&doc);
    // YAML: the same document.
    let out = podcount(&c.kubeconfig, &["--resources", "-o", "yaml"]);
    let yaml: Value = serde_yaml::from_slice(&out.stdout).unwrap();
    assert_eq!(yaml["nodes"], doc["nodes"]);
    // CSV: the JSON's numbers, a column per field.
    let out = podcount(&c.kubeconfig, &["--resources", "-o", "csv"]);
    let rows = support::csv_rows(&out.stdout);
    assert_eq!(rows.len(), nodes.len());
    for cells in &rows {
        let n = &nodes[&cells["name"]]["resources"];
        for (r, f) in
            [("cpu", "requests"), ("memory", "free"), ("nvidia.com/gpu", "allocatable"), ("cpu", "saturation")]
        {
            let json = &n[r][f];
            let csv = &cells[&format!("{r}.{f}")];
            assert_eq!(csv, &if json.is_null() { String::new() } else { json.to_string() }, "{r}.{f}");
        }
    }
    // The table: `requests/allocatable` and a percent per resource, in the
    // units people read.
    let out = podcount(&c.kubeconfig, &["--resources", "--sort-by", "name"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[5..], ["CPU", "CPU%", "MEMORY", "MEMORY%", "GPU", "GPU%"]);
    let gpus = |n: &Value| n["resources"]["nvidia.com/gpu"]["allocatable"].as_i64().unwrap();
    let gpu_node = nodes.iter().find(|(_, n)| gpus(n) > 0).unwrap();
    let line = text.lines().find(|l| l.starts_with(gpu_node.0.as_str())).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    let g = &gpu_node.1["resources"]["nvidia.com/gpu"];
    assert_eq!(cells[9], format!("{}/{}", g["requests"], g["allocatable"]), "{line}");
    // A node with no GPUs has none: `<none>` in the table and wide, 0 in
    // JSON and CSV; unknown stays `-` and null (the RBAC test below).
    let (plain, _) = nodes.iter().find(|(_, n)| gpus(n) == 0).unwrap();
    let line = text.lines().find(|l| l.starts_with(plain.as_str())).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[9..11], ["<none>", "<none>"], "{line}");
    let csv = rows.iter().find(|r| &r["name"] == plain).unwrap();
    assert_eq!((csv["nvidia.com/gpu.allocatable"].as_str(), csv["nvidia.com/gpu.saturation"].as_str()), ("0", ""));
    let wide = String::from_utf8(podcount(&c.kubeconfig, &["--resources", "-o", "wide"]).stdout).unwrap();
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    let at = header.iter().position(|h| *h == "GPU").unwrap();
    let line = wide.lines().find(|l| l.starts_with(plain.as_str())).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[at..at + 2], ["<none>", "<none>"], "{line}");
    assert!(text.contains("\nrequested: cpu "), "{text}");
}

#[tokio::test]
async fn without_node_access_requests_stay_exact_and_allocatable_unknown() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("rbac-res").await;
    let node = "node-0001".to_string();
    for i in 0..3 {
        let spec = json!({"nodeName": node, "containers": [{"name": "app", "image": "a",
            "resources": {"requests": {"cpu": format!("{}m", 100 * (i + 1)), "memory": "64Mi"}}}]});
        support::create_pod_json(&client, &ns, json!({"metadata": {"name": format!("p{i}")}, "spec": spec})).await;
    }
    let kc = support::grant_in(c, "res-reader", &ns, &["pods"], &["get", "list", "watch"]).await;
    let out =
        support::podcount_after_rbac(&kc, &["-n", &ns, "--resources", "cpu,memory", "-o", "json"], "cannot list pods");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json_of(&out);
    let n = &nodes_of(&doc)[&node]["resources"];
    assert_eq!((n["cpu"]["requests"].clone(), n["memory"]["requests"].clone()), (json!(0.6), json!((3 * 64) << 20)));
    assert!(n["cpu"]["allocatable"].is_null() && n["cpu"]["free"].is_null() && n["cpu"]["saturation"].is_null());
    let oracle = support::oracle_requests(&c.kubeconfig, Some(&ns), None);
    assert_eq!(oracle["nodes"][&node]["requests"]["cpu"], 600);
    let out = podcount(&kc, &["-n", &ns, "--max-saturation", "cpu=90%"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--max-saturation needs the node list"), "{}", stderr(&out));
}

/// A node with cpu, memory and GPUs to allocate.
async fn gpu_node(client: &kube::Client, name: &str) {
    use k8s_openapi::api::core::v1::Node;
    let api: kube::Api<Node> = kube::Api::all(client.clone());
    let res = json!({"pods": "110", "cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "4"});
    let node = json!({"metadata": {"name": name}, "status": {"allocatable": res, "capacity": res,
        "conditions": [{"type": "Ready", "status": "True"}]}});
    api.create(&Default::default(), &serde_json::from_value(node).unwrap()).await.expect("create node");
}

/// What the oracle says a namespace's pods request, per (node, resource),
/// in base units (cores, bytes, devices), zeros left out.
fn oracle_requests_base(c: &Cluster, ns: &str, nodes: &[String]) -> BTreeMap<(String, String), f64> {
    let o = support::oracle_requests(&c.kubeconfig, Some(ns), None);
    let mut out = BTreeMap::new();
    for node in nodes {
        for (r, v) in o["nodes"][node]["requests"].as_object().into_iter().flatten() {
            let v = v.as_f64().unwrap();
            out.insert((node.clone(), r.clone()), if r == "cpu" { v / 1000.0 } else { v });
        }
    }
    out
}

#[tokio::test]
async fn watch_serving_and_from_follow_churn_that_changes_requests() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("watch-res").await;
    let nodes = vec![format!("{ns}-a"), format!("{ns}-b")];
    for n in &nodes {
        gpu_node(&client, n).await;
    }
    let w = support::watcher::Watcher::start(&c.kubeconfig, &["-n", &ns, "--resources", "--listen", "127.0.0.1:0"]);
    let url = w.listen_url();
    support::blocking({
        let w_seen = w.seen.clone();
        move || {
            let start = std::time::Instant::now();
            while !w_seen.lock().unwrap().synced {
                assert!(start.elapsed() < std::time::Duration::from_secs(60), "watch never synced");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    })
    .await;
    // Churn: pods of every shape come, some resize, finish or go.
    let shape = |i: usize| -> Value {
        let app = json!({"name": "app", "image": "a", "resources": {"requests": {"cpu": format!("{}m", 50 * (i % 4 + 1)), "memory": "128Mi"}}});
        match i % 5 {
            0 => json!({"containers": [app]}),
            1 => json!({"initContainers": [{"name": "proxy", "image": "p", "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}], "containers": [app]}),
            2 => {
                json!({"initContainers": [{"name": "migrate", "image": "m", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
                    "containers": [app]})
            }
            3 => {
                json!({"resources": {"requests": {"cpu": "500m", "memory": "512Mi"}}, "containers": [{"name": "app", "image": "a"}]})
            }
            _ => {
                json!({"containers": [{"name": "app", "image": "a", "resources": {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}}]})
            }
        }
    };
    for i in 0..24 {
        let mut spec = shape(i);
        spec["nodeName"] = json!(nodes[i % 2]);
        support::create_pod_json(&client, &ns, json!({"metadata": {"name": format!("p{i}")}, "spec": spec})).await;
    }
    // Resize: the kubelet allocated 2 cores to p0's app, actuated 1.5.
    support::set_status_json(
        &client,
        &ns,
        "p0",
        json!({"phase": "Running", "containerStatuses": [{"name": "app", "image": "a",
        "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}},
        "allocatedResources": {"cpu": "2", "memory": "128Mi"}, "resources": {"requests": {"cpu": "1500m"}}}]}),
    )
    .await;
    for i in [3, 8, 13] {
        support::set_phase(&client, &ns, &format!("p{i}"), "Succeeded").await;
    }
    for i in [5, 10] {
        support::delete_pod(&client, &ns, &format!("p{i}"), false).await;
    }
    let want = oracle_requests_base(c, &ns, &nodes);
    assert!(want[&(nodes[0].clone(), "cpu".to_string())] > 2.0, "p0's resize counts");
    let counts = support::kubectl_counts(&c.kubeconfig, &ns);
    let w = support::blocking(move || {
        w.converges_to(&counts, std::time::Duration::from_secs(30));
        w.wait_for("requests equal to the scheduler's accounting", std::time::Duration::from_secs(30), |s| {
            let got: BTreeMap<(String, String), f64> =
                s.requests.iter().filter(|(_, v)| **v != 0.0).map(|(k, v)| (k.clone(), *v)).collect();
            got == want
        });
        assert!(w.seen.lock().unwrap().broken.is_empty(), "{:?}", w.seen.lock().unwrap().broken);
        w
    })
    .await;
    let want = oracle_requests_base(c, &ns, &nodes);
    // /v1/podcount: the same, with allocatable.
    let (status, body) = support::http("GET", &url, "/v1/podcount");
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    for ((node, r), v) in &want {
        let served = &nodes_of(&doc)[node]["resources"][r];
        assert_eq!(served["requests"].as_f64(), Some(*v), "/v1/podcount {node} {r}");
    }
    assert_eq!(nodes_of(&doc)[&nodes[0]]["resources"]["nvidia.com/gpu"]["allocatable"], 4);
    // /metrics: kube-state-metrics' conventions.
    let (_, metrics) = support::http("GET", &url, "/metrics");
    for ((node, r), v) in &want {
        let unit = match r.as_str() {
            "cpu" => "core",
            "memory" => "byte",
            _ => "integer",
        };
        let line = format!(
            r#"podcount_node_resource_requests{{context="podcount-test",node="{node}",resource="{r}",unit="{unit}"}} "#
        );
        let sample =
            metrics.lines().find_map(|l| l.strip_prefix(&line)).unwrap_or_else(|| panic!("{line} in\n{metrics}"));
        assert_eq!(sample.parse::<f64>().unwrap(), *v, "{line}");
    }
    // count --from answers from it, exactly, without a warning; with a
    // resource it does not have a warning names why, and the List answers.
    let out = podcount(&c.kubeconfig, &["-n", &ns, "--resources", "-o", "json", "--from", &url]);
    assert_eq!(stderr(&out), "", "answered from the watch");
    let from = of_document(&json_of(&out));
    let listed = of_document(&json_of(&podcount(&c.kubeconfig, &["-n", &ns, "--resources", "-o", "json"])));
    assert_eq!(from, listed);
    let out = podcount(&c.kubeconfig, &["-n", &ns, "--resources", "--limits", "--from", &url]);
    assert!(
        stderr(&out).contains("it tracks no limits (start it with --limits); counting with a List instead"),
        "{}",
        stderr(&out)
    );
    drop(w);
}

/// `--sort-by cpu`: nodes by cpu requested over allocatable, fullest first,
/// with the CPU column shown even without `--resources`; `--sort-by
/// nvidia.com/gpu` puts the nodes without GPUs last. Checked against the
/// oracle's own numbers, not against our document.
#[tokio::test]
async fn sort_by_a_resource_orders_by_its_requested_share() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let oracle = support::oracle_requests(&c.kubeconfig, None, None);
    let share = |node: &str, r: &str| -> Option<f64> {
        let n = &oracle["nodes"][node];
        let a = n["allocatable"][r].as_i64().filter(|a| *a > 0)?;
        Some(n["requests"][r].as_i64().unwrap_or(0) as f64 / a as f64)
    };
    for resource in ["cpu", "memory", "nvidia.com/gpu"] {
        let out = podcount(&c.kubeconfig, &["--sort-by", resource]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        let column = resource.rsplit('/').next().unwrap().to_uppercase();
        assert!(header.contains(&column.as_str()), "{resource}: {header:?}");
        let names: Vec<&str> = text
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(names.len(), oracle["nodes"].as_object().unwrap().len(), "{text}");
        // Fullest first; ties by name; nodes without it last.
        let key = |n: &str| (share(n, resource).map_or(f64::INFINITY, |s| -s), n.to_string());
        let mut want = names.clone();
        want.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap());
        assert_eq!(names, want, "--sort-by {resource}");
        if resource == "nvidia.com/gpu" {
            let last = names.last().unwrap();
            assert!(share(last, resource).is_none() && share(names[0], resource).is_some(), "{names:?}");
        }
    }
    let out = podcount(&c.kubeconfig, &["--sort-by", "size"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("expected name, pods, free, saturation, fits, or a resource name"),
        "{}",
        stderr(&out)
    );
}

/// `--fits` with a resource no node allocates (a typo): the answer stands
/// (the scheduler places none either), with one warning naming the
/// look-alike, as `--resources` does for a name the cluster lacks.
#[tokio::test]
async fn fits_with_a_resource_no_node_allocates_warns_with_look_alikes() {
    let _one_at_a_time = support::serial().await;
    let c = cluster();
    let out = podcount(&c.kubeconfig, &["--fits", "nvidia.com/gpus=1", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let warning: Vec<&str> = err.lines().filter(|l| l.contains("no node allocates")).collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(
        warning[0].contains(r#"--fits nvidia.com/gpus=1: no node allocates "nvidia.com/gpus", so none fit (did you mean "nvidia.com/gpu"?); the cluster has: "#),
        "{err}"
    );
    let doc = json_of(&out);
    assert!(nodes_of(&doc).values().all(|n| n["fits"]["nvidia.com/gpus=1"] == 0), "the answer stands at 0");
    // The right name: no warning.
    let out = podcount(&c.kubeconfig, &["--fits", "nvidia.com/gpu=1", "-o", "json"]);
    assert!(!stderr(&out).contains("no node allocates"), "{}", stderr(&out));
}
