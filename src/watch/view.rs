//! What `watch`'s flags ask of the view: grouping, the threshold groups
//! count against, the filter that keeps nodes out of the lines, row order.

use crate::model::filter::Filter;
use crate::report::group::{GroupKey, Grouped, grouped};
use crate::report::rows::NodeRow;
use crate::report::sort::SortBy;

/// How the counts are drawn: what `watch`'s flags ask of the view.
pub struct View {
    pub group_key: Option<GroupKey>,
    /// `atOrAboveThreshold` of groups: `--until-saturated`, else 90 (%).
    pub threshold_pct: f64,
    /// The filters (`--schedulable-only` leaves closed nodes out of the lines).
    pub filter: Filter,
    pub sort: SortBy,
}

impl View {
    /// `--group-by`: the rows grouped, in `--sort-by` order.
    pub fn grouped(&self, rows: &[NodeRow]) -> Option<Grouped> {
        Some(grouped(rows, self.group_key.as_ref()?, self.threshold_pct, self.sort))
    }
}
