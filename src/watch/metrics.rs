//! `/metrics` for `watch --listen`: Prometheus/OpenMetrics text, written by
//! prometheus-client from a snapshot of the watch's stores. A fresh registry
//! per scrape: nodes come and go, and a scrape must show only the live ones.
//! Pure but for the one histogram the watch loop keeps filling.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
pub use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::process::ProcessStats;
use crate::report::group::GroupRow;
use crate::report::loss::LossEach;
use crate::report::resources::Unit;
use crate::report::rows::{NodeRow, fits_sum};

/// An amount in base units (cores, bytes, integers) as a sample value.
fn base(resource: &str, v: i128) -> f64 {
    if Unit::of(resource) == Unit::Core { v as f64 / 1000.0 } else { v as f64 }
}

/// The Content-Type of what [`render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Content-Type of [`to_text_format`]'s output.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether an `Accept` header asks for OpenMetrics (Prometheus does); any
/// other client (curl, promtool) gets the classic text format.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// OpenMetrics text as the classic Prometheus text format (0.0.4): a
/// counter family's HELP and TYPE name its `_total` samples, and the UNIT
/// and EOF lines go. Everything else is the same in both.
pub fn to_text_format(openmetrics: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for l in openmetrics.lines() {
        if let Some(name) = l.strip_prefix("# TYPE ").and_then(|r| r.strip_suffix(" counter")) {
            counters.insert(name.to_string());
        }
    }
    let mut out = String::with_capacity(openmetrics.len() + counters.len() * 16);
    for l in openmetrics.lines() {
        if l == "# EOF" || l.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "].into_iter().find_map(|p| Some((p, l.strip_prefix(p)?)));
        match meta {
            Some((p, rest)) => {
                let name = rest.split(' ').next().unwrap_or("");
                if counters.contains(name) {
                    out.push_str(&format!("{p}{name}_total{}", &rest[name.len()..]));
                } else {
                    out.push_str(l);
                }
            }
            None => out.push_str(l),
        }
        out.push('\n');
    }
    out
}

/// One informer's health, as the watch loop saw it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Informer {
    pub resource: &'static str,
    /// Synced, not relisting, and its watch is open.
    pub synced: bool,
    /// The resourceVersion its store is exactly at (etcd's are integers).
    pub resource_version: Option<u64>,
    pub relists: u64,
    pub reconnects: u64,
    /// Events applied to the store (list pages count their objects).
    pub events: u64,
}

/// One context's state.
pub struct Context<'a> {
    pub context: &'a str,
    /// Node rows as `count -o json` has them (only nodes in the view).
    pub rows: &'a [NodeRow],
    /// `--group-by`: the label (as given) and the group rows.
    pub groups: Option<(&'a str, &'a [GroupRow])>,
    pub unscheduled: u64,
    pub tracked_pods: u64,
    /// `--lose-each`: the last round's answers.
    pub losses: Option<&'a LossEach>,
    pub store_bytes: u64,
    pub informers: [Informer; 2],
}

/// Seconds from an event reaching the watch loop to its application: 0.1 ms
/// to about 3 s.
pub fn lag_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    context: String,
    node: String,
}

/// kube-state-metrics' labels for a resource: its name and unit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeResourceLabels {
    context: String,
    node: String,
    resource: String,
    unit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupResourceLabels {
    context: String,
    group_by: String,
    group: String,
    resource: String,
    unit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FitsLabels {
    context: String,
    shape: String,
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupFitsLabels {
    context: String,
    shape: String,
    group_by: String,
    group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShapeLabels {
    context: String,
    shape: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    context: String,
    group_by: String,
    group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ContextLabels {
    context: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LossLabels {
    context: String,
    label: String,
    value: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LossRoundLabels {
    context: String,
    label: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InformerLabels {
    context: String,
    resource: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
}

impl BuildLabels {
    fn current() -> BuildLabels {
        BuildLabels {
            version: env!("CARGO_PKG_VERSION").to_string(),
            // The release workflow sets it; a local build says so.
            revision: option_env!("PODCOUNT_REVISION").unwrap_or("unknown").to_string(),
        }
    }
}

/// `--lose-each`: each value's answer as of the last round (registered only
/// by a watch that asks). Stranded is two series: the least (Pending in
/// every order: what to alert on) and the most (where the order decides).
fn loss_metrics(reg: &mut Registry, contexts: &[Context<'_>]) {
    if contexts.iter().all(|c| c.losses.is_none()) {
        return;
    }
    let stranded = Family::<LossLabels, Gauge>::default();
    let stranded_max = Family::<LossLabels, Gauge>::default();
    let unreplaced = Family::<LossLabels, Gauge>::default();
    let displaced = Family::<LossLabels, Gauge>::default();
    let nodes = Family::<LossLabels, Gauge>::default();
    let exact = Family::<LossLabels, Gauge>::default();
    let evaluated = Family::<LossRoundLabels, Gauge>::default();
    let errors = Family::<LossRoundLabels, Gauge>::default();
    for c in contexts {
        let Some(l) = c.losses else { continue };
        let round = LossRoundLabels { context: c.context.to_string(), label: l.label.clone() };
        errors.get_or_create(&round).set(l.errors.len() as i64);
        if let Some(at) = l.evaluated_at.as_deref().and_then(crate::render::time::unix_seconds) {
            evaluated.get_or_create(&round).set(at);
        }
        for (value, loss) in &l.values {
            let v = LossLabels { context: c.context.to_string(), label: l.label.clone(), value: value.clone() };
            stranded.get_or_create(&v).set(loss.stranded.least() as i64);
            stranded_max.get_or_create(&v).set(loss.stranded.most() as i64);
            unreplaced.get_or_create(&v).set(loss.unreplaced as i64);
            displaced.get_or_create(&v).set(loss.displaced as i64);
            nodes.get_or_create(&v).set(loss.nodes as i64);
            exact.get_or_create(&v).set(i64::from(loss.exact));
        }
    }
    reg.register(
        "podcount_loss_stranded_pods",
        "--lose-each: replacements that stay Pending in every order if every node with label=value is lost",
        stranded,
    );
    reg.register(
        "podcount_loss_stranded_pods_max",
        "--lose-each: replacements that stay Pending in the worst order if every node with label=value is lost",
        stranded_max,
    );
    reg.register(
        "podcount_loss_unreplaced_pods",
        "--lose-each: pods nothing replaces if every node with label=value is lost (StatefulSets' while the nodes remain, pods with no controller)",
        unreplaced,
    );
    reg.register(
        "podcount_loss_displaced_pods",
        "--lose-each: pods taken off their nodes if every node with label=value is lost",
        displaced,
    );
    reg.register("podcount_loss_nodes", "--lose-each: the nodes with label=value", nodes);
    reg.register(
        "podcount_loss_exact",
        "--lose-each: 1 when the answer does not depend on the order replacements arrive in, else 0",
        exact,
    );
    reg.register(
        "podcount_loss_evaluated_timestamp_seconds",
        "--lose-each: when the last round ended (rounds run after a change, at most one each --lose-every)",
        evaluated,
    );
    reg.register("podcount_loss_errors", "--lose-each: values the last round could not answer", errors);
}

/// Prometheus' standard `process_*` set, as client_golang names it; each
/// absent, not 0, where the system does not say (off Linux).
fn process_metrics(reg: &mut Registry, p: &ProcessStats) {
    if let Some(bytes) = p.resident_bytes {
        let g = Gauge::<i64>::default();
        g.set(bytes as i64);
        reg.register("process_resident_memory_bytes", "Resident memory size in bytes", g.clone());
        reg.register(
            "podcount_process_resident_memory_bytes",
            "Deprecated: use process_resident_memory_bytes (removed in 0.3)",
            g,
        );
    }
    if let Some(s) = p.cpu_seconds {
        let c = Counter::<f64, AtomicU64>::default();
        c.inc_by(s);
        reg.register("process_cpu_seconds", "Total user and system CPU time spent in seconds", c);
    }
    if let Some(t) = p.start_time_seconds {
        let g = FloatGauge::default();
        g.set(t);
        reg.register("process_start_time_seconds", "Start time of the process since unix epoch in seconds", g);
    }
    if let Some(n) = p.open_fds {
        let g = Gauge::<i64>::default();
        g.set(n as i64);
        reg.register("process_open_fds", "Number of open file descriptors", g);
    }
}

/// The exposition for `contexts`, with the lag histogram and process RSS.
pub fn render(contexts: &[Context<'_>], lag: &Histogram, process: &ProcessStats) -> String {
    let mut reg = Registry::default();
    let node_pods = Family::<NodeLabels, Gauge>::default();
    let node_alloc = Family::<NodeLabels, Gauge>::default();
    let node_sat = Family::<NodeLabels, FloatGauge>::default();
    let node_requests = Family::<NodeResourceLabels, FloatGauge>::default();
    let node_limits = Family::<NodeResourceLabels, FloatGauge>::default();
    let node_res_alloc = Family::<NodeResourceLabels, FloatGauge>::default();
    let group_requests = Family::<GroupResourceLabels, FloatGauge>::default();
    let group_res_alloc = Family::<GroupResourceLabels, FloatGauge>::default();
    let node_fits = Family::<FitsLabels, Gauge>::default();
    let group_fits = Family::<GroupFitsLabels, Gauge>::default();
    let total_fits = Family::<ShapeLabels, Gauge>::default();
    let group_pods = Family::<GroupLabels, Gauge>::default();
    let group_alloc = Family::<GroupLabels, Gauge>::default();
    let group_nodes = Family::<GroupLabels, Gauge>::default();
    let group_hot = Family::<GroupLabels, Gauge>::default();
    let unscheduled = Family::<ContextLabels, Gauge>::default();
    let tracked = Family::<ContextLabels, Gauge>::default();
    let store_bytes = Family::<ContextLabels, Gauge>::default();
    let synced = Family::<InformerLabels, Gauge>::default();
    let informer_rv = Family::<InformerLabels, Gauge>::default();
    let relists = Family::<InformerLabels, Counter>::default();
    let reconnects = Family::<InformerLabels, Counter>::default();
    let events = Family::<InformerLabels, Counter>::default();
    for c in contexts {
        for r in c.rows {
            let l = NodeLabels { context: c.context.to_string(), node: r.name.clone() };
            node_pods.get_or_create(&l).set(i64::from(r.pods));
            if let Some(a) = r.allocatable {
                node_alloc.get_or_create(&l).set(i64::from(a));
            }
            if let Some(s) = r.saturation {
                node_sat.get_or_create(&l).set(s);
            }
            for (shape, more) in r.fits.iter().filter_map(|(s, m)| Some((s, (*m)?))) {
                let l = FitsLabels { context: c.context.to_string(), shape: shape.clone(), node: r.name.clone() };
                node_fits.get_or_create(&l).set(more as i64);
            }
            for (resource, row) in r.resources.iter().flat_map(|res| &res.0) {
                let l = NodeResourceLabels {
                    context: c.context.to_string(),
                    node: r.name.clone(),
                    resource: resource.to_string(),
                    unit: Unit::of(resource).label().to_string(),
                };
                node_requests.get_or_create(&l).set(base(resource, row.requests));
                if let Some(v) = row.limits {
                    node_limits.get_or_create(&l).set(base(resource, v));
                }
                // As kube-state-metrics: only what the node allocates.
                if let Some(v) = row.allocatable.filter(|&v| v > 0) {
                    node_res_alloc.get_or_create(&l).set(base(resource, v));
                }
            }
        }
        for (by, g) in c.groups.iter().flat_map(|(by, rows)| rows.iter().map(move |g| (by, g))) {
            let l = GroupLabels { context: c.context.to_string(), group_by: by.to_string(), group: g.name.clone() };
            group_pods.get_or_create(&l).set(g.pods as i64);
            group_nodes.get_or_create(&l).set(g.nodes as i64);
            group_hot.get_or_create(&l).set(g.at_or_above_threshold as i64);
            if let Some(a) = g.allocatable {
                group_alloc.get_or_create(&l).set(a as i64);
            }
            for (shape, more) in g.fits.iter().filter_map(|(s, m)| Some((s, (*m)?))) {
                let l = GroupFitsLabels {
                    context: c.context.to_string(),
                    shape: shape.clone(),
                    group_by: by.to_string(),
                    group: g.name.clone(),
                };
                group_fits.get_or_create(&l).set(more as i64);
            }
            for (resource, row) in g.resources.iter().flat_map(|res| &res.0) {
                let l = GroupResourceLabels {
                    context: c.context.to_string(),
                    group_by: by.to_string(),
                    group: g.name.clone(),
                    resource: resource.to_string(),
                    unit: Unit::of(resource).label().to_string(),
                };
                group_requests.get_or_create(&l).set(base(resource, row.requests));
                if let Some(v) = row.allocatable {
                    group_res_alloc.get_or_create(&l).set(base(resource, v));
                }
            }
        }
        for (shape, more) in fits_sum(c.rows).into_iter().filter_map(|(s, m)| Some((s, m?))) {
            total_fits.get_or_create(&ShapeLabels { context: c.context.to_string(), shape }).set(more as i64);
        }
        let l = ContextLabels { context: c.context.to_string() };
        unscheduled.get_or_create(&l).set(c.unscheduled as i64);
        tracked.get_or_create(&l).set(c.tracked_pods as i64);
        store_bytes.get_or_create(&l).set(c.store_bytes as i64);
        for i in &c.informers {
            let l = InformerLabels { context: c.context.to_string(), resource: i.resource.to_string() };
            synced.get_or_create(&l).set(i64::from(i.synced));
            if let Some(rv) = i.resource_version {
                informer_rv.get_or_create(&l).set(rv as i64);
            }
            relists.get_or_create(&l).inc_by(i.relists);
            reconnects.get_or_create(&l).inc_by(i.reconnects);
            events.get_or_create(&l).inc_by(i.events);
        }
    }
    reg.register(
        "podcount_node_pods",
        "Pods counted against the node (spec.nodeName set, phase neither Succeeded nor Failed)",
        node_pods,
    );
    reg.register("podcount_node_allocatable_pods", "The node's status.allocatable.pods", node_alloc);
    reg.register("podcount_node_saturation_ratio", "podcount_node_pods / podcount_node_allocatable_pods", node_sat);
    reg.register(
        "podcount_node_resource_requests",
        "What the node's counted pods request, by kube-scheduler's rule (with --resources)",
        node_requests,
    );
    reg.register("podcount_node_resource_limits", "The node's counted pods' limits (with --limits)", node_limits);
    reg.register(
        "podcount_node_resource_allocatable",
        "The node's status.allocatable (with --resources)",
        node_res_alloc,
    );
    reg.register("podcount_group_resource_requests", "Requests on the nodes of a --group-by group", group_requests);
    reg.register("podcount_group_resource_allocatable", "Allocatable of the group's nodes", group_res_alloc);
    reg.register("podcount_node_fits", "How many more pods of the --fits shape the node admits", node_fits.clone());
    reg.register("podcount_fits", "Deprecated: use podcount_node_fits (the same series; removed in 0.3)", node_fits);
    reg.register("podcount_group_fits", "How many more pods of the --fits shape the group's nodes admit", group_fits);
    reg.register("podcount_cluster_fits", "How many more pods of the --fits shape the cluster admits", total_fits);
    reg.register("podcount_group_pods", "Pods on the nodes of a --group-by group", group_pods);
    reg.register("podcount_group_allocatable_pods", "Allocatable pods of the group's nodes", group_alloc);
    reg.register("podcount_group_nodes", "Nodes in the group", group_nodes);
    reg.register(
        "podcount_group_nodes_at_or_above_threshold",
        "The group's nodes at or above --until-saturated (else 90%)",
        group_hot,
    );
    reg.register("podcount_unscheduled_pods", "Unfinished pods bound to no node", unscheduled);
    reg.register("podcount_store_pods", "Pods the watch tracks (unfinished pods in the view)", tracked);
    reg.register("podcount_store_bytes", "Bytes of the watch's pod map allocation", store_bytes);
    reg.register("podcount_informer_synced", "1 when the informer is synced and its watch is open, else 0", synced);
    reg.register(
        "podcount_informer_resource_version",
        "The resourceVersion of the last event applied to the informer's store (what its answers are exact at)",
        informer_rv,
    );
    reg.register("podcount_informer_relists", "Full relists (start, 410 Gone, no resourceVersion to resume)", relists);
    reg.register("podcount_informer_reconnects", "Watch failures retried (dropped, silent, 5xx)", reconnects);
    reg.register("podcount_informer_events", "Events applied (list pages count their objects)", events);
    reg.register(
        "podcount_event_apply_lag_seconds",
        "From an event reaching the watch loop to its application",
        lag.clone(),
    );
    loss_metrics(&mut reg, contexts);
    let build = Family::<BuildLabels, Gauge>::default();
    build.get_or_create(&BuildLabels::current()).set(1);
    reg.register("podcount_build_info", "The version and revision podcount was built from", build);
    process_metrics(&mut reg, process);
    let mut out = String::new();
    encode(&mut out, &reg).expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, pods: u32, alloc: u32) -> NodeRow {
        NodeRow::sample(name, pods, alloc)
    }

    #[test]
    fn writes_every_family_with_context_and_node_labels() {
        let rows = [row("n1", 99, 110), row("n2", 0, 0)];
        let informers = [
            Informer {
                resource: "pods",
                synced: true,
                resource_version: Some(4711),
                relists: 1,
                reconnects: 2,
                events: 300,
            },
            Informer { resource: "nodes", synced: false, resource_version: None, relists: 1, reconnects: 0, events: 2 },
        ];
        let key = crate::report::group::GroupKey::parse("zone");
        let groups = crate::report::group::groups(&rows, &key, crate::report::percent::Percent::SATURATED);
        let c = Context {
            context: "prod",
            rows: &rows,
            groups: Some(("zone", &groups)),
            unscheduled: 4,
            tracked_pods: 103,
            losses: None,
            store_bytes: 2688,
            informers,
        };
        let lag = lag_histogram();
        lag.observe(0.0002);
        let process = ProcessStats {
            resident_bytes: Some(17 << 20),
            cpu_seconds: Some(1.5),
            start_time_seconds: Some(1.7e9),
            open_fds: Some(9),
        };
        let text = render(&[c], &lag, &process);
        for want in [
            r#"podcount_node_pods{context="prod",node="n1"} 99"#,
            r#"podcount_node_allocatable_pods{context="prod",node="n1"} 110"#,
            r#"podcount_node_saturation_ratio{context="prod",node="n1"} 0.9"#,
            r#"podcount_unscheduled_pods{context="prod"} 4"#,
            r#"podcount_store_pods{context="prod"} 103"#,
            r#"podcount_informer_synced{context="prod",resource="nodes"} 0"#,
            r#"podcount_informer_resource_version{context="prod",resource="pods"} 4711"#,
            r#"podcount_informer_reconnects_total{context="prod",resource="pods"} 2"#,
            r#"podcount_informer_events_total{context="prod",resource="pods"} 300"#,
            "podcount_event_apply_lag_seconds_count 1",
            "process_resident_memory_bytes 17825792",
            "podcount_process_resident_memory_bytes 17825792",
            "process_cpu_seconds_total 1.5",
            "process_start_time_seconds 1700000000.0",
            "process_open_fds 9",
            concat!(r#"podcount_build_info{version=""#, env!("CARGO_PKG_VERSION"), r#"",revision="unknown"} 1"#),
            r#"podcount_group_pods{context="prod",group_by="zone",group="<none>"} 99"#,
            r#"podcount_group_nodes_at_or_above_threshold{context="prod",group_by="zone",group="<none>"} 1"#,
            "# EOF",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        // No allocatable: no saturation sample for that node.
        assert!(!text.contains(r#"podcount_node_saturation_ratio{context="prod",node="n2"}"#));
        // Off Linux the resident size is unknown: absent, not 0.
        let text = render(&[], &lag, &ProcessStats::default());
        assert!(!text.contains("process_"), "{text}");
        assert!(!text.contains("podcount_loss_"), "no --lose-each, no loss families:\n{text}");
    }

    #[test]
    fn each_loss_is_a_series_a_value_and_the_round_says_when() {
        use crate::report::loss::{Loss, LossEach};
        use crate::report::release::Count;
        let loss = |stranded, unreplaced, exact| Loss {
            nodes: 3,
            displaced: 40,
            stranded,
            unreplaced,
            exact,
            short: Default::default(),
            lost: vec![],
        };
        let mut l = LossEach { label: "topology.kubernetes.io/zone".into(), ..Default::default() };
        l.values.insert("a".into(), loss(Count::Range([2, 5]), 1, false));
        l.values.insert("b".into(), loss(Count::One(0), 0, true));
        l.errors.insert("c".into(), "forbidden".into());
        l.evaluated_at = Some("2026-12-07T10:00:00.000Z".into());
        let informers = [Informer::default(); 2];
        let c = Context {
            context: "prod",
            rows: &[],
            groups: None,
            unscheduled: 0,
            tracked_pods: 0,
            losses: Some(&l),
            store_bytes: 0,
            informers,
        };
        let text = render(&[c], &lag_histogram(), &ProcessStats::default());
        let at = r#"{context="prod",label="topology.kubernetes.io/zone",value="a"}"#;
        for want in [
            format!("podcount_loss_stranded_pods{at} 2"),
            format!("podcount_loss_stranded_pods_max{at} 5"),
            format!("podcount_loss_unreplaced_pods{at} 1"),
            format!("podcount_loss_displaced_pods{at} 40"),
            format!("podcount_loss_nodes{at} 3"),
            format!("podcount_loss_exact{at} 0"),
            format!("podcount_loss_exact{} 1", at.replace("\"a\"", "\"b\"")),
            r#"podcount_loss_evaluated_timestamp_seconds{context="prod",label="topology.kubernetes.io/zone"} 1796637600"#.into(),
            r#"podcount_loss_errors{context="prod",label="topology.kubernetes.io/zone"} 1"#.into(),
        ] {
            assert!(text.contains(&want), "{want} missing from\n{text}");
        }
        assert!(!text.contains(r#"value="c""#), "a value not answered has no series:\n{text}");
    }

    #[test]
    fn the_text_format_names_counters_by_their_samples() {
        let om = "# HELP podcount_informer_relists Full relists.\n# TYPE podcount_informer_relists counter\n\
                  podcount_informer_relists_total{resource=\"pods\"} 1\n# HELP podcount_node_pods Pods.\n\
                  # TYPE podcount_node_pods gauge\n# UNIT podcount_node_pods pods\npodcount_node_pods{node=\"a\"} 3\n# EOF\n";
        let text = to_text_format(om);
        assert_eq!(
            text,
            "# HELP podcount_informer_relists_total Full relists.\n# TYPE podcount_informer_relists_total counter\n\
             podcount_informer_relists_total{resource=\"pods\"} 1\n# HELP podcount_node_pods Pods.\n\
             # TYPE podcount_node_pods gauge\npodcount_node_pods{node=\"a\"} 3\n"
        );
        assert!(wants_openmetrics(Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")));
        assert!(!wants_openmetrics(Some("*/*")) && !wants_openmetrics(None));
    }
}
