//! The paginated List source: pages of pods are decoded (only the counting
//! fields, see `wire`), folded into a tally and dropped, so memory stays flat
//! however many pods the cluster has. Nodes are listed the same way.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kube::Client;
use kube::client::Body;

use crate::cli::FilterArgs;
use crate::error::{Error, Result, chain};
use crate::report::NodeInfo;
use crate::split::Splitter;
use crate::tally::{Phase, PodFacts, Tally};
use crate::wire::{ApiStatus, NodePage, SlimPod, TablePage, table_node};

/// Pushed to the server so finished pods are never sent at all; ANDed with a
/// user's `--field-selector`. Counting still applies the rule itself.
pub const NOT_FINISHED: &str = "status.phase!=Succeeded,status.phase!=Failed";

pub const JSON: &str = "application/json";
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
/// How often one page request is retried after a 5xx or a dropped connection.
const MAX_RETRIES: u32 = 4;

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
            Some(ns) => format!("/api/v1/namespaces/{}/pods", encode(ns)),
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

/// Which request failed, for error messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Action<'a> {
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
}

pub(crate) enum PageError {
    /// 410 Gone: the resourceVersion or continue token was compacted away.
    Expired(String),
    /// Unreachable, dropped, 5xx, 429: worth trying again later.
    Transient(Error),
    /// Forbidden, unauthorized, bad request: trying again will not help.
    Fatal(Error),
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError::Fatal(e)
    }
}

impl PageError {
    pub(crate) fn into_error(self, what: &str) -> Error {
        match self {
            PageError::Expired(m) => Error::cluster(format!("the {what} answered 410 Gone: {m}")),
            PageError::Transient(e) | PageError::Fatal(e) => e,
        }
    }
}

/// Sorts a non-200 answer into expired, transient or fatal.
pub(crate) fn classify(server: &str, status: StatusCode, body: &[u8], action: Action<'_>) -> PageError {
    let st: ApiStatus = serde_json::from_slice(body).unwrap_or_default();
    if status == StatusCode::GONE {
        PageError::Expired(st.message)
    } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        PageError::Transient(api_error(server, status, &st, action))
    } else {
        PageError::Fatal(api_error(server, status, &st, action))
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

pub(crate) fn page_uri(path: &str, params: &[(&str, Option<&str>)]) -> String {
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

/// One GET, retried with backoff on 5xx and dropped connections (kube's own
/// layer already retries 429 and 503). Returns the body of a 200.
/// What [`fetch`] hands over.
enum Piece<'a> {
    /// An attempt's 200 begins: drop what an earlier attempt delivered.
    Start,
    Data(&'a [u8]),
}

/// One GET, streamed to `on` piece by piece.
/// Retried with backoff on 5xx and dropped connections, mid-body included
/// (kube's own layer already retries 429 and 503).
async fn fetch(
    client: &Client,
    server: &str,
    uri: &str,
    accept: &str,
    action: Action<'_>,
    mut on: impl FnMut(Piece) -> Result<()>,
) -> Result<(), PageError> {
    let mut attempt = 0;
    loop {
        let req = Request::get(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .map_err(|e| Error::usage(format!("invalid request {uri}: {e}")))?;
        let outcome = match client.send(req).await {
            Ok(resp) if resp.status() == StatusCode::OK => {
                on(Piece::Start)?;
                let mut body = resp.into_body();
                loop {
                    match body.frame().await {
                        None => return Ok(()),
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                on(Piece::Data(&data))?;
                            }
                        }
                        Some(Err(e)) => break Ok(e), // dropped mid-body
                    }
                }
            }
            Ok(resp) => {
                let status = resp.status();
                match resp.into_body().collect_bytes().await {
                    Ok(body) => Err((status, body)),
                    Err(e) => Ok(e),
                }
            }
            Err(e) => Ok(e),
        };
        let retriable = match &outcome {
            Ok(_) => true,
            Err((status, _)) => status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS,
        };
        if retriable && attempt < MAX_RETRIES {
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            continue;
        }
        return Err(match outcome {
            Ok(transport) => PageError::Transient(unreachable(server, &transport)),
            Err((status, body)) => classify(server, status, &body, action),
        });
    }
}

/// One GET, whole body.
async fn get(client: &Client, server: &str, uri: &str, accept: &str, action: Action<'_>) -> Result<Bytes, PageError> {
    let mut buf = Vec::new();
    fetch(client, server, uri, accept, action, |p| {
        match p {
            Piece::Start => buf.clear(),
            Piece::Data(d) => buf.extend_from_slice(d),
        }
        Ok(())
    })
    .await?;
    Ok(Bytes::from(buf))
}

/// Receives a List item by item (see [`walk_items`]).
pub(crate) trait ItemSink {
    /// A page starts, or starts over after a dropped connection: forget
    /// what this page delivered so far.
    fn begin_page(&mut self);
    fn item(&mut self, json: &[u8]) -> Result<()>;
    /// The page is complete: keep what it delivered.
    fn end_page(&mut self, bytes: u64);
}

/// Like [`walk`], but pages are split into items as they arrive, so no page
/// is ever held whole; driven one page at a time, so the caller can act
/// between pages.
pub(crate) struct Pager<'a> {
    req: Paged<'a>,
    limit: Option<String>,
    token: Option<String>,
    started: bool,
    /// The list's resourceVersion (from its first page).
    pub resource_version: Option<String>,
}

impl<'a> Pager<'a> {
    pub(crate) fn new(req: Paged<'a>) -> Self {
        let limit = (req.chunk_size > 0).then(|| req.chunk_size.to_string());
        Pager { req, limit, token: None, started: false, resource_version: None }
    }

    /// Reads the next page into `sink`; Ok(false) once the list is complete.
    pub(crate) async fn next(
        &mut self,
        client: &Client,
        server: &str,
        sink: &mut impl ItemSink,
    ) -> Result<bool, PageError> {
        if self.started && self.token.is_none() {
            return Ok(false);
        }
        self.started = true;
        let mut all: Vec<(&str, Option<&str>)> = self.req.params.to_vec();
        all.push(("limit", self.limit.as_deref()));
        all.push(("continue", self.token.as_deref()));
        let mut split = Splitter::new();
        let mut bytes = 0u64;
        let fetched =
            fetch(client, server, &page_uri(self.req.path, &all), self.req.accept, self.req.action, |p| match p {
                Piece::Start => {
                    split = Splitter::new();
                    bytes = 0;
                    sink.begin_page();
                    Ok(())
                }
                Piece::Data(d) => {
                    bytes += d.len() as u64;
                    split.feed(d, |item| sink.item(item))
                }
            })
            .await;
        match (fetched, &self.token) {
            // A 410 on the first page is not about a continue token.
            (Err(e @ PageError::Expired(_)), None) => return Err(PageError::Fatal(e.into_error("API server"))),
            (r, _) => r?,
        }
        if !split.done() {
            // The body ended cleanly but early: never count a partial page.
            return Err(PageError::Transient(Error::cluster(format!(
                "the {} list page ended before its closing brace",
                self.req.action.resource
            ))));
        }
        let meta = split.meta().map_err(|e| decode_error(self.req.action.resource, e))?;
        sink.end_page(bytes);
        self.resource_version = self.resource_version.take().or(meta.resource_version.map(|s| s.into_owned()));
        self.token = meta.continue_token.map(|s| s.into_owned()).filter(|t| !t.is_empty());
        Ok(self.token.is_some())
    }
}

/// Every page of a List through `sink`; the list's resourceVersion.
pub(crate) async fn walk_items(
    client: &Client,
    server: &str,
    req: Paged<'_>,
    sink: &mut impl ItemSink,
) -> Result<Option<String>, PageError> {
    let mut pager = Pager::new(req);
    while pager.next(client, server, sink).await? {}
    Ok(pager.resource_version)
}

pub(crate) fn unreachable(server: &str, e: &kube::Error) -> Error {
    Error::cluster(format!(
        "cannot reach the API server at {server}: {} (is the cluster up? check --context / --kubeconfig)",
        chain(e)
    ))
}

/// `User "ci" cannot list resource ...` -> `ci`.
fn user_of(message: &str) -> Option<&str> {
    let rest = &message[message.find("User \"")? + 6..];
    Some(&rest[..rest.find('"')?])
}

fn api_error(server: &str, status: StatusCode, st: &ApiStatus, action: Action<'_>) -> Error {
    let scope = match action.namespace {
        Some(ns) => format!("in namespace {ns}"),
        None => "at cluster scope".to_string(),
    };
    match status {
        StatusCode::FORBIDDEN => {
            let who = user_of(&st.message).map_or_else(|| "the current user".to_string(), |u| format!("user {u:?}"));
            Error::cluster(format!(
                "forbidden: {who} cannot list {} {scope} (needs: list {}; see README \"RBAC\")",
                action.resource, action.resource
            ))
        }
        StatusCode::UNAUTHORIZED => Error::cluster(format!(
            "unauthorized: the API server at {server} rejected the credentials (check the kubeconfig user, its token, certificate or exec plugin)"
        )),
        StatusCode::BAD_REQUEST => Error::usage(format!(
            "the API server rejected the request: {} (check -l/--selector, --field-selector, --node-selector)",
            st.message
        )),
        _ => {
            let msg = if st.message.is_empty() { "no message" } else { st.message.as_str() };
            Error::cluster(format!(
                "the API server at {server} answered {status} while listing {}: {msg}",
                action.resource
            ))
        }
    }
}

/// One paginated List: where, in which form, with which parameters.
#[derive(Clone, Copy)]
pub(crate) struct Paged<'a> {
    pub path: &'a str,
    pub accept: &'a str,
    pub params: &'a [(&'a str, Option<&'a str>)],
    pub chunk_size: u32,
    pub action: Action<'a>,
}

/// Walks a List's pages, handing each page's body to `on_page`, which returns
/// the page's continue token. A 410 on a continue token surfaces as Expired.
pub(crate) async fn walk<F>(client: &Client, server: &str, req: Paged<'_>, mut on_page: F) -> Result<(), PageError>
where
    F: FnMut(Bytes) -> Result<Option<String>>,
{
    let Paged { path, accept, params, chunk_size, action } = req;
    let limit = (chunk_size > 0).then(|| chunk_size.to_string());
    let mut token: Option<String> = None;
    loop {
        let mut all: Vec<(&str, Option<&str>)> = params.to_vec();
        all.push(("limit", limit.as_deref()));
        all.push(("continue", token.as_deref()));
        let body = get(client, server, &page_uri(path, &all), accept, action).await;
        let body = match (body, &token) {
            // A 410 on the first page is not about a continue token.
            (Err(e @ PageError::Expired(_)), None) => return Err(PageError::Fatal(e.into_error("API server"))),
            (r, _) => r?,
        };
        token = on_page(body)?.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(());
        }
    }
}

pub(crate) fn decode_error(what: &str, e: serde_json::Error) -> Error {
    Error::cluster(format!("the API server sent a {what} page that is not valid JSON: {e}"))
}

/// Counts pods with a consistent paginated List. An expired continue token
/// restarts the count from the top (up to [`MAX_RESTARTS`] times, warning on
/// stderr), so counts are never partial or doubled.
pub async fn count_pods(
    client: &Client,
    server: &str,
    q: &PodQuery,
    mut progress: impl FnMut(Progress),
    mut warn: impl FnMut(String),
) -> Result<PodCount> {
    let field_selector = q.server_field_selector();
    let table = q.method == Method::Table;
    let params = [
        ("labelSelector", q.label_selector.as_deref()),
        ("fieldSelector", Some(field_selector.as_str())),
        ("resourceVersion", q.resource_version.as_deref()),
        ("includeObject", table.then_some("None")),
    ];
    let action = Action { resource: "pods", namespace: q.namespace.as_deref() };
    let path = q.path();
    let req = Paged {
        path: &path,
        accept: if table { TABLE } else { JSON },
        params: &params,
        chunk_size: q.chunk_size,
        action,
    };
    let mut restarts = 0;
    loop {
        let mut fold = Fold {
            tally: Tally::new(),
            page: Tally::new(),
            page_pods: 0,
            seen: Progress::default(),
            progress: &mut progress,
        };
        let result = if table {
            count_table(client, server, req, &mut fold).await
        } else {
            walk_items(client, server, req, &mut fold).await
        };
        match result {
            Ok(resource_version) => return Ok(PodCount { tally: fold.tally, resource_version }),
            Err(e @ (PageError::Transient(_) | PageError::Fatal(_))) => return Err(e.into_error("API server")),
            Err(PageError::Expired(msg)) if restarts < MAX_RESTARTS => {
                restarts += 1;
                warn(format!(
                    "the pod list expired after {} pages (410 Gone: {msg}); counting again from the top ({restarts}/{MAX_RESTARTS})",
                    fold.seen.pages
                ));
            }
            Err(PageError::Expired(msg)) => {
                return Err(Error::cluster(format!(
                    "the pod list expired {} times in a row (410 Gone: {msg}); the cluster compacts faster than it can be listed: try a larger --chunk-size",
                    MAX_RESTARTS + 1
                )));
            }
        }
    }
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

impl<P: FnMut(Progress)> Fold<'_, P> {
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

    fn item(&mut self, json: &[u8]) -> Result<()> {
        let pod: SlimPod = serde_json::from_slice(json).map_err(|e| decode_error("pod", e))?;
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

/// The Table API path: pages are small (a few bytes a pod), so each is read
/// whole and its Node column folded.
async fn count_table<P: FnMut(Progress)>(
    client: &Client,
    server: &str,
    req: Paged<'_>,
    fold: &mut Fold<'_, P>,
) -> Result<Option<String>, PageError> {
    let mut rv = None;
    walk(client, server, req, |body| {
        let page: TablePage = serde_json::from_slice(&body).map_err(|e| decode_error("pod table", e))?;
        let column = page.node_column().ok_or_else(|| Error::cluster("the pod Table has no Node column"))?;
        fold.begin_page();
        for row in &page.rows {
            // The phase filter ran on the server: every row is a counted pod.
            let node = table_node(row, column);
            fold.add(PodFacts { node: node.as_deref(), phase: Phase::Running, terminating: false, daemon_set: false });
        }
        fold.end_page(body.len() as u64);
        rv = rv.take().or(page.metadata.resource_version.map(|s| s.into_owned()));
        Ok(page.metadata.continue_token.map(|s| s.into_owned()))
    })
    .await?;
    Ok(rv)
}

/// Lists nodes (all, or those matching `label_selector`).
pub async fn list_nodes(
    client: &Client,
    server: &str,
    label_selector: Option<&str>,
    chunk_size: u32,
) -> Result<Vec<NodeInfo>> {
    let action = Action { resource: "nodes", namespace: None };
    let params = [("labelSelector", label_selector)];
    for _ in 0..=MAX_RESTARTS {
        let mut nodes = Vec::new();
        let req = Paged { path: "/api/v1/nodes", accept: JSON, params: &params, chunk_size, action };
        let result = walk(client, server, req, |body| {
            let page: NodePage = serde_json::from_slice(&body).map_err(|e| decode_error("node", e))?;
            nodes.extend(page.items.iter().map(NodeInfo::from_wire));
            Ok(page.metadata.continue_token.map(|s| s.into_owned()))
        })
        .await;
        match result {
            Ok(()) => return Ok(nodes),
            Err(e @ (PageError::Transient(_) | PageError::Fatal(_))) => return Err(e.into_error("API server")),
            Err(PageError::Expired(_)) => continue,
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
    }

    #[test]
    fn builds_encoded_uris() {
        assert_eq!(
            page_uri(
                "/api/v1/pods",
                &[("labelSelector", Some("app in (a,b)")), ("limit", None), ("continue", Some("x=/+"))]
            ),
            "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29&continue=x%3D%2F%2B"
        );
        let q = PodQuery { namespace: Some("team-01".into()), ..Default::default() };
        assert_eq!(q.path(), "/api/v1/namespaces/team-01/pods");
    }

    #[test]
    fn forbidden_names_the_user_verb_and_scope() {
        let st = ApiStatus {
            message: r#"pods is forbidden: User "ci" cannot list resource "pods" in API group "" at the cluster scope"#
                .into(),
            code: 403,
        };
        let e = api_error("https://x", StatusCode::FORBIDDEN, &st, Action { resource: "pods", namespace: None });
        assert_eq!(e.exit_code(), 3);
        assert_eq!(
            e.message,
            r#"forbidden: user "ci" cannot list pods at cluster scope (needs: list pods; see README "RBAC")"#
        );
        let e = api_error("https://x", StatusCode::BAD_REQUEST, &st, Action { resource: "pods", namespace: None });
        assert_eq!(e.exit_code(), 2);
    }
}
