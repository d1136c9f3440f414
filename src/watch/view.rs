//! What `watch`'s flags ask of the view: grouping, the threshold groups
//! count against, the filter that keeps nodes out of the lines, row order.

use crate::model::filter::Filter;
use crate::model::node::NodeInfo;
use crate::report::group::{GroupKey, Grouped, grouped};
use crate::report::percent::Percent;
use crate::report::resources::{Selection, Shown, shown};
use crate::report::rows::NodeRow;
use crate::report::sort::SortBy;

/// How the counts are drawn: what `watch`'s flags ask of the view.
#[derive(Clone)]
pub struct View {
    pub group_key: Option<GroupKey>,
    /// `atOrAboveThreshold` of groups and red cells: `--until-saturated`,
    /// else [`Percent::SATURATED`].
    pub threshold: Percent,
    /// The filters (`--schedulable-only` leaves closed nodes out of the lines).
    pub filter: Filter,
    pub sort: SortBy,
    /// `--resources`: which resources the rows and lines carry.
    pub resources: Option<Selection>,
    pub limits: bool,
    /// `--fits`: the rows carry the shapes' answers (each cluster holds its
    /// own shapes, read from its own facts).
    pub fits: bool,
}

impl View {
    /// `--group-by`: the rows grouped, in `--sort-by` order.
    pub fn grouped(&self, rows: &[NodeRow]) -> Option<Grouped> {
        Some(grouped(rows, self.group_key.as_ref()?, self.threshold, &self.sort))
    }
}

impl View {
    /// The resources shown for a cluster with these nodes and requested
    /// names; a named resource the cluster lacks is shown anyway (unknown),
    /// since clusters change under a running watch. [`View::check`] refuses
    /// it at the start.
    pub fn shown<'n>(&self, nodes: impl IntoIterator<Item = &'n NodeInfo>, requested: Vec<&'n str>) -> Option<Shown> {
        let selection = self.resources.as_ref()?;
        let lenient = || match selection {
            Selection::Named(names) => Shown { names: names.clone(), limits: self.limits },
            _ => Shown::default(),
        };
        Some(shown(selection, self.limits, nodes, requested, &[]).unwrap_or_else(|_| lenient()))
    }

    /// At the first sync: a named resource the cluster lacks is an error.
    pub fn check<'n>(
        &self,
        nodes: impl IntoIterator<Item = &'n NodeInfo>,
        requested: Vec<&'n str>,
    ) -> Result<(), String> {
        match &self.resources {
            Some(selection) => shown(selection, self.limits, nodes, requested, &[]).map(|_| ()),
            None => Ok(()),
        }
    }
}
