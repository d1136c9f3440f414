//! `kubectl podcount watch`: one pod informer and one node informer per
//! context feed a single loop that owns every store, prints the table once
//! synced, then prints per-node changes coalesced over `--interval`.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use tokio::sync::mpsc;

use crate::cli::{WatchArgs, WatchOutput};
use crate::connect::targets;
use crate::count::color_enabled;
use crate::error::{Error, Result, exit};
use crate::informer::{self, Event, Meter, NodeEvent, PodEvent, Source};
use crate::list::{Method, PodQuery};
use crate::progress::Status;
use crate::report::{NodeInfo, rows, sort_rows};
use crate::store::{Nodes, PodStore};
use crate::tally::Tally;
use crate::view::{self, Counted, Filter, TableOptions};

enum Msg {
    Pods(usize, PodEvent),
    Nodes(usize, NodeEvent),
    Failed(usize, Error),
}

/// One cluster's state: pods, nodes, and what was last printed.
struct Cluster {
    context: String,
    names: Nodes,
    pods: PodStore,
    /// A relist in progress builds here, then replaces `pods`.
    pods_next: Option<PodStore>,
    nodes: HashMap<String, NodeInfo>,
    nodes_next: Option<HashMap<String, NodeInfo>>,
    pods_synced: bool,
    nodes_synced: bool,
    /// Shown the first table (both informers synced once).
    started: bool,
    /// Pod count per interned node as last printed.
    printed: Vec<u32>,
    dirty: BTreeSet<u32>,
    failed: bool,
}

impl Cluster {
    fn new(context: String) -> Cluster {
        Cluster {
            context,
            names: Nodes::default(),
            pods: PodStore::new(),
            pods_next: None,
            nodes: HashMap::new(),
            nodes_next: None,
            pods_synced: false,
            nodes_synced: false,
            started: false,
            printed: Vec::new(),
            dirty: BTreeSet::new(),
            failed: false,
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
        t.absorb(self.pods.tally(), |i| self.names.name(*i).to_string());
        t
    }

    fn counted(&self, filter: &Filter, node_selector: bool) -> Counted {
        let nodes: Vec<NodeInfo> = self.nodes.values().cloned().collect();
        let tally = self.tally_by_name();
        Counted {
            context: self.context.clone(),
            observed_at: now_rfc3339(),
            resource_version: None,
            filter: filter.clone(),
            rows: rows(&tally, &nodes, !node_selector),
            unscheduled: tally.unscheduled(),
        }
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn clock() -> String {
    let s = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    s[11..19].to_string()
}

struct Printer {
    jsonl: bool,
    several: bool,
    color: bool,
    changes: u64,
}

impl Printer {
    fn out(&self, line: &str) {
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{line}").and_then(|_| o.flush());
    }

    /// A state change: a JSON line on stdout, or a note on stderr.
    fn state(&self, context: &str, kind: &str, extra: serde_json::Value) {
        if self.jsonl {
            let mut v = json!({"type": kind, "time": now_rfc3339(), "context": context});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            self.out(&v.to_string());
        } else {
            let detail = extra
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| *k != "counts")
                        .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), String::from)))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            eprintln!("{}  {context}: {kind} {detail}", clock());
        }
    }

    fn change(&mut self, context: &str, node: &str, from: u32, to: u32, allocatable: Option<u32>) {
        self.changes += 1;
        let saturation = allocatable.filter(|a| *a > 0).map(|a| f64::from(to) / f64::from(a));
        let delta = i64::from(to) - i64::from(from);
        if self.jsonl {
            let v = json!({"type": "change", "time": now_rfc3339(), "context": context, "node": node,
                "from": from, "to": to, "delta": delta, "allocatable": allocatable,
                "saturation": saturation.map(|s| (s * 10_000.0).round() / 10_000.0)});
            self.out(&v.to_string());
        } else {
            let ctx = if self.several { format!("{context}  ") } else { String::new() };
            let pct = view::percent(saturation);
            let pct = match saturation {
                Some(s) if self.color && s >= 0.9 => format!("\x1b[31m{pct}\x1b[0m"),
                _ => pct,
            };
            self.out(&format!("{}  {ctx}{node}  {from} → {to}  ({delta:+})  {pct}", clock()));
        }
    }
}

/// Runs `watch` and returns the exit code.
pub async fn run(args: WatchArgs) -> Result<i32> {
    let targets = targets(&args.connection).await?;
    let several = targets.len() > 1 || args.connection.all_contexts;
    let f = &args.filter;
    let query = PodQuery::new(f, args.chunk_size, Method::Objects);
    let filter = Filter::of(&query, f.node_selector.as_deref());
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, t) in targets.into_iter().enumerate() {
        clusters.push(Cluster::new(t.context.clone()));
        let pods = Source {
            client: t.client.clone(),
            server: t.server.clone(),
            path: query.path(),
            namespace: query.namespace.clone(),
            label_selector: query.label_selector.clone(),
            field_selector: Some(query.server_field_selector()),
            chunk_size: args.chunk_size,
            meter: Meter::default(),
        };
        let nodes = Source {
            path: "/api/v1/nodes".into(),
            namespace: None,
            label_selector: f.node_selector.clone(),
            field_selector: None,
            ..pods.clone()
        };
        spawn_informer::<informer::Pods>(&mut tasks, pods, tx.clone(), i, Msg::Pods);
        spawn_informer::<informer::Nodes>(&mut tasks, nodes, tx.clone(), i, Msg::Nodes);
    }
    drop(tx);

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
    };

    let code = loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = tick.tick(), if interval.is_some() => {
                for c in clusters.iter_mut() {
                    flush(c, &mut p, &args);
                }
                if let Some(code) = judge(&clusters, &args) { break code; }
                continue;
            }
            _ = &mut ctrl_c => break exit::OK,
            _ = &mut sleep_until => break exit::OK,
        };
        let Some(msg) = msg else {
            break exit::CLUSTER; // every informer stopped: all contexts failed
        };
        events += 1;
        let i = match &msg {
            Msg::Pods(i, _) | Msg::Nodes(i, _) | Msg::Failed(i, _) => *i,
        };
        let c = &mut clusters[i];
        match msg {
            Msg::Failed(_, e) => {
                let e = if several { e.in_context(&c.context) } else { e };
                eprintln!("error: {e}");
                c.failed = true;
                if clusters.iter().all(|c| c.failed) {
                    break e.exit_code();
                }
                continue;
            }
            Msg::Pods(_, ev) => {
                if let (false, Event::Page(items)) = (c.started, &ev) {
                    status.page(items.len() as u64);
                }
                on_pod_event(c, ev, &p)
            }
            Msg::Nodes(_, ev) => on_node_event(c, ev, &p),
        }
        if !c.started && c.pods_synced && c.nodes_synced {
            c.started = true;
            if clusters_started(&clusters) {
                status.finish();
            }
            let c = &mut clusters[i];
            for (node, counts) in c.pods.tally().nodes().map(|(k, v)| (*k, v.pods)).collect::<Vec<_>>() {
                c.set_printed(node, counts);
            }
            c.dirty.clear();
            let counted = c.counted(&filter, f.node_selector.is_some());
            if p.jsonl {
                let counts: serde_json::Map<String, serde_json::Value> =
                    counted.rows.iter().map(|r| (r.name.clone(), json!(r.pods))).collect();
                p.state(
                    &c.context,
                    "synced",
                    json!({"pods": c.pods.tally().counted(), "trackedPods": c.pods.len(),
                           "nodes": c.nodes.len(), "unscheduled": counted.unscheduled, "counts": counts}),
                );
            } else {
                let mut counted = counted;
                sort_rows(&mut counted.rows, args.sort_by);
                p.out(view::table(&[counted], &table_opts).trim_end());
                p.out("");
            }
            if let Some(code) = judge(&clusters, &args) {
                break code;
            }
        } else if interval.is_none() {
            flush(c, &mut p, &args);
            if let Some(code) = judge(&clusters, &args) {
                break code;
            }
        }
    };
    tasks.abort_all();
    for c in clusters.iter_mut() {
        flush(c, &mut p, &args);
    }
    let tracked: usize = clusters.iter().map(|c| c.pods.len()).sum();
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
    wrap: fn(usize, Event<K::Item, K::Key>) -> Msg,
) {
    tasks.spawn(async move {
        let (itx, mut irx) = mpsc::channel(64);
        let run = informer::run::<K>(src, itx);
        tokio::pin!(run);
        loop {
            tokio::select! {
                ev = irx.recv() => match ev {
                    Some(ev) => if tx.send(wrap(i, ev)).await.is_err() { return },
                    None => return,
                },
                r = &mut run => {
                    // Drain what the informer sent before it stopped.
                    while let Ok(ev) = irx.try_recv() {
                        if tx.send(wrap(i, ev)).await.is_err() { return }
                    }
                    if let Err(e) = r {
                        let _ = tx.send(Msg::Failed(i, e)).await;
                    }
                    return;
                }
            }
        }
    });
}

fn on_pod_event(c: &mut Cluster, ev: PodEvent, p: &Printer) {
    match ev {
        Event::Relist { why } => {
            if !why.is_empty() {
                p.state(&c.context, "relisting", json!({"reason": why}));
            }
            c.pods_next = Some(PodStore::new());
        }
        Event::Page(items) => {
            let store = c.pods_next.as_mut().expect("pages follow a relist");
            for r in items {
                store.apply(&mut c.names, r.uid, r.facts());
            }
        }
        Event::Synced => {
            if let Some(next) = c.pods_next.take() {
                let old = std::mem::replace(&mut c.pods, next);
                // Everything either store counts may have changed.
                c.dirty.extend(old.tally().nodes().map(|(k, _)| *k));
                c.dirty.extend(c.pods.tally().nodes().map(|(k, _)| *k));
            }
            c.pods_synced = true;
        }
        Event::Apply(r) => {
            let touched = c.pods.apply(&mut c.names, r.uid, r.facts());
            c.dirty.extend(touched.into_iter().flatten());
        }
        Event::Delete(uid) => c.dirty.extend(c.pods.delete(uid)),
        Event::Reconnecting { why } => p.state(&c.context, "reconnecting", json!({"reason": why})),
    }
}

fn on_node_event(c: &mut Cluster, ev: NodeEvent, p: &Printer) {
    // Said once the first table is out. The event carries the node's current
    // count: with a node selector, a node entering the view brings its pods
    // with it and one leaving takes them along (no change lines for either).
    let announce = |c: &mut Cluster, kind: &str, n: &NodeInfo| {
        let idx = c.names.intern(&n.name);
        let pods = c.pods.node(idx).pods;
        c.set_printed(idx, pods);
        if c.started {
            p.state(&c.context, kind, json!({"node": n.name, "allocatable": n.allocatable, "pods": pods}));
        }
    };
    match ev {
        Event::Relist { why } => {
            if !why.is_empty() {
                p.state(&c.context, "relisting", json!({"reason": why, "resource": "nodes"}));
            }
            c.nodes_next = Some(HashMap::new());
        }
        Event::Page(items) => {
            let next = c.nodes_next.as_mut().expect("pages follow a relist");
            next.extend(items.into_iter().map(|n| (n.name.clone(), n)));
        }
        Event::Synced => {
            if let Some(next) = c.nodes_next.take() {
                let old = std::mem::replace(&mut c.nodes, next);
                let added: Vec<NodeInfo> = c.nodes.values().filter(|n| !old.contains_key(&n.name)).cloned().collect();
                for n in &added {
                    announce(c, "node-added", n);
                }
                let removed: Vec<NodeInfo> = old.into_values().filter(|n| !c.nodes.contains_key(&n.name)).collect();
                for n in &removed {
                    announce(c, "node-removed", n);
                }
            }
            c.nodes_synced = true;
        }
        Event::Apply(n) => {
            if !c.nodes.contains_key(&n.name) {
                announce(c, "node-added", &n);
            }
            c.nodes.insert(n.name.clone(), n);
        }
        Event::Delete(name) => {
            if let Some(n) = c.nodes.remove(&name) {
                announce(c, "node-removed", &n);
            }
        }
        Event::Reconnecting { why } => p.state(&c.context, "reconnecting", json!({"reason": why, "resource": "nodes"})),
    }
}

/// Prints one line per node whose count differs from what was last printed.
fn flush(c: &mut Cluster, p: &mut Printer, args: &WatchArgs) {
    if !c.started {
        return;
    }
    for node in std::mem::take(&mut c.dirty) {
        let now = c.pods.node(node).pods;
        let before = c.printed(node);
        if now == before {
            continue;
        }
        c.set_printed(node, now);
        let name = c.names.name(node).to_string();
        let info = c.nodes.get(&name);
        // With a node selector, pods on other nodes are outside it.
        if args.filter.node_selector.is_some() && info.is_none() {
            continue;
        }
        p.change(&c.context, &name, before, now, info.and_then(|i| i.allocatable));
    }
}

fn clusters_started(clusters: &[Cluster]) -> bool {
    clusters.iter().all(|c| c.started || c.failed)
}

/// `--until-saturated`: exit 1 as soon as any node is above it.
fn judge(clusters: &[Cluster], args: &WatchArgs) -> Option<i32> {
    let pct = args.until_saturated?.0;
    for c in clusters.iter().filter(|c| c.started) {
        for n in c.nodes.values() {
            let Some(alloc) = n.allocatable.filter(|a| *a > 0) else { continue };
            let Some(idx) = c.names.get(&n.name) else { continue };
            let pods = c.pods.node(idx).pods;
            if f64::from(pods) * 100.0 > pct * f64::from(alloc) {
                eprintln!(
                    "{}node {} is {:.1}% saturated ({pods}/{alloc} pods), above --until-saturated {pct}%",
                    if clusters.len() > 1 { format!("context {}: ", c.context) } else { String::new() },
                    n.name,
                    100.0 * f64::from(pods) / f64::from(alloc),
                );
                return Some(exit::THRESHOLD);
            }
        }
    }
    None
}
