//! Bad networks and bad configurations, on the real apiserver in its default
//! configuration (watch cache on): a connection that goes silent mid-watch,
//! an endpoint that answers 503 to everything, a server that never finishes
//! TLS, one stalled context among several, a user who may list but not
//! watch, a missing exec plugin and an untrusted certificate. Every failure
//! must end, within a bound, in one clear line and its exit code; every
//! recovery must end in counts equal to kubectl's (an oracle that does not
//! share our decoder).

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::Client;
use support::proxy::{Proxy, acceptor, stalled_tls};
use support::watcher::Watcher;
use support::{Cluster, Options, PodSpec, blocking, kubeconfig_via, kubectl_counts, podcount, stderr, upstream};

/// The apiserver's defaults: watch cache on, bookmarks.
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

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

async fn nodes(client: &Client, ns: &str, n: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{ns}-n{i}");
        support::create_node(client, &name, 110, true, true).await;
        names.push(name);
    }
    names
}

async fn pods(client: &Client, ns: &str, nodes: &[String], prefix: &str, n: usize) {
    for i in 0..n {
        let name = format!("{prefix}-{i}");
        let spec = PodSpec::new(&name, Some(nodes[i % nodes.len()].as_str()), "Running");
        support::create_pod(client, ns, &spec).await;
    }
}

/// `kubectl podcount ARGS`, timed.
async fn timed(kubeconfig: PathBuf, args: &[&str]) -> (std::process::Output, Duration) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    blocking(move || {
        let started = Instant::now();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = podcount(&kubeconfig, &args);
        (out, started.elapsed())
    })
    .await
}

fn one_line(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "one clear line, got: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_mid_watch_is_noticed_and_new_pods_show_up() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("silent").await;
    let nodes = nodes(&client, &ns, 2).await;
    pods(&client, &ns, &nodes, "before", 3).await;
    let proxy = Proxy::start(upstream(c)).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-silent");
    // The default liveness settings: this is the bound users get.
    let w = Watcher::start(&kc, &["-n", &ns]);
    let seen = w.seen.clone();
    blocking(move || {
        while !seen.lock().unwrap().synced {
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await;
    let frozen_at = Instant::now();
    assert!(proxy.freeze_open() > 0, "no open connection to freeze");
    pods(&client, &ns, &nodes, "after", 4).await;
    let want = kubectl_counts(&c.kubeconfig, &ns);
    assert_eq!(want.values().sum::<u64>(), 7);
    let (noticed, current) = blocking(move || {
        w.wait_for("a reconnecting event", Duration::from_secs(45), |s| s.types("reconnecting") > 0);
        let noticed = frozen_at.elapsed();
        w.converges_to(&want, Duration::from_secs(45).saturating_sub(noticed));
        (noticed, frozen_at.elapsed())
    })
    .await;
    eprintln!("silent connection: reconnecting after {noticed:?}, counts current after {current:?}");
    assert!(current <= Duration::from_secs(45));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_answers_503_to_everything_fails_fast_in_one_line() {
    let c = cluster();
    let proxy = Proxy::start_with(upstream(c), Some(acceptor(&c.dir))).await;
    proxy.refuse_new(true);
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-503");
    let (out, took) = timed(kc.clone(), &[]).await;
    eprintln!("always 503: count exited {:?} after {took:?}", out.status.code());
    assert_eq!(out.status.code(), Some(3));
    let err = one_line(&out);
    assert!(err.contains("503") && err.contains("no healthy upstream"), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    // Pods and nodes, four attempts each at most: the retries are bounded.
    assert!(proxy.refused() <= 8, "{} requests", proxy.refused());

    let (out, took) = timed(kc, &["watch", "--for", "5m"]).await;
    eprintln!("always 503: watch exited {:?} after {took:?}", out.status.code());
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("503"), "{}", stderr(&out));
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_finishes_tls_fails_within_the_handshake_bound() {
    let c = cluster();
    let stalled = stalled_tls().await;
    let kc = kubeconfig_via(c, &format!("https://{}", stalled.addr), "kubeconfig-stalled-tls");
    let (out, took) = timed(kc.clone(), &[]).await;
    eprintln!("stalled TLS: count exited {:?} after {took:?}", out.status.code());
    assert_eq!(out.status.code(), Some(3));
    let err = one_line(&out);
    assert!(err.contains("TLS handshake within 10s"), "{err}");
    assert!(took < Duration::from_secs(30), "took {took:?}");

    let (out, took) = timed(kc, &["watch"]).await;
    eprintln!("stalled TLS: watch exited {:?} after {took:?}", out.status.code());
    assert_eq!(out.status.code(), Some(3));
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stalled_context_costs_only_its_own_line() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("twoctx").await;
    let nodes = nodes(&client, &ns, 2).await;
    pods(&client, &ns, &nodes, "p", 5).await;
    let stalled = stalled_tls().await;
    // A second context whose cluster accepts TCP and then says nothing.
    let text = c.kubeconfig_text();
    let ca = text.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data: ")).unwrap().to_string();
    let text = text
        .replace("contexts:", "contexts:\n- name: stalled\n  context:\n    cluster: stalled\n    user: admin")
        .replace(
            "clusters:",
            &format!(
                "clusters:\n- name: stalled\n  cluster:\n    server: https://{}\n    certificate-authority-data: {ca}",
                stalled.addr
            ),
        );
    let kc = c.dir.join("kubeconfig-two");
    std::fs::write(&kc, text).unwrap();
    let sel = format!("podcount.test/node in ({})", nodes.join(","));
    let args = ["--context", "podcount-test,stalled", "--request-timeout", "10s", "-n", &ns, "--node-selector", &sel];
    let (out, took) = timed(kc, &args).await;
    eprintln!("two contexts, one stalled: exited {:?} after {took:?}", out.status.code());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    let want = kubectl_counts(&c.kubeconfig, &ns);
    for (node, pods) in &want {
        assert!(
            table.lines().any(|l| l.split_whitespace().take(3).eq(["podcount-test", node.as_str(), &pods.to_string()])),
            "no row {node} {pods}: {table}"
        );
    }
    assert!(!table.contains("stalled"), "{table}");
    let err = one_line(&out);
    assert!(err.starts_with("error: context stalled: "), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_that_answers_503_for_a_while_recovers_with_exact_counts() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("flaky").await;
    let nodes = nodes(&client, &ns, 2).await;
    pods(&client, &ns, &nodes, "before", 2).await;
    let proxy = Proxy::start_with(upstream(c), Some(acceptor(&c.dir))).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-flaky");
    let w = Watcher::start(&kc, &["-n", &ns]);
    let w = blocking(move || {
        w.synced();
        w
    })
    .await;
    proxy.refuse_new(true);
    proxy.drop_all();
    pods(&client, &ns, &nodes, "during", 3).await;
    let w = blocking(move || {
        w.wait_for("reconnecting with 503", Duration::from_secs(20), |s| {
            s.lines.iter().any(|l| l["type"] == "reconnecting" && l["reason"].as_str().unwrap_or("").contains("503"))
        });
        w
    })
    .await;
    proxy.refuse_new(false);
    let want = kubectl_counts(&c.kubeconfig, &ns);
    assert_eq!(want.values().sum::<u64>(), 5);
    blocking(move || w.converges_to(&want, Duration::from_secs(30))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_may_list_but_not_watch_is_told_the_watch_verb() {
    let c = cluster();
    let kc = support::grant(c, "list-only", &["pods", "nodes"], &["list"]).await;
    let out = blocking(move || support::podcount_after_rbac(&kc, &["watch"], "cannot list")).await;
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains(r#"forbidden: user "list-only" cannot watch "#) && err.contains("(needs: watch "), "{err}");
}

#[test]
fn kubeconfig_mistakes_exit_2_naming_the_entry_to_fix() {
    let c = cluster();
    // An exec credential plugin that is not installed.
    let text = c.kubeconfig_text();
    let exec_user = "- name: sso\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /nonexistent/podcount-credential-helper\n      interactiveMode: Never\n";
    let text = text.replace("users:\n", &format!("users:\n{exec_user}")).replace("    user: admin", "    user: sso");
    let kc = c.dir.join("kubeconfig-exec");
    std::fs::write(&kc, text).unwrap();
    let out = podcount(&kc, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = one_line(&out);
    assert!(err.contains(r#"exec credential plugin of kubeconfig user "sso" failed"#), "{err}");

    // A CA that did not sign the server's certificate: the serving
    // certificate itself, which is no CA.
    let text = c.kubeconfig_text();
    let ca = text.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data: ")).unwrap().to_string();
    let leaf = std::fs::read(c.dir.join("pki/apiserver.crt")).unwrap();
    let kc = c.dir.join("kubeconfig-wrong-ca");
    std::fs::write(&kc, text.replace(&ca, &base64(&leaf))).unwrap();
    let out = podcount(&kc, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = one_line(&out);
    assert!(err.contains(r#"that kubeconfig cluster "podcount-test" does not trust"#), "{err}");
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What a broken apiserver on loopback does after a request's headers.
#[derive(Clone, Copy)]
enum Broken {
    /// Every List answers 200 and a few bytes of its body, then stalls.
    ListStalls,
    /// Lists answer an empty list; every watch answers bytes that are not
    /// an event, then ends.
    WatchGarbage,
}

/// A plain-HTTP "apiserver" on 127.0.0.1 that breaks as `how` says (no
/// bed: what it answers is the point), and a kubeconfig for it. Its
/// connections are held until the test ends.
async fn broken_server(how: Broken, dir: &std::path::Path) -> (PathBuf, tokio::task::AbortHandle) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some(head) = support::read_head(&mut conn).await else { return };
                let mut buf = [0u8; 4096];
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
                let kind = if line.contains("/nodes") { "NodeList" } else { "PodList" };
                let watch = line.contains("watch=");
                let chunked = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                let chunk = |s: &str| format!("{:x}\r\n{s}\r\n", s.len());
                match (how, watch) {
                    (Broken::ListStalls, _) => {
                        let _ = conn
                            .write_all(format!("{chunked}{}", chunk(r#"{"kind":"PodList","items":["#)).as_bytes())
                            .await;
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                    (Broken::WatchGarbage, false) => {
                        let body = format!(
                            r#"{{"kind":"{kind}","apiVersion":"v1","metadata":{{"resourceVersion":"7"}},"items":[]}}"#
                        );
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = conn.write_all(resp.as_bytes()).await;
                        // Keep-alive: the next request on this connection.
                        let _ = conn.read(&mut buf).await;
                    }
                    (Broken::WatchGarbage, true) => {
                        let resp = format!("{chunked}{}0\r\n\r\n", chunk("\u{1}garbage, not an event"));
                        let _ = conn.write_all(resp.as_bytes()).await;
                    }
                }
            });
        }
    })
    .abort_handle();
    let kc = dir.join(format!("kubeconfig-broken-{}", addr.port()));
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: broken\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: broken\n  context:\n    cluster: broken\n    user: nobody\nusers:\n- name: nobody\n  user: {{}}\ncurrent-context: broken\n"
        ),
    )
    .unwrap();
    (kc, accept)
}

/// A watch never ends 0 on an answer it never had: a List whose body stalls
/// after its headers leaves it unsynced at `--for`, and a watch stream of
/// bytes that are not an event (then its end) is a failure announced as
/// any other; both end with exit 3 and a line naming what it waited for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_server_never_yields_a_clean_exit() {
    let dir = std::env::temp_dir().join(format!("podcount-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (kc, server) = broken_server(Broken::ListStalls, &dir).await;
    let (out, took) = timed(kc, &["watch", "--for", "4s"]).await;
    server.abort();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("error: --for 4s ended before the first answer: context broken: pods: listing"), "{err}");
    assert!(out.stdout.is_empty(), "no table: it never had one");
    assert!(!err.contains("panicked"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");

    let (kc, server) = broken_server(Broken::WatchGarbage, &dir).await;
    let (out, took) = timed(kc, &["watch", "--for", "4s"]).await;
    server.abort();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("ended inside an event: 19 bytes left undecoded"), "announced: {err}");
    assert!(
        // (Pods, nodes or both: each informer is between two garbage
        // streams nearly all the time, and either one stale is enough.)
        err.lines().any(|l| l.starts_with("error: --for 4s ended on a view that is not current: context broken: ")
            && l.contains(": reconnecting")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}
