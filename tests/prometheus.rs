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
    assert!(said(&check).contains("SUCCESS: 2 rules found"), "{}", said(&check));
    let test = Command::new(&promtool)
        .args(["test", "rules", "alerts_test.yaml"])
        .current_dir(repo().join("tests/prometheus"))
        .output()
        .unwrap();
    assert!(test.status.success(), "promtool test rules: {}", said(&test));
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
