//! `-o csv`: RFC 4180 (CRLF line ends, fields quoted only when they hold a
//! comma, quote or line break), a header row, one row per node (or group)
//! with the fields of the JSON document.

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

fn group_csv(counted: &[Counted], top: Option<usize>) -> String {
    let field = csv_field;
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
