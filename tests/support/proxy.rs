//! A TCP proxy on 127.0.0.1 between a client and the apiserver, for fault
//! tests. TLS passes through untouched (the apiserver's certificate names
//! 127.0.0.1, whatever the port). It can hold the server's bytes once a given
//! amount has gone by (to act mid-list), and cut every connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

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

impl Proxy {
    /// Starts forwarding from a fresh loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        assert!(upstream.ip().is_loopback(), "the proxy only ever targets loopback");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared { pause_at: AtomicU64::new(u64::MAX), ..Default::default() });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { return };
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let up = tokio::spawn(pump(cr, sw, None));
                let down = tokio::spawn(pump(sr, cw, Some(s.clone())));
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
    }
}

async fn pump(mut from: impl AsyncReadExt + Unpin, mut to: impl AsyncWriteExt + Unpin, meter: Option<Arc<Shared>>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
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
