//! This process as Prometheus' standard `process_*` metrics describe it, read
//! from /proc as client_golang's process collector reads it (clock ticks at
//! procfs' fixed 100 a second). Off Linux every figure is `None`, so the
//! metric is absent rather than a misleading 0.

/// What `/metrics` reports of this process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub resident_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    /// Seconds since the epoch.
    pub start_time_seconds: Option<f64>,
    pub open_fds: Option<u64>,
}

/// procfs' USER_HZ: 100 on every architecture Linux runs on today.
const USER_HZ: f64 = 100.0;

/// The figures now.
pub fn stats() -> ProcessStats {
    let stat = std::fs::read_to_string("/proc/self/stat").ok();
    let fields = stat.as_deref().and_then(stat_fields);
    let tick = |i: usize| fields.as_ref().and_then(|f| f.get(i)).and_then(|v| v.parse::<f64>().ok());
    let cpu_seconds = tick(STAT_UTIME).zip(tick(STAT_STIME)).map(|(u, s)| (u + s) / USER_HZ);
    let start_time_seconds = tick(STAT_STARTTIME).zip(boot_time()).map(|(t, boot)| boot + t / USER_HZ);
    let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as u64);
    ProcessStats { resident_bytes: crate::memory::rss_bytes(), cpu_seconds, start_time_seconds, open_fds }
}

// Indexes into the fields after the command name (field 3, `state`, is 0).
const STAT_UTIME: usize = 11;
const STAT_STIME: usize = 12;
const STAT_STARTTIME: usize = 19;

/// The fields of /proc/self/stat after `(comm)`, which may hold spaces.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let after = &stat[stat.rfind(')')? + 1..];
    Some(after.split_whitespace().collect())
}

/// `btime` of /proc/stat: when the machine booted, in seconds since the epoch.
fn boot_time() -> Option<f64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 130 0 0 20 0 1 0 9000 100 200";
        let f = stat_fields(stat).unwrap();
        assert_eq!((f[0], f[STAT_UTIME], f[STAT_STIME], f[STAT_STARTTIME]), ("S", "250", "130", "9000"));
    }

    #[test]
    fn on_linux_every_figure_is_known_and_plausible() {
        if !cfg!(target_os = "linux") {
            assert_eq!(stats(), ProcessStats::default());
            return;
        }
        let s = stats();
        assert!(s.resident_bytes.unwrap() > 1 << 20);
        assert!(s.cpu_seconds.unwrap() >= 0.0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        let started = s.start_time_seconds.unwrap();
        assert!(started <= now + 1.0 && started > now - 86_400.0, "{started} vs {now}");
        assert!(s.open_fds.unwrap() >= 3);
    }
}
