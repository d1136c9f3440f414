//! The `podcount/v1` documents: `PodCount` (one context) and `PodCountList`
//! (several), as JSON or YAML, and read back (`count --from` reads a watch's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::filter::Filter;
use crate::report::Counted;
use crate::report::fits::{FitsAnswer, ShapeDoc};
use crate::report::group::{GroupRow, Grouped};
use crate::report::histogram::{SaturationRange, histogram};
use crate::report::loss::LossEach;
use crate::report::release::Release;
use crate::report::rows::{NodeRow, Totals};
use crate::report::whatif::WhatIf;

pub const API_VERSION: &str = "podcount/v1";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodCountDoc<'a> {
    api_version: &'static str,
    kind: &'static str,
    context: &'a str,
    #[serde(rename = "clusterID", skip_serializing_if = "Option::is_none")]
    cluster_id: Option<&'a str>,
    observed_at: &'a str,
    resource_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_resource_version: Option<&'a str>,
    filter: &'a Filter,
    nodes: &'a [NodeRow],
    #[serde(skip_serializing_if = "Option::is_none")]
    group_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<&'a [GroupRow]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unschedulable_nodes_left_out: Option<u64>,
    /// `--fits`: the shapes, in base units.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    shapes: Vec<ShapeDoc>,
    /// `--fits`: per shape, how many more over the cluster, exact or an
    /// upper bound and why.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fits: &'a BTreeMap<String, FitsAnswer>,
    /// `--fits-release`: how its workloads land over every order.
    #[serde(skip_serializing_if = "Option::is_none")]
    release: Option<&'a Release>,
    /// `--drain`/`--lose`: what the removal displaces and where it lands.
    #[serde(skip_serializing_if = "Option::is_none")]
    what_if: Option<&'a WhatIf>,
    /// `watch --lose-each`: what losing each value of a node label does.
    #[serde(skip_serializing_if = "Option::is_none")]
    loss_each: Option<&'a LossEach>,
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
        cluster_id: c.cluster_id.as_deref(),
        observed_at: &c.observed_at,
        resource_version: c.resource_version.as_deref(),
        node_resource_version: c.node_resource_version.as_deref(),
        filter: &c.filter,
        nodes: &c.rows,
        group_by: c.groups.as_ref().map(|g| g.by.as_str()),
        groups: c.groups.as_ref().map(|g| g.rows.as_slice()),
        unschedulable_nodes_left_out: c.left_out,
        shapes: c.shapes.iter().map(ShapeDoc::of).collect(),
        fits: &c.answers,
        release: c.release.as_ref(),
        what_if: c.what_if.as_ref(),
        loss_each: c.loss_each.as_ref(),
        unscheduled: c.unscheduled,
        totals: c.totals(),
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
    #[serde(default, rename = "clusterID")]
    cluster_id: Option<String>,
    #[serde(default)]
    observed_at: String,
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    node_resource_version: Option<String>,
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
    shapes: Vec<ShapeDoc>,
    #[serde(default)]
    fits: BTreeMap<String, FitsAnswer>,
    #[serde(default)]
    release: Option<Release>,
    #[serde(default)]
    what_if: Option<WhatIf>,
    #[serde(default)]
    loss_each: Option<LossEach>,
    #[serde(default)]
    items: Vec<ServedDoc>,
}

/// Reads a `PodCount` or `PodCountList` document back into counted clusters.
pub fn parse(json: &[u8]) -> Result<Vec<Counted>, String> {
    let doc: ServedDoc = serde_json::from_slice(json).map_err(|e| format!("not a PodCount document: {e}"))?;
    let one = |d: ServedDoc| Counted {
        context: d.context,
        cluster_id: d.cluster_id,
        observed_at: d.observed_at,
        resource_version: d.resource_version,
        node_resource_version: d.node_resource_version,
        filter: d.filter,
        rows: d.nodes,
        unscheduled: d.unscheduled,
        // The served threshold is not in the document; the printer regroups.
        groups: d.group_by.map(|by| Grouped { by, threshold: None, rows: d.groups }),
        left_out: d.unschedulable_nodes_left_out,
        shapes: d.shapes.iter().map(ShapeDoc::shape).collect(),
        answers: d.fits,
        release: d.release,
        what_if: d.what_if,
        loss_each: d.loss_each,
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
pub fn render(counted: &[Counted], list: bool, format: Format) -> String {
    let mut out = Vec::new();
    write(&mut out, counted, list, format).expect("writing to memory does not fail");
    String::from_utf8(out).expect("serde writes UTF-8")
}

/// [`render`] straight into `w`, never holding the text: at 5,000 nodes
/// with `--resources` the document is megabytes.
pub fn write(w: &mut dyn std::io::Write, counted: &[Counted], list: bool, format: Format) -> std::io::Result<()> {
    let mut render = |v: &dyn erased::Ser| match format {
        Format::Json => v.json(&mut *w),
        Format::Yaml => v.yaml(&mut *w),
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

/// The document as a JSON value: what `-o jsonpath` and `-o custom-columns`
/// read, the same fields `-o json` prints.
pub fn value(counted: &[Counted], list: bool) -> serde_json::Value {
    let value = if list || counted.len() != 1 {
        serde_json::to_value(PodCountListDoc {
            api_version: API_VERSION,
            kind: "PodCountList",
            items: counted.iter().map(doc).collect(),
        })
    } else {
        serde_json::to_value(doc(&counted[0]))
    };
    value.expect("documents always serialise")
}

/// Serialising either document type through one closure.
mod erased {
    use std::io::{Error, Write};

    pub trait Ser {
        fn json(&self, w: &mut dyn Write) -> std::io::Result<()>;
        fn yaml(&self, w: &mut dyn Write) -> std::io::Result<()>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self, mut w: &mut dyn Write) -> std::io::Result<()> {
            serde_json::to_writer_pretty(&mut w, self).map_err(Error::other)?;
            w.write_all(b"\n")
        }
        fn yaml(&self, w: &mut dyn Write) -> std::io::Result<()> {
            serde_yaml::to_writer(w, self).map_err(Error::other)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::testing::counted;

    #[test]
    fn json_document_schema() {
        let v: serde_json::Value = serde_json::from_str(&render(&[counted("kind")], false, Format::Json)).unwrap();
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
            serde_yaml::from_str(&render(&[counted("a"), counted("b")], true, Format::Yaml)).unwrap();
        assert_eq!(y["kind"], "PodCountList");
        assert_eq!(y["items"][1]["context"], "b");
        assert_eq!(y["items"][0]["nodes"][0]["pods"], 110);
        let j: serde_json::Value = serde_json::from_str(&render(&[counted("a")], true, Format::Json)).unwrap();
        assert_eq!(j["kind"], "PodCountList");
    }

    #[test]
    fn a_served_loss_each_is_read_back_by_count_from() {
        use crate::report::loss::{Loss, LossEach};
        use crate::report::release::Count;
        let mut c = counted("a");
        let mut l = LossEach { label: "topology.kubernetes.io/zone".into(), ..Default::default() };
        let loss = Loss {
            nodes: 2,
            displaced: 9,
            stranded: Count::Range([1, 4]),
            unreplaced: 2,
            exact: false,
            ..Loss::default()
        };
        l.values.insert("zone-a".into(), loss);
        l.evaluated_at = Some("2026-12-07T10:00:00.000Z".into());
        c.loss_each = Some(l);
        let json = render(std::slice::from_ref(&c), false, Format::Json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["lossEach"]["values"]["zone-a"]["stranded"], serde_json::json!([1, 4]), "{v}");
        assert_eq!(parse(json.as_bytes()).unwrap()[0].loss_each, c.loss_each);
        let plain: serde_json::Value = serde_json::from_str(&render(&[counted("a")], false, Format::Json)).unwrap();
        assert!(plain.get("lossEach").is_none(), "only a watch that asks serves it");
    }
}
