//! The `kubectl-podcount` binary: parse flags, run, exit with the documented
//! code. Everything else is in the library.

use clap::Parser;

use kubectl_podcount::cli::{self, Cli};
use kubectl_podcount::error::exit;
use kubectl_podcount::memory::Counting;

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    Counting::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and exit 0; bad input exits 2.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { exit::USAGE } else { exit::OK });
        }
    };
    std::process::exit(cli::run(cli));
}
