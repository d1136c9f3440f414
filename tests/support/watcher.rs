//! Runs `kubectl podcount watch -o jsonl --interval 0` and folds its lines
//! into the per-node counts it claims, checking the stream as it goes: every
//! change starts from the count the previous line left.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

#[derive(Debug, Default)]
pub struct Seen {
    pub synced: bool,
    /// Node -> pods, as the stream says (zero entries removed).
    pub counts: BTreeMap<String, u64>,
    pub lines: Vec<Value>,
    /// Stream inconsistencies: a change whose `from` is not the last `to`.
    pub broken: Vec<String>,
    /// Watching with --node-selector: nodes entering or leaving the view
    /// bring or take their counts.
    pub node_selector: bool,
    /// With --group-by: group -> pods, as the stream says.
    pub groups: BTreeMap<String, u64>,
    /// With --resources: (node, resource) -> requests in base units, as
    /// the stream says (from `synced`, then each change's `resources`).
    pub requests: BTreeMap<(String, String), f64>,
}

impl Seen {
    pub fn types(&self, kind: &str) -> usize {
        self.lines.iter().filter(|l| l["type"] == kind).count()
    }
}

pub struct Watcher {
    child: Child,
    pub seen: Arc<Mutex<Seen>>,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watcher {
    pub fn start(kubeconfig: &Path, args: &[&str]) -> Watcher {
        let mut all = vec!["watch", "-o", "jsonl", "--interval", "0"];
        all.extend_from_slice(args);
        let mut child = super::podcount_cmd(kubeconfig, &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubectl podcount watch");
        let seen = Arc::new(Mutex::new(Seen { node_selector: args.contains(&"--node-selector"), ..Seen::default() }));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out = child.stdout.take().unwrap();
        let s = seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { return };
                let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
                let mut seen = s.lock().unwrap();
                fold(&mut seen, &v);
                seen.lines.push(v);
            }
        });
        let err = child.stderr.take().unwrap();
        let e = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { return };
                e.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Watcher { child, seen, stderr }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `cond` holds of what was seen, or panics after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, cond: impl Fn(&Seen) -> bool) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if cond(&self.seen.lock().unwrap()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let seen = self.seen.lock().unwrap();
        panic!(
            "timed out waiting for {what}; counts {:?}\nstderr: {}\nlast lines: {:?}",
            seen.counts,
            self.stderr(),
            seen.lines.iter().rev().take(5).collect::<Vec<_>>()
        );
    }

    /// With `--listen 127.0.0.1:0`: the URL the watch says it serves on.
    pub fn listen_url(&self) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(url) = self
                .stderr()
                .lines()
                .find_map(|l| l.strip_prefix("listening on ").and_then(|r| r.split_whitespace().next()))
            {
                return url.to_string();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the watch never said where it listens; stderr: {}", self.stderr());
    }

    pub fn synced(&self) {
        self.wait_for("synced", Duration::from_secs(60), |s| s.synced);
    }

    /// Waits until the stream's counts equal `want` (zero entries ignored).
    pub fn converges_to(&self, want: &BTreeMap<String, u64>, timeout: Duration) {
        let want: BTreeMap<String, u64> = want.iter().filter(|(_, v)| **v > 0).map(|(k, v)| (k.clone(), *v)).collect();
        self.wait_for("the watch to equal a fresh List", timeout, |s| s.counts == want);
        let seen = self.seen.lock().unwrap();
        assert!(seen.broken.is_empty(), "inconsistent stream: {:?}", seen.broken);
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end; its exit code.
    pub fn exit_code(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100)); // let the readers finish
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("watch did not exit in {timeout:?}; stderr: {}", self.stderr());
    }
}

fn fold(seen: &mut Seen, v: &Value) {
    match v["type"].as_str() {
        Some("synced") => {
            seen.synced = true;
            seen.counts = v["counts"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                .filter(|(_, n)| *n > 0)
                .collect();
            if let Some(g) = v["groups"].as_object() {
                seen.groups = g.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).filter(|(_, n)| *n > 0).collect();
            }
            for (node, res) in v["resources"].as_object().into_iter().flatten() {
                for (r, q) in res.as_object().unwrap() {
                    seen.requests.insert((node.clone(), r.clone()), q.as_f64().unwrap());
                }
            }
        }
        Some("group-change") => apply(&mut seen.groups, &mut seen.broken, v, "group"),
        Some("change") => {
            apply(&mut seen.counts, &mut seen.broken, v, "node");
            let node = v["node"].as_str().unwrap().to_string();
            for (r, m) in v["resources"].as_object().into_iter().flatten() {
                let key = (node.clone(), r.clone());
                let before = seen.requests.get(&key).copied().unwrap_or(0.0);
                if (m["from"].as_f64().unwrap() - before).abs() > 1e-9 {
                    seen.broken.push(format!("{v}: {r} from {} after {before}", m["from"]));
                }
                seen.requests.insert(key, m["to"].as_f64().unwrap());
            }
        }
        Some("node-added") if seen.node_selector => {
            let pods = v["pods"].as_u64().unwrap();
            if pods > 0 {
                seen.counts.insert(v["node"].as_str().unwrap().to_string(), pods);
            }
        }
        Some("node-removed") if seen.node_selector => {
            seen.counts.remove(v["node"].as_str().unwrap());
        }
        _ => {}
    }
}

/// One change event (`key` names what changed) applied to `counts`; a
/// change that does not start where the last one ended is noted as broken.
fn apply(counts: &mut BTreeMap<String, u64>, broken: &mut Vec<String>, v: &Value, key: &str) {
    let name = v[key].as_str().unwrap().to_string();
    let (from, to) = (v["from"].as_u64().unwrap(), v["to"].as_u64().unwrap());
    let before = counts.get(&name).copied().unwrap_or(0);
    if from != before || v["delta"].as_i64().unwrap() != to as i64 - from as i64 {
        broken.push(format!("{v} after {before}"));
    }
    if to == 0 {
        counts.remove(&name);
    } else {
        counts.insert(name, to);
    }
}

/// Per-node pods (non-zero) from a fresh `kubectl podcount -o json` with `args`.
pub fn fresh_counts(kubeconfig: &Path, args: &[&str]) -> BTreeMap<String, u64> {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let doc = super::json_of(&super::podcount(kubeconfig, &all));
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["pods"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect()
}
