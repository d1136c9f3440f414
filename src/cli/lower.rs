//! From parsed flags to the commands: each `*Args` becomes the plain
//! `Options` its command takes (ripgrep's low-args to high-args step), and
//! [`run`] runs the command on a runtime and turns its outcome into the
//! documented exit code.

use std::io::Write;

use super::args::{BenchArgs, BenchRunArgs, Cli, Command, ConnectionArgs, CountArgs, FilterArgs, FitsArgs, WatchArgs};
use super::values::MethodChoice;
use super::{complete, docs};
use crate::client::connect::ConnectOptions;
use crate::decode::manifest;
use crate::error::{self, Error, exit};
use crate::model::filter::Filter;
use crate::model::fits::{Shape, Toleration};
use crate::model::removal::Kind;
use crate::report::group::GroupKey;
use crate::report::resources::Selection;
use crate::report::sort::SortBy;
use crate::report::verdict::Thresholds;
use crate::source::query::Method;
use crate::source::removal::{Asked, Nodes};
use crate::{bench, count, watch};

/// Runs what the command line asks for; the process's exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Some(Command::Completion { shell }) => print(&complete::script(shell)),
        Some(Command::Docs { topic }) => match docs::render(topic.as_deref()) {
            Ok(text) => print(&text),
            Err(e) => {
                eprintln!("error: {e}");
                exit::USAGE
            }
        },
        Some(Command::Complete { words }) => print(&complete::render(&words)),
        Some(Command::Count(args)) => block_on_one(async { count::run(count_options(args)?).await }),
        Some(Command::Watch(args)) => block_on(async { watch::run(watch_options(args)?).await }),
        Some(Command::Bench(args)) => block_on(bench::run(bench_options(args))),
        Some(Command::BenchRun(args)) => block_on(bench::run_one(bench_run_options(args))),
        Some(Command::BenchStore { pods, resources }) => bench_store(&pods, resources),
        None => block_on_one(async { count::run(count_options(cli.count)?).await }),
    }
}

/// One JSON line per size: what the watch's pod store holds a pod.
fn bench_store(sizes: &[usize], resources: bool) -> i32 {
    for &pods in sizes {
        let Some(point) = bench::store_curve::measure(pods, resources) else {
            eprintln!("error: bench-store needs the counting allocator (the kubectl-podcount binary installs it)");
            return exit::CLUSTER;
        };
        println!("{}", serde_json::to_string(&point).unwrap_or_default());
    }
    exit::OK
}

fn print(s: &str) -> i32 {
    let _ = std::io::stdout().write_all(s.as_bytes());
    exit::OK
}

/// Runs a command on two worker threads; an error is one `error:` line.
fn block_on(work: impl Future<Output = error::Result<i32>>) -> i32 {
    finish(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build(), work)
}

/// Runs `count` on this thread alone: a short-lived client whose list
/// reads and page decodes take turns without costing time (measured at
/// 150,000 pods against two workers: the same wall time), while one thread
/// keeps one allocator arena (3 MiB less peak RSS).
fn block_on_one(work: impl Future<Output = error::Result<i32>>) -> i32 {
    finish(tokio::runtime::Builder::new_current_thread().enable_all().build(), work)
}

fn finish(runtime: std::io::Result<tokio::runtime::Runtime>, work: impl Future<Output = error::Result<i32>>) -> i32 {
    let runtime = match runtime {
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
        impersonate: c.as_user.map(|user| crate::client::connect::Impersonate {
            user,
            groups: c.as_group,
            uid: c.as_uid,
        }),
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
    let output = a.output;
    let (resources, limits) = resources(a.resources.as_deref(), a.limits)?;
    let resources = sorted_resource(resources, a.sort_by.as_ref());
    let (mut fits, notes) = shapes(&a.fits)?;
    // --replicas N: the manifest's question, and a gate as --min-fits N.
    if let (Some(n), Some((shape, _))) = (a.replicas, fits.last_mut()) {
        shape.asked = Some(n);
    }
    let min_fits = a.min_fits.or(a.replicas);
    if a.min_fits.is_some() && fits.is_empty() {
        return Err(Error::usage("--min-fits goes with --fits or --fits-pod (fewer than N of which pods?)"));
    }
    let filter = filter(a.filter);
    every_pod(&filter, &fits)?;
    sorts_by_fits(a.sort_by.as_ref(), &fits)?;
    let mut what_if = what_if(a.drain.as_deref(), a.lose.as_deref(), &filter, a.from.as_deref())?;
    if let Some(w) = what_if.as_mut() {
        w.default_profile = a.default_scheduler_name.clone();
    } else if !a.default_scheduler_name.is_empty() {
        return Err(Error::usage("--default-scheduler-name goes with --drain or --lose (whose pods?)"));
    }
    let thresholds =
        Thresholds { max_saturation: a.max_saturation.unwrap_or_default(), min_free: a.min_free.unwrap_or_default() };
    // Pod objects carry requests; Table rows do not.
    let objects = resources.is_some() || !thresholds.resources().is_empty() || !fits.is_empty() || what_if.is_some();
    let method = match (a.method, &output) {
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
        filter,
        output,
        sort: a.sort_by.unwrap_or(default_sort),
        top: a.top.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        group_by: a.group_by.as_deref().map(GroupKey::parse),
        label_columns: a.label_columns,
        no_headers: a.no_headers,
        chunk_size: a.chunk_size,
        method,
        from: a.from,
        from_trust: count::FromTrust { ca: a.from_ca, fingerprint: a.from_fingerprint },
        thresholds,
        resources,
        limits,
        fits,
        min_fits,
        min_fits_flag: if a.replicas.is_some() { "--replicas" } else { "--min-fits" },
        notes,
        what_if,
    })
}

/// `--drain`/`--lose`: which nodes, and how; they read every pod on every
/// node (where the replacements could land), from a List.
fn what_if(
    drain: Option<&str>,
    lose: Option<&str>,
    filter: &Filter,
    from: Option<&str>,
) -> error::Result<Option<Asked>> {
    let (kind, value) = match (drain, lose) {
        (Some(d), _) => (Kind::Drain, d),
        (None, Some(l)) => (Kind::Lose, l),
        (None, None) => return Ok(None),
    };
    let flag = kind.flag();
    whole_cluster(flag, filter)?;
    if from.is_some_and(|f| !f.trim().is_empty()) {
        return Err(Error::usage(format!(
            "{flag} reads the removed nodes' pods whole, which a watch does not serve: drop --from"
        )));
    }
    let nodes = Nodes::parse(flag, value).map_err(Error::usage)?;
    Ok(Some(Asked { kind, nodes, default_profile: Vec::new() }))
}

/// A removal places the displaced pods over every node and pod: a narrowed
/// view would leave some out.
fn whole_cluster(flag: &str, filter: &Filter) -> error::Result<()> {
    let narrowed = [
        filter.namespace.as_ref().map(|_| "-n"),
        filter.label_selector.as_ref().map(|_| "-l"),
        filter.field_selector.as_ref().map(|_| "--field-selector"),
        filter.node_selector.as_ref().map(|_| "--node-selector"),
    ];
    if let Some(other) = narrowed.into_iter().flatten().next() {
        return Err(Error::usage(format!(
            "{flag} places the displaced pods over every node and pod, and {other} leaves some out: drop {other} (--group-by shows a part of the cluster)"
        )));
    }
    Ok(())
}

/// What fits on a node depends on every pod on it: a narrowed count
/// (`-n`, `-l`, `--field-selector`) would leave some out and overstate
/// the room. `--node-selector` narrows nodes, not pods, and stays.
fn every_pod(filter: &Filter, fits: &[(Shape, Option<String>)]) -> error::Result<()> {
    let narrowed = [
        filter.namespace.as_ref().map(|_| "-n"),
        filter.label_selector.as_ref().map(|_| "-l"),
        filter.field_selector.as_ref().map(|_| "--field-selector"),
    ];
    match narrowed.into_iter().flatten().next() {
        Some(flag) if !fits.is_empty() => Err(Error::usage(format!(
            "--fits counts every pod on a node, and {flag} leaves some out (the room would be overstated): drop {flag}, or use --node-selector to look at some nodes"
        ))),
        _ => Ok(()),
    }
}

fn sorts_by_fits(sort: Option<&SortBy>, fits: &[(Shape, Option<String>)]) -> error::Result<()> {
    if sort == Some(&SortBy::Fits) && fits.is_empty() {
        return Err(Error::usage("--sort-by fits goes with --fits or --fits-pod (room for which pods?)"));
    }
    Ok(())
}

/// `--fits`, `--fits-pod` and `--tolerate`: the shapes, each with the
/// RuntimeClass to add the overhead of, and what `--fits-pod`'s manifest
/// uses that is not modelled (one note).
type Shapes = (Vec<(Shape, Option<String>)>, Vec<String>);

fn shapes(FitsArgs { fits, fits_pod, fits_release, tolerate }: &FitsArgs) -> error::Result<Shapes> {
    let tolerations =
        tolerate.iter().map(|t| Toleration::parse(t)).collect::<Result<Vec<_>, _>>().map_err(Error::usage)?;
    let mut out: Vec<(Shape, Option<String>)> = Vec::new();
    for f in fits {
        out.push((Shape::parse(f).map_err(Error::usage)?, None));
    }
    let mut notes = Vec::new();
    let read = |flag: &str, path: &std::path::Path| {
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(path)
        };
        text.map_err(|e| Error::usage(format!("{flag} {}: cannot read it: {e}", path.display())))
    };
    if let Some(path) = fits_release {
        let (manifests, skipped) = manifest::read_release(&read("--fits-release", path)?).map_err(Error::usage)?;
        if !skipped.is_empty() {
            let kinds: Vec<String> = skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
            notes.push(format!("--fits-release: skipped {} (they make no pods)", kinds.join(", ")));
        }
        let names: Vec<&str> = manifests.iter().map(|m| m.shape.name.as_str()).collect();
        let whats: Vec<&str> = manifests.iter().map(|m| m.what.as_str()).collect();
        let mut shapes = Vec::new();
        for m in &manifests {
            for why in &m.shape.bound_by {
                notes.push(format!("{}: the answer is an upper bound: {why}", m.what));
            }
            let mut shape = m.shape.clone();
            // The manifest's name, or more of it where two share one.
            if names.iter().filter(|n| **n == shape.name).count() > 1 {
                shape.name = match whats.iter().filter(|w| **w == m.what).count() {
                    1 => m.what.clone(),
                    _ => format!("{}/{}", m.namespace.as_deref().unwrap_or("-"), m.what),
                };
            }
            shape.asked = m.replicas;
            shape.workload = Some(m.what.clone());
            shapes.push((shape, m.runtime_class.clone()));
        }
        out.extend(shapes);
    }
    if let Some(path) = fits_pod {
        let text = read("--fits-pod", path)?;
        let m = manifest::read(&text).map_err(Error::usage)?;
        for why in &m.shape.bound_by {
            notes.push(format!("{}: the answer is an upper bound: {why}", m.what));
        }
        if m.ignored > 0 {
            notes.push(format!(
                "--fits-pod: the manifest has {} more pod-bearing objects; {} is the one used",
                m.ignored, m.what
            ));
        }
        let mut shape = m.shape;
        shape.asked = m.replicas;
        out.push((shape, m.runtime_class));
    }
    if out.is_empty() && !tolerations.is_empty() {
        return Err(Error::usage("--tolerate goes with --fits or --fits-pod (tolerated by which pods?)"));
    }
    for (s, _) in &mut out {
        s.tolerations.extend(tolerations.iter().cloned());
    }
    let mut names = std::collections::BTreeSet::new();
    if let Some((s, _)) = out.iter().find(|(s, _)| !names.insert(s.name.clone())) {
        return Err(Error::usage(format!("--fits: two shapes are named {:?}; name them (NAME=RES=QTY,...)", s.name)));
    }
    Ok((out, notes))
}

/// `--sort-by RESOURCE` shows the resource it sorts by: alone without
/// `--resources`, added to a `--resources` list that lacks it.
fn sorted_resource(resources: Option<Selection>, sort: Option<&SortBy>) -> Option<Selection> {
    let Some(name) = sort.and_then(SortBy::resource) else { return resources };
    match resources {
        None => Some(Selection::Named(vec![name.to_string()])),
        Some(Selection::Named(mut names)) => {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            Some(Selection::Named(names))
        }
        // Default, all, tracked: every resource the nodes allocate is there.
        Some(other) => Some(other),
    }
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
    let resources = sorted_resource(resources, Some(&a.sort_by));
    if a.fits.fits_release.is_some() {
        return Err(Error::usage(
            "--fits-release goes with count (a release is asked once, before it is applied); watch takes --fits-pod",
        ));
    }
    let (fits, notes) = shapes(&a.fits)?;
    if a.until_fits_below.is_some() && fits.is_empty() {
        return Err(Error::usage("--until-fits-below goes with --fits or --fits-pod (fewer than N of which pods?)"));
    }
    let filter = filter(a.filter);
    every_pod(&filter, &fits)?;
    sorts_by_fits(Some(&a.sort_by), &fits)?;
    let lose_each = match a.lose_each.as_deref() {
        Some(label) => {
            whole_cluster("--lose-each", &filter)?;
            let label = GroupKey::parse(label).labels.swap_remove(0);
            let every = a.lose_every;
            Some(watch::loss::Options { label, every, default_profile: a.default_scheduler_name })
        }
        None => None,
    };
    Ok(watch::Options {
        connect: connect(a.connection),
        filter,
        jsonl: a.output == super::values::WatchOutput::Jsonl,
        sort: a.sort_by,
        group_by: a.group_by.as_deref().map(GroupKey::parse),
        interval: a.interval,
        stop_after: a.r#for,
        until_saturated: a.until_saturated,
        chunk_size: a.chunk_size,
        initial_list: a.initial_list.into(),
        listen: a.listen,
        listen_security: crate::watch::serve::Security {
            kubernetes_auth: a.listen_auth == super::values::ListenAuth::Kubernetes,
            tls: a.listen_tls_cert.zip(a.listen_tls_key).map(|(cert, key)| crate::watch::serve::TlsFiles { cert, key }),
        },
        resources,
        limits,
        fits,
        until_fits_below: a.until_fits_below,
        notes,
        lose_each,
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
    use std::time::Duration;

    fn count(args: &[&str]) -> error::Result<count::Options> {
        let cli = Cli::try_parse_from(std::iter::once("kubectl-podcount").chain(args.iter().copied())).unwrap();
        count_options(cli.count)
    }

    fn watch(args: &[&str]) -> error::Result<watch::Options> {
        let all = ["kubectl-podcount", "watch"].into_iter().chain(args.iter().copied());
        match Cli::try_parse_from(all).unwrap().command {
            Some(Command::Watch(a)) => watch_options(a),
            _ => unreachable!("watch parses as watch"),
        }
    }

    #[test]
    fn lose_each_names_a_label_and_needs_the_whole_cluster() {
        let o = watch(&["--lose-each", "zone", "--default-scheduler-name", "bin-packer"]).unwrap();
        let l = o.lose_each.unwrap();
        assert_eq!(
            (l.label.as_str(), l.every, l.default_profile),
            ("topology.kubernetes.io/zone", Duration::from_secs(30), vec!["bin-packer".to_string()])
        );
        let o = watch(&["--lose-each", "karpenter.sh/nodepool", "--lose-every", "2m"]).unwrap();
        assert_eq!(
            o.lose_each.map(|l| (l.label, l.every)),
            Some(("karpenter.sh/nodepool".into(), Duration::from_secs(120)))
        );
        assert!(watch(&[]).unwrap().lose_each.is_none());
        let e = watch(&["--lose-each", "zone", "-n", "web"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.message
                .starts_with("--lose-each places the displaced pods over every node and pod, and -n leaves some out"),
            "{e}"
        );
        let e = watch(&["--lose-each", "zone", "--node-selector", "pool=a"]).unwrap_err();
        assert!(e.message.contains("--node-selector leaves some out"), "{e}");
    }

    #[test]
    fn flags_become_options() {
        let o = count(&["-n", "web", "--top", "3", "--group-by", "zone", "-o", "wide"]).unwrap();
        assert_eq!(o.filter.namespace.as_deref(), Some("web"));
        assert_eq!((o.sort, o.top, o.method), (SortBy::Saturation, Some(3), Method::Objects));
        assert_eq!(o.group_by.unwrap().labels, ["topology.kubernetes.io/zone"]);
        assert_eq!(count(&[]).unwrap().method, Method::Table);
        let e = count(&["--fits", "cpu=1", "-n", "web"]).unwrap_err();
        assert!(e.message.starts_with("--fits counts every pod on a node, and -n leaves some out"), "{e}");
        assert!(count(&["--fits", "cpu=1", "--node-selector", "pool=gpu"]).is_ok());
        let o = count(&["--sort-by", "cpu"]).unwrap();
        assert_eq!((o.sort.resource(), o.resources), (Some("cpu"), Some(Selection::Named(vec!["cpu".into()]))));
        let o = count(&["--sort-by", "nvidia.com/gpu", "--resources", "cpu"]).unwrap();
        assert_eq!(o.resources, Some(Selection::Named(vec!["cpu".into(), "nvidia.com/gpu".into()])));
        assert_eq!(count(&["--sort-by", "memory", "--resources"]).unwrap().resources, Some(Selection::Default));
        let e = count(&["--sort-by", "fits"]).unwrap_err();
        assert!(e.message.starts_with("--sort-by fits goes with --fits"), "{e}");
        let e = count(&["--min-fits", "3"]).unwrap_err();
        assert!(e.message.starts_with("--min-fits goes with --fits"), "{e}");
        let e = count(&["--fits", "cpu=1", "--fits", "cpu=1"]).unwrap_err();
        assert!(e.message.contains("name them"), "{e}");
        let o = count(&["--fits", "a=cpu=1", "--fits", "b=memory=1Gi", "--tolerate", "dedicated"]).unwrap();
        assert_eq!((o.fits.len(), o.fits[1].0.tolerations.len(), o.method), (2, 1, Method::Objects));
        let e = count(&["--method", "table", "-o", "json"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message.starts_with("--method table gives counts only"));
    }
}
