//! User-facing failures: one clear line (what failed, why, what to do) and
//! the documented exit code. Nothing here prints a stack trace or a token.

use std::fmt;

/// Documented exit codes (`kubectl podcount docs exit-codes`).
pub mod exit {
    pub const OK: i32 = 0;
    pub const THRESHOLD: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const CLUSTER: i32 = 3;
    /// `--min-fits`: the answer is not exact (a bound, or preemption could
    /// place more), and the verdict could go either way.
    pub const NOT_EXACT: i32 = 4;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bad flag value, unreadable kubeconfig, unknown context: exit 2.
    Usage,
    /// Unreachable, timeout, server error: exit 3.
    Cluster,
    /// RBAC refused a verb on a resource: exit 3 (some callers carry on
    /// without that resource).
    Forbidden,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error { kind: Kind::Usage, message: message.into() }
    }

    pub fn cluster(message: impl Into<String>) -> Error {
        Error { kind: Kind::Cluster, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Error {
        Error { kind: Kind::Forbidden, message: message.into() }
    }

    pub fn is_forbidden(&self) -> bool {
        self.kind == Kind::Forbidden
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Usage => exit::USAGE,
            Kind::Cluster | Kind::Forbidden => exit::CLUSTER,
        }
    }

    /// The same error, said of one context among several.
    pub fn in_context(self, context: &str) -> Error {
        Error { kind: self.kind, message: format!("context {context}: {}", self.message) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The full chain of an error's causes on one line ("a: b: c"), skipping
/// causes whose text the previous one already includes.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}
