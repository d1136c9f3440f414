//! `watch --listen ADDR`: the watch's stores served over HTTP while it runs.
//! The server holds no state of its own: each request is a [`Query`] to the
//! watch loop, which answers from memory (so an answer is as current as the
//! loop) or not at all within [`ANSWER`] (then 503).
//!
//! Safe by default: loopback unless an address says otherwise; GET and HEAD
//! only; headers at most 16 KiB; a connection gets one request and at most
//! [`CONNECTION`] in all; nothing of the kubeconfig is ever served.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// How long the watch loop has to answer a query.
pub const ANSWER: Duration = Duration::from_secs(2);
/// A connection's whole life: headers, answer, write.
pub const CONNECTION: Duration = Duration::from_secs(10);

/// An answer: status, content type, body.
pub type Answer = (StatusCode, &'static str, String);

/// What the server asks the watch loop.
pub enum Query {
    /// `/metrics`.
    Metrics(oneshot::Sender<Answer>),
    /// `/readyz`: 200 once every informer is synced and watching.
    Ready(oneshot::Sender<Answer>),
    /// `/v1/podcount`: the PodCount document, 503 while not ready.
    PodCount(oneshot::Sender<Answer>),
}

/// `--listen`: `PORT`, `:PORT`, `HOST:PORT`. No host is loopback.
pub fn parse_listen(s: &str) -> std::result::Result<SocketAddr, String> {
    let s = s.trim();
    let port_only = s.strip_prefix(':').unwrap_or(s);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    s.parse::<SocketAddr>()
        .map_err(|_| format!("expected PORT, :PORT or HOST:PORT (an IP address), such as 127.0.0.1:9464, not {s:?}"))
}

/// Binds `addr`, warning on stderr when it is not loopback.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::usage(format!("--listen {addr}: cannot listen there: {e}")))?;
    let at = listener.local_addr().unwrap_or(addr);
    eprintln!("listening on http://{at} (/metrics, /readyz, /healthz, /v1/podcount)");
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: --listen {addr} is not a loopback address: pod counts and node names are served to anyone who can reach it, without authentication"
        );
    }
    Ok(listener)
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, loop_tx: mpsc::Sender<Query>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let tx = loop_tx.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(CONNECTION)
                .max_buf_size(16 * 1024)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service_fn(move |req| handle(req, tx.clone())));
            let _ = tokio::time::timeout(CONNECTION, conn).await;
        });
    }
}

fn respond((status, content_type, body): Answer, head: bool) -> Response<Full<Bytes>> {
    let body = if head { Bytes::new() } else { Bytes::from(body) };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Full::new(body))
        .expect("static response parts")
}

/// A plain-text answer, one line.
pub fn text(status: StatusCode, body: impl Into<String>) -> Answer {
    (status, "text/plain; charset=utf-8", body.into() + "\n")
}

async fn handle(
    req: Request<Incoming>,
    tx: mpsc::Sender<Query>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut r = respond(text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"), false);
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    let query: fn(oneshot::Sender<Answer>) -> Query = match req.uri().path() {
        "/healthz" => return Ok(respond(text(StatusCode::OK, "ok"), head)),
        "/metrics" => Query::Metrics,
        "/readyz" => Query::Ready,
        "/v1/podcount" => Query::PodCount,
        _ => {
            let paths = "not found: try /metrics, /readyz, /healthz, /v1/podcount";
            return Ok(respond(text(StatusCode::NOT_FOUND, paths), head));
        }
    };
    let (answer_tx, answer_rx) = oneshot::channel();
    if tx.send(query(answer_tx)).await.is_err() {
        return Ok(respond(text(StatusCode::SERVICE_UNAVAILABLE, "the watch is stopping"), head));
    }
    let answer = match tokio::time::timeout(ANSWER, answer_rx).await {
        Ok(Ok(a)) => a,
        _ => text(StatusCode::SERVICE_UNAVAILABLE, "the watch loop did not answer in time"),
    };
    Ok(respond(answer, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_default_to_loopback() {
        assert_eq!(parse_listen("9464").unwrap(), "127.0.0.1:9464".parse().unwrap());
        assert_eq!(parse_listen(":9464").unwrap(), "127.0.0.1:9464".parse().unwrap());
        assert_eq!(parse_listen("0.0.0.0:80").unwrap(), "0.0.0.0:80".parse().unwrap());
        assert_eq!(parse_listen("[::1]:9464").unwrap(), "[::1]:9464".parse().unwrap());
        assert!(parse_listen("localhost:9464").is_err());
        assert!(parse_listen("99999").is_err());
    }
}
