//! What the user sees: the `podcount/v1` documents ([`document`]), tables
//! ([`table`], styled by [`style`]), CSV ([`csv`]), the progress spinner
//! ([`progress`]) and the one timestamp format ([`time`]). Pure but for the
//! spinner: rows in, strings out.

pub mod cells;
pub mod csv;
pub mod document;
pub mod jsonpath;
pub mod progress;
pub mod style;
pub mod table;
pub mod time;

/// Counted clusters the render tests print.
#[cfg(test)]
pub(crate) mod testing {
    use crate::model::filter::Filter;
    use crate::report::Counted;
    use crate::report::rows::NodeRow;

    pub fn row(name: &str, pods: u32, alloc: u32, status: &str, missing: bool) -> NodeRow {
        NodeRow {
            running: pods.saturating_sub(2),
            pending: pods.min(1),
            terminating: pods.min(2) - pods.min(1),
            daemon_set: pods.min(1),
            ready: (!missing).then(|| status.starts_with("Ready")),
            schedulable: (!missing).then(|| !status.contains("Disabled")),
            allocatable: (alloc > 0).then_some(alloc),
            free: (alloc > 0).then(|| i64::from(alloc) - i64::from(pods)),
            saturation: (alloc > 0).then(|| f64::from(pods) / f64::from(alloc)),
            taints: (!missing).then(Vec::new),
            missing,
            status: status.into(),
            ..NodeRow::sample(name, pods, alloc)
        }
    }

    pub fn counted(context: &str) -> Counted {
        Counted {
            context: context.into(),
            cluster_id: None,
            observed_at: "2026-11-27T12:00:00Z".into(),
            resource_version: Some("1234".into()),
            node_resource_version: None,
            filter: Filter { namespace: Some("web".into()), ..Default::default() },
            groups: None,
            left_out: None,
            shapes: Vec::new(),
            answers: Default::default(),
            release: None,
            what_if: None,
            loss_each: None,
            rows: vec![
                row("node-0000", 110, 110, "Ready", false),
                row("node-0001", 0, 30, "NotReady,SchedulingDisabled", false),
                row("ghost", 3, 0, "Missing", true),
            ],
            unscheduled: 7,
        }
    }
}
