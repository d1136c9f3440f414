//! `bench`'s table: one row per strategy run, in the one table style.

use super::summary::Summary;
use crate::render::style::{kubectl_columns, lines, new_table};

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The comparison as a table, under a line saying what was measured where.
pub fn table(
    s: &[Summary],
    context: &str,
    server: &str,
    nodes: usize,
    pods: u64,
    date: &str,
    iterations: u32,
) -> String {
    let mut t = new_table(false);
    t.set_header([
        "STRATEGY",
        "MIN",
        "MEDIAN",
        "P95",
        "RATIO",
        "OVER FLOOR",
        "REQUESTS",
        "BYTES",
        "PEAK RSS",
        "STEADY RSS",
        "B/POD",
        "QUERY",
        "AGREES",
    ]);
    for r in s {
        if let Some(why) = &r.failed {
            t.add_row([r.label.clone(), format!("failed: {why}")]);
            continue;
        }
        if let Some(why) = &r.skipped {
            t.add_row([r.label.clone(), format!("skipped: {why}")]);
            continue;
        }
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let rss = |v: Option<u64>| v.map_or_else(|| "unknown".into(), mib);
        t.add_row([
            r.label.clone(),
            format!("{:.3}s", r.min_seconds),
            format!("{:.3}s", r.median_seconds),
            format!("{:.3}s", r.p95_seconds),
            opt(r.ratio.map(|x| format!("{x:.2}x"))),
            opt(r.over_floor.map(|x| format!("{x:.2}x"))),
            r.requests.to_string(),
            mib(r.bytes / 1024),
            rss(r.peak_rss_kib),
            rss(r.steady_rss_kib),
            opt(r.store_bytes_per_pod.map(|b| format!("{b:.0}"))),
            opt(r.query_micros.map(|q| format!("{q:.0}us"))),
            match (&r.disagrees, &r.note) {
                (Some(d), _) => format!("NO: {d}"),
                (None, _) if r.decode == "none" || r.strategy == "nodes" => "-".into(),
                (None, Some(note)) => format!("yes; {note}"),
                (None, None) => "yes".into(),
            },
        ]);
    }
    kubectl_columns(&mut t);
    let mut out = format!(
        "context {context}, Kubernetes {server}, {nodes} nodes, {pods} counted pods, {date}, {iterations} iterations\n\n"
    );
    out.push_str(&lines(&t));
    out
}
