//! The node list: every node (or those a label selector picks), a page at a
//! time, decoded into what counting keeps of a node.

use super::list::walk;
use super::query::MAX_RESTARTS;
use crate::client::connect::Target;
use crate::client::http::{Failure, JSON};
use crate::client::pager::{Accept, ItemSink, Items, ListRequest, Pager, decode_error};
use crate::decode::Item;
use crate::decode::json::SlimNode;
use crate::error::{Error, Result};
use crate::model::node::NodeInfo;

/// A Node is kilobytes: at most this many a page.
pub const NODE_PAGE: u32 = 500;

/// Nodes decoded one by one as a page arrives; a page counts once complete.
struct NodeFold<'k> {
    nodes: Vec<NodeInfo>,
    /// Where the current page's nodes start in `nodes`.
    page: usize,
    keep_labels: &'k [String],
}

impl ItemSink for NodeFold<'_> {
    fn begin_page(&mut self) {
        // A page retried after a cut starts over.
        self.nodes.truncate(self.page);
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let Item::Json(raw) = item else { return Err(Error::cluster("nodes are read as JSON only")) };
        let n: SlimNode = serde_json::from_slice(raw).map_err(|e| decode_error("node", e))?;
        self.nodes.push(n.info(self.keep_labels));
        Ok(())
    }

    fn end_page(&mut self, _bytes: u64) {
        self.page = self.nodes.len();
    }
}

/// Lists nodes (all, or those matching `label_selector`); `chunk_size` as
/// for pods, capped at [`NODE_PAGE`] (0: one request). Of their labels only
/// `keep_labels` are kept.
pub async fn list_nodes(
    t: &Target,
    label_selector: Option<&str>,
    chunk_size: u32,
    keep_labels: &[String],
) -> Result<Vec<NodeInfo>> {
    let chunk_size = if chunk_size == 0 { 0 } else { chunk_size.min(NODE_PAGE) };
    for _ in 0..=MAX_RESTARTS {
        let mut pager = Pager::new(ListRequest {
            path: "/api/v1/nodes".into(),
            accept: Accept::Exactly(JSON),
            params: vec![("labelSelector", label_selector.map(String::from))],
            chunk_size,
            resource: "nodes",
            namespace: None,
        });
        let mut fold = NodeFold { nodes: Vec::new(), page: 0, keep_labels };
        let mut items = Items::new(&mut fold, "nodes");
        match walk(t, &mut pager, &mut items).await {
            Ok(()) => return Ok(fold.nodes),
            Err(Failure::Gone(_)) => continue,
            Err(f) => return Err(f.into_error()),
        }
    }
    Err(Error::cluster("the node list expired repeatedly (410 Gone); try again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page cut mid-body and retried counts once.
    #[test]
    fn a_retried_node_page_counts_once() {
        use crate::client::pager::PageSink;
        use crate::decode::Encoding;
        let nodes =
            br#"{"kind":"NodeList","metadata":{},"items":[{"metadata":{"name":"n1"}},{"metadata":{"name":"n2"}}]}"#;
        let mut fold = NodeFold { nodes: Vec::new(), page: 0, keep_labels: &[] };
        let mut items = Items::new(&mut fold, "nodes");
        items.begin(Encoding::Json);
        items.data(&nodes[..70]).unwrap();
        items.begin(Encoding::Json);
        items.data(nodes).unwrap();
        items.end().unwrap();
        let names: Vec<&str> = fold.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["n1", "n2"]);
    }
}
