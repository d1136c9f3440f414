//! The node list: every node (or those a label selector picks), a page at a
//! time, decoded into what counting keeps of a node.

use super::list::walk;
use super::query::MAX_RESTARTS;
use crate::client::connect::Target;
use crate::client::http::Failure;
use crate::client::pager::{Accept, ItemSink, Items, ListRequest, Pager, decode_error};
use crate::decode::{Item, node_info};
use crate::error::{Error, Result};
use crate::model::node::NodeInfo;
use crate::model::node::NodeKeep;

/// A Node is kilobytes: at most this many a page.
pub const NODE_PAGE: u32 = 500;

/// Nodes decoded one by one as a page arrives; a page counts once complete.
struct NodeFold<'k> {
    nodes: Vec<NodeInfo>,
    /// Where the current page's nodes start in `nodes`.
    page: usize,
    keep: &'k NodeKeep,
}

impl ItemSink for NodeFold<'_> {
    fn begin_page(&mut self) {
        // A page retried after a cut starts over.
        self.nodes.truncate(self.page);
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let (info, _) = node_info(item, self.keep).map_err(|e| decode_error("node", e))?;
        self.nodes.push(info);
        Ok(())
    }

    fn end_page(&mut self, _bytes: u64) {
        self.page = self.nodes.len();
    }
}

/// The node List's requests: all nodes, or those matching
/// `label_selector`; `chunk_size` as for pods, capped at [`NODE_PAGE`] (0:
/// one request).
pub fn node_request(label_selector: Option<&str>, chunk_size: u32) -> ListRequest {
    ListRequest {
        path: "/api/v1/nodes".into(),
        accept: Accept::Objects,
        params: vec![("labelSelector", label_selector.map(String::from))],
        chunk_size: if chunk_size == 0 { 0 } else { chunk_size.min(NODE_PAGE) },
        resource: "nodes",
        namespace: None,
    }
}

/// The nodes, and what reading them took.
pub struct NodeList {
    pub nodes: Vec<NodeInfo>,
    pub requests: u64,
    pub bytes: u64,
    /// The List's resourceVersion: the nodes as they were then.
    pub resource_version: Option<String>,
}

/// Lists nodes ([`node_request`]), keeping what `keep` asks for.
pub async fn list_nodes(
    t: &Target,
    label_selector: Option<&str>,
    chunk_size: u32,
    keep: &NodeKeep,
) -> Result<Vec<NodeInfo>> {
    Ok(list_nodes_metered(t, label_selector, chunk_size, keep).await?.nodes)
}

/// [`list_nodes`], saying how many requests and bytes it took.
pub async fn list_nodes_metered(
    t: &Target,
    label_selector: Option<&str>,
    chunk_size: u32,
    keep: &NodeKeep,
) -> Result<NodeList> {
    let (mut requests, mut bytes) = (0, 0);
    for _ in 0..=MAX_RESTARTS {
        let mut pager = Pager::new(node_request(label_selector, chunk_size));
        let mut fold = NodeFold { nodes: Vec::new(), page: 0, keep };
        let mut items = Items::new(&mut fold, "nodes");
        let walked = walk(t, &mut pager, &mut items).await;
        requests += pager.pages;
        bytes += pager.bytes;
        match walked {
            Ok(()) => {
                let resource_version = pager.resource_version;
                // Grown by doubling while paging: at 5,000 nodes 3,000
                // empty places, half a megabyte, held while rows are built.
                fold.nodes.shrink_to_fit();
                return Ok(NodeList { nodes: fold.nodes, requests, bytes, resource_version });
            }
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
        let mut fold = NodeFold { nodes: Vec::new(), page: 0, keep: &NodeKeep::default() };
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
