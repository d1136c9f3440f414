//! `kubectl podcount count`: for each selected context, concurrently, list
//! nodes and fold pod pages into a tally; join; print; judge thresholds.
//! With `--from`, the same from a running `watch --listen` ([`from`]).

mod from;
#[cfg(test)]
mod offline;
mod whatif;
pub use from::Trust as FromTrust;

use std::io::{IsTerminal, Write};

use tokio::task::JoinSet;

use crate::client::connect::{ConnectOptions, Target, targets};
use crate::error::{Error, Result, exit};
use crate::model::filter::Filter;
use crate::model::fits::Shape;
use crate::model::node::{NodeInfo, NodeKeep};
use crate::model::resource_name::ResourceName;
use crate::model::tally::Tally;
use crate::render::document::{self, Format};
use crate::render::jsonpath::{Columns, Template};
use crate::render::progress::Status;
use crate::render::style::color_enabled;
use crate::render::table::TableOptions;
use crate::render::{csv, table, time};
use crate::report::Counted;
use crate::report::fits::{answers, unallocated};
use crate::report::group::{GroupKey, grouped, labels_read};
use crate::report::percent::Percent;
use crate::report::release;
use crate::report::resources::{Selection, Shown, shown};
use crate::report::rows::{Extra, leave_out_closed, rows};
use crate::report::sort::{SortBy, sort_rows};
use crate::report::verdict::{self, Thresholds, node_list_refused, without_node_list};
use crate::source::label_keys;
use crate::source::list::{Progress, count_pods};
use crate::source::nodes::list_nodes_metered;
use crate::source::placing::with_cluster_facts;
use crate::source::query::{Method, PodQuery, suggest_namespace};
use crate::source::runtime_class::with_overhead;

/// What `-o` asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Output {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
    Csv,
    /// `-o jsonpath=TEMPLATE` over the JSON document.
    JsonPath(Template),
    /// `-o custom-columns=SPEC`: a row a node.
    CustomColumns(Columns),
}

/// Everything `count` is asked to do, as plain data (the CLI builds it).
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub connect: ConnectOptions,
    pub filter: Filter,
    pub output: Output,
    pub sort: SortBy,
    /// `--top N`: rows of each context (totals cover all).
    pub top: Option<usize>,
    pub group_by: Option<GroupKey>,
    pub label_columns: Vec<String>,
    pub no_headers: bool,
    /// Pods per List page; 0 is one request.
    pub chunk_size: u32,
    /// Table rows or pod objects (already resolved from `--method auto`).
    pub method: Method,
    /// `--from URL`: a running `watch --listen` to answer from.
    pub from: Option<String>,
    /// `--from-ca`, `--from-fingerprint`: how an https watch is trusted.
    pub from_trust: from::Trust,
    pub thresholds: Thresholds,
    /// `--resources`: which resources to show besides pod slots.
    pub resources: Option<Selection>,
    /// `--limits`: limits and overcommit beside requests.
    pub limits: bool,
    /// `--fits`/`--fits-pod`: the shapes asked about, each with the
    /// RuntimeClass whose overhead admission would add.
    pub fits: Vec<(Shape, Option<String>)>,
    /// `--min-fits N` (or `--replicas N`): exit 1 when fewer fit (in the
    /// cluster, or a group), 4 when the answer cannot say.
    pub min_fits: Option<u64>,
    /// Which of the two asked, for the breach lines.
    pub min_fits_flag: &'static str,
    /// Lines to say once before counting (what `--fits-pod` does not model).
    pub notes: Vec<String>,
    /// `--drain`/`--lose`: the nodes that go, and how.
    pub what_if: Option<crate::source::removal::Asked>,
}

impl Options {
    /// The node labels the views need (`-L`, `--group-by`, what `shapes`'
    /// filters read).
    pub fn labels_needed(&self, shapes: &[Shape]) -> Vec<String> {
        labels_read(&self.label_columns, self.group_by.as_ref(), shapes)
    }

    /// The node labels the view shows, each with its flag, the name given
    /// and the keys that answer it (an alias has several).
    fn asked_labels(&self) -> Vec<(&'static str, String, Vec<String>)> {
        let mut asked: Vec<_> = self.label_columns.iter().map(|l| ("-L", l.clone(), vec![l.clone()])).collect();
        if let Some(g) = &self.group_by {
            asked.push(("--group-by", g.name.clone(), g.labels.clone()));
        }
        asked
    }

    /// The flag that needs the node list, if one is given.
    fn needs_node_list(&self) -> Option<&'static str> {
        let what_if = self.what_if.as_ref().map(|a| a.kind.flag());
        self.thresholds.needs_allocatable().or(self.filter.needs_node_list()).or(what_if)
    }

    /// Which resources the rows carry: `--resources`, cpu and memory for
    /// `-o wide`, and whatever a threshold judges; None: pod slots only.
    fn selection(&self) -> Option<Selection> {
        let judged = self.thresholds.resources();
        match (&self.resources, &self.output) {
            (Some(s), _) => Some(s.clone()),
            (None, Output::Wide) => Some(Selection::CpuMemory),
            (None, _) if !judged.is_empty() => Some(Selection::Named(judged)),
            (None, _) => None,
        }
    }

    /// The resources to show on this cluster (threshold resources always
    /// among them), or why a name asked for is not one.
    fn shown(&self, nodes: Option<&[NodeInfo]>, tally: &Tally<String>) -> Result<Option<Shown>> {
        let Some(selection) = self.selection() else { return Ok(None) };
        let requested: Vec<&str> = tally.demanded().map(ResourceName::as_str).collect();
        let nodes = nodes.into_iter().flatten();
        shown(&selection, self.limits, nodes, requested, &self.thresholds.resources()).map(Some).map_err(Error::usage)
    }
}

/// One context's count, within `--request-timeout` when given, so a stalled
/// cluster costs only its own line.
async fn count_bounded(target: Target, opts: Options, status: Status) -> Result<Counted> {
    let Some(limit) = target.at.request_timeout else {
        return count_one(target, opts, status).await;
    };
    tokio::time::timeout(limit, count_one(target, opts, status)).await.unwrap_or_else(|_| {
        Err(Error::cluster(format!(
            "the API server did not finish answering within {} (raise --request-timeout)",
            humantime::format_duration(limit)
        )))
    })
}

/// One removal over the whole cluster, answered as `count --drain`/`--lose`
/// answers it (within `--request-timeout`): its what-if alone. What
/// `watch --lose-each` asks for each value, a round at a time.
pub async fn what_if(
    target: Target,
    asked: crate::source::removal::Asked,
    chunk_size: u32,
    status: Status,
) -> Result<crate::report::whatif::WhatIf> {
    let opts = Options {
        what_if: Some(asked),
        chunk_size,
        method: crate::source::query::Method::Objects,
        ..Default::default()
    };
    let counted = count_bounded(target, opts, status).await?;
    counted.what_if.ok_or_else(|| Error::cluster("the removal was not answered"))
}

async fn count_one(target: Target, opts: Options, status: Status) -> Result<Counted> {
    let sel = &opts.filter;
    let mut query = PodQuery::new(sel, opts.chunk_size, opts.method);
    query.resources = opts.selection().is_some() || !opts.fits.is_empty();
    query.limits = opts.limits;
    let prepared = match &opts.what_if {
        Some(asked) => Some(whatif::prepare(&target, asked).await?),
        None => None,
    };
    let mut fits = opts.fits.clone();
    if let Some(p) = &prepared {
        query.removed = Some(p.removed());
        whatif::before_replacements(&mut fits, p);
        fits.extend(p.shapes.iter().map(|s| (s.clone(), None)));
    }
    query.resources |= !fits.is_empty();
    let mut shapes = with_cluster_facts(&target, with_overhead(&target, &fits).await?).await?;
    // The placed pods are read for the shapes' inter-pod filters only when
    // one has any (one entry a shape, aligned).
    if shapes.iter().any(|s| s.constraints.reads_neighbours()) {
        query.placing = shapes.iter().map(|s| s.constraints.clone()).collect();
    }
    // The shapes as read from the cluster (their volumes' labels too).
    let keep = NodeKeep { labels: opts.labels_needed(&shapes), resources: query.resources };
    // A what-if's owners are answered apart, a few at a time (they come
    // last, in the placed pods' facts too).
    let owners = shapes.split_off(opts.fits.len());
    let nodes = list_nodes_metered(&target, sel.node_selector.as_deref(), opts.chunk_size, &keep);
    let mut last_pods = 0;
    let pods = count_pods(
        &target,
        &query,
        |p: Progress| {
            // Progress reports running totals; the status adds deltas.
            status.page(p.pods.saturating_sub(last_pods));
            last_pods = p.pods;
        },
        |w| status.warn(&format!("context {}: {w}", target.context)),
    );
    // Both run to the end; a pods error is reported first, since a user who
    // cannot list pods learns the most from that one.
    let (nodes, pods) = tokio::join!(nodes, pods);
    let mut pods = pods.map_err(|e| suggest_namespace(e, query.namespace.as_deref(), &target))?;
    let owner_neighbours = match query.placing.is_empty() {
        true => Vec::new(),
        false => pods.neighbours.split_off(shapes.len()),
    };
    let mut node_resource_version = None;
    let mut nodes = match nodes {
        Ok(list) => {
            node_resource_version = list.resource_version;
            Some(list.nodes)
        }
        Err(e) if e.is_forbidden() => {
            if let Some(flag) = opts.needs_node_list() {
                return Err(node_list_refused(flag, &e));
            }
            status.warn(&format!("context {}: {}", target.context, without_node_list(&e, "counting")));
            None
        }
        Err(e) => return Err(e),
    };
    // (needs_node_list: a what-if has the node list here.)
    if let (Some(p), Some(nodes)) = (&prepared, nodes.as_deref_mut()) {
        whatif::apply(p, nodes);
    }
    for w in nodes.as_deref().map(|n| unallocated(&shapes, n)).unwrap_or_default() {
        status.warn(&format!("context {}: {w}", target.context));
    }
    let shown = opts.shown(nodes.as_deref(), &pods.tally)?;
    let extra = Extra { shown: shown.as_ref(), shapes: &shapes };
    let mut rows = rows(&pods.tally, nodes.as_deref(), sel.node_selector.is_none(), &extra);
    let neighbours = (!query.placing.is_empty()).then_some(pods.neighbours.as_slice());
    let answers = answers(&mut rows, nodes.as_deref(), &shapes, neighbours, sel.node_selector.is_some());
    // Before sorting: the release reads the rows in node order. A
    // what-if's owners are workloads of it too, placed together.
    let free = release::free_on(nodes.as_deref().unwrap_or_default(), &pods.tally);
    let mut workloads: Vec<&Shape> = shapes.iter().filter(|s| s.workload.is_some()).collect();
    let mut ws: Vec<_> = workloads.iter().map(|s| release::workload(s, answers.get(&s.name), &rows, &free)).collect();
    let mut placed = prepared.as_ref().map(|_| {
        let at = whatif::At { tally: &pods.tally, nodes: nodes.as_deref(), neighbours: &owner_neighbours, free: &free };
        whatif::place(&owners, &at)
    });
    if let Some(p) = placed.as_mut() {
        workloads.extend(owners.iter());
        ws.append(&mut p.workloads);
    }
    let release = (!ws.is_empty()).then(|| release::judge(&workloads, &ws));
    sort_rows(&mut rows, &opts.sort);
    for r in rows.iter().filter(|r| r.missing) {
        status.warn(&format!(
            "context {}: {} pods are bound to node {:?}, which the node list does not have",
            target.context, r.pods, r.name
        ));
    }
    if let Some(nodes) = nodes.as_deref().filter(|n| !n.is_empty()) {
        for (flag, name, keys) in opts.asked_labels() {
            if !nodes.iter().any(|n| keys.iter().any(|k| n.labels.contains_key(k))) {
                status.warn(&format!(
                    "context {}: {}",
                    target.context,
                    label_keys::on_no_node(&target, flag, &name).await
                ));
            }
        }
    }
    let mut counted = Counted {
        context: target.context,
        cluster_id: None,
        observed_at: time::now(),
        resource_version: pods.resource_version,
        node_resource_version,
        filter: sel.clone(),
        rows,
        unscheduled: pods.tally.unscheduled(),
        groups: None,
        left_out: None,
        shapes,
        answers,
        release,
        what_if: None,
        loss_each: None,
    };
    if let (Some(p), Some(placed)) = (&prepared, placed) {
        counted.what_if = Some(whatif::conclude(p, placed, &mut counted));
    }
    Ok(counted)
}

/// Runs `count` and returns the exit code.
pub async fn run(opts: Options) -> Result<i32> {
    for note in &opts.notes {
        eprintln!("note: {note}");
    }
    let targets = targets(&opts.connect).await?;
    let several = targets.len() > 1 || opts.connect.all_contexts;
    if let Some(url) = opts.from.as_deref().filter(|u| !u.trim().is_empty()) {
        let reach = from::Reach::parse(url)?;
        // (A RuntimeClass's overhead is read from the first context.)
        let shapes = match targets.first() {
            Some(t) => with_overhead(t, &opts.fits).await?,
            None => Vec::new(),
        };
        let served = match targets.first() {
            Some(t) => {
                let needs = from::Needs { resources: opts.selection().is_some(), fits: !shapes.is_empty() };
                // Which cluster each context reaches, as the cluster says,
                // read while the watch is asked.
                let ids = async {
                    let mut asked = Vec::new();
                    for t in &targets {
                        asked.push(from::Asked { context: t.context.clone(), cluster_id: from::identity(t).await });
                    }
                    asked
                };
                let (asked, fetched) = tokio::join!(ids, from::fetch(&reach, t, &opts.from_trust, needs));
                fetched?.and_then(|served| from::answer(served, &asked, &opts.filter, &opts.labels_needed(&shapes)))
            }
            None => Err("no context to ask for".into()),
        };
        let answer = served.and_then(|mut m| {
            from::pick_resources(&mut m.counted, opts.selection().as_ref(), opts.limits, &opts.thresholds.resources())?;
            from::pick_fits(&mut m.counted, &shapes)?;
            Ok(m)
        });
        match answer {
            Ok(m) => {
                for why in &m.trusted {
                    eprintln!("warning: --from {url}: {why}");
                }
                return Ok(print_and_judge(&opts, m.counted, several, exit::OK));
            }
            Err(why) => eprintln!("warning: --from {url}: {why}; counting with a List instead"),
        }
    }
    let status = Status::new();
    let mut set = JoinSet::new();
    for (i, t) in targets.iter().cloned().enumerate() {
        let (opts, status) = (opts.clone(), status.clone());
        set.spawn(async move { (i, count_bounded(t, opts, status).await) });
    }
    let mut results: Vec<Option<Result<Counted>>> = vec![None; targets.len()];
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| Error::cluster(format!("internal error: a count task failed: {e}")))?;
        results[i] = Some(r);
    }
    status.finish();

    let mut counted = Vec::new();
    let mut code = exit::OK;
    for (t, r) in targets.iter().zip(results) {
        match r.expect("every task reports") {
            Ok(c) => counted.push(c),
            Err(e) => {
                let e = if several { e.in_context(&t.context) } else { e };
                eprintln!("error: {e}");
                code = code.max(e.exit_code());
            }
        }
    }
    if counted.is_empty() {
        return Ok(code);
    }
    Ok(print_and_judge(&opts, counted, several, code))
}

/// The counts as `-o` says, then the verdict's lines; the exit code: a
/// failed context's (`code`), else the verdict's.
fn print_and_judge(opts: &Options, mut counted: Vec<Counted>, several: bool, code: i32) -> i32 {
    let thresholds = &opts.thresholds;
    let threshold = thresholds.pods_max_saturation().unwrap_or(Percent::SATURATED);
    for c in &mut counted {
        // (A watch's document comes with the filter applied.)
        if opts.filter.schedulable_only && c.left_out.is_none() {
            c.left_out = Some(leave_out_closed(&mut c.rows));
        }
        sort_rows(&mut c.rows, &opts.sort);
        c.groups = opts.group_by.as_ref().map(|k| grouped(&c.rows, k, threshold, &opts.sort));
    }
    if let Err(code) = print(opts, &counted, several, threshold) {
        return code;
    }
    let verdict = verdict::judge(thresholds, opts.min_fits.map(|m| (m, opts.min_fits_flag)), &counted, several);
    for line in &verdict.lines {
        eprintln!("{line}");
    }
    if code == exit::OK { verdict.code } else { code }
}

/// Prints the counts as `-o` says; Err(the exit code) when the output
/// asked for cannot be made (a jsonpath that fails on the document).
fn print(opts: &Options, counted: &[Counted], several: bool, threshold: Percent) -> std::result::Result<(), i32> {
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let out = match &opts.output {
        // The documents go out as they are serialised, never whole in memory.
        Output::Json | Output::Yaml => {
            let format = if opts.output == Output::Json { Format::Json } else { Format::Yaml };
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = document::write(&mut stdout, counted, several, format).and_then(|_| stdout.flush());
            String::new()
        }
        Output::JsonPath(template) => match template.execute(&document::value(counted, several)) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: error executing jsonpath: {e}");
                return Err(exit::USAGE);
            }
        },
        Output::CustomColumns(columns) => {
            let doc = document::value(counted, several);
            // A row a node; several contexts: every context's nodes in turn.
            let items = if several { doc["items"].as_array().cloned().unwrap_or_default() } else { vec![doc] };
            let rows: Vec<&serde_json::Value> =
                items.iter().flat_map(|d| d["nodes"].as_array().into_iter().flatten()).collect();
            match columns.render(&rows, opts.no_headers) {
                Ok(text) => text,
                Err(e) => {
                    eprintln!("error: error executing custom-columns: {e}");
                    return Err(exit::USAGE);
                }
            }
        }
        Output::Csv => csv::csv(counted, opts.top, &opts.label_columns),
        Output::Table | Output::Wide => table::table(
            counted,
            &TableOptions {
                wide: opts.output == Output::Wide,
                no_headers: opts.no_headers,
                color: color_enabled(),
                context_column: several,
                red_from: threshold,
                picture: !opts.no_headers && std::io::stdout().is_terminal(),
                top: opts.top,
                label_columns: &opts.label_columns,
            },
        ),
    };
    let _ = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush());
    Ok(())
}
