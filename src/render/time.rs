//! The one timestamp format of every output: RFC 3339, UTC, to the
//! millisecond (`observedAt`, jsonl `time`); change lines show the clock.

use std::time::SystemTime;

/// Now, as every document and event states it: `2026-11-27T12:00:00.123Z`.
pub fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// HH:MM:SS, UTC: the time column of change lines.
pub fn clock() -> String {
    let s = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    s[11..19].to_string()
}

/// Seconds since the epoch of a stamp [`now`] wrote (None for another).
pub fn unix_seconds(stamp: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339(stamp).ok()?;
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let n = now();
        assert_eq!((n.len(), &n[10..11], &n[19..20], &n[23..]), (24, "T", ".", "Z"), "{n}");
        let c = clock();
        assert_eq!((c.len(), &c[2..3], &c[5..6]), (8, ":", ":"), "{c}");
        assert_eq!(unix_seconds("2026-12-07T10:00:00.250Z"), Some(1_796_637_600));
        assert!(unix_seconds(&n).is_some() && unix_seconds("yesterday").is_none());
    }
}
