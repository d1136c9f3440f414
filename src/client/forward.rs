//! A connection to a pod's port through the apiserver (`pods/portforward`,
//! as `kubectl port-forward` opens it), in the shape hyper connects with:
//! `count --from service/...` speaks TLS and HTTP over it as it would over
//! TCP. Each connection is a port-forward of its own.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use tokio::io::DuplexStream;

/// Opens a port-forward to `pod`'s `port` for each connection hyper asks
/// for (the URI only names the TLS server).
#[derive(Clone)]
pub struct Connector {
    pods: Api<Pod>,
    namespace: String,
    pod: String,
    port: u16,
    /// What the far end said when the forward failed after it opened (the
    /// kubelet could not reach the port), read by [`Connector::said`].
    said: Arc<Mutex<Option<String>>>,
}

impl Connector {
    pub fn new(client: kube::Client, namespace: &str, pod: &str, port: u16) -> Connector {
        Connector {
            pods: Api::namespaced(client, namespace),
            namespace: namespace.into(),
            pod: pod.into(),
            port,
            said: Arc::default(),
        }
    }

    /// What the kubelet reported on the forward's error channel, if
    /// anything (it arrives as the stream closes).
    pub async fn said(&self) -> Option<String> {
        // The error channel's message races the stream's close.
        for _ in 0..20 {
            if let Some(s) = self.said.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                return Some(s);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        None
    }

    async fn open(self) -> Result<Forwarded, Refused> {
        let mut forwarder = self.pods.portforward(&self.pod, &[self.port]).await.map_err(|e| Refused {
            namespace: self.namespace.clone(),
            pod: self.pod.clone(),
            cause: e,
        })?;
        let stream = forwarder.take_stream(self.port).expect("the port asked for");
        if let Some(error) = forwarder.take_error(self.port) {
            let said = self.said.clone();
            tokio::spawn(async move {
                if let Some(msg) = error.await {
                    *said.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
                }
            });
        }
        // The forwarder's task carries the bytes on after it is dropped.
        Ok(Forwarded(TokioIo::new(stream)))
    }
}

/// The apiserver refused or failed to open the port-forward.
#[derive(Debug)]
pub struct Refused {
    namespace: String,
    pod: String,
    cause: kube::Error,
}

impl Refused {
    /// The upgrade's HTTP status, when the apiserver answered one.
    pub fn status(&self) -> Option<http::StatusCode> {
        match &self.cause {
            kube::Error::UpgradeConnection(kube::client::UpgradeConnectionError::ProtocolSwitch(s)) => Some(*s),
            kube::Error::Api(s) => http::StatusCode::from_u16(s.code).ok(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (ns, pod) = (&self.namespace, &self.pod);
        match self.status().map(|s| s.as_u16()) {
            Some(403) => write!(
                f,
                "forbidden (403): the kubeconfig user may not port-forward to pod {ns}/{pod}; grant it `get` and `create` on `pods/portforward` in namespace {ns} (a WebSocket port-forward needs both since Kubernetes 1.35; kubectl podcount docs rbac)"
            ),
            Some(404) => write!(f, "pod {ns}/{pod} not found (404)"),
            Some(s) => write!(f, "the API server refused the port-forward to pod {ns}/{pod} ({s})"),
            None => write!(f, "the port-forward to pod {ns}/{pod} failed ({})", crate::error::chain(&self.cause)),
        }
    }
}

impl std::error::Error for Refused {}

impl tower::Service<Uri> for Connector {
    type Response = Forwarded;
    type Error = Refused;
    type Future = Pin<Box<dyn Future<Output = Result<Forwarded, Refused>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Refused>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Uri) -> Self::Future {
        Box::pin(self.clone().open())
    }
}

/// One forwarded connection's bytes.
pub struct Forwarded(TokioIo<DuplexStream>);

impl Connection for Forwarded {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for Forwarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Forwarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
