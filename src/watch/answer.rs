//! `--listen`'s questions answered by the watch loop from its stores:
//! readiness, the `podcount/v1` document, the Prometheus exposition.

use http::StatusCode;
use serde_json::json;

use super::cluster::{Cluster, Counters};
use super::loss::Losses;
use super::metrics;
use super::serve::{Answer, Parts, Query, text};
use super::view::View;
use crate::render::document::{self, Format};
use crate::report::Counted;

/// Answers one query; a client that went away is not an error.
pub fn answer(
    q: Query,
    clusters: &[Cluster],
    view: &View,
    several: bool,
    lag: &metrics::Histogram,
    losses: Option<&Losses>,
) {
    let not_ready: Vec<String> = clusters.iter().filter_map(|c| c.readiness().why(c.context())).collect();
    match q {
        Query::Ready(reply) => {
            let a = if not_ready.is_empty() {
                text(StatusCode::OK, "ok")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}", not_ready.join("; ")))
            };
            let _ = reply.send(a);
        }
        Query::PodCount(reply, parts) => {
            let _ = reply.send(podcount(clusters, view, parts, several, &not_ready, losses));
        }
        Query::Metrics(reply) => {
            let body = exposition(clusters, view, lag, losses);
            let _ = reply.send((StatusCode::OK, metrics::CONTENT_TYPE, body));
        }
    }
}

/// The PodCount document `count -o json` prints (less what `parts` leaves
/// out), or 503 (a Status) while any informer is not current.
fn podcount(
    clusters: &[Cluster],
    view: &View,
    parts: Parts,
    several: bool,
    not_ready: &[String],
    losses: Option<&Losses>,
) -> Answer {
    if !not_ready.is_empty() {
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 503,
            "message": format!("not synced: {}", not_ready.join("; "))});
        return (StatusCode::SERVICE_UNAVAILABLE, "application/json", status.to_string() + "\n");
    }
    let asked = View {
        resources: view.resources.clone().filter(|_| parts.resources),
        fits: view.fits && parts.fits,
        ..view.clone()
    };
    let counted: Vec<Counted> = clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut counted = c.document_view(&asked);
            counted.groups = view.grouped(&counted.rows);
            counted.loss_each = losses.and_then(|l| l.doc(i)).cloned();
            counted
        })
        .collect();
    (StatusCode::OK, "application/json", document::render(&counted, several, Format::Json))
}

/// `/metrics`: every cluster's rows, groups and informer health.
fn exposition(clusters: &[Cluster], view: &View, lag: &metrics::Histogram, losses: Option<&Losses>) -> String {
    let views: Vec<(Counted, &Cluster)> = clusters
        .iter()
        .map(|c| {
            let mut counted = c.counted(view);
            counted.groups = view.grouped(&counted.rows);
            (counted, c)
        })
        .collect();
    let informer = |resource, counters: Counters, synced, rv: &str| metrics::Informer {
        resource,
        synced,
        resource_version: rv.parse().ok(),
        relists: counters.relists,
        reconnects: counters.reconnects,
        events: counters.events,
    };
    let contexts: Vec<metrics::Context> = views
        .iter()
        .enumerate()
        .map(|(i, (v, c))| {
            let ready = c.readiness();
            metrics::Context {
                context: c.context(),
                rows: &v.rows,
                groups: v.groups.as_ref().map(|g| (g.by.as_str(), g.rows.as_slice())),
                unscheduled: v.unscheduled,
                tracked_pods: c.pods().live().len() as u64,
                losses: losses.and_then(|l| l.doc(i)),
                store_bytes: c.pods().live().allocated_bytes() as u64,
                informers: [
                    informer("pods", c.counters().0, ready.pods.is_none(), c.pods().resource_version()),
                    informer("nodes", c.counters().1, ready.nodes.is_none(), c.nodes().resource_version()),
                ],
            }
        })
        .collect();
    metrics::render(&contexts, lag, &crate::process::stats())
}
