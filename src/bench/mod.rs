//! `kubectl podcount bench`: every counting strategy people argue about
//! ([`plan`]), each run in a child process of its own ([`run`]) so its peak
//! RSS is its own, timed over several iterations in alternating order,
//! checked against each other ([`summary`]) and printed side by side
//! ([`render`]); `--probe` times the real watch ([`probe`]).

mod plan;
mod probe;
mod render;
mod run;
pub mod store_curve;
mod summary;

use std::io::{IsTerminal, Write};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use ::http::Request;
use serde_json::json;

pub use plan::Strategy;
pub use run::{RunOptions, run_one};

use crate::client::connect::{ConnectOptions, Target, targets};
use crate::client::http::{self, Failure};
use crate::decode::Encoding;
use crate::error::{Error, Result, chain, exit};
use crate::model::node::NodeKeep;
use crate::source::nodes::list_nodes;
use plan::{Plan, plan};
use run::Run;
use summary::{Comparison, compare};

/// Everything `bench` is asked to do, as plain data (the CLI builds it).
#[derive(Clone, Debug)]
pub struct Options {
    pub connect: ConnectOptions,
    pub strategies: Vec<Strategy>,
    /// Page sizes of the paged strategies; the first is the ratios' baseline.
    pub chunk_sizes: Vec<u32>,
    pub iterations: u32,
    /// Add a list run that decodes full k8s-openapi Pods.
    pub decode_full: bool,
    /// How long informers keep watching after their first sync.
    pub steady: Duration,
    /// `-o json`.
    pub json: bool,
    /// Pods `--probe` creates and deletes; None: no probe.
    pub probe: Option<u32>,
}

/// The connection flags a child process is started with.
fn connection_flags(c: &ConnectOptions) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(k) = &c.kubeconfig {
        v.extend(["--kubeconfig".to_string(), k.display().to_string()]);
    }
    if let Some(ctx) = c.contexts.first() {
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

/// One planned run in a child process, within `--request-timeout`.
async fn child(opts: &Options, p: Plan) -> Result<Run> {
    let exe = std::env::current_exe().map_err(|e| Error::usage(format!("cannot find my own binary: {e}")))?;
    let mut cmd = tokio::process::Command::new(exe);
    let connection = ConnectOptions { wire: Some(p.wire), ..opts.connect.clone() };
    cmd.arg("bench-run")
        .arg("--strategy")
        .arg(p.strategy.name())
        .args(["--chunk-size", &p.chunk.to_string()])
        .args(["--steady", &humantime::format_duration(opts.steady).to_string()])
        .args(connection_flags(&connection))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if p.full {
        cmd.arg("--decode-full");
    }
    cmd.kill_on_drop(true);
    let out = match opts.connect.request_timeout {
        Some(limit) => tokio::time::timeout(limit, cmd.output()).await.map_err(|_| {
            Error::cluster(format!("timed out after {} (--request-timeout)", humantime::format_duration(limit)))
        })?,
        None => cmd.output().await,
    };
    let out = out.map_err(|e| Error::usage(format!("cannot run a bench child: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::cluster(err.trim().trim_start_matches("error: ")));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| Error::cluster(format!("a bench child printed no result: {e}")))
}

/// The server's version and how many nodes it has.
async fn server_facts(t: &Target) -> Result<(String, usize)> {
    let request = Request::get("/version").body(Vec::new()).map_err(|e| Error::usage(e.to_string()))?;
    let version: serde_json::Value = tokio::time::timeout_at(http::deadline(&t.at), t.client.request(request))
        .await
        .map_err(|_| Error::cluster(format!("cannot read the server version: {} did not answer in time", t.at.server)))?
        .map_err(|e| match http::transport(&t.at, &e) {
            Failure::Fatal(e) => e,
            _ => Error::cluster(format!("cannot read the server version: {}", chain(&e))),
        })?;
    let nodes = list_nodes(t, None, 500, &NodeKeep::default()).await?.len();
    Ok((version["gitVersion"].as_str().unwrap_or("unknown").to_string(), nodes))
}

/// Every planned run, `iterations` times, in alternating order (so no
/// strategy always runs on a cold or warm server); a strategy that fails or
/// is skipped is not run again.
async fn run_all(opts: &Options, plan: &[Plan]) -> (Vec<Vec<Run>>, Vec<Option<String>>) {
    let tty = std::io::stderr().is_terminal();
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); plan.len()];
    let mut failed: Vec<Option<String>> = vec![None; plan.len()];
    for it in 0..opts.iterations {
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
                eprint!("\r\x1b[2Kbench: iteration {}/{}: {}", it + 1, opts.iterations, plan[i].label());
            }
            match child(opts, plan[i]).await {
                Ok(r) => runs[i].push(r),
                Err(e) => failed[i] = Some(e.message),
            }
        }
    }
    if tty {
        eprint!("\r\x1b[2K");
    }
    (runs, failed)
}

/// Runs `bench` and returns the exit code.
pub async fn run(opts: Options) -> Result<i32> {
    let t = targets(&opts.connect).await?.remove(0);
    let (server, nodes) = server_facts(&t).await?;
    let wires = match opts.connect.wire {
        Some(w) => vec![w],
        None => vec![Encoding::Protobuf, Encoding::Json],
    };
    let plan = plan(&opts.strategies, &opts.chunk_sizes, &wires, opts.decode_full);
    let (runs, failed) = run_all(&opts, &plan).await;
    let Comparison { summaries, baseline, counts_base, disagree } = compare(&plan, &runs, &failed);
    let baseline_label = baseline.map(|i| summaries[i].label.clone());
    let agreement_label = counts_base.map(|i| summaries[i].label.clone());
    let base = counts_base.map(|i| runs[i][0].clone());
    let probe = match opts.probe {
        Some(samples) => Some(probe::probe(samples, &connection_flags(&opts.connect), &t).await?),
        None => None,
    };
    let pods: u64 = base.as_ref().map_or(0, |b| b.counts.values().sum::<u64>() + b.unscheduled);
    let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let text = if opts.json {
        serde_json::to_string_pretty(&json!({
            "apiVersion": "podcount/v1", "kind": "PodCountBench", "context": t.context, "date": date,
            "serverVersion": server, "nodes": nodes, "countedPods": pods, "iterations": opts.iterations,
            "baseline": baseline_label, "agreementBaseline": agreement_label,
            "results": summaries, "probe": probe,
        }))
        .expect("serialisable")
            + "\n"
    } else {
        let mut s = render::table(&summaries, &t.context, &server, nodes, pods, &date, opts.iterations);
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
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
