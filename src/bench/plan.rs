//! What `bench` runs: the strategies, and every run of them it plans (paged
//! strategies at each chunk size, object strategies in each encoding), each
//! with its label and the floor it is held against.

use crate::decode::Encoding;
use crate::source::nodes::NODE_PAGE;

/// A way to count pods that people argue about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    List,
    /// The floor: the same paged requests as list, bytes read and thrown away.
    Floor,
    /// The floor of the Table path: table's requests, bytes thrown away.
    FloorTable,
    ListCached,
    PerNode,
    Table,
    Informer,
    InformerStreaming,
    /// list, also reading every pod's requests (`count --resources`).
    ListResources,
    /// informer, also keeping every pod's requests (`watch --resources`).
    InformerResources,
    /// The node List as `count` reads it (lean decode).
    Nodes,
    /// The node List's requests, bytes thrown away.
    FloorNodes,
}

impl Strategy {
    /// Every strategy, in the order `bench` runs and prints them by default.
    pub const ALL: [Strategy; 12] = [
        Strategy::List,
        Strategy::Floor,
        Strategy::FloorTable,
        Strategy::ListCached,
        Strategy::PerNode,
        Strategy::Table,
        Strategy::Informer,
        Strategy::InformerStreaming,
        Strategy::ListResources,
        Strategy::InformerResources,
        Strategy::Nodes,
        Strategy::FloorNodes,
    ];

    /// The name on the command line and in `-o json`'s `strategy`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::List => "list",
            Strategy::Floor => "floor",
            Strategy::FloorTable => "floor-table",
            Strategy::ListCached => "list-cached",
            Strategy::PerNode => "per-node",
            Strategy::Table => "table",
            Strategy::Informer => "informer",
            Strategy::InformerStreaming => "informer-streaming",
            Strategy::ListResources => "list-resources",
            Strategy::InformerResources => "informer-resources",
            Strategy::Nodes => "nodes",
            Strategy::FloorNodes => "floor-nodes",
        }
    }

    /// Whether it counts pods (and so has counts to agree on).
    pub fn counts_pods(self) -> bool {
        !matches!(self, Strategy::Floor | Strategy::FloorTable | Strategy::Nodes | Strategy::FloorNodes)
    }
}

/// One strategy run as planned: which, at what page size, in which encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub strategy: Strategy,
    pub chunk: u32,
    pub full: bool,
    pub wire: Encoding,
}

impl Plan {
    /// The Table path and the full k8s-openapi decode read JSON only.
    pub fn json_only(&self) -> bool {
        matches!(self.strategy, Strategy::Table | Strategy::FloorTable) || self.full
    }

    pub fn label(&self) -> String {
        let (s, c, w) = (self.strategy, self.chunk, self.wire.name());
        match s {
            Strategy::List if self.full => format!("list ({w}, chunk {c}, full Pod decode)"),
            Strategy::List => format!("list ({w}, chunk {c})"),
            Strategy::Floor => format!("floor ({w}, chunk {c})"),
            Strategy::FloorTable => format!("floor-table (chunk {c})"),
            Strategy::ListCached => format!("list-cached ({w}, rv=0)"),
            Strategy::PerNode => format!("per-node ({w})"),
            Strategy::Table => format!("table (chunk {c})"),
            Strategy::Informer => format!("informer ({w}, chunk {c})"),
            Strategy::InformerStreaming => format!("informer-streaming ({w})"),
            Strategy::ListResources => format!("list-resources ({w}, chunk {c})"),
            Strategy::InformerResources => format!("informer-resources ({w}, chunk {c})"),
            Strategy::Nodes => format!("nodes ({w}, chunk {c})"),
            Strategy::FloorNodes => format!("floor-nodes ({w}, chunk {c})"),
        }
    }

    pub fn decode(&self) -> &'static str {
        match self.strategy {
            Strategy::Floor | Strategy::FloorTable | Strategy::FloorNodes => "none",
            Strategy::Table => "table-rows",
            _ if self.full => "full",
            _ => "lean",
        }
    }

    /// The floor this run is held against: the same requests, nothing decoded.
    pub fn floor(&self) -> Option<Plan> {
        let floor = match self.strategy {
            Strategy::List | Strategy::Informer | Strategy::ListResources | Strategy::InformerResources
                if !self.full =>
            {
                Strategy::Floor
            }
            Strategy::Table => Strategy::FloorTable,
            Strategy::Nodes => Strategy::FloorNodes,
            _ => return None,
        };
        Some(Plan { strategy: floor, full: false, ..*self })
    }
}

/// Every run `bench` makes: paged strategies at each chunk size, object
/// strategies in each encoding.
pub fn plan(strategies: &[Strategy], chunk_sizes: &[u32], wires: &[Encoding], full: bool) -> Vec<Plan> {
    let mut plan = Vec::new();
    for &strategy in strategies {
        let chunks = match strategy {
            // The informer too: its first sync is compared with the floor at
            // the page size the watch uses (the default).
            Strategy::List
            | Strategy::Table
            | Strategy::Floor
            | Strategy::FloorTable
            | Strategy::Informer
            | Strategy::ListResources
            | Strategy::InformerResources => chunk_sizes,
            _ => &chunk_sizes[..1],
        };
        for &chunk in chunks {
            // Nodes come at most NODE_PAGE a page, whatever --chunk-sizes says.
            let chunk = match strategy {
                Strategy::Nodes | Strategy::FloorNodes if chunk > 0 => chunk.min(NODE_PAGE),
                _ => chunk,
            };
            for &wire in wires {
                let p = Plan { strategy, chunk, full: false, wire };
                let p = if p.json_only() { Plan { wire: Encoding::Json, ..p } } else { p };
                if !plan.contains(&p) {
                    plan.push(p);
                }
            }
        }
    }
    if full {
        plan.push(Plan { strategy: Strategy::List, chunk: chunk_sizes[0], full: true, wire: Encoding::Json });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_paged_strategies_per_chunk_and_objects_per_encoding() {
        let wires = [Encoding::Protobuf, Encoding::Json];
        let p = plan(&[Strategy::List, Strategy::Table, Strategy::PerNode], &[500, 5000], &wires, true);
        let labels: Vec<String> = p.iter().map(Plan::label).collect();
        assert_eq!(
            labels,
            [
                "list (protobuf, chunk 500)",
                "list (json, chunk 500)",
                "list (protobuf, chunk 5000)",
                "list (json, chunk 5000)",
                "table (chunk 500)",
                "table (chunk 5000)",
                "per-node (protobuf)",
                "per-node (json)",
                "list (json, chunk 500, full Pod decode)",
            ]
        );
        assert_eq!(p[0].floor().map(|f| f.label()), Some("floor (protobuf, chunk 500)".to_string()));
        assert_eq!(p[4].floor().map(|f| f.label()), Some("floor-table (chunk 500)".to_string()));
        assert_eq!(p[8].floor(), None);
        let p = plan(&[Strategy::Nodes, Strategy::FloorNodes], &[5000], &wires[..1], false);
        let labels: Vec<String> = p.iter().map(Plan::label).collect();
        assert_eq!(labels, ["nodes (protobuf, chunk 500)", "floor-nodes (protobuf, chunk 500)"]);
        assert_eq!(p[0].floor(), Some(p[1]));
        assert!(!Strategy::Nodes.counts_pods() && Strategy::PerNode.counts_pods());
    }
}
