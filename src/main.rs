//! The `kubectl-podcount` binary: parse flags, run, exit with the documented
//! code. Everything else is in the library.

use std::io::Write;

use clap::Parser;

use kubectl_podcount::alloc::Counting;
use kubectl_podcount::cli::{Cli, Command};
use kubectl_podcount::error::{self, exit};
use kubectl_podcount::{bench, complete, count, watch};

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
    let code = match cli.command {
        Some(Command::Completion { shell }) => print(&complete::script(shell)),
        Some(Command::Complete { words }) => print(&complete::render(&words)),
        Some(Command::Count(args)) => run(count::run(args)),
        Some(Command::Watch(args)) => run(watch::run(args)),
        Some(Command::Bench(args)) => run(bench::run(args)),
        Some(Command::BenchRun(args)) => run(bench::run_one(args)),
        None => run(count::run(cli.count)),
    };
    std::process::exit(code);
}

fn print(s: &str) -> i32 {
    let _ = std::io::stdout().write_all(s.as_bytes());
    exit::OK
}

fn run(work: impl Future<Output = error::Result<i32>>) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::CLUSTER;
        }
    };
    match runtime.block_on(work) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
