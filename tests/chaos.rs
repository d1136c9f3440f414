//! The randomized fault run: `watch --listen` through a TCP proxy while a
//! seeded random schedule mixes churn (pods created, bound, finished,
//! terminating, deleted) with faults (connections cut, frozen silently,
//! answered 503, slowed; etcd compacted; the apiserver restarted). Checked
//! all along against an oracle that shares none of our decoding (the
//! apiserver's List at exactly the resourceVersion an answer claims, read
//! through kube-rs/k8s-openapi and recounted here):
//! - every 200 of `/v1/podcount`, and every `count --from` that answered
//!   from the watch, is the cluster at its resourceVersion;
//! - `/readyz` turns 503 within a bound of each lasting fault, and 200 after;
//! - after the last fault the watch equals a fresh List within 30 s;
//! - RSS stays flat across the fault cycles.
//!
//! CI runs it for about 90 seconds; `CHAOS_MINUTES=60 scripts/chaos` runs long;
//! `CHAOS_SEED=N` replays a schedule (a failure prints its seed and steps).

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, VersionMatch};
use support::proxy::{Proxy, acceptor};
use support::{Cluster, Options, blocking, churn, kubeconfig_via, serial, upstream};

const BED: Options = Options {
    nodes: 4,
    pods: 200,
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

/// The watch's liveness bounds, shortened so a frozen connection is noticed
/// in about 4 s (PING every 2 s, 2 s to answer).
const PING: &str = "2s";
/// Bounds the checks hold the watch to.
const NOT_READY_WITHIN: Duration = Duration::from_secs(8);
const READY_AGAIN_WITHIN: Duration = Duration::from_secs(30);
const CONVERGED_WITHIN: Duration = Duration::from_secs(30);

/// xorshift64*: a schedule is its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Distinct answers the run collects at least (see the loop's last phase).
const MIN_ANSWERS: usize = 24;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Step {
    /// This many pods through the transitions of `support::churn`.
    Churn(usize),
    /// Every open connection cut.
    Cut,
    /// Every open connection frozen silently (no FIN, no RST).
    Freeze,
    /// New connections answered 503 for this long, open ones cut.
    Refuse(u64),
    /// The server's bytes held for this long.
    Slow(u64),
    /// etcd compacted at its current revision, connections cut.
    Compact,
    /// The apiserver stopped and started on the same data.
    Restart,
}

impl Step {
    fn pick(rng: &mut Rng) -> Step {
        match rng.below(16) {
            0..=6 => Step::Churn(5 + rng.below(30) as usize),
            7 | 8 => Step::Cut,
            9 | 10 => Step::Freeze,
            11 | 12 => Step::Refuse(1500 + rng.below(2500)),
            13 => Step::Slow(300 + rng.below(1700)),
            14 => Step::Compact,
            _ => Step::Restart,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Step::Churn(_) => "churn",
            Step::Cut => "cut",
            Step::Freeze => "freeze",
            Step::Refuse(_) => "503",
            Step::Slow(_) => "slow",
            Step::Compact => "compaction",
            Step::Restart => "restart",
        }
    }

    /// Whether the watch must say it is not ready (the fault outlasts a
    /// reconnect), and within what bound of the fault.
    fn must_go_unready(self) -> bool {
        matches!(self, Step::Freeze | Step::Refuse(_) | Step::Restart)
    }
}

/// One 200 answer: the resourceVersion it claims and its counts.
#[derive(Clone, Debug, PartialEq)]
struct Answer {
    rv: String,
    counts: BTreeMap<String, u64>,
    unscheduled: u64,
    from: &'static str,
}

fn answer_of(doc: &serde_json::Value, from: &'static str) -> Answer {
    let counts = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["pods"].as_u64() > Some(0))
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["pods"].as_u64().unwrap()))
        .collect();
    Answer {
        rv: doc["resourceVersion"].as_str().expect("an answer names its resourceVersion").to_string(),
        counts,
        unscheduled: doc["unscheduled"].as_u64().unwrap(),
        from,
    }
}

/// The pods of `ns` at exactly `rv` (None: compacted away), recounted by
/// the counting rule.
async fn exact(pods: &Api<Pod>, rv: &str) -> Option<(BTreeMap<String, u64>, u64)> {
    let lp = ListParams {
        resource_version: Some(rv.to_string()),
        version_match: Some(VersionMatch::Exact),
        ..Default::default()
    };
    let list = match pods.list(&lp).await {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 410 => return None,
        Err(e) => panic!("List at resourceVersion {rv}: {e}"),
    };
    let (mut counts, mut unscheduled) = (BTreeMap::new(), 0);
    for p in list.items {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        match p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()) {
            Some(n) => *counts.entry(n).or_insert(0) += 1,
            None => unscheduled += 1,
        }
    }
    Some((counts, unscheduled))
}

/// What the poller saw: every distinct answer, and /readyz over time.
#[derive(Default)]
struct Seen {
    answers: Vec<Answer>,
    ready: Vec<(Instant, bool)>,
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.split_whitespace().next()?.parse().ok()).unwrap_or(0)
}

struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(kubeconfig: &std::path::Path, ns: &str) -> Served {
    let mut child = support::podcount_cmd(kubeconfig, &["watch", "-n", ns, "-o", "jsonl", "--listen", "127.0.0.1:0"])
        .env("PODCOUNT_PING_INTERVAL", PING)
        .env("PODCOUNT_PING_TIMEOUT", PING)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the watch");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").and_then(|r| r.split_whitespace().next()).map(String::from))
        .expect("the watch says where it listens");
    // Keep reading stderr so the watch never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    Served { child, url }
}

/// Checks the answers from `*from` on against the List at exactly their
/// resourceVersion (before a compaction makes that impossible): how many
/// were checked, and how many were compacted away first.
async fn verify(seen: &Mutex<Seen>, from: &mut usize, pods: &Api<Pod>, replay: impl Fn() -> String) -> (u64, u64) {
    let taken: Vec<Answer> = {
        let s = seen.lock().unwrap();
        let new = s.answers[*from..].to_vec();
        *from = s.answers.len();
        new
    };
    let (mut checked, mut gone) = (0, 0);
    for a in taken {
        match exact(pods, &a.rv).await {
            None => gone += 1,
            Some(want) => {
                checked += 1;
                assert_eq!(
                    (&a.counts, a.unscheduled),
                    (&want.0, want.1),
                    "{} at resourceVersion {} differs from the List there; {}",
                    a.from,
                    a.rv,
                    replay()
                );
            }
        }
    }
    (checked, gone)
}

/// What a failure says so the schedule can be replayed.
fn failed(seed: u64, log: &[String]) -> String {
    format!("replay: CHAOS_SEED={seed} scripts/chaos; steps:\n{}", log.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomized_faults_never_make_an_answer_wrong() {
    let _one_at_a_time = serial().await;
    let minutes: f64 = std::env::var("CHAOS_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(1.5);
    let seed: u64 = std::env::var("CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!(
        "chaos: seed {seed}, {minutes} minutes (replay: CHAOS_SEED={seed} CHAOS_MINUTES={minutes} scripts/chaos)"
    );
    let mut rng = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("chaos").await;
    let nodes = support::make_nodes(&client, &ns, 3, 500).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let proxy = Proxy::start_with(upstream(c), Some(acceptor(&c.dir))).await;
    let kc = kubeconfig_via(c, &format!("https://{}", proxy.addr), "kubeconfig-chaos");
    let served = serve(&kc, &ns);
    let url = served.url.clone();

    // The poller: /readyz and /v1/podcount as fast as they answer.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (seen, stop, url) = (seen.clone(), stop.clone(), url.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let (ready, _) = support::http("GET", &url, "/readyz");
                let (status, body) = support::http("GET", &url, "/v1/podcount");
                let mut s = seen.lock().unwrap();
                s.ready.push((Instant::now(), ready == 200));
                if status == 200 {
                    let a = answer_of(&serde_json::from_str(&body).unwrap(), "/v1/podcount");
                    if s.answers.last().is_none_or(|l| l.rv != a.rv || l.counts != a.counts) {
                        s.answers.push(a);
                    }
                }
                drop(s);
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    let wait_ready = |from: Instant, within: Duration| {
        let seen = seen.clone();
        async move {
            while from.elapsed() < within {
                if seen.lock().unwrap().ready.iter().any(|(t, r)| *t >= from && *r) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(wait_ready(Instant::now(), Duration::from_secs(60)).await, "the watch never became ready");
    let rss_start = rss_kib(served.child.id());

    let mut log: Vec<String> = Vec::new();
    let started = Instant::now();
    let (mut checked, mut compacted_away, mut from_answers, mut from_fallbacks) = (0u64, 0u64, 0u64, 0u64);
    let mut faults: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut worst_unready, mut worst_recovery) = (Duration::ZERO, Duration::ZERO);
    let mut answers_seen = 0;
    let mut round = 0;

    loop {
        // A schedule heavy with restarts leaves few answers in the time:
        // then churn only (no more faults) until there are enough to check,
        // for at most as long again.
        let elapsed = started.elapsed().as_secs_f64();
        let few = seen.lock().unwrap().answers.len() < MIN_ANSWERS;
        if elapsed >= minutes * 60.0 && !(few && elapsed < minutes * 120.0) {
            break;
        }
        let step = if elapsed < minutes * 60.0 { Step::pick(&mut rng) } else { Step::Churn(20) };
        log.push(format!("{:>7.1}s {step:?}", started.elapsed().as_secs_f64()));
        let at = Instant::now();
        let mut frozen = 0;
        match step {
            Step::Churn(n) => {
                churn(&c.client().await, &ns, &nodes, &format!("r{round}"), n).await;
                round += 1;
            }
            Step::Cut => proxy.drop_all(),
            Step::Freeze => frozen = proxy.freeze_open(),
            Step::Refuse(ms) => {
                proxy.refuse_new(true);
                proxy.drop_all();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                proxy.refuse_new(false);
            }
            Step::Slow(ms) => {
                proxy.pause_after(0);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                proxy.resume();
            }
            Step::Compact => {
                let (n, gone) = verify(&seen, &mut answers_seen, &pods, || failed(seed, &log)).await;
                (checked, compacted_away) = (checked + n, compacted_away + gone);
                blocking(|| cluster().compact()).await;
                proxy.drop_all();
            }
            Step::Restart => {
                blocking(|| cluster().restart_apiserver()).await;
                proxy.drop_all();
            }
        }
        if !matches!(step, Step::Churn(_)) {
            *faults.entry(step.kind()).or_default() += 1;
        }
        // A freeze with nothing open (the watch between connections) is no fault.
        if step.must_go_unready() && (step != Step::Freeze || frozen > 0) {
            // Not ready within the bound of the fault's start...
            let deadline = at + NOT_READY_WITHIN.max(at.elapsed() + Duration::from_secs(2));
            let unready_at = loop {
                let hit = seen.lock().unwrap().ready.iter().find(|(t, r)| *t >= at && !*r).map(|(t, _)| *t);
                if let Some(t) = hit {
                    break t;
                }
                assert!(
                    Instant::now() < deadline,
                    "seed {seed}: /readyz stayed 200 through {step:?}; steps:\n{}",
                    log.join("\n")
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            worst_unready = worst_unready.max(unready_at - at);
            // ...and ready again once it has passed.
            let cleared = Instant::now();
            assert!(
                wait_ready(cleared, READY_AGAIN_WITHIN).await,
                "seed {seed}: not ready {READY_AGAIN_WITHIN:?} after {step:?} cleared; steps:\n{}",
                log.join("\n")
            );
            worst_recovery = worst_recovery.max(cleared.elapsed());
        }
        // Now and then, count --from: from the watch, exact; or a List, said.
        if rng.below(4) == 0 {
            let (kc2, ns2, url2) = (kc.clone(), ns.clone(), url.clone());
            let out = blocking(move || support::podcount(&kc2, &["-n", &ns2, "-o", "json", "--from", &url2])).await;
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            if err.is_empty() {
                from_answers += 1;
                let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                seen.lock().unwrap().answers.push(answer_of(&doc, "count --from"));
            } else {
                assert!(err.contains("warning"), "seed {seed}: count --from said {err}");
                from_fallbacks += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1300))).await;
    }

    // After the last fault: equal to a fresh List within the bound.
    let last = Instant::now();
    let converged = loop {
        let now = pods.list(&ListParams::default()).await.unwrap();
        let rv = now.metadata.resource_version.clone().unwrap();
        let want = exact(&pods, &rv).await.unwrap();
        let got = seen.lock().unwrap().answers.last().cloned();
        if got.as_ref().is_some_and(|a| (&a.counts, a.unscheduled) == (&want.0, want.1)) {
            break last.elapsed();
        }
        assert!(last.elapsed() < CONVERGED_WITHIN, "seed {seed}: not converged: {got:?} vs {want:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    stop.store(true, Ordering::Relaxed);
    blocking(move || poller.join().unwrap()).await;
    let (n, gone) = verify(&seen, &mut answers_seen, &pods, || failed(seed, &log)).await;
    (checked, compacted_away) = (checked + n, compacted_away + gone);
    let rss_end = rss_kib(served.child.id());
    eprintln!(
        "chaos: seed {seed}: {:.0} s, {} steps; faults {faults:?}; {checked} answers checked against a List at \
         their resourceVersion ({compacted_away} compacted away before they could be); count --from: \
         {from_answers} from the watch, {from_fallbacks} fell back; worst time to 503 {worst_unready:?}, worst \
         recovery {worst_recovery:?}; converged {converged:?} after the last step; RSS {rss_start} KiB at start, \
         {rss_end} KiB at the end",
        started.elapsed().as_secs_f64(),
        log.len()
    );
    assert!(checked >= 20, "seed {seed}: only {checked} answers checked; steps:\n{}", log.join("\n"));
    assert!(
        rss_end < rss_start + 16 * 1024,
        "seed {seed}: RSS grew from {rss_start} KiB to {rss_end} KiB across the faults"
    );
}
