//! The Prometheus side, checked by Prometheus' own promtool (built from its
//! Go module by tests/prometheus/build): the alert rules in deploy/ load,
//! each alert fires when it should and stays quiet when it should not
//! (tests/prometheus/alerts_test.yaml), and a real `/metrics` scrape of
//! `watch --listen` passes `promtool check metrics`.

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use support::{Cluster, Options};

const BED: Options = Options {
    nodes: 3,
    pods: 60,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn promtool() -> PathBuf {
    let out = Command::new(repo().join("tests/prometheus/build")).stderr(Stdio::inherit()).output().unwrap();
    assert!(out.status.success(), "tests/prometheus/build failed");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_alert_rules_load_and_each_alert_fires_when_it_should() {
    let promtool = promtool();
    let check = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(repo().join("deploy/prometheus/alerts.yaml"))
        .output()
        .unwrap();
    assert!(check.status.success(), "promtool check rules: {}", said(&check));
    assert!(said(&check).contains("SUCCESS: 9 rules found"), "{}", said(&check));
    let test = Command::new(&promtool)
        .args(["test", "rules", "alerts_test.yaml"])
        .current_dir(repo().join("tests/prometheus"))
        .output()
        .unwrap();
    assert!(test.status.success(), "promtool test rules: {}", said(&test));
}

/// kubernetes-mixin's conventions: every alert has a severity, a summary, a
/// description and a runbook_url whose section exists in docs/runbooks.md;
/// and every alert is exercised by the promtool tests.
#[test]
fn every_alert_has_severity_summary_description_and_a_runbook() {
    let rules: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yaml")).unwrap()).unwrap();
    let runbooks = std::fs::read_to_string(repo().join("docs/runbooks.md")).unwrap();
    let tests = std::fs::read_to_string(repo().join("tests/prometheus/alerts_test.yaml")).unwrap();
    let mut alerts = 0;
    for group in rules["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            let name = rule["alert"].as_str().unwrap();
            alerts += 1;
            assert!(
                matches!(rule["labels"]["severity"].as_str(), Some("critical" | "warning" | "info")),
                "{name}: severity"
            );
            for a in ["summary", "description", "runbook_url"] {
                assert!(rule["annotations"][a].as_str().is_some_and(|s| !s.is_empty()), "{name}: no {a}");
            }
            let url = rule["annotations"]["runbook_url"].as_str().unwrap();
            let anchor = url.rsplit_once('#').unwrap().1;
            assert_eq!(anchor, name.to_lowercase(), "{name}: runbook anchor");
            assert!(runbooks.contains(&format!("\n## {name}\n")), "docs/runbooks.md has no section {name}");
            assert!(
                url.starts_with("https://github.com/kubectl-podcount/kubectl-podcount/blob/main/docs/runbooks.md#")
            );
            assert!(tests.contains(&format!("alertname: {name}\n")), "{name} is not promtool-tested");
        }
    }
    assert_eq!(alerts, 9);
}

/// The operator overlay's PrometheusRule and the Helm chart hold exactly the
/// groups promtool checks in deploy/prometheus/alerts.yaml.
#[test]
fn the_prometheus_rule_holds_the_tested_alerts() {
    let read = |p: &str| -> serde_yaml::Value {
        serde_yaml::from_str(&std::fs::read_to_string(repo().join(p)).unwrap()).unwrap()
    };
    let rules = read("deploy/prometheus/alerts.yaml");
    let cr = read("deploy/overlays/operator/prometheusrule.yaml");
    assert_eq!(cr["kind"].as_str(), Some("PrometheusRule"));
    assert_eq!(
        cr["spec"]["groups"], rules["groups"],
        "copy deploy/prometheus/alerts.yaml's groups into the PrometheusRule"
    );
    // The Helm chart carries the same file (a chart cannot read outside itself).
    let chart = std::fs::read_to_string(repo().join("charts/podcount/files/alerts.yaml")).unwrap();
    let tested = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yaml")).unwrap();
    assert!(chart == tested, "copy deploy/prometheus/alerts.yaml to charts/podcount/files/alerts.yaml");
}

#[tokio::test]
async fn a_real_scrape_passes_promtool_check_metrics() {
    let c = Cluster::shared(BED);
    let args = ["--resources", "--group-by", "zone", "--fits", "web=cpu=100m,memory=128Mi", "--listen", "127.0.0.1:0"];
    let mut w = support::watcher::Watcher::start(&c.kubeconfig, &args);
    let url = w.listen_url();
    w = support::blocking(move || {
        w.synced();
        w
    })
    .await;
    let (status, metrics) = support::blocking(move || support::http("GET", &url, "/metrics")).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("podcount_node_resource_requests{"), "the scrape covers the resource series");
    // The standard process set and build info every exporter has; the fits
    // family under its consistent name, the old one marked deprecated.
    for family in [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_start_time_seconds ",
        "process_open_fds ",
        "podcount_build_info{version=",
        "podcount_node_fits{",
        "# HELP podcount_fits Deprecated: use podcount_node_fits",
    ] {
        assert!(metrics.contains(family), "{family} missing from the scrape");
    }
    let mut lint = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    lint.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = lint.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool check metrics: {}\n{metrics}", said(&out));
    drop(w);
}

fn prometheus_server() -> PathBuf {
    let out = Command::new(repo().join("tests/prometheus/build"))
        .arg("prometheus")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "tests/prometheus/build prometheus failed");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A running Prometheus server, stopped (and its data removed) when dropped.
struct Prometheus {
    child: std::process::Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// `GET /api/v1/...` and its `data`, through curl (loopback only).
    fn api(&self, path: &str, query: Option<&str>) -> serde_json::Value {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "--max-time", "10", "-G"]);
        if let Some(q) = query {
            cmd.arg("--data-urlencode").arg(format!("query={q}"));
        }
        let out = cmd.arg(format!("{}{path}", self.url)).output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["data"].clone()
    }

    fn query(&self, q: &str) -> Vec<serde_json::Value> {
        self.api("/api/v1/query", Some(q))["result"].as_array().cloned().unwrap_or_default()
    }

    /// The alerts in state `firing` named `name`.
    fn firing(&self, name: &str) -> Vec<serde_json::Value> {
        let alerts = self.api("/api/v1/alerts", None)["alerts"].as_array().cloned().unwrap_or_default();
        alerts.into_iter().filter(|a| a["labels"]["alertname"] == name && a["state"] == "firing").collect()
    }

    async fn until(&self, what: &str, mut cond: impl FnMut(&Prometheus) -> bool) {
        let start = std::time::Instant::now();
        while !cond(self) {
            assert!(start.elapsed() < std::time::Duration::from_secs(90), "Prometheus: {what} within 90 s");
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The check of the monitoring: a real Prometheus server (built from the same
/// Go module as promtool) scrapes a served watch over TLS with a
/// ServiceAccount's token, as deploy/ runs it, with the project's alert rules
/// loaded (their `for` shortened to seconds). Every dashboard panel's query
/// returns data, and what Prometheus holds equals `count -o json` for the
/// same cluster; an alert fires when the bed is pushed over its threshold and
/// clears after; the absent alert fires when the watch stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_watch_and_the_alerts_fire_and_clear() {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    use kube::api::{Api, PostParams};
    let c = Cluster::shared(BED);
    let client = c.client().await;
    let ns = c.namespace("prom").await;
    let dir = c.dir.join(format!("prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // The scraper's identity: a ServiceAccount RBAC lets read /metrics.
    let sa: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sa.create(
        &PostParams::default(),
        &serde_json::from_value(serde_json::json!({"metadata": {"name": "prometheus"}})).unwrap(),
    )
    .await
    .unwrap();
    let req = serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}});
    let got: serde_json::Value =
        sa.create_subresource("token", "prometheus", &PostParams::default(), &req).await.unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, got["status"]["token"].as_str().unwrap()).unwrap();
    let role = format!("{ns}-metrics");
    let cr =
        serde_json::json!({"metadata": {"name": role}, "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]});
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &serde_json::from_value(cr).unwrap())
        .await
        .unwrap();
    let crb = serde_json::json!({"metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": ns}]});
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &serde_json::from_value(crb).unwrap())
        .await
        .unwrap();

    // Two racks for --lose-each (a label of this test's own nodes): rack a
    // holds a bare pod and three pods of a ReplicaSet that may run only in
    // rack a (losing it strands all three, and the bare pod is never
    // replaced); rack b holds one pod that may run in either rack.
    let rack = format!("podcount.test/rack-{}", ns.trim_start_matches("t-"));
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &ns);
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    for r in ["a", "b"] {
        let node = serde_json::json!({
            "metadata": {"name": format!("{ns}-rack-{r}"), "labels": {rack.as_str(): r}},
            "status": {"allocatable": {"pods": "8", "cpu": "4"}, "capacity": {"pods": "8", "cpu": "4"},
                       "conditions": [{"type": "Ready", "status": "True"}]}
        });
        nodes.create(&PostParams::default(), &serde_json::from_value(node).unwrap()).await.unwrap();
    }
    let rack_pod = |name: &str, r: &str, owner: Option<&str>, racks: &[&str]| {
        let owners = owner.map(|o| {
            serde_json::json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": o,
            "uid": "7f4bd2c0-0000-4000-8000-000000000001", "controller": true}])
        });
        serde_json::json!({
            "metadata": {"name": name, "ownerReferences": owners.unwrap_or(serde_json::json!([]))},
            "spec": {"nodeName": format!("{ns}-rack-{r}"), "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
                     "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                         {"matchExpressions": [{"key": rack.as_str(), "operator": "In", "values": racks}]}]}}}}
        })
    };
    let made = [
        rack_pod("lonely", "a", None, &["a"]),
        rack_pod("web-0", "a", Some("web"), &["a"]),
        rack_pod("web-1", "a", Some("web"), &["a"]),
        rack_pod("web-2", "a", Some("web"), &["a"]),
        rack_pod("api-0", "b", Some("api"), &["a", "b"]),
    ];
    for p in made {
        pods.create(&PostParams::default(), &serde_json::from_value(p).unwrap()).await.unwrap();
    }

    // The watch, serving a certificate Prometheus verifies.
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, support::pem("CERTIFICATE", made.cert.der())).unwrap();
    std::fs::write(&key, support::pem("PRIVATE KEY", &made.signing_key.serialize_der())).unwrap();
    let (cs, ks) = (cert.display().to_string(), key.display().to_string());
    let flags = ["--resources", "--group-by", "zone", "--fits", "web=cpu=100m,memory=128Mi"];
    let mut args = flags.to_vec();
    args.extend([
        "--listen",
        "127.0.0.1:0",
        "--listen-auth",
        "kubernetes",
        "--listen-tls-cert",
        &cs,
        "--listen-tls-key",
        &ks,
        "--lose-each",
        &rack,
        "--lose-every",
        "1s",
    ]);
    let w = support::watcher::Watcher::start(&c.kubeconfig, &args);
    let target = w.listen_url().trim_start_matches("https://").to_string();
    let w = support::blocking(move || {
        w.synced();
        w
    })
    .await;

    // The project's rules, their `for` cut to a second so the test need not wait.
    let rules = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yaml")).unwrap();
    let quick: String = rules
        .lines()
        .map(|l| if l.trim_start().starts_with("for: ") { "    for: 1s" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("alerts.yaml"), quick).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [alerts.yaml]\nscrape_configs:\n- job_name: podcount\n  scheme: https\n  authorization:\n    credentials_file: {}\n  tls_config:\n    ca_file: {}\n  static_configs:\n  - targets: ['{target}']\n",
        token_file.display(),
        cert.display()
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let child = Command::new(prometheus_server())
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .unwrap();
    let prom = Prometheus { child, url: format!("http://127.0.0.1:{port}") };
    prom.until("the target is up", |p| p.query(r#"up{job="podcount"}"#).first().is_some_and(|r| r["value"][1] == "1"))
        .await;

    // Every dashboard panel's query returns data.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("deploy/overlays/operator/dashboards/podcount.json")).unwrap(),
    )
    .unwrap();
    let context = "podcount-test";
    let exprs: Vec<(String, String)> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or_default().to_string();
            p["targets"].as_array().cloned().unwrap_or_default().into_iter().map(move |t| (title.clone(), t))
        })
        .map(|(title, t)| {
            let e = t["expr"].as_str().unwrap().replace("$cluster", context).replace("$__rate_interval", "30s");
            (title, e)
        })
        .collect();
    assert!(exprs.len() >= 12, "{exprs:?}");
    // Rates need two samples in their window.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for (title, expr) in &exprs {
        prom.until(&format!("panel {title:?} ({expr}) returns data"), |p| !p.query(expr).is_empty()).await;
    }

    // What Prometheus holds equals `count -o json` for the same cluster.
    let mut count_args = flags.to_vec();
    count_args.extend(["-o", "json"]);
    let doc = support::json_of(&support::podcount(&c.kubeconfig, &count_args));
    let value = |r: &serde_json::Value| r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
    let by = |q: &str, label: &str| -> std::collections::BTreeMap<String, f64> {
        prom.query(q).iter().map(|r| (r["metric"][label].as_str().unwrap().to_string(), value(r))).collect()
    };
    let pods = by(&format!(r#"podcount_node_pods{{context="{context}"}}"#), "node");
    let sat = by(&format!(r#"podcount_node_saturation_ratio{{context="{context}"}}"#), "node");
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(pods.len(), nodes.len());
    for n in nodes {
        let name = n["name"].as_str().unwrap();
        assert_eq!(pods[name], n["pods"].as_f64().unwrap(), "node {name}");
        if let Some(s) = n["saturation"].as_f64() {
            assert!((sat[name] - s).abs() < 1e-3, "node {name}: {} against {s}", sat[name]);
        }
    }
    let fits = by(&format!(r#"podcount_cluster_fits{{context="{context}"}}"#), "shape");
    assert_eq!(fits["web"], doc["totals"]["fits"]["web"].as_f64().unwrap());
    let groups = by(&format!(r#"podcount_group_pods{{context="{context}"}}"#), "group");
    for g in doc["groups"].as_array().unwrap() {
        assert_eq!(groups[g["name"].as_str().unwrap()], g["pods"].as_f64().unwrap(), "group {g}");
    }

    // --lose-each: what Prometheus holds is what `count --lose` says of each
    // rack, and the alert fires for the rack whose loss strands pods.
    let on_rack = |metric: &str| by(&format!(r#"{metric}{{context="{context}",label="{rack}"}}"#), "value");
    prom.until("both racks answered", |p| p.query(&format!(r#"podcount_loss_nodes{{label="{rack}"}}"#)).len() == 2)
        .await;
    for r in ["a", "b"] {
        let out = support::podcount(&c.kubeconfig, &["--lose", &format!("{rack}={r}"), "-o", "json"]);
        let w: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let w = &w["whatIf"];
        let count = |c: &serde_json::Value, end: usize| c.as_u64().or_else(|| c[end].as_u64()).unwrap() as f64;
        let owners = w["owners"].as_object().unwrap();
        let least: f64 = owners.values().map(|o| count(&o["pending"], 0)).sum();
        let most: f64 = owners.values().map(|o| count(&o["pending"], 1)).sum();
        // (A bare pod is an owner of its own, its notReplaced 1, and in lost.)
        let not_replaced: f64 = owners.values().map(|o| o["notReplaced"].as_f64().unwrap()).sum();
        assert_eq!(on_rack("podcount_loss_stranded_pods")[r], least, "rack {r}: {w}");
        assert_eq!(on_rack("podcount_loss_stranded_pods_max")[r], most, "rack {r}: {w}");
        assert_eq!(on_rack("podcount_loss_unreplaced_pods")[r], not_replaced, "rack {r}: {w}");
    }
    // The seeder's truth: losing rack a strands web's three and loses the
    // bare pod; losing rack b moves api to rack a.
    assert_eq!(on_rack("podcount_loss_stranded_pods"), [("a".into(), 3.0), ("b".into(), 0.0)].into());
    assert_eq!(on_rack("podcount_loss_unreplaced_pods"), [("a".into(), 1.0), ("b".into(), 0.0)].into());
    assert_eq!(on_rack("podcount_loss_displaced_pods"), [("a".into(), 4.0), ("b".into(), 1.0)].into());
    let strands = |p: &Prometheus| {
        p.firing("PodcountZoneLossStrandsPods")
            .iter()
            .filter(|a| a["labels"]["label"] == rack.as_str())
            .map(|a| a["labels"]["value"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    prom.until("PodcountZoneLossStrandsPods fires for rack a", |p| strands(p) == ["a"]).await;
    // web goes: the next round follows, and the alert clears.
    for i in 0..3 {
        support::delete_pod(&client, &ns, &format!("web-{i}"), false).await;
    }
    prom.until("the loss of rack a follows the change", |_| {
        on_rack("podcount_loss_stranded_pods").get("a") == Some(&0.0)
    })
    .await;
    prom.until("PodcountZoneLossStrandsPods clears", |p| strands(p).is_empty()).await;

    // Push a node over its pod limit: the alert fires, and clears after.
    let hot = support::make_nodes(&client, &ns, 1, 4).await.remove(0);
    for i in 0..4 {
        let name = format!("hot-{i}");
        support::create_pod(&client, &ns, &support::PodSpec::new(&name, Some(&hot), "Running")).await;
    }
    let on_hot =
        |p: &Prometheus| p.firing("PodcountNodeNearPodLimit").iter().any(|a| a["labels"]["node"] == hot.as_str());
    prom.until("PodcountNodeNearPodLimit fires for the full node", on_hot).await;
    let alert =
        prom.firing("PodcountNodeNearPodLimit").into_iter().find(|a| a["labels"]["node"] == hot.as_str()).unwrap();
    assert_eq!(alert["annotations"]["summary"], format!("Node {hot} holds 100% of its pod limit."));
    assert!(alert["annotations"]["runbook_url"].as_str().unwrap().ends_with("#podcountnodenearpodlimit"));
    for i in 0..4 {
        support::delete_pod(&client, &ns, &format!("hot-{i}"), false).await;
    }
    prom.until("PodcountNodeNearPodLimit clears", |p| !on_hot(p)).await;
    assert!(prom.firing("PodcountDown").is_empty());

    // The watch stops: the absent/down alert fires.
    drop(w);
    prom.until("PodcountDown fires", |p| !p.firing("PodcountDown").is_empty()).await;
}
