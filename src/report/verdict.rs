//! Thresholds for CI: which counted nodes breach `--max-saturation` or
//! `--min-free` (and watch's `--until-saturated`), and what cannot be judged
//! without the node list. Pure; the caller turns breaches into exit code 1.

use super::rows::NodeRow;
use crate::error::Error;

/// A percentage given as `90` or `90%` (0 to 100, fractions allowed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percent(pub f64);

impl std::str::FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n = s.trim().strip_suffix('%').unwrap_or(s.trim());
        match n.parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Ok(Percent(v)),
            _ => Err(format!("expected a percentage from 0 to 100, such as 90 or 90%, not {s:?}")),
        }
    }
}

/// `watch --until-saturated`: the first node (name, pods, allocatable) above
/// `pct`, as the line to print. Nodes without allocatable are not judged.
pub fn first_saturated<'a>(
    pct: Percent,
    context: Option<&str>,
    nodes: impl IntoIterator<Item = (&'a str, u32, Option<u32>)>,
) -> Option<String> {
    let prefix = context.map(|c| format!("context {c}: ")).unwrap_or_default();
    nodes.into_iter().find_map(|(name, pods, alloc)| {
        let alloc = alloc.filter(|a| *a > 0)?;
        (f64::from(pods) * 100.0 > pct.0 * f64::from(alloc)).then(|| {
            format!(
                "{prefix}node {name} is {:.1}% saturated ({pods}/{alloc} pods), above --until-saturated {}%",
                100.0 * f64::from(pods) / f64::from(alloc),
                pct.0
            )
        })
    })
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Thresholds {
    pub max_saturation: Option<Percent>,
    pub min_free: Option<i64>,
}

impl Thresholds {
    /// The flag that needs each node's allocatable pods, if one is set.
    pub fn needs_allocatable(&self) -> Option<&'static str> {
        if self.max_saturation.is_some() {
            Some("--max-saturation")
        } else if self.min_free.is_some() {
            Some("--min-free")
        } else {
            None
        }
    }

    /// One line per breach, naming the node and the limit it crossed.
    /// A node with no known allocatable (missing, or reporting none) cannot be
    /// judged against either limit and is skipped.
    pub fn breaches(&self, context: Option<&str>, rows: &[NodeRow]) -> Vec<String> {
        let prefix = context.map(|c| format!("context {c}: ")).unwrap_or_default();
        let mut out = Vec::new();
        for r in rows {
            let Some(alloc) = r.allocatable.filter(|&a| a > 0) else { continue };
            let free = i64::from(alloc) - i64::from(r.pods);
            if let Some(Percent(max)) = self.max_saturation {
                // pods/allocatable > max/100, compared without dividing.
                if f64::from(r.pods) * 100.0 > max * f64::from(alloc) {
                    out.push(format!(
                        "{prefix}node {} is {:.1}% saturated ({}/{alloc} pods), above --max-saturation {}%",
                        r.name,
                        100.0 * f64::from(r.pods) / f64::from(alloc),
                        r.pods,
                        max
                    ));
                }
            }
            if let Some(min) = self.min_free
                && free < min
            {
                out.push(format!(
                    "{prefix}node {} has {free} free pod slots ({}/{alloc} pods), below --min-free {min}",
                    r.name, r.pods
                ));
            }
        }
        out
    }
}

/// A flag that needs the node list (see [`Thresholds::needs_allocatable`],
/// [`crate::model::filter::Filter::needs_node_list`]), refused
/// because the node list cannot be read: a usage error naming both.
pub fn node_list_refused(flag: &str, why: &Error) -> Error {
    Error::usage(format!("{flag} needs the node list, and {why}"))
}

/// The one warning when pods are counted on without the node list:
/// `doing` is "counting" or "watching".
pub fn without_node_list(why: &Error, doing: &str) -> String {
    format!("{why}; {doing} pods per node without allocatable, free or saturation (nodes with no pods are not shown)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, pods: u32, alloc: u32) -> NodeRow {
        NodeRow::sample(name, pods, alloc)
    }

    #[test]
    fn parses_percent() {
        assert_eq!("90".parse::<Percent>(), Ok(Percent(90.0)));
        assert_eq!("90%".parse::<Percent>(), Ok(Percent(90.0)));
        assert_eq!("99.5%".parse::<Percent>(), Ok(Percent(99.5)));
        assert!("101".parse::<Percent>().is_err());
        assert!("-1".parse::<Percent>().is_err());
        assert!("ninety".parse::<Percent>().is_err());
    }

    #[test]
    fn judges_nodes() {
        let rows = [row("full", 110, 110), row("edge", 100, 110), row("empty", 0, 30), row("unknown", 5, 0)];
        let t = Thresholds { max_saturation: Some(Percent(90.0)), min_free: None };
        let b = t.breaches(None, &rows);
        assert_eq!(b.len(), 2, "{b:?}");
        assert!(b[0].starts_with("node full is 100.0% saturated (110/110 pods)"));
        assert!(b[1].starts_with("node edge is 90.9% saturated"));
        // Exactly at the limit is not above it.
        let t = Thresholds { max_saturation: Some(Percent(90.0)), min_free: None };
        assert!(t.breaches(None, &[row("at", 9, 10)]).is_empty());
        let t = Thresholds { max_saturation: None, min_free: Some(11) };
        let b = t.breaches(Some("prod"), &rows);
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!(b[0], "context prod: node full has 0 free pod slots (110/110 pods), below --min-free 11");
        assert!(Thresholds::default().breaches(None, &rows).is_empty());
    }

    #[test]
    fn until_saturated_names_the_first_node_above() {
        let nodes = [("a", 3, Some(4)), ("b", 4, None), ("c", 4, Some(4))];
        assert_eq!(
            first_saturated(Percent(75.0), None, nodes),
            Some("node c is 100.0% saturated (4/4 pods), above --until-saturated 75%".to_string())
        );
        assert_eq!(first_saturated(Percent(100.0), Some("x"), nodes), None);
        assert!(first_saturated(Percent(50.0), Some("x"), nodes).unwrap().starts_with("context x: node a "));
    }
}
