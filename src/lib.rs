//! kubectl-podcount: how many pods sit on each node, and how close each node
//! is to its pod limit.
//!
//! The folders follow the data flow, one way:
//!
//! ```text
//! cli ──> count | watch | bench          commands: wire the layers below
//!           │
//!           ├─> source   list (pages folded into a tally) | informer (list + watch -> events)
//!           │     └─> client (connect, http, retry, pager)  and  decode (protobuf | JSON -> pod facts)
//!           ├─> report   tally + nodes -> rows, groups, histogram; thresholds -> verdict
//!           ├─> render   rows -> table | wide | json | yaml | csv
//!           └─> model    the pure core: counting rule, tally, node, events, stores
//! ```
//!
//! A pod travels from the wire to a printed line like this: [`client::pager`]
//! reads a List page (or [`source::informer`] a watch frame), [`decode`]
//! splits it into items as bytes arrive and reads each item's few counting
//! fields ([`model::pod::PodFacts`]), the counting rule turns those into a
//! contribution that [`model::tally`] folds in (or [`model::store`] keeps per
//! UID), [`report`] joins the tally with the node list into rows, and
//! [`render`] prints them; [`report::verdict`] turns thresholds into the
//! exit code. Nothing below the commands imports [`cli`].

pub mod cli;
pub mod error;
pub mod memory;
pub(crate) mod process;
pub(crate) mod rng;
#[cfg(test)]
mod test_oracle;

pub(crate) mod bench;
pub(crate) mod client;
pub(crate) mod count;
pub(crate) mod decode;
pub(crate) mod model;
pub(crate) mod render;
pub(crate) mod report;
pub(crate) mod source;
pub(crate) mod watch;
