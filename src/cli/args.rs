//! Every flag of every subcommand: clap definitions only. Completions are
//! generated from these.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::help::{BENCH_HELP, COUNT_HELP, TOP_HELP, WATCH_HELP};
use super::values::{
    BenchOutput, Decode, Initial, MethodChoice, Output, OutputParser, Shell, SortParser, StrategyArg, Timeout,
    WatchOutput, Wire, parse_interval, parse_timeout,
};
use crate::client::pin::Fingerprint;
use crate::report::percent::Percent;
use crate::report::sort::SortBy;
use crate::report::verdict::{MaxSaturation, MinFree, parse_max_saturation, parse_min_free};
use crate::source::query::DEFAULT_CHUNK;

fn parse_fingerprint(s: &str) -> Result<Fingerprint, String> {
    Fingerprint::parse(s)
}

/// The one line krew search, crates.io and `--help` show (Cargo.toml's
/// description and the krew manifest's shortDescription say the same).
pub const ABOUT: &str = "How full each node is (pod slots, cpu, memory, GPUs) and how many more pods fit";

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-podcount",
    bin_name = "kubectl podcount",
    version,
    about = ABOUT,
    long_about = format!("{ABOUT}.\n\n\
        Pod slots by the counting rule below; cpu, memory, GPUs and any resource by the scheduler's \
        request rule (--resources); how many more pods of a shape fit, and what holds them back \
        (--fits, --fits-pod). `kubectl podcount` with no subcommand runs `count`."),
    after_help = format!("{TOP_HELP}{COUNT_HELP}"),
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub count: CountArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Count pods per node once (paginated List) and compare with each node's pod limit
    #[command(after_help = COUNT_HELP)]
    Count(CountArgs),
    /// Watch pod counts live (list + watch) and print per-node changes
    #[command(after_help = WATCH_HELP)]
    Watch(WatchArgs),
    /// Measure counting strategies on this cluster: paged List, watch-cache List, per-node, Table, informers
    #[command(after_help = BENCH_HELP)]
    Bench(BenchArgs),
    /// One bench strategy, once, in a process of its own (run by bench)
    #[command(name = "bench-run", hide = true)]
    BenchRun(BenchRunArgs),
    /// The watch's pod store, filled in memory, measured at each size (run by scripts/bench)
    #[command(name = "bench-store", hide = true)]
    BenchStore {
        /// Pod counts, comma-separated
        #[arg(long, value_delimiter = ',', required = true)]
        pods: Vec<usize>,
        /// Keep each pod's requests too (`watch --resources`)
        #[arg(long)]
        resources: bool,
    },
    /// Print a topic of the documentation (RBAC, exit codes, proxies, ...); no topic lists them
    Docs {
        /// rbac, reading, fits, resources, outputs, exit-codes, serving, proxies, counting, troubleshooting
        topic: Option<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell)
    Completion {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Completion candidates for kubectl's plugin completion (kubectl_complete-podcount)
    #[command(name = "__complete", hide = true)]
    Complete {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
}

#[derive(Clone, Debug, Default, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table", help_heading = "Output")]
    pub output: WatchOutput,
    /// Row order of the first table: name, pods, free, saturation (pod slots), fits, or a
    /// resource name (its requested share of allocatable, fullest first; with --resources)
    #[arg(long, value_name = "ORDER", value_parser = SortParser, hide_possible_values = true, default_value = "name", help_heading = "Output")]
    pub sort_by: SortBy,
    /// Group nodes by this node label (aliases: zone, instance-type, nodepool): the first
    /// table has one row per group and change lines are per group; jsonl change events
    /// carry a "group" field, and "group-change" events follow
    #[arg(long, value_name = "LABEL", value_parser = label_key, help_heading = "Output")]
    pub group_by: Option<String>,
    /// Coalesce changes over this long (net change per node); 0 prints every event
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_interval, help_heading = "Output")]
    pub interval: Duration,
    /// Stop after this long (e.g. 10m): exit 0 on a current view, 3 if a context never synced or is not current then
    #[arg(long = "for", value_name = "DURATION", value_parser = humantime::parse_duration, help_heading = "Watch")]
    pub r#for: Option<Duration>,
    /// Exit 1 as soon as any node's saturation is above this percentage
    #[arg(long, value_name = "PCT", help_heading = "Watch")]
    pub until_saturated: Option<Percent>,
    /// Pods per List page when (re)listing (nodes: at most 500)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CHUNK, help_heading = "Listing")]
    pub chunk_size: u32,
    /// How the initial state is read: paged (List, then watch) or stream (WatchList,
    /// falling back to paged where the server refuses it)
    #[arg(long, value_enum, default_value = "paged", help_heading = "Listing")]
    pub initial_list: Initial,
    /// Also track each pod's requests: rows, change lines, /metrics and /v1/podcount carry
    /// requests against allocatable per resource (bare: cpu, memory and extended resources
    /// nodes allocate; `all`; or a list)
    #[arg(long, value_name = "LIST|all", num_args = 0..=1, default_missing_value = "", help_heading = "Resources")]
    pub resources: Option<String>,
    /// With --resources: limits and overcommit too
    #[arg(long, help_heading = "Resources")]
    pub limits: bool,
    #[command(flatten)]
    pub fits: FitsArgs,
    /// Exit 1 as soon as fewer than N more pods of a --fits shape fit in the cluster
    #[arg(long, value_name = "N", help_heading = "Watch")]
    pub until_fits_below: Option<u64>,
    /// Serve the counts while watching: /metrics (Prometheus), /readyz, /healthz and
    /// /v1/podcount (what `count -o json` prints, from memory). PORT or :PORT is loopback;
    /// another address is served unauthenticated unless --listen-auth says otherwise (a
    /// warning says so)
    #[arg(long, value_name = "ADDR", value_parser = crate::watch::serve::parse_listen, help_heading = "Watch")]
    pub listen: Option<std::net::SocketAddr>,
    /// Who may read --listen's /metrics and /v1/podcount: anyone who reaches it (none), or
    /// the holder of a bearer token the apiserver accepts (TokenReview) whom RBAC grants
    /// `get` on the path (SubjectAccessReview), over TLS (kubernetes). /healthz and /readyz
    /// stay open for probes
    #[arg(long, value_enum, default_value = "none", requires = "listen", help_heading = "Watch")]
    pub listen_auth: super::values::ListenAuth,
    /// TLS certificate chain (PEM) for --listen; without it, --listen-auth kubernetes makes
    /// a self-signed one (a warning says so)
    #[arg(long, value_name = "FILE", requires = "listen_tls_key", help_heading = "Watch")]
    pub listen_tls_cert: Option<std::path::PathBuf>,
    /// TLS private key (PEM) for --listen-tls-cert
    #[arg(long, value_name = "FILE", requires = "listen_tls_cert", help_heading = "Watch")]
    pub listen_tls_key: Option<std::path::PathBuf>,
    /// Keep, for each value of this node label (zone, or any label key), what losing all its
    /// nodes at once would do, as `count --lose LABEL=VALUE` answers it: replacements that stay
    /// Pending, pods never replaced. Printed when it changes; served as podcount_loss_* on
    /// /metrics and lossEach on /v1/podcount. Each round re-reads the cluster (the pods'
    /// scheduling specs are not in the lean store), after a change, at most once each --lose-every
    #[arg(long, value_name = "LABEL", value_parser = label_key, help_heading = "What if")]
    pub lose_each: Option<String>,
    /// With --lose-each: at most one round this often (an idle cluster costs no round)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_interval, requires = "lose_each", help_heading = "What if")]
    pub lose_every: Duration,
    /// With --lose-each: a schedulerName that runs kube-scheduler's default profile too
    /// (repeatable), as count's --default-scheduler-name
    #[arg(long, value_name = "NAME", requires = "lose_each", help_heading = "What if")]
    pub default_scheduler_name: Vec<String>,
}

#[derive(Clone, Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Strategies to run
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = StrategyArg::all())]
    pub strategies: Vec<StrategyArg>,
    /// Page sizes for list, table, their floors and informer; the first is the baseline of the ratios
    #[arg(long, value_name = "N,N", value_delimiter = ',', default_value = "500,5000", value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_sizes: Vec<u32>,
    /// Runs of each strategy
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,
    /// Add a list run that decodes full Pod objects
    #[arg(long, value_enum, value_name = "full")]
    pub decode: Option<Decode>,
    /// How long informers keep watching after their first sync (steady-state RSS)
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = humantime::parse_duration)]
    pub steady: Duration,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: BenchOutput,
    /// Also time watch's event-to-printed-line latency by creating and deleting pods in a
    /// throw-away namespace (the only write; cleaned up, Ctrl-C included)
    #[arg(long)]
    pub probe: bool,
    /// Pods the probe creates and deletes
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub probe_samples: u32,
}

#[derive(Clone, Debug, Args)]
pub struct BenchRunArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[arg(long, value_enum)]
    pub strategy: StrategyArg,
    #[arg(long, default_value_t = 500)]
    pub chunk_size: u32,
    #[arg(long)]
    pub decode_full: bool,
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub steady: Duration,
}

/// Where to connect: the standard kubectl flags.
#[derive(Clone, Debug, Default, Args)]
pub struct ConnectionArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, a list, or ~/.kube/config)
    #[arg(long, value_name = "PATH", help_heading = "Connection")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context(s) to use; several, comma-separated, are counted concurrently
    #[arg(long, value_name = "NAME[,NAME]", value_delimiter = ',', help_heading = "Connection")]
    pub context: Vec<String>,
    /// Use every context in the kubeconfig
    #[arg(long, conflicts_with = "context", help_heading = "Connection")]
    pub all_contexts: bool,
    /// Kubeconfig cluster to use (overrides the context's)
    #[arg(long, value_name = "NAME", help_heading = "Connection")]
    pub cluster: Option<String>,
    /// Kubeconfig user to use (overrides the context's)
    #[arg(long, value_name = "NAME", help_heading = "Connection")]
    pub user: Option<String>,
    /// Username to impersonate for the operation (a user or a service account:
    /// system:serviceaccount:NS:NAME)
    #[arg(long = "as", value_name = "USER", help_heading = "Connection")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation (repeatable)
    #[arg(long = "as-group", value_name = "GROUP", requires = "as_user", help_heading = "Connection")]
    pub as_group: Vec<String>,
    /// UID to impersonate for the operation
    #[arg(long = "as-uid", value_name = "UID", requires = "as_user", help_heading = "Connection")]
    pub as_uid: Option<String>,
    /// count: time limit for each context's count; watch: for each list page and each watch
    /// request until it is established; bench: for each strategy run. 30s, 2m; a bare number
    /// is seconds; 0 is no limit (a single request is still bounded at 60s)
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_timeout, help_heading = "Connection")]
    pub request_timeout: Timeout,
    /// How pod and node objects travel: protobuf (the default: what kube-scheduler and kubelet
    /// read; falls back to JSON by itself when the server or a proxy refuses it) or json. The
    /// Table path is always JSON. bench: only this encoding (default: both)
    #[arg(long, value_name = "ENCODING", help_heading = "Connection")]
    pub wire: Option<Wire>,
}

/// The pods `--fits` asks about: count's and watch's, declared once.
#[derive(Clone, Debug, Default, Args)]
pub struct FitsArgs {
    /// How many more pods of this shape each node admits: [NAME=]RES=QTY,... such as
    /// cpu=500m,memory=1Gi or web=cpu=250m,memory=512Mi,nvidia.com/gpu=1 (repeatable)
    #[arg(long, value_name = "[NAME=]RES=QTY,...", help_heading = "Fits")]
    pub fits: Vec<String>,
    /// The same for the pod a manifest makes (Pod, Deployment, StatefulSet, DaemonSet, Job,
    /// CronJob...; - reads stdin): its requests by the scheduler's rule, tolerations,
    /// nodeSelector, node affinity, host ports, pod affinity and anti-affinity, topology spread
    /// (a DaemonSet: which nodes run one); the answer says whether it is exact or a bound
    #[arg(long, value_name = "FILE|-", help_heading = "Fits")]
    pub fits_pod: Option<PathBuf>,
    /// Every workload of these manifests placed together, each with its replicas (helm template
    /// | kubectl podcount --fits-release -): how many of each land over every order they could
    /// arrive in; exit 0 when all land in every order, 1 when some stay Pending in every order, 4
    /// when it depends on the order
    #[arg(long, value_name = "FILE|-", conflicts_with = "fits_pod", help_heading = "Fits")]
    pub fits_release: Option<PathBuf>,
    /// With --fits: a taint the shape tolerates, KEY[=VALUE][:EFFECT] (repeatable)
    #[arg(long, value_name = "KEY[=VALUE][:EFFECT]", help_heading = "Fits")]
    pub tolerate: Vec<String>,
}

/// What to count: the standard kubectl selection flags.
#[derive(Clone, Debug, Default, Args)]
pub struct FilterArgs {
    /// Count only pods in this namespace
    #[arg(short = 'n', long, value_name = "NS", help_heading = "Filters")]
    pub namespace: Option<String>,
    /// Count pods in all namespaces (the default)
    #[arg(short = 'A', long, conflicts_with = "namespace", help_heading = "Filters")]
    pub all_namespaces: bool,
    /// Pod label selector, e.g. app=web,tier!=cache
    #[arg(short = 'l', long, value_name = "SELECTOR", help_heading = "Filters")]
    pub selector: Option<String>,
    /// Pod field selector, e.g. spec.schedulerName=default-scheduler (ANDed with the phase filter)
    #[arg(long, value_name = "SELECTOR", help_heading = "Filters")]
    pub field_selector: Option<String>,
    /// Node label selector: only these nodes are shown, and only pods on them counted
    #[arg(long, value_name = "SELECTOR", help_heading = "Filters")]
    pub node_selector: Option<String>,
    /// Leave cordoned nodes, and nodes with NoSchedule/NoExecute taints other than the
    /// not-ready/unreachable ones, out of rows, groups and totals (the footer says how many)
    #[arg(long, help_heading = "Filters")]
    pub schedulable_only: bool,
}

#[derive(Clone, Debug, Default, Args)]
pub struct CountArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format: table, wide, json, yaml, csv, jsonpath=TEMPLATE, custom-columns=SPEC (and -file=PATH forms)
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = OutputParser, hide_possible_values = true, default_value = "table", help_heading = "Output")]
    pub output: Output,
    /// Row order: name ascending; pods and saturation fullest first (saturation is pod slots
    /// only, with --resources too); free least first; fits most room first; or a resource
    /// name (cpu, memory, nvidia.com/gpu, ...): its requested share of allocatable, fullest
    /// first, nodes without it last (default: name; saturation with --top)
    #[arg(long, value_name = "ORDER", value_parser = SortParser, hide_possible_values = true, help_heading = "Output")]
    pub sort_by: Option<SortBy>,
    /// Only the first N rows after sorting (table, wide, csv); totals still cover every node
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Output")]
    pub top: Option<u64>,
    /// One row per value of this node label (nodes, pods, allocatable, free, saturation, the
    /// fullest node, nodes at or above --max-saturation or 90%). Aliases: zone, instance-type,
    /// nodepool (Karpenter, EKS, GKE or AKS pool label)
    #[arg(long, value_name = "LABEL", value_parser = label_key, help_heading = "Output")]
    pub group_by: Option<String>,
    /// Columns with these node labels' values, as `kubectl get -L`
    #[arg(short = 'L', long = "label-columns", value_name = "KEY,...", value_delimiter = ',', help_heading = "Output")]
    pub label_columns: Vec<String>,
    /// Leave out the header line (table and wide)
    #[arg(long, help_heading = "Output")]
    pub no_headers: bool,
    /// Pods per List page (nodes: at most 500); 0 lists everything in one request
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CHUNK, help_heading = "Listing")]
    pub chunk_size: u32,
    /// How pods are read: auto uses the Table API (a fraction of the bytes) when only counts are
    /// printed (-o table), pod objects when the breakdown is (-o wide, json, yaml)
    #[arg(long, value_enum, default_value = "auto", help_heading = "Listing")]
    pub method: MethodChoice,
    /// Answer from a running `kubectl podcount watch --listen` (its /v1/podcount) instead of
    /// listing: same outputs and exit codes. A URL, or service/NAMESPACE/NAME[:PORT] (or
    /// pod/...) reached through a port-forward, as kubectl port-forward does. Falls back to the
    /// List, with one warning, when it is unreachable, slower than 1s, not synced, or watching
    /// other contexts or filters; a named Service or pod that cannot be reached exits 3
    #[arg(long, value_name = "URL|service/NS/NAME", env = "PODCOUNT_FROM", help_heading = "Listing")]
    pub from: Option<String>,
    /// With an https --from: the CA (PEM) that signed the watch's certificate
    #[arg(long, value_name = "FILE", help_heading = "Listing")]
    pub from_ca: Option<PathBuf>,
    /// With an https --from: trust exactly the certificate with this SHA-256 fingerprint (the
    /// watch prints it at start: `serving certificate sha256 AB:CD:...`)
    #[arg(long, value_name = "SHA256", value_parser = parse_fingerprint, help_heading = "Listing")]
    pub from_fingerprint: Option<Fingerprint>,
    /// Also show requests against allocatable per resource: bare, cpu, memory and every
    /// extended resource a node allocates (nvidia.com/gpu...); `all`, every allocatable
    /// resource; or a list (cpu,memory,ephemeral-storage). Reads pod objects
    #[arg(long, value_name = "LIST|all", num_args = 0..=1, default_missing_value = "", help_heading = "Resources")]
    pub resources: Option<String>,
    /// With --resources: limits and overcommit (limits over allocatable) too
    #[arg(long, help_heading = "Resources")]
    pub limits: bool,
    #[command(flatten)]
    pub fits: FitsArgs,
    /// Exit 1 when fewer than N more pods of the --fits shape fit in the cluster (with
    /// --group-by: in any group); exit 4 when the answer is not exact and could be on either
    /// side of N
    #[arg(long, value_name = "N", help_heading = "CI")]
    pub min_fits: Option<u64>,
    /// With --fits-pod: do N more replicas land? The answer says how many of the N land (default
    /// question: the manifest's spec.replicas); given, it is a gate as --min-fits N
    #[arg(long, value_name = "N", conflicts_with = "min_fits", requires = "fits_pod", help_heading = "Fits")]
    pub replicas: Option<u64>,
    /// What if these nodes are drained (kubectl drain: cordoned, DaemonSet and mirror pods stay,
    /// the rest evicted as PodDisruptionBudgets allow, replaced by their controllers): NODE,...
    /// or a node label selector (karpenter.sh/nodepool=old). The table shows the nodes after;
    /// the footer and whatIf say, per owner, what lands again, what stays Pending and why; exit 1
    /// when something stays Pending, is not replaced or lost, or a PDB blocks, 4 when the order
    /// decides
    #[arg(long, value_name = "NODES|SELECTOR", conflicts_with = "lose", help_heading = "What if")]
    pub drain: Option<String>,
    /// What if these nodes are lost (they stop answering: tainted unreachable, their pods deleted
    /// after tolerationSeconds and left terminating, no PDB asked; StatefulSets make no
    /// replacement while the old pods remain): NODE,... or a node label selector
    /// (topology.kubernetes.io/zone=zone-b). Outputs and exit codes as --drain
    #[arg(long, value_name = "NODES|SELECTOR", help_heading = "What if")]
    pub lose: Option<String>,
    /// With --drain/--lose: a schedulerName that runs kube-scheduler's default profile too, so
    /// that pods naming it are answered as the default profile's (repeatable)
    #[arg(long, value_name = "NAME", help_heading = "What if")]
    pub default_scheduler_name: Vec<String>,
    /// Exit 1 when a node's saturation is above this percentage: 90 or 90% for pod slots,
    /// or per resource: cpu=85%,memory=90%,pods=95%
    #[arg(long, value_name = "PCT|RES=PCT,...", value_parser = parse_max_saturation, help_heading = "CI")]
    pub max_saturation: Option<MaxSaturation>,
    /// Exit 1 when a node has fewer free pod slots than N, or per resource less than
    /// cpu=2,memory=8Gi,nvidia.com/gpu=1 free
    #[arg(long, value_name = "N|RES=QTY,...", value_parser = parse_min_free, help_heading = "CI")]
    pub min_free: Option<MinFree>,
}

/// A node label key for `--group-by`: anything but empty.
fn label_key(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("a label key cannot be empty (e.g. topology.kubernetes.io/zone, or the alias zone)".into());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("kubectl-podcount").chain(args.iter().copied()))
    }

    #[test]
    fn bare_invocation_is_count_with_kubectl_flags() {
        let cli =
            parse(&["-n", "web", "-l", "app=x", "--context", "a,b", "-o", "json", "--max-saturation", "90%"]).unwrap();
        assert!(cli.command.is_none());
        let c = cli.count;
        assert_eq!(c.filter.namespace.as_deref(), Some("web"));
        assert_eq!(c.filter.selector.as_deref(), Some("app=x"));
        assert_eq!(c.connection.context, ["a", "b"]);
        assert_eq!(c.output, Output::Json);
        assert_eq!(c.max_saturation.unwrap().0[0].1, Percent(90.0));
        assert_eq!(c.chunk_size, DEFAULT_CHUNK);
    }

    #[test]
    fn count_subcommand_takes_the_same_flags() {
        let cli = parse(&["count", "--chunk-size", "7", "--sort-by", "free", "-o", "wide"]).unwrap();
        let Some(Command::Count(c)) = cli.command else { panic!("not count") };
        assert_eq!((c.chunk_size, c.sort_by, c.output), (7, Some(SortBy::Free), Output::Wide));
    }

    #[test]
    fn watch_flags() {
        let cli =
            parse(&["watch", "--interval", "0", "-o", "jsonl", "--for", "10m", "--until-saturated", "95%"]).unwrap();
        let Some(Command::Watch(w)) = cli.command else { panic!("not watch") };
        assert_eq!(w.interval, Duration::ZERO);
        assert_eq!(w.output, WatchOutput::Jsonl);
        assert_eq!(w.r#for, Some(Duration::from_secs(600)));
        assert_eq!(w.until_saturated, Some(Percent(95.0)));
        let Some(Command::Watch(w)) = parse(&["watch"]).unwrap().command else { panic!("not watch") };
        assert_eq!((w.interval, w.r#for, w.chunk_size), (Duration::from_secs(1), None, DEFAULT_CHUNK));
        assert!(parse(&["watch", "--interval", "soon"]).is_err());
    }

    #[test]
    fn rejects_bad_values() {
        for bad in [
            &["--max-saturation", "150"][..],
            &["-o", "xml"],
            &["--chunk-size", "-1"],
            &["--request-timeout", "soon"],
            &["-n", "a", "-A"],
            &["--context", "a", "--all-contexts"],
        ] {
            let err = parse(bad).expect_err(&format!("{bad:?} should fail"));
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
    }
}
