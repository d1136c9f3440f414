//! Thresholds for CI: which counted nodes breach `--max-saturation` or
//! `--min-free` (and watch's `--until-saturated`), what cannot be judged
//! without the node list, and `count`'s [`Verdict`]: its lines and exit
//! code. Pure.

use super::counted::Counted;
use super::fits::min_fits_breaches;
use super::percent::Percent;
use super::resources::human;
use super::rows::NodeRow;
use crate::error::{Error, exit};
use crate::model::quantity::Quantity;
use crate::model::requests::scheduler_units;

/// What `count`'s gates say of the counted clusters: one line a breach
/// (stderr), and the exit code they make.
#[derive(Debug, Default, PartialEq)]
pub struct Verdict {
    pub lines: Vec<String>,
    /// 0; 1 when a threshold is breached for sure; 4 when a `--min-fits`
    /// answer that is not exact could be on either side (a breach for sure
    /// outweighs it).
    pub code: i32,
}

/// Judges `--max-saturation`, `--min-free` and `--min-fits N` (named by
/// `min_fits_flag`) over every counted cluster.
pub fn judge(thresholds: &Thresholds, min_fits: Option<(u64, &str)>, counted: &[Counted], several: bool) -> Verdict {
    let context = |c: &Counted| several.then_some(c.context.as_str()).map(str::to_string);
    let mut breaches: Vec<(i32, String)> = counted
        .iter()
        .flat_map(|c| thresholds.breaches(context(c).as_deref(), &c.rows))
        .map(|line| (exit::THRESHOLD, line))
        .collect();
    if let Some((min, flag)) = min_fits {
        breaches.extend(counted.iter().flat_map(|c| min_fits_breaches(min, flag, context(c).as_deref(), c)));
    }
    for c in counted {
        let prefix = context(c).map(|c| format!("context {c}: ")).unwrap_or_default();
        breaches.extend(c.release.iter().flat_map(|r| super::release::breaches(r, &prefix)));
        breaches.extend(c.what_if.iter().flat_map(|w| super::whatif::breaches(w, &prefix)));
    }
    let codes: Vec<i32> = breaches.iter().map(|(c, _)| *c).collect();
    let code = if codes.contains(&exit::THRESHOLD) {
        exit::THRESHOLD
    } else if codes.contains(&exit::NOT_EXACT) {
        exit::NOT_EXACT
    } else {
        exit::OK
    };
    Verdict { lines: breaches.into_iter().map(|(_, line)| line).collect(), code }
}

/// `watch --until-saturated`: of the nodes (name, pods, allocatable) above
/// `pct`, the first by name, as the line to print (the same node whatever
/// order the nodes come in). Nodes without allocatable are not judged.
pub fn first_saturated<'a>(
    pct: Percent,
    context: Option<&str>,
    nodes: impl IntoIterator<Item = (&'a str, u32, Option<u32>)>,
) -> Option<String> {
    let prefix = context.map(|c| format!("context {c}: ")).unwrap_or_default();
    let first = nodes
        .into_iter()
        .filter(|&(_, pods, alloc)| alloc.is_some_and(|a| a > 0 && pct.exceeded_by(pods, a)))
        .min_by_key(|&(name, ..)| name)?;
    pods_above(first.0, first.1, first.2, pct, "--until-saturated").map(|line| format!("{prefix}{line}"))
}

/// A node whose `pods` fill more than `pct` of its `alloc` slots, as the
/// line naming `flag`; a node without allocatable is not judged.
fn pods_above(name: &str, pods: u32, alloc: Option<u32>, pct: Percent, flag: &str) -> Option<String> {
    let alloc = alloc.filter(|a| *a > 0)?;
    pct.exceeded_by(pods, alloc).then(|| {
        format!(
            "node {name} is {:.1}% saturated ({pods}/{alloc} pods), above {flag} {pct}",
            100.0 * f64::from(pods) / f64::from(alloc)
        )
    })
}

/// What a threshold is about: pod slots, or a resource by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Pods,
    Resource(String),
}

impl Target {
    fn parse(name: &str) -> Target {
        if name == "pods" { Target::Pods } else { Target::Resource(name.to_string()) }
    }
}

/// `--max-saturation`: `90`, `90%` (pod slots), or `cpu=85%,memory=90%,pods=95%`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MaxSaturation(pub Vec<(Target, Percent)>);

/// `--min-free`: `N` (pod slots), or `cpu=2,memory=8Gi,nvidia.com/gpu=1`
/// (amounts in the scheduler's units once parsed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MinFree(pub Vec<(Target, i128)>);

/// `NAME=VALUE,...`, or a bare VALUE for pods.
fn pairs(s: &str) -> Vec<(Target, &str)> {
    if !s.contains('=') {
        return vec![(Target::Pods, s.trim())];
    }
    s.split(',')
        .map(|p| p.split_once('=').map_or((Target::Pods, p), |(k, v)| (Target::parse(k.trim()), v.trim())))
        .collect()
}

pub fn parse_max_saturation(s: &str) -> Result<MaxSaturation, String> {
    let mut out = Vec::new();
    for (target, v) in pairs(s) {
        let pct: Percent = v.parse().map_err(|e| match &target {
            Target::Pods => e,
            Target::Resource(n) => format!("{n}={v}: {e}"),
        })?;
        out.push((target, pct));
    }
    Ok(MaxSaturation(out))
}

pub fn parse_min_free(s: &str) -> Result<MinFree, String> {
    let mut out = Vec::new();
    for (target, v) in pairs(s) {
        let amount = match &target {
            Target::Pods => i128::from(
                v.parse::<i64>()
                    .map_err(|_| format!("expected a number of pod slots, or RESOURCE=QUANTITY, not {v:?}"))?,
            ),
            Target::Resource(n) => {
                let q = Quantity::parse(v).map_err(|e| format!("{n}={v}: {e}"))?;
                i128::from(scheduler_units(n, q))
            }
        };
        out.push((target, amount));
    }
    Ok(MinFree(out))
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thresholds {
    pub max_saturation: MaxSaturation,
    pub min_free: MinFree,
}

impl Thresholds {
    /// The flag that needs each node's allocatable, if one is set.
    pub fn needs_allocatable(&self) -> Option<&'static str> {
        if !self.max_saturation.0.is_empty() {
            Some("--max-saturation")
        } else if !self.min_free.0.is_empty() {
            Some("--min-free")
        } else {
            None
        }
    }

    /// The pod-slot `--max-saturation`, if given (what groups count nodes
    /// against and the table turns red at).
    pub fn pods_max_saturation(&self) -> Option<Percent> {
        self.max_saturation.0.iter().find(|(t, _)| *t == Target::Pods).map(|(_, p)| *p)
    }

    /// The resources the thresholds judge (they must be read).
    pub fn resources(&self) -> Vec<String> {
        let names = self.max_saturation.0.iter().map(|(t, _)| t).chain(self.min_free.0.iter().map(|(t, _)| t));
        names
            .filter_map(|t| match t {
                Target::Resource(n) => Some(n.clone()),
                Target::Pods => None,
            })
            .collect()
    }

    /// One line per breach, naming the node, what it is about and the limit
    /// it crossed. A node with no known allocatable (missing, or reporting
    /// none) cannot be judged against a limit and is skipped.
    pub fn breaches(&self, context: Option<&str>, rows: &[NodeRow]) -> Vec<String> {
        let prefix = context.map(|c| format!("context {c}: ")).unwrap_or_default();
        let mut out = Vec::new();
        for r in rows {
            for (target, max) in &self.max_saturation.0 {
                if let Some(line) = over(r, target, *max) {
                    out.push(format!("{prefix}{line}"));
                }
            }
            for (target, min) in &self.min_free.0 {
                if let Some(line) = under(r, target, *min) {
                    out.push(format!("{prefix}{line}"));
                }
            }
        }
        out
    }
}

/// `r` above `max` of `target`, as a line.
fn over(r: &NodeRow, target: &Target, max: Percent) -> Option<String> {
    match target {
        Target::Pods => pods_above(&r.name, r.pods, r.allocatable, max, "--max-saturation"),
        Target::Resource(name) => {
            let row = r.resources.as_ref()?.get(name)?;
            let alloc = row.allocatable.filter(|&a| a > 0)?;
            // requests/allocatable > max, compared without dividing.
            (row.requests as f64 * 100.0 > max.0 * alloc as f64).then(|| {
                format!(
                    "node {} is {:.1}% saturated in {name} ({} of {} requested), above --max-saturation {name}={max}",
                    r.name,
                    100.0 * row.requests as f64 / alloc as f64,
                    human(name, row.requests),
                    human(name, alloc),
                )
            })
        }
    }
}

/// `r` with less than `min` of `target` free, as a line.
fn under(r: &NodeRow, target: &Target, min: i128) -> Option<String> {
    match target {
        Target::Pods => {
            let alloc = r.allocatable.filter(|&a| a > 0)?;
            let free = i128::from(alloc) - i128::from(r.pods);
            (free < min).then(|| {
                format!("node {} has {free} free pod slots ({}/{alloc} pods), below --min-free {min}", r.name, r.pods)
            })
        }
        Target::Resource(name) => {
            let row = r.resources.as_ref()?.get(name)?;
            // A node with none of it is not judged (as one reporting no pods).
            let alloc = row.allocatable.filter(|&a| a > 0)?;
            let free = row.free()?;
            (free < min).then(|| {
                format!(
                    "node {} has {} {name} free ({} of {} requested), below --min-free {name}={}",
                    r.name,
                    human(name, free),
                    human(name, row.requests),
                    human(name, alloc),
                    human(name, min)
                )
            })
        }
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
    fn judges_nodes() {
        let rows = [row("full", 110, 110), row("edge", 100, 110), row("empty", 0, 30), row("unknown", 5, 0)];
        let pct90 = parse_max_saturation("90").unwrap();
        let t = Thresholds { max_saturation: pct90.clone(), ..Default::default() };
        let b = t.breaches(None, &rows);
        assert_eq!(b.len(), 2, "{b:?}");
        assert!(b[0].starts_with("node full is 100.0% saturated (110/110 pods)"));
        assert!(b[1].starts_with("node edge is 90.9% saturated"));
        // Exactly at the limit is not above it.
        let t = Thresholds { max_saturation: pct90, ..Default::default() };
        assert!(t.breaches(None, &[row("at", 9, 10)]).is_empty());
        let t = Thresholds { min_free: parse_min_free("11").unwrap(), ..Default::default() };
        let b = t.breaches(Some("prod"), &rows);
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!(b[0], "context prod: node full has 0 free pod slots (110/110 pods), below --min-free 11");
        assert!(Thresholds::default().breaches(None, &rows).is_empty());
    }

    #[test]
    fn the_verdict_is_1_for_a_sure_breach_over_4_for_an_answer_that_is_not_exact() {
        use crate::report::fits::FitsAnswer;
        let mut c = Counted {
            context: "prod".into(),
            cluster_id: None,
            observed_at: String::new(),
            resource_version: None,
            node_resource_version: None,
            filter: Default::default(),
            rows: vec![row("node-0000", 110, 110)],
            unscheduled: 0,
            groups: None,
            left_out: None,
            shapes: Vec::new(),
            answers: Default::default(),
            release: None,
            what_if: None,
            loss_each: None,
        };
        let bound = FitsAnswer { more: Some(12), exact: false, bound_by: vec!["spread".into()], ..Default::default() };
        c.answers.insert("web".into(), bound);
        let none = Thresholds::default();
        assert_eq!(judge(&none, None, std::slice::from_ref(&c), false), Verdict::default());
        // An upper bound of 12 against 10: could go either way.
        let v = judge(&none, Some((10, "--min-fits")), std::slice::from_ref(&c), false);
        assert_eq!((v.code, v.lines.len()), (exit::NOT_EXACT, 1), "{v:?}");
        // With a node above 90% as well: a breach for sure wins.
        let full = Thresholds { max_saturation: parse_max_saturation("90").unwrap(), ..Default::default() };
        let v = judge(&full, Some((10, "--min-fits")), std::slice::from_ref(&c), true);
        assert_eq!((v.code, v.lines.len()), (exit::THRESHOLD, 2), "{v:?}");
        assert!(v.lines[0].starts_with("context prod: node node-0000 is 100.0% saturated"), "{v:?}");
        // Every order places 5 to 7: 0 at or below 5, 4 between, 1 above 7.
        let ordered = FitsAnswer {
            more: Some(7),
            order: vec!["a spread over zone with a spread over hostname".into()],
            range: Some((5, Some(7))),
            ..Default::default()
        };
        c.answers.insert("web".into(), ordered);
        let codes: Vec<i32> = [5, 6, 7, 8]
            .iter()
            .map(|n| judge(&none, Some((*n, "--min-fits")), std::slice::from_ref(&c), false).code)
            .collect();
        assert_eq!(codes, [0, exit::NOT_EXACT, exit::NOT_EXACT, exit::THRESHOLD]);
        let v = judge(&none, Some((6, "--min-fits")), std::slice::from_ref(&c), false);
        assert!(v.lines[0].contains("not exact: a spread over zone"), "{v:?}");
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
        // Whatever order the store hands them over in.
        let mut reversed = nodes;
        reversed.reverse();
        assert!(first_saturated(Percent(50.0), None, reversed).unwrap().starts_with("node a "));
    }

    #[test]
    fn per_resource_thresholds() {
        use crate::report::resources::{ResourceRow, Resources};
        let t = Thresholds {
            max_saturation: parse_max_saturation("cpu=85%,pods=95").unwrap(),
            min_free: parse_min_free("memory=8Gi,nvidia.com/gpu=1").unwrap(),
        };
        assert_eq!(t.pods_max_saturation(), Some(Percent(95.0)));
        assert_eq!(t.resources(), ["cpu", "memory", "nvidia.com/gpu"]);
        let mut r = row("n1", 10, 110);
        let res = |requests, allocatable| ResourceRow { requests, limits: None, allocatable };
        r.resources = Some(Resources(
            [
                ("cpu".into(), res(7370, Some(8000))),
                ("memory".into(), res(30 << 30, Some(32 << 30))),
                ("nvidia.com/gpu".into(), res(2, None)),
            ]
            .into(),
        ));
        let b = t.breaches(None, &[r]);
        assert_eq!(
            b,
            [
                "node n1 is 92.1% saturated in cpu (7370m of 8 requested), above --max-saturation cpu=85%",
                "node n1 has 2Gi memory free (30Gi of 32Gi requested), below --min-free memory=8Gi",
            ]
        );
        assert_eq!(parse_min_free("memory=8Gi").unwrap().0, [(Target::Resource("memory".into()), 8 << 30)]);
        assert!(parse_max_saturation("cpu=abc").unwrap_err().starts_with("cpu=abc: expected a percentage"));
        assert!(parse_min_free("cpu=abc").unwrap_err().contains("Kubernetes quantity"));
        assert!(parse_min_free("many").is_err());
    }
}
