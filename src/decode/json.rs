//! The few fields of Pods, Nodes, Table rows and watch events that counting
//! reads from JSON, decoded straight from the response bytes with borrowed
//! strings. Everything else in a Pod (specs, statuses, managedFields:
//! kilobytes each) is skipped by the parser without being stored.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::model::node::{NodeFields, NodeInfo, NodeKeep};
use crate::model::pod::PodFacts;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta<'a> {
    #[serde(borrow, default, rename = "continue")]
    pub continue_token: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub resource_version: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SlimPod<'a> {
    #[serde(borrow, default)]
    pub metadata: PodMeta<'a>,
    #[serde(borrow, default)]
    pub spec: PodSpec<'a>,
    #[serde(borrow, default)]
    pub status: PodStatus<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMeta<'a> {
    #[serde(borrow, default)]
    pub uid: Cow<'a, str>,
    #[serde(borrow, default)]
    pub resource_version: Option<Cow<'a, str>>,
    #[serde(default)]
    pub deletion_timestamp: Option<IgnoredAny>,
    #[serde(borrow, default)]
    pub owner_references: Vec<OwnerRef<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OwnerRef<'a> {
    #[serde(borrow, default)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub controller: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec<'a> {
    #[serde(borrow, default)]
    pub node_name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub host_network: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PodStatus<'a> {
    #[serde(borrow, default)]
    pub phase: Option<Cow<'a, str>>,
}

impl<'a> SlimPod<'a> {
    pub fn facts(&self) -> PodFacts<&str> {
        PodFacts::read(
            self.spec.node_name.as_deref(),
            self.status.phase.as_deref(),
            self.metadata.deletion_timestamp.is_some(),
            self.metadata.owner_references.iter().map(|o| (Some(o.kind.as_ref()), o.controller)),
            self.spec.host_network,
        )
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SlimNode<'a> {
    #[serde(borrow, default)]
    pub metadata: NodeMeta<'a>,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(borrow, default)]
    pub status: NodeStatus<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeMeta<'a> {
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub labels: std::collections::BTreeMap<Cow<'a, str>, Cow<'a, str>>,
    #[serde(borrow, default)]
    pub resource_version: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NodeSpec {
    #[serde(default)]
    pub unschedulable: Option<bool>,
    #[serde(default)]
    pub taints: Vec<Taint>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Taint {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub effect: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct NodeStatus<'a> {
    /// Every allocatable resource (`pods` among them), as written.
    #[serde(borrow, default)]
    pub allocatable: Option<std::collections::BTreeMap<Cow<'a, str>, super::resources::QuantityText<'a>>>,
    #[serde(borrow, default)]
    pub conditions: Vec<Condition<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Condition<'a> {
    #[serde(borrow, default, rename = "type")]
    pub type_: Cow<'a, str>,
    #[serde(borrow, default)]
    pub status: Cow<'a, str>,
}

impl SlimNode<'_> {
    /// What counting keeps of the node, and what `keep` asks for.
    pub fn info(&self, keep: &NodeKeep) -> NodeInfo {
        NodeInfo::read(
            NodeFields {
                name: &self.metadata.name,
                labels: self.metadata.labels.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
                allocatable: self.status.allocatable.iter().flatten().map(|(k, q)| (k.as_ref(), q.0.as_ref())),
                conditions: self.status.conditions.iter().map(|c| (c.type_.as_ref(), c.status.as_ref())),
                unschedulable: self.spec.unschedulable.unwrap_or(false),
                taints: self.spec.taints.iter().map(|t| (t.key.as_str(), t.value.as_deref(), t.effect.as_str())),
            },
            keep,
        )
    }
}

/// What precedes the rows of a Table API page (`as=Table`,
/// `includeObject=None`): the column definitions.
#[derive(Debug, Deserialize)]
pub struct TableHead {
    #[serde(default, rename = "columnDefinitions")]
    pub columns: Vec<TableColumn>,
}

#[derive(Debug, Deserialize)]
pub struct TableColumn {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct TableRow<'a> {
    #[serde(borrow)]
    pub cells: Vec<&'a serde_json::value::RawValue>,
}

impl TableHead {
    /// Where the pod printer puts spec.nodeName.
    pub fn node_column(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.name == "Node")
    }
}

/// A Table row's node (None: unscheduled). The server filtered finished pods
/// out, so every row is a counted, non-terminal pod.
pub fn table_node<'a>(row: &TableRow<'a>, node_column: usize) -> Option<Cow<'a, str>> {
    let raw = row.cells.get(node_column)?.get();
    // Go's encoder writes "<none>" as "\u003cnone\u003e": decode, do not trim.
    let node: Cow<'a, str> = serde_json::from_str(raw).ok()?;
    (!node.is_empty() && node != "<none>").then_some(node)
}

/// One line of a watch stream. The object stays raw until the type says
/// what it is (a Status for ERROR, the resource otherwise).
#[derive(Debug, Deserialize)]
pub struct WatchLine<'a> {
    #[serde(borrow, rename = "type")]
    pub type_: Cow<'a, str>,
    #[serde(borrow)]
    pub object: &'a serde_json::value::RawValue,
}

/// A BOOKMARK's object: only its resourceVersion matters.
#[derive(Debug, Default, Deserialize)]
pub struct Bookmark<'a> {
    #[serde(borrow, default)]
    pub metadata: BookmarkMeta<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookmarkMeta<'a> {
    #[serde(borrow, default)]
    pub resource_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub annotations: std::collections::BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

impl BookmarkMeta<'_> {
    /// The bookmark that ends a WatchList's initial events.
    pub fn initial_events_end(&self) -> bool {
        self.annotations.get("k8s.io/initial-events-end").is_some_and(|v| v == "true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::Phase;

    /// One page of a node List.
    #[derive(Debug, Deserialize)]
    struct NodePage<'a> {
        #[serde(borrow, default)]
        items: Vec<SlimNode<'a>>,
    }

    #[test]
    fn decodes_only_counting_fields_and_skips_the_rest() {
        let page = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc","remainingItemCount":3},
          "items":[
            {"metadata":{"name":"a","namespace":"ns","uid":"u1","deletionTimestamp":"2026-01-01T00:00:00Z",
               "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"ds","uid":"x","controller":true}],
               "managedFields":[{"manager":"m","fieldsV1":{"f:spec":{}}}]},
             "spec":{"nodeName":"n\u002d1","hostNetwork":true,"containers":[{"name":"c","image":"i","env":[{"name":"A","value":"\"q\""}]}]},
             "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}},
            {"metadata":{"name":"b","ownerReferences":[{"kind":"DaemonSet","name":"ds"}]},"spec":{},"status":{}},
            {"metadata":{"name":"c"},"spec":{"nodeName":""},"status":{"phase":"Succeeded"}}
          ]}"#;
        let mut items = Vec::new();
        let mut split = crate::decode::split::Splitter::new();
        split
            .feed::<serde_json::Error>(page.as_bytes(), |i| {
                items.push(i.to_vec());
                Ok(())
            })
            .unwrap();
        let meta = split.meta().unwrap();
        assert_eq!(meta.continue_token.as_deref(), Some("abc"));
        assert_eq!(meta.resource_version.as_deref(), Some("42"));
        let pods: Vec<SlimPod> = items.iter().map(|i| serde_json::from_slice(i).unwrap()).collect();
        let f: Vec<_> = pods.iter().map(|p| p.facts()).collect();
        let ds = PodFacts {
            node: Some("n-1"),
            phase: Phase::Running,
            terminating: true,
            daemon_set: true,
            host_network: true,
        };
        assert_eq!(f[0], ds);
        // Not the controller: not a DaemonSet pod. No phase: Pending.
        let none =
            PodFacts { node: None, phase: Phase::Pending, terminating: false, daemon_set: false, host_network: false };
        assert_eq!(f[1], none);
        assert_eq!(f[2], PodFacts { phase: Phase::Succeeded, ..none });
    }

    #[test]
    fn decodes_nodes() {
        let page = r#"{"metadata":{},"items":[{"metadata":{"name":"n1","labels":{"a":"b"}},"spec":{"unschedulable":true,
            "taints":[{"key":"node.kubernetes.io/not-ready","effect":"NoExecute"},{"key":"dedicated","value":"gpu","effect":"NoSchedule"},
                      {"key":"spot","effect":"PreferNoSchedule"},{"key":"drain","effect":"NoExecute","timeAdded":"2026-01-01T00:00:00Z"}]},
            "status":{"allocatable":{"cpu":"8","pods":"110"},"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}]}}]}"#;
        let p: NodePage = serde_json::from_str(page).unwrap();
        let n = &p.items[0];
        assert_eq!(n.metadata.name, "n1");
        assert_eq!(n.spec.unschedulable, Some(true));
        assert_eq!(n.status.allocatable.as_ref().unwrap()["pods"].0, "110");
        assert_eq!(n.status.conditions[1].type_, "Ready");
        // Only NoSchedule/NoExecute taints, less the health ones.
        let info = n.info(&NodeKeep { labels: Vec::new(), resources: true });
        assert_eq!(info.taints, ["dedicated=gpu:NoSchedule".parse().unwrap(), "drain:NoExecute".parse().unwrap()]);
        assert_eq!((info.allocatable, info.resources.get("cpu")), (Some(110), Some(&8000)), "cpu in millicores");
        assert!(info.closed());
    }

    #[test]
    fn decodes_table_rows() {
        let page = r#"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"7","continue":"c"},
          "columnDefinitions":[{"name":"Name","type":"string"},{"name":"Ready","type":"string"},{"name":"Node","type":"string","priority":1}],
          "rows":[{"cells":["a","1/1","node-1"],"object":null},{"cells":["b","0/1","<none>"]},{"cells":["c","0/1","\u003cnone\u003e"]}]}"#;
        let mut split = crate::decode::split::Splitter::of(b"rows");
        let mut nodes = Vec::new();
        split
            .feed_with_head::<serde_json::Error>(page.as_bytes(), |head, row| {
                let head: TableHead = crate::decode::split::parse_head(head)?;
                let col = head.node_column().unwrap();
                assert_eq!(col, 2);
                let row: TableRow = serde_json::from_slice(row)?;
                nodes.push(table_node(&row, col).map(|n| n.into_owned()));
                Ok(())
            })
            .unwrap();
        assert_eq!(nodes, [Some("node-1".to_string()), None, None], "<none>, also escaped, is no node");
        assert_eq!(split.meta().unwrap().continue_token.as_deref(), Some("c"));
    }
}
