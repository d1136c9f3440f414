//! One paginated List, page by page: `limit` and `continue`, each page one
//! request with its own deadline, retried as a whole (through `http::Retry`)
//! when it fails or breaks off mid-body (unless the caller retries: the
//! informer, [`Pager::tried_once`]). What a page's bytes become is the
//! sink's business: split into items as they arrive ([`Items`]), or read
//! whole ([`Whole`], bench's full k8s-openapi decode only).

use super::connect::Target;
use super::http::{self, Action, Failure, Retry};
use super::retry;
use crate::decode::json::ListMeta;
use crate::decode::proto::{self, ListSplitter};
use crate::decode::split::Splitter;
use crate::decode::{Encoding, Item};
use crate::error::{Error, Result};

/// The list metadata a page ends with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageMeta {
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
}

impl From<ListMeta<'_>> for PageMeta {
    fn from(m: ListMeta<'_>) -> Self {
        PageMeta {
            continue_token: m.continue_token.map(|c| c.into_owned()).filter(|c| !c.is_empty()),
            resource_version: m.resource_version.map(|c| c.into_owned()),
        }
    }
}

impl From<proto::ListMeta> for PageMeta {
    fn from(m: proto::ListMeta) -> Self {
        PageMeta { continue_token: m.continue_token.filter(|c| !c.is_empty()), resource_version: m.resource_version }
    }
}

/// Receives one page's body as it arrives.
pub trait PageSink {
    /// An attempt at the page begins (again, after a cut): forget what an
    /// earlier attempt delivered. `encoding`: what the server sent.
    fn begin(&mut self, encoding: Encoding);
    /// The body's bytes, in order.
    fn data(&mut self, bytes: &[u8]) -> Result<()>;
    /// The body is complete: keep what it delivered; its list metadata.
    fn end(&mut self) -> Result<PageMeta, Failure>;
}

/// Receives a List's items one by one (see [`Items`]).
pub trait ItemSink {
    /// A page starts, or starts over after a dropped connection.
    fn begin_page(&mut self);
    fn item(&mut self, item: Item<'_>) -> Result<()>;
    /// The page is complete (`bytes` long): keep what it delivered.
    fn end_page(&mut self, bytes: u64);
}

/// The item splitter for the encoding a page came in.
enum Split {
    Json(Splitter),
    Proto(ListSplitter),
}

/// Splits each page into items as the bytes arrive, so no page is held whole.
pub struct Items<'s, S: ItemSink> {
    pub sink: &'s mut S,
    resource: &'static str,
    split: Split,
    bytes: u64,
}

impl<'s, S: ItemSink> Items<'s, S> {
    pub fn new(sink: &'s mut S, resource: &'static str) -> Self {
        Items { sink, resource, split: Split::Json(Splitter::new()), bytes: 0 }
    }
}

impl<S: ItemSink> PageSink for Items<'_, S> {
    fn begin(&mut self, encoding: Encoding) {
        self.split = match encoding {
            Encoding::Json => Split::Json(Splitter::new()),
            Encoding::Protobuf => Split::Proto(ListSplitter::new()),
        };
        self.bytes = 0;
        self.sink.begin_page();
    }

    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        self.bytes += bytes.len() as u64;
        let sink = &mut *self.sink;
        match &mut self.split {
            Split::Json(s) => s.feed(bytes, |item| sink.item(Item::Json(item))),
            Split::Proto(s) => s.feed(bytes, |item| sink.item(Item::Proto(item))),
        }
    }

    fn end(&mut self) -> Result<PageMeta, Failure> {
        let done = match &self.split {
            Split::Json(s) => s.done(),
            Split::Proto(s) => s.done(),
        };
        if !done {
            // The body ended cleanly but early: never count a partial page.
            return Err(Failure::transient(Error::cluster(format!(
                "the {} list page ended before its end",
                self.resource
            ))));
        }
        let meta = match &self.split {
            Split::Json(s) => s.meta().map_err(|e| decode_error(self.resource, e))?.into(),
            Split::Proto(s) => s.meta().into(),
        };
        self.sink.end_page(self.bytes);
        Ok(meta)
    }
}

/// Reads each page whole, then hands it to `on_page`: what a full decode
/// into k8s-openapi types needs (`bench --decode full`), and nothing else.
pub struct Whole<F: FnMut(&[u8]) -> Result<PageMeta>> {
    buf: Vec<u8>,
    on_page: F,
}

impl<F: FnMut(&[u8]) -> Result<PageMeta>> Whole<F> {
    pub fn new(on_page: F) -> Self {
        Whole { buf: Vec::new(), on_page }
    }
}

impl<F: FnMut(&[u8]) -> Result<PageMeta>> PageSink for Whole<F> {
    fn begin(&mut self, encoding: Encoding) {
        // Only ever asked for JSON (k8s-openapi reads nothing else).
        debug_assert_eq!(encoding, Encoding::Json);
        self.buf.clear();
    }

    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn end(&mut self) -> Result<PageMeta, Failure> {
        let meta = (self.on_page)(&self.buf)?;
        self.buf = Vec::new();
        Ok(meta)
    }
}

pub fn decode_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::cluster(format!("the API server sent a {what} object that cannot be decoded: {e}"))
}

/// One paginated List: where, in which form, with which parameters.
#[derive(Clone, Debug)]
pub struct ListRequest {
    pub path: String,
    pub accept: Accept,
    /// Query parameters besides `limit` and `continue`; None is left out.
    pub params: Vec<(&'static str, Option<String>)>,
    /// 0: one unpaginated request.
    pub chunk_size: u32,
    pub resource: &'static str,
    pub namespace: Option<String>,
}

/// What a List asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// Objects (pods, nodes), in the encoding `--wire` asks for.
    Objects,
    /// Exactly this (JSON: Table rows, nodes).
    Exactly(&'static str),
}

impl ListRequest {
    pub fn action(&self) -> Action<'_> {
        Action { verb: "list", resource: self.resource, namespace: self.namespace.as_deref() }
    }
}

/// Walks a List one page per call to [`Pager::next`], so the caller can act
/// between pages.
pub struct Pager {
    req: ListRequest,
    retries: retry::Policy,
    token: Option<String>,
    /// Pages read and body bytes, for progress and `bench`.
    pub pages: u64,
    pub bytes: u64,
    /// The list's resourceVersion (from its first page).
    pub resource_version: Option<String>,
    /// What the server sent the last page in.
    pub encoding: Option<Encoding>,
}

impl Pager {
    /// A pager whose pages are retried under [`retry::REQUESTS`].
    pub fn new(req: ListRequest) -> Pager {
        Pager::retried(req, retry::REQUESTS)
    }

    /// A pager whose pages are tried once: for a caller with a retry policy
    /// of its own (the informer's machine), so that there is one layer.
    pub fn tried_once(req: ListRequest) -> Pager {
        Pager::retried(req, retry::Policy { attempts: 1, ..retry::REQUESTS })
    }

    fn retried(req: ListRequest, retries: retry::Policy) -> Pager {
        Pager { req, retries, token: None, pages: 0, bytes: 0, resource_version: None, encoding: None }
    }

    /// Reads the next page into `sink`; Ok(false) once the list is complete.
    /// A 410 on a continue token is `Failure::Gone`.
    pub async fn next(&mut self, t: &Target, sink: &mut impl PageSink) -> Result<bool, Failure> {
        // Done once a page came without a continue token (a failed first
        // page is not a page: asking again asks for it again).
        if self.pages > 0 && self.token.is_none() {
            return Ok(false);
        }
        let limit = (self.req.chunk_size > 0).then(|| self.req.chunk_size.to_string());
        let mut params: Vec<(&str, Option<&str>)> = self.req.params.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        params.push(("limit", limit.as_deref()));
        params.push(("continue", self.token.as_deref()));
        let uri = page_uri(&self.req.path, &params);
        let mut retry = Retry::new(self.retries);
        let meta = loop {
            match self.attempt(t, &uri, sink).await {
                Err(f) if retry.again(&f).await => continue,
                Err(Failure::Gone(m)) if self.token.is_none() => {
                    // Not about a continue token: nothing to restart from.
                    return Err(Failure::Fatal(Failure::Gone(m).into_error()));
                }
                r => break r?,
            }
        };
        self.pages += 1;
        self.resource_version = self.resource_version.take().or(meta.resource_version);
        self.token = meta.continue_token;
        Ok(self.token.is_some())
    }

    async fn attempt(&mut self, t: &Target, uri: &str, sink: &mut impl PageSink) -> Result<PageMeta, Failure> {
        let action = self.req.action();
        let deadline = http::deadline(&t.at);
        let accept = match self.req.accept {
            Accept::Objects => t.at.objects_accept(false),
            Accept::Exactly(a) => a,
        };
        let resp = http::open(&t.client, &t.at, uri, accept, action, deadline).await?;
        let content_type = resp.headers().get(::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let encoding = Encoding::of_content_type(content_type);
        if encoding == Encoding::Protobuf && self.req.accept != Accept::Objects {
            return Err(Failure::Fatal(Error::cluster(format!(
                "the API server answered protobuf to a request for {accept}"
            ))));
        }
        self.encoding = Some(encoding);
        let mut body = resp.into_body();
        sink.begin(encoding);
        while let Some(data) = http::next_data(&t.at, &mut body, action, deadline).await? {
            self.bytes += data.len() as u64;
            sink.data(&data)?;
        }
        sink.end()
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&...`, leaving out parameters that are None.
pub fn page_uri(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut uri = path.to_string();
    let mut sep = '?';
    for (k, v) in params {
        if let Some(v) = v {
            uri.push(sep);
            uri.push_str(k);
            uri.push('=');
            uri.push_str(&encode(v));
            sep = '&';
        }
    }
    uri
}

/// A namespace in a path.
pub fn path_segment(s: &str) -> String {
    encode(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_encoded_uris() {
        assert_eq!(
            page_uri(
                "/api/v1/pods",
                &[("labelSelector", Some("app in (a,b)")), ("limit", None), ("continue", Some("x=/+"))]
            ),
            "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29&continue=x%3D%2F%2B"
        );
    }

    struct Collect(Vec<String>, u32);
    impl ItemSink for Collect {
        fn begin_page(&mut self) {
            self.0.clear();
        }
        fn item(&mut self, item: Item<'_>) -> Result<()> {
            let (Item::Json(b) | Item::Proto(b)) = item;
            self.0.push(String::from_utf8_lossy(b).into_owned());
            Ok(())
        }
        fn end_page(&mut self, _: u64) {
            self.1 += 1;
        }
    }

    /// A loopback stub that answers each request with the next of
    /// `answers` (status, body), and counts the requests.
    async fn stub(answers: Vec<(u16, &'static str)>) -> (Target, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = std::sync::Arc::new(AtomicUsize::new(0));
        let n = asked.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 2048];
                while !buf.windows(4).any(|x| x == b"\r\n\r\n") {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => break,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let (status, body) = answers.get(n.fetch_add(1, Ordering::SeqCst)).copied().unwrap_or((500, "{}"));
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
            }
        });
        let config = kube::Config::new(url.parse().unwrap());
        let t = http::Timeouts::default();
        let target = Target {
            context: "stub".into(),
            client: http::client(&config, t, http::Protocol::Http1, None).unwrap(),
            watch_client: http::client(&config, t, http::Protocol::Http1, None).unwrap(),
            at: http::Endpoint { server: url, ..Default::default() },
            namespace: "default".into(),
            config,
        };
        (target, asked)
    }

    /// Tried once, a failed first page is asked for again on the next call,
    /// not taken for the end of the List.
    #[tokio::test]
    async fn a_page_tried_once_that_failed_is_asked_again() {
        let unavailable = r#"{"kind":"Status","code":503,"message":"no healthy upstream"}"#;
        let page = r#"{"kind":"PodList","metadata":{"resourceVersion":"5"},"items":[{"a":1}]}"#;
        let (target, asked) = stub(vec![(503, unavailable), (200, page)]).await;
        let req = ListRequest {
            path: "/api/v1/pods".into(),
            accept: Accept::Exactly("application/json"),
            params: vec![],
            chunk_size: 500,
            resource: "pods",
            namespace: None,
        };
        let mut pager = Pager::tried_once(req);
        let mut c = Collect(Vec::new(), 0);
        let first = pager.next(&target, &mut Items::new(&mut c, "pods")).await;
        assert!(matches!(first, Err(Failure::Transient { .. })), "{first:?}");
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1, "tried once");
        let more = pager.next(&target, &mut Items::new(&mut c, "pods")).await.unwrap();
        assert!(!more);
        assert_eq!((c.0.len(), pager.pages, pager.resource_version.as_deref()), (1, 1, Some("5")));
        assert!(!pager.next(&target, &mut Items::new(&mut c, "pods")).await.unwrap(), "then the List is done");
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn a_page_cut_short_is_transient_and_a_retry_starts_clean() {
        let mut c = Collect(Vec::new(), 0);
        let mut items = Items::new(&mut c, "pods");
        items.begin(Encoding::Json);
        items.data(br#"{"metadata":{"continue":"t"},"items":[{"a":1},{"b"#).unwrap();
        assert!(matches!(items.end(), Err(Failure::Transient { .. })));
        items.begin(Encoding::Json);
        items.data(br#"{"metadata":{"continue":"t","resourceVersion":"7"},"items":[{"a":1},{"b":2}]}"#).unwrap();
        let meta = items.end().unwrap();
        assert_eq!(meta, PageMeta { continue_token: Some("t".into()), resource_version: Some("7".into()) });
        assert_eq!((c.0.len(), c.1), (2, 1));
    }
}
