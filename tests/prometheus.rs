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
    assert!(said(&check).contains("SUCCESS: 8 rules found"), "{}", said(&check));
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
    assert_eq!(alerts, 8);
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
