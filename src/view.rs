//! Renders counted clusters: the table (kubectl-style, plain when piped) and
//! the `podcount/v1` JSON/YAML documents. Pure: strings in, strings out.

use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, presets};
use serde::{Deserialize, Serialize};

use crate::list::PodQuery;
use crate::report::{NodeRow, Totals, totals};

pub const API_VERSION: &str = "podcount/v1";

/// The filters a count ran with, stated in every output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub node_selector: Option<String>,
}

impl Filter {
    /// The filters a query ran with (the pod query's, plus the node selector).
    pub fn of(q: &PodQuery, node_selector: Option<&str>) -> Filter {
        Filter {
            namespace: q.namespace.clone(),
            label_selector: q.label_selector.clone(),
            field_selector: q.field_selector.clone(),
            node_selector: node_selector.map(String::from),
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
    unscheduled: u64,
    totals: Totals,
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
        unscheduled: c.unscheduled,
        totals: totals(&c.rows),
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
}

/// `41%`: rounded down, so 100% means full.
pub fn percent(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_string(), |s| format!("{}%", (s * 100.0 + 1e-9).floor() as i64))
}

fn saturation_cell(r: &NodeRow, opts: &TableOptions) -> Cell {
    let cell = Cell::new(percent(r.saturation));
    match r.saturation {
        Some(s) if opts.color && s >= opts.red_from => cell.fg(Color::Red),
        Some(s) if opts.color && s >= opts.red_from * 0.75 => cell.fg(Color::Yellow),
        _ => cell,
    }
}

pub fn table(counted: &[Counted], opts: &TableOptions) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    if opts.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    let mut header: Vec<&str> = Vec::new();
    if opts.context_column {
        header.push("CONTEXT");
    }
    header.extend(["NODE", "PODS", "ALLOCATABLE", "FREE", "SATURATION"]);
    if opts.wide {
        header.extend(["RUNNING", "PENDING", "UNKNOWN", "TERMINATING", "DAEMONSET", "STATUS"]);
    }
    if !opts.no_headers {
        t.set_header(header.iter().map(Cell::new));
    }
    for c in counted {
        for r in &c.rows {
            let mut row: Vec<Cell> = Vec::new();
            if opts.context_column {
                row.push(Cell::new(&c.context));
            }
            let known = !r.missing && r.allocatable > 0;
            row.push(Cell::new(&r.name));
            row.push(Cell::new(r.pods));
            row.push(Cell::new(if known { r.allocatable.to_string() } else { "-".into() }));
            row.push(Cell::new(if known { r.free.to_string() } else { "-".into() }));
            row.push(saturation_cell(r, opts));
            if opts.wide {
                row.extend([r.running, r.pending, r.unknown, r.terminating, r.daemon_set].map(Cell::new));
                let status = Cell::new(&r.status);
                row.push(if opts.color && r.status != "Ready" { status.fg(Color::Yellow) } else { status });
            }
            t.add_row(row);
        }
    }
    for col in t.column_iter_mut() {
        col.set_padding((0, 3));
        col.set_cell_alignment(CellAlignment::Left);
        col.set_constraint(ColumnConstraint::ContentWidth);
    }
    let mut out = String::new();
    if !counted.iter().all(|c| c.rows.is_empty()) || !opts.no_headers {
        for line in t.to_string().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if !opts.no_headers {
        for c in counted {
            out.push_str(&footer(c, opts.context_column));
        }
    }
    out
}

/// The lines under the table: totals, unscheduled, and the filter.
fn footer(c: &Counted, with_context: bool) -> String {
    let t = totals(&c.rows);
    let prefix = if with_context { format!("{}: ", c.context) } else { String::new() };
    let sat = (t.allocatable > 0).then(|| t.pods as f64 / t.allocatable as f64);
    let mut s = format!(
        "\n{prefix}TOTAL {} pods on {} nodes, {} allocatable ({}); {} unscheduled\n",
        t.pods,
        t.nodes,
        t.allocatable,
        percent(sat),
        c.unscheduled
    );
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
            name: name.into(),
            pods,
            allocatable: alloc,
            free: i64::from(alloc) - i64::from(pods),
            saturation: (alloc > 0).then(|| f64::from(pods) / f64::from(alloc)),
            running: pods.saturating_sub(2),
            pending: pods.min(1),
            unknown: 0,
            terminating: pods.min(2) - pods.min(1),
            daemon_set: pods.min(1),
            ready: status.starts_with("Ready"),
            schedulable: !status.contains("Disabled"),
            missing,
            status: status.into(),
        }
    }

    fn counted(context: &str) -> Counted {
        Counted {
            context: context.into(),
            observed_at: "2026-11-27T12:00:00Z".into(),
            resource_version: Some("1234".into()),
            filter: Filter { namespace: Some("web".into()), ..Default::default() },
            rows: vec![
                row("node-0000", 110, 110, "Ready", false),
                row("node-0001", 0, 30, "NotReady,SchedulingDisabled", false),
                row("ghost", 3, 0, "Missing", true),
            ],
            unscheduled: 7,
        }
    }

    const OPTS: TableOptions =
        TableOptions { wide: false, no_headers: false, color: false, context_column: false, red_from: 0.9 };

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
            "CONTEXT   NODE        PODS   ALLOCATABLE   FREE   SATURATION   RUNNING   PENDING   UNKNOWN   TERMINATING   DAEMONSET   STATUS"
        );
        assert_eq!(
            got.lines().nth(2).unwrap(),
            "a         node-0001   0      30            30     0%           0         0         0         0             0           NotReady,SchedulingDisabled"
        );
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
        let got = table(&[counted("a")], &TableOptions { color: true, ..OPTS });
        assert!(got.contains("\x1b["), "{got:?}");
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
            "ready",
            "schedulable",
            "missing",
            "status",
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
}
