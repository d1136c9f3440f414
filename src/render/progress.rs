//! The progress spinner both `count` and `watch` show on stderr while listing.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner on stderr, shown only when stderr is a TTY and the list has
/// taken more than a moment; warnings printed through it do not tear it.
#[derive(Clone)]
pub struct Status {
    bar: ProgressBar,
    started: Instant,
    tty: bool,
    pods: Arc<AtomicU64>,
    pages: Arc<AtomicU64>,
    /// Warnings kept for the caller to say, not printed (a background
    /// question, asked again and again, says each once).
    kept: Option<Arc<Mutex<Vec<String>>>>,
}

impl Default for Status {
    fn default() -> Self {
        Self::new()
    }
}

impl Status {
    pub fn new() -> Status {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("static template"));
        Status {
            bar,
            started: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            pods: Arc::default(),
            pages: Arc::default(),
            kept: None,
        }
    }

    /// No spinner, and warnings kept (see [`Status::kept`]).
    pub fn keeping() -> Status {
        Status { tty: false, kept: Some(Arc::default()), ..Status::new() }
    }

    /// The warnings a [`Status::keeping`] kept.
    pub fn kept(&self) -> Vec<String> {
        self.kept.as_ref().map(|k| k.lock().map(|v| v.clone()).unwrap_or_default()).unwrap_or_default()
    }

    /// One more page of `pods` received.
    pub fn page(&self, pods: u64) {
        let pods = self.pods.fetch_add(pods, Ordering::Relaxed) + pods;
        let pages = self.pages.fetch_add(1, Ordering::Relaxed) + 1;
        if self.tty && self.bar.is_hidden() && self.started.elapsed() > Duration::from_millis(300) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.set_message(format!("listing pods: {pods} pods, {pages} pages"));
    }

    pub fn warn(&self, msg: &str) {
        if let Some(kept) = &self.kept {
            if let Ok(mut v) = kept.lock() {
                v.push(msg.to_string());
            }
            return;
        }
        self.bar.suspend(|| eprintln!("warning: {msg}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
