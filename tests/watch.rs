//! Acceptance tests of `kubectl podcount watch` on the real cluster: once a
//! fault clears, the watch's counts equal a fresh consistent List within
//! seconds; the stream never skips or double-counts (every change starts
//! where the last one ended); the process keeps running.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::proxy::Proxy;
use support::watcher::{Watcher, fresh_counts};
use support::{Cluster, Options, PodSpec, blocking, churn, kubeconfig_via, kubectl_counts, serial, upstream};

/// The apiserver's defaults: watch cache on, bookmarks. (The runs that need
/// etcd's own 410 after compaction are in watch_nocache.rs.)
const BED: Options = Options {
    nodes: 0,
    pods: 0,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};
const CONVERGE: Duration = Duration::from_secs(20);

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

/// Churn while watching, pods read in `wire` (list and watch events).
async fn churn_converges(wire: &str) {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("churn").await;
    let nodes = support::make_nodes(&client, &ns, 4, 500).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns, "--wire", wire]);
    blocking({
        let w = w.seen.clone();
        move || {
            while !w.lock().unwrap().synced {
                std::thread::sleep(Duration::from_millis(20))
            }
        }
    })
    .await;
    churn(&client, &ns, &nodes, "p", 1000).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    // 1000 pods: 100 finished twice over, 100 deleted: 700 count.
    assert_eq!(want.values().sum::<u64>(), 700);
    w.converges_to(&want, CONVERGE);
    assert!(w.seen.lock().unwrap().types("change") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_while_watching_converges_to_a_fresh_list() {
    churn_converges("protobuf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_while_watching_over_json_converges_too() {
    churn_converges("json").await;
}

/// `watch --group-by`: group change lines (text) and group-change events
/// (jsonl) that add up to the per-node truth; node changes carry their group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_by_prints_group_changes_that_add_up() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("groups").await;
    let nodes = support::make_nodes(&client, &ns, 4, 500).await;
    let pool = format!("podcount.test/pool-{ns}");
    let pools = ["a", "a", "b", ""]; // the last node has no label: <none>
    for (n, p) in nodes.iter().zip(pools) {
        if !p.is_empty() {
            support::label_node(&client, n, &pool, p).await;
        }
    }
    let sel = format!("podcount.test/node in ({})", nodes.join(","));
    let args = ["-n", ns.as_str(), "--node-selector", sel.as_str(), "--group-by", pool.as_str()];
    let mut listen_args = args.to_vec();
    listen_args.extend(["--listen", "127.0.0.1:0"]);
    let w = Watcher::start(&c.kubeconfig, &listen_args);
    let mut text_args = vec!["watch", "--interval", "0", "--for", "20s"];
    text_args.extend_from_slice(&args);
    let text = support::podcount_cmd(&c.kubeconfig, &text_args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = w.seen.clone();
    blocking(move || {
        while !seen.lock().unwrap().synced {
            std::thread::sleep(Duration::from_millis(20))
        }
    })
    .await;
    churn(&client, &ns, &nodes, "g", 200).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let mut want_groups = std::collections::BTreeMap::new();
    for (n, p) in nodes.iter().zip(pools) {
        let g = if p.is_empty() { "<none>" } else { p };
        *want_groups.entry(g.to_string()).or_insert(0) += want.get(n).copied().unwrap_or(0);
    }
    assert_eq!(want_groups.values().sum::<u64>(), 140);
    w.converges_to(&want, CONVERGE);
    let wg = want_groups.clone();
    w.wait_for("groups to add up", CONVERGE, move |s| s.groups == wg);
    {
        let seen = w.seen.lock().unwrap();
        assert!(seen.broken.is_empty(), "{:?}", seen.broken);
        assert!(seen.types("group-change") > 0);
        for l in seen.lines.iter().filter(|l| l["type"] == "change") {
            let i = nodes.iter().position(|n| l["node"] == n.as_str()).unwrap();
            let g = if pools[i].is_empty() { "<none>" } else { pools[i] };
            assert_eq!(l["group"], g, "{l}");
        }
    }
    // --listen: the groups as metrics, and in the served document.
    let base = w.listen_url();
    let (status, metrics) = blocking({
        let base = base.clone();
        move || support::http("GET", &base, "/metrics")
    })
    .await;
    assert_eq!(status, 200);
    for (g, n) in &want_groups {
        let line = format!(r#"podcount_group_pods{{context="podcount-test",group_by="{pool}",group="{g}"}} {n}"#);
        assert!(metrics.contains(&line), "{line} missing from\n{metrics}");
    }
    // count --from a watch grouped by the same label answers from it; -L of
    // a label it does not keep falls back to a List, saying why.
    let from_args = ["-n", ns.as_str(), "--node-selector", sel.as_str(), "--from", base.as_str()];
    let out =
        support::podcount(&c.kubeconfig, &[&from_args[..], &["--group-by", pool.as_str(), "-o", "json"]].concat());
    assert!(support::stderr(&out).is_empty(), "{}", support::stderr(&out));
    let counted: std::collections::BTreeMap<String, u64> = support::json_of(&out)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap().to_string(), g["pods"].as_u64().unwrap()))
        .collect();
    assert_eq!(counted, want_groups);
    let out = support::podcount(&c.kubeconfig, &[&from_args[..], &["-L", "kubernetes.io/arch"]].concat());
    assert!(out.status.success());
    assert!(support::stderr(&out).contains(r#"keeps no node label "kubernetes.io/arch""#), "{}", support::stderr(&out));
    let (_, doc) = blocking(move || support::http("GET", &base, "/v1/podcount")).await;
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["groupBy"], pool.as_str());
    let served: std::collections::BTreeMap<String, u64> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap().to_string(), g["pods"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(served, want_groups);
    // Text: one line per group change, "LABEL=VALUE  FROM → TO", no node lines.
    let out = blocking(move || text.wait_with_output().unwrap()).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let header = format!("{}   NODES", support_header(&pool));
    assert!(stdout.starts_with(&header), "{stdout}");
    let last = |g: &str| {
        stdout
            .lines()
            .rfind(|l| l.contains(&format!("  {pool}={g}  ")))
            .and_then(|l| l.split(" → ").nth(1))
            .and_then(|r| r.split_whitespace().next())
            .map(|n| n.parse::<u64>().unwrap())
    };
    for (g, n) in &want_groups {
        assert_eq!(last(g), Some(*n), "{g}: {stdout}");
    }
    let changes: Vec<&str> = stdout.lines().filter(|l| l.contains(" → ")).collect();
    assert!(!changes.is_empty(), "{stdout}");
    for l in changes {
        let subject = l.split_whitespace().nth(1).unwrap();
        assert!(subject.starts_with(&format!("{pool}=")), "a group, not a node: {l}");
    }
    for n in &nodes {
        support::delete_node(&client, n).await;
    }
}

/// `watch --schedulable-only`: a cordoned node is out of the counts and
/// its changes print no lines; the first table's footer says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedulable_only_keeps_cordoned_nodes_out_of_the_stream() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("open").await;
    let open = support::make_nodes(&client, &ns, 2, 500).await;
    let cordoned = format!("{ns}-cordoned");
    support::create_node(&client, &cordoned, 500, true, false).await;
    for (i, n) in open.iter().chain([&cordoned]).enumerate() {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("before-{i}"), Some(n), "Running")).await;
    }
    let mut all = open.clone();
    all.push(cordoned.clone());
    let sel = format!("podcount.test/node in ({})", all.join(","));
    let args = ["-n", ns.as_str(), "--node-selector", sel.as_str(), "--schedulable-only"];
    let w = Watcher::start(&c.kubeconfig, &args);
    let want: std::collections::BTreeMap<String, u64> = open.iter().map(|n| (n.clone(), 1)).collect();
    let w2 = want.clone();
    let w = blocking(move || {
        w.converges_to(&w2, CONVERGE);
        w
    })
    .await;
    for k in 0..3 {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("after-{k}"), Some(&cordoned), "Running")).await;
    }
    support::create_pod(&client, &ns, &PodSpec::new("after-open", Some(&open[0]), "Running")).await;
    let mut want = want;
    *want.get_mut(&open[0]).unwrap() += 1;
    blocking(move || {
        w.converges_to(&want, CONVERGE);
        let seen = w.seen.lock().unwrap();
        assert!(!seen.lines.iter().any(|l| l["node"] == cordoned.as_str()), "{:?}", seen.lines);
    })
    .await;
    let mut text_args = vec!["watch", "--for", "1s"];
    text_args.extend_from_slice(&args);
    let out = blocking({
        let kc = c.kubeconfig.clone();
        let text_args: Vec<String> = text_args.iter().map(|s| s.to_string()).collect();
        move || {
            let a: Vec<&str> = text_args.iter().map(String::as_str).collect();
            support::podcount(&kc, &a)
        }
    })
    .await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("TOTAL 3 pods on 2 nodes"), "{text}");
    assert!(text.contains("1 cordoned or tainted nodes left out (--schedulable-only)"), "{text}");
    for n in &all {
        support::delete_node(&client, n).await;
    }
}

/// kubectl's -L header: the key after its last '/', upper-cased.
fn support_header(key: &str) -> String {
    key.rsplit('/').next().unwrap().to_uppercase()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_again_and_again_mid_stream() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("cut").await;
    let nodes = support::make_nodes(&client, &ns, 3, 500).await;
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-cut");
    let w = Watcher::start(&kc, &["-n", &ns]);
    let seen = w.seen.clone();
    blocking(move || {
        while !seen.lock().unwrap().synced {
            std::thread::sleep(Duration::from_millis(20))
        }
    })
    .await;
    let work = churn(&client, &ns, &nodes, "p", 400);
    let cuts = async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            proxy.drop_all();
        }
    };
    tokio::join!(work, cuts);
    let want = kubectl_counts(&c.kubeconfig, &ns);
    w.converges_to(&want, CONVERGE);
    let seen = w.seen.lock().unwrap();
    assert!(seen.types("reconnecting") > 0, "the cuts were not noticed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apiserver_restart_on_the_same_data() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("restart").await;
    let nodes = support::make_nodes(&client, &ns, 2, 500).await;
    churn(&client, &ns, &nodes, "before", 100).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns]);
    w.synced();
    blocking(|| cluster().restart_apiserver()).await;
    let client = c.client().await;
    churn(&client, &ns, &nodes, "after", 200).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    assert_eq!(want.values().sum::<u64>(), 210);
    w.converges_to(&want, CONVERGE);
    assert!(w.seen.lock().unwrap().types("reconnecting") > 0, "the restart was not noticed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_view_then_nodes_come_and_go() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("empty").await;
    let (a, b) = (format!("{ns}-a"), format!("{ns}-b"));
    let selector = format!("podcount.test/node in ({a},{b})");
    let args = ["-n", ns.as_str(), "--node-selector", selector.as_str()];
    let w = Watcher::start(&c.kubeconfig, &args);
    w.synced();
    assert!(w.seen.lock().unwrap().counts.is_empty());

    support::create_node(&client, &a, 10, true, true).await;
    w.wait_for("node a added", CONVERGE, |s| s.lines.iter().any(|l| l["type"] == "node-added" && l["node"] == a));
    for i in 0..3 {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("a-{i}"), Some(&a), "Running")).await;
    }
    w.converges_to(&fresh_counts(&c.kubeconfig, &args), CONVERGE);
    assert_eq!(w.seen.lock().unwrap().counts.get(&a), Some(&3));

    // Deleted while pods still point at it: it leaves the selected view.
    support::delete_node(&client, &a).await;
    w.wait_for("node a removed", CONVERGE, |s| s.lines.iter().any(|l| l["type"] == "node-removed" && l["node"] == a));
    support::create_node(&client, &b, 10, true, true).await;
    for i in 0..2 {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("b-{i}"), Some(&b), "Running")).await;
    }
    let want = fresh_counts(&c.kubeconfig, &args);
    assert_eq!(want.get(&b), Some(&2));
    assert_eq!(want.get(&a), None);
    w.converges_to(&want, CONVERGE);

    // Without the selector the orphaned pods still count, against a missing node.
    let all = ["-n", ns.as_str()];
    let w2 = Watcher::start(&c.kubeconfig, &all);
    w2.synced();
    assert_eq!(w2.seen.lock().unwrap().counts.get(&a), Some(&3));
    w2.converges_to(&fresh_counts(&c.kubeconfig, &all), CONVERGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_saturated_for_and_ctrl_c_end_the_watch_with_their_codes() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("stop").await;
    let node = support::make_nodes(&client, &ns, 1, 4).await.remove(0);
    let sel = format!("podcount.test/node={node}");
    let mut w = Watcher::start(&c.kubeconfig, &["-n", &ns, "--node-selector", &sel, "--until-saturated", "75%"]);
    w.synced();
    for i in 0..3 {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("p-{i}"), Some(&node), "Running")).await;
    }
    w.wait_for("3 pods", CONVERGE, |s| s.counts.get(&node) == Some(&3));
    support::create_pod(&client, &ns, &PodSpec::new("p-3", Some(&node), "Running")).await;
    assert_eq!(w.exit_code(CONVERGE), Some(1));
    assert!(
        w.stderr().contains(&format!("node {node} is 100.0% saturated (4/4 pods), above --until-saturated 75%")),
        "{}",
        w.stderr()
    );

    let mut w = Watcher::start(&c.kubeconfig, &["-n", &ns, "--for", "2s"]);
    assert_eq!(w.exit_code(CONVERGE), Some(0));
    assert!(w.seen.lock().unwrap().synced);

    let mut w = Watcher::start(&c.kubeconfig, &["-n", &ns]);
    w.synced();
    let pid = w.pid().to_string();
    std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert_eq!(w.exit_code(CONVERGE), Some(0));
    assert!(w.stderr().contains("changes printed"), "no final summary: {}", w.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_mode_prints_the_table_then_change_lines() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("lines").await;
    let node = support::make_nodes(&client, &ns, 1, 10).await.remove(0);
    let sel = format!("podcount.test/node={node}");
    let mut child = support::podcount_cmd(
        &c.kubeconfig,
        &["watch", "-n", &ns, "--node-selector", &sel, "--interval", "0", "--for", "8s"],
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    support::create_pod(&client, &ns, &PodSpec::new("one", Some(&node), "Running")).await;
    let out = blocking(move || {
        use std::io::Read;
        let mut s = String::new();
        child.stdout.take().unwrap().read_to_string(&mut s).unwrap();
        child.wait().unwrap();
        s
    })
    .await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NODE"), "{out}");
    assert!(lines[1].starts_with(&format!("{node}   0")), "{out}");
    let change = lines.iter().find(|l| l.contains(" → ")).unwrap_or_else(|| panic!("no change line: {out}"));
    let (time, rest) = change.split_at(8);
    assert!(
        time.bytes().enumerate().all(|(i, b)| if i == 2 || i == 5 { b == b':' } else { b.is_ascii_digit() }),
        "{change}"
    );
    assert_eq!(rest, format!("  {node}  0 → 1  (+1)  10%"));
}

/// RSS of a process, in KiB, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The plugin process under kubectl (kubectl execs it, so usually the same pid).
fn plugin_pid(w: &Watcher) -> u32 {
    let pid = w.pid();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert!(comm.trim().starts_with("kubectl-podcoun"), "kubectl did not exec the plugin: {comm}");
    pid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_tens_of_thousands_of_events_with_flat_memory() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("soak").await;
    let nodes = support::make_nodes(&client, &ns, 5, 5000).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns]);
    w.synced();
    let pid = plugin_pid(&w);
    // A first round grows the store to its working size; later rounds must
    // not grow it further.
    churn(&client, &ns, &nodes, "warm", 1000).await;
    let start_rss = rss_kib(pid);
    let rounds = 8;
    for round in 0..rounds {
        churn(&client, &ns, &nodes, &format!("r{round}"), 1000).await;
    }
    let want = kubectl_counts(&c.kubeconfig, &ns);
    w.converges_to(&want, CONVERGE);
    let end_rss = rss_kib(pid);
    let changes = w.seen.lock().unwrap().types("change");
    let pods = 1000 * (rounds + 1);
    eprintln!("soak: {pods} pods churned, {changes} change lines; plugin RSS {start_rss} KiB -> {end_rss} KiB");
    // With --interval 0 every count-changing event is one line: 13 for
    // every 10 churned pods (see churn), none lost, none doubled.
    assert_eq!(changes, pods * 13 / 10);
    assert!(end_rss <= start_rss + start_rss / 2 + 8 * 1024, "RSS grew from {start_rss} KiB to {end_rss} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_caches_too_old_resource_version_relists() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("tooold").await;
    let nodes = support::make_nodes(&client, &ns, 2, 500).await;
    churn(&client, &ns, &nodes, "before", 20).await;
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-tooold");
    let w = Watcher::start(&kc, &["-n", &ns]);
    let w = blocking(move || {
        w.synced();
        w
    })
    .await;
    // Nothing reaches the watch while pods change; then the apiserver
    // restarts, and its new cache starts after the watch's resourceVersion.
    proxy.pause_after(0);
    // Pods churn left running (see churn: i % 10 of 7, 8, 9).
    for name in ["before-7", "before-8", "before-17", "before-18"] {
        support::delete_pod(&client, &ns, name, false).await;
    }
    churn(&client, &ns, &nodes, "during", 30).await;
    blocking(|| cluster().restart_apiserver()).await;
    proxy.drop_all();
    proxy.resume();
    let client = c.client().await;
    churn(&client, &ns, &nodes, "after", 20).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let w = blocking(move || {
        w.converges_to(&want, CONVERGE);
        w
    })
    .await;
    let seen = w.seen.lock().unwrap();
    let relists: Vec<_> = seen.lines.iter().filter(|l| l["type"] == "relisting").collect();
    assert!(
        relists.iter().any(|l| l["reason"].as_str().unwrap_or("").contains("410")),
        "no relist after the cache's 410: {relists:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchlist_mode_syncs_from_one_stream_and_follows_churn() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("wl").await;
    let nodes = support::make_nodes(&client, &ns, 3, 5000).await;
    // More than one initial batch (500) of objects.
    churn(&client, &ns, &nodes, "before", 1200).await;
    let args = ["-n", ns.as_str(), "--initial-list", "stream"];
    let w = Watcher::start(&c.kubeconfig, &args);
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let w = blocking(move || {
        w.synced();
        w.converges_to(&want, CONVERGE);
        w
    })
    .await;
    churn(&client, &ns, &nodes, "after", 200).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    assert_eq!(want, fresh_counts(&c.kubeconfig, &["-n", &ns]), "count agrees with kubectl");
    let w = blocking(move || {
        w.converges_to(&want, CONVERGE);
        w
    })
    .await;
    let seen = w.seen.lock().unwrap();
    assert!(!seen.lines.iter().any(|l| l["type"] == "relisting"), "fell back or relisted: {:?}", seen.lines.len());
}

/// Per-node pods (non-zero) in a Prometheus exposition's podcount_node_pods.
fn metric_counts(text: &str) -> std::collections::BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("podcount_node_pods{"))
        .filter_map(|l| {
            let node = l.split("node=\"").nth(1)?.split('"').next()?.to_string();
            let value: u64 = l.rsplit(' ').next()?.parse().ok()?;
            (value > 0).then_some((node, value))
        })
        .collect()
}

fn without_volatile(mut doc: serde_json::Value) -> serde_json::Value {
    doc.as_object_mut().unwrap().remove("observedAt");
    doc.as_object_mut().unwrap().remove("resourceVersion");
    doc.as_object_mut().unwrap().remove("nodeResourceVersion");
    doc
}

/// `watch --listen`: after churn, /v1/podcount and /metrics equal kubectl's
/// counts and a fresh `count -o json`; `count --from` answers the same from
/// memory, and falls back to the List (one warning, exact) on another filter
/// or once the watch is gone; only GET is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_serves_what_a_fresh_count_says_and_count_from_uses_it() {
    use support::{http, json_of, podcount, stderr};
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("listen").await;
    let nodes = support::make_nodes(&client, &ns, 3, 500).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns, "--listen", "127.0.0.1:0"]);
    let (w, url) = blocking(move || {
        let url = w.listen_url();
        w.synced();
        (w, url)
    })
    .await;
    churn(&client, &ns, &nodes, "p", 300).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let w = blocking(move || {
        w.converges_to(&want, CONVERGE);
        w
    })
    .await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let kc = c.kubeconfig.clone();
    let (ns2, url2, want2) = (ns.clone(), url.clone(), want.clone());
    blocking(move || {
        let (ns, url, want) = (ns2, url2, want2);
        assert_eq!(http("GET", &url, "/readyz"), (200, "ok\n".to_string()));
        assert_eq!(http("GET", &url, "/healthz").0, 200);
        let (status, body) = http("GET", &url, "/v1/podcount");
        assert_eq!(status, 200, "{body}");
        let mut served: serde_json::Value = serde_json::from_str(&body).unwrap();
        // Which cluster it watches: kube-system's UID, as kubectl reads it.
        let uid = std::process::Command::new("kubectl")
            .args(["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"])
            .env("KUBECONFIG", &kc)
            .output()
            .unwrap();
        let uid = String::from_utf8(uid.stdout).unwrap();
        assert!(!uid.is_empty());
        assert_eq!(served.as_object_mut().unwrap().remove("clusterID"), Some(serde_json::json!(uid)));
        let fresh = json_of(&podcount(&kc, &["-o", "json", "-n", &ns]));
        assert_eq!(without_volatile(served.clone()), without_volatile(fresh.clone()));
        let served_counts: std::collections::BTreeMap<String, u64> = served["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["name"].as_str().unwrap().to_string(), n["pods"].as_u64().unwrap()))
            .filter(|(_, p)| *p > 0)
            .collect();
        assert_eq!(served_counts, want, "against kubectl's own count");
        assert!(served["resourceVersion"].as_str().is_some_and(|rv| !rv.is_empty()), "{served}");

        let (status, metrics) = http("GET", &url, "/metrics");
        assert_eq!(status, 200);
        let seen = metric_counts(&metrics);
        let on_our_nodes: std::collections::BTreeMap<String, u64> =
            seen.into_iter().filter(|(n, _)| want.contains_key(n)).collect();
        assert_eq!(on_our_nodes, want, "{metrics}");
        for line in [
            r#"podcount_informer_synced{context="podcount-test",resource="pods"} 1"#,
            r#"podcount_informer_synced{context="podcount-test",resource="nodes"} 1"#,
        ] {
            assert!(metrics.contains(line), "{line} missing");
        }
        assert!(metrics.contains("podcount_event_apply_lag_seconds_bucket"));
        assert!(metrics.contains("podcount_store_pods{context=\"podcount-test\"}"));

        // Only GET (and HEAD); unknown paths are 404.
        assert_eq!(http("POST", &url, "/metrics").0, 405);
        assert_eq!(http("DELETE", &url, "/v1/podcount").0, 405);
        assert_eq!(http("GET", &url, "/nope").0, 404);

        // --from: the same document, from memory, no warning.
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let out = podcount(&kc, &["-o", "json", "-n", &ns, "--from", &url]);
            times.push(started.elapsed());
            assert!(out.status.success() && stderr(&out).is_empty(), "{}", stderr(&out));
            assert_eq!(without_volatile(json_of(&out)), without_volatile(fresh.clone()));
        }
        times.sort();
        eprintln!("count --from: median {:?} wall over 10 runs (process start to exit)", times[5]);
        // The same cluster under another context name (a laptop's kubeconfig):
        // matched on the cluster's identity, printed under the user's name.
        let renamed = kc.with_file_name("kubeconfig-prod-eu");
        std::fs::write(&renamed, std::fs::read_to_string(&kc).unwrap().replace("podcount-test", "prod-eu")).unwrap();
        let out = podcount(&renamed, &["-o", "json", "-n", &ns, "--from", &url]);
        assert!(out.status.success() && stderr(&out).is_empty(), "{}", stderr(&out));
        let mut fresh_here = fresh.clone();
        fresh_here["context"] = serde_json::json!("prod-eu");
        assert_eq!(without_volatile(json_of(&out)), without_volatile(fresh_here));
        // Another filter: the watch cannot answer it; the List does.
        let out = podcount(&kc, &["-o", "json", "-n", "default", "--from", &url]);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with(&format!("warning: --from {url}: it watches other filters")), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(
            without_volatile(json_of(&out)),
            without_volatile(json_of(&podcount(&kc, &["-o", "json", "-n", "default"])))
        );
    })
    .await;
    drop(w);
    // The watch is gone: the List, with one warning, exact.
    let out = support::podcount(&c.kubeconfig, &["-o", "json", "-n", &ns, "--from", &url]);
    assert_eq!(out.status.code(), Some(0));
    let err = support::stderr(&out);
    assert!(err.contains("unreachable") && err.contains("counting with a List instead"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let doc = support::json_of(&out);
    let counts: std::collections::BTreeMap<String, u64> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["pods"].as_u64().unwrap()))
        .filter(|(_, p)| *p > 0)
        .collect();
    assert_eq!(counts, want);
}

/// A file of a Go module, fetched from the module proxy into the module
/// cache (the CRDs prometheus-operator and cert-manager publish).
fn module_file(module: &str, file: &str) -> std::path::PathBuf {
    let tmp = std::env::temp_dir();
    let out = std::process::Command::new("go")
        .args(["mod", "download", "-json", module])
        .current_dir(&tmp)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off")
        .output()
        .expect("run go mod download");
    assert!(out.status.success(), "go mod download {module}: {}", String::from_utf8_lossy(&out.stdout));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    std::path::PathBuf::from(info["Dir"].as_str().unwrap()).join(file)
}

/// prometheus-operator's and cert-manager's own CRDs (ServiceMonitor,
/// PrometheusRule, Certificate, Issuer), from their Go modules, on the bed.
fn install_crds(c: &Cluster) {
    let kubectl = |args: &[&str]| {
        std::process::Command::new("kubectl").args(args).env("KUBECONFIG", &c.kubeconfig).output().unwrap()
    };
    let crds = [
        (
            "github.com/prometheus-operator/prometheus-operator@v0.85.0",
            "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
        ),
        (
            "github.com/prometheus-operator/prometheus-operator@v0.85.0",
            "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
        ),
        ("github.com/cert-manager/cert-manager@v1.21.2", "deploy/crds/cert-manager.io_certificates.yaml"),
        ("github.com/cert-manager/cert-manager@v1.21.2", "deploy/crds/cert-manager.io_issuers.yaml"),
    ];
    for (module, file) in crds {
        let path = module_file(module, file);
        let out = kubectl(&["apply", "--server-side", "-f", &path.display().to_string()]);
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    }
    for crd in [
        "servicemonitors.monitoring.coreos.com",
        "prometheusrules.monitoring.coreos.com",
        "certificates.cert-manager.io",
        "issuers.cert-manager.io",
    ] {
        let out = kubectl(&["wait", "--for", "condition=established", "--timeout", "60s", &format!("crd/{crd}")]);
        assert!(out.status.success(), "{crd}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// deploy/: the kustomize base and each overlay render (`kubectl kustomize`)
/// and pass the real apiserver's server-side dry run (schema, RBAC objects,
/// probes, security context), the operator's and cert-manager's objects
/// against those projects' own CRDs installed on the bed.
#[tokio::test]
async fn deploy_overlays_pass_server_side_dry_run() {
    // Installing CRDs keeps the apiserver busy (discovery, OpenAPI): not
    // beside the tests that time its reviews.
    let _one_at_a_time = serial().await;
    let c = cluster();
    let kubectl = |args: &[&str]| {
        std::process::Command::new("kubectl").args(args).env("KUBECONFIG", &c.kubeconfig).output().unwrap()
    };
    install_crds(c);
    // Namespaced objects are checked against an existing namespace.
    let _ = kubectl(&["create", "namespace", "podcount"]);
    let root = env!("CARGO_MANIFEST_DIR");
    let base = [
        "serviceaccount/podcount",
        "clusterrole.rbac.authorization.k8s.io/podcount-reader",
        "clusterrolebinding.rbac.authorization.k8s.io/podcount-reader",
        "clusterrolebinding.rbac.authorization.k8s.io/podcount-auth-delegator",
        "clusterrole.rbac.authorization.k8s.io/podcount-metrics-reader",
        "deployment.apps/podcount",
        "service/podcount",
    ];
    let overlays: [(&str, &[&str]); 4] = [
        ("base", &[]),
        ("overlays/prometheus", &["clusterrolebinding.rbac.authorization.k8s.io/podcount-metrics-reader"]),
        (
            "overlays/operator",
            &[
                "servicemonitor.monitoring.coreos.com/podcount",
                "prometheusrule.monitoring.coreos.com/podcount",
                "clusterrolebinding.rbac.authorization.k8s.io/podcount-metrics-reader",
                "configmap/podcount-dashboard",
            ],
        ),
        (
            "overlays/cert-manager",
            &[
                "issuer.cert-manager.io/podcount-selfsigned",
                "issuer.cert-manager.io/podcount-ca",
                "certificate.cert-manager.io/podcount-ca",
                "certificate.cert-manager.io/podcount-tls",
            ],
        ),
    ];
    for (dir, extra) in overlays {
        let rendered = kubectl(&["kustomize", &format!("{root}/deploy/{dir}")]);
        assert!(rendered.status.success(), "kubectl kustomize {dir}: {}", String::from_utf8_lossy(&rendered.stderr));
        let file = c.dir.join(format!("deploy-{}.yaml", dir.replace('/', "-")));
        std::fs::write(&file, &rendered.stdout).unwrap();
        let out = kubectl(&["apply", "--dry-run=server", "-f", &file.display().to_string()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{dir}: {}", String::from_utf8_lossy(&out.stderr));
        for want in base.iter().chain(extra) {
            assert!(text.contains(&format!("{want} created (server dry run)")), "{dir}: {want} missing from {text}");
        }
    }
}

/// The pods of a List at exactly `rv` in `ns`, recounted by the counting
/// rule from kubectl's JSON (none of our decoding): per node, and unscheduled.
fn exact_counts(c: &Cluster, ns: &str, rv: &str) -> (BTreeMap<String, u64>, u64) {
    let path = format!("/api/v1/namespaces/{ns}/pods?resourceVersion={rv}&resourceVersionMatch=Exact");
    let out = std::process::Command::new("kubectl")
        .args(["get", "--raw", &path])
        .env("KUBECONFIG", &c.kubeconfig)
        .output()
        .expect("run kubectl");
    assert!(out.status.success(), "kubectl get --raw {path}: {}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (mut nodes, mut unscheduled) = (BTreeMap::new(), 0);
    for p in list["items"].as_array().unwrap() {
        if matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")) {
            continue;
        }
        match p["spec"]["nodeName"].as_str() {
            Some(n) if !n.is_empty() => *nodes.entry(n.to_string()).or_insert(0) += 1,
            _ => unscheduled += 1,
        }
    }
    (nodes, unscheduled)
}

/// The promise of `watch --listen`: every answer is the cluster at the
/// resourceVersion it claims. While pods churn through every transition the
/// counting rule cares about, `/v1/podcount` is read as fast as it answers,
/// and each answer is checked against a List at exactly its resourceVersion.
/// (Claiming the resourceVersion of an event read but not yet applied, as an
/// earlier version did, fails this within a few rounds.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_answer_is_the_cluster_at_the_resource_version_it_claims() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let _one_at_a_time = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("exact").await;
    let nodes = support::make_nodes(&client, &ns, 3, 500).await;
    let mut w = Watcher::start(&c.kubeconfig, &["-n", &ns, "--listen", "127.0.0.1:0"]);
    let url = w.listen_url();
    w = blocking(move || {
        w.synced();
        w
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (stop, url, ours) = (stop.clone(), url.clone(), nodes.clone());
        std::thread::spawn(move || {
            let mut answers: Vec<(String, BTreeMap<String, u64>, u64)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                let (status, body) = support::http("GET", &url, "/v1/podcount");
                if status != 200 {
                    continue; // not ready: it says so, and claims nothing
                }
                let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
                let rv = doc["resourceVersion"].as_str().expect("an answer names its resourceVersion").to_string();
                let counts = doc["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|n| ours.iter().any(|o| n["name"] == *o) && n["pods"].as_u64() > Some(0))
                    .map(|n| (n["name"].as_str().unwrap().to_string(), n["pods"].as_u64().unwrap()))
                    .collect();
                let unscheduled = doc["unscheduled"].as_u64().unwrap();
                if answers.last().is_none_or(|(last, ..)| *last != rv) {
                    answers.push((rv, counts, unscheduled));
                }
            }
            answers
        })
    };
    for round in 0..4 {
        churn(&client, &ns, &nodes, &format!("r{round}"), 60).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let answers = blocking(move || poller.join().unwrap()).await;
    assert!(answers.len() >= 10, "only {} distinct answers while 240 pods churned", answers.len());
    let (c2, ns2) = (c, ns.clone());
    let checked = blocking(move || {
        for (rv, counts, unscheduled) in &answers {
            let (want, want_unscheduled) = exact_counts(c2, &ns2, rv);
            assert_eq!((counts, *unscheduled), (&want, want_unscheduled), "the answer at resourceVersion {rv}");
        }
        answers.len()
    })
    .await;
    eprintln!("{checked} answers checked against a List at their resourceVersion");
    drop(w);
}

/// `curl -k` (the listener's certificate is self-signed): the status code.
fn https_status(url: &str, path: &str, token: Option<&str>) -> u16 {
    assert!(url.starts_with("https://127.0.0.1:"), "tests only talk to loopback: {url}");
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-k", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"]);
    if let Some(t) = token {
        cmd.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    let out = cmd.arg(format!("{url}{path}")).output().expect("run curl");
    String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0)
}

/// `--listen-auth kubernetes`: the apiserver decides who reads the counts.
/// A granted ServiceAccount gets 200, one RBAC does not grant 403, no token
/// and a made-up one 401, the probes stay open, and when the apiserver
/// cannot be asked the answer is 503, not an open door.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_auth_asks_the_apiserver_who_may_read() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    use kube::api::{Api, PostParams};
    use support::proxy::acceptor;
    let _one_at_a_time = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("auth").await;
    let reader = support::service_account_token(&client, &ns, "reader").await;
    let stranger = support::service_account_token(&client, &ns, "stranger").await;
    let role = format!("{ns}-podcount-reader");
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let cr = serde_json::json!({"metadata": {"name": role},
        "rules": [{"nonResourceURLs": ["/metrics", "/v1/podcount"], "verbs": ["get"]}]});
    roles.create(&PostParams::default(), &serde_json::from_value(cr).unwrap()).await.unwrap();
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    let crb = serde_json::json!({"metadata": {"name": role},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}]});
    bindings.create(&PostParams::default(), &serde_json::from_value(crb).unwrap()).await.unwrap();

    // Through a proxy, so the apiserver can be made unreachable at the end.
    let proxy = Proxy::start_with(upstream(c), Some(acceptor(&c.dir))).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-auth");
    let mut w = Watcher::start(&kc, &["-n", &ns, "--listen", "127.0.0.1:0", "--listen-auth", "kubernetes"]);
    let url = w.listen_url();
    assert!(url.starts_with("https://"), "served over TLS: {url}");
    w = blocking(move || {
        w.synced();
        w
    })
    .await;
    assert!(w.stderr().contains("serving a self-signed certificate"), "{}", w.stderr());
    // Synced is not yet ready: /v1/podcount says 503 until both watches are
    // open (the first one opens just after the list). Wait for that, bounded.
    let u = url.clone();
    let ready = blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while https_status(&u, "/readyz", None) != 200 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        https_status(&u, "/readyz", None)
    })
    .await;
    assert_eq!(ready, 200, "ready within 30 s of the sync");
    let (u, r, s) = (url.clone(), reader.clone(), stranger.clone());
    let statuses = blocking(move || {
        [
            https_status(&u, "/metrics", Some(&r)),
            https_status(&u, "/v1/podcount", Some(&r)),
            https_status(&u, "/metrics", Some(&s)),
            https_status(&u, "/metrics", None),
            https_status(&u, "/metrics", Some("not-a-token")),
            https_status(&u, "/readyz", None),
            https_status(&u, "/healthz", None),
        ]
    })
    .await;
    assert_eq!(statuses, [200, 200, 403, 401, 401, 200, 200], "granted, granted, not granted, none, garbage, probes");

    // The apiserver unreachable: a token not yet reviewed gets 503.
    let fresh = support::service_account_token(&client, &ns, "reader").await;
    proxy.refuse_new(true);
    proxy.drop_all();
    let u = url.clone();
    let status = blocking(move || https_status(&u, "/v1/podcount", Some(&fresh))).await;
    assert_eq!(status, 503, "an apiserver that cannot answer closes the door");
    proxy.refuse_new(false);
    drop(w);
}

/// `watch --group-by` with a label no node carries says so before the first
/// table, with look-alikes, as `count` does; the watch still runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_by_a_label_no_node_carries_warns() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("nolabel").await;
    let node = support::make_nodes(&client, &ns, 1, 10).await.remove(0);
    support::label_node(&client, &node, "topology.kubernetes.io/zone", "zone-a").await;
    let sel = format!("podcount.test/node={node}");
    let args = ["-n", ns.as_str(), "--node-selector", sel.as_str(), "--for", "2s"];
    let mut w = Watcher::start(&c.kubeconfig, &[&args[..], &["--group-by", "topology.kubernetes.io/zones"]].concat());
    assert_eq!(w.exit_code(CONVERGE), Some(0), "{}", w.stderr());
    let want = r#"warning: no listed node carries the label "topology.kubernetes.io/zones" (--group-by); nodes carry "topology.kubernetes.io/zone""#;
    assert!(w.stderr().contains(want), "{}", w.stderr());
    // count says the same words.
    let out = support::podcount(&c.kubeconfig, &[&args[..4], &["--group-by", "topology.kubernetes.io/zones"]].concat());
    assert!(support::stderr(&out).contains(&want["warning: ".len()..]), "{}", support::stderr(&out));
    // A label the node carries: no warning.
    let mut w = Watcher::start(&c.kubeconfig, &[&args[..], &["--group-by", "zone"]].concat());
    assert_eq!(w.exit_code(CONVERGE), Some(0));
    assert!(!w.stderr().contains("no listed node carries"), "{}", w.stderr());
}

/// `curl --cacert CA`: the status code, 0 when the certificate is not trusted.
fn https_status_verified(url: &str, path: &str, ca: &std::path::Path) -> u16 {
    assert!(url.starts_with("https://127.0.0.1:"), "tests only talk to loopback: {url}");
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "--cacert"])
        .arg(ca)
        .arg(format!("{url}{path}"))
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0)
}

/// `--listen-tls-cert/--listen-tls-key` files rotated under a running watch
/// (as cert-manager renews them): new connections get the new certificate,
/// with no restart; a half-written pair keeps the old one serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_certificate_is_served_without_a_restart() {
    let c = cluster();
    let dir = c.dir.join(format!("tls-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let make = |name: &str| {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), name.to_string()]).unwrap();
        let (c, k) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
        std::fs::write(&c, support::pem("CERTIFICATE", made.cert.der())).unwrap();
        std::fs::write(&k, support::pem("PRIVATE KEY", &made.signing_key.serialize_der())).unwrap();
        (c, k)
    };
    let (old_cert, old_key) = make("old");
    let (new_cert, new_key) = make("new");
    std::fs::copy(&old_cert, &cert).unwrap();
    std::fs::copy(&old_key, &key).unwrap();
    let (cs, ks) = (cert.display().to_string(), key.display().to_string());
    let w =
        Watcher::start(&c.kubeconfig, &["--listen", "127.0.0.1:0", "--listen-tls-cert", &cs, "--listen-tls-key", &ks]);
    let url = w.listen_url();
    let (u, oc) = (url.clone(), old_cert.clone());
    assert_eq!(blocking(move || https_status_verified(&u, "/healthz", &oc)).await, 200);

    // Half a rotation (the new certificate, the old key): still the old pair.
    tokio::time::sleep(Duration::from_millis(20)).await;
    std::fs::copy(&new_cert, &cert).unwrap();
    let (u, oc) = (url.clone(), old_cert.clone());
    assert_eq!(blocking(move || https_status_verified(&u, "/healthz", &oc)).await, 200, "a mismatched pair was served");
    // The key follows: the new pair, on the next connection.
    std::fs::copy(&new_key, &key).unwrap();
    let (u, nc) = (url.clone(), new_cert.clone());
    assert_eq!(
        blocking(move || https_status_verified(&u, "/healthz", &nc)).await,
        200,
        "the new certificate is not served"
    );
    let (u, oc) = (url.clone(), old_cert.clone());
    assert_eq!(
        blocking(move || https_status_verified(&u, "/healthz", &oc)).await,
        0,
        "the old certificate is still served"
    );
    drop(w);
}

/// `count --from https://...` reads a watch served as deploy/ runs it
/// (`--listen-auth kubernetes`, TLS): with the kubeconfig user's token, the
/// certificate trusted by `--from-ca` or pinned by the fingerprint the watch
/// prints. Whatever stands in the way (an untrusted certificate, a wrong pin,
/// RBAC's 403, a client certificate where a token is reviewed) is one
/// warning saying what to do, and the answer comes from a List instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_from_reads_a_secured_watch() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    use kube::api::{Api, PostParams};
    let _one_at_a_time = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("from-tls").await;
    let nodes = support::make_nodes(&client, &ns, 2, 20).await;
    for i in 0..5 {
        let name = format!("p{i}");
        support::create_pod(&client, &ns, &PodSpec::new(&name, Some(&nodes[i % 2]), "Running")).await;
    }
    let reader = support::service_account_token(&client, &ns, "reader").await;
    let stranger = support::service_account_token(&client, &ns, "stranger").await;
    let viewer = support::service_account_token(&client, &ns, "viewer").await;
    let blind = support::service_account_token(&client, &ns, "blind").await;
    let role = format!("{ns}-podcount-from");
    let served = serde_json::json!({"nonResourceURLs": ["/v1/podcount"], "verbs": ["get"]});
    let list = serde_json::json!({"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["list", "watch"]});
    let identity = serde_json::json!({"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]});
    // viewer: the watch's answers and which cluster it is (podcount-metrics-reader
    // in deploy/base), no List; blind: the answers alone.
    for (name, rules, who) in [
        (role.clone(), serde_json::json!([served, list, identity]), "reader"),
        (format!("{role}-list"), serde_json::json!([list]), "stranger"),
        (format!("{role}-view"), serde_json::json!([served, identity]), "viewer"),
        (format!("{role}-blind"), serde_json::json!([served]), "blind"),
    ] {
        let cr = serde_json::json!({"metadata": {"name": name}, "rules": rules});
        Api::<ClusterRole>::all(client.clone())
            .create(&PostParams::default(), &serde_json::from_value(cr).unwrap())
            .await
            .unwrap();
        let crb = serde_json::json!({"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": who, "namespace": ns}]});
        Api::<ClusterRoleBinding>::all(client.clone())
            .create(&PostParams::default(), &serde_json::from_value(crb).unwrap())
            .await
            .unwrap();
    }
    let (reader_kc, stranger_kc) = (c.token_kubeconfig("reader", &reader), c.token_kubeconfig("stranger", &stranger));

    // The watch's own certificate, as cert-manager would give it.
    let dir = c.dir.join(format!("from-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::write(&cert, support::pem("CERTIFICATE", made.cert.der())).unwrap();
    std::fs::write(&key, support::pem("PRIVATE KEY", &made.signing_key.serialize_der())).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let other_ca = dir.join("other.crt");
    std::fs::write(&other_ca, support::pem("CERTIFICATE", other.cert.der())).unwrap();
    let (cs, ks) = (cert.display().to_string(), key.display().to_string());
    let w = Watcher::start(
        &c.kubeconfig,
        &[
            "-n",
            &ns,
            "--listen",
            "127.0.0.1:0",
            "--listen-auth",
            "kubernetes",
            "--listen-tls-cert",
            &cs,
            "--listen-tls-key",
            &ks,
        ],
    );
    let url = w.listen_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let w = blocking(move || {
        w.synced();
        w
    })
    .await;
    let pin =
        w.stderr().lines().find_map(|l| l.strip_prefix("serving certificate sha256 ").map(str::to_string)).unwrap();
    let want = kubectl_counts(&c.kubeconfig, &ns);

    let count = |kc: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["-n", ns.as_str(), "-o", "json", "--from", url.as_str()];
        args.extend(extra);
        support::podcount(kc, &args)
    };
    let counts = |out: &std::process::Output| -> BTreeMap<String, u64> {
        assert_eq!(out.status.code(), Some(0), "{}", support::stderr(out));
        let doc = support::json_of(out);
        support::nodes_of(&doc)
            .into_iter()
            .map(|(n, v)| (n, v["pods"].as_u64().unwrap()))
            .filter(|(_, p)| *p > 0)
            .collect()
    };
    let ca = cert.display().to_string();
    let (wrong_ca, wrong_pin) = (other_ca.display().to_string(), "00".repeat(32));
    // (kubeconfig, extra flags, None: answered by the watch, or what the one warning says)
    let cases: Vec<(&std::path::Path, Vec<&str>, Option<&str>)> = vec![
        (&reader_kc, vec!["--from-ca", &ca], None),
        (&reader_kc, vec!["--from-fingerprint", &pin], None),
        (&reader_kc, vec![], Some("its certificate is not trusted")),
        (&reader_kc, vec!["--from-ca", &wrong_ca], Some("its certificate is not trusted")),
        (&reader_kc, vec!["--from-fingerprint", &wrong_pin], Some("not the pinned")),
        (&stranger_kc, vec!["--from-ca", &ca], Some("(403): grant it `get` on the non-resource URL /v1/podcount")),
        (&c.kubeconfig, vec!["--from-ca", &ca], Some("(401): --listen-auth kubernetes reviews bearer tokens")),
    ];
    // Contexts named apart from the watch's (viewer@bed, not podcount-test):
    // matched on the cluster's own identity, and answered under the
    // user's name; a user who may not list pods is answered all the same.
    let (viewer_kc, blind_kc) = (c.token_kubeconfig("viewer", &viewer), c.token_kubeconfig("blind", &blind));
    let out = count(&viewer_kc, &["--from-ca", &ca]);
    assert_eq!(counts(&out), want, "{}", support::stderr(&out));
    assert_eq!(support::stderr(&out), "", "answered by the watch, nothing to say");
    assert_eq!(support::json_of(&out)["context"], "viewer@bed");
    // Which cluster cannot be told by this user: trusted as given, and said.
    let out = count(&blind_kc, &["--from-ca", &ca]);
    assert_eq!(counts(&out), want, "{}", support::stderr(&out));
    let said = support::stderr(&out);
    assert!(said.contains("cannot tell whether its context podcount-test is the cluster of context blind@bed (the namespace kube-system is not readable (needs: get on namespaces, resourceNames [kube-system])); trusted as given"), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    for (kc, extra, warned) in cases {
        // (The watch is a process of its own: blocking here holds nothing up.)
        let out = count(kc, &extra);
        let said = support::stderr(&out);
        assert_eq!(counts(&out), want, "{extra:?}: {said}");
        match warned {
            None => assert!(!said.contains("warning"), "{extra:?} was not answered by the watch: {said}"),
            Some(why) => {
                assert!(said.contains(why), "{extra:?}: {said}");
                assert!(said.contains("counting with a List instead"), "{said}");
                assert_eq!(said.matches("warning").count(), 1, "{said}");
            }
        }
    }
    drop(w);
}

/// charts/podcount: `helm lint` and `helm template` (helm built from its Go
/// module, helm.sh/helm/v4) with the defaults and with every option on, and
/// the rendered objects pass the apiserver's server-side dry run on the bed
/// (the CRDs installed); the PrometheusRule carries the promtool-tested alerts.
#[tokio::test]
async fn the_helm_chart_lints_renders_and_passes_server_side_dry_run() {
    let _one_at_a_time = serial().await;
    let c = cluster();
    let helm = support::go_tool("helm.sh/helm/v4/cmd/helm@v4.3.2");
    let chart = format!("{}/charts/podcount", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(&helm).args(["lint", "--strict", &chart]).output().unwrap();
    assert!(
        out.status.success(),
        "helm lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    install_crds(c);
    let kubectl = |args: &[&str]| {
        std::process::Command::new("kubectl").args(args).env("KUBECONFIG", &c.kubeconfig).output().unwrap()
    };
    let _ = kubectl(&["create", "namespace", "podcount-helm"]);
    let everything = [
        "serviceMonitor.enabled=true",
        "prometheusRule.enabled=true",
        "tls.certManager.enabled=true",
        "podDisruptionBudget.enabled=true",
        "networkPolicy.enabled=true",
        "watch.fits={web=cpu=250m\\,memory=256Mi}",
        "commonLabels.team=platform",
        "tolerations[0].operator=Exists",
    ];
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "defaults",
            &[],
            &["deployment.apps/pc", "service/pc", "clusterrole.rbac.authorization.k8s.io/pc-metrics-reader"],
        ),
        (
            "everything",
            &everything,
            &[
                "servicemonitor.monitoring.coreos.com/pc",
                "prometheusrule.monitoring.coreos.com/pc",
                "certificate.cert-manager.io/pc-tls",
                "issuer.cert-manager.io/pc-ca",
                "poddisruptionbudget.policy/pc",
                "networkpolicy.networking.k8s.io/pc",
            ],
        ),
        ("no auth", &["auth.mode=none", "metricsReaders=null"], &["deployment.apps/pc"]),
    ];
    for (name, sets, want) in cases {
        let mut args = vec!["template", "pc", chart.as_str(), "--namespace", "podcount-helm"];
        for s in sets {
            args.extend(["--set", s]);
        }
        let out = std::process::Command::new(&helm).args(&args).output().unwrap();
        assert!(out.status.success(), "helm template ({name}): {}", String::from_utf8_lossy(&out.stderr));
        let rendered = String::from_utf8_lossy(&out.stdout).to_string();
        if name == "everything" {
            assert!(rendered.contains("--fits=web=cpu=250m,memory=256Mi"), "{rendered}");
            assert!(rendered.contains("team: platform"));
            // The alerts are Prometheus templates, left alone by Helm.
            assert!(rendered.contains("{{ $labels.node }}"), "the PrometheusRule lost its templates");
        }
        if name == "no auth" {
            assert!(!rendered.contains("--listen-auth") && rendered.contains("scheme: HTTP\n"), "{rendered}");
        }
        let file = c.dir.join(format!("helm-{}.yaml", name.replace(' ', "-")));
        std::fs::write(&file, &rendered).unwrap();
        let out = kubectl(&["apply", "--dry-run=server", "-f", &file.display().to_string()]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        for w in want {
            assert!(text.contains(&format!("{w} created (server dry run)")), "{name}: {w} missing from {text}");
        }
    }
}

/// `watch --fits-pod` over two clusters reads each cluster's own facts, as
/// `count` does (the oracle): the same namespace is labelled `team=x` in
/// one cluster only, and in each a guard pod repels `app=web` pods of
/// namespaces labelled so; only the first cluster's guard repels the new
/// pods, and each context's served answer is its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_contexts_each_answer_fits_from_their_own_cluster() {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, Patch, PatchParams, PostParams};
    use serde_json::json;
    use support::{http, json_of, podcount, stderr};
    let _serial = serial().await;
    let c = cluster();
    let other = Cluster::second(BED);
    let kc = c.kubeconfig_with(other, "second");
    let ns = c.namespace("own-facts").await;
    let (first, second) = (c.client().await, other.client().await);
    Api::<Namespace>::all(second.clone())
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap())
        .await
        .unwrap();
    Api::<Namespace>::all(first.clone())
        .patch(&ns, &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"team": "x"}}})))
        .await
        .unwrap();
    for client in [&first, &second] {
        let nodes = support::make_nodes(client, &ns, 2, 10).await;
        for n in &nodes {
            support::label_node(client, n, "kubernetes.io/hostname", n).await;
        }
        let term = json!({"labelSelector": {"matchLabels": {"app": "web"}},
            "namespaceSelector": {"matchLabels": {"team": "x"}}, "topologyKey": "kubernetes.io/hostname"});
        let guard = json!({"metadata": {"name": "guard", "labels": {"app": "guard"}}, "spec": {"nodeName": nodes[0],
            "containers": [{"name": "a", "image": "a"}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}}});
        support::create_pod_json(client, &ns, guard).await;
    }
    let manifest = c.dir.join(format!("{ns}-web.yaml"));
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "a", "image": "a", "resources": {"requests": {"cpu": "1"}}}]}}}});
    std::fs::write(&manifest, serde_yaml::to_string(&deployment).unwrap()).unwrap();
    let (m, sel) = (manifest.display().to_string(), format!("podcount.test/node in ({ns}-n0,{ns}-n1)"));
    let args = ["--context", "podcount-test,second", "--node-selector", &sel, "--fits-pod", &m];
    // Per context: the cluster's answer, and each node's fits and limit.
    let answers = |doc: &serde_json::Value| -> Vec<(String, serde_json::Value, BTreeMap<String, String>)> {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let nodes = support::nodes_of(item)
                    .into_iter()
                    .map(|(n, v)| (n, format!("{} {}", v["fits"]["web"], v["fitsLimitedBy"]["web"])))
                    .collect();
                (item["context"].as_str().unwrap().to_string(), item["fits"]["web"]["more"].clone(), nodes)
            })
            .collect()
    };
    let out = podcount(&kc, &[&args[..], &["-o", "json"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let counted = answers(&json_of(&out));
    // The clusters differ: 4 cores on each node, the guard's node closed in the first only.
    assert_eq!(
        counted.iter().map(|(ctx, more, _)| (ctx.as_str(), more.as_u64())).collect::<Vec<_>>(),
        [("podcount-test", Some(4)), ("second", Some(8))],
        "{counted:?}"
    );
    let w = Watcher::start(&kc, &[&args[..], &["--listen", "127.0.0.1:0"]].concat());
    let (w, status, body) = blocking(move || {
        let url = w.listen_url();
        // Both contexts synced and watching (bounded).
        let start = std::time::Instant::now();
        while http("GET", &url, "/readyz").0 != 200 {
            assert!(start.elapsed() < Duration::from_secs(30), "not ready: {}", w.stderr());
            std::thread::sleep(Duration::from_millis(100));
        }
        let (status, body) = http("GET", &url, "/v1/podcount");
        (w, status, body)
    })
    .await;
    assert_eq!(status, 200, "{body}: {}", w.stderr());
    assert_eq!(answers(&serde_json::from_str(&body).unwrap()), counted);
    drop(w);
}
