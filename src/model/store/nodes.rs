//! The node store: what the report needs of each node, by name.

use std::collections::BTreeMap;

use super::Store;
use crate::model::node::NodeInfo;

/// Nodes by name (in name order), as the report needs them.
#[derive(Clone, Debug, Default)]
pub struct NodeStore {
    nodes: BTreeMap<String, NodeInfo>,
}

impl NodeStore {
    pub fn get(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    /// Every node, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.values()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
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
        if !self.nodes.contains_key(&n.name) {
            touched(NodeTouch::Added(n.clone()));
        }
        self.nodes.insert(n.name.clone(), n);
    }

    fn delete(&mut self, name: &String, touched: &mut impl FnMut(NodeTouch)) {
        if let Some(n) = self.nodes.remove(name) {
            touched(NodeTouch::Removed(n));
        }
    }

    fn changed(old: &Self, new: &Self, touched: &mut impl FnMut(NodeTouch)) {
        for n in new.nodes.values().filter(|n| !old.nodes.contains_key(&n.name)) {
            touched(NodeTouch::Added(n.clone()));
        }
        for n in old.nodes.values().filter(|n| !new.nodes.contains_key(&n.name)) {
            touched(NodeTouch::Removed(n.clone()));
        }
    }
}
