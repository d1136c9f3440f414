//! The watch source: list + watch as an explicit state machine (after kube-rs
//! `kube-runtime/src/watcher.rs`), for pods and for nodes. It decodes only
//! what counting needs, sends [`Event`]s down a channel and keeps nothing but
//! the resourceVersion to resume from.
//!
//! ```text
//!            +-------------------- 410 Gone ---------------------+
//!            v                                                   |
//!  Empty --(list mode)--> Listing --(last page: Synced)--> Watching(rv) --(closed after a healthy run)--> Watching(rv)
//!    |                       |                               |   ^
//!    |                       +--(failure)-->  Backoff ------>+   |   (dropped, silent, 5xx: Reconnecting)
//!    +--(WatchList mode: initial events, then the same stream)---+
//! ```
//!
//! Transitions are made in [`Machine::step`] and, for WatchList's initial
//! events, [`Machine::stream_initial`] (which hands back the next state the
//! same way). Waits before a relist or a reconnect go through the machine's
//! `Backoff` (jittered, reset after a healthy watch); a list page's request
//! is first retried by the pager under [`crate::client::retry::REQUESTS`]
//! (about 2 s), so a failure reaches the machine only once those are spent.
//! Before the first sync a failure ends the informer (a wrong context should
//! not spin); after it, the informer rides out outages.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use http_body_util::BodyExt;
use kube::client::Body;
use tokio::sync::mpsc;
use tokio::time::Instant;

use prost::Message;

use crate::client::connect::Target;
use crate::client::http::{self, Action, Failure};
use crate::client::pager::{Accept, ItemSink, Items, ListRequest, Pager, decode_error, page_uri};
use crate::client::retry::Backoff;
use crate::decode::json::{Bookmark, WatchLine};
use crate::decode::neighbour;
use crate::decode::proto::{self, Frames};
use crate::decode::resources::ResourcePod;
use crate::decode::{ApiStatus, Encoding, Item, LeanPod, node_info};
use crate::error::{Error, Result};
use crate::model::event::{Event, Relist};
use crate::model::node::NodeInfo;
use crate::model::placement::Neighbours;
use crate::model::store::{PodRecord, Uid};

/// The server ends a watch after this long; we then resume from the last
/// resourceVersion.
const WATCH_TIMEOUT: Duration = Duration::from_secs(290);
/// A watch stream that has not ended this long after its `timeoutSeconds`
/// is dead however quiet it looked: the bound over HTTP/1.1, where there is
/// no PING (`kubectl podcount docs reading`).
const WATCH_GRACE: Duration = Duration::from_secs(30);
/// A watch that ran this long was healthy: the next failure backs off from
/// the start again.
const HEALTHY: Duration = Duration::from_secs(10);
/// Reconnect delays: 250 ms doubling, jittered, up to 10 s.
const RECONNECT: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(10));
/// WatchList initial events are sent on to the consumer in pages this big.
const BATCH: usize = 500;

/// How the informer gets the initial state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitialList {
    /// A paginated List, then a watch from its resourceVersion.
    #[default]
    Paged,
    /// WatchList: one watch that starts with every object
    /// (sendInitialEvents); falls back to paged when the server refuses it.
    Stream,
}

/// What differs between pods and nodes: the path, how to decode. Both are
/// read in the encoding `--wire` asks for (protobuf unless the server cannot).
pub trait Kind: Send + Sync + 'static {
    type Item: Send + 'static;
    type Key: Send + 'static;
    const RESOURCE: Resource;
    /// Decodes a watched or listed object: the item, its key and
    /// resourceVersion, keeping what `keep` asks for beyond counting.
    fn object(item: Item<'_>, keep: &Keep) -> Decoded<Self>;
}

/// A decoded object (item, key, resourceVersion), or why it is not one.
pub type Decoded<K> = std::result::Result<(<K as Kind>::Item, <K as Kind>::Key, Option<String>), String>;

pub struct Pods;
pub struct Nodes;

/// What an informer watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Pods,
    Nodes,
}

impl Resource {
    /// The API's plural name, as requests and messages say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Pods => "pods",
            Resource::Nodes => "nodes",
        }
    }
}

impl Kind for Pods {
    type Item = PodRecord;
    type Key = Uid;
    const RESOURCE: Resource = Resource::Pods;
    fn object(item: Item<'_>, keep: &Keep) -> Decoded<Self> {
        let p = LeanPod::decode(item)?;
        let mut r = PodRecord::new(p.uid(), p.facts());
        if keep.resources && r.node.is_some() {
            let rp = ResourcePod::decode(item)?;
            let (resources, bad) = rp.resources();
            let mut demand = resources.demand();
            if !keep.limits {
                demand.limits.clear();
            }
            r.demand = Some(demand.to_owned());
            if !bad.is_empty() {
                let what: Vec<String> = bad.iter().map(ToString::to_string).collect();
                r.unreadable = Some(format!("pod {}: {}", rp.name(), what.join("; ")));
            }
        }
        if let (false, Some(node)) = (keep.placing.is_empty(), r.node.as_deref()) {
            let n = neighbour::decode(item)?;
            let parts: Vec<Option<Neighbours>> = keep.placing.iter().map(|c| Neighbours::of(c, node, &n)).collect();
            if parts.iter().any(Option::is_some) {
                r.placed = Some(parts.into_iter().map(Option::unwrap_or_default).collect());
            }
        }
        let uid = r.uid;
        Ok((r, uid, p.resource_version().map(str::to_owned)))
    }
}

impl Kind for Nodes {
    type Item = NodeInfo;
    type Key = String;
    const RESOURCE: Resource = Resource::Nodes;
    fn object(item: Item<'_>, keep: &Keep) -> Decoded<Self> {
        let (info, rv) = node_info(item, keep)?;
        let name = info.name.clone();
        Ok((info, name, rv))
    }
}

/// A watch event, decoded only as far as its type.
struct RawEvent<'a> {
    kind: &'a str,
    object: Item<'a>,
}

impl RawEvent<'_> {
    /// A BOOKMARK's resourceVersion, and whether it ends WatchList's initial events.
    fn bookmark(&self) -> (Option<String>, bool) {
        match self.object {
            Item::Json(raw) => {
                let b: Bookmark = serde_json::from_slice(raw).unwrap_or_default();
                let end = b.metadata.initial_events_end();
                (b.metadata.resource_version.map(|v| v.into_owned()), end)
            }
            Item::Proto(raw) => {
                let b = proto::Bookmark::decode(raw).unwrap_or_default();
                (b.resource_version().map(str::to_owned), b.initial_events_end())
            }
        }
    }
}

/// What the informer has done, shared with whoever watches it: requests and
/// bytes (for `bench`), whether a watch is open and current (for
/// `watch --listen`'s `/readyz`), and the last resourceVersion seen.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    pub requests: Arc<AtomicU64>,
    pub bytes: Arc<AtomicU64>,
    /// A watch is open and its events are current: false while listing,
    /// relisting, or backing off after a failure.
    pub watching: Arc<AtomicBool>,
    pub resource_version: Arc<Mutex<String>>,
}

impl Meter {
    fn set_watching(&self, on: bool) {
        self.watching.store(on, Ordering::Relaxed);
    }
    fn seen(&self, rv: &str) {
        let mut held = self.resource_version.lock().unwrap_or_else(|p| p.into_inner());
        held.clear();
        held.push_str(rv);
    }
    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    fn read(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Where and what to watch.
#[derive(Clone)]
pub struct Source {
    pub target: Target,
    pub path: String,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub chunk_size: u32,
    pub initial: InitialList,
    pub meter: Meter,
    /// What is kept of each object beyond counting.
    pub keep: Keep,
}

pub use crate::model::keep::Keep;

/// Where the informer is.
enum State {
    /// No usable state: list from scratch. `why` goes into the Relist event.
    Empty { why: Relist },
    /// The paginated initial list, a page per step.
    Listing { pager: Box<Pager> },
    /// Synced: (re)open a watch from `rv`.
    Watching { rv: String },
    /// Wait (the one backoff), then go on to `then`.
    Backoff { then: Box<State> },
}

/// What a step leads to.
enum Next {
    Go(State),
    /// The consumer hung up (Ok), or the cluster refused for good (Err).
    Stop(Result<()>),
}

/// Why a watch stream ended.
enum Ended {
    /// The server closed it (timeoutSeconds, or early): resume from rv.
    Closed,
    Gone(String),
    Failed(Failure),
    /// WatchList mode: the server refused it; list instead.
    Refused(String),
    /// The consumer is gone.
    Hangup,
}

struct Machine<K: Kind> {
    src: Source,
    tx: mpsc::Sender<Event<K::Item, K::Key>>,
    backoff: Backoff,
    synced_once: bool,
    initial: InitialList,
    /// The current WatchList stream has delivered all its initial events:
    /// only then is its resourceVersion a place to resume from.
    initial_done: bool,
}

/// Runs until the consumer hangs up (Ok) or the cluster refuses for good
/// (forbidden, bad selector, or any failure before the first sync: Err).
pub async fn run<K: Kind>(src: Source, tx: mpsc::Sender<Event<K::Item, K::Key>>) -> Result<()> {
    let initial = src.initial;
    let mut m = Machine::<K> { src, tx, backoff: RECONNECT, synced_once: false, initial, initial_done: false };
    let mut state = State::Empty { why: Relist::Start };
    loop {
        state = match m.step(state).await {
            Next::Go(s) => s,
            Next::Stop(r) => return r,
        };
    }
}

impl<K: Kind> Machine<K> {
    fn action(&self, verb: &'static str) -> Action<'_> {
        Action { verb, resource: K::RESOURCE.as_str(), namespace: self.src.namespace.as_deref() }
    }

    async fn send(&self, ev: Event<K::Item, K::Key>) -> bool {
        self.tx.send(ev).await.is_ok()
    }

    /// The one transition function.
    async fn step(&mut self, state: State) -> Next {
        match state {
            State::Empty { why } if self.initial == InitialList::Stream => {
                self.src.meter.set_watching(false);
                self.stream_initial(why).await
            }
            State::Empty { why } => {
                self.src.meter.set_watching(false);
                if !self.send(Event::Relist { why }).await {
                    return Next::Stop(Ok(()));
                }
                Next::Go(State::Listing { pager: Box::new(Pager::new(self.list_request())) })
            }
            State::Listing { mut pager } => {
                let mut page = PageItems::<K> { items: Vec::new(), meter: &self.src.meter, keep: &self.src.keep };
                let more = pager.next(&self.src.target, &mut Items::new(&mut page, K::RESOURCE.as_str())).await;
                match more {
                    Ok(more) => {
                        if !self.send(Event::Page(page.items)).await {
                            return Next::Stop(Ok(()));
                        }
                        if more {
                            return Next::Go(State::Listing { pager });
                        }
                        if let Some(rv) = &pager.resource_version {
                            self.src.meter.seen(rv);
                            if !self.send(Event::At(rv.clone())).await {
                                return Next::Stop(Ok(()));
                            }
                        }
                        if !self.send(Event::Synced).await {
                            return Next::Stop(Ok(()));
                        }
                        self.synced_once = true;
                        Next::Go(State::Watching { rv: pager.resource_version.unwrap_or_default() })
                    }
                    Err(Failure::Gone(m)) => Next::Go(State::Empty { why: Relist::ListExpired(m) }),
                    Err(f) => self.failed(f, State::Empty { why: Relist::Reconnected }).await,
                }
            }
            State::Watching { mut rv } => {
                let started = Instant::now();
                match self.watch(&mut rv).await {
                    Ended::Closed if started.elapsed() >= HEALTHY => {
                        self.backoff.reset();
                        Next::Go(State::Watching { rv })
                    }
                    // Closed at once: not a fault to announce, but no reason
                    // to hammer the server either.
                    Ended::Closed => Next::Go(State::Backoff { then: Box::new(State::Watching { rv }) }),
                    Ended::Gone(m) => Next::Go(State::Empty { why: Relist::WatchExpired(m) }),
                    Ended::Failed(f) => {
                        if started.elapsed() >= HEALTHY {
                            self.backoff.reset();
                        }
                        self.failed(f, State::Watching { rv }).await
                    }
                    Ended::Refused(m) => Next::Stop(Err(Error::cluster(m))),
                    Ended::Hangup => Next::Stop(Ok(())),
                }
            }
            State::Backoff { then } => {
                tokio::time::sleep(self.backoff.next_delay()).await;
                Next::Go(*then)
            }
        }
    }

    /// A failed request: fatal ends the informer, as does anything before
    /// the first sync; otherwise announce it and retry after the backoff.
    async fn failed(&mut self, f: Failure, then: State) -> Next {
        match f {
            Failure::Fatal(e) => Next::Stop(Err(e)),
            f if !self.synced_once => Next::Stop(Err(f.into_error())),
            f => {
                self.src.meter.set_watching(false);
                if !self.send(Event::Reconnecting { why: f.into_error().message }).await {
                    return Next::Stop(Ok(()));
                }
                Next::Go(State::Backoff { then: Box::new(then) })
            }
        }
    }

    fn list_request(&self) -> ListRequest {
        ListRequest {
            path: self.src.path.clone(),
            accept: Accept::Objects,
            params: vec![
                ("labelSelector", self.src.label_selector.clone()),
                ("fieldSelector", self.src.field_selector.clone()),
            ],
            chunk_size: self.src.chunk_size,
            resource: K::RESOURCE.as_str(),
            namespace: self.src.namespace.clone(),
        }
    }

    fn watch_uri(&self, rv: Option<&str>) -> String {
        let timeout = WATCH_TIMEOUT.as_secs().to_string();
        let initial = rv.is_none();
        page_uri(
            &self.src.path,
            &[
                ("watch", Some("1")),
                ("allowWatchBookmarks", Some("true")),
                ("sendInitialEvents", initial.then_some("true")),
                ("resourceVersionMatch", initial.then_some("NotOlderThan")),
                ("resourceVersion", rv),
                ("timeoutSeconds", Some(&timeout)),
                ("labelSelector", self.src.label_selector.as_deref()),
                ("fieldSelector", self.src.field_selector.as_deref()),
            ],
        )
    }

    /// WatchList: one watch whose first events are the whole state, ended
    /// by a bookmark; then it goes on as a plain watch.
    async fn stream_initial(&mut self, why: Relist) -> Next {
        let mut rv = String::new();
        let started = Instant::now();
        self.initial_done = false;
        let ended = self.open_and_stream(None, &mut rv, why).await;
        if !self.initial_done {
            // Objects' own resourceVersions are no place to resume from.
            rv.clear();
        }
        match ended {
            Ended::Refused(m) => {
                // Not this server (WatchList off, or no watch cache): list.
                self.initial = InitialList::Paged;
                Next::Go(State::Empty { why: Relist::WatchListRefused(m) })
            }
            Ended::Closed if !rv.is_empty() && started.elapsed() >= HEALTHY => {
                self.backoff.reset();
                Next::Go(State::Watching { rv })
            }
            Ended::Closed if !rv.is_empty() => Next::Go(State::Backoff { then: Box::new(State::Watching { rv }) }),
            Ended::Closed => {
                let f = Failure::transient(Error::cluster(format!(
                    "the WatchList stream of {} ended before its initial events did",
                    K::RESOURCE.as_str()
                )));
                self.failed(f, State::Empty { why: Relist::Reconnected }).await
            }
            Ended::Gone(m) => Next::Go(State::Empty { why: Relist::WatchExpired(m) }),
            Ended::Failed(f) => {
                let then =
                    if !rv.is_empty() { State::Watching { rv } } else { State::Empty { why: Relist::Reconnected } };
                self.failed(f, then).await
            }
            Ended::Hangup => Next::Stop(Ok(())),
        }
    }

    /// One plain watch from `rv`, forwarding events until the stream ends.
    async fn watch(&mut self, rv: &mut String) -> Ended {
        let from = rv.clone();
        self.open_and_stream(Some(&from), rv, Relist::Start).await
    }

    /// Opens a watch (from `from`, or WatchList when None) and follows it.
    /// (`why` is said in the Relist a WatchList starts with.)
    async fn open_and_stream(&mut self, from: Option<&str>, rv: &mut String, why: Relist) -> Ended {
        let uri = self.watch_uri(from);
        let t = &self.src.target;
        self.src.meter.request();
        let action = self.action("watch");
        let accept = t.at.objects_accept(true);
        let resp = match http::open(&t.watch_client, &t.at, &uri, accept, action, http::deadline(&t.at)).await {
            Ok(r) => r,
            // WatchList refused (422 on servers without it, 400 on some):
            // anything but a missing permission means "list instead".
            Err(Failure::Fatal(e)) if from.is_none() && !e.is_forbidden() => {
                return Ended::Refused(e.message);
            }
            Err(Failure::Gone(m)) => return Ended::Gone(m),
            Err(f) => return Ended::Failed(f),
        };
        let mut initial = None;
        // A plain watch is current from its first byte; a WatchList once
        // its initial events are in.
        self.src.meter.set_watching(from.is_some());
        if from.is_none() {
            if !self.send(Event::Relist { why }).await {
                return Ended::Hangup;
            }
            initial = Some(Vec::new());
        }
        let content_type = resp.headers().get(::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let encoding = Encoding::of_content_type(content_type);
        self.follow(resp.into_body(), encoding, rv, initial).await
    }

    /// Reads a watch stream (JSON lines, or protobuf frames). With `initial`
    /// (WatchList), ADDED objects are batched into Pages until the
    /// initial-events-end bookmark.
    async fn follow(
        &mut self,
        mut body: Body,
        encoding: Encoding,
        rv: &mut String,
        mut initial: Option<Vec<K::Item>>,
    ) -> Ended {
        // However quiet the stream looks, the server ends it by now.
        let deadline = Instant::now() + WATCH_TIMEOUT + WATCH_GRACE;
        let mut lines = BytesMut::new();
        let mut frames = Frames::default();
        loop {
            let data = match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => {
                    return Ended::Failed(Failure::TimedOut(Error::cluster(format!(
                        "the watch on {} did not end when the server should have ended it: the connection went silent",
                        K::RESOURCE.as_str()
                    ))));
                }
                Ok(None) => return Ended::Closed,
                Ok(Some(Err(e))) => return Ended::Failed(http::cut(&self.src.target.at, self.action("watch"), &e)),
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(d) => d,
                    Err(_) => continue,
                },
            };
            self.src.meter.read(data.len());
            let pending = match encoding {
                Encoding::Json => {
                    // Only the new bytes can hold the next newline.
                    let mut scan_from = lines.len();
                    lines.extend_from_slice(&data);
                    while let Some(nl) = lines[scan_from..].iter().position(|&b| b == b'\n') {
                        let line = lines.split_to(scan_from + nl + 1);
                        scan_from = 0;
                        if let Some(end) = self.line(&line[..line.len() - 1], rv, &mut initial).await {
                            return end;
                        }
                    }
                    lines.len()
                }
                Encoding::Protobuf => {
                    frames.feed(&data);
                    while let Some(frame) = frames.next_frame() {
                        let (kind, object) = match proto::event(frame) {
                            Ok(ev) => ev,
                            Err(e) => return Ended::Failed(Failure::transient(decode_error(K::RESOURCE.as_str(), e))),
                        };
                        let ev = RawEvent { kind: &kind, object: Item::Proto(&object) };
                        if let Some(end) = self.event(ev, rv, &mut initial).await {
                            return end;
                        }
                    }
                    frames.pending()
                }
            };
            if pending > 64 << 20 {
                return Ended::Failed(Failure::transient(Error::cluster("a watch event over 64 MiB: reconnecting")));
            }
        }
    }

    /// One JSON event line; Some(end) when the stream must end.
    async fn line(&mut self, line: &[u8], rv: &mut String, initial: &mut Option<Vec<K::Item>>) -> Option<Ended> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let ev: WatchLine = match serde_json::from_slice(line) {
            Ok(ev) => ev,
            Err(e) => return Some(Ended::Failed(Failure::transient(decode_error(K::RESOURCE.as_str(), e)))),
        };
        let ev = RawEvent { kind: &ev.type_, object: Item::Json(ev.object.get().as_bytes()) };
        self.event(ev, rv, initial).await
    }

    /// One event, in either encoding; Some(end) when the stream must end.
    async fn event(&mut self, ev: RawEvent<'_>, rv: &mut String, initial: &mut Option<Vec<K::Item>>) -> Option<Ended> {
        let event = match ev.kind {
            "ADDED" | "MODIFIED" | "DELETED" => {
                let (item, key, obj_rv) = match K::object(ev.object, &self.src.keep) {
                    Ok(x) => x,
                    Err(e) => return Some(Ended::Failed(Failure::transient(decode_error(K::RESOURCE.as_str(), e)))),
                };
                if let Some(v) = &obj_rv {
                    self.src.meter.seen(v);
                    rv.clone_from(v);
                }
                match (initial.as_mut(), ev.kind == "DELETED") {
                    (Some(batch), false) => {
                        batch.push(item);
                        if batch.len() < BATCH {
                            return None;
                        }
                        Event::Page(std::mem::take(batch))
                    }
                    (Some(_), true) => {
                        return Some(Ended::Failed(Failure::transient(Error::cluster(
                            "a DELETED event among WatchList's initial events",
                        ))));
                    }
                    (None, true) => Event::Delete(key, obj_rv),
                    (None, false) => Event::Apply(item, obj_rv),
                }
            }
            "BOOKMARK" => {
                let (bookmark_rv, end) = ev.bookmark();
                if let Some(v) = &bookmark_rv {
                    self.src.meter.seen(v);
                    rv.clone_from(v);
                }
                if end && let Some(batch) = initial.take() {
                    self.synced_once = true;
                    self.initial_done = true;
                    self.src.meter.set_watching(true);
                    let at = bookmark_rv.map(Event::At);
                    for ev in std::iter::once(Event::Page(batch)).chain(at).chain([Event::Synced]) {
                        if !self.send(ev).await {
                            return Some(Ended::Hangup);
                        }
                    }
                } else if initial.is_none()
                    && let Some(v) = bookmark_rv
                    && !self.send(Event::At(v)).await
                {
                    return Some(Ended::Hangup);
                }
                return None;
            }
            _ => {
                // ERROR: a Status. 410 means our resourceVersion is gone.
                let st = ApiStatus::of(ev.object);
                return Some(if st.code == 410 {
                    Ended::Gone(st.message)
                } else {
                    Ended::Failed(Failure::transient(Error::cluster(format!(
                        "watch error {}: {}",
                        st.code, st.message
                    ))))
                });
            }
        };
        if !self.send(event).await {
            return Some(Ended::Hangup);
        }
        None
    }
}

/// Collects one list page's items, decoded as they arrive.
struct PageItems<'m, K: Kind> {
    items: Vec<K::Item>,
    meter: &'m Meter,
    keep: &'m Keep,
}

impl<K: Kind> ItemSink for PageItems<'_, K> {
    fn begin_page(&mut self) {
        self.items.clear();
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let (item, _, _) = K::object(item, self.keep).map_err(|e| decode_error(K::RESOURCE.as_str(), e))?;
        self.items.push(item);
        Ok(())
    }

    fn end_page(&mut self, bytes: u64) {
        self.meter.request();
        self.meter.read(bytes as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::http::{Endpoint, Protocol, Timeouts};
    use std::sync::atomic::AtomicU32;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A plain-HTTP stub apiserver on loopback: lists answer one empty page,
    /// watches answer 200 and end at once. Counts the watch requests.
    async fn stub() -> (String, Arc<AtomicU32>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let watches = Arc::new(AtomicU32::new(0));
        let w = watches.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let w = w.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 2048];
                    while !buf.windows(4).any(|x| x == b"\r\n\r\n") {
                        match conn.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf);
                    let body = if head.contains("watch=1") {
                        w.fetch_add(1, Ordering::SeqCst);
                        String::new()
                    } else {
                        r#"{"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[]}"#.to_string()
                    };
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(resp.as_bytes()).await;
                });
            }
        });
        (url, watches)
    }

    fn source(url: &str) -> Source {
        let config = kube::Config::new(url.parse().unwrap());
        let t = Timeouts::default();
        let target = Target {
            context: "stub".into(),
            client: http::client(&config, t, Protocol::Http1, None).unwrap(),
            watch_client: http::client(&config, t, Protocol::Http2, None).unwrap(),
            at: Endpoint { server: url.into(), ..Default::default() },
            namespace: "default".into(),
            config,
        };
        Source {
            target,
            path: "/api/v1/pods".into(),
            namespace: None,
            label_selector: None,
            field_selector: None,
            chunk_size: 500,
            initial: InitialList::Paged,
            meter: Meter::default(),
            keep: Keep::default(),
        }
    }

    /// A server that ends every watch at once is re-watched after the
    /// backoff, not in a tight loop; the informer still syncs first.
    #[tokio::test]
    async fn watches_closed_at_once_are_reopened_with_backoff() {
        let (url, watches) = stub().await;
        let (tx, mut rx) = mpsc::channel(64);
        let run = tokio::spawn(run::<Pods>(source(&url), tx));
        let mut events = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), async {
            while let Some(ev) = rx.recv().await {
                events.push(ev);
            }
        })
        .await;
        run.abort();
        let first = [Event::Relist { why: Relist::Start }, Event::Page(vec![]), Event::At("5".into()), Event::Synced];
        assert_eq!(events[..4], first);
        let n = watches.load(Ordering::SeqCst);
        // 125-250 ms, 250-500 ms, 0.5-1 s, 1-2 s: at most 6 in 3 s.
        assert!((2..=6).contains(&n), "{n} watches in 3 s");
    }
}
