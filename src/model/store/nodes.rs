//! The node store: what the report needs of each node, by name.

use super::Store;
use crate::model::node::NodeInfo;

/// Nodes in name order, names unique: a sorted Vec, so the report reads
/// them as a slice (no copy of 5,000 nodes to draw a table) and a node's
/// name is held once. A node update replaces in place; a node joining or
/// leaving shifts the tail, which is rare; a relist brings them in the
/// apiserver's order, which is name order, so they append.
#[derive(Clone, Debug, Default)]
pub struct NodeStore {
    nodes: Vec<NodeInfo>,
}

impl NodeStore {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.nodes.binary_search_by(|n| n.name.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&NodeInfo> {
        self.find(name).ok().map(|i| &self.nodes[i])
    }

    /// Every node, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.iter()
    }

    /// Every node, in name order.
    pub fn as_slice(&self) -> &[NodeInfo] {
        &self.nodes
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }
}

/// A node entering or leaving the store.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeTouch {
    Added(NodeInfo),
    Removed(NodeInfo),
}

impl Store for NodeStore {
    type Item = NodeInfo;
    type Key = String;
    type Touch = NodeTouch;

    fn fresh(&self) -> Self {
        NodeStore::default()
    }

    fn apply(&mut self, n: NodeInfo, touched: &mut impl FnMut(NodeTouch)) {
        match self.find(&n.name) {
            Ok(i) => self.nodes[i] = n,
            Err(i) => {
                touched(NodeTouch::Added(n.clone()));
                self.nodes.insert(i, n);
            }
        }
    }

    fn delete(&mut self, name: &String, touched: &mut impl FnMut(NodeTouch)) {
        if let Ok(i) = self.find(name) {
            touched(NodeTouch::Removed(self.nodes.remove(i)));
        }
    }

    fn changed(old: &Self, new: &Self, touched: &mut impl FnMut(NodeTouch)) {
        for n in new.nodes.iter().filter(|n| old.find(&n.name).is_err()) {
            touched(NodeTouch::Added(n.clone()));
        }
        for n in old.nodes.iter().filter(|n| new.find(&n.name).is_err()) {
            touched(NodeTouch::Removed(n.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of applies and deletes leaves the nodes a BTreeMap
        /// by name would hold, in name order, each arrival and departure
        /// reported once.
        #[test]
        fn behaves_like_a_map_by_name(ops in proptest::collection::vec((0u8..12, any::<bool>(), any::<u32>()), 0..200)) {
            let mut store = NodeStore::default();
            let mut want: BTreeMap<String, u32> = BTreeMap::new();
            for (n, delete, pods) in ops {
                let name = format!("node-{n}");
                let mut seen = Vec::new();
                if delete {
                    let had = want.remove(&name).is_some();
                    store.delete(&name, &mut |t| seen.push(t));
                    prop_assert_eq!(seen.len(), usize::from(had));
                } else {
                    let new = want.insert(name.clone(), pods).is_none();
                    let info = NodeInfo { name: name.clone(), allocatable: Some(pods), ..Default::default() };
                    store.apply(info, &mut |t| seen.push(t));
                    prop_assert_eq!(seen.len(), usize::from(new));
                }
            }
            let got: Vec<(String, u32)> =
                store.iter().map(|n| (n.name.clone(), n.allocatable.unwrap_or_default())).collect();
            prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        }
    }
}
