//! Runs that need a server other than the default, each saying why: the
//! pod watch cache off, for etcd's own 410 after compaction (the cache would
//! serve a watch, or a continued List page, from memory and never expire it
//! within a test); and the WatchList feature gate off, as on 1.33 servers,
//! which answer 422 to `sendInitialEvents`, so the informer must fall back
//! to list + watch.

mod support;

use std::time::Duration;

use support::proxy::Proxy;
use support::watcher::Watcher;
use support::{Cluster, Options, PodSpec, blocking, churn, kubeconfig_via, kubectl_counts, serial, upstream};

const BED: Options = Options {
    nodes: 0,
    pods: 0,
    no_pod_watch_cache: true,
    feature_gates: "WatchList=false",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};
const CONVERGE: Duration = Duration::from_secs(20);

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

/// `count`: a continue token that expires mid-list (etcd compacted between
/// two pages: 410) restarts the count from the top, with exact counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_continue_token_mid_list_restarts_with_exact_counts() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("expire").await;
    let nodes = support::make_nodes(&client, &ns, 3, 500).await;
    churn(&client, &ns, &nodes, "p", 200).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    assert_eq!(want.values().sum::<u64>(), 140);
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-expire");
    // Hold the server's bytes a few pages into the list, compact etcd, let
    // it go on: the next continue token is older than the compaction.
    proxy.pause_after(30_000);
    let args = ["-n".to_string(), ns.clone(), "-o".into(), "json".into(), "--chunk-size".into(), "7".into()];
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::podcount(&kc, &args)
    });
    tokio::time::timeout(Duration::from_secs(60), proxy.paused()).await.expect("list reached the pause");
    c.compact();
    proxy.resume();
    let out = run.await.unwrap();
    let err = support::stderr(&out);
    assert!(err.contains("warning: context podcount-test: the pod list expired after"), "{err}");
    assert!(err.contains("counting again from the top (1/3)"), "{err}");
    let doc = support::json_of(&out);
    let got: std::collections::BTreeMap<String, u64> = support::nodes_of(&doc)
        .into_iter()
        .map(|(name, n)| (name, n["pods"].as_u64().unwrap()))
        .filter(|(_, p)| *p > 0)
        .collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_410_after_compaction_relists_and_catches_deletes() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("gone").await;
    let nodes = support::make_nodes(&client, &ns, 2, 500).await;
    for i in 0..6 {
        support::create_pod(&client, &ns, &PodSpec::new(&format!("old-{i}"), Some(&nodes[0]), "Running")).await;
    }
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-gone");
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
    let want = kubectl_counts(&c.kubeconfig, &ns);
    w.converges_to(&want, CONVERGE);
    let seen = w.seen.lock().unwrap();
    let relists: Vec<_> = seen.lines.iter().filter(|l| l["type"] == "relisting").collect();
    assert!(
        relists.iter().any(|l| l["reason"].as_str().unwrap_or("").contains("410")),
        "no relist after 410: {relists:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchlist_refused_falls_back_to_list_and_watch() {
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("wl-off").await;
    let nodes = support::make_nodes(&client, &ns, 2, 500).await;
    churn(&client, &ns, &nodes, "before", 40).await;
    let w = Watcher::start(&c.kubeconfig, &["-n", &ns, "--initial-list", "stream"]);
    let w = blocking(move || {
        w.synced();
        w
    })
    .await;
    churn(&client, &ns, &nodes, "after", 40).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let w = blocking(move || {
        w.converges_to(&want, CONVERGE);
        w
    })
    .await;
    let seen = w.seen.lock().unwrap();
    assert!(
        seen.lines
            .iter()
            .any(|l| l["type"] == "relisting" && l["reason"].as_str().unwrap_or("").contains("refused WatchList")),
        "no fallback announced: {:?}",
        seen.lines.iter().filter(|l| l["type"] != "change").collect::<Vec<_>>()
    );
}

/// `/readyz` says when the served view is not current: 503 from the moment
/// the connection is cut, through the relist that etcd's 410 forces (pages
/// of one pod, so the relist lasts long enough to be seen), and 200 again
/// once the new list is in and watched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_through_a_forced_relist_and_200_after() {
    use std::sync::{Arc, Mutex};
    let _serial = serial().await;
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("ready").await;
    let nodes = support::make_nodes(&client, &ns, 2, 500).await;
    churn(&client, &ns, &nodes, "before", 60).await;
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-ready");
    let w = Watcher::start(&kc, &["-n", &ns, "--listen", "127.0.0.1:0", "--chunk-size", "1"]);
    let (w, url) = blocking(move || {
        let url = w.listen_url();
        w.synced();
        (w, url)
    })
    .await;
    let u = url.clone();
    let ready = blocking(move || {
        // Synced, and the watch opens a moment after the list.
        for _ in 0..100 {
            if support::http("GET", &u, "/readyz").0 == 200 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    })
    .await;
    assert!(ready, "never ready after the first sync");
    // Poll /readyz all along, recording every answer.
    let answers: Arc<Mutex<Vec<(u16, String)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let (answers, stop, url) = (answers.clone(), stop.clone(), url.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let a = support::http("GET", &url, "/readyz");
                answers.lock().unwrap().push(a);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    proxy.pause_after(0);
    churn(&client, &ns, &nodes, "during", 30).await;
    blocking(|| cluster().compact()).await;
    proxy.drop_all();
    proxy.resume();
    let want = kubectl_counts(&c.kubeconfig, &ns);
    let w = blocking(move || {
        w.converges_to(&want, CONVERGE);
        w
    })
    .await;
    let u = url.clone();
    let back = blocking(move || {
        for _ in 0..200 {
            if support::http("GET", &u, "/readyz").0 == 200 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    poller.join().unwrap();
    assert!(back, "not ready again after the relist");
    // Ready it stays. (The poller's last answer can be one it asked for
    // before readiness came back, so ask afresh.)
    let u = url.clone();
    let after: Vec<u16> = blocking(move || {
        (0..5)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(100));
                support::http("GET", &u, "/readyz").0
            })
            .collect()
    })
    .await;
    assert_eq!(after, [200; 5], "ready after the relist");
    let seen = w.seen.lock().unwrap();
    assert!(
        seen.lines.iter().any(|l| l["type"] == "relisting" && l["reason"].as_str().unwrap_or("").contains("410")),
        "no 410 relist"
    );
    let answers = answers.lock().unwrap();
    assert!(
        answers.iter().any(|(s, b)| *s == 503 && b.contains("pods: relisting")),
        "no 503 while relisting: {:?}",
        answers.iter().filter(|(s, _)| *s != 200).take(5).collect::<Vec<_>>()
    );
}
