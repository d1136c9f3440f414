//! What this process holds in memory: live heap bytes, from a counting
//! allocator (the system allocator plus one relaxed atomic add per
//! allocation, so `bench` measures the bytes the watch's store holds per pod
//! instead of computing them from a capacity; the binary installs it, the
//! library works without), and resident set size from /proc where there is
//! one (Linux): elsewhere the figures are unknown, never 0.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The most ever live, kept only when asked ([`Counting::track_peak`]): a
/// benchmark's split of peak RSS into heap and the rest.
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TRACK_PEAK: AtomicBool = AtomicBool::new(false);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    if TRACK_PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

pub struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only counters move.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

impl Counting {
    /// Marks the counter as meaningful (call once from `main`).
    pub fn install() {
        INSTALLED.store(true, Ordering::Relaxed);
    }

    /// Keeps the most ever live from now on (one more relaxed load per
    /// allocation when not asked).
    pub fn track_peak() {
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
        TRACK_PEAK.store(true, Ordering::Relaxed);
    }
}

/// The most bytes ever live since [`Counting::track_peak`], if it was called.
pub fn peak_bytes() -> Option<usize> {
    TRACK_PEAK.load(Ordering::Relaxed).then(|| PEAK.load(Ordering::Relaxed))
}

/// Bytes allocated and not yet freed, when the counting allocator is the
/// global one.
pub fn live_bytes() -> Option<usize> {
    INSTALLED.load(Ordering::Relaxed).then(|| LIVE.load(Ordering::Relaxed))
}

/// A `kB` field of /proc/self/status (`VmRSS:`, `VmHWM:`); `None` where
/// there is no such file or field (off Linux).
pub fn proc_status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// This process's resident set size in bytes, where the system says.
pub fn rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|k| k * 1024)
}

/// Asks glibc's allocator to hold less memory it does not use, unless the
/// user tuned it (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`):
/// - one arena: every thread that allocates otherwise gets an arena of its
///   own (up to 8 a core), each keeping its freed pages (a watch has two
///   workers and blocking threads);
/// - a fixed mmap threshold (128 KiB, glibc's starting value): a large
///   buffer (a List page, the pod table while it grows) is mapped and given
///   back when freed, instead of glibc raising the threshold after the first
///   such free and carving later ones from a heap that cannot shrink around
///   what is still live.
///
/// At 150,000 pods the two took a watch's RSS from 23.5 to 18.0 MiB, and
/// `watch --resources` from 31.8 to 26.0 MiB, at the same time to sync (in
/// another pair of runs, the arena alone took a watch from 23.0 to 20.0).
///
/// Elsewhere (musl, macOS, Windows) the system allocator is left as it is.
pub fn hold_less() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tuned = |var: &str| std::env::var_os(var).is_some();
        // SAFETY: mallopt only sets allocator parameters; called once at
        // start, before any other thread exists.
        unsafe {
            if !tuned("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
            if !tuned("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
            }
        }
    }
}
