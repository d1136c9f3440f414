//! The watch source: list + watch, for pods and for nodes (after kube-rs
//! `kube-runtime`). It decodes only what counting needs, sends [`Event`]s
//! down a channel and keeps nothing but the resourceVersion to resume from.
//!
//! - [`machine`]: the one state machine (one `State`, one `step`, one retry
//!   policy), over a seam to the server that its tests script;
//! - [`wire`]: that seam over HTTP (pages, watches, stream decoding);
//! - [`kind`]: what differs between pods and nodes.

mod kind;
mod machine;
mod wire;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use crate::client::connect::Target;
use crate::error::Result;
use crate::model::event::Event;

pub use kind::{Kind, Nodes, PodKeep, Pods, Resource};
pub use machine::InitialList;

/// Runs until the consumer hangs up (Ok) or the cluster refuses for good
/// (forbidden, bad selector, or a failure before the first sync: Err).
pub async fn run<K: Kind>(src: Source<K::Keep>, tx: mpsc::Sender<Event<K::Item, K::Key>>) -> Result<()> {
    let (initial, meter) = (src.initial, src.meter.clone());
    machine::run::<K, _>(wire::HttpApi::<K>::new(src), initial, meter, tx).await
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

/// Where and what to watch, and what to keep of each object (`Keep`: the
/// kind's).
#[derive(Clone)]
pub struct Source<Keep> {
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

impl<A> Source<A> {
    /// The same server and settings, another path and selection, keeping
    /// `keep` (a node informer beside a pod informer).
    pub fn with_keep<B>(self, keep: B) -> Source<B> {
        let Source { target, path, namespace, label_selector, field_selector, chunk_size, initial, meter, keep: _ } =
            self;
        Source { target, path, namespace, label_selector, field_selector, chunk_size, initial, meter, keep }
    }
}
