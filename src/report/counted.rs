//! One counted cluster, ready to print: what every output (table, document,
//! CSV, `/v1/podcount`) is rendered from.

use std::collections::BTreeMap;

use super::fits::FitsAnswer;
use super::group::Grouped;
use super::rows::{NodeRow, Totals, totals};
use crate::model::filter::Filter;
use crate::model::fits::Shape;

/// One counted cluster, ready to print.
#[derive(Clone, Debug, PartialEq)]
pub struct Counted {
    pub context: String,
    /// Which cluster it is, as the cluster says (its kube-system
    /// namespace's UID): a watch serves it so that `count --from` can match
    /// clusters whatever their contexts are called. None where not read.
    pub cluster_id: Option<String>,
    /// RFC 3339, UTC, milliseconds (as `render::time::now` writes it).
    pub observed_at: String,
    /// The pods' resourceVersion the counts are exact at.
    pub resource_version: Option<String>,
    /// The nodes' resourceVersion the allocatable and labels are exact at.
    pub node_resource_version: Option<String>,
    pub filter: Filter,
    pub rows: Vec<NodeRow>,
    pub unscheduled: u64,
    /// `--group-by`: what by, and the rows grouped.
    pub groups: Option<Grouped>,
    /// `--schedulable-only`: how many cordoned or tainted nodes were left out.
    pub left_out: Option<u64>,
    /// `--fits`: the shapes the rows' `fits` are about.
    pub shapes: Vec<Shape>,
    /// `--fits`: per shape, the answer over the cluster (how many more,
    /// exact or a bound and why); a shape without one sums its rows.
    pub answers: BTreeMap<String, FitsAnswer>,
    /// `--fits-release`: how its workloads land over every order.
    pub release: Option<super::release::Release>,
    /// `--drain`/`--lose`: what the removal displaces and where it lands.
    pub what_if: Option<super::whatif::WhatIf>,
    /// `watch --lose-each`: what losing each value of a node label does.
    pub loss_each: Option<super::loss::LossEach>,
}

impl Counted {
    /// The rows' totals, with each shape's fits from its answer.
    pub fn totals(&self) -> Totals {
        let mut t = totals(&self.rows);
        for (shape, a) in &self.answers {
            t.fits.insert(shape.clone(), a.more);
        }
        t
    }
}
