//! Unit tests' oracles: the test bed's cluster program (`tests/cluster/ctl`,
//! Kubernetes' own code built from the same Go modules), run directly.

use std::path::PathBuf;
use std::process::Command;

/// `tests/cluster/ctl`, ready for its arguments (it builds the program on
/// first use, then caches it).
pub(crate) fn ctl() -> Command {
    Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/ctl"))
}
