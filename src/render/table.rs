//! The table: kubectl-style columns (plain when piped), node rows or group
//! rows, the footer with totals and filters, and on a terminal a bar per
//! node and the saturation histogram.

use super::cells::{or_dash, percent};
use super::style::{Cell, Color, grid};
use crate::report::Counted;
use crate::report::fits::{answer_line, summary};
use crate::report::histogram::{RANGES, histogram};
use crate::report::percent::Percent;
use crate::report::resources::{Resources, human};
use crate::report::rows::{NodeRow, totals};

/// How the table is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TableOptions<'a> {
    pub wide: bool,
    pub no_headers: bool,
    pub color: bool,
    /// A context column, for several clusters in one table.
    pub context_column: bool,
    /// Saturation from which a cell is red; yellow from 0.75 of it.
    pub red_from: Percent,
    /// On a terminal, with headers: a bar in the saturation column and the
    /// histogram under the table.
    pub picture: bool,
    /// `--top N`: only the first N rows of each context (totals cover all).
    pub top: Option<usize>,
    /// `-L`: a column per node label key.
    pub label_columns: &'a [String],
}

/// `-L KEY`'s column header, as kubectl prints it: the name after the last
/// `/`, upper-cased.
pub fn label_header(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_uppercase()
}

/// A bar of `width` cells for a fraction (0..=1, more is clipped), in
/// eighths of a cell.
fn bar(fraction: f64, width: usize) -> String {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let eighths = (fraction.clamp(0.0, 1.0) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(EIGHTHS[eighths % 8]);
    s
}

fn saturation_cell(r: &NodeRow, opts: &TableOptions) -> Cell {
    let text = match r.saturation {
        Some(s) if opts.picture => format!("{:<5}{}", percent(r.saturation), bar(s, 8)),
        _ => percent(r.saturation),
    };
    let cell = Cell::new(text);
    match r.saturation {
        Some(s) if opts.color && opts.red_from.reached_by(s) => cell.fg(Color::Red),
        Some(s) if opts.color && s >= opts.red_from.fraction() * 0.75 => cell.fg(Color::Yellow),
        _ => cell,
    }
}

/// The table of node rows, or of group rows with `--group-by`, and its footer.
pub fn table(counted: &[Counted], opts: &TableOptions) -> String {
    if counted.iter().any(|c| c.groups.is_some()) {
        return group_table(counted, opts);
    }
    let label_columns = opts.label_columns;
    let mut header: Vec<&str> = Vec::new();
    if opts.context_column {
        header.push("CONTEXT");
    }
    header.extend(["NODE", "PODS", "ALLOCATABLE", "FREE", "SATURATION"]);
    let (res_names, limits) = shown_resources(counted.iter().flat_map(|c| c.rows.iter().map(|r| r.resources.as_ref())));
    let res_headers = resource_headers(&res_names, limits);
    header.extend(res_headers.iter().map(String::as_str));
    let shapes = shape_names(counted);
    let fits_headers = fits_headers(&shapes, opts.wide);
    header.extend(fits_headers.iter().map(String::as_str));
    if opts.wide {
        header.extend(["RUNNING", "PENDING", "UNKNOWN", "TERMINATING", "DAEMONSET", "HOSTNETWORK", "STATUS", "TAINTS"]);
    }
    let label_headers: Vec<String> = label_columns.iter().map(|k| label_header(k)).collect();
    header.extend(label_headers.iter().map(String::as_str));
    let head = (!opts.no_headers).then(|| header.iter().map(Cell::new).collect());
    let shown: Vec<(&Counted, &NodeRow)> =
        counted.iter().flat_map(|c| c.rows.iter().take(opts.top.unwrap_or(usize::MAX)).map(move |r| (c, r))).collect();
    let row = |i: usize| {
        let (c, r) = shown[i];
        let mut row: Vec<Cell> = Vec::new();
        if opts.context_column {
            row.push(Cell::new(&c.context));
        }
        row.push(Cell::new(&r.name));
        row.push(Cell::new(r.pods));
        row.push(Cell::new(or_dash(r.allocatable)));
        row.push(Cell::new(or_dash(r.free)));
        row.push(saturation_cell(r, opts));
        row.extend(resource_cells(r.resources.as_ref(), &res_names, limits, opts));
        for shape in &shapes {
            row.push(Cell::new(or_dash(r.fits.get(shape).copied().flatten())));
            if opts.wide {
                row.push(Cell::new(
                    r.fits_limited_by.get(shape).cloned().flatten().map_or_else(|| "-".into(), |l| l.to_string()),
                ));
            }
        }
        if opts.wide {
            let of = [r.running, r.pending, r.unknown, r.terminating, r.daemon_set, r.host_network];
            row.extend(of.map(Cell::new));
            let status = Cell::new(&r.status);
            row.push(if opts.color && r.status != "Ready" { status.fg(Color::Yellow) } else { status });
            row.push(Cell::new(match &r.taints {
                None => "-".to_string(),
                Some(t) if t.is_empty() => "<none>".to_string(),
                Some(t) => t.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            }));
        }
        for k in label_columns {
            row.push(Cell::new(r.labels.get(k).map_or("", String::as_str)));
        }
        row
    };
    let mut out = String::new();
    if !shown.is_empty() || !opts.no_headers {
        out.push_str(&grid(head, shown.len(), row, opts.color));
    }
    if !opts.no_headers {
        for c in counted {
            out.push_str(&footer(c, opts));
            if opts.picture {
                out.push_str(&histogram_lines(c, opts.context_column));
            }
        }
    }
    out
}

/// The resources rows carry (in first-seen order) and whether limits too.
fn shown_resources<'r>(rows: impl Iterator<Item = Option<&'r Resources>>) -> (Vec<String>, bool) {
    let mut names: Vec<String> = Vec::new();
    let mut limits = false;
    for res in rows.flatten() {
        for (name, row) in &res.0 {
            limits |= row.limits.is_some();
            if !names.iter().any(|n| n == name.as_str()) {
                names.push(name.to_string());
            }
        }
    }
    (names, limits)
}

/// A resource's column header: the name after its domain, upper-cased
/// (`nvidia.com/gpu` -> `GPU`), or the whole name where two would clash.
fn resource_header(name: &str, all: &[String]) -> String {
    let short = |n: &str| n.rsplit('/').next().unwrap_or(n).to_uppercase();
    let clash = all.iter().filter(|n| short(n) == short(name)).count() > 1;
    if clash { name.to_uppercase() } else { short(name) }
}

/// Per resource: `CPU` (requested/allocatable), `CPU%`; with limits also
/// `CPU LIM` and `CPU LIM%` (overcommit).
fn resource_headers(names: &[String], limits: bool) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        let h = resource_header(n, names);
        out.push(h.clone());
        out.push(format!("{h}%"));
        if limits {
            out.push(format!("{h} LIM"));
            out.push(format!("{h} LIM%"));
        }
    }
    out
}

fn resource_cells(res: Option<&Resources>, names: &[String], limits: bool, opts: &TableOptions) -> Vec<Cell> {
    let mut out = Vec::new();
    for n in names {
        let row = res.and_then(|r| r.get(n));
        let amount = |v: Option<i128>| v.map_or_else(|| "-".to_string(), |v| human(n, v));
        // `<none>` where the node has none of it (as kubectl writes an
        // absent value), `-` where nothing is known.
        let none = row.is_some_and(|r| r.none());
        out.push(Cell::new(match row {
            _ if none => NONE.to_string(),
            Some(r) => format!("{}/{}", human(n, r.requests), amount(r.allocatable)),
            None => "-".to_string(),
        }));
        let sat = row.and_then(|r| r.saturation());
        let cell = Cell::new(if none { NONE.to_string() } else { percent(sat) });
        out.push(match sat {
            Some(s) if opts.color && opts.red_from.reached_by(s) => cell.fg(Color::Red),
            Some(s) if opts.color && s >= opts.red_from.fraction() * 0.75 => cell.fg(Color::Yellow),
            _ => cell,
        });
        if limits && none {
            out.extend([Cell::new(NONE), Cell::new(NONE)]);
        } else if limits {
            out.push(Cell::new(amount(row.and_then(|r| r.limits))));
            out.push(Cell::new(percent(row.and_then(|r| r.overcommit()))));
        }
    }
    out
}

/// A resource cell of a node (or group) that has none of it.
const NONE: &str = "<none>";

/// The `--fits` shapes' names, in the order asked.
fn shape_names(counted: &[Counted]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in counted.iter().flat_map(|c| &c.shapes) {
        if !names.contains(&s.name) {
            names.push(s.name.clone());
        }
    }
    names
}

/// `FITS` (and in wide `LIMITED BY`) for one shape; `FITS WEB`... for several.
fn fits_headers(shapes: &[String], wide: bool) -> Vec<String> {
    let mut out = Vec::new();
    for s in shapes {
        let suffix = if shapes.len() > 1 { format!(" {}", s.to_uppercase()) } else { String::new() };
        out.push(format!("FITS{suffix}"));
        if wide {
            out.push(format!("LIMITED BY{suffix}"));
        }
    }
    out
}

/// The footer's lines for `--fits`: per shape, how many more and why not
/// more, whether that is the scheduler's answer or a bound, and where.
fn fits_lines(c: &Counted) -> Vec<String> {
    let t = c.totals();
    let mut out = Vec::new();
    for s in &c.shapes {
        let limits = t.fits_limited_by.get(&s.name).cloned().unwrap_or_default();
        let more = t.fits.get(&s.name).copied().flatten();
        let Some(a) = c.answers.get(&s.name) else {
            out.push(format!("fits {}: {}", s.name, summary(more, &limits)));
            continue;
        };
        out.push(format!("fits {}: {}", s.name, answer_line(a, c.rows.iter().filter(|r| !r.missing).count(), &limits)));
        // A release's workloads say what lands in the release's lines.
        if let (Some(n), Some(more), None) = (a.asked, a.more, &s.workload) {
            let ordered = a.bound_by.is_empty() && !a.order.is_empty();
            let (least, most) = a.bounds().unwrap_or((0, Some(more)));
            out.push(match (a.lands, most) {
                (Some(true), _) => format!("  {n} asked: all land"),
                (Some(false), Some(most)) if ordered => format!(
                    "  {n} asked: between {least} and {most} land, by the order; at least {} would stay Pending",
                    n - most.min(n)
                ),
                (Some(false), _) => format!("  {n} asked: {more} land, {} would stay Pending", n - more.min(n)),
                (None, None) => format!("  {n} asked: at least {least} land (preemption could place more)"),
                (None, Some(most)) if ordered => {
                    format!("  {n} asked: between {least} and {most} land, by the order the scheduler places them in")
                }
                (None, _) => format!("  {n} asked: they may land (at most {more} more fit: an upper bound)"),
            });
        }
        if let Some(by) = &a.by {
            let parts: Vec<String> = a.by_domain.iter().map(|(d, n)| format!("{d} {n}")).collect();
            out.push(format!("  by {}: {}", label_header(by).to_lowercase(), parts.join(", ")));
        }
        for why in &a.order {
            out.push(format!("  the order decides: {why}"));
        }
        for why in &a.bound_by {
            out.push(format!("  an upper bound: {why}"));
        }
        for why in &a.may_place_more {
            out.push(format!("  could place more: {why}"));
        }
        for note in &a.notes {
            out.push(format!("  note: {note}"));
        }
    }
    out
}

/// The footer's resource line: each resource's requests over allocatable.
fn resources_line(c: &Counted) -> Option<String> {
    let total = totals(&c.rows).resources?;
    let parts: Vec<String> = total
        .0
        .iter()
        .map(|(n, r)| {
            let alloc = r.allocatable.map_or_else(|| "-".to_string(), |a| human(n, a));
            format!("{n} {}/{alloc} ({})", human(n, r.requests), percent(r.saturation()))
        })
        .collect();
    (!parts.is_empty()).then(|| format!("requested: {}", parts.join(", ")))
}

/// `--group-by`: one row per label value (nodes, pods, allocatable, free,
/// saturation, the fullest node), then the same footer as the node table.
fn group_table(counted: &[Counted], opts: &TableOptions) -> String {
    let first = counted.iter().find_map(|c| c.groups.as_ref());
    let by = first.map_or_else(String::new, |g| label_header(&g.by));
    let at = first.and_then(|g| g.threshold).map(|t| format!(">={t}")).unwrap_or_default();
    let mut header: Vec<String> = Vec::new();
    if opts.context_column {
        header.push("CONTEXT".into());
    }
    header.extend([by, "NODES".into(), "PODS".into(), "ALLOCATABLE".into(), "FREE".into(), "SATURATION".into()]);
    let groups = counted.iter().filter_map(|c| c.groups.as_ref());
    let (res_names, limits) = shown_resources(groups.flat_map(|g| g.rows.iter().map(|r| r.resources.as_ref())));
    header.extend(resource_headers(&res_names, limits));
    let shapes = shape_names(counted);
    header.extend(fits_headers(&shapes, false));
    header.extend(["FULLEST".into(), "FULLEST NODE".into(), at]);
    let head = (!opts.no_headers).then(|| header.iter().map(Cell::new).collect());
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for c in counted {
        let Some(g) = &c.groups else { continue };
        for r in g.rows.iter().take(opts.top.unwrap_or(usize::MAX)) {
            let mut row: Vec<Cell> = Vec::new();
            if opts.context_column {
                row.push(Cell::new(&c.context));
            }
            row.push(Cell::new(&r.name));
            row.extend([r.nodes, r.pods].map(Cell::new));
            row.push(Cell::new(or_dash(r.allocatable)));
            row.push(Cell::new(or_dash(r.free)));
            let sat = Cell::new(percent(r.saturation));
            row.push(match r.saturation {
                Some(s) if opts.color && opts.red_from.reached_by(s) => sat.fg(Color::Red),
                _ => sat,
            });
            row.extend(resource_cells(r.resources.as_ref(), &res_names, limits, opts));
            for shape in &shapes {
                row.push(Cell::new(or_dash(r.fits.get(shape).copied().flatten())));
            }
            row.push(Cell::new(percent(r.fullest_saturation)));
            row.push(Cell::new(r.fullest_node.as_deref().unwrap_or("-")));
            let n = Cell::new(r.at_or_above_threshold);
            row.push(if opts.color && r.at_or_above_threshold > 0 { n.fg(Color::Red) } else { n });
            rows.push(row);
        }
    }
    let mut out = String::new();
    if !rows.is_empty() || head.is_some() {
        out.push_str(&grid(head, rows.len(), |i| rows[i].clone(), opts.color));
    }
    if !opts.no_headers {
        for c in counted {
            let shown = TableOptions { top: None, ..*opts };
            out.push_str(&footer(c, &shown));
            if let Some(top) = opts.top.filter(|n| c.groups.as_ref().is_some_and(|g| *n < g.rows.len())) {
                let left = c.groups.as_ref().map_or(0, |g| g.rows.len() - top);
                out.push_str(&format!("{left} more groups not shown (--top {top})\n"));
            }
            if opts.picture {
                out.push_str(&histogram_lines(c, opts.context_column));
            }
        }
    }
    out
}

/// The saturation histogram as text, one line a range.
fn histogram_lines(c: &Counted, with_context: bool) -> String {
    let h = histogram(&c.rows);
    let most = h.iter().map(|r| r.nodes).max().unwrap_or(0).max(1);
    let prefix = if with_context { format!("{}: ", c.context) } else { String::new() };
    let mut s = format!("\n{prefix}nodes by saturation\n");
    for r in &h {
        let line = format!("{prefix}  {:<8} {:>6}  {}", r.range, r.nodes, bar(r.nodes as f64 / most as f64, 30));
        s.push_str(line.trim_end());
        s.push('\n');
    }
    debug_assert_eq!(h.len(), RANGES.len());
    s
}

/// The lines under the table: totals (over every node, shown or not),
/// unscheduled, rows left out by `--top`, and the filter.
fn footer(c: &Counted, opts: &TableOptions) -> String {
    let with_context = opts.context_column;
    let t = c.totals();
    let prefix = if with_context { format!("{}: ", c.context) } else { String::new() };
    let sat = t.allocatable.filter(|&a| a > 0).map(|a| t.pods as f64 / a as f64);
    let alloc = match t.allocatable {
        Some(a) => format!("{a} allocatable ({})", percent(sat)),
        None => "allocatable unknown".to_string(),
    };
    let mut s =
        format!("\n{prefix}TOTAL {} pods on {} nodes, {alloc}; {} unscheduled\n", t.pods, t.nodes, c.unscheduled);
    if let Some(line) = resources_line(c) {
        s.push_str(&format!("{prefix}{line}\n"));
    }
    for line in fits_lines(c) {
        s.push_str(&format!("{prefix}{line}\n"));
    }
    for line in c.release.iter().flat_map(crate::report::release::footer) {
        s.push_str(&format!("{prefix}{line}\n"));
    }
    for line in c.what_if.iter().flat_map(crate::report::whatif::footer) {
        s.push_str(&format!("{prefix}{line}\n"));
    }
    for line in c.loss_each.iter().flat_map(crate::report::loss::footer) {
        s.push_str(&format!("{prefix}{line}\n"));
    }
    if let Some(n) = c.left_out {
        s.push_str(&format!("{prefix}{n} cordoned or tainted nodes left out (--schedulable-only)\n"));
    }
    if let Some(top) = opts.top.filter(|n| *n < c.rows.len()) {
        s.push_str(&format!("{prefix}{} more nodes not shown (--top {top})\n", c.rows.len() - top));
    }
    if let Some(f) = c.filter.describe() {
        s.push_str(&format!("{prefix}filter: {f}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::counted;

    const OPTS: TableOptions = TableOptions {
        wide: false,
        no_headers: false,
        color: false,
        context_column: false,
        red_from: Percent::SATURATED,
        picture: false,
        top: None,
        label_columns: &[],
    };

    #[test]
    fn table_snapshot() {
        let got = table(&[counted("kind")], &OPTS);
        let want = "\
NODE        PODS   ALLOCATABLE   FREE   SATURATION
node-0000   110    110           0      100%
node-0001   0      30            30     0%
ghost       3      -             -      -

TOTAL 113 pods on 3 nodes, 140 allocatable (80%); 7 unscheduled
filter: namespace=web
";
        assert_eq!(got, want, "\n{got}");
    }

    #[test]
    fn wide_snapshot_with_contexts() {
        let opts = TableOptions { wide: true, context_column: true, ..OPTS };
        let got = table(&[counted("a"), counted("b")], &opts);
        let first = got.lines().next().unwrap();
        assert_eq!(
            first,
            "CONTEXT   NODE        PODS   ALLOCATABLE   FREE   SATURATION   RUNNING   PENDING   UNKNOWN   TERMINATING   DAEMONSET   HOSTNETWORK   STATUS                        TAINTS"
        );
        assert_eq!(
            got.lines().nth(2).unwrap(),
            "a         node-0001   0      30            30     0%           0         0         0         0             0           0             NotReady,SchedulingDisabled   <none>"
        );
        // Nothing is known of a missing node's taints.
        assert!(got.lines().nth(3).unwrap().ends_with("Missing                       -"), "{got}");
        assert!(got.contains("\nb: TOTAL 113 pods on 3 nodes"));
        assert!(!got.contains('\x1b'), "no colour when not asked");
    }

    #[test]
    fn no_headers_prints_rows_only() {
        let got = table(&[counted("a")], &TableOptions { no_headers: true, ..OPTS });
        assert_eq!(got.lines().count(), 3);
        assert!(got.starts_with("node-0000   110"));
    }

    #[test]
    fn colour_only_when_asked() {
        let got = table(&[counted("a")], &TableOptions { color: true, picture: true, ..OPTS });
        assert!(got.contains("\x1b["), "{got:?}");
        assert!(got.lines().all(|l| !l.replace("\x1b[39m", "").replace("\x1b[0m", "").ends_with(' ')), "{got:?}");
    }

    #[test]
    fn the_picture_and_top() {
        let got = table(&[counted("a")], &TableOptions { picture: true, ..OPTS });
        assert!(got.contains("100% ████████"), "{got}");
        assert!(got.contains("nodes by saturation"), "{got}");
        assert!(got.lines().any(|l| l.trim_start().starts_with("full") && l.contains(" 1 ")), "{got}");
        assert!(!table(&[counted("a")], &OPTS).contains('█'));
        let got = table(&[counted("a")], &TableOptions { top: Some(1), ..OPTS });
        assert_eq!(got.lines().filter(|l| l.starts_with("node-") || l.starts_with("ghost")).count(), 1, "{got}");
        assert!(got.contains("TOTAL 113 pods on 3 nodes"), "{got}");
        assert!(got.contains("2 more nodes not shown (--top 1)"), "{got}");
    }
}
