//! A kubeconfig user's `tokenFile`, read as client-go reads it: trimmed
//! (`echo "$TOKEN" > file` leaves a newline), and read again once the token
//! held is a minute old (projected service-account tokens rotate), keeping
//! the last good token when a re-read fails.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderValue;

/// How old a token may get before the file is read again (client-go's
/// cachingTokenSource: a minute).
pub const REREAD: Duration = Duration::from_secs(60);

/// The `Authorization` header a token file gives, kept current.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    every: Duration,
    held: Mutex<(HeaderValue, Instant)>,
}

impl TokenFile {
    /// Reads the file once: a file that cannot be read, is empty, or holds
    /// what a header cannot carry is the kubeconfig's fault.
    pub fn open(path: impl Into<PathBuf>, every: Duration) -> Result<TokenFile, String> {
        let path = path.into();
        let header = read(&path)?;
        Ok(TokenFile { path, every, held: Mutex::new((header, Instant::now())) })
    }

    /// `Bearer <token>`, read again when older than `every`.
    pub fn header(&self) -> HeaderValue {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.1.elapsed() >= self.every {
            if let Ok(h) = read(&self.path) {
                held.0 = h;
            }
            held.1 = Instant::now();
        }
        held.0.clone()
    }
}

fn read(path: &PathBuf) -> Result<HeaderValue, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("tokenFile {}: cannot read it: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("tokenFile {} is empty", path.display()));
    }
    let mut h = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| format!("tokenFile {} holds characters an HTTP header cannot carry", path.display()))?;
    h.set_sensitive(true);
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimmed_and_read_again_when_old() {
        let dir = std::env::temp_dir().join(format!("podcount-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, "abc\n").unwrap();
        let t = TokenFile::open(&path, Duration::from_millis(50)).unwrap();
        assert_eq!(t.header(), "Bearer abc");
        std::fs::write(&path, "  def \r\n").unwrap();
        assert_eq!(t.header(), "Bearer abc", "not yet read again");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(t.header(), "Bearer def");
        // Gone while rotating: the last good token stays.
        std::fs::remove_file(&path).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(t.header(), "Bearer def");
        for (text, says) in [("", "is empty"), ("a\u{1}b", "cannot carry")] {
            std::fs::write(&path, text).unwrap();
            let e = TokenFile::open(&path, REREAD).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        assert!(TokenFile::open(dir.join("none"), REREAD).unwrap_err().contains("cannot read it"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
