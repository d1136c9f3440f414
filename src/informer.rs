//! The watch source: list + watch with its own small state machine, for pods
//! and for nodes. It decodes only what counting needs and sends events down a
//! channel; it keeps nothing but the resourceVersion to resume from.
//!
//! ```text
//! Relist --(pages, Synced)--> Watch(rv) --(stream ends)--> Watch(rv)
//!   ^                            |  \--(dropped, 5xx)--> Backoff --> Watch(rv)
//!   \-------(410 Gone)-----------/
//! ```
//!
//! A relist is announced with `Relist`, sends every object in `Page`s and
//! ends with `Synced`; the consumer builds a fresh store from those and swaps
//! it in, so objects deleted while disconnected disappear too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kube::Client;
use kube::client::Body;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::list::{Action, ItemSink, PageError, Paged, Pager, classify, decode_error, page_uri, unreachable};
use crate::report::NodeInfo;
use crate::store::{Uid, uid_key};
use crate::tally::{Phase, PodFacts};
use crate::wire::{ApiStatus, Bookmark, SlimNode, SlimPod, WatchLine};

/// The server ends a watch after this long; we then resume from the last
/// resourceVersion (under kube's 295 s read timeout).
const WATCH_TIMEOUT_SECS: u32 = 290;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A pod as the store needs it; owned so it can cross the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRecord {
    pub uid: Uid,
    pub node: Option<Box<str>>,
    pub phase: Phase,
    pub terminating: bool,
    pub daemon_set: bool,
}

impl PodRecord {
    fn from_wire(p: &SlimPod) -> PodRecord {
        let f = p.facts();
        PodRecord {
            uid: uid_key(&p.metadata.uid),
            node: f.node.map(Into::into),
            phase: f.phase,
            terminating: f.terminating,
            daemon_set: f.daemon_set,
        }
    }

    pub fn facts(&self) -> PodFacts<&str> {
        PodFacts {
            node: self.node.as_deref(),
            phase: self.phase,
            terminating: self.terminating,
            daemon_set: self.daemon_set,
        }
    }
}

/// What an informer tells its consumer.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<T, K> {
    /// A full list begins; `why` is empty for the first one.
    Relist {
        why: String,
    },
    Page(Vec<T>),
    Synced,
    Apply(T),
    Delete(K),
    /// The connection failed; the informer is retrying.
    Reconnecting {
        why: String,
    },
}

pub type PodEvent = Event<PodRecord, Uid>;
pub type NodeEvent = Event<NodeInfo, String>;

/// What differs between pods and nodes: the path and how to decode.
pub trait Kind: Send + Sync + 'static {
    type Item: Send + 'static;
    type Key: Send + 'static;
    const RESOURCE: &'static str;
    /// Decodes a watched object: the item, its key and resourceVersion.
    fn object(raw: &[u8]) -> serde_json::Result<(Self::Item, Self::Key, Option<String>)>;
}

pub struct Pods;
pub struct Nodes;

impl Kind for Pods {
    type Item = PodRecord;
    type Key = Uid;
    const RESOURCE: &'static str = "pods";
    fn object(raw: &[u8]) -> serde_json::Result<(PodRecord, Uid, Option<String>)> {
        let p: SlimPod = serde_json::from_slice(raw)?;
        let r = PodRecord::from_wire(&p);
        let uid = r.uid;
        Ok((r, uid, p.metadata.resource_version.map(|s| s.into_owned())))
    }
}

impl Kind for Nodes {
    type Item = NodeInfo;
    type Key = String;
    const RESOURCE: &'static str = "nodes";
    fn object(raw: &[u8]) -> serde_json::Result<(NodeInfo, String, Option<String>)> {
        let n: SlimNode = serde_json::from_slice(raw)?;
        let info = NodeInfo::from_wire(&n);
        let name = info.name.clone();
        Ok((info, name, n.metadata.resource_version.map(|s| s.into_owned())))
    }
}

/// Requests made and body bytes read, for `bench`.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    pub requests: Arc<AtomicU64>,
    pub bytes: Arc<AtomicU64>,
}

impl Meter {
    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    fn read(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Collects one list page's items (decoded as they arrive).
struct PageSink<'m, K: Kind> {
    items: Vec<K::Item>,
    meter: &'m Meter,
}

impl<K: Kind> ItemSink for PageSink<'_, K> {
    fn begin_page(&mut self) {
        self.items.clear();
    }

    fn item(&mut self, json: &[u8]) -> Result<()> {
        let (item, _, _) = K::object(json).map_err(|e| decode_error(K::RESOURCE, e))?;
        self.items.push(item);
        Ok(())
    }

    fn end_page(&mut self, bytes: u64) {
        self.meter.request();
        self.meter.read(bytes as usize);
    }
}

/// Where and what to watch.
#[derive(Clone)]
pub struct Source {
    pub client: Client,
    pub server: String,
    pub path: String,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub chunk_size: u32,
    pub meter: Meter,
}

/// Why a watch stream ended.
enum Ended {
    /// The server closed it (timeoutSeconds): resume from the resourceVersion.
    Closed,
    Expired(String),
    Transient(Error),
}

/// Runs until the consumer hangs up (Ok) or the cluster refuses for good
/// (forbidden, bad selector: Err). Everything else is retried.
pub async fn run<K: Kind>(src: Source, tx: mpsc::Sender<Event<K::Item, K::Key>>) -> Result<()> {
    let action = Action { resource: K::RESOURCE, namespace: src.namespace.as_deref() };
    let mut why = String::new();
    let mut backoff = Duration::from_millis(100);
    // Before the first sync a failure is the user's to see (a wrong context
    // should not spin); after it, the informer rides out outages.
    let mut synced_once = false;
    'relist: loop {
        if tx.send(Event::Relist { why: std::mem::take(&mut why) }).await.is_err() {
            return Ok(());
        }
        let params =
            [("labelSelector", src.label_selector.as_deref()), ("fieldSelector", src.field_selector.as_deref())];
        let req =
            Paged { path: &src.path, accept: crate::list::JSON, params: &params, chunk_size: src.chunk_size, action };
        let mut pager = Pager::new(req);
        let mut page = PageSink::<K> { items: Vec::new(), meter: &src.meter };
        // Each page goes to the consumer as soon as it is complete.
        let listed = loop {
            match pager.next(&src.client, &src.server, &mut page).await {
                Ok(more) => {
                    if tx.send(Event::Page(std::mem::take(&mut page.items))).await.is_err() {
                        return Ok(());
                    }
                    if !more {
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        match listed {
            Ok(()) => {}
            Err(PageError::Fatal(e)) => return Err(e),
            Err(PageError::Expired(m)) => {
                why = format!("list expired: {m}");
                continue 'relist;
            }
            Err(PageError::Transient(e)) if !synced_once => return Err(e),
            Err(PageError::Transient(e)) => {
                let _ = tx.send(Event::Reconnecting { why: e.message.clone() }).await;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                why = "reconnected".into();
                continue 'relist;
            }
        }
        if tx.send(Event::Synced).await.is_err() {
            return Ok(());
        }
        synced_once = true;
        backoff = Duration::from_millis(100);
        let mut rv = pager.resource_version.unwrap_or_default();
        loop {
            match watch::<K>(&src, &mut rv, action, &tx).await {
                Ok(Ended::Closed) => backoff = Duration::from_millis(100),
                Ok(Ended::Expired(m)) => {
                    why = format!("watch expired (410 Gone): {m}");
                    continue 'relist;
                }
                Ok(Ended::Transient(e)) => {
                    if tx.send(Event::Reconnecting { why: e.message }).await.is_err() {
                        return Ok(());
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(None) => return Ok(()),
                Err(Some(e)) => return Err(e),
            }
        }
    }
}

/// One watch request from `rv`, forwarding events until the stream ends.
/// Err(None): the consumer is gone.
async fn watch<K: Kind>(
    src: &Source,
    rv: &mut String,
    action: Action<'_>,
    tx: &mpsc::Sender<Event<K::Item, K::Key>>,
) -> Result<Ended, Option<Error>> {
    let timeout = WATCH_TIMEOUT_SECS.to_string();
    let uri = page_uri(
        &src.path,
        &[
            ("watch", Some("1")),
            ("allowWatchBookmarks", Some("true")),
            ("resourceVersion", Some(rv.as_str())),
            ("timeoutSeconds", Some(&timeout)),
            ("labelSelector", src.label_selector.as_deref()),
            ("fieldSelector", src.field_selector.as_deref()),
        ],
    );
    let req = Request::get(&uri)
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .map_err(|e| Some(Error::usage(format!("invalid request {uri}: {e}"))))?;
    src.meter.request();
    let resp = match src.client.send(req).await {
        Ok(r) => r,
        Err(e) => return Ok(Ended::Transient(unreachable(&src.server, &e))),
    };
    let status = resp.status();
    let mut body = resp.into_body();
    if status != StatusCode::OK {
        let bytes = body.collect_bytes().await.unwrap_or_default();
        return match classify(&src.server, status, &bytes, action) {
            PageError::Expired(m) => Ok(Ended::Expired(m)),
            PageError::Transient(e) => Ok(Ended::Transient(e)),
            PageError::Fatal(e) => Err(Some(e)),
        };
    }
    let mut buf = BytesMut::new();
    loop {
        let frame = match body.frame().await {
            None => return Ok(Ended::Closed),
            Some(Err(e)) => {
                return Ok(Ended::Transient(Error::cluster(format!(
                    "the watch on {} was cut: {}",
                    K::RESOURCE,
                    crate::error::chain(&e)
                ))));
            }
            Some(Ok(f)) => f,
        };
        let Ok(data) = frame.into_data() else { continue };
        src.meter.read(data.len());
        // Only the new bytes can hold the next newline.
        let mut scan_from = buf.len();
        buf.extend_from_slice(&data);
        while let Some(nl) = buf[scan_from..].iter().position(|&b| b == b'\n') {
            let line = buf.split_to(scan_from + nl + 1);
            scan_from = 0;
            if let Some(end) = handle_line::<K>(&line[..line.len() - 1], rv, tx).await? {
                return Ok(end);
            }
        }
        if buf.len() > 64 << 20 {
            return Ok(Ended::Transient(Error::cluster("a watch event over 64 MiB: reconnecting")));
        }
    }
}

/// Decodes one event line; Some(end) when the stream must end.
async fn handle_line<K: Kind>(
    line: &[u8],
    rv: &mut String,
    tx: &mpsc::Sender<Event<K::Item, K::Key>>,
) -> Result<Option<Ended>, Option<Error>> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let bad = |e: serde_json::Error| Ok(Some(Ended::Transient(decode_error(K::RESOURCE, e))));
    let ev: WatchLine = match serde_json::from_slice(line) {
        Ok(ev) => ev,
        Err(e) => return bad(e),
    };
    let raw = ev.object.get();
    let event = match ev.type_.as_ref() {
        "ADDED" | "MODIFIED" | "DELETED" => {
            let (item, key, obj_rv) = match K::object(raw.as_bytes()) {
                Ok(x) => x,
                Err(e) => return bad(e),
            };
            if let Some(v) = obj_rv {
                *rv = v;
            }
            if ev.type_ == "DELETED" { Event::Delete(key) } else { Event::Apply(item) }
        }
        "BOOKMARK" => {
            if let Ok(b) = serde_json::from_str::<Bookmark>(raw)
                && let Some(v) = b.metadata.resource_version
            {
                *rv = v.into_owned();
            }
            return Ok(None);
        }
        _ => {
            // ERROR: a Status. 410 means our resourceVersion is gone.
            let st: ApiStatus = serde_json::from_str(raw).unwrap_or_default();
            return Ok(Some(if st.code == 410 {
                Ended::Expired(st.message)
            } else {
                Ended::Transient(Error::cluster(format!("watch error {}: {}", st.code, st.message)))
            }));
        }
    };
    tx.send(event).await.map_err(|_| None)?;
    Ok(None)
}
