//! `-o csv`: RFC 4180 (CRLF line ends, fields quoted only when they hold a
//! comma, quote or line break), a header row, one row per node (or group)
//! with the fields of the JSON document.

use crate::report::resources::{Resources, base_units};
use crate::report::{Counted, round4};

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// A value, or an empty field for JSON's null.
fn or_empty<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A saturation as the JSON writes it (0.9091, 1.0); empty for null.
fn csv_ratio(v: Option<f64>) -> String {
    v.map(|s| serde_json::json!(round4(s)).to_string()).unwrap_or_default()
}

/// One row per node, with `-L` label columns (one per key, named by it), or
/// one row per group with `--group-by`; `top` rows of each context at most.
pub fn csv(counted: &[Counted], top: Option<usize>, label_columns: &[String]) -> String {
    if counted.iter().any(|c| c.groups.is_some()) {
        return group_csv(counted, top);
    }
    node_csv(counted, top, label_columns)
}

/// The resources rows carry, in first-seen order, and whether limits too.
fn shown<'r>(rows: impl Iterator<Item = Option<&'r Resources>>) -> (Vec<String>, bool) {
    let mut names: Vec<String> = Vec::new();
    let mut limits = false;
    for (name, row) in rows.flatten().flat_map(|r| &r.0) {
        limits |= row.limits.is_some();
        if !names.iter().any(|n| n == name.as_str()) {
            names.push(name.to_string());
        }
    }
    (names, limits)
}

/// `cpu.requests,cpu.allocatable,...`: the JSON's fields per resource.
fn resource_header(names: &[String], limits: bool) -> String {
    let mut out = String::new();
    for n in names {
        for f in ["requests", "allocatable", "free", "saturation"] {
            out.push(',');
            out.push_str(&csv_field(&format!("{n}.{f}")));
        }
        if limits {
            for f in ["limits", "overcommit"] {
                out.push(',');
                out.push_str(&csv_field(&format!("{n}.{f}")));
            }
        }
    }
    out
}

/// The fields [`resource_header`] names, in base units as the JSON writes them.
fn resource_fields(res: Option<&Resources>, names: &[String], limits: bool) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        let row = res.and_then(|r| r.get(n));
        let base = |v: Option<i128>| v.map(|v| base_units(n, v).to_string()).unwrap_or_default();
        out.push(base(row.map(|r| r.requests)));
        out.push(base(row.and_then(|r| r.allocatable)));
        out.push(base(row.and_then(|r| r.free())));
        out.push(csv_ratio(row.and_then(|r| r.saturation())));
        if limits {
            out.push(base(row.and_then(|r| r.limits)));
            out.push(csv_ratio(row.and_then(|r| r.overcommit())));
        }
    }
    out
}

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

/// `fits.NAME,fitsLimitedBy.NAME` per shape (groups: `fits.NAME` only).
fn fits_header(shapes: &[String], limited_by: bool) -> String {
    let mut out = String::new();
    for s in shapes {
        out.push(',');
        out.push_str(&csv_field(&format!("fits.{s}")));
        if limited_by {
            out.push(',');
            out.push_str(&csv_field(&format!("fitsLimitedBy.{s}")));
        }
    }
    out
}

fn group_csv(counted: &[Counted], top: Option<usize>) -> String {
    let field = csv_field;
    let groups = counted.iter().filter_map(|c| c.groups.as_ref());
    let (names, limits) = shown(groups.flat_map(|g| g.rows.iter().map(|r| r.resources.as_ref())));
    let mut out = String::from(
        "context,name,nodes,pods,allocatable,free,saturation,fullestNode,fullestSaturation,atOrAboveThreshold",
    );
    out.push_str(&resource_header(&names, limits));
    let shapes = shape_names(counted);
    out.push_str(&fits_header(&shapes, false));
    out.push_str("\r\n");
    for c in counted {
        let Some(g) = &c.groups else { continue };
        for r in g.rows.iter().take(top.unwrap_or(usize::MAX)) {
            let mut cells = vec![
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
            cells.extend(resource_fields(r.resources.as_ref(), &names, limits));
            cells.extend(shapes.iter().map(|s| or_empty(r.fits.get(s).copied().flatten())));
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

fn node_csv(counted: &[Counted], top: Option<usize>, label_columns: &[String]) -> String {
    let field = csv_field;
    let mut out = String::from(
        "context,name,pods,allocatable,free,saturation,running,pending,unknown,terminating,daemonSet,hostNetwork,ready,schedulable,missing,status,taints",
    );
    for k in label_columns {
        out.push(',');
        out.push_str(&field(k));
    }
    let (names, limits) = shown(counted.iter().flat_map(|c| c.rows.iter().map(|r| r.resources.as_ref())));
    out.push_str(&resource_header(&names, limits));
    let shapes = shape_names(counted);
    out.push_str(&fits_header(&shapes, true));
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
                field(
                    &r.taints
                        .as_ref()
                        .map(|t| t.iter().map(ToString::to_string).collect::<Vec<_>>().join(","))
                        .unwrap_or_default(),
                ),
            ];
            cells.extend(label_columns.iter().map(|k| field(r.labels.get(k).map_or("", String::as_str))));
            cells.extend(resource_fields(r.resources.as_ref(), &names, limits));
            for s in &shapes {
                cells.push(or_empty(r.fits.get(s).copied().flatten()));
                cells.push(field(
                    &r.fits_limited_by.get(s).cloned().flatten().map(|l| l.to_string()).unwrap_or_default(),
                ));
            }
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::counted;

    #[test]
    fn csv_is_rfc_4180() {
        let out = csv(&[counted("a,\"b\"")], None, &[]);
        let lines: Vec<&str> = out.split_terminator("\r\n").collect();
        assert!(out.ends_with("\r\n") && !out.replace("\r\n", "").contains('\n'));
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("context,name,pods,allocatable,free,saturation,"));
        assert_eq!(lines[1], "\"a,\"\"b\"\"\",node-0000,110,110,0,1.0,108,1,0,1,1,0,true,true,false,Ready,");
        // Unknown allocatable, free, saturation, readiness: empty fields, as JSON's nulls.
        assert_eq!(lines[3], "\"a,\"\"b\"\"\",ghost,3,,,,1,1,0,1,1,0,,,true,Missing,");
        assert_eq!(csv(&[counted("a")], Some(1), &[]).lines().count(), 2);
    }
}
