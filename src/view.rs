//! Renders counted clusters: the table (kubectl-style, plain when piped) and
//! the `podcount/v1` JSON/YAML documents. Pure: strings in, strings out.

use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, presets};
use serde::{Deserialize, Serialize};

use crate::cli::FilterArgs;
use crate::list::PodQuery;
use crate::report::{GroupRow, NodeRow, RANGES, SaturationRange, Totals, histogram, totals};

pub const API_VERSION: &str = "podcount/v1";

/// The filters a count ran with, stated in every output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub node_selector: Option<String>,
    /// `--schedulable-only`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub schedulable_only: bool,
}

impl Filter {
    /// The filters a query ran with (the pod query's, plus the node filters).
    pub fn of(q: &PodQuery, f: &FilterArgs) -> Filter {
        Filter {
            namespace: q.namespace.clone(),
            label_selector: q.label_selector.clone(),
            field_selector: q.field_selector.clone(),
            node_selector: f.node_selector.clone(),
            schedulable_only: f.schedulable_only,
        }
    }

    fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("namespace", &self.namespace),
            ("selector", &self.label_selector),
            ("field-selector", &self.field_selector),
            ("node-selector", &self.node_selector),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .chain(self.schedulable_only.then(|| "schedulable-only".to_string()))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// One counted cluster, ready to print.
#[derive(Clone, Debug, PartialEq)]
pub struct Counted {
    pub context: String,
    pub observed_at: String,
    pub resource_version: Option<String>,
    pub filter: Filter,
    pub rows: Vec<NodeRow>,
    pub unscheduled: u64,
    /// `--group-by`: what by, and the rows grouped.
    pub groups: Option<Grouped>,
    /// `--schedulable-only`: how many cordoned or tainted nodes were left out.
    pub left_out: Option<u64>,
}

/// Node rows grouped by a label (`--group-by`).
#[derive(Clone, Debug, PartialEq)]
pub struct Grouped {
    pub by: String,
    /// The threshold `atOrAboveThreshold` counts against, in percent.
    pub threshold_pct: f64,
    pub rows: Vec<GroupRow>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodCountDoc<'a> {
    api_version: &'static str,
    kind: &'static str,
    context: &'a str,
    observed_at: &'a str,
    resource_version: Option<&'a str>,
    filter: &'a Filter,
    nodes: &'a [NodeRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    group_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<&'a [GroupRow]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unschedulable_nodes_left_out: Option<u64>,
    unscheduled: u64,
    totals: Totals,
    saturation_histogram: Vec<SaturationRange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodCountListDoc<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: Vec<PodCountDoc<'a>>,
}

fn doc(c: &Counted) -> PodCountDoc<'_> {
    PodCountDoc {
        api_version: API_VERSION,
        kind: "PodCount",
        context: &c.context,
        observed_at: &c.observed_at,
        resource_version: c.resource_version.as_deref(),
        filter: &c.filter,
        nodes: &c.rows,
        group_by: c.groups.as_ref().map(|g| g.by.as_str()),
        groups: c.groups.as_ref().map(|g| g.rows.as_slice()),
        unschedulable_nodes_left_out: c.left_out,
        unscheduled: c.unscheduled,
        totals: totals(&c.rows),
        saturation_histogram: histogram(&c.rows),
    }
}

/// A `PodCount` document as served (`watch --listen`), read back.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServedDoc {
    kind: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    observed_at: String,
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    filter: Filter,
    #[serde(default)]
    nodes: Vec<NodeRow>,
    #[serde(default)]
    unscheduled: u64,
    #[serde(default)]
    unschedulable_nodes_left_out: Option<u64>,
    #[serde(default)]
    group_by: Option<String>,
    #[serde(default)]
    groups: Vec<GroupRow>,
    #[serde(default)]
    items: Vec<ServedDoc>,
}

/// Reads a `PodCount` or `PodCountList` document back into counted clusters.
pub fn parse_document(json: &[u8]) -> Result<Vec<Counted>, String> {
    let doc: ServedDoc = serde_json::from_slice(json).map_err(|e| format!("not a PodCount document: {e}"))?;
    let one = |d: ServedDoc| Counted {
        context: d.context,
        observed_at: d.observed_at,
        resource_version: d.resource_version,
        filter: d.filter,
        rows: d.nodes,
        unscheduled: d.unscheduled,
        // The served threshold is not in the document; the printer regroups.
        groups: d.group_by.map(|by| Grouped { by, threshold_pct: f64::NAN, rows: d.groups }),
        left_out: d.unschedulable_nodes_left_out,
    };
    match doc.kind.as_str() {
        "PodCount" => Ok(vec![one(doc)]),
        "PodCountList" => Ok(doc.items.into_iter().map(one).collect()),
        k => Err(format!("a {k:?} document, not a PodCount")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

/// A `PodCount`, or a `PodCountList` when several contexts were asked for.
pub fn document(counted: &[Counted], list: bool, format: Format) -> String {
    let render = |v: &dyn erased::Ser| match format {
        Format::Json => v.json(),
        Format::Yaml => v.yaml(),
    };
    if list || counted.len() != 1 {
        let l = PodCountListDoc {
            api_version: API_VERSION,
            kind: "PodCountList",
            items: counted.iter().map(doc).collect(),
        };
        render(&l)
    } else {
        render(&doc(&counted[0]))
    }
}

/// Serialising either document type through one closure.
mod erased {
    pub trait Ser {
        fn json(&self) -> String;
        fn yaml(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            let mut s = serde_json::to_string_pretty(self).expect("documents always serialise");
            s.push('\n');
            s
        }
        fn yaml(&self) -> String {
            serde_yaml::to_string(self).expect("documents always serialise")
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TableOptions {
    pub wide: bool,
    pub no_headers: bool,
    pub color: bool,
    /// A context column, for several clusters in one table.
    pub context_column: bool,
    /// Saturation (0..1) from which a cell is red; yellow from 0.75 of it.
    pub red_from: f64,
    /// On a terminal, with headers: a bar in the saturation column and the
    /// histogram under the table.
    pub picture: bool,
    /// `--top N`: only the first N rows of each context (totals cover all).
    pub top: Option<usize>,
}

/// `-L KEY`'s column header, as kubectl prints it: the name after the last
/// `/`, upper-cased.
pub fn label_header(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_uppercase()
}

/// A number, or `-` when unknown.
fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// `41%`: rounded down, so 100% means full.
pub fn percent(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_string(), |s| format!("{}%", (s * 100.0 + 1e-9).floor() as i64))
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
        Some(s) if opts.color && s >= opts.red_from => cell.fg(Color::Red),
        Some(s) if opts.color && s >= opts.red_from * 0.75 => cell.fg(Color::Yellow),
        _ => cell,
    }
}

pub fn table(counted: &[Counted], opts: &TableOptions) -> String {
    table_with(counted, opts, &[])
}

/// The table, with `-L` label columns.
pub fn table_with(counted: &[Counted], opts: &TableOptions, label_columns: &[String]) -> String {
    if counted.iter().any(|c| c.groups.is_some()) {
        return group_table(counted, opts);
    }
    let mut t = new_table(opts);
    let mut header: Vec<&str> = Vec::new();
    if opts.context_column {
        header.push("CONTEXT");
    }
    header.extend(["NODE", "PODS", "ALLOCATABLE", "FREE", "SATURATION"]);
    if opts.wide {
        header.extend(["RUNNING", "PENDING", "UNKNOWN", "TERMINATING", "DAEMONSET", "HOSTNETWORK", "STATUS", "TAINTS"]);
    }
    let label_headers: Vec<String> = label_columns.iter().map(|k| label_header(k)).collect();
    header.extend(label_headers.iter().map(String::as_str));
    if !opts.no_headers {
        t.set_header(header.iter().map(Cell::new));
    }
    for c in counted {
        for r in c.rows.iter().take(opts.top.unwrap_or(usize::MAX)) {
            let mut row: Vec<Cell> = Vec::new();
            if opts.context_column {
                row.push(Cell::new(&c.context));
            }
            row.push(Cell::new(&r.name));
            row.push(Cell::new(r.pods));
            row.push(Cell::new(or_dash(r.allocatable)));
            row.push(Cell::new(or_dash(r.free)));
            row.push(saturation_cell(r, opts));
            if opts.wide {
                let of = [r.running, r.pending, r.unknown, r.terminating, r.daemon_set, r.host_network];
                row.extend(of.map(Cell::new));
                let status = Cell::new(&r.status);
                row.push(if opts.color && r.status != "Ready" { status.fg(Color::Yellow) } else { status });
                row.push(Cell::new(match &r.taints {
                    None => "-".to_string(),
                    Some(t) if t.is_empty() => "<none>".to_string(),
                    Some(t) => t.join(","),
                }));
            }
            for k in label_columns {
                row.push(Cell::new(r.labels.get(k).map_or("", String::as_str)));
            }
            t.add_row(row);
        }
    }
    kubectl_columns(&mut t);
    let mut out = String::new();
    if !counted.iter().all(|c| c.rows.is_empty()) || !opts.no_headers {
        for line in t.to_string().lines() {
            out.push_str(&trim_line(line));
            out.push('\n');
        }
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

/// A table line without trailing blanks, also where the last cell is
/// coloured (its padding sits inside the colour codes).
fn trim_line(line: &str) -> String {
    let mut end = line.len();
    // Peel trailing escape sequences (`ESC [ ... m`), keeping them.
    while let Some(start) = line[..end].rfind('\x1b').filter(|&s| line[s..end].ends_with('m')) {
        end = start;
    }
    format!("{}{}", line[..end].trim_end(), &line[end..])
}

/// A borderless table, styled only when colour is on.
fn new_table(opts: &TableOptions) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    if opts.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

/// Left-aligned columns three spaces apart, as kubectl prints them.
fn kubectl_columns(t: &mut Table) {
    for col in t.column_iter_mut() {
        col.set_padding((0, 3));
        col.set_cell_alignment(CellAlignment::Left);
        col.set_constraint(ColumnConstraint::ContentWidth);
    }
}

/// `--group-by`: one row per label value (nodes, pods, allocatable, free,
/// saturation, the fullest node), then the same footer as the node table.
fn group_table(counted: &[Counted], opts: &TableOptions) -> String {
    let mut t = new_table(opts);
    let first = counted.iter().find_map(|c| c.groups.as_ref());
    let by = first.map_or_else(String::new, |g| label_header(&g.by));
    let at = first.map_or_else(String::new, |g| format!(">={}%", g.threshold_pct));
    let mut header: Vec<String> = Vec::new();
    if opts.context_column {
        header.push("CONTEXT".into());
    }
    header.extend([by, "NODES".into(), "PODS".into(), "ALLOCATABLE".into(), "FREE".into(), "SATURATION".into()]);
    header.extend(["FULLEST".into(), "FULLEST NODE".into(), at]);
    if !opts.no_headers {
        t.set_header(header.iter().map(Cell::new));
    }
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
                Some(s) if opts.color && s >= opts.red_from => sat.fg(Color::Red),
                _ => sat,
            });
            row.push(Cell::new(percent(r.fullest_saturation)));
            row.push(Cell::new(r.fullest_node.as_deref().unwrap_or("-")));
            let n = Cell::new(r.at_or_above_threshold);
            row.push(if opts.color && r.at_or_above_threshold > 0 { n.fg(Color::Red) } else { n });
            t.add_row(row);
        }
    }
    kubectl_columns(&mut t);
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(&trim_line(line));
        out.push('\n');
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

/// `-o csv`: RFC 4180 (CRLF, fields quoted when they hold a comma, quote or
/// line break), a header row, one row per node with the fields of the JSON.
pub fn csv(counted: &[Counted], top: Option<usize>) -> String {
    csv_with(counted, top, &[])
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// A value, or an empty field for JSON's null.
fn or_empty<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A saturation as the JSON writes it (0.9091, 1.0); empty for null.
fn csv_ratio(v: Option<f64>) -> String {
    v.map(|s| serde_json::json!((s * 10_000.0).round() / 10_000.0).to_string()).unwrap_or_default()
}

/// `-o csv` with `-L` label columns (one per key, named by it), or one row
/// per group with `--group-by`.
pub fn csv_with(counted: &[Counted], top: Option<usize>, label_columns: &[String]) -> String {
    let field = csv_field;
    if counted.iter().any(|c| c.groups.is_some()) {
        let mut out = String::from(
            "context,name,nodes,pods,allocatable,free,saturation,fullestNode,fullestSaturation,atOrAboveThreshold\r\n",
        );
        for c in counted {
            let Some(g) = &c.groups else { continue };
            for r in g.rows.iter().take(top.unwrap_or(usize::MAX)) {
                let cells = [
                    field(&c.context),
                    field(&r.name),
                    r.nodes.to_string(),
                    r.pods.to_string(),
                    or_empty(r.allocatable),
                    or_empty(r.free),
                    csv_ratio(r.saturation),
                    field(r.fullest_node.as_deref().unwrap_or("")),
                    csv_ratio(r.fullest_saturation),
                    r.at_or_above_threshold.to_string(),
                ];
                out.push_str(&cells.join(","));
                out.push_str("\r\n");
            }
        }
        return out;
    }
    let mut out = String::from(
        "context,name,pods,allocatable,free,saturation,running,pending,unknown,terminating,daemonSet,hostNetwork,ready,schedulable,missing,status,taints",
    );
    for k in label_columns {
        out.push(',');
        out.push_str(&field(k));
    }
    out.push_str("\r\n");
    for c in counted {
        for r in c.rows.iter().take(top.unwrap_or(usize::MAX)) {
            let sat = csv_ratio(r.saturation);
            let mut cells = vec![
                field(&c.context),
                field(&r.name),
                r.pods.to_string(),
                or_empty(r.allocatable),
                or_empty(r.free),
                sat,
                r.running.to_string(),
                r.pending.to_string(),
                r.unknown.to_string(),
                r.terminating.to_string(),
                r.daemon_set.to_string(),
                r.host_network.to_string(),
                or_empty(r.ready),
                or_empty(r.schedulable),
                r.missing.to_string(),
                field(&r.status),
                field(&r.taints.as_ref().map(|t| t.join(",")).unwrap_or_default()),
            ];
            cells.extend(label_columns.iter().map(|k| field(r.labels.get(k).map_or("", String::as_str))));
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

/// The lines under the table: totals (over every node, shown or not),
/// unscheduled, rows left out by `--top`, and the filter.
fn footer(c: &Counted, opts: &TableOptions) -> String {
    let with_context = opts.context_column;
    let t = totals(&c.rows);
    let prefix = if with_context { format!("{}: ", c.context) } else { String::new() };
    let sat = t.allocatable.filter(|&a| a > 0).map(|a| t.pods as f64 / a as f64);
    let alloc = match t.allocatable {
        Some(a) => format!("{a} allocatable ({})", percent(sat)),
        None => "allocatable unknown".to_string(),
    };
    let mut s =
        format!("\n{prefix}TOTAL {} pods on {} nodes, {alloc}; {} unscheduled\n", t.pods, t.nodes, c.unscheduled);
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

    fn row(name: &str, pods: u32, alloc: u32, status: &str, missing: bool) -> NodeRow {
        NodeRow {
            running: pods.saturating_sub(2),
            pending: pods.min(1),
            terminating: pods.min(2) - pods.min(1),
            daemon_set: pods.min(1),
            ready: (!missing).then(|| status.starts_with("Ready")),
            schedulable: (!missing).then(|| !status.contains("Disabled")),
            allocatable: (alloc > 0).then_some(alloc),
            free: (alloc > 0).then(|| i64::from(alloc) - i64::from(pods)),
            saturation: (alloc > 0).then(|| f64::from(pods) / f64::from(alloc)),
            taints: (!missing).then(Vec::new),
            missing,
            status: status.into(),
            ..NodeRow::sample(name, pods, alloc)
        }
    }

    fn counted(context: &str) -> Counted {
        Counted {
            context: context.into(),
            observed_at: "2026-11-27T12:00:00Z".into(),
            resource_version: Some("1234".into()),
            filter: Filter { namespace: Some("web".into()), ..Default::default() },
            groups: None,
            left_out: None,
            rows: vec![
                row("node-0000", 110, 110, "Ready", false),
                row("node-0001", 0, 30, "NotReady,SchedulingDisabled", false),
                row("ghost", 3, 0, "Missing", true),
            ],
            unscheduled: 7,
        }
    }

    const OPTS: TableOptions = TableOptions {
        wide: false,
        no_headers: false,
        color: false,
        context_column: false,
        red_from: 0.9,
        picture: false,
        top: None,
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
        assert_eq!(trim_line("a   \x1b[39m"), "a\x1b[39m");
        assert_eq!(trim_line("a \x1b[31mb   \x1b[39m\x1b[0m"), "a \x1b[31mb\x1b[39m\x1b[0m");
        assert!(got.lines().all(|l| trim_line(l) == l), "{got:?}");
    }

    #[test]
    fn json_document_schema() {
        let v: serde_json::Value = serde_json::from_str(&document(&[counted("kind")], false, Format::Json)).unwrap();
        assert_eq!(v["apiVersion"], "podcount/v1");
        assert_eq!(v["kind"], "PodCount");
        assert_eq!(v["context"], "kind");
        assert_eq!(v["resourceVersion"], "1234");
        assert_eq!(v["filter"]["namespace"], "web");
        assert!(v["filter"]["labelSelector"].is_null());
        assert_eq!(v["unscheduled"], 7);
        assert_eq!(v["totals"], serde_json::json!({"nodes": 3, "pods": 113, "allocatable": 140}));
        let n = &v["nodes"][0];
        assert_eq!(n["name"], "node-0000");
        assert_eq!(n["pods"], 110);
        assert_eq!(n["saturation"], 1.0);
        assert_eq!(n["daemonSet"], 1);
        assert_eq!(n["ready"], true);
        assert_eq!(v["nodes"][2]["saturation"], serde_json::Value::Null);
        assert_eq!(v["nodes"][2]["missing"], true);
        let mut keys: Vec<&str> = n.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        let mut want = [
            "name",
            "pods",
            "allocatable",
            "free",
            "saturation",
            "running",
            "pending",
            "unknown",
            "terminating",
            "daemonSet",
            "hostNetwork",
            "ready",
            "schedulable",
            "missing",
            "status",
            "taints",
        ];
        want.sort_unstable();
        assert_eq!(keys, want);
    }

    #[test]
    fn yaml_and_list_documents() {
        let y: serde_json::Value =
            serde_yaml::from_str(&document(&[counted("a"), counted("b")], true, Format::Yaml)).unwrap();
        assert_eq!(y["kind"], "PodCountList");
        assert_eq!(y["items"][1]["context"], "b");
        assert_eq!(y["items"][0]["nodes"][0]["pods"], 110);
        let j: serde_json::Value = serde_json::from_str(&document(&[counted("a")], true, Format::Json)).unwrap();
        assert_eq!(j["kind"], "PodCountList");
    }

    #[test]
    fn percents_round_down() {
        assert_eq!(percent(Some(109.0 / 110.0)), "99%");
        assert_eq!(percent(Some(1.0)), "100%");
        assert_eq!(percent(Some(0.29 * 100.0 / 100.0)), "29%");
        assert_eq!(percent(None), "-");
    }

    #[test]
    fn csv_is_rfc_4180() {
        let out = csv(&[counted("a,\"b\"")], None);
        let lines: Vec<&str> = out.split_terminator("\r\n").collect();
        assert!(out.ends_with("\r\n") && !out.replace("\r\n", "").contains('\n'));
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("context,name,pods,allocatable,free,saturation,"));
        assert_eq!(lines[1], "\"a,\"\"b\"\"\",node-0000,110,110,0,1.0,108,1,0,1,1,0,true,true,false,Ready,");
        // Unknown allocatable, free, saturation, readiness: empty fields, as JSON's nulls.
        assert_eq!(lines[3], "\"a,\"\"b\"\"\",ghost,3,,,,1,1,0,1,1,0,,,true,Missing,");
        assert_eq!(csv(&[counted("a")], Some(1)).lines().count(), 2);
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
