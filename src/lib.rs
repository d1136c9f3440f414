//! kubectl-podcount: how many pods sit on each node, and how close each node
//! is to its pod limit.
//!
//! Data flows one way: source ([`list`] over [`pager`], or [`informer`]) ->
//! events ([`event`]) -> tally ([`tally`], [`store`]; pure) -> rows
//! ([`report`], pure) -> view ([`view`], [`changes`]) -> verdict
//! ([`verdict`], thresholds to exit code). Pods are read as protobuf
//! ([`proto`]) or JSON ([`wire`], [`split`]), whichever the server sends. Every request goes through
//! [`http`] (timeouts, HTTP/2 pings, the one retry policy of [`retry`]).
//! [`connect`] turns kubectl's flags into clients; [`cli`] holds the flags;
//! [`count`], [`watch`] and [`bench`] wire the commands.

pub mod alloc;
pub mod bench;
pub mod changes;
pub mod cli;
pub mod complete;
pub mod connect;
pub mod count;
pub mod error;
pub mod event;
pub mod http;
pub mod informer;
pub mod list;
pub mod metrics;
pub mod pager;
pub mod progress;
pub mod proto;
pub mod report;
pub mod retry;
pub mod serve;
pub mod split;
pub mod store;
pub mod tally;
pub mod verdict;
pub mod view;
pub mod watch;
pub mod wire;
