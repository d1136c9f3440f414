//! Row order (`--sort-by`), the same for node rows and group rows.

/// How rows are ordered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Name,
    Pods,
    Free,
    Saturation,
    /// Most room for `--fits` first (with several shapes, the one that fits
    /// least); nodes that cannot say last.
    Fits,
    /// A resource (`cpu`, `memory`, `nvidia.com/gpu`): its requested share
    /// of allocatable, fullest first; rows that allocate none of it, or
    /// whose allocatable is unknown, last.
    Resource(String),
}

impl SortBy {
    /// The orders `--sort-by` names; anything else is a resource name.
    pub const NAMED: [(&'static str, SortBy); 5] = [
        ("name", SortBy::Name),
        ("pods", SortBy::Pods),
        ("free", SortBy::Free),
        ("saturation", SortBy::Saturation),
        ("fits", SortBy::Fits),
    ];

    /// `--sort-by WORD`: a named order, or a resource a pod can request.
    pub fn parse(s: &str) -> Result<SortBy, String> {
        let s = s.trim();
        if let Some((_, by)) = SortBy::NAMED.iter().find(|(n, _)| *n == s) {
            return Ok(by.clone());
        }
        if crate::model::fits::known_resource(s) {
            return Ok(SortBy::Resource(s.to_string()));
        }
        Err("expected name, pods, free, saturation, fits, or a resource name (cpu, memory, ephemeral-storage, hugepages-<size>, or a domain-prefixed name such as nvidia.com/gpu)".into())
    }

    /// The resource this order reads, if it is one.
    pub fn resource(&self) -> Option<&str> {
        match self {
            SortBy::Resource(r) => Some(r),
            _ => None,
        }
    }
}

/// What `--sort-by` sorts on, for node rows and group rows alike.
pub trait Sortable {
    fn name(&self) -> &str;
    fn pods(&self) -> u64;
    fn free(&self) -> Option<i64>;
    fn saturation(&self) -> Option<f64>;
    /// The fewest more pods of any `--fits` shape.
    fn fits(&self) -> Option<u64>;
    /// One resource's requests over allocatable (`--resources`).
    fn resource_saturation(&self, name: &str) -> Option<f64>;
}

/// The least of a row's fits, for sorting: None when a shape's is unknown.
pub fn least_fits(fits: &std::collections::BTreeMap<String, Option<u64>>) -> Option<u64> {
    fits.values().try_fold(u64::MAX, |least, f| Some(least.min((*f)?))).filter(|_| !fits.is_empty())
}

/// Name ascending; pods, saturation and a resource fullest first; free
/// least first; fits most first.
/// Ties break by name so output is stable. Unknown allocatable pods sort as
/// fullest; a resource the row does not allocate (or whose allocatable is
/// unknown) sorts last.
pub fn sort_rows<T: Sortable>(rows: &mut [T], by: &SortBy) {
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
            SortBy::Resource(n) => {
                let share = |r: &T| r.resource_saturation(n).unwrap_or(f64::NEG_INFINITY);
                share(b).total_cmp(&share(a))
            }
        };
        primary.then_with(|| a.name().cmp(b.name()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Bucket;
    use crate::report::resources::{ResourceRow, Resources};
    use crate::report::rows::{Extra, NodeRow, rows};
    use crate::report::testing::{info, tally};

    #[test]
    fn sorting() {
        let t = tally(&[("a", Bucket::Running), ("b", Bucket::Running), ("b", Bucket::Running)]);
        let nodes = [info("c", Some(1), true, true), info("b", Some(10), true, true), info("a", Some(2), true, true)];
        let mut r = rows(&t, Some(&nodes), true, &Extra::default());
        let names = |r: &[NodeRow]| r.iter().map(|r| r.name.clone()).collect::<Vec<_>>().join(",");
        sort_rows(&mut r, &SortBy::Name);
        assert_eq!(names(&r), "a,b,c");
        sort_rows(&mut r, &SortBy::Pods);
        assert_eq!(names(&r), "b,a,c");
        sort_rows(&mut r, &SortBy::Free);
        assert_eq!(names(&r), "a,c,b");
        sort_rows(&mut r, &SortBy::Saturation);
        assert_eq!(names(&r), "a,b,c");
        let fits = [("a", vec![Some(3), Some(1)]), ("b", vec![Some(2), Some(5)]), ("c", vec![None, Some(9)])];
        for row in r.iter_mut() {
            let f = &fits.iter().find(|(n, _)| *n == row.name).unwrap().1;
            row.fits = f.iter().enumerate().map(|(i, m)| (format!("s{i}"), *m)).collect();
        }
        sort_rows(&mut r, &SortBy::Fits);
        assert_eq!(names(&r), "b,a,c", "b admits 2 of each, a 1 of one; c cannot say");
        // By cpu's requested share: c allocates none (last), a is at 3/4, b at 1/2.
        let cpu = [("a", Some((3, 4))), ("b", Some((5, 10))), ("c", None)];
        for row in r.iter_mut() {
            let share = cpu.iter().find(|(n, _)| *n == row.name).unwrap().1;
            let mut res = crate::model::vecmap::VecMap::new();
            res.insert(
                "cpu".into(),
                ResourceRow { requests: share.map_or(0, |s| s.0), limits: None, allocatable: share.map(|s| s.1) },
            );
            row.resources = Some(Resources(res));
        }
        sort_rows(&mut r, &SortBy::parse("cpu").unwrap());
        assert_eq!(names(&r), "a,b,c");
        sort_rows(&mut r, &SortBy::parse("memory").unwrap());
        assert_eq!(names(&r), "a,b,c", "no row has memory: by name");
    }

    #[test]
    fn sort_words() {
        assert_eq!(SortBy::parse("fits"), Ok(SortBy::Fits));
        assert_eq!(SortBy::parse("nvidia.com/gpu"), Ok(SortBy::Resource("nvidia.com/gpu".into())));
        assert_eq!(SortBy::parse("hugepages-2Mi").unwrap().resource(), Some("hugepages-2Mi"));
        let e = SortBy::parse("gpu").unwrap_err();
        assert!(e.contains("expected name, pods, free, saturation, fits, or a resource name"), "{e}");
    }
}
