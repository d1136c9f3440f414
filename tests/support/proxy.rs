//! A TCP proxy on 127.0.0.1 between a client and the apiserver, for fault
//! tests. TLS passes through untouched (the apiserver's certificate names
//! 127.0.0.1, whatever the port). It can
//! - hold the server's bytes once a given amount has gone by (to act mid-list);
//! - cut every open connection (RST/FIN: the client notices at once);
//! - freeze every open connection silently: nothing forwarded either way, no
//!   FIN, no RST, while new connections still pass (a load balancer or NAT
//!   that forgot a flow);
//! - answer every new connection with 503 (TLS terminated here with the test
//!   bed's serving certificate), as a load balancer with no healthy backend.
//!
//! A [`stalled_tls`] listener accepts TCP and never answers the handshake.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

#[derive(Default)]
struct Shared {
    /// Bytes sent from the server to clients, over all connections.
    downstream: AtomicU64,
    /// Hold server bytes once `downstream` reaches this (u64::MAX: never).
    pause_at: AtomicU64,
    paused: AtomicBool,
    on_pause: Notify,
    resume: Notify,
    tasks: Mutex<Vec<AbortHandle>>,
    /// One flag per open connection: set, it forwards nothing, silently.
    frozen: Mutex<Vec<Arc<AtomicBool>>>,
    /// New connections get 503 answers instead of the apiserver.
    refuse: AtomicBool,
    /// Requests answered with 503.
    refused: AtomicU64,
}

pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    accept: AbortHandle,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_all();
    }
}

/// A TLS acceptor with the test bed's serving certificate (cluster `dir`).
pub fn acceptor(dir: &Path) -> TlsAcceptor {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(dir.join("pki/apiserver.crt"))
        .expect("serving certificate")
        .map(|c| c.expect("certificate"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("pki/apiserver.key")).expect("serving key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    TlsAcceptor::from(Arc::new(config))
}

impl Proxy {
    /// Starts forwarding from a fresh loopback port to `upstream`; `dir` is
    /// the cluster's, for the certificate the 503 mode answers with.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        Proxy::start_with(upstream, None).await
    }

    pub async fn start_with(upstream: SocketAddr, tls: Option<TlsAcceptor>) -> Proxy {
        assert!(upstream.ip().is_loopback(), "the proxy only ever targets loopback");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared { pause_at: AtomicU64::new(u64::MAX), ..Default::default() });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                if s.refuse.load(Ordering::SeqCst) {
                    let tls = tls.clone().expect("503 mode needs the TLS acceptor (start_with)");
                    let t = tokio::spawn(answer_503(tls, client, s.clone()));
                    s.tasks.lock().unwrap().push(t.abort_handle());
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let frozen = Arc::new(AtomicBool::new(false));
                s.frozen.lock().unwrap().push(frozen.clone());
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let up = tokio::spawn(pump(cr, sw, None, frozen.clone()));
                let down = tokio::spawn(pump(sr, cw, Some(s.clone()), frozen));
                s.tasks.lock().unwrap().extend([up.abort_handle(), down.abort_handle()]);
            }
        })
        .abort_handle();
        Proxy { addr, shared, accept }
    }

    /// After `bytes` more server bytes, hold the stream until `resume`.
    pub fn pause_after(&self, bytes: u64) {
        let at = self.shared.downstream.load(Ordering::SeqCst) + bytes;
        self.shared.pause_at.store(at, Ordering::SeqCst);
    }

    /// Waits until the stream is held.
    pub async fn paused(&self) {
        while !self.shared.paused.load(Ordering::SeqCst) {
            let notified = self.shared.on_pause.notified();
            if self.shared.paused.load(Ordering::SeqCst) {
                break;
            }
            notified.await;
        }
    }

    pub fn resume(&self) {
        self.shared.pause_at.store(u64::MAX, Ordering::SeqCst);
        self.shared.paused.store(false, Ordering::SeqCst);
        self.shared.resume.notify_waiters();
    }

    pub fn downstream_bytes(&self) -> u64 {
        self.shared.downstream.load(Ordering::SeqCst)
    }

    /// Cuts every open connection (new ones are still accepted).
    pub fn drop_all(&self) {
        for t in self.shared.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        self.shared.frozen.lock().unwrap().clear();
    }

    /// Every open connection stops forwarding, silently and for good; new
    /// connections pass. Returns how many were frozen.
    pub fn freeze_open(&self) -> usize {
        let flags = std::mem::take(&mut *self.shared.frozen.lock().unwrap());
        for f in &flags {
            f.store(true, Ordering::SeqCst);
        }
        flags.len()
    }

    /// New connections are answered 503 (on) or forwarded (off).
    pub fn refuse_new(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    /// Requests answered with 503 so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

async fn pump(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    meter: Option<Arc<Shared>>,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if frozen.load(Ordering::SeqCst) {
            // Keep both sockets open and forward nothing, ever.
            std::future::pending::<()>().await;
        }
        if let Some(s) = &meter {
            let total = s.downstream.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
            if total >= s.pause_at.load(Ordering::SeqCst) {
                let resumed = s.resume.notified();
                s.paused.store(true, Ordering::SeqCst);
                s.on_pause.notify_waiters();
                resumed.await;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// HTTP/1.1 over TLS: the request answered 503, then the connection closed
/// (as a load balancer with no backend does), so each retry connects anew.
async fn answer_503(tls: TlsAcceptor, client: TcpStream, s: Arc<Shared>) {
    let Ok(mut stream) = tls.accept(client).await else { return };
    if super::read_head(&mut stream).await.is_none() {
        return;
    }
    s.refused.fetch_add(1, Ordering::SeqCst);
    let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no healthy upstream","code":503}"#;
    let resp = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// A loopback listener that accepts TCP connections and never says a word:
/// a TLS handshake with it never completes. Kept open until dropped.
pub struct StalledTls {
    pub addr: SocketAddr,
    accept: AbortHandle,
}

impl Drop for StalledTls {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

pub async fn stalled_tls() -> StalledTls {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    })
    .abort_handle();
    StalledTls { addr, accept }
}

/// What [`protobuf_hostile`] does to a request that asks for protobuf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// Rewrites its Accept header to `application/json` (a proxy that only
    /// passes JSON through); the apiserver answers JSON.
    Strip,
    /// Answers 406 Not Acceptable, as a server without protobuf does.
    Refuse,
}

/// An HTTP/1.1 proxy on 127.0.0.1 that terminates TLS with the test bed's
/// serving certificate and talks TLS to the apiserver with the kubeconfig's
/// client certificate, meddling with protobuf as `mode` says.
pub struct HostileProxy {
    pub addr: SocketAddr,
    /// Requests that asked for protobuf.
    pub protobuf_asked: Arc<AtomicU64>,
    accept: AbortHandle,
}

impl Drop for HostileProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn upstream_tls(dir: &Path, kubeconfig_text: &str) -> tokio_rustls::TlsConnector {
    use base64::Engine;
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let kc: serde_yaml::Value = serde_yaml::from_str(kubeconfig_text).unwrap();
    let user = &kc["users"][0]["user"];
    let b64 = |k: &str| base64::engine::general_purpose::STANDARD.decode(user[k].as_str().unwrap()).unwrap();
    let certs: Vec<CertificateDer> =
        CertificateDer::pem_slice_iter(&b64("client-certificate-data")).map(|c| c.unwrap()).collect();
    let key = PrivateKeyDer::from_pem_slice(&b64("client-key-data")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(dir.join("pki/ca.crt")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

pub async fn protobuf_hostile(upstream: SocketAddr, dir: &Path, kubeconfig_text: &str, mode: Hostile) -> HostileProxy {
    assert!(upstream.ip().is_loopback(), "the proxy only ever targets loopback");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tls, connector) = (acceptor(dir), upstream_tls(dir, kubeconfig_text));
    let asked = Arc::new(AtomicU64::new(0));
    let counter = asked.clone();
    let accept = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (tls, connector, asked) = (tls.clone(), connector.clone(), counter.clone());
            tokio::spawn(async move {
                let Ok(client) = tls.accept(client).await else { return };
                let Ok(server) = TcpStream::connect(upstream).await else { return };
                let name = rustls_pki_types::ServerName::IpAddress(upstream.ip().into());
                let Ok(server) = connector.connect(name, server).await else { return };
                meddle(client, server, mode, asked).await;
            });
        }
    })
    .abort_handle();
    HostileProxy { addr, protobuf_asked: asked, accept }
}

/// Request heads (GETs: no bodies) go up one by one, rewritten or refused;
/// the server's bytes come back untouched.
async fn meddle(
    client: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    server: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    mode: Hostile,
    asked: Arc<AtomicU64>,
) {
    let (mut cr, cw) = tokio::io::split(client);
    let (sr, mut sw) = tokio::io::split(server);
    let cw = Arc::new(tokio::sync::Mutex::new(cw));
    let down = {
        let cw = cw.clone();
        tokio::spawn(async move {
            let mut sr = sr;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                // TLS: bytes written may sit in the session until flushed.
                let mut w = cw.lock().await;
                if w.write_all(&buf[..n]).await.is_err() || w.flush().await.is_err() {
                    break;
                }
            }
            let _ = cw.lock().await.shutdown().await;
        })
    };
    let mut pending = Vec::new();
    let mut chunk = [0u8; 8192];
    'conn: loop {
        let end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match cr.read(&mut chunk).await {
                Ok(0) | Err(_) => break 'conn,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
            }
        };
        let head: Vec<u8> = pending.drain(..end).collect();
        let text = String::from_utf8_lossy(&head).into_owned();
        let protobuf = text.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("accept:") && l.contains("application/vnd.kubernetes.protobuf")
        });
        if protobuf {
            asked.fetch_add(1, Ordering::SeqCst);
        }
        match (protobuf, mode) {
            (true, Hostile::Refuse) => {
                let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"only application/json is served here","reason":"NotAcceptable","code":406}"#;
                let resp = format!(
                    "HTTP/1.1 406 Not Acceptable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let mut w = cw.lock().await;
                if w.write_all(resp.as_bytes()).await.is_err() || w.flush().await.is_err() {
                    break;
                }
            }
            (true, Hostile::Strip) => {
                let rewritten: Vec<String> = text
                    .split("\r\n")
                    .map(|l| {
                        if l.to_ascii_lowercase().starts_with("accept:") {
                            "Accept: application/json".to_string()
                        } else {
                            l.to_string()
                        }
                    })
                    .collect();
                if sw.write_all(rewritten.join("\r\n").as_bytes()).await.is_err() || sw.flush().await.is_err() {
                    break;
                }
            }
            (false, _) => {
                if sw.write_all(&head).await.is_err() || sw.flush().await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = sw.shutdown().await;
    let _ = down.await;
}
