//! The progress spinner both `count` and `watch` show on stderr while listing.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
        }
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
        self.bar.suspend(|| eprintln!("warning: {msg}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
