//! `watch`'s lines: change lines and state events, as text (changes on
//! stdout, state on stderr) or as JSON lines (everything on stdout), written
//! to any `impl Write` (the terminal in the command, buffers in tests).
//!
//! A JSON line is a typed event turned into a JSON object, whose keys come
//! out in serde_json's map order (sorted): the wire format is that order,
//! whatever order the fields are declared in. The `synced` line, hundreds of
//! kilobytes, is written straight out instead, so its fields are declared in
//! that order.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::render::cells::percent;
use crate::render::time::{clock, now};
use crate::report::loss::Loss;
use crate::report::resources::{BaseUnits, base_units, human};
use crate::report::round4;
use crate::report::rows::NodeRow;

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

/// A state change: a jsonl event (`type` and these fields), or a note on
/// stderr (`kind key=value ...`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum State<'a> {
    Relisting {
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        resource: Option<&'static str>,
    },
    Reconnecting {
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        resource: Option<&'static str>,
    },
    /// A node entered the view, with the pods already counted on it.
    NodeAdded {
        node: &'a str,
        allocatable: Option<u32>,
        pods: u32,
    },
    NodeRemoved {
        node: &'a str,
        allocatable: Option<u32>,
        pods: u32,
    },
}

/// The `synced` event (jsonl only): both informers listed once, the counts
/// every change starts from. Borrowed from what the cluster holds, and
/// written straight to the line: at 5,000 nodes with `--resources` the line
/// is 384 KB, and building it as value trees first raised the heap's peak
/// by 7 MB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Synced<'a> {
    /// Pods counted against nodes.
    pub pods: u64,
    /// Pods held (finished and unscheduled ones too).
    pub tracked_pods: u64,
    pub nodes: u64,
    pub unscheduled: u64,
    /// The view's rows: pods per node, and with `--resources` each node's
    /// requests in base units, where the change events start.
    pub rows: &'a [NodeRow],
    pub resource_version: &'a str,
    pub node_resource_version: &'a str,
    pub group_by: Option<&'a str>,
    /// Pods per group.
    pub groups: Option<&'a BTreeMap<String, u64>>,
}

/// The `synced` line. The fields are declared in sorted order, which is the
/// order every jsonl line's keys come in.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncedLine<'a> {
    context: &'a str,
    counts: Counts<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<&'a BTreeMap<String, u64>>,
    node_resource_version: &'a str,
    nodes: u64,
    pods: u64,
    resource_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Requests<'a>>,
    time: String,
    tracked_pods: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    unscheduled: u64,
}

/// Rows in node-name order (the order of a JSON object's keys).
fn by_name<'a>(rows: impl Iterator<Item = &'a NodeRow>) -> Vec<&'a NodeRow> {
    let mut rows: Vec<&NodeRow> = rows.collect();
    rows.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// Pods per node: `{"node": pods, ...}`.
struct Counts<'a>(Vec<&'a NodeRow>);

impl Serialize for Counts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|r| (r.name.as_str(), r.pods)))
    }
}

/// Each node's requests of the shown resources in base units:
/// `{"node": {"cpu": 1.5, ...}, ...}`.
struct Requests<'a>(Vec<&'a NodeRow>);

impl Serialize for Requests<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|r| (r.name.as_str(), NodeRequests(r))))
    }
}

struct NodeRequests<'a>(&'a NodeRow);

impl Serialize for NodeRequests<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rows = self.0.resources.iter().flat_map(|r| r.0.iter());
        s.collect_map(rows.map(|(name, row)| (name.as_str(), BaseUnits(name.as_str(), row.requests))))
    }
}

/// A `change` or `group-change` jsonl event.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChangeEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    context: &'a str,
    from: u64,
    to: u64,
    delta: i64,
    allocatable: Option<u64>,
    saturation: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<BTreeMap<&'a str, MovedEvent>>,
}

/// A resource's move in a change event, in base units.
#[derive(Serialize)]
struct MovedEvent {
    from: Value,
    to: Value,
    allocatable: Option<Value>,
    saturation: Option<f64>,
}

/// The times lines carry: an RFC 3339 stamp in JSON, the wall clock
/// (HH:MM:SS) in text.
#[derive(Clone, Copy)]
pub struct Clock {
    pub stamp: fn() -> String,
    pub wall: fn() -> String,
}

impl Clock {
    pub const SYSTEM: Clock = Clock { stamp: now, wall: clock };
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
    /// Data: the table, change lines, every jsonl line.
    out: Box<dyn Write + Send>,
    /// Notes and warnings.
    err: Box<dyn Write + Send>,
    clock: Clock,
}

impl Printer {
    /// To stdout and stderr, at the system's time.
    pub fn new(jsonl: bool, several: bool, color: bool) -> Printer {
        Printer::to(Box::new(std::io::stdout()), Box::new(std::io::stderr()), Clock::SYSTEM, jsonl, several, color)
    }

    pub fn to(
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        clock: Clock,
        jsonl: bool,
        several: bool,
        color: bool,
    ) -> Printer {
        Printer { jsonl, several, color, changes: 0, resource_version: String::new(), out, err, clock }
    }

    /// One line of data, flushed at once (a pipe reader sees it now).
    pub fn out(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}").and_then(|_| self.out.flush());
    }

    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.err, "{line}").and_then(|_| self.err.flush());
    }

    /// A state change (synced, relisting, reconnecting, node-added, ...): a
    /// JSON line on stdout, or a note on stderr.
    pub fn state(&mut self, context: &str, state: &State<'_>) {
        let Ok(Value::Object(mut fields)) = serde_json::to_value(state) else { return };
        if self.jsonl {
            fields.insert("time".into(), (self.clock.stamp)().into());
            fields.insert("context".into(), context.into());
            self.out(&Value::Object(fields).to_string());
        } else {
            let kind = fields.remove("type").and_then(|k| k.as_str().map(String::from)).unwrap_or_default();
            let detail = fields
                .iter()
                .filter(|(k, _)| *k != "counts")
                .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), String::from)))
                .collect::<Vec<_>>()
                .join(" ");
            let line = format!("{}  {context}: {kind} {detail}", (self.clock.wall)());
            self.note(&line);
        }
    }

    /// The `synced` event: a JSON line, written as it is serialised.
    pub fn synced(&mut self, context: &str, synced: &Synced<'_>) {
        let with_resources = synced.rows.iter().any(|r| r.resources.is_some());
        let line = SyncedLine {
            context,
            counts: Counts(by_name(synced.rows.iter())),
            group_by: synced.group_by,
            groups: synced.groups,
            node_resource_version: synced.node_resource_version,
            nodes: synced.nodes,
            pods: synced.pods,
            resource_version: synced.resource_version,
            resources: with_resources.then(|| Requests(by_name(synced.rows.iter().filter(|r| r.resources.is_some())))),
            time: (self.clock.stamp)(),
            tracked_pods: synced.tracked_pods,
            kind: "synced",
            unscheduled: synced.unscheduled,
        };
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, &mut self.out);
        // BufWriter's flush flushes the line's writer too.
        let _ = serde_json::to_writer(&mut out, &line)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
            .and_then(|_| out.flush());
    }

    /// A warning, on stderr (jsonl too: data stays on stdout).
    pub fn warn(&mut self, context: &str, msg: &str) {
        let prefix = if self.several { format!("context {context}: ") } else { String::new() };
        self.note(&format!("warning: {prefix}{msg}"));
    }

    /// `--lose-each`: losing `label=value` now does `loss` (a round that
    /// took `took` found it changed). Data: stdout.
    pub fn loss(&mut self, context: &str, label: &str, value: &str, loss: &Loss, took: std::time::Duration) {
        if self.jsonl {
            let mut line = match serde_json::to_value(loss) {
                Ok(Value::Object(m)) => m,
                _ => return,
            };
            line.insert("type".into(), "loss".into());
            line.insert("time".into(), (self.clock.stamp)().into());
            line.insert("context".into(), context.into());
            line.insert("label".into(), label.into());
            line.insert("value".into(), value.into());
            line.insert("roundSeconds".into(), round4(took.as_secs_f64()).into());
            self.out(&Value::Object(line).to_string());
        } else {
            let ctx = if self.several { format!("{context}  ") } else { String::new() };
            self.out(&format!("{}  {ctx}losing {label}={value}: {}", (self.clock.wall)(), loss.said()));
        }
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
            let (kind, node, group_by, group) = match what {
                Changed::Node { name, group } => ("change", Some(name), None, group),
                Changed::Group { by, name } => ("group-change", None, Some(by), Some(name)),
            };
            let resources = (!moved.is_empty()).then(|| {
                moved
                    .iter()
                    .map(|m| {
                        let base = |v: i128| base_units(&m.resource, v);
                        let saturation = m.allocatable.filter(|a| *a > 0).map(|a| round4(m.to as f64 / a as f64));
                        let event = MovedEvent {
                            from: base(m.from),
                            to: base(m.to),
                            allocatable: m.allocatable.map(base),
                            saturation,
                        };
                        (m.resource.as_str(), event)
                    })
                    .collect()
            });
            let event = ChangeEvent {
                kind,
                time: (self.clock.stamp)(),
                context,
                from,
                to,
                delta,
                allocatable,
                saturation: saturation.map(round4),
                resource_version: Some(self.resource_version.as_str()).filter(|rv| !rv.is_empty()),
                node,
                group_by,
                group,
                resources,
            };
            // Through a Value: its map sorts the keys, as every jsonl line.
            let line = serde_json::to_value(&event).map(|v| v.to_string()).unwrap_or_default();
            self.out(&line);
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
            let mut line = format!("{}  {ctx}{subject}  {from} → {to}  ({delta:+})  {pct}", (self.clock.wall)());
            for m in moved {
                let sat = m.allocatable.filter(|a| *a > 0).map(|a| m.to as f64 / a as f64);
                let (f, t) = (human(&m.resource, m.from), human(&m.resource, m.to));
                line.push_str(&format!("  {} {f} → {t} ({})", m.resource, percent(sat)));
            }
            self.out(&line);
        }
    }
}

/// A `Write` whose bytes can be read back while a [`Printer`] holds it.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    /// The lines written since the last call.
    pub fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes).unwrap().lines().map(String::from).collect()
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A printer into two buffers, at a fixed time.
#[cfg(test)]
pub fn captured(jsonl: bool) -> (Printer, Captured, Captured) {
    let (out, err) = (Captured::default(), Captured::default());
    let clock = Clock { stamp: || "2026-12-06T12:00:00.000Z".into(), wall: || "12:00:00".into() };
    (Printer::to(Box::new(out.clone()), Box::new(err.clone()), clock, jsonl, false, false), out, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_lines_as_text_and_json() {
        let (mut p, out, _) = captured(false);
        p.change("kind", Changed::Node { name: "n1", group: None }, 3, 5, Some(10), &[]);
        p.change("kind", Changed::Group { by: "zone", name: "a" }, 7, 6, None, &[]);
        assert_eq!(out.take(), ["12:00:00  n1  3 → 5  (+2)  50%", "12:00:00  zone=a  7 → 6  (-1)  -"]);
        let (mut p, out, _) = captured(true);
        p.resource_version = "42".into();
        let cpu = Moved { resource: "cpu".into(), from: 500, to: 1500, allocatable: Some(4000) };
        p.change("kind", Changed::Node { name: "n1", group: Some("a") }, 3, 5, Some(10), &[cpu]);
        p.change("kind", Changed::Group { by: "zone", name: "a" }, 7, 6, None, &[]);
        assert_eq!(
            out.take(),
            [
                r#"{"allocatable":10,"context":"kind","delta":2,"from":3,"group":"a","node":"n1","resourceVersion":"42","resources":{"cpu":{"allocatable":4,"from":0.5,"saturation":0.375,"to":1.5}},"saturation":0.5,"time":"2026-12-06T12:00:00.000Z","to":5,"type":"change"}"#,
                r#"{"allocatable":null,"context":"kind","delta":-1,"from":7,"group":"a","groupBy":"zone","resourceVersion":"42","saturation":null,"time":"2026-12-06T12:00:00.000Z","to":6,"type":"group-change"}"#,
            ]
        );
        assert_eq!(p.changes, 2);
    }

    #[test]
    fn state_events_as_notes_and_json() {
        let relisting = State::Relisting { reason: "410 Gone".into(), resource: Some("nodes") };
        let added = State::NodeAdded { node: "n2", allocatable: None, pods: 0 };
        let (mut p, out, err) = captured(false);
        p.state("kind", &relisting);
        p.state("kind", &added);
        assert!(out.take().is_empty(), "notes go to stderr");
        assert_eq!(
            err.take(),
            [
                "12:00:00  kind: relisting reason=410 Gone resource=nodes",
                "12:00:00  kind: node-added allocatable=null node=n2 pods=0"
            ]
        );
        let (mut p, out, err) = captured(true);
        p.state("kind", &relisting);
        let rows = [NodeRow::sample("n1", 3, 110)];
        p.synced("kind", &Synced { pods: 3, rows: &rows, ..Default::default() });
        p.warn("kind", "careful");
        assert_eq!(
            out.take(),
            [
                r#"{"context":"kind","reason":"410 Gone","resource":"nodes","time":"2026-12-06T12:00:00.000Z","type":"relisting"}"#,
                r#"{"context":"kind","counts":{"n1":3},"nodeResourceVersion":"","nodes":0,"pods":3,"resourceVersion":"","time":"2026-12-06T12:00:00.000Z","trackedPods":0,"type":"synced","unscheduled":0}"#,
            ]
        );
        assert_eq!(err.take(), ["warning: careful"], "warnings stay on stderr");
    }

    #[test]
    fn synced_event_with_groups_and_resources_in_key_order() {
        use crate::report::resources::{ResourceRow, Resources};
        let request = |cpu: i128, memory: i128| {
            let row = |requests| ResourceRow { requests, limits: None, allocatable: Some(1 << 40) };
            Some(Resources([("memory".into(), row(memory)), ("cpu".into(), row(cpu))].into_iter().collect()))
        };
        // Out of name order, as a view's rows may be; one without resources
        // (a node outside --resources' view) is left out of them.
        let mut rows = [NodeRow::sample("n2", 2, 110), NodeRow::sample("n10", 0, 110), NodeRow::sample("n1", 5, 110)];
        rows[0].resources = request(1500, 1 << 30);
        rows[2].resources = request(2000, 0);
        let groups = [("a".to_string(), 5), ("b".to_string(), 2)].into();
        let synced = Synced {
            pods: 7,
            tracked_pods: 9,
            nodes: 3,
            unscheduled: 1,
            rows: &rows,
            resource_version: "42",
            node_resource_version: "7",
            group_by: Some("zone"),
            groups: Some(&groups),
        };
        let (mut p, out, _) = captured(true);
        p.synced("kind", &synced);
        assert_eq!(
            out.take(),
            [concat!(
                r#"{"context":"kind","counts":{"n1":5,"n10":0,"n2":2},"groupBy":"zone","groups":{"a":5,"b":2},"#,
                r#""nodeResourceVersion":"7","nodes":3,"pods":7,"resourceVersion":"42","#,
                r#""resources":{"n1":{"cpu":2,"memory":0},"n2":{"cpu":1.5,"memory":1073741824}},"#,
                r#""time":"2026-12-06T12:00:00.000Z","trackedPods":9,"type":"synced","unscheduled":1}"#
            )]
        );
    }
}
