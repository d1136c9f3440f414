//! `watch`'s lines: change lines and state events, as text (changes on
//! stdout, state on stderr) or as JSON lines (everything on stdout).

use std::io::Write;

use serde_json::json;

use crate::render::cells::percent;
use crate::render::time::{clock, now};
use crate::report::resources::{base_units, human};
use crate::report::round4;

/// A resource whose requests on a node moved (scheduler units).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moved {
    pub resource: String,
    pub from: i128,
    pub to: i128,
    pub allocatable: Option<i128>,
}

/// What a change line is about.
#[derive(Clone, Copy, Debug)]
pub enum Changed<'a> {
    /// A node, and with `--group-by` the group it is in.
    Node { name: &'a str, group: Option<&'a str> },
    /// A `--group-by` group: the label (as given) and its value.
    Group { by: &'a str, name: &'a str },
}

pub struct Printer {
    pub jsonl: bool,
    /// Several contexts: say which one a line is about.
    pub several: bool,
    pub color: bool,
    /// Change lines printed so far.
    pub changes: u64,
    /// The pods' resourceVersion the change lines being printed are exact
    /// at (set by the cluster that flushes them).
    pub resource_version: String,
}

impl Printer {
    pub fn out(&self, line: &str) {
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{line}").and_then(|_| o.flush());
    }

    /// A state change (synced, relisting, reconnecting, node-added, ...): a
    /// JSON line on stdout, or a note on stderr.
    pub fn state(&self, context: &str, kind: &str, extra: serde_json::Value) {
        if self.jsonl {
            let mut v = json!({"type": kind, "time": now(), "context": context});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            self.out(&v.to_string());
        } else {
            let detail = extra
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| *k != "counts")
                        .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), String::from)))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            eprintln!("{}  {context}: {kind} {detail}", clock());
        }
    }

    /// A warning, on stderr (jsonl too: data stays on stdout).
    pub fn warn(&self, context: &str, msg: &str) {
        let prefix = if self.several { format!("context {context}: ") } else { String::new() };
        eprintln!("warning: {prefix}{msg}");
    }

    /// One node's (or group's) pod count went from `from` to `to`; `moved`:
    /// the resources whose requests moved with it (`--resources`).
    pub fn change(
        &mut self,
        context: &str,
        what: Changed<'_>,
        from: u64,
        to: u64,
        allocatable: Option<u64>,
        moved: &[Moved],
    ) {
        self.changes += 1;
        let saturation = allocatable.filter(|a| *a > 0).map(|a| to as f64 / a as f64);
        let delta = to as i64 - from as i64;
        if self.jsonl {
            let mut v = json!({"type": "change", "time": now(), "context": context,
                "from": from, "to": to, "delta": delta, "allocatable": allocatable,
                "saturation": saturation.map(round4)});
            if !self.resource_version.is_empty() {
                v["resourceVersion"] = json!(self.resource_version);
            }
            match what {
                Changed::Node { name, group } => {
                    v["node"] = json!(name);
                    if let Some(g) = group {
                        v["group"] = json!(g);
                    }
                }
                Changed::Group { by, name } => {
                    v["type"] = json!("group-change");
                    v["groupBy"] = json!(by);
                    v["group"] = json!(name);
                }
            }
            if !moved.is_empty() {
                let res: serde_json::Map<String, serde_json::Value> = moved
                    .iter()
                    .map(|m| {
                        let base = |v: Option<i128>| v.map(|v| base_units(&m.resource, v));
                        let sat = m.allocatable.filter(|a| *a > 0).map(|a| round4(m.to as f64 / a as f64));
                        let fields = json!({"from": base(Some(m.from)), "to": base(Some(m.to)),
                            "allocatable": base(m.allocatable), "saturation": sat});
                        (m.resource.clone(), fields)
                    })
                    .collect();
                v["resources"] = json!(res);
            }
            self.out(&v.to_string());
        } else {
            let ctx = if self.several { format!("{context}  ") } else { String::new() };
            let pct = percent(saturation);
            let pct = match saturation {
                Some(s) if self.color && s >= 0.9 => format!("\x1b[31m{pct}\x1b[0m"),
                _ => pct,
            };
            let subject = match what {
                Changed::Node { name, .. } => name.to_string(),
                Changed::Group { by, name } => format!("{by}={name}"),
            };
            let mut line = format!("{}  {ctx}{subject}  {from} → {to}  ({delta:+})  {pct}", clock());
            for m in moved {
                let sat = m.allocatable.filter(|a| *a > 0).map(|a| m.to as f64 / a as f64);
                let (f, t) = (human(&m.resource, m.from), human(&m.resource, m.to));
                line.push_str(&format!("  {} {f} → {t} ({})", m.resource, percent(sat)));
            }
            self.out(&line);
        }
    }
}
