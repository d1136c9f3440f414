//! Acceptance tests of `kubectl podcount watch` on the real cluster: once a
//! fault clears, the watch's counts equal a fresh consistent List within
//! seconds; the stream never skips or double-counts (every change starts
//! where the last one ended); the process keeps running.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use support::proxy::Proxy;
use support::watcher::{Watcher, fresh_counts};
use support::{Cluster, Options, PodSpec};
use tokio::sync::Semaphore;

/// No pod watch cache: watches and lists go to etcd, so compaction really
/// expires resourceVersions (410).
const BED: Options = Options { nodes: 0, pods: 0, no_pod_watch_cache: true };
const CONVERGE: Duration = Duration::from_secs(20);

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

/// One test at a time: some restart the apiserver or compact etcd under
/// everyone's feet.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

async fn nodes(client: &Client, ns: &str, n: usize, allocatable: u32) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{ns}-n{i}");
        support::create_node(client, &name, allocatable, true, true).await;
        names.push(name);
    }
    names
}

/// `count` pods through every transition the counting rule cares about,
/// sixteen requests at a time.
async fn churn(client: &Client, ns: &str, nodes: &[String], prefix: &str, count: usize) {
    let sem = Arc::new(Semaphore::new(16));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..count {
        let (client, ns, node, name) =
            (client.clone(), ns.to_string(), nodes[i % nodes.len()].clone(), format!("{prefix}-{i}"));
        let permit = sem.clone().acquire_owned().await.unwrap();
        set.spawn(async move {
            let _permit = permit;
            let on = Some(node.as_str());
            match i % 10 {
                0 => {
                    support::create_pod(&client, &ns, &PodSpec::new(&name, None, "Pending")).await;
                    support::bind(&client, &ns, &name, &node).await;
                }
                1 | 2 => {
                    support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await;
                    support::set_phase(&client, &ns, &name, if i % 10 == 1 { "Succeeded" } else { "Failed" }).await;
                }
                3 => support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Unknown")).await,
                4 => {
                    support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await;
                    support::delete_pod(&client, &ns, &name, true).await; // terminating, stays
                }
                5 => {
                    support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await;
                    support::delete_pod(&client, &ns, &name, false).await; // gone
                }
                6 => support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Pending")).await,
                _ => support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await,
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("churn task");
    }
}

fn via_proxy(c: &Cluster, proxy: &Proxy, name: &str) -> std::path::PathBuf {
    let text = c.kubeconfig_text().replace(&c.server(), &format!("https://{}", proxy.addr));
    let path = c.dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn upstream(c: &Cluster) -> SocketAddr {
    c.server().trim_start_matches("https://").parse().unwrap()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_while_watching_converges_to_a_fresh_list() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("churn").await;
    let nodes = nodes(&client, &ns, 4, 500).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns]);
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
    let want = fresh_counts(&c.kubeconfig, &["-n", &ns]);
    // 1000 pods: 100 finished twice over, 100 deleted: 700 count.
    assert_eq!(want.values().sum::<u64>(), 700);
    w.converges_to(&want, CONVERGE);
    assert!(w.seen.lock().unwrap().types("change") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_again_and_again_mid_stream() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("cut").await;
    let nodes = nodes(&client, &ns, 3, 500).await;
    let proxy = Proxy::start(upstream(c)).await;
    let kc = via_proxy(c, &proxy, "kubeconfig-cut");
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
    let want = fresh_counts(&c.kubeconfig, &["-n", &ns]);
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
    let nodes = nodes(&client, &ns, 2, 500).await;
    churn(&client, &ns, &nodes, "before", 100).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns]);
    w.synced();
    blocking(|| cluster().restart_apiserver()).await;
    let client = c.client().await;
    churn(&client, &ns, &nodes, "after", 200).await;
    let want = fresh_counts(&c.kubeconfig, &["-n", &ns]);
    assert_eq!(want.values().sum::<u64>(), 210);
    w.converges_to(&want, CONVERGE);
    assert!(w.seen.lock().unwrap().types("reconnecting") > 0, "the restart was not noticed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_410_after_compaction_relists_and_catches_deletes() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("gone").await;
    let nodes = nodes(&client, &ns, 2, 500).await;
    for i in 0..6 {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("old-{i}"), Some(&nodes[0]), "Running")).await;
    }
    let proxy = Proxy::start(upstream(c)).await;
    let kc = via_proxy(c, &proxy, "kubeconfig-gone");
    let w = Watcher::start(&kc, &["-n", &ns]);
    w.synced();
    w.wait_for("6 pods on the first node", CONVERGE, |s| s.counts.get(&nodes[0]) == Some(&6));
    // Disconnected in effect: nothing reaches the watch while pods change
    // and etcd forgets the revisions it was at.
    proxy.pause_after(0);
    for i in 0..4 {
        support::delete_pod(&client, &ns, &format!("old-{i}"), false).await;
    }
    churn(&client, &ns, &nodes, "new", 50).await;
    blocking(|| cluster().compact()).await;
    proxy.drop_all();
    proxy.resume();
    let want = fresh_counts(&c.kubeconfig, &["-n", &ns]);
    w.converges_to(&want, CONVERGE);
    let seen = w.seen.lock().unwrap();
    let relists: Vec<_> = seen.lines.iter().filter(|l| l["type"] == "relisting").collect();
    assert!(
        relists.iter().any(|l| l["reason"].as_str().unwrap_or("").contains("410")),
        "no relist after 410: {relists:?}"
    );
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
    let node = nodes(&client, &ns, 1, 4).await.remove(0);
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
    let node = nodes(&client, &ns, 1, 10).await.remove(0);
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
    let nodes = nodes(&client, &ns, 5, 5000).await;
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
    let want = fresh_counts(&c.kubeconfig, &["-n", &ns]);
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
