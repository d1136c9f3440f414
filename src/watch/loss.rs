//! `watch --lose-each LABEL`: rounds that ask, for each value of a node
//! label, what losing all its nodes would do.
//!
//! The lean stores hold a few bytes a pod, not the scheduling specs a
//! replacement is placed by, so a round asks the apiserver as
//! `count --lose LABEL=VALUE` does (the same code, checked against real dead
//! kubelets), one value after another, in the background. A round starts
//! only when the watch has seen a change since the last one started, and at
//! most one every `--lose-every`: an idle cluster costs nothing, a busy one
//! one round a period. The answers stay in memory for `/metrics`,
//! `/v1/podcount` and the lines printed when one changes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::cluster::Cluster;
use super::lines::Printer;
use crate::client::connect::Target;
use crate::model::removal::Kind;
use crate::render::progress::Status;
use crate::render::time;
use crate::report::loss::{Loss, LossEach};
use crate::report::whatif::WhatIf;
use crate::source::removal::{Asked, Nodes};

/// The longest one value's question may take before the round gives up on
/// it (it is a full List of the cluster and a List a lost node).
const VALUE_LIMIT: Duration = Duration::from_secs(300);

/// How many distinct warnings are remembered as said.
const SAID_AT_MOST: usize = 256;

/// What `--lose-each` asks.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The node label whose values are lost one at a time.
    pub label: String,
    /// At most one round this often.
    pub every: Duration,
    /// `--default-scheduler-name`.
    pub default_profile: Vec<String>,
}

/// One round's answers, from the task that asked them.
pub struct Finished {
    pub cluster: usize,
    pub answers: Vec<(String, Result<WhatIf, String>)>,
    pub warnings: Vec<String>,
    pub took: Duration,
}

/// One context's rounds.
struct Rounds {
    target: Target,
    /// A pod or node changed since the last round started (true at first).
    changed: bool,
    running: bool,
    started: Option<Instant>,
    doc: LossEach,
    /// Warnings already said, so a round asked again says each once.
    said: BTreeSet<String>,
}

/// Every context's rounds and where their answers come back.
pub struct Losses {
    opts: Options,
    chunk_size: u32,
    rounds: Vec<Rounds>,
    tx: mpsc::Sender<Finished>,
}

impl Losses {
    pub fn new(opts: Options, chunk_size: u32, targets: Vec<Target>) -> (Losses, mpsc::Receiver<Finished>) {
        let (tx, rx) = mpsc::channel(4);
        let doc = LossEach { label: opts.label.clone(), ..Default::default() };
        let rounds = targets
            .into_iter()
            .map(|target| Rounds {
                target,
                changed: true,
                running: false,
                started: None,
                doc: doc.clone(),
                said: BTreeSet::new(),
            })
            .collect();
        (Losses { opts, chunk_size, rounds, tx }, rx)
    }

    /// A pod or node of context `i` changed.
    pub fn noticed(&mut self, i: usize) {
        if let Some(r) = self.rounds.get_mut(i) {
            r.changed = true;
        }
    }

    /// Context `i`'s answers, for `/metrics` and `/v1/podcount`.
    pub fn doc(&self, i: usize) -> Option<&LossEach> {
        self.rounds.get(i).map(|r| &r.doc)
    }

    /// Starts a round for each context that is due: synced, none running,
    /// changed since the last, and `--lose-every` since it started.
    pub fn start_due(&mut self, clusters: &[Cluster]) {
        for (i, (r, c)) in self.rounds.iter_mut().zip(clusters).enumerate() {
            let rested = r.started.is_none_or(|s| s.elapsed() >= self.opts.every);
            if r.running || !r.changed || !rested || !c.started() || c.failed() {
                continue;
            }
            let values = values_of(c, &self.opts.label);
            r.running = true;
            r.changed = false;
            r.started = Some(Instant::now());
            let (target, tx, chunk_size) = (r.target.clone(), self.tx.clone(), self.chunk_size);
            let (label, default_profile) = (self.opts.label.clone(), self.opts.default_profile.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let status = Status::keeping();
                let mut answers = Vec::new();
                for value in values {
                    let asked = Asked {
                        kind: Kind::Lose,
                        nodes: Nodes::Selector(format!("{label}={value}")),
                        default_profile: default_profile.clone(),
                    };
                    let asking = crate::count::what_if(target.clone(), asked, chunk_size, status.clone());
                    // Every request in it is bounded; the whole is too, so a
                    // round that cannot end does not stop the next ones.
                    let got = match tokio::time::timeout(VALUE_LIMIT, asking).await {
                        Ok(got) => got.map_err(|e| e.to_string()),
                        Err(_) => Err(format!(
                            "not answered within {} (the apiserver is slow to list the cluster)",
                            humantime::format_duration(VALUE_LIMIT)
                        )),
                    };
                    answers.push((value, got));
                }
                let took = started.elapsed();
                let _ = tx.send(Finished { cluster: i, answers, warnings: status.kept(), took }).await;
            });
        }
    }

    /// A round ended: keep its answers, and say what changed (a line a
    /// value whose answer moved) and any new warning.
    pub fn finished(&mut self, f: Finished, clusters: &[Cluster], printer: &mut Printer) {
        let Some(r) = self.rounds.get_mut(f.cluster) else { return };
        r.running = false;
        // Said-once is kept for the last few hundred warnings only: a
        // message that varies must not grow a watch that runs for months.
        if r.said.len() > SAID_AT_MOST {
            r.said.clear();
        }
        let context = clusters.get(f.cluster).map(Cluster::context).unwrap_or_default();
        for w in f.warnings {
            if r.said.insert(w.clone()) {
                printer.warn(context, &format!("--lose-each: {w}"));
            }
        }
        let mut values = BTreeMap::new();
        let mut errors = BTreeMap::new();
        for (value, got) in f.answers {
            match got {
                Ok(w) => {
                    values.insert(value, Loss::of(&w));
                }
                Err(why) => {
                    if r.said.insert(why.clone()) {
                        printer.warn(context, &format!("--lose-each: {}={value}: {why}", r.doc.label));
                    }
                    // The answer before stays, said to be from an earlier round.
                    if let Some(before) = r.doc.values.get(&value) {
                        values.insert(value.clone(), before.clone());
                    }
                    errors.insert(value, why);
                }
            }
        }
        for (value, loss) in &values {
            if r.doc.values.get(value) != Some(loss) {
                printer.loss(context, &r.doc.label, value, loss, f.took);
            }
        }
        for value in r.doc.values.keys().filter(|v| !values.contains_key(*v)) {
            printer.note(&format!("--lose-each: no node has {}={value} any more", r.doc.label));
        }
        r.doc.values = values;
        r.doc.errors = errors;
        r.doc.evaluated_at = Some(time::now());
    }
}

/// The label's values on the cluster's live nodes.
fn values_of(c: &Cluster, label: &str) -> BTreeSet<String> {
    c.nodes().live().iter().filter_map(|n| n.labels.get(label).cloned()).collect()
}
