//! The one HTTP layer that list, watch and bench use: how the clients are
//! built (connect and TLS-handshake timeout, no retry layer of kube's own;
//! HTTP/2 with keep-alive pings for watches), one request attempt with a
//! deadline, the one retry loop, and how every failure is sorted and worded.
//!
//! Two connection pools from the same settings: lists go over HTTP/1.1,
//! watches over HTTP/2. Measured at 100,000 pods, a JSON object List took
//! 25.4 s over HTTP/2 against 16.4-19.7 s over HTTP/1.1 (the apiserver's
//! HTTP/2 writer is the slower path for bulk bodies), while a watch needs
//! HTTP/2 for its PINGs; a list page has its own deadline instead.
//!
//! Bounds (`kubectl podcount docs reading`):
//! - TCP connect + TLS handshake: [`Timeouts::connect`] (10 s).
//! - A request, from sending to its last body byte (a list page, a watch's
//!   response headers): `--request-timeout`, or [`DEFAULT_REQUEST`] (60 s).
//! - An open watch stream: HTTP/2 PING after [`Timeouts::ping_interval`] of
//!   silence, connection closed when unanswered for [`Timeouts::ping_timeout`]
//!   (15 s + 10 s; client-go: 30 s + 15 s). Over HTTP/1.1 (a proxy that does
//!   not speak HTTP/2) the stream's own deadline is the bound.
//! - Retries: [`retry::REQUESTS`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::{Body, ConfigExt};
use kube::{Client, Config};
use tokio::time::Instant;
use tokio_rustls::rustls;
use tower::{BoxError, ServiceBuilder};

use super::cause::{self, Cause};
use super::proxy::Route;
use super::retry::{self, Backoff, Policy};
use super::token::{self, TokenFile};
use crate::decode::{ApiStatus, Encoding};
use crate::error::{Error, chain};

/// A request (list page, watch headers) with no `--request-timeout` given.
pub const DEFAULT_REQUEST: Duration = Duration::from_secs(60);

/// The transport's bounds. Tests shorten the liveness ones through the
/// environment (`PODCOUNT_PING_INTERVAL`, `PODCOUNT_PING_TIMEOUT`,
/// `PODCOUNT_CONNECT_TIMEOUT`, humantime durations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect and TLS handshake together.
    pub connect: Duration,
    /// Silence on a connection after which an HTTP/2 PING is sent.
    pub ping_interval: Duration,
    /// How long a PING may go unanswered before the connection is closed.
    pub ping_timeout: Duration,
}

impl Timeouts {
    pub fn from_env() -> Timeouts {
        Timeouts::from_vars(|k| std::env::var(k).ok())
    }

    /// The defaults, each overridden by its variable when that parses as a
    /// duration (`PODCOUNT_CONNECT_TIMEOUT=3s`).
    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Timeouts {
        let d = Timeouts::default();
        let get = |k: &str, v: Duration| var(k).and_then(|s| humantime::parse_duration(s.trim()).ok()).unwrap_or(v);
        Timeouts {
            connect: get("PODCOUNT_CONNECT_TIMEOUT", d.connect),
            ping_interval: get("PODCOUNT_PING_INTERVAL", d.ping_interval),
            ping_timeout: get("PODCOUNT_PING_TIMEOUT", d.ping_timeout),
        }
    }
}

/// Which connection pool a client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 only: bulk List bodies.
    Http1,
    /// HTTP/2 where the server offers it (ALPN), with keep-alive PINGs:
    /// long-lived watches.
    Http2,
}

/// A kube `Client` on our own stack. kube's default stack speaks HTTP/1.1
/// only, has no read timeout and retries 503 fifteen times over minutes.
pub fn client(config: &Config, t: Timeouts, protocol: Protocol, route: Option<&Route>) -> kube::Result<Client> {
    client_with_tls(config, config.rustls_client_config()?, t, protocol, route)
}

/// [`client`] with TLS configured by the caller (a pinned certificate).
pub fn client_with_tls(
    config: &Config,
    tls: rustls::ClientConfig,
    t: Timeouts,
    protocol: Protocol,
    route: Option<&Route>,
) -> kube::Result<Client> {
    build(config, tls, t, protocol, Via::Route(route))
}

/// An HTTP/1.1 client whose every connection is a port-forward to a pod
/// (`count --from service/...`), with TLS configured by the caller.
pub fn client_forwarded(
    config: &Config,
    tls: rustls::ClientConfig,
    t: Timeouts,
    forward: super::forward::Connector,
) -> kube::Result<Client> {
    build(config, tls, t, Protocol::Http1, Via::Forward(Box::new(forward)))
}

/// How a client's connections reach the server.
enum Via<'a> {
    /// TCP, or through the proxy.
    Route(Option<&'a Route>),
    /// A port-forward through an apiserver.
    Forward(Box<super::forward::Connector>),
}

fn build(
    config: &Config,
    tls: rustls::ClientConfig,
    t: Timeouts,
    protocol: Protocol,
    via: Via,
) -> kube::Result<Client> {
    // A token file is read here (trimmed, re-read a minute on), as kube
    // would otherwise read it untrimmed; kube keeps every other credential.
    let a = &config.auth_info;
    let token_file = match (&a.token_file, &a.token, &a.username) {
        (Some(path), None, None) => {
            Some(Arc::new(TokenFile::open(path, token::REREAD).map_err(|e| kube::Error::Service(e.into()))?))
        }
        _ => None,
    };
    let mut config = config.clone();
    if token_file.is_some() {
        config.auth_info.token_file = None;
    }
    let config = &config;
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_connect_timeout(Some(t.connect));
    tcp.set_nodelay(true);
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = name.clone().try_into().map_err(|e| {
            kube::Error::Service(format!("invalid tls-server-name {name:?} in the kubeconfig: {e}").into())
        })?;
        builder = builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    // The cluster's TLS over whatever `$c` connects with.
    macro_rules! https {
        ($c:expr) => {
            match protocol {
                Protocol::Http1 => builder.enable_http1().wrap_connector($c),
                Protocol::Http2 => builder.enable_http1().enable_http2().wrap_connector($c),
            }
        };
    }
    // One stack a route; the same bounds and layers on each.
    macro_rules! finish {
        ($https:expr) => {{
            // Bounds TCP connect (the proxy's handshake too) and the TLS
            // handshake together: a server that accepts and then never
            // answers TLS fails here.
            let mut connector = hyper_timeout::TimeoutConnector::new($https);
            connector.set_connect_timeout(Some(t.connect));
            let hyper = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .timer(TokioTimer::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(Duration::from_secs(90))
                .http2_keep_alive_interval(t.ping_interval)
                .http2_keep_alive_timeout(t.ping_timeout)
                .http2_keep_alive_while_idle(true)
                .http2_adaptive_window(true)
                .build(connector);
            let service = ServiceBuilder::new()
                .layer(config.base_uri_layer())
                .option_layer(config.auth_layer()?)
                .option_layer(token_file.clone().map(|tf| {
                    tower::util::MapRequestLayer::new(move |mut req: Request<Body>| {
                        req.headers_mut().insert(header::AUTHORIZATION, tf.header());
                        req
                    })
                }))
                .layer(config.extra_headers_layer()?)
                .map_err(BoxError::from)
                .service(hyper);
            Ok(Client::new(service, config.default_namespace.clone()))
        }};
    }
    match via {
        Via::Forward(forward) => finish!(https!(*forward)),
        Via::Route(None) => finish!(https!(tcp)),
        Via::Route(Some(Route::Connect { proxy, auth })) => {
            // An https proxy is reached over TLS of its own (the system's
            // roots, as client-go), then the tunnel carries the cluster's.
            let to_proxy = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()
                .map_err(|e| {
                    kube::Error::Service(format!("no system root certificates for the https proxy: {e}").into())
                })?
                .https_or_http()
                .enable_http1()
                .wrap_connector(tcp);
            let mut tunnel = Tunnel::new(proxy.clone(), to_proxy);
            if let Some(auth) = auth {
                tunnel = tunnel.with_auth(auth.clone());
            }
            finish!(https!(tunnel))
        }
        Via::Route(Some(Route::Socks5 { proxy, auth, remote_dns })) => {
            let mut socks = SocksV5::new(proxy.clone(), tcp).local_dns(!remote_dns);
            if let Some((user, pass)) = auth {
                socks = socks.with_auth(user.clone(), pass.clone());
            }
            finish!(https!(socks))
        }
    }
}

/// The far end of a client, for bounds and error messages.
#[derive(Clone, Debug, Default)]
pub struct Endpoint {
    pub server: String,
    /// The kubeconfig cluster and user entries in use (what a user edits).
    pub cluster: String,
    pub user: String,
    /// `--request-timeout`.
    pub request_timeout: Option<Duration>,
    pub timeouts: Timeouts,
    /// `--wire`: how pod objects are asked for.
    pub wire: Encoding,
    /// The server or a proxy answered 406/415 to protobuf: JSON from now on.
    pub protobuf_refused: Arc<AtomicBool>,
    /// The proxy it is reached through, as messages name it
    /// (`HTTPS_PROXY http://proxy.corp:3128`).
    pub proxy: Option<String>,
}

/// Protobuf preferred, JSON where the server cannot (the apiserver picks;
/// the Content-Type says which it sent).
pub const PROTOBUF_OR_JSON: &str = "application/vnd.kubernetes.protobuf, application/json";
pub const PROTOBUF_STREAM_OR_JSON: &str = "application/vnd.kubernetes.protobuf;stream=watch, application/json";
pub const JSON: &str = "application/json";

impl Endpoint {
    /// The Accept header for pod objects (a list page, or a watch).
    pub fn objects_accept(&self, watch: bool) -> &'static str {
        match (self.wire, self.protobuf_refused.load(Ordering::Relaxed), watch) {
            (Encoding::Protobuf, false, false) => PROTOBUF_OR_JSON,
            (Encoding::Protobuf, false, true) => PROTOBUF_STREAM_OR_JSON,
            _ => JSON,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            ping_timeout: Duration::from_secs(10),
        }
    }
}

/// What a request was for, so a failure can say it (and which RBAC verb).
#[derive(Clone, Copy, Debug)]
pub struct Action<'a> {
    /// `list` or `watch`.
    pub verb: &'static str,
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
}

/// Why a request did not give a usable answer.
#[derive(Debug)]
pub enum Failure {
    /// 410 Gone: the resourceVersion or continue token was compacted away.
    Gone(String),
    /// Dropped, refused, cut mid-body, 5xx, 429: worth trying again soon.
    Transient { error: Error, retry_after: Option<Duration> },
    /// A bound ran out; it already waited its full length, so it is not
    /// retried on the spot.
    TimedOut(Error),
    /// Forbidden, unauthorized, bad request, kubeconfig trouble: trying again
    /// will not help.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Fatal(e)
    }
}

impl Failure {
    pub fn transient(error: Error) -> Failure {
        Failure::Transient { error, retry_after: None }
    }

    pub fn into_error(self) -> Error {
        match self {
            Failure::Gone(m) => Error::cluster(format!("the API server answered 410 Gone: {m}")),
            Failure::Transient { error, .. } | Failure::TimedOut(error) | Failure::Fatal(error) => error,
        }
    }
}

/// The retry loop, written once: after a failed attempt, `again` says
/// whether to try once more (having waited), or to give up.
pub struct Retry {
    policy: Policy,
    backoff: Backoff,
    attempts: u32,
}

impl Retry {
    pub fn new(policy: Policy) -> Retry {
        Retry { backoff: policy.backoff(), policy, attempts: 1 }
    }

    pub async fn again(&mut self, failure: &Failure) -> bool {
        let Failure::Transient { retry_after, .. } = failure else { return false };
        if self.attempts >= self.policy.attempts {
            return false;
        }
        self.attempts += 1;
        tokio::time::sleep(self.policy.delay(&mut self.backoff, *retry_after)).await;
        true
    }
}

/// When a request started now must be done.
pub fn deadline(at: &Endpoint) -> Instant {
    Instant::now() + at.request_timeout.unwrap_or(DEFAULT_REQUEST)
}

fn timed_out(t: &Endpoint, action: Action<'_>, what: &str) -> Failure {
    let bound = t.request_timeout.unwrap_or(DEFAULT_REQUEST);
    Failure::TimedOut(Error::cluster(format!(
        "the API server at {} did not {what} within {} while {} {} (raise --request-timeout{})",
        t.server,
        humantime::format_duration(bound),
        if action.verb == "watch" { "starting to watch" } else { "listing" },
        action.resource,
        if action.verb == "list" { ", or lower --chunk-size" } else { "" }
    )))
}

/// One GET on `client` (a target's `client` or `watch_client`), by
/// `deadline`: the response once its status is 200, every other outcome
/// sorted into a [`Failure`]. Not retried here.
pub async fn open(
    client: &Client,
    at: &Endpoint,
    uri: &str,
    accept: &str,
    action: Action<'_>,
    deadline: Instant,
) -> Result<Response<Body>, Failure> {
    let mut accept = accept;
    let (resp, status) = loop {
        let req = Request::get(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .map_err(|e| Error::usage(format!("invalid request {uri}: {e}")))?;
        let resp = match tokio::time::timeout_at(deadline, client.send(req)).await {
            Err(_) => return Err(timed_out(at, action, "answer")),
            Ok(Err(e)) => return Err(transport(at, &e)),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if status == StatusCode::OK {
            return Ok(resp);
        }
        // Protobuf refused (a proxy, or a server without it): JSON, now
        // and for the rest of the run.
        let refused = matches!(status, StatusCode::NOT_ACCEPTABLE | StatusCode::UNSUPPORTED_MEDIA_TYPE);
        if refused && accept != JSON && accept.starts_with("application/vnd.kubernetes.protobuf") {
            at.protobuf_refused.store(true, Ordering::Relaxed);
            accept = JSON;
            continue;
        }
        break (resp, status);
    };
    let headers = resp.headers().clone();
    let body = match tokio::time::timeout_at(deadline, resp.into_body().collect_bytes()).await {
        Ok(Ok(b)) => b,
        _ => Bytes::new(),
    };
    Err(refusal(at, status, &headers, &body, action))
}

/// The next piece of a body, by `deadline`; None at its end.
pub async fn next_data(
    at: &Endpoint,
    body: &mut Body,
    action: Action<'_>,
    deadline: Instant,
) -> Result<Option<Bytes>, Failure> {
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(timed_out(at, action, "finish answering")),
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => return Err(cut(at, action, &e)),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// A body that broke off: the connection dropped, or a PING went unanswered.
pub fn cut(t: &Endpoint, action: Action<'_>, e: &dyn std::error::Error) -> Failure {
    Failure::transient(Error::cluster(format!(
        "the connection to {} broke while {} {}: {}",
        t.server,
        if action.verb == "watch" { "watching" } else { "listing" },
        action.resource,
        chain(e)
    )))
}

/// Sorts a non-200 answer.
pub fn refusal(t: &Endpoint, status: StatusCode, headers: &HeaderMap, body: &[u8], action: Action<'_>) -> Failure {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let st = ApiStatus::of_body(content_type, body);
    if status == StatusCode::GONE {
        return Failure::Gone(st.message);
    }
    let error = api_error(t, status, &st, action);
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after =
            headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry::parse_retry_after);
        Failure::Transient { error, retry_after }
    } else {
        Failure::Fatal(error)
    }
}

/// `User "ci" cannot list resource ...` -> `ci`.
fn user_of(message: &str) -> Option<&str> {
    let rest = &message[message.find("User \"")? + 6..];
    Some(&rest[..rest.find('"')?])
}

pub fn api_error(t: &Endpoint, status: StatusCode, st: &ApiStatus, action: Action<'_>) -> Error {
    let scope = match action.namespace {
        Some(ns) => format!("in namespace {ns}"),
        None => "at cluster scope".to_string(),
    };
    let (verb, resource) = (action.verb, action.resource);
    match status {
        StatusCode::FORBIDDEN => {
            let who = user_of(&st.message).map_or_else(|| "the current user".to_string(), |u| format!("user {u:?}"));
            Error::forbidden(format!(
                "forbidden: {who} cannot {verb} {resource} {scope} (needs: {verb} {resource}; see kubectl podcount docs rbac)"
            ))
        }
        StatusCode::UNAUTHORIZED => Error::usage(format!(
            "unauthorized: the API server at {} rejected the credentials of kubeconfig user {:?} (check its token, client certificate or exec plugin)",
            t.server, t.user
        )),
        StatusCode::BAD_REQUEST => Error::usage(format!(
            "the API server rejected the request: {} (check -l/--selector, --field-selector, --node-selector)",
            st.message
        )),
        _ => {
            let msg = if st.message.is_empty() { "no message" } else { st.message.as_str() };
            let doing = if verb == "watch" { "watching" } else { "listing" };
            Error::cluster(format!("the API server at {} answered {status} while {doing} {resource}: {msg}", t.server))
        }
    }
}

/// Sorts a request that got no answer: the kubeconfig's fault (exit 2), a
/// timeout, or a network failure (exit 3).
pub fn transport(t: &Endpoint, e: &kube::Error) -> Failure {
    if let Some(fault) = kubeconfig_fault(t, e) {
        return Failure::Fatal(fault);
    }
    let via = t.proxy.as_ref().map(|p| format!(" through the proxy {p}")).unwrap_or_default();
    let check = if t.proxy.is_some() {
        "is the proxy up, and does it allow CONNECT to the cluster? NO_PROXY lists hosts to reach directly"
    } else {
        "is the cluster up? check --context / --kubeconfig"
    };
    if cause::classify(e) == Some(Cause::TimedOut) {
        return Failure::TimedOut(Error::cluster(format!(
            "cannot reach the API server at {}{via}: no TCP connection and TLS handshake within {} ({check}{})",
            t.server,
            humantime::format_duration(t.timeouts.connect),
            if t.proxy.is_some() { "" } else { ", VPN or tunnel" }
        )));
    }
    Failure::transient(Error::cluster(format!(
        "cannot reach the API server at {}{via}: {} ({check})",
        t.server,
        chain(e)
    )))
}

/// A certificate or key the kubeconfig names that cannot be loaded, by
/// kube's typed error: the kubeconfig's fault (exit 2), naming its field.
pub fn credential_fault(t: &Endpoint, e: &(dyn std::error::Error + 'static)) -> Option<Error> {
    use kube::config::KubeconfigError as K;
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(k) = e.downcast_ref::<K>() {
            let (fields, whose) = match k {
                K::LoadCertificateAuthority(_) | K::ParseCertificates(_) => {
                    ("certificate-authority or certificate-authority-data", format!("cluster {:?}", t.cluster))
                }
                K::LoadClientCertificate(_) => {
                    ("client-certificate or client-certificate-data", format!("user {:?}", t.user))
                }
                K::LoadClientKey(_) => ("client-key or client-key-data", format!("user {:?}", t.user)),
                _ => return None,
            };
            return Some(Error::usage(format!(
                "the {fields} of kubeconfig {whose} cannot be used: {} (fix it in the kubeconfig)",
                chain(k)
            )));
        }
        // Loaded, but not a certificate and key rustls can use.
        if let Some(tls) = e.downcast_ref::<kube::client::RustlsTlsError>() {
            use kube::client::RustlsTlsError as T;
            let fields = match tls {
                T::InvalidIdentityPem(_) | T::MissingCertificate | T::MissingPrivateKey => {
                    "client-certificate(-data) and client-key(-data)"
                }
                T::InvalidPrivateKey(_) | T::UnknownPrivateKeyFormat => "client-key or client-key-data",
                T::AddRootCertificate(_) => "certificate-authority or certificate-authority-data",
                _ => return None,
            };
            let whose = if fields.starts_with("certificate-authority") {
                format!("cluster {:?}", t.cluster)
            } else {
                format!("user {:?}", t.user)
            };
            return Some(Error::usage(format!(
                "the {fields} of kubeconfig {whose} cannot be used: {tls} (fix it in the kubeconfig)"
            )));
        }
        cur = e.source();
    }
    None
}

/// The kubeconfig's fault, by the failure's typed causes (exit 2, naming
/// the entry): an exec credential plugin that is missing or fails, or a
/// server certificate the cluster's CA did not sign.
pub fn kubeconfig_fault(t: &Endpoint, e: &(dyn std::error::Error + 'static)) -> Option<Error> {
    let text = chain(e);
    match cause::classify(e)? {
        Cause::ExecPlugin => Some(Error::usage(format!(
            "the exec credential plugin of kubeconfig user {:?} failed: {text} (check users[].user.exec in the kubeconfig, and that the command is installed)",
            t.user
        ))),
        Cause::UntrustedServer => Some(Error::usage(format!(
            "the API server at {} presented a certificate that kubeconfig cluster {:?} does not trust: {text} (check its certificate-authority-data, or --cluster/--context)",
            t.server, t.cluster
        ))),
        Cause::TimedOut => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Endpoint {
        Endpoint { server: "https://x".into(), cluster: "c".into(), user: "u".into(), ..Default::default() }
    }

    fn act(verb: &'static str) -> Action<'static> {
        Action { verb, resource: "pods", namespace: None }
    }

    #[test]
    fn forbidden_names_the_user_verb_and_scope() {
        let st = ApiStatus {
            message:
                r#"pods is forbidden: User "ci" cannot watch resource "pods" in API group "" at the cluster scope"#
                    .into(),
            code: 403,
        };
        let t = target();
        let e = api_error(&t, StatusCode::FORBIDDEN, &st, act("watch"));
        assert_eq!(e.exit_code(), 3);
        assert_eq!(
            e.message,
            r#"forbidden: user "ci" cannot watch pods at cluster scope (needs: watch pods; see kubectl podcount docs rbac)"#
        );
        let ns = Action { namespace: Some("web"), ..act("list") };
        assert!(api_error(&t, StatusCode::FORBIDDEN, &st, ns).message.contains("cannot list pods in namespace web"));
        assert_eq!(api_error(&t, StatusCode::BAD_REQUEST, &st, act("list")).exit_code(), 2);
        assert_eq!(api_error(&t, StatusCode::UNAUTHORIZED, &st, act("list")).exit_code(), 2);
    }

    #[test]
    fn sorts_statuses_and_reads_retry_after() {
        let t = target();
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "3".parse().unwrap());
        let body = br#"{"kind":"Status","message":"too old resource version: 1 (5)","code":410}"#;
        assert!(
            matches!(refusal(&t, StatusCode::GONE, &h, body, act("watch")), Failure::Gone(m) if m.contains("too old"))
        );
        match refusal(&t, StatusCode::TOO_MANY_REQUESTS, &h, b"", act("list")) {
            Failure::Transient { retry_after, error } => {
                assert_eq!(retry_after, Some(Duration::from_secs(3)));
                assert_eq!(error.exit_code(), 3);
            }
            f => panic!("{f:?}"),
        }
        assert!(matches!(
            refusal(&t, StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), b"", act("list")),
            Failure::Transient { retry_after: None, .. }
        ));
        assert!(matches!(refusal(&t, StatusCode::FORBIDDEN, &h, b"", act("list")), Failure::Fatal(_)));
    }

    /// The exit code follows the cause's type: the same failures with
    /// their messages reworded sort the same, and a message that merely
    /// reads like one of them sorts as a network failure.
    #[test]
    fn exit_codes_survive_reworded_messages() {
        use kube::client::AuthError;
        let t = target();
        let service = |e: Box<dyn std::error::Error + Send + Sync>| kube::Error::Service(e);
        let exec = service(Box::new(kube::Error::Auth(AuthError::AuthExec("plugin said: nope".into()))));
        match transport(&t, &exec) {
            Failure::Fatal(e) => {
                assert_eq!(e.exit_code(), 2);
                assert!(e.message.contains("exec credential plugin of kubeconfig user \"u\""), "{}", e.message);
            }
            f => panic!("{f:?}"),
        }
        let cert = rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName);
        let tls = service(Box::new(std::io::Error::new(std::io::ErrorKind::InvalidData, cert)));
        match transport(&t, &tls) {
            Failure::Fatal(e) => {
                assert_eq!(e.exit_code(), 2);
                assert!(e.message.contains("kubeconfig cluster \"c\" does not trust"), "{}", e.message);
            }
            f => panic!("{f:?}"),
        }
        let slow = service(Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "reworded")));
        assert!(matches!(transport(&t, &slow), Failure::TimedOut(e) if e.exit_code() == 3));
        for text in ["failed exec auth", "invalid peer certificate: BadSignature", "deadline has elapsed"] {
            match transport(&t, &service(text.into())) {
                Failure::Transient { error, .. } => assert_eq!(error.exit_code(), 3, "{text}"),
                f => panic!("{text}: {f:?}"),
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_a_bounded_number_of_times() {
        let mut r = Retry::new(retry::REQUESTS);
        let f = Failure::transient(Error::cluster("503"));
        let started = Instant::now();
        let mut tries = 1;
        while r.again(&f).await {
            tries += 1;
        }
        assert_eq!(tries, retry::REQUESTS.attempts);
        assert!(started.elapsed() <= Duration::from_millis(1750), "{:?}", started.elapsed());
        let mut r = Retry::new(retry::REQUESTS);
        assert!(!r.again(&Failure::TimedOut(Error::cluster("slow"))).await);
        assert!(!r.again(&Failure::Fatal(Error::cluster("no"))).await);
    }

    #[test]
    fn timeouts_come_from_the_environment() {
        assert_eq!(Timeouts::from_vars(|_| None), Timeouts::default());
        assert_eq!(Timeouts::default().connect, Duration::from_secs(10));
        assert!(Timeouts::default().ping_interval + Timeouts::default().ping_timeout <= Duration::from_secs(45));
        let vars = |k: &str| match k {
            "PODCOUNT_CONNECT_TIMEOUT" => Some(" 3s ".to_string()),
            "PODCOUNT_PING_INTERVAL" => Some("not a duration".to_string()),
            "PODCOUNT_PING_TIMEOUT" => Some("250ms".to_string()),
            _ => None,
        };
        let t = Timeouts::from_vars(vars);
        assert_eq!(t.connect, Duration::from_secs(3));
        assert_eq!(t.ping_interval, Timeouts::default().ping_interval, "unreadable: the default");
        assert_eq!(t.ping_timeout, Duration::from_millis(250));
    }
}
