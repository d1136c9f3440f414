//! The pure core: the counting rule, the tally it folds into, what is kept
//! of a node, quantities and the scheduler's request rule, the events a
//! source emits and the stores they keep current. No I/O; property-tested.

pub mod event;
pub mod filter;
pub mod fits;
pub mod label;
pub mod node;
pub mod placement;
pub mod pod;
pub mod quantity;
#[cfg(test)]
mod quantity_oracle;
pub mod release;
pub mod removal;
pub mod replay;
pub mod requests;
pub mod resource_name;
pub mod selector;
pub mod store;
pub mod tally;
pub mod vecmap;
