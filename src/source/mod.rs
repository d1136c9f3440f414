//! Where counts come from: a paginated List folded into a tally ([`list`],
//! with the node list in [`nodes`]), or the informer ([`informer`]): list +
//! watch, emitting events that keep a store current.

pub mod endpoint;
pub mod identity;
pub mod informer;
pub mod label_keys;
pub mod list;
pub mod nodes;
pub mod placing;
pub mod query;
pub mod removal;
pub mod runtime_class;
