//! `kubectl podcount watch`: one pod informer and one node informer per
//! context feed a single loop that owns every store ([`cluster`]), prints
//! the table once synced, then per-node changes coalesced over `--interval`
//! ([`lines`]), judges `--until-saturated`, and answers `--listen`'s
//! questions ([`serve`], [`answer`], [`metrics`]) from memory.

mod answer;
mod auth;
mod cluster;
mod lines;
pub mod loss;
pub mod metrics;
pub mod serve;
mod view;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::client::connect::{ConnectOptions, targets};
use crate::error::{Error, Result, exit};
use crate::model::event::Event;
use crate::model::filter::Filter;
use crate::model::fits::Shape;
use crate::model::node::NodeKeep;
use crate::render::progress::Status;
use crate::render::style::color_enabled;
use crate::render::table::{self, TableOptions};
use crate::report::fits::{too_few, unallocated};
use crate::report::group::{GroupKey, labels_read};
use crate::report::percent::Percent;
use crate::report::resources::Selection;
use crate::report::sort::{SortBy, sort_rows};
use crate::report::verdict::{node_list_refused, without_node_list};
use crate::source::identity;
use crate::source::informer::{self, InitialList, PodKeep, Resource, Source};
use crate::source::label_keys;
use crate::source::placing::with_cluster_facts;
use crate::source::query::{Method, PodQuery, suggest_namespace};
use crate::source::runtime_class::with_overhead;
use cluster::{Cluster, NodeEvent, PodEvent};
use lines::Printer;
use view::View;

/// Everything `watch` is asked to do, as plain data (the CLI builds it).
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub connect: ConnectOptions,
    pub filter: Filter,
    /// `-o jsonl`: every line a JSON object on stdout.
    pub jsonl: bool,
    /// Row order of the first table.
    pub sort: SortBy,
    pub group_by: Option<GroupKey>,
    /// Coalesce changes over this long; zero prints every event.
    pub interval: Duration,
    /// `--for`: stop after this long.
    pub stop_after: Option<Duration>,
    pub until_saturated: Option<Percent>,
    pub chunk_size: u32,
    pub initial_list: InitialList,
    pub listen: Option<SocketAddr>,
    /// `--listen-auth`, `--listen-tls-cert`, `--listen-tls-key`.
    pub listen_security: serve::Security,
    /// `--resources`: track each pod's requests; rows and lines carry them.
    pub resources: Option<Selection>,
    /// `--limits`: limits too.
    pub limits: bool,
    /// `--fits`/`--fits-pod`: shapes, with the RuntimeClass to add.
    pub fits: Vec<(Shape, Option<String>)>,
    /// `--until-fits-below N`.
    pub until_fits_below: Option<u64>,
    /// Said once at the start.
    pub notes: Vec<String>,
    /// `--lose-each LABEL`: what losing each of its values would do.
    pub lose_each: Option<loss::Options>,
}

/// From the informers to the loop; events carry when they reached it.
enum Msg {
    Pods(usize, PodEvent, Instant),
    Nodes(usize, NodeEvent, Instant),
    /// An informer stopped for good: which context, which resource, why.
    Failed(usize, Resource, Error),
}

/// Wraps an informer's event (and when it reached the loop) for the loop.
type Wrap<K> = fn(usize, Event<<K as informer::Kind>::Item, <K as informer::Kind>::Key>, Instant) -> Msg;

/// Runs `watch` and returns the exit code.
pub async fn run(opts: Options) -> Result<i32> {
    for note in &opts.notes {
        eprintln!("note: {note}");
    }
    let targets = targets(&opts.connect).await?;
    // Each context's shapes, read from its own cluster as count reads them
    // (a RuntimeClass's overhead, the namespace's labels, the claims): a
    // claim bound in one cluster says nothing of another.
    let mut shapes_of = Vec::new();
    for t in &targets {
        shapes_of.push(with_cluster_facts(t, with_overhead(t, &opts.fits).await?).await?);
    }
    let track_requests = opts.resources.is_some() || !opts.fits.is_empty();
    let several = targets.len() > 1 || opts.connect.all_contexts;
    // A --group-by label on no node: said before the first table, as count says it.
    if let Some(key) = &opts.group_by {
        for t in &targets {
            if label_keys::carried(t, opts.filter.node_selector.as_deref(), &key.labels).await == Some(false) {
                let prefix = if several { format!("context {}: ", t.context) } else { String::new() };
                eprintln!("warning: {prefix}{}", label_keys::on_no_node(t, "--group-by", &key.name).await);
            }
        }
    }
    let targets_client = targets.first().map(|t| t.client.clone());
    let (tx, mut rx) = mpsc::channel::<Msg>(256);
    let mut tasks = tokio::task::JoinSet::new();
    let query = PodQuery::new(&opts.filter, opts.chunk_size, Method::Objects);
    let mut clusters = Vec::new();
    let (losses, mut finished) = match &opts.lose_each {
        Some(l) => {
            let (losses, rx) = loss::Losses::new(l.clone(), opts.chunk_size, targets.clone());
            (Some(losses), Some(rx))
        }
        None => (None, None),
    };
    for (i, (t, shapes)) in targets.into_iter().zip(shapes_of).enumerate() {
        // Node labels kept: the group's, and those the shapes' nodeSelectors read.
        let mut keep_labels = labels_read(&[], opts.group_by.as_ref(), &shapes);
        // --lose-each: the values are read off the nodes the watch holds.
        if let Some(l) = opts.lose_each.as_ref().filter(|l| !keep_labels.contains(&l.label)) {
            keep_labels.push(l.label.clone());
        }
        // The placed pods are read for the shapes' inter-pod filters only when
        // one has any (one entry a shape, aligned), as count reads them.
        let placing: Vec<_> = if shapes.iter().any(|s| s.constraints.reads_neighbours()) {
            shapes.iter().map(|s| s.constraints.clone()).collect()
        } else {
            Vec::new()
        };
        let mut cluster = Cluster::new(t.context.clone(), track_requests, shapes);
        // --listen serves which cluster it watches, so that `count --from`
        // matches it whatever the user's context is called.
        if opts.listen.is_some() {
            match identity::cluster_id(&t).await {
                Ok(id) => cluster.set_cluster_id(Some(id)),
                Err(why) => {
                    let prefix = if several { format!("context {}: ", t.context) } else { String::new() };
                    eprintln!(
                        "warning: {prefix}cannot tell which cluster this is ({why}); count --from will have to trust the URL it is given"
                    );
                }
            }
        }
        let (pod_meter, node_meter) = cluster.meters();
        let pods = Source {
            target: t,
            path: query.path(),
            namespace: query.namespace.clone(),
            label_selector: query.label_selector.clone(),
            field_selector: Some(query.server_field_selector()),
            chunk_size: opts.chunk_size,
            initial: opts.initial_list,
            meter: pod_meter,
            keep: PodKeep { resources: track_requests, limits: opts.limits, placing },
        };
        let nodes = Source {
            path: "/api/v1/nodes".into(),
            namespace: None,
            label_selector: opts.filter.node_selector.clone(),
            field_selector: None,
            meter: node_meter,
            ..pods.clone()
        }
        .with_keep(NodeKeep { labels: keep_labels, resources: track_requests });
        clusters.push(cluster);
        spawn_informer::<informer::Pods>(&mut tasks, pods, tx.clone(), i, Msg::Pods);
        spawn_informer::<informer::Nodes>(&mut tasks, nodes, tx.clone(), i, Msg::Nodes);
    }
    drop(tx);
    // --listen: the server asks, the loop answers from its stores.
    let (query_tx, mut queries) = mpsc::channel::<serve::Query>(16);
    if let Some(addr) = opts.listen {
        // The first context's apiserver answers the reviews.
        let reviewer = targets_client.clone();
        let listener = serve::bind(addr, &opts.listen_security, reviewer).await?;
        tasks.spawn(serve::serve(listener, query_tx));
    } else {
        drop(query_tx);
    }
    #[cfg(unix)]
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::usage(format!("cannot handle SIGTERM: {e}")))?;
    // Windows has no SIGTERM: Ctrl-C (and Ctrl-Break through tokio's ctrl_c) stop it.
    #[cfg(not(unix))]
    let mut sigterm = ();

    let mut s = Session::new(opts, clusters, several, losses);
    // --lose-each: whether a round is due is looked at every second.
    let mut loss_tick = tokio::time::interval(Duration::from_secs(1));
    loss_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    let deadline = s.opts.stop_after.map(|d| tokio::time::Instant::now() + d);
    let interval = Some(s.opts.interval).filter(|d| !d.is_zero());
    let mut tick = tokio::time::interval(interval.unwrap_or(Duration::from_secs(3600)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let sleep_until = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(sleep_until);

    let code = loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = tick.tick(), if interval.is_some() => {
                match s.flush_and_judge() {
                    Some(code) => break code,
                    None => continue,
                }
            }
            Some(q) = queries.recv() => {
                answer::answer(q, &s.clusters, &s.view, s.several, &s.lag, s.losses.as_ref());
                continue;
            }
            _ = loss_tick.tick(), if s.losses.is_some() => {
                if let Some(l) = s.losses.as_mut() {
                    l.start_due(&s.clusters);
                }
                continue;
            }
            Some(f) = async { finished.as_mut()?.recv().await }, if finished.is_some() => {
                if let Some(l) = s.losses.as_mut() {
                    l.finished(f, &s.clusters, &mut s.printer);
                }
                continue;
            }
            _ = &mut ctrl_c => break exit::OK,
            _ = terminated(&mut sigterm) => break exit::OK,
            _ = &mut sleep_until => break s.at_the_end(),
        };
        // Every informer stopped: all contexts failed.
        let Some(msg) = msg else { break exit::CLUSTER };
        if let Some(code) = s.on_message(msg, interval.is_none()) {
            break code;
        }
    };
    tasks.abort_all();
    Ok(s.finish(code, started))
}

/// The watch loop's state: every cluster, the printer and what it shows.
struct Session {
    opts: Options,
    several: bool,
    clusters: Vec<Cluster>,
    printer: Printer,
    view: View,
    status: Status,
    lag: metrics::Histogram,
    events: u64,
    losses: Option<loss::Losses>,
}

impl Session {
    fn new(opts: Options, clusters: Vec<Cluster>, several: bool, losses: Option<loss::Losses>) -> Session {
        let view = View {
            group_key: opts.group_by.clone(),
            threshold: opts.until_saturated.unwrap_or(Percent::SATURATED),
            filter: opts.filter.clone(),
            sort: opts.sort.clone(),
            resources: opts.resources.clone(),
            limits: opts.limits,
            fits: !opts.fits.is_empty(),
        };
        let printer = Printer::new(opts.jsonl, several, color_enabled());
        Session {
            opts,
            several,
            clusters,
            printer,
            view,
            status: Status::new(),
            lag: metrics::lag_histogram(),
            events: 0,
            losses,
        }
    }

    /// One informer message; Some(exit code) when the watch must end.
    /// `each_event`: no `--interval`, so changes print as they come.
    fn on_message(&mut self, msg: Msg, each_event: bool) -> Option<i32> {
        self.events += 1;
        let i = match &msg {
            Msg::Pods(i, ..) | Msg::Nodes(i, ..) | Msg::Failed(i, ..) => *i,
        };
        if let (Some(l), Msg::Pods(..) | Msg::Nodes(..)) = (self.losses.as_mut(), &msg) {
            l.noticed(i);
        }
        let c = &mut self.clusters[i];
        match msg {
            // Not allowed to list nodes: count on without allocatable.
            Msg::Failed(_, Resource::Nodes, e) if e.is_forbidden() && !c.nodes().synced() => {
                let prefix = if self.several { format!("context {}: ", c.context()) } else { String::new() };
                let needs = self.opts.until_saturated.map(|_| "--until-saturated");
                if let Some(flag) = needs.or(self.opts.filter.needs_node_list()) {
                    eprintln!("error: {prefix}{}", node_list_refused(flag, &e));
                    c.fail();
                    return Some(exit::USAGE);
                }
                eprintln!("warning: {prefix}{}", without_node_list(&e, "watching"));
                c.go_on_without_nodes();
            }
            Msg::Failed(_, _, e) => {
                let e = if self.several { e.in_context(c.context()) } else { e };
                eprintln!("error: {e}");
                c.fail();
                return self.clusters.iter().all(|c| c.failed()).then(|| e.exit_code());
            }
            Msg::Pods(_, ev, arrived) => {
                if let (false, Event::Page(items)) = (c.started(), &ev) {
                    self.status.page(items.len() as u64);
                }
                c.on_pod_event(ev, &mut self.printer);
                self.lag.observe(arrived.elapsed().as_secs_f64());
            }
            Msg::Nodes(_, ev, arrived) => {
                c.on_node_event(ev, &mut self.printer);
                self.lag.observe(arrived.elapsed().as_secs_f64());
            }
        }
        if !c.started() && c.synced() {
            if let Err(e) = self.first_table(i) {
                eprintln!("error: {e}");
                self.clusters[i].fail();
                return Some(exit::USAGE);
            }
            self.judge()
        } else if each_event {
            self.clusters[i].flush(&mut self.printer, &self.view);
            self.judge()
        } else {
            None
        }
    }

    /// Cluster `i` has synced: its table (or jsonl `synced` event), or why
    /// the view asked for cannot be shown.
    fn first_table(&mut self, i: usize) -> std::result::Result<(), String> {
        let mut counted = self.clusters[i].start(&self.view)?;
        if self.clusters.iter().all(|c| c.started() || c.failed()) {
            self.status.finish();
        }
        let c = &self.clusters[i];
        for w in unallocated(c.shapes(), c.nodes().live().iter()) {
            let prefix = if self.several { format!("context {}: ", c.context()) } else { String::new() };
            eprintln!("warning: {prefix}{w}");
        }
        if self.printer.jsonl {
            self.printer.synced(c.context(), &c.synced_event(&counted));
        } else {
            sort_rows(&mut counted.rows, &self.opts.sort);
            let opts = TableOptions {
                color: self.printer.color,
                context_column: self.several,
                red_from: self.view.threshold,
                ..Default::default()
            };
            self.printer.out(table::table(&[counted], &opts).trim_end());
            self.printer.out("");
        }
        Ok(())
    }

    /// `--interval` ticked: print what changed, judge it.
    fn flush_and_judge(&mut self) -> Option<i32> {
        for c in self.clusters.iter_mut() {
            c.flush(&mut self.printer, &self.view);
        }
        self.judge()
    }

    /// `--until-saturated`: exit 1 as soon as any node is above it;
    /// `--until-fits-below`: as soon as fewer fit in a cluster.
    fn judge(&mut self) -> Option<i32> {
        let several = self.clusters.len() > 1;
        if let Some(min) = self.opts.until_fits_below {
            for c in self.clusters.iter().filter(|c| c.started()) {
                let prefix = if several { format!("context {}: ", c.context()) } else { String::new() };
                let t = c.counted(&self.view).totals();
                for (shape, more) in &t.fits {
                    if let Some(m) = more.filter(|m| *m < min) {
                        let limits = t.fits_limited_by.get(shape).cloned().unwrap_or_default();
                        let line = too_few(shape, m, "in the cluster", "--until-fits-below", min, &limits);
                        eprintln!("{prefix}{line}");
                        return Some(exit::THRESHOLD);
                    }
                }
            }
        }
        for c in self.clusters.iter_mut().filter(|c| c.started()) {
            let context = several.then(|| c.context().to_string());
            if let Some(line) =
                c.judge(self.opts.until_saturated, self.opts.filter.schedulable_only, context.as_deref())
            {
                eprintln!("{line}");
                return Some(exit::THRESHOLD);
            }
        }
        None
    }

    /// `--for` is over: 0 only on a view that is current; a context never
    /// synced, or stale at the end (reconnecting, relisting), is exit 3,
    /// naming what it waited for.
    fn at_the_end(&self) -> i32 {
        let stale: Vec<(bool, String)> =
            self.clusters.iter().filter_map(|c| c.readiness().why(c.context()).map(|why| (c.started(), why))).collect();
        let d = humantime::format_duration(self.opts.stop_after.unwrap_or_default());
        for (started, why) in &stale {
            if *started {
                eprintln!("error: --for {d} ended on a view that is not current: {why}");
            } else {
                eprintln!("error: --for {d} ended before the first answer: {why}");
            }
        }
        if stale.is_empty() { exit::OK } else { exit::CLUSTER }
    }

    /// Prints what is still pending and the summary line; the exit code.
    fn finish(mut self, code: i32, started: Instant) -> i32 {
        for c in self.clusters.iter_mut() {
            c.flush(&mut self.printer, &self.view);
        }
        let tracked: usize = self.clusters.iter().map(|c| c.pods().live().len()).sum();
        eprintln!(
            "watched {}: {} events, {} changes printed, {} pods tracked",
            humantime::format_duration(Duration::from_secs(started.elapsed().as_secs())),
            self.events,
            self.printer.changes,
            tracked
        );
        if self.clusters.iter().any(|c| c.failed()) { code.max(exit::CLUSTER) } else { code }
    }
}

fn spawn_informer<K: informer::Kind>(
    tasks: &mut tokio::task::JoinSet<()>,
    src: Source<K::Keep>,
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
                        let e = match K::RESOURCE {
                            Resource::Pods => suggest_namespace(e, namespace.as_deref(), &target),
                            Resource::Nodes => e,
                        };
                        let _ = tx.send(Msg::Failed(i, K::RESOURCE, e)).await;
                    }
                    return;
                }
            }
        }
    });
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
