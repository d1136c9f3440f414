//! The child side of `bench`: one strategy, once, in a process of its own
//! (`bench-run`, hidden), so its peak RSS is its own; it prints one JSON
//! [`Run`] line for the parent.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::plan::{Plan, Strategy};
use crate::client::connect::{ConnectOptions, Target, targets};
use crate::client::http::{Failure, JSON};
use crate::client::pager::{Accept, ListRequest, PageMeta, PageSink, Pager, Whole, decode_error};
use crate::decode::Encoding;
use crate::decode::proto::{DecodeError, ListSplitter};
use crate::error::{Error, Result, exit};
use crate::memory::{self, proc_status_kib};
use crate::model::event::{Event, Relist};
use crate::model::pod::PodFacts;
use crate::model::store::{Mirror, PodStore};
use crate::model::tally::Tally;
use crate::source::informer::{self, InitialList, Meter, PodKeep, Source};
use crate::source::list::{Progress, count_pods};
use crate::source::nodes::{list_nodes, list_nodes_metered, node_request};
use crate::source::query::{Method, NOT_FINISHED, PodQuery};

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
    pub peak_rss_kib: Option<u64>,
    pub steady_rss_kib: Option<u64>,
    /// Informers: live heap bytes a copy of the synced store takes, per
    /// pod (counting allocator).
    pub store_bytes_per_pod: Option<f64>,
    pub store_pods: Option<u64>,
    /// Informers: answering "pods on every node" from memory.
    pub query_micros: Option<f64>,
    /// `per-node`: the nodes it listed pods of (it cannot see pods bound
    /// to a node the node List lacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_nodes: Option<Vec<String>>,
    /// `nodes`: how many the node List had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u64>,
    /// Pods per node (non-zero), for the agreement check.
    pub counts: BTreeMap<String, u64>,
    pub unscheduled: u64,
}

fn counts_of<K: Ord>(tally: &Tally<K>, name: impl Fn(&K) -> String) -> BTreeMap<String, u64> {
    tally.nodes().map(|(k, c)| (name(k), u64::from(c.pods))).collect()
}

/// One strategy run, as the parent asks for it (`bench-run`'s flags).
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub connect: ConnectOptions,
    pub strategy: Strategy,
    pub chunk_size: u32,
    pub decode_full: bool,
    pub steady: Duration,
}

/// `bench-run`: one strategy, once; prints a JSON [`Run`].
pub async fn run_one(args: RunOptions) -> Result<i32> {
    let t = targets(&args.connect).await?.remove(0);
    let started = Instant::now();
    let mut run = match args.strategy {
        Strategy::List if args.decode_full => list_full(&t, args.chunk_size).await?,
        Strategy::List | Strategy::ListCached | Strategy::ListResources => {
            let q = PodQuery {
                chunk_size: args.chunk_size,
                resource_version: (args.strategy == Strategy::ListCached).then(|| "0".to_string()),
                resources: args.strategy == Strategy::ListResources,
                ..Default::default()
            };
            let mut last = Progress::default();
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
            let q = PodQuery { chunk_size: args.chunk_size, method: Method::Table, ..Default::default() };
            floor(&t, q.list_request()).await?
        }
        Strategy::PerNode => per_node(&t, args.chunk_size).await?,
        Strategy::Table => table(&t, args.chunk_size).await?,
        Strategy::Informer => informer_run(&t, args.chunk_size, args.steady, InitialList::Paged, false).await?,
        Strategy::InformerStreaming => {
            informer_run(&t, args.chunk_size, args.steady, InitialList::Stream, false).await?
        }
        Strategy::InformerResources => informer_run(&t, args.chunk_size, args.steady, InitialList::Paged, true).await?,
        Strategy::Nodes => {
            let l = list_nodes_metered(&t, None, args.chunk_size, &Default::default()).await?;
            Run { requests: l.requests, bytes: l.bytes, nodes: Some(l.nodes.len() as u64), ..Default::default() }
        }
        Strategy::FloorNodes => floor(&t, node_request(None, args.chunk_size)).await?,
    };
    if run.skipped.is_none() && run.seconds == 0.0 {
        run.seconds = started.elapsed().as_secs_f64();
    }
    let refused = t.at.protobuf_refused.load(std::sync::atomic::Ordering::Relaxed);
    let wire = if refused { Encoding::Json } else { t.at.wire };
    let plan = Plan { strategy: args.strategy, chunk: args.chunk_size, full: args.decode_full, wire };
    let wire = if plan.json_only() { Encoding::Json } else { wire };
    run.label = Plan { wire, ..plan }.label();
    run.strategy = args.strategy.name().to_string();
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
    let mut pager = Pager::new(ListRequest { accept: Accept::Exactly(JSON), ..all_pods(chunk) });
    let mut whole = Whole::new(|body: &[u8]| {
        let page: k8s_openapi::List<Pod> = serde_json::from_slice(body).map_err(|e| decode_error("pod", e))?;
        for p in &page.items {
            let owners = p.metadata.owner_references.iter().flatten();
            let facts = PodFacts::read(
                p.spec.as_ref().and_then(|s| s.node_name.as_deref()),
                p.status.as_ref().and_then(|s| s.phase.as_deref()),
                p.metadata.deletion_timestamp.is_some(),
                owners.map(|o| (Some(o.kind.as_str()), o.controller)),
                p.spec.as_ref().and_then(|s| s.host_network),
            );
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
            let _ = split.feed::<DecodeError>(&self.head, |_| Ok(()));
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
    let nodes = list_nodes(t, None, chunk, &Default::default()).await?;
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
            let mut last = Progress::default();
            let c = count_pods(&t, &q, |p| last = p, |_| {}).await?;
            let pods = c.tally.node(n.name.as_str()).pods;
            Ok::<_, Error>((n.name, pods, last))
        });
    }
    let mut run = Run { requests: 1, listed_nodes: Some(Vec::new()), ..Default::default() };
    while let Some(r) = set.join_next().await {
        let (name, pods, p) = r.map_err(|e| Error::cluster(format!("per-node task failed: {e}")))??;
        run.requests += p.pages;
        run.bytes += p.bytes;
        run.listed_nodes.get_or_insert_default().push(name.clone());
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
    let q = PodQuery { chunk_size: chunk, method: Method::Table, ..Default::default() };
    let mut last = Progress::default();
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
async fn informer_run(t: &Target, chunk: u32, steady: Duration, initial: InitialList, resources: bool) -> Result<Run> {
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
        keep: PodKeep { resources, limits: false, placing: Vec::new() },
    };
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(informer::run::<informer::Pods>(src, tx));
    let started = Instant::now();
    let mut store = Mirror::new(if resources { PodStore::with_resources() } else { PodStore::new() });
    let mut synced_after = None;
    let deadline = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(deadline);
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => ev,
            _ = &mut deadline => break,
        };
        let Some(ev) = ev else { break };
        if let Event::Relist { why: why @ Relist::WatchListRefused(_) } = &ev {
            task.abort();
            return Ok(Run { skipped: Some(why.to_string()), ..Default::default() });
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
    let store = store.live();
    // The heap a second copy of the synced store takes, per pod: live bytes
    // before and after the copy, nothing else allocating in between. (A
    // slope between the first page and the sync also caught pages still in
    // flight: -10 and 91 B/pod at 10,000 pods.)
    let per_pod = memory::live_bytes().and_then(|before| {
        let copy = std::hint::black_box(store.clone());
        let after = memory::live_bytes()?;
        drop(copy);
        (!store.is_empty()).then(|| (after as f64 - before as f64) / store.len() as f64)
    });
    Ok(Run {
        seconds: synced.as_secs_f64(),
        requests: meter.requests.load(std::sync::atomic::Ordering::Relaxed),
        bytes: meter.bytes.load(std::sync::atomic::Ordering::Relaxed),
        steady_rss_kib: proc_status_kib("VmRSS:"),
        store_bytes_per_pod: per_pod,
        store_pods: Some(store.len() as u64),
        query_micros: Some(query_micros(store)),
        counts: counts_of(store.tally(), |k| store.names().name(*k).to_string()),
        unscheduled: store.tally().unscheduled(),
        ..Default::default()
    })
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
}
