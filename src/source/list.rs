//! The list source: a consistent paginated List of pods (see `pager`), each
//! page decoded into only the counting fields, folded into a tally and
//! dropped, so memory stays flat however many pods the cluster has. Pod
//! objects or Table API rows, as the query asks.

use super::query::{MAX_RESTARTS, Method, PodQuery, Removed};
use crate::client::connect::Target;
use crate::client::http::Failure;
use crate::client::pager::{ItemSink, Items, PageMeta, PageSink, Pager, decode_error};
use crate::decode::json::{TableHead, TableRow, table_node};
use crate::decode::neighbour;
use crate::decode::resources::ResourcePod;
use crate::decode::split::{Splitter, parse_head};
use crate::decode::{Encoding, Item, LeanPod};
use crate::error::{Error, Result};
use crate::model::placement::{Constraints, Neighbours};
use crate::model::pod::{Contribution, Phase, PodFacts};
use crate::model::tally::Tally;

/// A finished pod count.
#[derive(Debug)]
pub struct PodCount {
    pub tally: Tally<String>,
    /// The resourceVersion of the consistent read the counts come from.
    pub resource_version: Option<String>,
    /// Per `placing` constraint of the query, what the placed pods tell it.
    pub neighbours: Vec<Neighbours>,
}

/// Warnings about unreadable quantities shown in full; the rest are counted.
const UNREADABLE_SHOWN: usize = 5;

/// What a progress display is told after every page.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub pages: u64,
    pub pods: u64,
    /// Response body bytes read so far.
    pub bytes: u64,
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
        fold.resources = q.resources;
        fold.limits = q.limits;
        fold.placing = &q.placing;
        fold.removed = q.removed.as_ref();
        fold.neighbours = q.placing.iter().map(Neighbours::new).collect();
        let mut pager = Pager::new(q.list_request());
        let result = if q.method == Method::Table {
            count_table(t, &mut pager, &mut fold).await
        } else {
            let mut items = Items::new(&mut fold, "pods");
            walk(t, &mut pager, &mut items).await
        };
        match result {
            Ok(()) => {
                let bad = std::mem::take(&mut fold.unreadable);
                for line in bad.iter().take(UNREADABLE_SHOWN) {
                    warn(line.clone());
                }
                if bad.len() > UNREADABLE_SHOWN {
                    warn(format!("{} more pods have quantities that cannot be read", bad.len() - UNREADABLE_SHOWN));
                }
                return Ok(PodCount {
                    tally: fold.tally,
                    resource_version: pager.resource_version,
                    neighbours: fold.neighbours,
                });
            }
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

/// The same fold over pod objects already in hand (one page): what
/// [`count_pods`] makes of a List that returns exactly `items`. No I/O: the
/// differential tests hand it generated clusters.
#[cfg(test)]
pub fn fold_pods<'i>(q: &PodQuery, items: impl IntoIterator<Item = Item<'i>>) -> Result<PodCount> {
    let mut progress = |_: Progress| {};
    let mut fold = Fold::new(&mut progress);
    fold.resources = q.resources;
    fold.limits = q.limits;
    fold.placing = &q.placing;
    fold.removed = q.removed.as_ref();
    fold.neighbours = q.placing.iter().map(Neighbours::new).collect();
    fold.begin_page();
    for item in items {
        fold.item(item)?;
    }
    fold.end_page(0);
    Ok(PodCount { tally: fold.tally, resource_version: None, neighbours: fold.neighbours })
}

/// Every page through `sink`.
pub async fn walk(t: &Target, pager: &mut Pager, sink: &mut impl PageSink) -> Result<(), Failure> {
    while pager.next(t, sink).await? {}
    Ok(())
}

/// Folds pods into a tally page by page; a page counts only once complete,
/// so a page retried after a dropped connection is not counted twice.
struct Fold<'p, P: FnMut(Progress)> {
    tally: Tally<String>,
    /// Shapes whose inter-pod filters read the placed pods, and what those
    /// tell them (the page's own until it is complete).
    placing: &'p [Constraints],
    /// `--drain`/`--lose`: the pods that go.
    removed: Option<&'p Removed>,
    neighbours: Vec<Neighbours>,
    page_neighbours: Vec<Neighbours>,
    page: Tally<String>,
    page_pods: u64,
    seen: Progress,
    progress: &'p mut P,
    /// Read what each counted pod requests.
    resources: bool,
    /// With `resources`: limits too.
    limits: bool,
    /// One line per pod with a quantity that cannot be read (the page's
    /// own until it is complete).
    unreadable: Vec<String>,
    page_unreadable: Vec<String>,
}

impl<'p, P: FnMut(Progress)> Fold<'p, P> {
    fn new(progress: &'p mut P) -> Self {
        Fold {
            tally: Tally::new(),
            placing: &[],
            removed: None,
            neighbours: Vec::new(),
            page_neighbours: Vec::new(),
            page: Tally::new(),
            page_pods: 0,
            seen: Progress::default(),
            progress,
            resources: false,
            limits: false,
            unreadable: Vec::new(),
            page_unreadable: Vec::new(),
        }
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
        self.page_unreadable.clear();
        self.page_neighbours = self.placing.iter().map(Neighbours::new).collect();
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let pod = LeanPod::decode(item).map_err(|e| decode_error("pod", e))?;
        let mut facts = pod.facts();
        // A what-if: a drain's evicted pods are gone; a loss's stay on
        // their dead node, terminating.
        let going = self.removed.filter(|r| r.going.contains(pod.uid()));
        match going {
            Some(r) if !r.lose => {
                self.page_pods += 1;
                return Ok(());
            }
            Some(_) => facts.terminating = true,
            None => {}
        }
        if let (true, Contribution::Node { node, .. }) = (self.resources, facts.contribution()) {
            let r = ResourcePod::decode(item).map_err(|e| decode_error("pod", e))?;
            let (resources, bad) = r.resources();
            if !bad.is_empty() {
                let what: Vec<String> = bad.iter().map(ToString::to_string).collect();
                self.page_unreadable.push(format!(
                    "pod {}: {}; counted, without those quantities in its requests",
                    r.name(),
                    what.join("; ")
                ));
            }
            let mut demand = resources.demand();
            if !self.limits {
                demand.limits.clear();
            }
            self.page.add_demand(node, &demand);
        }
        if let (false, Contribution::Node { node, .. }) = (self.placing.is_empty(), facts.contribution())
            && let Some(mut p) = neighbour::decode_for(item, self.placing).map_err(|e| decode_error("pod", e))?
        {
            p.terminating |= going.is_some();
            for (c, nb) in self.placing.iter().zip(self.page_neighbours.iter_mut()) {
                nb.add(c, node, &p);
            }
        }
        self.add(facts);
        Ok(())
    }

    fn end_page(&mut self, bytes: u64) {
        self.tally.absorb(&self.page, String::clone);
        for (into, page) in self.neighbours.iter_mut().zip(std::mem::take(&mut self.page_neighbours)) {
            into.merge(page);
        }
        self.unreadable.append(&mut self.page_unreadable);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A quantity that cannot be read (a proxy rewrote it): the pod still
    /// counts, its other requests too, and one line names it.
    #[test]
    fn a_pod_with_an_unreadable_quantity_counts_with_a_warning() {
        let page = br#"{"kind":"PodList","metadata":{},"items":[
          {"metadata":{"name":"ok","namespace":"ns","uid":"1"},"spec":{"nodeName":"n1","containers":[{"name":"a","resources":{"requests":{"cpu":"100m"}}}]},"status":{"phase":"Running"}},
          {"metadata":{"name":"bad","namespace":"ns","uid":"2"},"spec":{"nodeName":"n1","containers":[{"name":"a","resources":{"requests":{"cpu":"lots","memory":"1Gi"}}}]},"status":{"phase":"Running"}}]}"#;
        let mut progress = |_: Progress| {};
        let mut fold = Fold::new(&mut progress);
        fold.resources = true;
        let mut items = Items::new(&mut fold, "pods");
        items.begin(Encoding::Json);
        items.data(page).unwrap();
        items.end().unwrap();
        assert_eq!(fold.tally.node("n1").pods, 2);
        let d = fold.tally.demand("n1").unwrap();
        assert_eq!((d.requests["cpu"], d.requests["memory"]), (100, 1 << 30));
        assert_eq!(fold.unreadable.len(), 1);
        assert!(
            fold.unreadable[0]
                .starts_with("pod ns/bad: containers[a].requests.cpu = \"lots\" is not a Kubernetes quantity"),
            "{}",
            fold.unreadable[0]
        );
    }

    /// A what-if's pods that go: a drain takes them out (count, requests,
    /// what they tell the inter-pod filters); a loss leaves them on their
    /// node, terminating (they count there, not for spread).
    #[test]
    fn a_drain_takes_its_pods_out_and_a_loss_leaves_them_terminating() {
        let pod = |name: &str, uid: &str| {
            format!(
                r#"{{"metadata":{{"name":"{name}","namespace":"ns","uid":"{uid}","labels":{{"app":"web"}}}},"spec":{{"nodeName":"n1","containers":[{{"name":"a","resources":{{"requests":{{"cpu":"100m"}}}}}}]}},"status":{{"phase":"Running"}}}}"#
            )
        };
        let (a, b) =
            (pod("a", "00000000-0000-4000-8000-00000000000a"), pod("b", "00000000-0000-4000-8000-00000000000b"));
        let mut going = crate::model::removal::Going::default();
        going.insert("00000000-0000-4000-8000-00000000000a");
        let spread = crate::model::placement::Spread {
            max_skew: 1,
            topology_key: "kubernetes.io/hostname".into(),
            selector: Some(crate::model::selector::LabelSelector(vec![crate::model::selector::Requirement::equals(
                "app", "web",
            )])),
            min_domains: 1,
            honor_node_affinity: true,
            honor_taints: false,
        };
        let c = Constraints { namespace: "ns".into(), spread: vec![spread], ..Default::default() };
        let mut q = PodQuery::new(&crate::model::filter::Filter::default(), 0, Method::Objects);
        q.resources = true;
        q.placing = vec![c];
        for lose in [false, true] {
            q.removed = Some(Removed { lose, going: std::sync::Arc::new(going.clone()) });
            let count = fold_pods(&q, [Item::Json(a.as_bytes()), Item::Json(b.as_bytes())]).unwrap();
            let n = count.tally.node("n1");
            let cpu = count.tally.demand("n1").unwrap().requests["cpu"];
            let spread = count.neighbours[0].spread[0].get("n1").copied();
            if lose {
                assert_eq!((n.pods, n.terminating, cpu, spread), (2, 1, 200, Some(1)), "a loss");
            } else {
                assert_eq!((n.pods, n.terminating, cpu, spread), (1, 0, 100, Some(1)), "a drain");
            }
        }
    }

    /// A page cut mid-body and retried counts once; a body that ends early
    /// counts not at all.
    #[test]
    fn table_rows_of_a_retried_page_count_once() {
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
    }
}
