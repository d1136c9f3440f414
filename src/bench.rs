//! `kubectl podcount bench`: every counting strategy people argue about,
//! each run in a child process of its own (so its peak RSS is its own),
//! timed over several iterations in alternating order, checked against each
//! other, and printed side by side.
//!
//! The parent runs `kubectl-podcount bench-run --strategy S ...` (hidden),
//! which does the work once and prints one JSON [`Run`] line.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use ::http::Request;
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use crate::alloc;
use crate::cli::{BenchArgs, BenchOutput, BenchRunArgs, ConnectionArgs, Strategy};
use crate::connect::{Target, targets};
use crate::error::{Error, Result, chain, exit};
use crate::event::Event;
use crate::http::{self, Failure};
use crate::informer::{self, InitialList, Meter, Source};
use crate::list::{self, NOT_FINISHED, PodQuery, count_pods, list_nodes};
use crate::metrics::proc_status_kib;
use crate::pager::{Accept, ListRequest, PageMeta, PageSink, Pager, Whole, decode_error};
use crate::proto::ListSplitter;
use crate::store::{Mirror, PodStore};
use crate::tally::{Phase, PodFacts, Tally};
use crate::wire::Encoding;

/// What one child run reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub label: String,
    /// Machine-readable: the strategy, its page size, the encoding pods
    /// actually came in, and how much of each pod was decoded.
    pub strategy: String,
    pub chunk_size: u32,
    pub wire: String,
    pub decode: String,
    /// Set when the strategy could not run here, with the reason.
    pub skipped: Option<String>,
    /// Time to a complete count (informers: to first sync).
    pub seconds: f64,
    pub requests: u64,
    pub bytes: u64,
    pub peak_rss_kib: u64,
    pub steady_rss_kib: Option<u64>,
    /// Informers: live heap bytes a copy of the synced store takes, per
    /// pod (counting allocator).
    pub store_bytes_per_pod: Option<f64>,
    pub store_pods: Option<u64>,
    /// Informers: answering "pods on every node" from memory.
    pub query_micros: Option<f64>,
    /// Pods per node (non-zero), for the agreement check.
    pub counts: BTreeMap<String, u64>,
    pub unscheduled: u64,
}

fn counts_of<K: Ord>(tally: &Tally<K>, name: impl Fn(&K) -> String) -> BTreeMap<String, u64> {
    tally.nodes().map(|(k, c)| (name(k), u64::from(c.pods))).collect()
}

/// One strategy run as planned: which, at what page size, in which encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub strategy: Strategy,
    pub chunk: u32,
    pub full: bool,
    pub wire: Encoding,
}

impl Plan {
    /// The Table path and the full k8s-openapi decode read JSON only.
    fn json_only(&self) -> bool {
        matches!(self.strategy, Strategy::Table | Strategy::FloorTable) || self.full
    }

    pub fn label(&self) -> String {
        let (s, c, w) = (self.strategy, self.chunk, self.wire.name());
        match s {
            Strategy::List if self.full => format!("list ({w}, chunk {c}, full Pod decode)"),
            Strategy::List => format!("list ({w}, chunk {c})"),
            Strategy::Floor => format!("floor ({w}, chunk {c})"),
            Strategy::FloorTable => format!("floor-table (chunk {c})"),
            Strategy::ListCached => format!("list-cached ({w}, rv=0)"),
            Strategy::PerNode => format!("per-node ({w})"),
            Strategy::Table => format!("table (chunk {c})"),
            Strategy::Informer => format!("informer ({w}, chunk {c})"),
            Strategy::InformerStreaming => format!("informer-streaming ({w})"),
        }
    }

    fn decode(&self) -> &'static str {
        match self.strategy {
            Strategy::Floor | Strategy::FloorTable => "none",
            Strategy::Table => "table-rows",
            _ if self.full => "full",
            _ => "lean",
        }
    }

    /// The floor this run is held against: the same requests, nothing decoded.
    fn floor(&self) -> Option<Plan> {
        let floor = match self.strategy {
            Strategy::List | Strategy::Informer if !self.full => Strategy::Floor,
            Strategy::Table => Strategy::FloorTable,
            _ => return None,
        };
        Some(Plan { strategy: floor, full: false, ..*self })
    }
}

/// Every run `bench` makes: paged strategies at each chunk size, object
/// strategies in each encoding.
pub fn plan(strategies: &[Strategy], chunk_sizes: &[u32], wires: &[Encoding], full: bool) -> Vec<Plan> {
    let mut plan = Vec::new();
    for &strategy in strategies {
        let chunks = match strategy {
            // The informer too: its first sync is compared with the floor at
            // the page size the watch uses (the default).
            Strategy::List | Strategy::Table | Strategy::Floor | Strategy::FloorTable | Strategy::Informer => {
                chunk_sizes
            }
            _ => &chunk_sizes[..1],
        };
        for &chunk in chunks {
            for &wire in wires {
                let p = Plan { strategy, chunk, full: false, wire };
                let p = if p.json_only() { Plan { wire: Encoding::Json, ..p } } else { p };
                if !plan.contains(&p) {
                    plan.push(p);
                }
            }
        }
    }
    if full {
        plan.push(Plan { strategy: Strategy::List, chunk: chunk_sizes[0], full: true, wire: Encoding::Json });
    }
    plan
}

// ---------------------------------------------------------------- child side

/// `bench-run`: one strategy, once; prints a JSON [`Run`].
pub async fn run_one(args: BenchRunArgs) -> Result<i32> {
    let t = targets(&args.connection).await?.remove(0);
    let started = Instant::now();
    let mut run = match args.strategy {
        Strategy::List if args.decode_full => list_full(&t, args.chunk_size).await?,
        Strategy::List | Strategy::ListCached => {
            let q = PodQuery {
                chunk_size: args.chunk_size,
                resource_version: (args.strategy == Strategy::ListCached).then(|| "0".to_string()),
                ..Default::default()
            };
            let mut last = list::Progress::default();
            let c = count_pods(&t, &q, |p| last = p, |w| eprintln!("warning: {w}")).await?;
            Run {
                requests: last.pages,
                bytes: last.bytes,
                counts: counts_of(&c.tally, String::clone),
                unscheduled: c.tally.unscheduled(),
                ..Default::default()
            }
        }
        Strategy::Floor => floor(&t, all_pods(args.chunk_size)).await?,
        Strategy::FloorTable => {
            let q = PodQuery { chunk_size: args.chunk_size, method: list::Method::Table, ..Default::default() };
            floor(&t, q.list_request()).await?
        }
        Strategy::PerNode => per_node(&t, args.chunk_size).await?,
        Strategy::Table => table(&t, args.chunk_size).await?,
        Strategy::Informer => informer_run(&t, args.chunk_size, args.steady, InitialList::Paged).await?,
        Strategy::InformerStreaming => informer_run(&t, args.chunk_size, args.steady, InitialList::Stream).await?,
    };
    if run.skipped.is_none() && run.seconds == 0.0 {
        run.seconds = started.elapsed().as_secs_f64();
    }
    let refused = t.at.protobuf_refused.load(std::sync::atomic::Ordering::Relaxed);
    let wire = if refused { Encoding::Json } else { t.at.wire };
    let plan = Plan { strategy: args.strategy, chunk: args.chunk_size, full: args.decode_full, wire };
    let wire = if plan.json_only() { Encoding::Json } else { wire };
    run.label = Plan { wire, ..plan }.label();
    run.strategy = args.strategy.to_possible_value_name();
    run.chunk_size = args.chunk_size;
    run.wire = wire.name().into();
    run.decode = plan.decode().into();
    run.peak_rss_kib = proc_status_kib("VmHWM:");
    println!("{}", serde_json::to_string(&run).expect("serialisable"));
    Ok(exit::OK)
}

/// The all-pods List every list strategy makes, without the phase filter's
/// users: the baseline request.
fn all_pods(chunk: u32) -> ListRequest {
    PodQuery { chunk_size: chunk, ..Default::default() }.list_request()
}

/// The same paged List, decoding full k8s-openapi Pods: what lean decoding saves.
async fn list_full(t: &Target, chunk: u32) -> Result<Run> {
    let mut tally: Tally<String> = Tally::new();
    // k8s-openapi reads JSON only.
    let mut pager = Pager::new(ListRequest { accept: Accept::Exactly(crate::http::JSON), ..all_pods(chunk) });
    let mut whole = Whole::new(|body: &[u8]| {
        let page: k8s_openapi::List<Pod> = serde_json::from_slice(body).map_err(|e| decode_error("pod", e))?;
        for p in &page.items {
            let node = p.spec.as_ref().and_then(|s| s.node_name.as_deref());
            let facts = PodFacts {
                node,
                phase: Phase::parse(p.status.as_ref().and_then(|s| s.phase.as_deref())),
                terminating: p.metadata.deletion_timestamp.is_some(),
                daemon_set: p
                    .metadata
                    .owner_references
                    .as_ref()
                    .is_some_and(|o| o.iter().any(|r| r.controller == Some(true) && r.kind == "DaemonSet")),
                host_network: p.spec.as_ref().and_then(|s| s.host_network) == Some(true),
            };
            tally.add(facts.contribution());
        }
        Ok(PageMeta { continue_token: page.metadata.continue_.filter(|c| !c.is_empty()), resource_version: None })
    });
    while pager.next(t, &mut whole).await.map_err(Failure::into_error)? {}
    drop(whole);
    Ok(Run {
        requests: pager.pages,
        bytes: pager.bytes,
        counts: counts_of(&tally, String::clone),
        unscheduled: tally.unscheduled(),
        ..Default::default()
    })
}

/// The continue token from the start of a List body: the apiserver writes
/// `metadata` (and in it `continue`) before `items`.
fn continue_token(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(4096)];
    let key = b"\"continue\":\"";
    let at = head.windows(key.len()).position(|w| w == key)? + key.len();
    let end = head[at..].iter().position(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(&head[at..at + end]).into_owned()).filter(|t| !t.is_empty())
}

/// Keeps a page's first 4 KiB (where the continue token is) and drops the
/// rest as it arrives: the floor streams as `list` does.
#[derive(Default)]
struct Discard {
    head: Vec<u8>,
    protobuf: bool,
}

impl PageSink for Discard {
    fn begin(&mut self, encoding: Encoding) {
        self.head.clear();
        self.protobuf = encoding == Encoding::Protobuf;
    }

    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        let room = 4096usize.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        Ok(())
    }

    fn end(&mut self) -> Result<PageMeta, Failure> {
        if self.protobuf {
            // The ListMeta comes before the items: split the head alone.
            let mut split = ListSplitter::new();
            let _ = split.feed::<crate::proto::DecodeError>(&self.head, |_| Ok(()));
            return Ok(split.meta().into());
        }
        Ok(PageMeta { continue_token: continue_token(&self.head), resource_version: None })
    }
}

/// A floor: the paged requests `list` (or `table`) makes, with nothing decoded.
async fn floor(t: &Target, req: ListRequest) -> Result<Run> {
    let mut pager = Pager::new(req);
    let mut sink = Discard::default();
    while pager.next(t, &mut sink).await.map_err(Failure::into_error)? {}
    Ok(Run { requests: pager.pages, bytes: pager.bytes, ..Default::default() })
}

/// One List per node (fieldSelector=spec.nodeName=N), eight at a time.
async fn per_node(t: &Target, chunk: u32) -> Result<Run> {
    let nodes = list_nodes(t, None, chunk, &[]).await?;
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut set = tokio::task::JoinSet::new();
    for n in nodes {
        let (t, sem) = (t.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let q = PodQuery {
                field_selector: Some(format!("spec.nodeName={}", n.name)),
                chunk_size: chunk,
                ..Default::default()
            };
            let mut last = list::Progress::default();
            let c = count_pods(&t, &q, |p| last = p, |_| {}).await?;
            let pods = c.tally.node(n.name.as_str()).pods;
            Ok::<_, Error>((n.name, pods, last))
        });
    }
    let mut run = Run { requests: 1, ..Default::default() };
    while let Some(r) = set.join_next().await {
        let (name, pods, p) = r.map_err(|e| Error::cluster(format!("per-node task failed: {e}")))??;
        run.requests += p.pages;
        run.bytes += p.bytes;
        if pods > 0 {
            run.counts.insert(name, u64::from(pods));
        }
    }
    // Unscheduled pods are on no node, so this strategy cannot see them.
    Ok(run)
}

/// The Table API (`as=Table`, no objects): the server prints rows and we
/// read the Node column. Finished pods are filtered server-side.
async fn table(t: &Target, chunk: u32) -> Result<Run> {
    let q = PodQuery { chunk_size: chunk, method: list::Method::Table, ..Default::default() };
    let mut last = list::Progress::default();
    let c = count_pods(t, &q, |p| last = p, |w| eprintln!("warning: {w}")).await?;
    Ok(Run {
        requests: last.pages,
        bytes: last.bytes,
        counts: counts_of(&c.tally, String::clone),
        unscheduled: c.tally.unscheduled(),
        ..Default::default()
    })
}

fn query_micros(store: &PodStore) -> f64 {
    let names = store.names();
    let start = Instant::now();
    let rounds = 100;
    let mut sink = 0u64;
    for _ in 0..rounds {
        for (k, c) in store.tally().nodes() {
            sink = sink.wrapping_add(u64::from(c.pods)).wrapping_add(names.name(*k).len() as u64);
        }
    }
    std::hint::black_box(sink);
    start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
}

/// The watch's informer to first sync, then `steady` of watching: `Paged`
/// is list+watch, `Stream` WatchList (skipped where the server refuses it).
async fn informer_run(t: &Target, chunk: u32, steady: Duration, initial: InitialList) -> Result<Run> {
    let meter = Meter::default();
    let src = Source {
        target: t.clone(),
        path: "/api/v1/pods".into(),
        namespace: None,
        label_selector: None,
        field_selector: Some(NOT_FINISHED.into()),
        chunk_size: chunk,
        initial,
        meter: meter.clone(),
        keep_labels: Vec::new(),
    };
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(informer::run::<informer::Pods>(src, tx));
    let started = Instant::now();
    let mut store = Mirror::new(PodStore::new());
    let mut synced_after = None;
    let deadline = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(deadline);
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            _ = &mut deadline => break,
        };
        let Some(ev) = ev else { break };
        if let Event::Relist { why } = &ev
            && why.contains("refused WatchList")
        {
            task.abort();
            return Ok(Run { skipped: Some(why.clone()), ..Default::default() });
        }
        let synced = matches!(ev, Event::Synced);
        store.handle(ev, &mut |_| {});
        if synced && synced_after.is_none() {
            synced_after = Some(started.elapsed());
            deadline.as_mut().reset(tokio::time::Instant::now() + steady);
        }
    }
    task.abort();
    if let Ok(Err(e)) = task.await.map_err(|_| ()) {
        return Err(e);
    }
    let Some(synced) = synced_after else {
        return Err(Error::cluster("the informer never synced"));
    };
    let store = &store.live;
    // The heap a second copy of the synced store takes, per pod: live bytes
    // before and after the copy, nothing else allocating in between. (A
    // slope between the first page and the sync also caught pages still in
    // flight: -10 and 91 B/pod at 10,000 pods.)
    let per_pod = alloc::live_bytes().and_then(|before| {
        let copy = std::hint::black_box(store.clone());
        let after = alloc::live_bytes()?;
        drop(copy);
        (!store.is_empty()).then(|| (after as f64 - before as f64) / store.len() as f64)
    });
    Ok(Run {
        seconds: synced.as_secs_f64(),
        requests: meter.requests.load(std::sync::atomic::Ordering::Relaxed),
        bytes: meter.bytes.load(std::sync::atomic::Ordering::Relaxed),
        steady_rss_kib: Some(proc_status_kib("VmRSS:")),
        store_bytes_per_pod: per_pod,
        store_pods: Some(store.len() as u64),
        query_micros: Some(query_micros(store)),
        counts: counts_of(store.tally(), |k| store.names().name(*k).to_string()),
        unscheduled: store.tally().unscheduled(),
        ..Default::default()
    })
}

// ------------------------------------------------------------------- probe

/// Event-to-printed-line latency of the real `watch` command, in ms.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub samples: usize,
    pub create_p50_ms: f64,
    pub create_p99_ms: f64,
    pub create_max_ms: f64,
    pub delete_p50_ms: f64,
    pub delete_p99_ms: f64,
    pub delete_max_ms: f64,
}

fn millis(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(&v, 50.0), percentile(&v, 99.0), v.last().copied().unwrap_or(0.0))
}

/// Starts `watch -o jsonl --interval 0` on a throw-away namespace, then
/// creates and deletes pods bound to a node that does not exist (so no
/// kubelet runs them) and times request-start to printed line. Cleans up
/// on every path, Ctrl-C included.
async fn probe(args: &BenchArgs, t: &Target) -> Result<Probe> {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, DeleteParams, PostParams};
    use tokio::io::{AsyncBufReadExt, BufReader};

    let ns = format!("podcount-probe-{}", std::process::id());
    let node = format!("{ns}-nowhere");
    let namespaces: Api<Namespace> = Api::all(t.client.clone());
    let ns_obj: Namespace =
        serde_json::from_value(json!({"metadata": {"name": ns, "labels": {"podcount.io/probe": "true"}}}))
            .expect("static object");
    namespaces.create(&PostParams::default(), &ns_obj).await.map_err(|e| {
        Error::cluster(format!(
            "--probe cannot create namespace {ns}: {} (needs: create namespaces, create/delete pods)",
            chain(&e)
        ))
    })?;
    let pods: Api<Pod> = Api::namespaced(t.client.clone(), &ns);
    let exe = std::env::current_exe().map_err(|e| Error::usage(format!("cannot find my own binary: {e}")))?;
    let mut watcher = tokio::process::Command::new(exe)
        .args(["watch", "-o", "jsonl", "--interval", "0", "-n", &ns])
        .args(connection_flags(&args.connection))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::usage(format!("cannot start the watch: {e}")))?;
    let mut lines = BufReader::new(watcher.stdout.take().expect("piped")).lines();
    let work = async {
        loop {
            match lines.next_line().await {
                Ok(Some(l)) if l.contains("\"synced\"") => break,
                Ok(Some(_)) => {}
                _ => return Err(Error::cluster("the probe's watch ended before it synced")),
            }
        }
        let (mut created, mut deleted) = (Vec::new(), Vec::new());
        for i in 0..args.probe_samples {
            let name = format!("probe-{i}");
            let pod: Pod = serde_json::from_value(json!({
                "metadata": {"name": name},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "podcount.invalid/probe"}]}
            }))
            .expect("static object");
            for (create, into) in [(true, &mut created), (false, &mut deleted)] {
                let started = Instant::now();
                let r = if create {
                    pods.create(&PostParams::default(), &pod).await.map(|_| ())
                } else {
                    pods.delete(&name, &DeleteParams::default().grace_period(0)).await.map(|_| ())
                };
                r.map_err(|e| Error::cluster(format!("--probe: {}", chain(&e))))?;
                let want = if create { "\"to\":1" } else { "\"to\":0" };
                loop {
                    match lines.next_line().await {
                        Ok(Some(l)) if l.contains("\"change\"") && l.contains(want) => break,
                        Ok(Some(_)) => {}
                        _ => return Err(Error::cluster("the probe's watch ended")),
                    }
                }
                into.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        Ok((created, deleted))
    };
    let outcome = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(300), work) => r.unwrap_or_else(|_| Err(Error::cluster("--probe timed out"))),
        _ = tokio::signal::ctrl_c() => Err(Error::cluster("interrupted")),
    };
    let _ = watcher.kill().await;
    // Clean up whatever happened above.
    let _ = pods.delete_collection(&DeleteParams::default().grace_period(0), &Default::default()).await;
    let _ = namespaces.delete(&ns, &DeleteParams::default()).await;
    let (created, deleted) = outcome?;
    let (c50, c99, cmax) = millis(created);
    let (d50, d99, dmax) = millis(deleted);
    Ok(Probe {
        samples: args.probe_samples as usize,
        create_p50_ms: c50,
        create_p99_ms: c99,
        create_max_ms: cmax,
        delete_p50_ms: d50,
        delete_p99_ms: d99,
        delete_max_ms: dmax,
    })
}

// --------------------------------------------------------------- parent side

/// One strategy's runs over all iterations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub label: String,
    pub strategy: String,
    pub chunk_size: u32,
    pub wire: String,
    pub decode: String,
    pub skipped: Option<String>,
    /// The strategy could not run: bench exits non-zero.
    pub failed: Option<String>,
    pub min_seconds: f64,
    pub median_seconds: f64,
    pub p95_seconds: f64,
    pub requests: u64,
    pub bytes: u64,
    pub peak_rss_kib: u64,
    pub steady_rss_kib: Option<u64>,
    pub store_bytes_per_pod: Option<f64>,
    pub store_pods: Option<u64>,
    pub query_micros: Option<f64>,
    /// Median time over the named baseline's median.
    pub ratio: Option<f64>,
    /// Median time over its floor's (same requests, nothing decoded).
    pub over_floor: Option<f64>,
    /// Counts differ from the agreement baseline's (per node).
    pub disagrees: Option<String>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summarize(plan: &Plan, runs: &[Run]) -> Summary {
    let mut secs: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let max = |f: fn(&Run) -> u64| runs.iter().map(f).max().unwrap_or(0);
    let first = runs.first();
    Summary {
        label: first.map_or_else(|| plan.label(), |r| r.label.clone()),
        strategy: plan.strategy.to_possible_value_name(),
        chunk_size: plan.chunk,
        wire: first.map_or_else(|| plan.wire.name().to_string(), |r| r.wire.clone()),
        decode: plan.decode().to_string(),
        skipped: first.and_then(|r| r.skipped.clone()),
        failed: None,
        min_seconds: secs.first().copied().unwrap_or(0.0),
        median_seconds: percentile(&secs, 50.0),
        p95_seconds: percentile(&secs, 95.0),
        requests: first.map_or(0, |r| r.requests),
        bytes: first.map_or(0, |r| r.bytes),
        peak_rss_kib: max(|r| r.peak_rss_kib),
        steady_rss_kib: runs.iter().filter_map(|r| r.steady_rss_kib).max(),
        store_bytes_per_pod: first.and_then(|r| r.store_bytes_per_pod),
        store_pods: first.and_then(|r| r.store_pods),
        query_micros: first.and_then(|r| r.query_micros),
        ratio: None,
        over_floor: None,
        disagrees: None,
    }
}

/// How two strategies' per-node counts differ, if they do.
pub fn disagreement(base: &BTreeMap<String, u64>, other: &BTreeMap<String, u64>) -> Option<String> {
    let mut diffs = Vec::new();
    for k in base.keys().chain(other.keys().filter(|k| !base.contains_key(*k))) {
        let (a, b) = (base.get(k).copied().unwrap_or(0), other.get(k).copied().unwrap_or(0));
        if a != b {
            diffs.push(format!("{k}: {a} vs {b}"));
        }
    }
    (!diffs.is_empty()).then(|| {
        let n = diffs.len();
        diffs.truncate(3);
        format!("{n} nodes differ ({}{})", diffs.join(", "), if n > 3 { ", ..." } else { "" })
    })
}

fn connection_flags(c: &ConnectionArgs) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(k) = &c.kubeconfig {
        v.extend(["--kubeconfig".to_string(), k.display().to_string()]);
    }
    if let Some(ctx) = c.context.first() {
        v.extend(["--context".to_string(), ctx.clone()]);
    }
    if let Some(cl) = &c.cluster {
        v.extend(["--cluster".to_string(), cl.clone()]);
    }
    if let Some(u) = &c.user {
        v.extend(["--user".to_string(), u.clone()]);
    }
    if let Some(w) = c.wire {
        v.extend(["--wire".to_string(), w.name().to_string()]);
    }
    v
}

async fn child(args: &BenchArgs, p: Plan) -> Result<Run> {
    let exe = std::env::current_exe().map_err(|e| Error::usage(format!("cannot find my own binary: {e}")))?;
    let mut cmd = tokio::process::Command::new(exe);
    let connection = ConnectionArgs { wire: Some(p.wire), ..args.connection.clone() };
    cmd.arg("bench-run")
        .arg("--strategy")
        .arg(p.strategy.to_possible_value_name())
        .args(["--chunk-size", &p.chunk.to_string()])
        .args(["--steady", &humantime::format_duration(args.steady).to_string()])
        .args(connection_flags(&connection))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if p.full {
        cmd.arg("--decode-full");
    }
    cmd.kill_on_drop(true);
    let out = match args.connection.request_timeout.0 {
        Some(limit) => tokio::time::timeout(limit, cmd.output()).await.map_err(|_| {
            Error::cluster(format!("timed out after {} (--request-timeout)", humantime::format_duration(limit)))
        })?,
        None => cmd.output().await,
    };
    let out = out.map_err(|e| Error::usage(format!("cannot run a bench child: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = err.trim().trim_start_matches("error: ");
        return Err(Error { kind: crate::error::Kind::Cluster, message: err.to_string() });
    }
    serde_json::from_slice(&out.stdout).map_err(|e| Error::cluster(format!("a bench child printed no result: {e}")))
}

/// Runs `bench` and returns the exit code.
pub async fn run(args: BenchArgs) -> Result<i32> {
    let t = targets(&args.connection).await?.remove(0);
    let request = Request::get("/version").body(Vec::new()).map_err(|e| Error::usage(e.to_string()))?;
    let version: serde_json::Value = tokio::time::timeout_at(http::deadline(&t.at), t.client.request(request))
        .await
        .map_err(|_| Error::cluster(format!("cannot read the server version: {} did not answer in time", t.at.server)))?
        .map_err(|e| match http::transport(&t.at, &e) {
            Failure::Fatal(e) => e,
            _ => Error::cluster(format!("cannot read the server version: {}", chain(&e))),
        })?;
    let nodes = list_nodes(&t, None, 500, &[]).await?.len();

    let wires = match args.connection.wire {
        Some(w) => vec![w],
        None => vec![Encoding::Protobuf, Encoding::Json],
    };
    let plan = plan(&args.strategies, &args.chunk_sizes, &wires, args.decode_full());
    let tty = std::io::stderr().is_terminal();
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); plan.len()];
    let mut failed: Vec<Option<String>> = vec![None; plan.len()];
    for it in 0..args.iterations {
        // Alternate the order so no strategy always runs on a cold or warm server.
        let mut order: Vec<usize> = (0..plan.len()).collect();
        order.rotate_left(it as usize % plan.len().max(1));
        if it % 2 == 1 {
            order.reverse();
        }
        for i in order {
            if failed[i].is_some() || runs[i].first().is_some_and(|r| r.skipped.is_some()) {
                continue;
            }
            if tty {
                eprint!("\r\x1b[2Kbench: iteration {}/{}: {}", it + 1, args.iterations, plan[i].label());
            }
            match child(&args, plan[i]).await {
                Ok(r) => runs[i].push(r),
                Err(e) => failed[i] = Some(e.message),
            }
        }
    }
    if tty {
        eprint!("\r\x1b[2K");
    }
    let mut summaries: Vec<Summary> = plan.iter().zip(&runs).map(|(p, r)| summarize(p, r)).collect();
    for (sum, f) in summaries.iter_mut().zip(&failed) {
        sum.failed = f.clone();
    }
    let ok: Vec<bool> =
        summaries.iter().zip(&runs).map(|(s, r)| s.failed.is_none() && s.skipped.is_none() && !r.is_empty()).collect();
    let ran = |i: usize| ok[i];
    // Ratios: against list (the first encoding, first chunk size), else the
    // first strategy that ran. Agreement: against the first that counts.
    let baseline = (0..plan.len())
        .find(|&i| plan[i].strategy == Strategy::List && !plan[i].full && ran(i))
        .or_else(|| (0..plan.len()).find(|&i| ran(i)));
    let counts_base = (0..plan.len()).find(|&i| ran(i) && plan[i].decode() != "none");
    let base_median = baseline.map(|i| summaries[i].median_seconds).filter(|m| *m > 0.0);
    let mut disagree = false;
    for i in 0..plan.len() {
        if !ran(i) {
            continue;
        }
        summaries[i].ratio = base_median.map(|m| summaries[i].median_seconds / m);
        if let Some(f) = plan[i].floor().and_then(|f| plan.iter().position(|p| *p == f)).filter(|&f| ran(f)) {
            let floor = summaries[f].median_seconds;
            summaries[i].over_floor = (floor > 0.0).then(|| summaries[i].median_seconds / floor);
        }
        let (Some(b), Some(first)) = (counts_base, runs[i].first()) else { continue };
        if plan[i].decode() == "none" || i == b {
            continue; // decodes nothing: nothing to agree on
        }
        let base = &runs[b][0];
        let mut d = disagreement(&base.counts, &first.counts);
        if plan[i].strategy != Strategy::PerNode
            && plan[b].strategy != Strategy::PerNode
            && first.unscheduled != base.unscheduled
        {
            d.get_or_insert_with(|| format!("unscheduled {} vs {}", base.unscheduled, first.unscheduled));
        }
        disagree |= d.is_some();
        summaries[i].disagrees = d;
    }
    let baseline_label = baseline.map(|i| summaries[i].label.clone());
    let agreement_label = counts_base.map(|i| summaries[i].label.clone());
    let base = counts_base.map(|i| runs[i][0].clone());
    let probe = if args.probe { Some(probe(&args, &t).await?) } else { None };
    let pods: u64 = base.as_ref().map_or(0, |b| b.counts.values().sum::<u64>() + b.unscheduled);
    let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let server = version["gitVersion"].as_str().unwrap_or("unknown").to_string();
    let mut out = std::io::stdout().lock();
    let text = match args.output {
        BenchOutput::Json => {
            serde_json::to_string_pretty(&json!({
                "apiVersion": "podcount/v1", "kind": "PodCountBench", "context": t.context, "date": date,
                "serverVersion": server, "nodes": nodes, "countedPods": pods, "iterations": args.iterations,
                "baseline": baseline_label, "agreementBaseline": agreement_label,
                "results": summaries, "probe": probe,
            }))
            .expect("serialisable")
                + "\n"
        }
        BenchOutput::Table => {
            let mut s = render(&summaries, &t.context, &server, nodes, pods, &date, args.iterations);
            s.push_str(&format!(
                "\nRATIO: median over {}'s. OVER FLOOR: median over the floor's at the same page size and encoding. AGREES: counts equal {}'s. B/POD: live heap bytes a copy of the synced store takes, per pod.\n",
                baseline_label.as_deref().unwrap_or("-"),
                agreement_label.as_deref().unwrap_or("-")
            ));
            if let Some(p) = &probe {
                s.push_str(&format!(
                    "\nwatch --interval 0, request start to printed line over {} pods: create p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; delete p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
                    p.samples, p.create_p50_ms, p.create_p99_ms, p.create_max_ms, p.delete_p50_ms, p.delete_p99_ms, p.delete_max_ms
                ));
            }
            s
        }
    };
    let _ = out.write_all(text.as_bytes());
    let failures: Vec<String> =
        summaries.iter().filter_map(|s| s.failed.as_ref().map(|f| format!("{}: {f}", s.label))).collect();
    if !failures.is_empty() {
        eprintln!("error: {} strategies failed: {}", failures.len(), failures.join("; "));
        return Ok(exit::CLUSTER);
    }
    if disagree {
        eprintln!(
            "error: strategies disagree on the counts (see the AGREES column); the cluster may have changed during the run"
        );
        return Ok(exit::THRESHOLD);
    }
    Ok(exit::OK)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn render(s: &[Summary], context: &str, server: &str, nodes: usize, pods: u64, date: &str, iterations: u32) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING).force_no_tty();
    t.set_header([
        "STRATEGY",
        "MIN",
        "MEDIAN",
        "P95",
        "RATIO",
        "OVER FLOOR",
        "REQUESTS",
        "BYTES",
        "PEAK RSS",
        "STEADY RSS",
        "B/POD",
        "QUERY",
        "AGREES",
    ]);
    for r in s {
        if let Some(why) = &r.failed {
            t.add_row([r.label.clone(), format!("failed: {why}")]);
            continue;
        }
        if let Some(why) = &r.skipped {
            t.add_row([r.label.clone(), format!("skipped: {why}")]);
            continue;
        }
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        t.add_row([
            r.label.clone(),
            format!("{:.3}s", r.min_seconds),
            format!("{:.3}s", r.median_seconds),
            format!("{:.3}s", r.p95_seconds),
            opt(r.ratio.map(|x| format!("{x:.2}x"))),
            opt(r.over_floor.map(|x| format!("{x:.2}x"))),
            r.requests.to_string(),
            mib(r.bytes / 1024),
            mib(r.peak_rss_kib),
            opt(r.steady_rss_kib.map(mib)),
            opt(r.store_bytes_per_pod.map(|b| format!("{b:.0}"))),
            opt(r.query_micros.map(|q| format!("{q:.0}us"))),
            match &r.disagrees {
                None if r.decode == "none" => "-".into(),
                None => "yes".into(),
                Some(d) => format!("NO: {d}"),
            },
        ]);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 3));
    }
    let mut out = format!(
        "context {context}, Kubernetes {server}, {nodes} nodes, {pods} counted pods, {date}, {iterations} iterations\n\n"
    );
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_continue_token_from_the_head() {
        let body = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"eyJ2Ijo"},"items":[]}"#;
        assert_eq!(continue_token(body).as_deref(), Some("eyJ2Ijo"));
        assert_eq!(continue_token(br#"{"metadata":{"resourceVersion":"9"},"items":[]}"#), None);
        assert_eq!(continue_token(br#"{"metadata":{"continue":""}}"#), None);
    }

    #[test]
    fn percentiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert_eq!(percentile(&v, 95.0), 5.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn disagreements_name_the_nodes() {
        let a: BTreeMap<String, u64> = [("n1".to_string(), 3), ("n2".to_string(), 1)].into();
        let b: BTreeMap<String, u64> = [("n1".to_string(), 3), ("n3".to_string(), 2)].into();
        assert_eq!(disagreement(&a, &a), None);
        assert_eq!(disagreement(&a, &b).unwrap(), "2 nodes differ (n2: 1 vs 0, n3: 0 vs 2)");
    }
}
