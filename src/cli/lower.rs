//! From parsed flags to the commands: each `*Args` becomes the plain
//! `Options` its command takes (ripgrep's low-args to high-args step), and
//! [`run`] runs the command on a runtime and turns its outcome into the
//! documented exit code.

use std::io::Write;

use super::args::{BenchArgs, BenchRunArgs, Cli, Command, ConnectionArgs, CountArgs, FilterArgs, WatchArgs};
use super::complete;
use super::values::MethodChoice;
use crate::client::connect::ConnectOptions;
use crate::error::{self, Error, exit};
use crate::model::filter::Filter;
use crate::report::group::GroupKey;
use crate::report::resources::Selection;
use crate::report::sort::SortBy;
use crate::report::verdict::Thresholds;
use crate::source::query::Method;
use crate::{bench, count, watch};

/// Runs what the command line asks for; the process's exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Some(Command::Completion { shell }) => print(&complete::script(shell)),
        Some(Command::Complete { words }) => print(&complete::render(&words)),
        Some(Command::Count(args)) => block_on(async { count::run(count_options(args)?).await }),
        Some(Command::Watch(args)) => block_on(async { watch::run(watch_options(args)?).await }),
        Some(Command::Bench(args)) => block_on(bench::run(bench_options(args))),
        Some(Command::BenchRun(args)) => block_on(bench::run_one(bench_run_options(args))),
        None => block_on(async { count::run(count_options(cli.count)?).await }),
    }
}

fn print(s: &str) -> i32 {
    let _ = std::io::stdout().write_all(s.as_bytes());
    exit::OK
}

/// Runs a command on two worker threads; an error is one `error:` line.
fn block_on(work: impl Future<Output = error::Result<i32>>) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::CLUSTER;
        }
    };
    match runtime.block_on(work) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn connect(c: ConnectionArgs) -> ConnectOptions {
    ConnectOptions {
        kubeconfig: c.kubeconfig,
        contexts: c.context,
        all_contexts: c.all_contexts,
        cluster: c.cluster,
        user: c.user,
        request_timeout: c.request_timeout.0,
        wire: c.wire.map(Into::into),
    }
}

fn filter(f: FilterArgs) -> Filter {
    Filter {
        namespace: f.namespace.filter(|_| !f.all_namespaces),
        label_selector: f.selector,
        field_selector: f.field_selector,
        node_selector: f.node_selector,
        schedulable_only: f.schedulable_only,
    }
}

pub(crate) fn count_options(a: CountArgs) -> error::Result<count::Options> {
    let output = count::Output::from(a.output);
    let (resources, limits) = resources(a.resources.as_deref(), a.limits)?;
    let thresholds =
        Thresholds { max_saturation: a.max_saturation.unwrap_or_default(), min_free: a.min_free.unwrap_or_default() };
    // Pod objects carry requests; Table rows do not.
    let objects = resources.is_some() || !thresholds.resources().is_empty();
    let method = match (a.method, output) {
        (MethodChoice::Table, _) if objects => {
            return Err(Error::usage(
                "--method table reads no pod objects, and requests are in pod objects: leave --method out with --resources or per-resource thresholds",
            ));
        }
        (MethodChoice::Auto, count::Output::Table) if objects => Method::Objects,
        (MethodChoice::Objects, _) => Method::Objects,
        (MethodChoice::Table | MethodChoice::Auto, count::Output::Table) => Method::Table,
        (MethodChoice::Table, _) => {
            return Err(Error::usage(
                "--method table gives counts only: use it with -o table (wide, json and yaml print the breakdown)",
            ));
        }
        (MethodChoice::Auto, _) => Method::Objects,
    };
    // --top shows the fullest nodes unless told otherwise.
    let default_sort = if a.top.is_some() { SortBy::Saturation } else { SortBy::Name };
    Ok(count::Options {
        connect: connect(a.connection),
        filter: filter(a.filter),
        output,
        sort: a.sort_by.map_or(default_sort, Into::into),
        top: a.top.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        group_by: a.group_by.as_deref().map(GroupKey::parse),
        label_columns: a.label_columns,
        no_headers: a.no_headers,
        chunk_size: a.chunk_size,
        method,
        from: a.from,
        thresholds,
        resources,
        limits,
    })
}

/// `--resources` and `--limits`: which resources, and limits of them.
fn resources(selection: Option<&str>, limits: bool) -> error::Result<(Option<Selection>, bool)> {
    let resources = selection.map(Selection::parse).transpose().map_err(Error::usage)?;
    if limits && resources.is_none() {
        return Err(Error::usage("--limits goes with --resources (limits of which resources?)"));
    }
    Ok((resources, limits))
}

fn watch_options(a: WatchArgs) -> error::Result<watch::Options> {
    let (resources, limits) = resources(a.resources.as_deref(), a.limits)?;
    Ok(watch::Options {
        connect: connect(a.connection),
        filter: filter(a.filter),
        jsonl: a.output == super::values::WatchOutput::Jsonl,
        sort: a.sort_by.into(),
        group_by: a.group_by.as_deref().map(GroupKey::parse),
        interval: a.interval,
        stop_after: a.r#for,
        until_saturated: a.until_saturated,
        chunk_size: a.chunk_size,
        initial_list: a.initial_list.into(),
        listen: a.listen,
        resources,
        limits,
    })
}

fn bench_options(a: BenchArgs) -> bench::Options {
    bench::Options {
        connect: connect(a.connection),
        strategies: a.strategies.into_iter().map(Into::into).collect(),
        chunk_sizes: a.chunk_sizes,
        iterations: a.iterations,
        decode_full: a.decode.is_some(),
        steady: a.steady,
        json: a.output == super::values::BenchOutput::Json,
        probe: a.probe.then_some(a.probe_samples),
    }
}

fn bench_run_options(a: BenchRunArgs) -> bench::RunOptions {
    bench::RunOptions {
        connect: connect(a.connection),
        strategy: a.strategy.into(),
        chunk_size: a.chunk_size,
        decode_full: a.decode_full,
        steady: a.steady,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn count(args: &[&str]) -> error::Result<count::Options> {
        let cli = Cli::try_parse_from(std::iter::once("kubectl-podcount").chain(args.iter().copied())).unwrap();
        count_options(cli.count)
    }

    #[test]
    fn flags_become_options() {
        let o = count(&["-n", "web", "--top", "3", "--group-by", "zone", "-o", "wide"]).unwrap();
        assert_eq!(o.filter.namespace.as_deref(), Some("web"));
        assert_eq!((o.sort, o.top, o.method), (SortBy::Saturation, Some(3), Method::Objects));
        assert_eq!(o.group_by.unwrap().labels, ["topology.kubernetes.io/zone"]);
        assert_eq!(count(&[]).unwrap().method, Method::Table);
        let e = count(&["--method", "table", "-o", "json"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message.starts_with("--method table gives counts only"));
    }
}
