//! kubectl-podcount: how many pods sit on each node, and how close each node
//! is to its pod limit.
//!
//! Data flows one way: source ([`list`]) -> tally ([`tally`], pure) -> rows
//! ([`report`], pure) -> view ([`view`]) -> verdict ([`verdict`], thresholds
//! to exit code). [`connect`] turns kubectl's flags into clients; [`cli`]
//! holds the flags; [`count`] wires the count command.

pub mod bench;
pub mod cli;
pub mod complete;
pub mod connect;
pub mod count;
pub mod error;
pub mod informer;
pub mod list;
pub mod progress;
pub mod report;
pub mod split;
pub mod store;
pub mod tally;
pub mod verdict;
pub mod view;
pub mod watch;
pub mod wire;
