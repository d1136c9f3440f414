//! The count fold: a consistent paginated List of pods (see `pager`), each
//! page decoded into only the counting fields (see `wire`), folded into a
//! tally and dropped, so memory stays flat however many pods the cluster
//! has. Nodes are listed the same way.

use crate::cli::FilterArgs;
use crate::connect::Target;
use crate::error::{Error, Result};
use crate::http::Failure;
use crate::pager::{Accept, ItemSink, Items, ListRequest, PageMeta, PageSink, Pager, decode_error, path_segment};
use crate::report::NodeInfo;
use crate::split::{Splitter, parse_head};
use crate::tally::{Phase, PodFacts, Tally};
use crate::wire::{Encoding, Item, LeanPod, SlimNode, TableHead, TableRow, table_node};

/// Pushed to the server so finished pods are never sent at all; ANDed with a
/// user's `--field-selector`. Counting still applies the rule itself.
pub const NOT_FINISHED: &str = "status.phase!=Succeeded,status.phase!=Failed";

pub use crate::http::JSON;
/// The Table API: rows of printed columns instead of objects.
pub const TABLE: &str = "application/json;as=Table;g=meta.k8s.io;v=v1";

/// How pods are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Pod objects, decoded lean: counts and the full breakdown
    #[default]
    Objects,
    /// The Table API without objects: the server prints only the Node
    /// column we read, a fraction of the bytes; counts only, no breakdown
    Table,
}

/// How often a list whose continue token expired (410) starts over.
const MAX_RESTARTS: u32 = 3;

#[derive(Clone, Debug, Default)]
pub struct PodQuery {
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// 0: one unpaginated request.
    pub chunk_size: u32,
    /// Unset: a consistent read. "0": whatever the apiserver's watch cache
    /// holds (the server then ignores `limit`).
    pub resource_version: Option<String>,
    pub method: Method,
}

impl PodQuery {
    /// The query kubectl's selection flags ask for.
    pub fn new(f: &FilterArgs, chunk_size: u32, method: Method) -> PodQuery {
        PodQuery {
            namespace: f.namespace.clone().filter(|_| !f.all_namespaces),
            label_selector: f.selector.clone(),
            field_selector: f.field_selector.clone(),
            chunk_size,
            resource_version: None,
            method,
        }
    }

    /// The field selector sent: the user's, ANDed with [`NOT_FINISHED`].
    pub fn server_field_selector(&self) -> String {
        match self.field_selector.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(user) => format!("{user},{NOT_FINISHED}"),
            None => NOT_FINISHED.to_string(),
        }
    }

    pub fn path(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("/api/v1/namespaces/{}/pods", path_segment(ns)),
            None => "/api/v1/pods".to_string(),
        }
    }
}

/// A finished pod count.
#[derive(Debug)]
pub struct PodCount {
    pub tally: Tally<String>,
    /// The resourceVersion of the consistent read the counts come from.
    pub resource_version: Option<String>,
}

/// What a progress display is told after every page.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub pages: u64,
    pub pods: u64,
    /// Response body bytes read so far.
    pub bytes: u64,
}

impl PodQuery {
    /// The paginated List this query makes.
    pub fn list_request(&self) -> ListRequest {
        let table = self.method == Method::Table;
        ListRequest {
            path: self.path(),
            accept: if table { Accept::Exactly(TABLE) } else { Accept::Objects },
            params: vec![
                ("labelSelector", self.label_selector.clone()),
                ("fieldSelector", Some(self.server_field_selector())),
                ("resourceVersion", self.resource_version.clone()),
                ("includeObject", table.then(|| "None".to_string())),
            ],
            chunk_size: self.chunk_size,
            resource: "pods",
            namespace: self.namespace.clone(),
        }
    }
}

/// Counts pods with a consistent paginated List. An expired continue token
/// restarts the count from the top (up to [`MAX_RESTARTS`] times, warning on
/// stderr), so counts are never partial or doubled.
pub async fn count_pods(
    t: &Target,
    q: &PodQuery,
    mut progress: impl FnMut(Progress),
    mut warn: impl FnMut(String),
) -> Result<PodCount> {
    let mut restarts = 0;
    loop {
        let mut fold = Fold::new(&mut progress);
        let mut pager = Pager::new(q.list_request());
        let result = if q.method == Method::Table {
            count_table(t, &mut pager, &mut fold).await
        } else {
            let mut items = Items::new(&mut fold, "pods");
            walk(t, &mut pager, &mut items).await
        };
        match result {
            Ok(()) => return Ok(PodCount { tally: fold.tally, resource_version: pager.resource_version }),
            Err(Failure::Gone(msg)) if restarts < MAX_RESTARTS => {
                restarts += 1;
                warn(format!(
                    "the pod list expired after {} pages (410 Gone: {msg}); counting again from the top ({restarts}/{MAX_RESTARTS})",
                    pager.pages
                ));
            }
            Err(Failure::Gone(msg)) => {
                return Err(Error::cluster(format!(
                    "the pod list expired {} times in a row (410 Gone: {msg}); the cluster compacts faster than it can be listed: try a larger --chunk-size",
                    MAX_RESTARTS + 1
                )));
            }
            Err(f) => return Err(f.into_error()),
        }
    }
}

/// Every page through `sink`, reporting progress after each.
async fn walk(t: &Target, pager: &mut Pager, sink: &mut impl crate::pager::PageSink) -> Result<(), Failure> {
    while pager.next(t, sink).await? {}
    Ok(())
}

/// Folds pods into a tally page by page; a page counts only once complete,
/// so a page retried after a dropped connection is not counted twice.
struct Fold<'p, P: FnMut(Progress)> {
    tally: Tally<String>,
    page: Tally<String>,
    page_pods: u64,
    seen: Progress,
    progress: &'p mut P,
}

impl<'p, P: FnMut(Progress)> Fold<'p, P> {
    fn new(progress: &'p mut P) -> Self {
        Fold { tally: Tally::new(), page: Tally::new(), page_pods: 0, seen: Progress::default(), progress }
    }

    fn add(&mut self, facts: PodFacts<&str>) {
        self.page.add(facts.contribution());
        self.page_pods += 1;
    }
}

impl<P: FnMut(Progress)> ItemSink for Fold<'_, P> {
    fn begin_page(&mut self) {
        self.page = Tally::new();
        self.page_pods = 0;
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let pod = LeanPod::decode(item).map_err(|e| decode_error("pod", e))?;
        self.add(pod.facts());
        Ok(())
    }

    fn end_page(&mut self, bytes: u64) {
        self.tally.absorb(&self.page, String::clone);
        self.seen.pages += 1;
        self.seen.pods += self.page_pods;
        self.seen.bytes += bytes;
        (self.progress)(self.seen);
    }
}

/// The Table API path: rows split out of each page as the bytes arrive (as
/// pod objects are), their Node cell folded; the column comes from the
/// column definitions the server writes ahead of the rows.
async fn count_table<P: FnMut(Progress)>(t: &Target, pager: &mut Pager, fold: &mut Fold<'_, P>) -> Result<(), Failure> {
    let mut rows = TableRows { fold, split: Splitter::of(b"rows"), column: None, bytes: 0 };
    walk(t, pager, &mut rows).await
}

struct TableRows<'f, 'p, P: FnMut(Progress)> {
    fold: &'f mut Fold<'p, P>,
    split: Splitter,
    /// The Node column of this page, once its head is read.
    column: Option<usize>,
    bytes: u64,
}

impl<P: FnMut(Progress)> PageSink for TableRows<'_, '_, P> {
    fn begin(&mut self, encoding: Encoding) {
        // Asked for exactly the JSON Table.
        debug_assert_eq!(encoding, Encoding::Json);
        self.split = Splitter::of(b"rows");
        self.column = None;
        self.bytes = 0;
        self.fold.begin_page();
    }

    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        self.bytes += bytes.len() as u64;
        let (fold, column) = (&mut *self.fold, &mut self.column);
        self.split.feed_with_head(bytes, |head, row| {
            let col = match *column {
                Some(c) => c,
                None => {
                    let head: TableHead = parse_head(head).map_err(|e| decode_error("pod table", e))?;
                    let c = head.node_column().ok_or_else(|| Error::cluster("the pod Table has no Node column"))?;
                    *column = Some(c);
                    c
                }
            };
            let row: TableRow = serde_json::from_slice(row).map_err(|e| decode_error("pod table row", e))?;
            // The phase filter ran on the server: every row is a counted pod.
            let node = table_node(&row, col);
            let node = node.as_deref();
            fold.add(PodFacts {
                node,
                phase: Phase::Running,
                terminating: false,
                daemon_set: false,
                host_network: false,
            });
            Ok(())
        })
    }

    fn end(&mut self) -> Result<PageMeta, Failure> {
        if !self.split.done() {
            // The body ended cleanly but early: never count a partial page.
            return Err(Failure::transient(Error::cluster("the pod Table page ended before its end")));
        }
        let meta = self.split.meta().map_err(|e| Failure::Fatal(decode_error("pod table", e)))?;
        self.fold.end_page(self.bytes);
        Ok(PageMeta::from(meta))
    }
}

/// A user refused pods at cluster scope may still read them in a namespace
/// of theirs: say which flag to try.
pub fn suggest_namespace(e: Error, namespace: Option<&str>, t: &Target) -> Error {
    if !e.is_forbidden() || namespace.is_some() {
        return e;
    }
    Error::forbidden(format!("{e}; to count one namespace, pass -n {} (the context's namespace)", t.namespace))
}

/// A Node is kilobytes: at most this many a page.
pub const NODE_PAGE: u32 = 500;

/// Nodes decoded one by one as a page arrives; a page counts once complete.
struct NodeFold<'k> {
    nodes: Vec<NodeInfo>,
    /// Where the current page's nodes start in `nodes`.
    page: usize,
    keep_labels: &'k [String],
}

impl ItemSink for NodeFold<'_> {
    fn begin_page(&mut self) {
        // A page retried after a cut starts over.
        self.nodes.truncate(self.page);
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let Item::Json(raw) = item else { return Err(Error::cluster("nodes are read as JSON only")) };
        let n: SlimNode = serde_json::from_slice(raw).map_err(|e| decode_error("node", e))?;
        self.nodes.push(NodeInfo::from_wire(&n, self.keep_labels));
        Ok(())
    }

    fn end_page(&mut self, _bytes: u64) {
        self.page = self.nodes.len();
    }
}

/// Lists nodes (all, or those matching `label_selector`); `chunk_size` as
/// for pods, capped at [`NODE_PAGE`] (0: one request). Of their labels only
/// `keep_labels` are kept.
pub async fn list_nodes(
    t: &Target,
    label_selector: Option<&str>,
    chunk_size: u32,
    keep_labels: &[String],
) -> Result<Vec<NodeInfo>> {
    let chunk_size = if chunk_size == 0 { 0 } else { chunk_size.min(NODE_PAGE) };
    for _ in 0..=MAX_RESTARTS {
        let mut pager = Pager::new(ListRequest {
            path: "/api/v1/nodes".into(),
            accept: Accept::Exactly(JSON),
            params: vec![("labelSelector", label_selector.map(String::from))],
            chunk_size,
            resource: "nodes",
            namespace: None,
        });
        let mut fold = NodeFold { nodes: Vec::new(), page: 0, keep_labels };
        let mut items = Items::new(&mut fold, "nodes");
        match walk(t, &mut pager, &mut items).await {
            Ok(()) => return Ok(fold.nodes),
            Err(Failure::Gone(_)) => continue,
            Err(f) => return Err(f.into_error()),
        }
    }
    Err(Error::cluster("the node list expired repeatedly (410 Gone); try again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_selector_is_anded_with_the_phase_filter() {
        let mut q = PodQuery::default();
        assert_eq!(q.server_field_selector(), NOT_FINISHED);
        q.field_selector = Some("spec.schedulerName=x".into());
        assert_eq!(q.server_field_selector(), format!("spec.schedulerName=x,{NOT_FINISHED}"));
        let q = PodQuery { namespace: Some("team-01".into()), ..Default::default() };
        assert_eq!(q.path(), "/api/v1/namespaces/team-01/pods");
    }

    /// A page cut mid-body and retried counts once; a body that ends early
    /// counts not at all.
    #[test]
    fn table_rows_and_nodes_count_a_retried_page_once() {
        let table = br#"{"kind":"Table","metadata":{"continue":"next"},"columnDefinitions":[{"name":"Name"},{"name":"Node"}],"rows":[{"cells":["a","n1"]},{"cells":["b","n1"]},{"cells":["c","<none>"]}]}"#;
        let mut seen = Progress::default();
        let mut progress = |p: Progress| seen = p;
        let mut fold = Fold::new(&mut progress);
        let mut rows = TableRows { fold: &mut fold, split: Splitter::of(b"rows"), column: None, bytes: 0 };
        rows.begin(Encoding::Json);
        rows.data(&table[..120]).unwrap();
        assert!(rows.end().is_err(), "ended early");
        rows.begin(Encoding::Json);
        for chunk in table.chunks(7) {
            rows.data(chunk).unwrap();
        }
        assert_eq!(rows.end().unwrap().continue_token.as_deref(), Some("next"));
        assert_eq!((fold.tally.node("n1").pods, fold.tally.unscheduled()), (2, 1));
        assert_eq!((seen.pages, seen.pods), (1, 3));

        let nodes =
            br#"{"kind":"NodeList","metadata":{},"items":[{"metadata":{"name":"n1"}},{"metadata":{"name":"n2"}}]}"#;
        let mut fold = NodeFold { nodes: Vec::new(), page: 0, keep_labels: &[] };
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
