//! Acceptance tests of `kubectl podcount` (count) on the real cluster,
//! invoked through kubectl's plugin mechanism.

mod support;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use support::proxy::Proxy;
use support::{Cluster, Options, PodSpec, blocking, json_of, kubeconfig_via, nodes_of, podcount, stderr, upstream};

/// The apiserver's defaults (watch cache on). The run that needs etcd's own
/// 410 for an expired continue token is in watch_nocache.rs.
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
/// Only what the seeder made: its pods carry this label, its nodes theirs.
const SEEDED_PODS: &str = "app.kubernetes.io/part-of=shop";
const SEEDED_NODES: &str = "podcount.test/seeded=true";

fn cluster() -> &'static Cluster {
    Cluster::shared(SEEDED)
}

fn truth() -> &'static Value {
    cluster().truth.as_ref().unwrap()
}

fn seeded_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["-l", SEEDED_PODS, "--node-selector", SEEDED_NODES];
    v.extend_from_slice(extra);
    v
}

const FIELDS: [&str; 11] = [
    "pods",
    "running",
    "pending",
    "unknown",
    "terminating",
    "daemonSet",
    "hostNetwork",
    "allocatable",
    "ready",
    "schedulable",
    "taints",
];

fn assert_matches_truth(doc: &Value) {
    let t = truth();
    let nodes = nodes_of(doc);
    let want = t["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), want.len(), "every seeded node is shown, empty ones too");
    for (name, w) in want {
        let got = &nodes[name];
        for f in FIELDS {
            assert_eq!(got[f], w[f], "node {name} field {f}");
        }
        let alloc = w["allocatable"].as_i64().unwrap();
        assert_eq!(got["free"].as_i64().unwrap(), alloc - w["pods"].as_i64().unwrap());
    }
    assert_eq!(doc["unscheduled"], t["unscheduled"]);
    assert_eq!(doc["totals"]["pods"], t["counted"]);
}

#[test]
fn json_and_yaml_equal_the_ground_truth() {
    let c = cluster();
    let doc = json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json"])));
    assert_eq!(doc["apiVersion"], "podcount/v1");
    assert_eq!(doc["kind"], "PodCount");
    assert_eq!(doc["context"], "podcount-test");
    assert_eq!(doc["filter"]["labelSelector"], SEEDED_PODS);
    assert_eq!(doc["filter"]["nodeSelector"], SEEDED_NODES);
    assert!(doc["resourceVersion"].as_str().is_some_and(|rv| !rv.is_empty()));
    assert_matches_truth(&doc);

    let out = podcount(&c.kubeconfig, &seeded_args(&["-o", "yaml"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml: Value = serde_yaml::from_slice(&out.stdout).expect("valid YAML");
    assert_matches_truth(&yaml);

    // The same pods read as JSON instead of protobuf.
    let doc = json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json", "--wire", "json"])));
    assert_matches_truth(&doc);
}

/// A proxy that rewrites Accept to JSON, and one that answers 406 to
/// protobuf: count and watch fall back to JSON by themselves, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_strips_or_refuses_protobuf_falls_back_to_json_exactly() {
    use support::proxy::{Hostile, protobuf_hostile};
    use support::watcher::Watcher;
    let c = cluster();
    for mode in [Hostile::Strip, Hostile::Refuse] {
        let proxy = protobuf_hostile(upstream(c), &c.dir, &c.kubeconfig_text(), mode).await;
        let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), &format!("kubeconfig-{mode:?}"));
        let out = podcount(&kc, &seeded_args(&["-o", "json"]));
        assert!(out.status.success(), "{mode:?}: {}", stderr(&out));
        assert!(stderr(&out).is_empty(), "{mode:?}: {}", stderr(&out));
        assert_matches_truth(&json_of(&out));
        let asked = proxy.protobuf_asked.load(std::sync::atomic::Ordering::SeqCst);
        match mode {
            // Every page asked, and got JSON.
            Hostile::Strip => assert!(asked >= 1, "{asked}"),
            // Refused, then JSON for the rest of the run: the pod and node
            // Lists start together, so each may ask once before the first
            // refusal is known; never more.
            Hostile::Refuse => assert!((1..=2).contains(&asked), "protobuf asked {asked} times"),
        }

        let args = seeded_args(&[]);
        let w = Watcher::start(&kc, &args);
        let want: BTreeMap<String, u64> = truth()["nodes"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["pods"].as_u64().unwrap()))
            .collect();
        support::blocking(move || {
            w.synced();
            w.converges_to(&want, std::time::Duration::from_secs(10));
            assert!(!w.stderr().contains("error"), "{}", w.stderr());
        })
        .await;
    }
}

/// Rows of a table/wide output, keyed by node, columns by header.
fn parse_table(stdout: &[u8]) -> (BTreeMap<String, BTreeMap<String, String>>, String) {
    let text = String::from_utf8_lossy(stdout).to_string();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split_whitespace().map(String::from).collect();
    let mut rows = BTreeMap::new();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        let cells: BTreeMap<String, String> =
            header.iter().cloned().zip(line.split_whitespace().map(String::from)).collect();
        rows.insert(cells["NODE"].clone(), cells);
    }
    (rows, lines.collect::<Vec<_>>().join("\n"))
}

#[test]
fn table_and_wide_equal_the_ground_truth() {
    let c = cluster();
    let t = truth();
    let out = podcount(&c.kubeconfig, &seeded_args(&[]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!out.stdout.contains(&0x1b), "no colour when piped");
    let (rows, footer) = parse_table(&out.stdout);
    assert_eq!(rows.len(), t["nodes"].as_object().unwrap().len());
    for (name, w) in t["nodes"].as_object().unwrap() {
        assert_eq!(rows[name]["PODS"], w["pods"].to_string(), "{name}");
        assert_eq!(rows[name]["ALLOCATABLE"], w["allocatable"].to_string(), "{name}");
    }
    assert!(
        footer.contains(&format!("TOTAL {} pods", t["counted"]))
            && footer.contains(&format!("{} unscheduled", t["unscheduled"])),
        "{footer}"
    );

    let out = podcount(&c.kubeconfig, &seeded_args(&["-o", "wide"]));
    let (rows, _) = parse_table(&out.stdout);
    for (name, w) in t["nodes"].as_object().unwrap() {
        for (col, f) in [
            ("RUNNING", "running"),
            ("PENDING", "pending"),
            ("UNKNOWN", "unknown"),
            ("TERMINATING", "terminating"),
            ("DAEMONSET", "daemonSet"),
            ("HOSTNETWORK", "hostNetwork"),
        ] {
            assert_eq!(rows[name][col], w[f].to_string(), "{name} {col}");
        }
        let ready = if w["ready"] == true { "Ready" } else { "NotReady" };
        let status = if w["schedulable"] == true { ready.to_string() } else { format!("{ready},SchedulingDisabled") };
        assert_eq!(rows[name]["STATUS"], status, "{name}");
        let taints: Vec<&str> = w["taints"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        let want = if taints.is_empty() { "<none>".to_string() } else { taints.join(",") };
        assert_eq!(rows[name]["TAINTS"], want, "{name}");
    }
    // The seeder puts node agents on the host network, taints a node, and
    // marks NotReady nodes with the not-ready taint, which is not shown.
    let nodes = t["nodes"].as_object().unwrap();
    assert!(nodes.values().any(|n| n["hostNetwork"].as_u64() > Some(0)));
    assert!(nodes.values().any(|n| !n["taints"].as_array().unwrap().is_empty()));
    assert!(nodes.values().any(|n| n["ready"] == false && n["taints"].as_array().unwrap().is_empty()));
}

/// `--schedulable-only` leaves the cordoned and tainted seeded nodes out of
/// rows, groups and totals, and says how many.
#[test]
fn schedulable_only_leaves_cordoned_and_tainted_nodes_out() {
    let c = cluster();
    let t = truth();
    let open: BTreeMap<&String, &Value> = t["nodes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n["schedulable"] == true && n["taints"].as_array().unwrap().is_empty())
        .collect();
    let all = t["nodes"].as_object().unwrap().len();
    let closed = all - open.len();
    assert!(closed >= 2, "the seeder cordons one node and taints another");
    let doc =
        json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json", "--schedulable-only", "--group-by", "zone"])));
    let nodes = nodes_of(&doc);
    assert_eq!(nodes.keys().collect::<Vec<_>>(), open.keys().copied().collect::<Vec<_>>());
    let pods: u64 = open.values().map(|n| n["pods"].as_u64().unwrap()).sum();
    let alloc: u64 = open.values().map(|n| n["allocatable"].as_u64().unwrap()).sum();
    assert_eq!((doc["totals"]["pods"].as_u64(), doc["totals"]["allocatable"].as_u64()), (Some(pods), Some(alloc)));
    assert_eq!(doc["unschedulableNodesLeftOut"], closed);
    let grouped: u64 = doc["groups"].as_array().unwrap().iter().map(|g| g["nodes"].as_u64().unwrap()).sum();
    assert_eq!(grouped, open.len() as u64);
    let out = podcount(&c.kubeconfig, &seeded_args(&["--schedulable-only"]));
    let (rows, footer) = parse_table(&out.stdout);
    assert_eq!(rows.len(), open.len());
    assert!(footer.contains(&format!("TOTAL {pods} pods on {} nodes", open.len())), "{footer}");
    assert!(footer.contains(&format!("{closed} cordoned or tainted nodes left out (--schedulable-only)")), "{footer}");
}

fn without_volatile(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("observedAt");
    doc.as_object_mut().unwrap().remove("resourceVersion");
    doc.as_object_mut().unwrap().remove("nodeResourceVersion");
    doc
}

#[test]
fn the_table_api_and_pod_objects_give_the_same_table() {
    let c = cluster();
    // -o table reads the Table API by default; objects must print the same.
    let via_table = podcount(&c.kubeconfig, &seeded_args(&["--sort-by", "pods"]));
    let via_objects = podcount(&c.kubeconfig, &seeded_args(&["--sort-by", "pods", "--method", "objects"]));
    assert!(via_table.status.success() && via_objects.status.success(), "{}", stderr(&via_table));
    assert_eq!(String::from_utf8_lossy(&via_table.stdout), String::from_utf8_lossy(&via_objects.stdout));
    let small_pages =
        podcount(&c.kubeconfig, &seeded_args(&["--sort-by", "pods", "--method", "table", "--chunk-size", "7"]));
    assert_eq!(String::from_utf8_lossy(&small_pages.stdout), String::from_utf8_lossy(&via_objects.stdout));
    // The breakdown needs objects.
    let out = podcount(&c.kubeconfig, &["--method", "table", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--method table gives counts only"), "{}", stderr(&out));
}

#[test]
fn chunk_size_7_equals_chunk_size_0() {
    let c = cluster();
    let small = json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json", "--chunk-size", "7"])));
    let whole = json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json", "--chunk-size", "0"])));
    assert_matches_truth(&small);
    assert_eq!(without_volatile(small), without_volatile(whole));
}

/// A namespace and two nodes of its own: the counting rule, edge by edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_rule_edge_cases_thresholds_and_missing_nodes() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("rule").await;
    let (busy, idle, ghost) = (format!("{ns}-busy"), format!("{ns}-idle"), format!("{ns}-ghost"));
    support::create_node(&client, &busy, 4, true, true).await;
    support::create_node(&client, &idle, 10, false, false).await;
    let on = Some(busy.as_str());
    for (name, node, phase) in [
        ("running", on, "Running"),
        ("bound-pending", on, "Pending"),
        ("unknown", on, "Unknown"),
        ("doomed", on, "Running"),
        ("done", on, "Succeeded"),
        ("crashed", on, "Failed"),
        ("waiting", None, "Pending"),
        ("orphan", Some(ghost.as_str()), "Running"),
    ] {
        support::create_pod(&client, &ns, &PodSpec::new(name, node, phase)).await;
    }
    let agent = PodSpec { daemon_set: true, host_network: true, ..PodSpec::new("agent", on, "Running") };
    support::create_pod(&client, &ns, &agent).await;
    support::delete_pod(&client, &ns, "doomed", true).await; // stays, terminating

    let out = podcount(&c.kubeconfig, &["-n", &ns, "-o", "json"]);
    let doc = json_of(&out);
    let nodes = nodes_of(&doc);
    let b = &nodes[&busy];
    let got: Vec<i64> = FIELDS[..7].iter().map(|f| b[f].as_i64().unwrap()).collect();
    // pods, running (running + agent), pending, unknown, terminating, daemonSet, hostNetwork
    assert_eq!(got, [5, 2, 1, 1, 1, 1, 1]);
    assert_eq!((b["allocatable"].as_i64(), b["free"].as_i64()), (Some(4), Some(-1)));
    assert_eq!(b["saturation"], json!(1.25));
    let i = &nodes[&idle];
    assert_eq!(
        (i["pods"].as_i64(), i["ready"].as_bool(), i["schedulable"].as_bool()),
        (Some(0), Some(false), Some(false))
    );
    let g = &nodes[&ghost];
    assert_eq!(
        (g["pods"].as_i64(), g["missing"].as_bool(), g["status"].as_str()),
        (Some(1), Some(true), Some("Missing"))
    );
    // Nothing is known of a missing node: nulls, not zeros.
    for f in ["allocatable", "free", "saturation", "ready", "schedulable", "taints"] {
        assert!(g[f].is_null(), "ghost {f}: {}", g[f]);
    }
    assert_eq!(doc["unscheduled"], 1);
    assert_eq!(doc["filter"]["namespace"], json!(ns));
    assert!(stderr(&out).contains(&"which the node list does not have".to_string()), "{}", stderr(&out));

    // Thresholds: busy is above 90% and has -1 free; idle is fine.
    let out = podcount(&c.kubeconfig, &["-n", &ns, "--max-saturation", "90%"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("node {busy} is 125.0% saturated (5/4 pods), above --max-saturation 90%")), "{err}");
    assert!(!err.contains(&idle), "{err}");
    let out = podcount(&c.kubeconfig, &["-n", &ns, "--min-free", "0", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("node {busy} has -1 free pod slots")), "{}", stderr(&out));
    let sel = format!("podcount.test/node={idle}");
    let out = podcount(&c.kubeconfig, &["-n", &ns, "--max-saturation", "90", "--node-selector", &sel]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    support::delete_node(&client, &busy).await;
    support::delete_node(&client, &idle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_denials_name_the_missing_verb() {
    let c = cluster();
    let out = podcount(&c.user_kubeconfig("ci"), &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out).trim(),
        r#"error: forbidden: user "ci" cannot list pods at cluster scope (needs: list pods; see kubectl podcount docs rbac); to count one namespace, pass -n default (the context's namespace)"#
    );
    let out = podcount(&c.user_kubeconfig("ci"), &["-n", "team-01"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains(r#"cannot list pods in namespace team-01"#), "{}", stderr(&out));
    assert!(!stderr(&out).contains("pass -n"), "{}", stderr(&out));
}

/// kube-capacity #161: a user who may read pods but not nodes still gets
/// exact pod counts per node (allocatable unknown), one warning, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_who_cannot_list_nodes_still_get_exact_pod_counts() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("scoped").await;
    let t = truth();
    let seeded: Vec<&String> = t["nodes"].as_object().unwrap().keys().collect();
    for (i, node) in seeded.iter().take(3).enumerate() {
        for k in 0..=i {
            let name = format!("p{i}-{k}");
            support::create_pod(&client, &ns, &PodSpec::new(&name, Some(node.as_str()), "Running")).await;
        }
    }
    support::create_pod(&client, &ns, &PodSpec::new("done", Some(seeded[0].as_str()), "Succeeded")).await;
    support::create_pod(&client, &ns, &PodSpec::new("waiting", None, "Pending")).await;
    let want = support::kubectl_counts(&c.kubeconfig, &ns);
    assert_eq!(want.values().sum::<u64>(), 6);

    // Pods in its own namespace only, nothing on nodes.
    let kc = support::grant_in(c, "ns-reader", &ns, &["pods"], &["get", "list", "watch"]).await;
    let out = support::podcount_after_rbac(&kc, &["-n", &ns, "-o", "json"], "cannot list pods");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let warning = r#"forbidden: user "ns-reader" cannot list nodes at cluster scope (needs: list nodes"#;
    assert_eq!(err.matches(warning).count(), 1, "one warning, naming the permission: {err}");
    let doc = json_of(&out);
    let nodes = nodes_of(&doc);
    let got: BTreeMap<String, u64> = nodes.iter().map(|(k, v)| (k.clone(), v["pods"].as_u64().unwrap())).collect();
    assert_eq!(got, want);
    for (name, n) in &nodes {
        for f in ["allocatable", "free", "saturation", "ready", "schedulable"] {
            assert!(n[f].is_null(), "{name} {f}: {}", n[f]);
        }
        assert_eq!(n["status"], "Unknown");
    }
    assert_eq!(doc["unscheduled"], 1);
    assert!(doc["totals"]["allocatable"].is_null());
    // The table: dashes where nothing is known.
    let out = podcount(&kc, &["-n", &ns]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (rows, footer) = parse_table(&out.stdout);
    assert_eq!(rows.len(), 3);
    assert!(rows.values().all(|r| r["ALLOCATABLE"] == "-" && r["FREE"] == "-" && r["SATURATION"] == "-"));
    assert!(footer.contains("TOTAL 6 pods on 3 nodes, allocatable unknown; 1 unscheduled"), "{footer}");
    // A threshold needs allocatable: a usage error naming both.
    let out = podcount(&kc, &["-n", &ns, "--max-saturation", "90"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--max-saturation needs the node list, and forbidden:"), "{}", stderr(&out));
    // Without -n: the context's namespace is suggested.
    let out = podcount(&kc, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains(&format!("to count one namespace, pass -n {ns}")), "{}", stderr(&out));

    // watch: the same counts, the same single warning.
    let w = support::watcher::Watcher::start(&kc, &["-n", &ns]);
    let want2 = want.clone();
    blocking(move || {
        w.converges_to(&want2, std::time::Duration::from_secs(30));
        let err = w.stderr();
        assert_eq!(err.matches(warning).count(), 1, "{err}");
    })
    .await;
}

#[test]
fn connection_and_configuration_errors_get_their_exit_codes() {
    let c = cluster();
    // Nothing listens on port 1 of loopback.
    let out = podcount(&kubeconfig_via(c, "https://127.0.0.1:1", "kubeconfig-unreachable"), &[]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.starts_with("error: cannot reach the API server at https://127.0.0.1:1"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");

    let garbage = c.dir.join("kubeconfig-garbage");
    std::fs::write(&garbage, "this: is: not: a kubeconfig: [").unwrap();
    let out = podcount(&garbage, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: cannot load kubeconfig"), "{}", stderr(&out));

    let out = podcount(&c.kubeconfig, &["--context", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).trim(), r#"error: context "nope" not found in the kubeconfig (available: podcount-test)"#);

    let out = podcount(&c.kubeconfig, &["--max-saturation", "ninety"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr(&out).contains("panicked"));

    let out = podcount(&c.kubeconfig, &["--field-selector", "spec.nonsense=1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("the API server rejected the request"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_bounds_the_run() {
    let c = cluster();
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-stall");
    proxy.pause_after(0); // hold everything the server sends
    let out = tokio::task::spawn_blocking(move || podcount(&kc, &["--request-timeout", "2s"])).await.unwrap();
    proxy.resume();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert!(err.contains("within 2s") && err.contains("raise --request-timeout"), "{err}");
}

#[test]
fn several_contexts_count_into_one_document() {
    let c = cluster();
    let text = c.kubeconfig_text();
    // A second context to the same cluster, and a third that cannot connect.
    let extra = "\n- name: second\n  context:\n    cluster: podcount-test\n    user: admin\n- name: broken\n  context:\n    cluster: nowhere\n    user: admin\n";
    let clusters = "\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:1\n";
    let text =
        text.replace("contexts:", &format!("contexts:{extra}")).replace("clusters:", &format!("clusters:{clusters}"));
    let path = c.dir.join("kubeconfig-multi");
    std::fs::write(&path, text).unwrap();

    let out = podcount(&path, &seeded_args(&["--context", "podcount-test,second", "-o", "json"]));
    let doc = json_of(&out);
    assert_eq!(doc["kind"], "PodCountList");
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["context"].as_str(), items[1]["context"].as_str()), (Some("podcount-test"), Some("second")));
    assert_matches_truth(&items[0]);
    assert_matches_truth(&items[1]);

    let out = podcount(&path, &seeded_args(&["--context", "podcount-test,broken,second"]));
    assert_eq!(out.status.code(), Some(3), "one failing cluster: exit 3, the others still print");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("CONTEXT"), "{text}");
    assert!(text.contains("podcount-test:") && text.contains("second:"), "{text}");
    assert!(stderr(&out).starts_with("error: context broken: cannot reach the API server"), "{}", stderr(&out));
}

/// `-o csv` read by Python's csv module (RFC 4180) equals the JSON rows;
/// `--top 5` shows the five fullest nodes with totals over all of them; the
/// JSON's saturation histogram agrees with the seeder's ground truth.
#[test]
fn csv_top_and_histogram_agree_with_the_json_and_the_truth() {
    let c = cluster();
    let doc = json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json"])));
    let out = podcount(&c.kubeconfig, &seeded_args(&["-o", "csv"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let parsed = support::csv_rows(&out.stdout);
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(parsed.len(), nodes.len());
    for (row, node) in parsed.iter().zip(nodes) {
        assert_eq!(row["context"], "podcount-test");
        for (k, v) in node.as_object().unwrap() {
            let want = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                // Taints: one field, comma-separated.
                Value::Array(a) => a.iter().map(|t| t.as_str().unwrap()).collect::<Vec<_>>().join(","),
                other => other.to_string(),
            };
            assert_eq!(row[k], want, "node {} field {k}", node["name"]);
        }
    }

    let out = podcount(&c.kubeconfig, &seeded_args(&["--top", "5"]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (rows, footer) = parse_table(&out.stdout);
    assert_eq!(rows.len(), 5, "{text}");
    let mut by_saturation: Vec<(f64, String)> = truth()["nodes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, n)| n["allocatable"].as_u64().unwrap() > 0)
        .map(|(name, n)| (n["pods"].as_f64().unwrap() / n["allocatable"].as_f64().unwrap(), name.clone()))
        .collect();
    by_saturation.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let fullest: std::collections::BTreeSet<&str> = by_saturation[..5].iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(rows.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), fullest, "{text}");
    let all = truth()["nodes"].as_object().unwrap().len();
    assert!(footer.contains(&format!("TOTAL {} pods on {all} nodes", truth()["counted"])), "{footer}");
    assert!(footer.contains(&format!("{} more nodes not shown (--top 5)", all - 5)), "{footer}");
    // Piped: no bars, no histogram.
    assert!(!text.contains('█') && !text.contains("nodes by saturation"), "{text}");

    let mut want = [0u64; 6];
    for n in truth()["nodes"].as_object().unwrap().values() {
        let (p, a) = (n["pods"].as_u64().unwrap(), n["allocatable"].as_u64().unwrap());
        if a == 0 {
            continue;
        }
        let s = p as f64 / a as f64;
        let i = if s < 0.5 {
            0
        } else if s < 0.8 {
            1
        } else if s < 0.9 {
            2
        } else if p < a {
            3
        } else if p == a {
            4
        } else {
            5
        };
        want[i] += 1;
    }
    let got: Vec<u64> =
        doc["saturationHistogram"].as_array().unwrap().iter().map(|r| r["nodes"].as_u64().unwrap()).collect();
    assert_eq!(got, want, "{}", doc["saturationHistogram"]);
}

/// `--group-by node.kubernetes.io/instance-type`: the group rows partition
/// the node rows (which stay complete) and agree with the ground truth;
/// A `--group-by` or `-L` label no node carries: counted all the same, with
/// one warning naming the keys nodes carry that look like it; an empty
/// `--group-by` is a usage error.
#[test]
fn labels_no_node_carries_are_said_with_their_look_alikes() {
    let c = cluster();
    let out = podcount(&c.kubeconfig, &seeded_args(&["--group-by", "topology.kubernetes.io/zoen"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // One line, the closest look-alike first.
    let want = r#"warning: context podcount-test: no listed node carries the label "topology.kubernetes.io/zoen" (--group-by); nodes carry "topology.kubernetes.io/zone""#;
    assert!(stderr(&out).starts_with(want) && stderr(&out).lines().count() == 1, "{}", stderr(&out));
    let out = podcount(&c.kubeconfig, &seeded_args(&["-L", "instance-type"]));
    let err = stderr(&out);
    assert!(err.contains(r#"the label "instance-type" (-L); nodes carry "#), "{err}");
    assert!(err.contains(r#""node.kubernetes.io/instance-type""#), "{err}");
    let out = podcount(&c.kubeconfig, &seeded_args(&["-L", "gpu-vendor-xyz"]));
    assert!(stderr(&out).contains("check the key with kubectl get nodes --show-labels"), "{}", stderr(&out));
    // A label the nodes carry: no warning.
    let out = podcount(&c.kubeconfig, &seeded_args(&["--group-by", "zone"]));
    assert_eq!(stderr(&out), "");
    let out = podcount(&c.kubeconfig, &["--group-by", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a label key cannot be empty"), "{}", stderr(&out));
}

/// `-L` columns equal `kubectl get nodes -L`.
#[test]
fn group_by_and_label_columns_agree_with_the_truth_and_kubectl() {
    let c = cluster();
    let key = "node.kubernetes.io/instance-type";
    let doc = json_of(&podcount(&c.kubeconfig, &seeded_args(&["-o", "json", "--group-by", key])));
    assert_eq!(doc["groupBy"], key);
    assert_matches_truth(&doc);
    // The seeder's instance types, by allocatable.
    let kind = |alloc: u64| match alloc {
        30 => "small",
        110 => "standard",
        250 => "large",
        _ => "",
    };
    let mut want: BTreeMap<String, (u64, u64, u64, u64)> = BTreeMap::new(); // nodes, pods, allocatable, >= 90 %
    for n in truth()["nodes"].as_object().unwrap().values() {
        let (p, a) = (n["pods"].as_u64().unwrap(), n["allocatable"].as_u64().unwrap());
        let e = want.entry(kind(a).to_string()).or_default();
        e.0 += 1;
        e.1 += p;
        e.2 += a;
        e.3 += u64::from(a > 0 && 10 * p >= 9 * a);
    }
    let groups = doc["groups"].as_array().unwrap();
    let got: BTreeMap<String, (u64, u64, u64, u64)> = groups
        .iter()
        .map(|g| {
            let n = |k: &str| g[k].as_u64().unwrap();
            (
                g["name"].as_str().unwrap().to_string(),
                (n("nodes"), n("pods"), n("allocatable"), n("atOrAboveThreshold")),
            )
        })
        .collect();
    assert_eq!(got, want);
    // The 16 seeded nodes are small, standard and large ones.
    assert_eq!(want.keys().map(String::as_str).collect::<Vec<_>>(), ["large", "small", "standard"]);
    assert_eq!(groups.iter().map(|g| g["pods"].as_u64().unwrap()).sum::<u64>(), truth()["counted"].as_u64().unwrap());
    for g in groups {
        // The fullest node is in its group and is as full as the group says.
        let name = g["fullestNode"].as_str().unwrap();
        let node = &truth()["nodes"][name];
        assert_eq!(kind(node["allocatable"].as_u64().unwrap()), g["name"]);
    }
    // The table shows the groups, under the alias's header.
    let out = podcount(&c.kubeconfig, &seeded_args(&["--group-by", "instance-type"]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("INSTANCE-TYPE   NODES   PODS"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("small ")), "{text}");

    let out =
        podcount(&c.kubeconfig, &seeded_args(&["-L", "topology.kubernetes.io/zone,node.kubernetes.io/instance-type"]));
    let (rows, _) = parse_table(&out.stdout);
    let kubectl = std::process::Command::new("kubectl")
        .args([
            "get",
            "nodes",
            "-l",
            SEEDED_NODES,
            "--no-headers",
            "-L",
            "topology.kubernetes.io/zone,node.kubernetes.io/instance-type",
        ])
        .env("KUBECONFIG", &c.kubeconfig)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&kubectl.stdout).into_owned();
    let mut checked = 0;
    for line in listed.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (name, zone, itype) = (f[0], f[f.len() - 2], f[f.len() - 1]);
        if !["small", "standard", "large"].contains(&itype) {
            continue; // an empty instance type: kubectl prints nothing there
        }
        assert_eq!((rows[name]["ZONE"].as_str(), rows[name]["INSTANCE-TYPE"].as_str()), (zone, itype), "{name}");
        checked += 1;
    }
    assert!(checked > 0, "{listed}");
}

/// `-o jsonpath=` and `-o custom-columns=` as the binary wires them (the
/// engine itself is held to client-go's in `render/jsonpath/oracle.rs`):
/// the output equals kubectl's printer (`tests/cluster/ctl printers`) over
/// the `-o json` document of the same run's cluster; a bad template is exit
/// 2 naming it, before any request.
#[test]
fn jsonpath_and_custom_columns_print_what_kubectls_printer_prints() {
    use std::io::Write;
    let c = cluster();
    // The seeder's nodes, which no other test here touches.
    let args = ["--node-selector", SEEDED_NODES, "--sort-by", "name", "--top", "3"];
    let doc = json_of(&podcount(&c.kubeconfig, &[&args[..], &["-o", "json"]].concat()));
    let cases = [
        json!({"doc": doc, "jsonpath": r#"{range .nodes[*]}{.name}{"\t"}{.pods}{"\n"}{end}"#}),
        json!({"doc": doc, "columns": "NAME:.name,PODS:.pods,STATUS:.status", "noHeaders": false}),
    ];
    let mut child = std::process::Command::new(support::repo_path("tests/cluster/ctl"))
        .arg("printers")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = cases.iter().map(|c| format!("{c}\n")).collect();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let theirs: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for (output, want) in [
        (r#"jsonpath={range .nodes[*]}{.name}{"\t"}{.pods}{"\n"}{end}"#, &theirs[0]),
        ("custom-columns=NAME:.name,PODS:.pods,STATUS:.status", &theirs[1]),
    ] {
        let out = podcount(&c.kubeconfig, &[&args[..], &["-o", output]].concat());
        assert!(out.status.success(), "{output}: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want["out"].as_str().unwrap(), "{output}");
    }
    let out = podcount(&c.kubeconfig, &["-o", "jsonpath={.nodes[0}"]);
    assert!(out.stdout.is_empty());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("error parsing jsonpath {.nodes[0}, "), "{}", stderr(&out));
}
