//! Unit tests' oracles: the test bed's cluster program (`tests/cluster/ctl`,
//! Kubernetes' own code built from the same Go modules), run directly.

use std::path::PathBuf;
use std::process::Command;

/// `tests/cluster/ctl`, ready for its arguments (it builds the program on
/// first use, then caches it).
pub(crate) fn ctl() -> Command {
    Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/ctl"))
}

/// Asks `ctl VERB` one question a line (each written as one line on its
/// stdin): its answers, one JSON document a line, as many as asked.
pub(crate) fn ask(verb: &str, questions: &[String]) -> Vec<serde_json::Value> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = ctl()
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start tests/cluster/ctl {verb}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let text: String = questions.iter().map(|q| format!("{q}\n")).collect();
    // Written from a thread of its own: ctl answers while it reads.
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "tests/cluster/ctl {verb} failed");
    let answers: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), questions.len(), "one answer a question");
    answers
}
