//! `watch --listen ADDR`: the watch's stores served over HTTP while it runs.
//! The server holds no state of its own: each request is a [`Query`] to the
//! watch loop, which answers from memory (so an answer is as current as the
//! loop) or not at all within [`ANSWER`] (then 503).
//!
//! Safe by default: loopback unless an address says otherwise; GET and HEAD
//! only; headers at most 16 KiB; a connection gets one request and at most
//! [`CONNECTION`] in all; nothing of the kubeconfig is ever served. With
//! `--listen-auth kubernetes`, over TLS, `/metrics` and `/v1/podcount` ask
//! the apiserver who may read them ([`super::auth`]); the probes
//! (`/healthz`, `/readyz`) stay open, as kubelet calls them without a token.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsAcceptor;

use crate::client::pin::Fingerprint;
use tokio_rustls::rustls;

use super::auth::{Authorizer, Verdict};
use super::metrics;
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
    PodCount(oneshot::Sender<Answer>, Parts),
}

/// What of the PodCount document a client asks for: `?resources=false`
/// leaves out each row's resources, `?fits=false` the `--fits` answers, so
/// `count --from` fetches and parses only what its view prints. By default
/// everything the watch tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    pub resources: bool,
    pub fits: bool,
}

impl Default for Parts {
    fn default() -> Self {
        Parts { resources: true, fits: true }
    }
}

impl Parts {
    /// The query string of `/v1/podcount`; an unknown or malformed
    /// parameter says what is understood.
    pub fn parse(query: Option<&str>) -> std::result::Result<Parts, String> {
        let mut parts = Parts::default();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let part = match key {
                "resources" => &mut parts.resources,
                "fits" => &mut parts.fits,
                _ => return Err(format!("unknown parameter {key:?}: /v1/podcount takes resources= and fits=")),
            };
            *part = match value {
                "true" => true,
                "false" => false,
                _ => return Err(format!("{key}={value}: expected true or false")),
            };
        }
        Ok(parts)
    }
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

/// `--listen-tls-cert` and `--listen-tls-key`: PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How the listener is secured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Security {
    /// `--listen-auth kubernetes`.
    pub kubernetes_auth: bool,
    pub tls: Option<TlsFiles>,
}

/// A bound listener and what it needs per connection.
pub struct Listener {
    tcp: TcpListener,
    tls: Option<Arc<Certificate>>,
    auth: Option<Arc<Authorizer>>,
}

/// The serving certificate: made at start, or read from files and read
/// again when either file changes. cert-manager renews in place (kubelet
/// swaps the Secret's files), so each handshake looks at the files' stamps
/// (two `stat`s) and new connections get the new pair, without a restart.
enum Certificate {
    Fixed(TlsAcceptor),
    Files { files: TlsFiles, current: std::sync::Mutex<(Stamp, TlsAcceptor)> },
}

/// Modification time and length of the certificate and key files.
type Stamp = Option<[(std::time::SystemTime, u64); 2]>;

fn stamp(files: &TlsFiles) -> Stamp {
    let one = |p: &PathBuf| std::fs::metadata(p).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
    Some([one(&files.cert)?, one(&files.key)?])
}

impl Certificate {
    fn from_files(files: &TlsFiles) -> Result<(Certificate, Fingerprint)> {
        let (first, pin) = acceptor_from_files(files)?;
        let current = std::sync::Mutex::new((stamp(files), first));
        Ok((Certificate::Files { files: files.clone(), current }, pin))
    }

    /// The acceptor for a new connection. A pair that does not load (caught
    /// between the two files' writes, or broken) keeps the last good one,
    /// with one warning a change.
    fn acceptor(&self) -> TlsAcceptor {
        let (files, current) = match self {
            Certificate::Fixed(a) => return a.clone(),
            Certificate::Files { files, current } => (files, current),
        };
        let now = stamp(files);
        let mut cur = current.lock().unwrap_or_else(|e| e.into_inner());
        if now.is_some() && now != cur.0 {
            cur.0 = now;
            match acceptor_from_files(files) {
                Ok((a, pin)) => {
                    cur.1 = a;
                    eprintln!("reloaded the serving certificate from {} (sha256 {pin})", files.cert.display());
                }
                Err(e) => eprintln!("warning: {e}; still serving the previous certificate"),
            }
        }
        cur.1.clone()
    }
}

/// Binds `addr` with `security` (`client` answers the reviews), warning on
/// stderr when it is not loopback and anyone reaching it is served, or when
/// its certificate is self-signed.
pub async fn bind(addr: SocketAddr, security: &Security, client: Option<kube::Client>) -> Result<Listener> {
    let (tls, pin) = match (&security.tls, security.kubernetes_auth) {
        (Some(files), _) => {
            let (c, pin) = Certificate::from_files(files)?;
            (Some(Arc::new(c)), Some(pin))
        }
        (None, true) => {
            eprintln!(
                "warning: --listen-auth kubernetes without --listen-tls-cert/--listen-tls-key: serving a self-signed certificate made at start (clients must skip verification, or pin it: count --from-fingerprint)"
            );
            let (a, pin) = self_signed(addr)?;
            (Some(Arc::new(Certificate::Fixed(a))), Some(pin))
        }
        (None, false) => (None, None),
    };
    let tcp = TcpListener::bind(addr)
        .await
        .map_err(|e| Error::usage(format!("--listen {addr}: cannot listen there: {e}")))?;
    let at = tcp.local_addr().unwrap_or(addr);
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!("listening on {scheme}://{at} (/metrics, /readyz, /healthz, /v1/podcount)");
    if let Some(pin) = pin {
        // What `count --from-fingerprint` pins when the certificate is not signed by a CA it has.
        eprintln!("serving certificate sha256 {pin}");
    }
    if !addr.ip().is_loopback() && !security.kubernetes_auth {
        eprintln!(
            "warning: --listen {addr} is not a loopback address: pod counts and node names are served to anyone who can reach it, without authentication (--listen-auth kubernetes asks the apiserver who may read them)"
        );
    }
    let auth = match (security.kubernetes_auth, client) {
        (true, Some(c)) => Some(Arc::new(Authorizer::new(c))),
        (true, None) => return Err(Error::usage("--listen-auth kubernetes needs a cluster to ask")),
        (false, _) => None,
    };
    Ok(Listener { tcp, tls, auth })
}

fn acceptor(
    certs: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> std::result::Result<TlsAcceptor, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn acceptor_from_files(files: &TlsFiles) -> Result<(TlsAcceptor, Fingerprint)> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &PathBuf, e: &dyn std::fmt::Display| {
        Error::usage(format!("--listen-tls-{what} {}: {e}", path.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| bad("cert", &files.cert, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("cert", &files.cert, &e))?;
    if certs.is_empty() {
        return Err(bad("cert", &files.cert, &"no PEM certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| bad("key", &files.key, &e))?;
    let pin = Fingerprint::of(&certs[0]);
    let a = acceptor(certs, key).map_err(|e| Error::usage(format!("--listen-tls-cert/--listen-tls-key: {e}")))?;
    Ok((a, pin))
}

/// A certificate for `addr` (and localhost), signed by its own key.
fn self_signed(addr: SocketAddr) -> Result<(TlsAcceptor, Fingerprint)> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !addr.ip().is_unspecified() {
        names.push(addr.ip().to_string());
    }
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::usage(format!("--listen-auth: cannot make a self-signed certificate: {e}")))?;
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(made.signing_key.serialize_der());
    let pin = Fingerprint::of(made.cert.der());
    let a = acceptor(vec![made.cert.der().clone()], key.into())
        .map_err(|e| Error::usage(format!("--listen-auth: the self-signed certificate: {e}")))?;
    Ok((a, pin))
}

/// Serves until the task is dropped.
pub async fn serve(listener: Listener, loop_tx: mpsc::Sender<Query>) {
    loop {
        let Ok((stream, _)) = listener.tcp.accept().await else { continue };
        let tls = listener.tls.as_ref().map(|c| c.acceptor());
        let (tx, auth) = (loop_tx.clone(), listener.auth.clone());
        tokio::spawn(async move {
            let served = async move {
                let service = service_fn(move |req| handle(req, tx.clone(), auth.clone()));
                let http = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(CONNECTION)
                    .max_buf_size(16 * 1024)
                    .keep_alive(false)
                    .clone();
                match tls {
                    // The handshake counts against the connection's bound too.
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(stream).await {
                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            };
            let _ = tokio::time::timeout(CONNECTION, served).await;
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
    auth: Option<Arc<Authorizer>>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let head = req.method() == Method::HEAD;
    if req.method() != Method::GET && !head {
        let mut r = respond(text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"), false);
        r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    let query: Box<dyn FnOnce(oneshot::Sender<Answer>) -> Query + Send> = match req.uri().path() {
        "/healthz" => return Ok(respond(text(StatusCode::OK, "ok"), head)),
        "/metrics" => Box::new(Query::Metrics),
        "/readyz" => Box::new(Query::Ready),
        "/v1/podcount" => match Parts::parse(req.uri().query()) {
            Ok(parts) => Box::new(move |reply| Query::PodCount(reply, parts)),
            Err(why) => return Ok(respond(text(StatusCode::BAD_REQUEST, why), head)),
        },
        _ => {
            let paths = "not found: try /metrics, /readyz, /healthz, /v1/podcount";
            return Ok(respond(text(StatusCode::NOT_FOUND, paths), head));
        }
    };
    // The data endpoints, not the probes, are behind --listen-auth.
    if let Some(auth) = auth.filter(|_| matches!(req.uri().path(), "/metrics" | "/v1/podcount")) {
        let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let refused = match auth.check(header, req.uri().path()).await {
            Verdict::Allowed => None,
            Verdict::Unauthenticated(why) => Some((StatusCode::UNAUTHORIZED, why)),
            Verdict::Forbidden(why) => Some((StatusCode::FORBIDDEN, why)),
            Verdict::Unavailable(why) => Some((StatusCode::SERVICE_UNAVAILABLE, why)),
        };
        if let Some((status, why)) = refused {
            let mut r = respond(text(status, why), head);
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            }
            return Ok(r);
        }
    }
    let (answer_tx, answer_rx) = oneshot::channel();
    if tx.send(query(answer_tx)).await.is_err() {
        return Ok(respond(text(StatusCode::SERVICE_UNAVAILABLE, "the watch is stopping"), head));
    }
    let mut answer = match tokio::time::timeout(ANSWER, answer_rx).await {
        Ok(Ok(a)) => a,
        _ => text(StatusCode::SERVICE_UNAVAILABLE, "the watch loop did not answer in time"),
    };
    // /metrics: OpenMetrics for who asks for it (Prometheus), else the
    // classic text format every other scraper and promtool read.
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if answer.1 == metrics::CONTENT_TYPE && !metrics::wants_openmetrics(accept) {
        answer = (answer.0, metrics::TEXT_CONTENT_TYPE, metrics::to_text_format(&answer.2));
    }
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

    #[test]
    fn podcount_parts_from_the_query() {
        assert_eq!(Parts::parse(None), Ok(Parts { resources: true, fits: true }));
        assert_eq!(Parts::parse(Some("resources=false")), Ok(Parts { resources: false, fits: true }));
        assert_eq!(Parts::parse(Some("fits=false&resources=true")), Ok(Parts { resources: true, fits: false }));
        assert!(Parts::parse(Some("resources=no")).unwrap_err().contains("expected true or false"));
        assert!(Parts::parse(Some("labels=false")).unwrap_err().contains("unknown parameter"));
        assert!(Parts::parse(Some("bogus=1")).unwrap_err().contains("unknown parameter"), "the name is checked first");
    }
}
