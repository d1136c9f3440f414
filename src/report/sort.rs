//! Row order (`--sort-by`), the same for node rows and group rows.

/// How rows are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Name,
    Pods,
    Free,
    Saturation,
    /// Most room for `--fits` first (with several shapes, the one that fits
    /// least); nodes that cannot say last.
    Fits,
}

/// What `--sort-by` sorts on, for node rows and group rows alike.
pub trait Sortable {
    fn name(&self) -> &str;
    fn pods(&self) -> u64;
    fn free(&self) -> Option<i64>;
    fn saturation(&self) -> Option<f64>;
    /// The fewest more pods of any `--fits` shape.
    fn fits(&self) -> Option<u64>;
}

/// The least of a row's fits, for sorting: None when a shape's is unknown.
pub fn least_fits(fits: &std::collections::BTreeMap<String, Option<u64>>) -> Option<u64> {
    fits.values().try_fold(u64::MAX, |least, f| Some(least.min((*f)?))).filter(|_| !fits.is_empty())
}

/// Name ascending; pods and saturation fullest first; free least first;
/// fits most first.
/// Ties break by name so output is stable. Unknown allocatable sorts as fullest.
pub fn sort_rows<T: Sortable>(rows: &mut [T], by: SortBy) {
    let sat = |r: &T| r.saturation().unwrap_or(f64::INFINITY);
    // Unstable: ties break by name, and a stable sort would take a buffer
    // of half the rows (1.2 MB at 5,000 nodes).
    rows.sort_unstable_by(|a, b| {
        let primary = match by {
            SortBy::Name => std::cmp::Ordering::Equal,
            SortBy::Pods => b.pods().cmp(&a.pods()),
            SortBy::Free => a.free().unwrap_or(i64::MIN).cmp(&b.free().unwrap_or(i64::MIN)),
            SortBy::Saturation => sat(b).total_cmp(&sat(a)),
            SortBy::Fits => b.fits().cmp(&a.fits()),
        };
        primary.then_with(|| a.name().cmp(b.name()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Bucket;
    use crate::report::rows::{Extra, NodeRow, rows};
    use crate::report::testing::{info, tally};

    #[test]
    fn sorting() {
        let t = tally(&[("a", Bucket::Running), ("b", Bucket::Running), ("b", Bucket::Running)]);
        let nodes = [info("c", Some(1), true, true), info("b", Some(10), true, true), info("a", Some(2), true, true)];
        let mut r = rows(&t, Some(&nodes), true, &Extra::default());
        let names = |r: &[NodeRow]| r.iter().map(|r| r.name.clone()).collect::<Vec<_>>().join(",");
        sort_rows(&mut r, SortBy::Name);
        assert_eq!(names(&r), "a,b,c");
        sort_rows(&mut r, SortBy::Pods);
        assert_eq!(names(&r), "b,a,c");
        sort_rows(&mut r, SortBy::Free);
        assert_eq!(names(&r), "a,c,b");
        sort_rows(&mut r, SortBy::Saturation);
        assert_eq!(names(&r), "a,b,c");
        let fits = [("a", vec![Some(3), Some(1)]), ("b", vec![Some(2), Some(5)]), ("c", vec![None, Some(9)])];
        for row in r.iter_mut() {
            let f = &fits.iter().find(|(n, _)| *n == row.name).unwrap().1;
            row.fits = f.iter().enumerate().map(|(i, m)| (format!("s{i}"), *m)).collect();
        }
        sort_rows(&mut r, SortBy::Fits);
        assert_eq!(names(&r), "b,a,c", "b admits 2 of each, a 1 of one; c cannot say");
    }
}
