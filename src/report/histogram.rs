//! How the nodes spread over saturation ranges: the histogram under a
//! terminal table and `saturationHistogram` in the documents.

use serde::{Deserialize, Serialize};

use super::rows::NodeRow;

/// The saturation ranges of the histogram, in order.
pub const RANGES: [&str; 6] = ["0-50%", "50-80%", "80-90%", "90-100%", "full", "over"];

/// How many nodes sit in one saturation range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaturationRange {
    pub range: String,
    pub nodes: u64,
}

/// Which of [`RANGES`] `pods` of `allocatable` falls in (exact integer
/// comparisons: 99 of 110 is 90 %, in 90-100%).
fn range_of(pods: u64, allocatable: u64) -> usize {
    if 2 * pods < allocatable {
        0
    } else if 5 * pods < 4 * allocatable {
        1
    } else if 10 * pods < 9 * allocatable {
        2
    } else if pods < allocatable {
        3
    } else if pods == allocatable {
        4
    } else {
        5
    }
}

/// Nodes per saturation range. Nodes without a known allocatable (missing
/// from the node list, or reporting none) are in no range.
pub fn histogram(rows: &[NodeRow]) -> Vec<SaturationRange> {
    let mut n = [0u64; RANGES.len()];
    for r in rows {
        if let Some(a) = r.allocatable.filter(|&a| a > 0) {
            n[range_of(u64::from(r.pods), u64::from(a))] += 1;
        }
    }
    RANGES.iter().zip(n).map(|(range, nodes)| SaturationRange { range: range.to_string(), nodes }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Bucket;
    use crate::report::rows::{Extra, rows};
    use crate::report::testing::{info, tally};

    #[test]
    fn histogram_ranges_are_exact_at_their_edges() {
        let cases = [(0, 110, 0), (54, 110, 0), (55, 110, 1), (87, 110, 1), (88, 110, 2), (98, 110, 2), (99, 110, 3)];
        for (pods, alloc, want) in cases {
            assert_eq!(range_of(pods, alloc), want, "{pods}/{alloc}");
        }
        assert_eq!((range_of(109, 110), range_of(110, 110), range_of(111, 110)), (3, 4, 5));
        let t = tally(&[("a", Bucket::Running), ("a", Bucket::Running), ("ghost", Bucket::Running)]);
        let nodes = [info("a", Some(2), true, true), info("b", Some(110), true, true), info("c", None, true, true)];
        let h = histogram(&rows(&t, Some(&nodes), true, &Extra::default()));
        let counts: Vec<u64> = h.iter().map(|r| r.nodes).collect();
        // a is full, b empty; c (no allocatable) and ghost (missing) are in no range.
        assert_eq!(counts, [1, 0, 0, 0, 1, 0]);
        assert_eq!(h[4].range, "full");
    }
}
