//! The `kubectl-podcount` binary: parse flags, run, exit with the documented
//! code. Everything else is in the library.

use clap::Parser;

use kubectl_podcount::cli::{self, Cli};
use kubectl_podcount::error::exit;
use kubectl_podcount::memory::Counting;

#[global_allocator]
static ALLOC: Counting = Counting;

/// `PODCOUNT_HEAP_PEAK=1`: on exit, the heap's peak on stderr (what
/// `scripts/bench` splits peak RSS with).
const HEAP_PEAK: &str = "PODCOUNT_HEAP_PEAK";

fn main() {
    Counting::install();
    kubectl_podcount::memory::hold_less();
    let heap_peak = std::env::var_os(HEAP_PEAK).is_some_and(|v| v == "1");
    if heap_peak {
        Counting::track_peak();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; bad input exits 2.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    let code = cli::run(cli);
    if let Some(peak) = kubectl_podcount::memory::peak_bytes().filter(|_| heap_peak) {
        eprintln!("heap peak: {peak} bytes");
    }
    std::process::exit(code);
}
