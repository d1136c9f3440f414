//! The long help texts: the counting rule, exit codes, examples, the bench
//! strategies. The README quotes them.

/// Shown under `count --help` and read by the README: the rule and the exit codes.
pub const COUNT_HELP: &str = "\
Counting rule (the one kubelet's max-pods admission, kube-scheduler and `kubectl describe node` use):
a pod counts against node N when spec.nodeName is N and its phase is neither Succeeded nor Failed.
Pending-but-bound, Running, Unknown and terminating pods all count. Pods with no node and a
non-terminal phase are shown as unscheduled.

Exit codes:
  0  ok
  1  a threshold (--max-saturation, --min-free, --min-fits) was breached, a --fits-release
     workload strands replicas in every order, or --drain/--lose leaves replacements Pending,
     pods not replaced or lost, or a PodDisruptionBudget blocks; one stderr line each
  2  usage or configuration error (bad flag value, unreadable kubeconfig, unknown context,
     exec credential plugin missing or failing, server certificate not signed by the cluster's CA)
  3  cluster error (unreachable, timed out, forbidden, server error)
  4  --min-fits: the answer is not exact (an upper bound: something the scheduler applies is not
     modelled; a range the order decides; or preemption could place more) and could be on either
     side of N; --fits-release, --drain, --lose: whether a workload lands whole depends on the order

Every wait is bounded: connect + TLS handshake 10s; each request --request-timeout or 60s;
4 attempts on 5xx/429/dropped connections (kubectl podcount docs reading).";

pub const WATCH_HELP: &str = "\
Examples:
  kubectl podcount watch                          # table once synced, then a line per change
  kubectl podcount watch --interval 0 -o jsonl    # every change as it happens, as JSON lines
  kubectl podcount watch --until-saturated 95%    # exit 1 as soon as a node is above 95%
  kubectl podcount watch --for 10m

Change lines: TIME (UTC)  NODE  FROM → TO  (DELTA)  SATURATION. Ctrl-C exits 0.
A dropped, failing or silent connection (HTTP/2 PING unanswered: within 25s) prints a
`reconnecting` event with the reason; the watch resumes from the last resourceVersion.
Exit codes: 0 ok / stopped; 1 --until-saturated crossed; 2 usage or configuration error;
3 cluster error (unreachable at start, forbidden).";

pub const BENCH_HELP: &str = "\
Each strategy runs in a child process of its own, so its peak RSS is its own; iterations alternate
the order. Read-only. Every strategy must agree on the per-node counts; a disagreement exits 1.
  list                paged consistent List (each --chunk-sizes), lean decoding
  floor               the same requests, bodies read and discarded (only the continue token is read)
  floor-table         table's requests, bodies read and discarded
  list-cached         resourceVersion=0: served from the apiserver's watch cache, limit ignored
  per-node            one List per node (fieldSelector=spec.nodeName=...), 8 at a time
  table               the Table API (as=Table, includeObject=None), Node column
  informer            list+watch to first sync (each --chunk-sizes), then --steady of watching
  informer-streaming  WatchList (sendInitialEvents=true); skipped where the server lacks it
  list-resources      list, also reading every pod's requests (count --resources)
  informer-resources  informer, also keeping every pod's requests (watch --resources)
  nodes               the node List as count reads it (pages of at most 500), lean decoding
  floor-nodes         the node List's requests, bodies read and discarded
--decode full adds a list run that decodes full k8s-openapi Pod objects.";

pub const TOP_HELP: &str = "\
Examples:
  kubectl podcount                           # every node, all namespaces
  kubectl podcount -o wide --sort-by saturation
  kubectl podcount --max-saturation 90%      # exit 1 when any node is above 90%
  kubectl podcount --context prod-eu,prod-us -o json

";
