//! The README's captured examples are what the seeded bed prints, so a flag,
//! column or message that changes fails here instead of leaving the README
//! (and `kubectl podcount docs`, which prints it) behind.
//!
//! A fenced block is checked when one of its `$ ` lines ends in
//! `# the test bed, captured`. In such a block, `$ cat FILE` and the lines up
//! to the next `$ ` are a file the later commands read (`$ cat NEW # OLD,
//! plus:` adds them to OLD's); every
//! `$ kubectl podcount ARGS` runs against the bed the README names
//! (`tests/cluster/up --nodes 16 --pods 1500`, the seeder's fixed seed, so the
//! same every time) and its output (stderr's lines, then stdout's) must be
//! the lines that follow it. `| tail -N`, `| head -N`, `>/dev/null` and
//! `; echo $?` are understood. `PODCOUNT_README=overwrite` writes what the
//! bed printed back into README.md instead of failing.

mod support;

use std::path::{Path, PathBuf};

use support::{Cluster, Options, podcount_cmd};

const BED: Options = Options {
    nodes: 16,
    pods: 1500,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};

const MARKER: &str = "# the test bed, captured";

/// One `$ ` line: what to run and what to do with its output.
struct Command {
    args: Vec<String>,
    /// `# the test bed, captured on a terminal`: run on a pseudo-terminal
    /// (`script`), colours off (`NO_COLOR`), as a reader's terminal shows it.
    terminal: bool,
    tail: Option<usize>,
    head: Option<usize>,
    quiet: bool,
    echo_code: bool,
}

fn parse(line: &str) -> Option<Command> {
    let line = line.strip_prefix("$ kubectl podcount")?;
    let terminal = line.trim_end().ends_with(" on a terminal");
    let line = line.split(" #").next().unwrap_or(line);
    let (line, echo_code) = match line.split_once("; echo $?") {
        Some((l, _)) => (l, true),
        None => (line, false),
    };
    let (line, pipe) = match line.split_once('|') {
        Some((l, p)) => (l, Some(p.trim())),
        None => (line, None),
    };
    let mut args: Vec<String> = line.split_whitespace().map(String::from).collect();
    let quiet = args.iter().any(|a| a == ">/dev/null");
    args.retain(|a| a != ">/dev/null");
    let count = |p: &str, cmd: &str| p.strip_prefix(cmd).and_then(|n| n.trim().trim_start_matches('-').parse().ok());
    let tail = pipe.and_then(|p| count(p, "tail"));
    let head = pipe.and_then(|p| count(p, "head"));
    assert!(pipe.is_none() || tail.is_some() || head.is_some(), "a pipe this test does not run: {pipe:?}");
    Some(Command { args, terminal, tail, head, quiet, echo_code })
}

/// What a terminal shows of the command, as lines.
fn run(kubeconfig: &Path, dir: &Path, c: &Command) -> Vec<String> {
    let args: Vec<&str> = c.args.iter().map(String::as_str).collect();
    let mut cmd = podcount_cmd(kubeconfig, &args);
    if c.terminal {
        // The same command line inside `script`'s pseudo-terminal; stderr
        // kept off it, so that no progress spinner (a terminal's, after
        // 300 ms) can draw into what is compared.
        let line = std::iter::once("kubectl podcount").chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
        let line = format!("{line} 2>/dev/null");
        let mut tty = std::process::Command::new("script");
        tty.args(["-qec", &line, "/dev/null"]);
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => tty.env(k, v),
                None => tty.env_remove(k),
            };
        }
        cmd = tty;
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.current_dir(dir).output().unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stderr).lines().map(String::from).collect();
    let mut stdout: Vec<String> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim_end_matches('\r').to_string()).collect();
    if let Some(n) = c.tail {
        stdout = stdout.split_off(stdout.len().saturating_sub(n));
    }
    if let Some(n) = c.head {
        stdout.truncate(n);
    }
    if !c.quiet {
        lines.extend(stdout);
    }
    if c.echo_code {
        lines.push(out.status.code().map_or("signal".into(), |c| c.to_string()));
    }
    lines
}

/// Checks (or rewrites) one block's lines; the lines as the bed prints them.
fn block(kubeconfig: &Path, dir: &Path, lines: &[&str], failures: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push(line.to_string());
        i += 1;
        let end = lines[i..].iter().position(|l| l.starts_with("$ ")).map_or(lines.len(), |p| i + p);
        // Blank lines before the next `$ ` separate; they are not output.
        let last = lines[i..end].iter().rposition(|l| !l.trim().is_empty()).map_or(i, |p| i + p + 1);
        let (captured, gap) = (&lines[i..last], &lines[last..end]);
        if let Some(cat) = line.strip_prefix("$ cat ") {
            // `$ cat NEW      # OLD, plus:` shows what NEW adds to OLD.
            let (file, base) = match cat.split_once('#') {
                Some((f, c)) => (f.trim(), c.trim().strip_suffix(", plus:")),
                None => (cat.trim(), None),
            };
            let mut text = base.map(|b| std::fs::read_to_string(dir.join(b.trim())).unwrap()).unwrap_or_default();
            text.push_str(&(captured.join("\n") + "\n"));
            std::fs::write(dir.join(file), text).unwrap();
            out.extend(lines[i..end].iter().map(|l| l.to_string()));
        } else if let Some(c) = parse(line) {
            let got = run(kubeconfig, dir, &c);
            if got != captured {
                failures.push(format!("{line}\n--- README\n{}\n--- the bed\n{}", captured.join("\n"), got.join("\n")));
            }
            out.extend(got);
            out.extend(gap.iter().map(|l| l.to_string()));
        } else {
            panic!("a checked block runs only `kubectl podcount` and `cat`: {line}");
        }
        i = end;
    }
    out
}

#[test]
fn captured_examples_are_what_the_seeded_bed_prints() {
    let c = Cluster::shared(BED);
    let readme = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    let dir = c.dir.join("readme");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut rewritten, mut failures, mut checked) = (Vec::new(), Vec::new(), 0);
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        rewritten.push(line.to_string());
        if !line.starts_with("```") {
            continue;
        }
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        let marked =
            |l: &&str| l.starts_with("$ ") && l.trim_end().trim_end_matches(" on a terminal").ends_with(MARKER);
        if body.iter().any(marked) {
            checked += body.iter().filter(|l| l.starts_with("$ kubectl podcount")).count();
            rewritten.extend(block(&c.kubeconfig, &dir, &body, &mut failures));
        } else {
            rewritten.extend(body.iter().map(|l| l.to_string()));
        }
        rewritten.push("```".into());
    }
    assert!(checked >= 6, "only {checked} captured commands found: is the marker {MARKER:?} still used?");
    if std::env::var("PODCOUNT_README").as_deref() == Ok("overwrite") {
        std::fs::write(&readme, rewritten.join("\n") + "\n").unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} captured examples differ from what the bed prints (PODCOUNT_README=overwrite rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
