//! The pure core: the counting rule, the tally it folds into, what is kept
//! of a node, the events a source emits and the stores they keep current.
//! No I/O; property-tested.

pub mod event;
pub mod filter;
pub mod node;
pub mod pod;
pub mod store;
pub mod tally;
