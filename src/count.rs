//! `kubectl podcount count`: for each selected context, concurrently, list
//! nodes and fold pod pages into a tally; join; print; judge thresholds.

use std::io::{IsTerminal, Write};
use std::time::SystemTime;

use tokio::task::JoinSet;

use crate::cli::{CountArgs, MethodChoice, Output};
use crate::connect::{Target, targets};
use crate::error::{Error, Result, exit};
use crate::list::{Method, PodQuery, Progress, count_pods, list_nodes, suggest_namespace};
use crate::progress::Status;
use crate::report::{self, GroupKey, groups, rows, sort_groups, sort_rows};
use crate::verdict::Thresholds;
use crate::view::{self, Counted, Filter, Format, Grouped, TableOptions};

/// Colour on a TTY stdout, never with NO_COLOR (any non-empty value).
pub fn color_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// One context's count, within `--request-timeout` when given, so a stalled
/// cluster costs only its own line.
async fn count_bounded(target: Target, args: CountArgs, method: Method, status: Status) -> Result<Counted> {
    let Some(limit) = target.at.request_timeout else {
        return count_one(target, args, method, status).await;
    };
    tokio::time::timeout(limit, count_one(target, args, method, status)).await.unwrap_or_else(|_| {
        Err(Error::cluster(format!(
            "the API server did not finish answering within {} (raise --request-timeout)",
            humantime::format_duration(limit)
        )))
    })
}

async fn count_one(target: Target, args: CountArgs, method: Method, status: Status) -> Result<Counted> {
    let f = &args.filter;
    let query = PodQuery::new(f, args.chunk_size, method);
    let keep_labels = args.labels_needed();
    let nodes = list_nodes(&target, f.node_selector.as_deref(), args.chunk_size, &keep_labels);
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
    let pods = pods.map_err(|e| suggest_namespace(e, query.namespace.as_deref(), &target))?;
    let nodes = match nodes {
        Ok(nodes) => Some(nodes),
        Err(e) if e.is_forbidden() => {
            if let Some(why) = needs_nodes(&args) {
                return Err(Error::usage(format!("{why}, and {e}")));
            }
            status.warn(&format!(
                "context {}: {e}; counting pods per node without allocatable, free or saturation (nodes with no pods are not shown)",
                target.context
            ));
            None
        }
        Err(e) => return Err(e),
    };
    let mut rows = rows(&pods.tally, nodes.as_deref(), f.node_selector.is_none());
    sort_rows(&mut rows, args.sort());
    for r in rows.iter().filter(|r| r.missing) {
        status.warn(&format!(
            "context {}: {} pods are bound to node {:?}, which the node list does not have",
            target.context, r.pods, r.name
        ));
    }
    Ok(Counted {
        context: target.context,
        observed_at: now_rfc3339(),
        resource_version: pods.resource_version,
        filter: Filter::of(&query, f),
        rows,
        unscheduled: pods.tally.unscheduled(),
        groups: None,
        left_out: None,
    })
}

/// What cannot be done without the node list, if the flags ask for it.
fn needs_nodes(args: &CountArgs) -> Option<String> {
    let thresholds = Thresholds { max_saturation: args.max_saturation, min_free: args.min_free };
    let flag = thresholds.needs_allocatable().or(if args.filter.schedulable_only {
        Some("--schedulable-only")
    } else if args.filter.node_selector.is_some() {
        Some("--node-selector")
    } else {
        None
    })?;
    Some(format!("{flag} needs the node list"))
}

/// Runs `count` and returns the exit code.
pub async fn run(args: CountArgs) -> Result<i32> {
    let method = match (args.method, args.output) {
        (MethodChoice::Objects, _) => Method::Objects,
        (MethodChoice::Table, Output::Table) => Method::Table,
        (MethodChoice::Table, _) => {
            return Err(Error::usage(
                "--method table gives counts only: use it with -o table (wide, json and yaml print the breakdown)",
            ));
        }
        (MethodChoice::Auto, Output::Table) => Method::Table,
        (MethodChoice::Auto, _) => Method::Objects,
    };
    let targets = targets(&args.connection).await?;
    let several = targets.len() > 1 || args.connection.all_contexts;
    let from = args.from.as_deref().filter(|u| !u.trim().is_empty());
    if let Some(url) = from {
        let contexts: Vec<String> = targets.iter().map(|t| t.context.clone()).collect();
        let query = PodQuery::new(&args.filter, args.chunk_size, method);
        let filter = Filter::of(&query, &args.filter);
        match from_watch(url, &contexts, &filter, &args.labels_needed()).await {
            Ok(counted) => return Ok(print(&args, counted, several, exit::OK)),
            Err(why) => eprintln!("warning: --from {url}: {why}; counting with a List instead"),
        }
    }
    let status = Status::new();
    let mut set = JoinSet::new();
    for (i, t) in targets.iter().cloned().enumerate() {
        let (args, status) = (args.clone(), status.clone());
        set.spawn(async move { (i, count_bounded(t, args, method, status).await) });
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
    Ok(print(&args, counted, several, code))
}

/// How long `--from` waits for a watch's answer before listing instead.
const FROM_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// `--from URL`: the counts a `watch --listen` holds for exactly these
/// contexts and filters, with these node labels, or why not.
async fn from_watch(
    url: &str,
    contexts: &[String],
    filter: &Filter,
    labels: &[String],
) -> std::result::Result<Vec<Counted>, String> {
    use http_body_util::{BodyExt, Empty};
    let base = url.trim().trim_end_matches('/');
    let uri: http::Uri = format!("{base}/v1/podcount").parse().map_err(|e| format!("not a URL ({e})"))?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// URLs are served by watch --listen".into());
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    let fetch = async {
        let resp = client.get(uri).await.map_err(|e| format!("unreachable ({})", crate::error::chain(&e)))?;
        let status = resp.status();
        let body = resp.into_body().collect().await.map_err(|e| format!("the answer broke off ({e})"))?.to_bytes();
        Ok::<_, String>((status, body))
    };
    let (status, body) = tokio::time::timeout(FROM_WAIT, fetch)
        .await
        .map_err(|_| format!("no answer within {}", humantime::format_duration(FROM_WAIT)))??;
    if status == http::StatusCode::SERVICE_UNAVAILABLE {
        let why = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
            .unwrap_or_else(|| "not synced".into());
        return Err(why);
    }
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let counted = view::parse_document(&body)?;
    let served: Vec<&str> = counted.iter().map(|c| c.context.as_str()).collect();
    if served != contexts.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("it watches context(s) {}, not {}", served.join(","), contexts.join(",")));
    }
    if let Some(c) = counted.iter().find(|c| c.filter != *filter) {
        return Err(format!("it watches other filters ({:?}, not {:?})", c.filter, filter));
    }
    // A watch keeps only the labels of its own --group-by.
    let kept = counted.first().and_then(|c| c.groups.as_ref()).map(|g| GroupKey::parse(&g.by).labels);
    if let Some(missing) = labels.iter().find(|l| !kept.as_ref().is_some_and(|k| k.contains(l))) {
        return Err(format!(
            "it keeps no node label {missing:?}, which -L/--group-by need (a watch keeps the labels of its own --group-by)"
        ));
    }
    Ok(counted)
}

/// Prints the counts as `-o` says, judges the thresholds; the exit code.
fn print(args: &CountArgs, mut counted: Vec<Counted>, several: bool, mut code: i32) -> i32 {
    let thresholds = Thresholds { max_saturation: args.max_saturation, min_free: args.min_free };
    let threshold_pct = thresholds.max_saturation.map_or(90.0, |p| p.0);
    let key = args.group_by.as_deref().map(GroupKey::parse);
    for c in &mut counted {
        // (A watch's document comes with the filter applied.)
        if args.filter.schedulable_only && c.left_out.is_none() {
            c.left_out = Some(report::leave_out_closed(&mut c.rows));
        }
        sort_rows(&mut c.rows, args.sort());
        c.groups = key.as_ref().map(|k| {
            let mut rows = groups(&c.rows, k, threshold_pct / 100.0);
            sort_groups(&mut rows, args.sort());
            Grouped { by: k.name.clone(), threshold_pct, rows }
        });
    }
    let top = args.top.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let out = match args.output {
        Output::Json => view::document(&counted, several, Format::Json),
        Output::Yaml => view::document(&counted, several, Format::Yaml),
        Output::Csv => view::csv_with(&counted, top, &args.label_columns),
        Output::Table | Output::Wide => view::table_with(
            &counted,
            &TableOptions {
                wide: args.output == Output::Wide,
                no_headers: args.no_headers,
                color: color_enabled(),
                context_column: several,
                red_from: thresholds.max_saturation.map_or(0.9, |p| p.0 / 100.0),
                picture: !args.no_headers && std::io::stdout().is_terminal(),
                top,
            },
            &args.label_columns,
        ),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush());
    let breaches: Vec<String> =
        counted.iter().flat_map(|c| thresholds.breaches(several.then_some(c.context.as_str()), &c.rows)).collect();
    for b in &breaches {
        eprintln!("{b}");
    }
    if code == exit::OK && !breaches.is_empty() {
        code = exit::THRESHOLD;
    }
    code
}
