//! `kubectl podcount watch`: wiring. One pod informer and one node informer
//! per context feed a single loop that owns every store (`store::Mirror`),
//! prints the table once synced, then per-node changes coalesced over
//! `--interval` (`changes::Printer`), and judges `--until-saturated`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;

use crate::changes::{Changed, Printer, now_rfc3339};
use crate::cli::{WatchArgs, WatchOutput};
use crate::connect::targets;
use crate::count::color_enabled;
use crate::error::{Error, Result, exit};
use crate::event::Event;
use crate::informer::{self, Meter, Source};
use crate::list::{Method, PodQuery, suggest_namespace};
use crate::metrics;
use crate::progress::Status;
use crate::report::{
    GroupKey, GroupRow, MISSING, NodeInfo, SortBy, UNKNOWN, groups, leave_out_closed, rows, sort_groups, sort_rows,
};
use crate::serve::{self, Query};
use crate::store::{Mirror, NodeStore, NodeTouch, PodRecord, PodStore, Uid};
use crate::tally::Tally;
use crate::verdict::first_saturated;
use crate::view::{self, Counted, Filter, Grouped, TableOptions};

type PodEvent = Event<PodRecord, Uid>;
/// Wraps an informer's event (and when it reached the loop) for the loop.
type Wrap<K> = fn(usize, Event<<K as informer::Kind>::Item, <K as informer::Kind>::Key>, Instant) -> Msg;
type NodeEvent = Event<NodeInfo, String>;

/// From the informers to the loop; events carry when they reached it.
enum Msg {
    Pods(usize, PodEvent, Instant),
    Nodes(usize, NodeEvent, Instant),
    /// An informer stopped for good: which context, which resource, why.
    Failed(usize, &'static str, Error),
}

/// Counted for `/metrics`: what one informer's events did.
#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    relists: u64,
    reconnects: u64,
    events: u64,
}

impl Counters {
    fn count<T, K>(&mut self, ev: &Event<T, K>) {
        match ev {
            Event::Relist { .. } => self.relists += 1,
            Event::Reconnecting { .. } => self.reconnects += 1,
            Event::Page(items) => self.events += items.len() as u64,
            Event::Apply(_) | Event::Delete(_) => self.events += 1,
            Event::Synced => {}
        }
    }
}

/// One cluster's state: pods, nodes, and what was last printed.
struct Cluster {
    context: String,
    pods: Mirror<PodStore>,
    nodes: Mirror<NodeStore>,
    /// Shown the first table (both informers synced once).
    started: bool,
    /// Pod count per interned node as last printed.
    printed: Vec<u32>,
    dirty: BTreeSet<u32>,
    /// `--until-saturated`: nodes whose counts changed since last judged
    /// (so an event costs its own nodes, not a walk over all of them), or
    /// all of them after a sync or a node change.
    to_judge: BTreeSet<u32>,
    judge_all: bool,
    failed: bool,
    /// The node list is forbidden: counts go on without allocatable.
    nodes_unreadable: bool,
    /// `--group-by`: pods per group as last printed.
    printed_groups: BTreeMap<String, u64>,
    groups_dirty: bool,
    /// Shared with the informers: whether their watches are open, the last
    /// resourceVersion.
    pod_meter: Meter,
    node_meter: Meter,
    pod_counters: Counters,
    node_counters: Counters,
}

impl Cluster {
    fn new(context: String) -> Cluster {
        Cluster {
            pod_meter: Meter::default(),
            node_meter: Meter::default(),
            pod_counters: Counters::default(),
            node_counters: Counters::default(),
            context,
            pods: Mirror::default(),
            nodes: Mirror::default(),
            started: false,
            printed: Vec::new(),
            dirty: BTreeSet::new(),
            to_judge: BTreeSet::new(),
            judge_all: true,
            failed: false,
            nodes_unreadable: false,
            printed_groups: BTreeMap::new(),
            groups_dirty: false,
        }
    }

    fn printed(&self, node: u32) -> u32 {
        self.printed.get(node as usize).copied().unwrap_or(0)
    }

    fn set_printed(&mut self, node: u32, pods: u32) {
        let i = node as usize;
        if self.printed.len() <= i {
            self.printed.resize(i + 1, 0);
        }
        self.printed[i] = pods;
    }

    fn tally_by_name(&self) -> Tally<String> {
        let mut t = Tally::new();
        let names = self.pods.live.names();
        t.absorb(self.pods.live.tally(), |i| names.name(*i).to_string());
        t
    }

    /// Why the stores are not a current view, if they are not: listing,
    /// relisting, or a watch that is not open (reconnecting).
    fn not_ready(&self) -> Option<String> {
        let what = |synced: bool, relisting: bool, watching: &Meter| {
            if self.failed {
                Some("failed")
            } else if !synced {
                Some("listing")
            } else if relisting {
                Some("relisting")
            } else if !watching.watching.load(std::sync::atomic::Ordering::Relaxed) {
                Some("reconnecting")
            } else {
                None
            }
        };
        let pods = what(self.pods.synced, self.pods.relisting(), &self.pod_meter).map(|w| format!("pods: {w}"));
        let nodes = what(self.nodes.synced, self.nodes.relisting(), &self.node_meter)
            .filter(|_| !self.nodes_unreadable)
            .map(|w| format!("nodes: {w}"));
        let why: Vec<String> = pods.into_iter().chain(nodes).collect();
        (!why.is_empty()).then(|| format!("context {}: {}", self.context, why.join(", ")))
    }

    /// The count as `count -o json` would give it, from memory.
    fn document_view(&self, filter: &Filter) -> Counted {
        let mut counted = self.counted(filter);
        sort_rows(&mut counted.rows, SortBy::Name);
        let rv = self.pod_meter.resource_version.lock().map(|r| r.clone()).unwrap_or_default();
        counted.resource_version = Some(rv).filter(|r| !r.is_empty());
        counted
    }

    /// The group of an interned node (`--group-by`).
    fn group_of(&self, key: &GroupKey, node: &str) -> String {
        match self.nodes.live.nodes.get(node) {
            _ if self.nodes_unreadable => UNKNOWN.into(),
            Some(info) => key.value_of(&info.labels).to_string(),
            None => MISSING.into(),
        }
    }

    fn counted(&self, filter: &Filter) -> Counted {
        let nodes: Vec<NodeInfo> = self.nodes.live.nodes.values().cloned().collect();
        let tally = self.tally_by_name();
        let listed = (!self.nodes_unreadable).then_some(nodes.as_slice());
        // With a node selector, pods on other nodes are outside the view.
        let mut rows = rows(&tally, listed, filter.node_selector.is_none());
        let left_out = filter.schedulable_only.then(|| leave_out_closed(&mut rows));
        Counted {
            context: self.context.clone(),
            observed_at: now_rfc3339(),
            resource_version: None,
            filter: filter.clone(),
            rows,
            unscheduled: tally.unscheduled(),
            groups: None,
            left_out,
        }
    }
}

/// Runs `watch` and returns the exit code.
pub async fn run(args: WatchArgs) -> Result<i32> {
    let targets = targets(&args.connection).await?;
    let several = targets.len() > 1 || args.connection.all_contexts;
    let f = &args.filter;
    let query = PodQuery::new(f, args.chunk_size, Method::Objects);
    let filter = Filter::of(&query, f);
    let group_key = args.group_by.as_deref().map(GroupKey::parse);
    let view = View {
        group_key: group_key.clone(),
        threshold: args.until_saturated.map_or(0.9, |p| p.0 / 100.0),
        filter: filter.clone(),
        sort_by: args.sort_by,
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, t) in targets.into_iter().enumerate() {
        let cluster = Cluster::new(t.context.clone());
        let (pod_meter, node_meter) = (cluster.pod_meter.clone(), cluster.node_meter.clone());
        clusters.push(cluster);
        let pods = Source {
            target: t.clone(),
            path: query.path(),
            namespace: query.namespace.clone(),
            label_selector: query.label_selector.clone(),
            field_selector: Some(query.server_field_selector()),
            chunk_size: args.chunk_size,
            initial: args.initial_list,
            meter: pod_meter,
            keep_labels: Vec::new(),
        };
        let nodes = Source {
            path: "/api/v1/nodes".into(),
            namespace: None,
            label_selector: f.node_selector.clone(),
            field_selector: None,
            meter: node_meter,
            keep_labels: group_key.as_ref().map(|k| k.labels.clone()).unwrap_or_default(),
            ..pods.clone()
        };
        spawn_informer::<informer::Pods>(&mut tasks, pods, tx.clone(), i, Msg::Pods);
        spawn_informer::<informer::Nodes>(&mut tasks, nodes, tx.clone(), i, Msg::Nodes);
    }
    drop(tx);
    // --listen: the server asks, the loop answers from its stores.
    let (query_tx, mut queries) = mpsc::channel::<Query>(16);
    if let Some(addr) = args.listen {
        let listener = serve::bind(addr).await?;
        tasks.spawn(serve::serve(listener, query_tx));
    } else {
        drop(query_tx);
    }
    let lag = metrics::lag_histogram();
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::usage(format!("cannot handle SIGTERM: {e}")))?;

    let status = Status::new();
    let mut p = Printer { jsonl: args.output == WatchOutput::Jsonl, several, color: color_enabled(), changes: 0 };
    let started = Instant::now();
    let deadline = args.r#for.map(|d| tokio::time::Instant::now() + d);
    let interval = Some(args.interval).filter(|d| !d.is_zero());
    let mut tick = tokio::time::interval(interval.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut events: u64 = 0;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let sleep_until = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep_until);
    let table_opts = TableOptions {
        wide: false,
        no_headers: false,
        color: p.color,
        context_column: several,
        red_from: args.until_saturated.map_or(0.9, |p| p.0 / 100.0),
        picture: false,
        top: None,
    };

    let code = loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = tick.tick(), if interval.is_some() => {
                for c in clusters.iter_mut() {
                    flush(c, &mut p, &view);
                }
                if let Some(code) = judge(&mut clusters, &args) { break code; }
                continue;
            }
            Some(q) = queries.recv() => {
                answer(q, &clusters, &view, several, &lag);
                continue;
            }
            _ = &mut ctrl_c => break exit::OK,
            _ = terminated(&mut sigterm) => break exit::OK,
            _ = &mut sleep_until => break exit::OK,
        };
        let Some(msg) = msg else {
            break exit::CLUSTER; // every informer stopped: all contexts failed
        };
        events += 1;
        let i = match &msg {
            Msg::Pods(i, ..) | Msg::Nodes(i, ..) | Msg::Failed(i, ..) => *i,
        };
        let c = &mut clusters[i];
        match msg {
            // Not allowed to list nodes: count on without allocatable.
            Msg::Failed(_, "nodes", e) if e.is_forbidden() && !c.nodes.synced => {
                let prefix = if several { format!("context {}: ", c.context) } else { String::new() };
                if let Some(flag) = needs_nodes(&args) {
                    eprintln!("error: {prefix}{flag} needs the node list, and {e}");
                    c.failed = true;
                    break exit::USAGE;
                }
                eprintln!(
                    "warning: {prefix}{e}; watching pods per node without allocatable, free or saturation (nodes with no pods are not shown)"
                );
                c.nodes_unreadable = true;
                c.nodes.synced = true;
            }
            Msg::Failed(_, _, e) => {
                let e = if several { e.in_context(&c.context) } else { e };
                eprintln!("error: {e}");
                c.failed = true;
                if clusters.iter().all(|c| c.failed) {
                    break e.exit_code();
                }
                continue;
            }
            Msg::Pods(_, ev, arrived) => {
                if let (false, Event::Page(items)) = (c.started, &ev) {
                    status.page(items.len() as u64);
                }
                c.pod_counters.count(&ev);
                on_pod_event(c, ev, &p);
                lag.observe(arrived.elapsed().as_secs_f64());
            }
            Msg::Nodes(_, ev, arrived) => {
                c.node_counters.count(&ev);
                on_node_event(c, ev, &p);
                lag.observe(arrived.elapsed().as_secs_f64());
            }
        }
        if !c.started && c.pods.synced && c.nodes.synced {
            c.started = true;
            if clusters_started(&clusters) {
                status.finish();
            }
            let c = &mut clusters[i];
            for (node, counts) in c.pods.live.tally().nodes().map(|(k, v)| (*k, v.pods)).collect::<Vec<_>>() {
                c.set_printed(node, counts);
            }
            c.dirty.clear();
            let mut counted = c.counted(&filter);
            counted.groups = view.grouped(&counted.rows);
            if let Some(g) = &counted.groups {
                c.printed_groups = g.rows.iter().map(|g| (g.name.clone(), g.pods)).collect();
            }
            if p.jsonl {
                let counts: serde_json::Map<String, serde_json::Value> =
                    counted.rows.iter().map(|r| (r.name.clone(), json!(r.pods))).collect();
                let mut synced = json!({"pods": c.pods.live.tally().counted(), "trackedPods": c.pods.live.len(),
                    "nodes": c.nodes.live.nodes.len(), "unscheduled": counted.unscheduled, "counts": counts});
                if let Some(g) = &counted.groups {
                    synced["groupBy"] = json!(g.by);
                    synced["groups"] = json!(c.printed_groups);
                }
                p.state(&c.context, "synced", synced);
            } else {
                sort_rows(&mut counted.rows, args.sort_by);
                p.out(view::table(&[counted], &table_opts).trim_end());
                p.out("");
            }
            clusters[i].judge_all = true;
            if let Some(code) = judge(&mut clusters, &args) {
                break code;
            }
        } else if interval.is_none() {
            flush(c, &mut p, &view);
            if let Some(code) = judge(&mut clusters, &args) {
                break code;
            }
        }
    };
    tasks.abort_all();
    for c in clusters.iter_mut() {
        flush(c, &mut p, &view);
    }
    let tracked: usize = clusters.iter().map(|c| c.pods.live.len()).sum();
    eprintln!(
        "watched {}: {} events, {} changes printed, {} pods tracked",
        humantime::format_duration(Duration::from_secs(started.elapsed().as_secs())),
        events,
        p.changes,
        tracked
    );
    let failed = clusters.iter().any(|c| c.failed);
    Ok(if failed { code.max(exit::CLUSTER) } else { code })
}

fn spawn_informer<K: informer::Kind>(
    tasks: &mut tokio::task::JoinSet<()>,
    src: Source,
    tx: mpsc::Sender<Msg>,
    i: usize,
    wrap: Wrap<K>,
) {
    let (namespace, target) = (src.namespace.clone(), src.target.clone());
    tasks.spawn(async move {
        let (itx, mut irx) = mpsc::channel(64);
        let run = informer::run::<K>(src, itx);
        tokio::pin!(run);
        loop {
            tokio::select! {
                ev = irx.recv() => match ev {
                    Some(ev) => if tx.send(wrap(i, ev, Instant::now())).await.is_err() { return },
                    None => return,
                },
                r = &mut run => {
                    // Drain what the informer sent before it stopped.
                    while let Ok(ev) = irx.try_recv() {
                        if tx.send(wrap(i, ev, Instant::now())).await.is_err() { return }
                    }
                    if let Err(e) = r {
                        let e = if K::RESOURCE == "pods" { suggest_namespace(e, namespace.as_deref(), &target) } else { e };
                        let _ = tx.send(Msg::Failed(i, K::RESOURCE, e)).await;
                    }
                    return;
                }
            }
        }
    });
}

/// Relists and reconnects are said as they happen, whatever the store does.
fn announce_state<T, K>(c: &Cluster, ev: &Event<T, K>, p: &Printer, resource: Option<&str>) {
    let (kind, why) = match ev {
        Event::Relist { why } if !why.is_empty() => ("relisting", why),
        Event::Reconnecting { why } => ("reconnecting", why),
        _ => return,
    };
    let mut extra = json!({"reason": why});
    if let Some(r) = resource {
        extra["resource"] = json!(r);
    }
    p.state(&c.context, kind, extra);
}

fn on_pod_event(c: &mut Cluster, ev: PodEvent, p: &Printer) {
    announce_state(c, &ev, p, None);
    let (dirty, to_judge) = (&mut c.dirty, &mut c.to_judge);
    c.pods.handle(ev, &mut |node| {
        dirty.insert(node);
        to_judge.insert(node);
    });
}

fn on_node_event(c: &mut Cluster, ev: NodeEvent, p: &Printer) {
    announce_state(c, &ev, p, Some("nodes"));
    // A node's labels may have moved it to another group.
    c.groups_dirty = true;
    let mut touched = Vec::new();
    c.nodes.handle(ev, &mut |t| touched.push(t));
    c.judge_all |= !touched.is_empty();
    // Said once the first table is out. The event carries the node's current
    // count: with a node selector, a node entering the view brings its pods
    // with it and one leaving takes them along (no change lines for either).
    for t in touched {
        let (kind, n) = match &t {
            NodeTouch::Added(n) => ("node-added", n),
            NodeTouch::Removed(n) => ("node-removed", n),
        };
        let idx = c.pods.live.intern(&n.name);
        let pods = c.pods.live.node(idx).pods;
        c.set_printed(idx, pods);
        if c.started {
            p.state(&c.context, kind, json!({"node": n.name, "allocatable": n.allocatable, "pods": pods}));
        }
    }
}

/// How change lines are drawn: what `watch`'s flags ask of the view.
struct View {
    group_key: Option<GroupKey>,
    /// `atOrAboveThreshold` of groups: `--until-saturated`, else 90 %.
    threshold: f64,
    /// The filters (`--schedulable-only` leaves closed nodes out of the lines).
    filter: Filter,
    sort_by: SortBy,
}

impl View {
    /// `--group-by`: the rows grouped, in `--sort-by` order.
    fn grouped(&self, rows: &[crate::report::NodeRow]) -> Option<Grouped> {
        let key = self.group_key.as_ref()?;
        let mut rows = groups(rows, key, self.threshold);
        sort_groups(&mut rows, self.sort_by);
        Some(Grouped { by: key.name.clone(), threshold_pct: self.threshold * 100.0, rows })
    }
}

/// What cannot be watched without the node list, if the flags ask for it.
fn needs_nodes(args: &WatchArgs) -> Option<&'static str> {
    if args.until_saturated.is_some() {
        Some("--until-saturated")
    } else if args.filter.schedulable_only {
        Some("--schedulable-only")
    } else if args.filter.node_selector.is_some() {
        Some("--node-selector")
    } else {
        None
    }
}

/// Prints one line per node whose count differs from what was last printed
/// (with `--group-by`: per group, and node lines only in jsonl).
fn flush(c: &mut Cluster, p: &mut Printer, view: &View) {
    if !c.started {
        return;
    }
    for node in std::mem::take(&mut c.dirty) {
        let now = c.pods.live.node(node).pods;
        let before = c.printed(node);
        if now == before {
            continue;
        }
        c.set_printed(node, now);
        c.groups_dirty = true;
        let name = c.pods.live.names().name(node).to_string();
        let info = c.nodes.live.nodes.get(&name);
        // With a node selector, pods on other nodes are outside it.
        if view.filter.node_selector.is_some() && info.is_none() {
            continue;
        }
        // With --schedulable-only, cordoned and tainted nodes are out of view.
        if view.filter.schedulable_only && info.is_some_and(NodeInfo::closed) {
            continue;
        }
        if view.group_key.is_some() && !p.jsonl {
            continue;
        }
        let allocatable = info.and_then(|i| i.allocatable).map(u64::from);
        let group = view.group_key.as_ref().map(|k| c.group_of(k, &name));
        let what = Changed::Node { name: &name, group: group.as_deref() };
        p.change(&c.context, what, before.into(), now.into(), allocatable);
    }
    if let Some(key) = &view.group_key
        && std::mem::take(&mut c.groups_dirty)
    {
        let rows = c.counted(&view.filter).rows;
        let now: Vec<GroupRow> = groups(&rows, key, view.threshold);
        let mut printed = std::mem::take(&mut c.printed_groups);
        for g in &now {
            let before = printed.remove(&g.name).unwrap_or(0);
            if before != g.pods {
                let what = Changed::Group { by: &key.name, name: &g.name };
                p.change(&c.context, what, before, g.pods, g.allocatable);
            }
        }
        // Groups that are gone (their last node left): down to nothing.
        for (name, before) in printed.into_iter().filter(|(_, b)| *b > 0) {
            p.change(&c.context, Changed::Group { by: &key.name, name: &name }, before, 0, None);
        }
        c.printed_groups = now.into_iter().map(|g| (g.name, g.pods)).collect();
    }
}

/// SIGTERM (how Kubernetes stops a pod): a clean exit, as Ctrl-C.
#[cfg(unix)]
async fn terminated(sigterm: &mut tokio::signal::unix::Signal) {
    sigterm.recv().await;
}

#[cfg(not(unix))]
async fn terminated(_: &mut ()) {
    std::future::pending::<()>().await
}

/// Answers one `--listen` query from the stores.
fn answer(q: Query, clusters: &[Cluster], view: &View, several: bool, lag: &metrics::Histogram) {
    let filter = &view.filter;
    use http::StatusCode;
    let not_ready: Vec<String> = clusters.iter().filter_map(Cluster::not_ready).collect();
    let text = serve::text;
    match q {
        Query::Ready(reply) => {
            let a = if not_ready.is_empty() {
                text(StatusCode::OK, "ok".into())
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}", not_ready.join("; ")))
            };
            let _ = reply.send(a);
        }
        Query::PodCount(reply) => {
            let a = if not_ready.is_empty() {
                let counted: Vec<Counted> = clusters
                    .iter()
                    .map(|c| {
                        let mut counted = c.document_view(filter);
                        counted.groups = view.grouped(&counted.rows);
                        counted
                    })
                    .collect();
                (StatusCode::OK, "application/json", view::document(&counted, several, view::Format::Json))
            } else {
                let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503,
                    "message": format!("not synced: {}", not_ready.join("; "))});
                (StatusCode::SERVICE_UNAVAILABLE, "application/json", status.to_string() + "\n")
            };
            let _ = reply.send(a);
        }
        Query::Metrics(reply) => {
            let views: Vec<(Counted, &Cluster)> = clusters
                .iter()
                .map(|c| {
                    let mut counted = c.counted(filter);
                    counted.groups = view.grouped(&counted.rows);
                    (counted, c)
                })
                .collect();
            let contexts: Vec<metrics::Context> = views
                .iter()
                .map(|(v, c)| {
                    let informer = |resource, counters: Counters, synced| metrics::Informer {
                        resource,
                        synced,
                        relists: counters.relists,
                        reconnects: counters.reconnects,
                        events: counters.events,
                    };
                    let ready = c.not_ready();
                    let pods_ok = ready.as_deref().is_none_or(|w| !w.contains("pods:"));
                    let nodes_ok = ready.as_deref().is_none_or(|w| !w.contains("nodes:"));
                    metrics::Context {
                        context: &c.context,
                        rows: &v.rows,
                        groups: v.groups.as_ref().map(|g| (g.by.as_str(), g.rows.as_slice())),
                        unscheduled: v.unscheduled,
                        tracked_pods: c.pods.live.len() as u64,
                        store_bytes: c.pods.live.allocated_bytes() as u64,
                        informers: [
                            informer("pods", c.pod_counters, pods_ok),
                            informer("nodes", c.node_counters, nodes_ok),
                        ],
                    }
                })
                .collect();
            let body = metrics::render(&contexts, lag, metrics::rss_bytes());
            let _ = reply.send((StatusCode::OK, metrics::CONTENT_TYPE, body));
        }
    }
}

fn clusters_started(clusters: &[Cluster]) -> bool {
    clusters.iter().all(|c| c.started || c.failed)
}

/// `--until-saturated`: exit 1 as soon as any node is above it. Looks at
/// the nodes touched since the last call (every node after a sync or a
/// node change).
fn judge(clusters: &mut [Cluster], args: &WatchArgs) -> Option<i32> {
    let several = clusters.len() > 1;
    for c in clusters.iter_mut().filter(|c| c.started) {
        let (all, touched) = (std::mem::take(&mut c.judge_all), std::mem::take(&mut c.to_judge));
        let Some(pct) = args.until_saturated else { continue };
        let live = &c.pods.live;
        fn as_judged<'n>(live: &PodStore, n: &'n NodeInfo) -> (&'n str, u32, Option<u32>) {
            let pods = live.names().get(&n.name).map_or(0, |i| live.node(i).pods);
            (n.name.as_str(), pods, n.allocatable)
        }
        let judged = |n| as_judged(live, n);
        let context = several.then_some(c.context.as_str());
        // With --schedulable-only, cordoned and tainted nodes are not judged.
        let in_view = |n: &&NodeInfo| !(args.filter.schedulable_only && n.closed());
        let line = if all {
            first_saturated(pct, context, c.nodes.live.nodes.values().filter(in_view).map(judged))
        } else {
            let nodes = touched.iter().filter_map(|&i| c.nodes.live.nodes.get(live.names().name(i)));
            first_saturated(pct, context, nodes.filter(in_view).map(judged))
        };
        if let Some(line) = line {
            eprintln!("{line}");
            return Some(exit::THRESHOLD);
        }
    }
    None
}
