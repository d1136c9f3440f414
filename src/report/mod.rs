//! From a tally and the node list to what every output prints: one row per
//! node ([`rows`]), groups by a node label ([`group`]), the saturation
//! histogram ([`histogram`]), row order ([`sort`]), the thresholds' verdict
//! ([`verdict`]), one counted cluster ([`Counted`]) and its ratios to four
//! decimals ([`ratio`]). Pure.

mod counted;
pub mod fits;
pub mod group;
pub mod histogram;
pub mod loss;
pub mod percent;
pub mod ratio;
pub mod release;
pub mod resources;
pub mod rows;
pub mod sort;
pub mod verdict;
pub mod whatif;

pub use counted::Counted;
pub use ratio::round4;

/// What the report's tests build rows from.
#[cfg(test)]
pub(crate) mod testing {
    use crate::model::node::NodeInfo;
    use crate::model::pod::{Bucket, Contribution};
    use crate::model::tally::Tally;

    pub fn info(name: &str, alloc: Option<u32>, ready: bool, schedulable: bool) -> NodeInfo {
        NodeInfo { name: name.into(), allocatable: alloc, ready, schedulable, ..Default::default() }
    }

    pub fn tally(pods: &[(&str, Bucket)]) -> Tally<String> {
        let mut t = Tally::new();
        for (n, b) in pods {
            t.add(Contribution::Node { node: *n, bucket: *b, daemon_set: false, host_network: false });
        }
        t
    }
}
