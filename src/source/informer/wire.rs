//! The machine's [`Api`] over HTTP: List pages through the pager (one
//! attempt each), watches opened with bookmarks, and a watch stream (JSON
//! lines or protobuf frames) decoded an event at a time, only as far as
//! counting needs ([`Kind::object`]). Every wait here is bounded: a request
//! by `--request-timeout`, a watch stream by the time the server must end it.

use std::marker::PhantomData;
use std::time::Duration;

use bytes::BytesMut;
use http_body_util::BodyExt;
use kube::client::Body;
use prost::Message;
use tokio::time::Instant;

use super::Source;
use super::kind::Kind;
use super::machine::{Api, Page, WatchEvent};
use crate::client::http::{self, Action, Failure};
use crate::client::pager::{Accept, ItemSink, Items, ListRequest, Pager, decode_error, page_uri};
use crate::decode::json::{Bookmark, WatchLine};
use crate::decode::proto::{self, Frames};
use crate::decode::{ApiStatus, Encoding, Item};
use crate::error::{Error, Result};

/// The server ends a watch after this long; we then resume from the last
/// resourceVersion.
const WATCH_TIMEOUT: Duration = Duration::from_secs(290);
/// A watch stream that has not ended this long after its `timeoutSeconds`
/// is dead however quiet it looked: the bound over HTTP/1.1, where there is
/// no PING (`kubectl podcount docs reading`).
const WATCH_GRACE: Duration = Duration::from_secs(30);
/// A watch event bigger than this is refused (a stream gone wrong, not an
/// object: etcd's own limit is 1.5 MiB).
const MAX_EVENT: usize = 64 << 20;

pub(crate) struct HttpApi<K: Kind> {
    src: Source<K::Keep>,
    kind: PhantomData<K>,
}

impl<K: Kind> HttpApi<K> {
    pub(crate) fn new(src: Source<K::Keep>) -> Self {
        HttpApi { src, kind: PhantomData }
    }

    fn action(&self, verb: &'static str) -> Action<'_> {
        Action { verb, resource: K::RESOURCE.as_str(), namespace: self.src.namespace.as_deref() }
    }

    fn watch_uri(&self, from: Option<&str>) -> String {
        let timeout = WATCH_TIMEOUT.as_secs().to_string();
        let initial = from.is_none();
        page_uri(
            &self.src.path,
            &[
                ("watch", Some("1")),
                ("allowWatchBookmarks", Some("true")),
                ("sendInitialEvents", initial.then_some("true")),
                ("resourceVersionMatch", initial.then_some("NotOlderThan")),
                ("resourceVersion", from),
                ("timeoutSeconds", Some(&timeout)),
                ("labelSelector", self.src.label_selector.as_deref()),
                ("fieldSelector", self.src.field_selector.as_deref()),
            ],
        )
    }
}

/// An open watch: its body, and the events read from it so far.
pub(crate) struct Watch {
    body: Body,
    events: Events,
    /// However quiet the stream looks, the server ends it by now.
    deadline: Instant,
}

impl<K: Kind> Api<K> for HttpApi<K> {
    type List = Pager;
    type Watch = Watch;

    fn list(&self) -> Pager {
        Pager::tried_once(ListRequest {
            path: self.src.path.clone(),
            accept: Accept::Objects,
            params: vec![
                ("labelSelector", self.src.label_selector.clone()),
                ("fieldSelector", self.src.field_selector.clone()),
            ],
            chunk_size: self.src.chunk_size,
            resource: K::RESOURCE.as_str(),
            namespace: self.src.namespace.clone(),
        })
    }

    async fn page(&mut self, pager: &mut Pager) -> Result<Page<K::Item>, Failure> {
        let mut page = PageItems::<K> { items: Vec::new(), src: &self.src };
        let more = pager.next(&self.src.target, &mut Items::new(&mut page, K::RESOURCE.as_str())).await?;
        Ok(Page { items: page.items, more, resource_version: pager.resource_version.clone() })
    }

    async fn watch(&mut self, from: Option<&str>) -> Result<Watch, Failure> {
        let uri = self.watch_uri(from);
        let t = &self.src.target;
        self.src.meter.request();
        let accept = t.at.objects_accept(true);
        let resp =
            http::open(&t.watch_client, &t.at, &uri, accept, self.action("watch"), http::deadline(&t.at)).await?;
        let content_type = resp.headers().get(::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let events = Events::new(Encoding::of_content_type(content_type));
        Ok(Watch { body: resp.into_body(), events, deadline: Instant::now() + WATCH_TIMEOUT + WATCH_GRACE })
    }

    async fn next(&mut self, w: &mut Watch) -> Result<Option<WatchEvent<K>>, Failure> {
        loop {
            if let Some(ev) = w.events.next::<K>(&self.src.keep)? {
                return Ok(Some(ev));
            }
            let data = match tokio::time::timeout_at(w.deadline, w.body.frame()).await {
                Err(_) => {
                    return Err(Failure::TimedOut(Error::cluster(format!(
                        "the watch on {} did not end when the server should have ended it: the connection went silent",
                        K::RESOURCE.as_str()
                    ))));
                }
                // Ended: clean only between events; bytes left over are a
                // broken stream, a failure like a cut.
                Ok(None) => match w.events.left_over() {
                    0 => return Ok(None),
                    n => {
                        return Err(Failure::transient(Error::cluster(format!(
                            "the watch on {} ended inside an event: {n} bytes left undecoded",
                            K::RESOURCE.as_str()
                        ))));
                    }
                },
                Ok(Some(Err(e))) => return Err(http::cut(&self.src.target.at, self.action("watch"), &e)),
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(d) => d,
                    Err(_) => continue,
                },
            };
            self.src.meter.read(data.len());
            w.events.feed(&data)?;
        }
    }
}

/// A watch stream's bytes, cut into events (JSON lines, or protobuf frames)
/// as they arrive.
struct Events {
    encoding: Encoding,
    lines: BytesMut,
    /// How much of `lines` is known to hold no newline.
    scanned: usize,
    frames: Frames,
}

impl Events {
    fn new(encoding: Encoding) -> Self {
        Events { encoding, lines: BytesMut::new(), scanned: 0, frames: Frames::default() }
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), Failure> {
        let pending = match self.encoding {
            Encoding::Json => {
                self.lines.extend_from_slice(data);
                self.lines.len()
            }
            Encoding::Protobuf => {
                self.frames.feed(data);
                self.frames.pending()
            }
        };
        if pending > MAX_EVENT {
            return Err(Failure::transient(Error::cluster("a watch event over 64 MiB: reconnecting")));
        }
        Ok(())
    }

    /// Bytes fed and not yet an event (whitespace between JSON lines aside).
    fn left_over(&self) -> usize {
        match self.encoding {
            Encoding::Json => self.lines.iter().filter(|b| !b.is_ascii_whitespace()).count(),
            Encoding::Protobuf => self.frames.pending(),
        }
    }

    /// The next whole event in what was fed, decoded; None until more comes.
    fn next<K: Kind>(&mut self, keep: &K::Keep) -> Result<Option<WatchEvent<K>>, Failure> {
        let undecodable = |e: &dyn std::fmt::Display| Failure::transient(decode_error(K::RESOURCE.as_str(), e));
        match self.encoding {
            Encoding::Json => loop {
                let Some(nl) = self.lines[self.scanned..].iter().position(|&b| b == b'\n') else {
                    self.scanned = self.lines.len();
                    return Ok(None);
                };
                let line = self.lines.split_to(self.scanned + nl + 1);
                self.scanned = 0;
                let line = &line[..line.len() - 1];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let ev: WatchLine = serde_json::from_slice(line).map_err(|e| undecodable(&e))?;
                return event::<K>(&ev.type_, Item::Json(ev.object.get().as_bytes()), keep).map(Some);
            },
            Encoding::Protobuf => {
                let Some(frame) = self.frames.next_frame() else { return Ok(None) };
                let (kind, object) = proto::event(frame).map_err(|e| undecodable(&e))?;
                event::<K>(&kind, Item::Proto(&object), keep).map(Some)
            }
        }
    }
}

/// One watch event of type `kind`, decoded.
fn event<K: Kind>(kind: &str, object: Item<'_>, keep: &K::Keep) -> Result<WatchEvent<K>, Failure> {
    Ok(match kind {
        "ADDED" | "MODIFIED" | "DELETED" => {
            let (item, key, rv) =
                K::object(object, keep).map_err(|e| Failure::transient(decode_error(K::RESOURCE.as_str(), e)))?;
            match kind {
                "ADDED" => WatchEvent::Added(item, rv),
                "MODIFIED" => WatchEvent::Modified(item, rv),
                _ => WatchEvent::Deleted(key, rv),
            }
        }
        "BOOKMARK" => {
            let (rv, initial_events_end) = match object {
                Item::Json(raw) => {
                    let b: Bookmark = serde_json::from_slice(raw).unwrap_or_default();
                    let end = b.metadata.initial_events_end();
                    (b.metadata.resource_version.map(|v| v.into_owned()), end)
                }
                Item::Proto(raw) => {
                    let b = proto::Bookmark::decode(raw).unwrap_or_default();
                    (b.resource_version().map(str::to_owned), b.initial_events_end())
                }
            };
            WatchEvent::Bookmark { rv, initial_events_end }
        }
        // ERROR: a Status.
        _ => WatchEvent::Error(ApiStatus::of(object)),
    })
}

/// Collects one list page's items, decoded as they arrive.
struct PageItems<'s, K: Kind> {
    items: Vec<K::Item>,
    src: &'s Source<K::Keep>,
}

impl<K: Kind> ItemSink for PageItems<'_, K> {
    fn begin_page(&mut self) {
        self.items.clear();
    }

    fn item(&mut self, item: Item<'_>) -> Result<()> {
        let (item, _, _) = K::object(item, &self.src.keep).map_err(|e| decode_error(K::RESOURCE.as_str(), e))?;
        self.items.push(item);
        Ok(())
    }

    fn end_page(&mut self, bytes: u64) {
        self.src.meter.request();
        self.src.meter.read(bytes as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::informer::kind::Nodes;

    fn json_node(name: &str, rv: &str) -> String {
        format!(
            r#"{{"metadata":{{"name":"{name}","resourceVersion":"{rv}"}},"status":{{"allocatable":{{"pods":"110"}}}}}}"#
        )
    }

    fn drain(events: &mut Events) -> Vec<WatchEvent<Nodes>> {
        let mut out = Vec::new();
        while let Some(ev) = events.next::<Nodes>(&Default::default()).unwrap() {
            out.push(ev);
        }
        out
    }

    /// What a stream that ends leaves undecoded: nothing between events
    /// (blank lines aside), the bytes of a part-event or of garbage.
    #[test]
    fn bytes_left_over_at_the_end_are_counted() {
        let mut events = Events::new(Encoding::Json);
        events.feed(format!("{{\"type\":\"ADDED\",\"object\":{}}}\n \n", json_node("a", "1")).as_bytes()).unwrap();
        assert_eq!((drain(&mut events).len(), events.left_over()), (1, 0));
        events.feed(b"not an event").unwrap();
        assert_eq!((drain(&mut events).len(), events.left_over()), (0, 10), "spaces are not left over");
        let mut frames = Events::new(Encoding::Protobuf);
        // A frame of 9 bytes, 2 of them come.
        frames.feed(&[0, 0, 0, 9, 1, 2]).unwrap();
        assert_eq!(frames.left_over(), 6);
    }

    /// Lines split anywhere, blank lines, each type: the same events as whole.
    #[test]
    fn json_lines_are_cut_into_events_wherever_the_bytes_break() {
        let stream = format!(
            "{{\"type\":\"ADDED\",\"object\":{}}}\n\n{{\"type\":\"MODIFIED\",\"object\":{}}}\n{{\"type\":\"DELETED\",\"object\":{}}}\n\
             {{\"type\":\"BOOKMARK\",\"object\":{{\"metadata\":{{\"resourceVersion\":\"9\",\"annotations\":{{\"k8s.io/initial-events-end\":\"true\"}}}}}}}}\n\
             {{\"type\":\"ERROR\",\"object\":{{\"kind\":\"Status\",\"code\":410,\"message\":\"too old\"}}}}\n",
            json_node("a", "1"),
            json_node("a", "2"),
            json_node("b", "3")
        );
        for cut in [1, 7, 64, stream.len()] {
            let mut events = Events::new(Encoding::Json);
            let mut got = Vec::new();
            for chunk in stream.as_bytes().chunks(cut) {
                events.feed(chunk).unwrap();
                got.extend(drain(&mut events));
            }
            let summary: Vec<String> = got
                .iter()
                .map(|e| match e {
                    WatchEvent::Added(n, rv) => format!("added {} {rv:?}", n.name),
                    WatchEvent::Modified(n, rv) => format!("modified {} {rv:?}", n.name),
                    WatchEvent::Deleted(k, rv) => format!("deleted {k} {rv:?}"),
                    WatchEvent::Bookmark { rv, initial_events_end } => format!("bookmark {rv:?} {initial_events_end}"),
                    WatchEvent::Error(st) => format!("error {} {}", st.code, st.message),
                })
                .collect();
            assert_eq!(
                summary,
                [
                    r#"added a Some("1")"#,
                    r#"modified a Some("2")"#,
                    r#"deleted b Some("3")"#,
                    r#"bookmark Some("9") true"#,
                    "error 410 too old"
                ],
                "chunks of {cut}"
            );
        }
    }

    #[test]
    fn an_undecodable_event_or_an_endless_line_is_a_transient_failure() {
        let mut events = Events::new(Encoding::Json);
        events.feed(b"{\"type\":\"ADDED\",\"object\":{\"metadata\":7}}\n").unwrap();
        assert!(matches!(events.next::<Nodes>(&Default::default()), Err(Failure::Transient { .. })));
        let mut events = Events::new(Encoding::Json);
        let big = vec![b' '; MAX_EVENT + 1];
        assert!(matches!(events.feed(&big), Err(Failure::Transient { .. })));
    }
}
