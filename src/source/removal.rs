//! `--drain`/`--lose`: the nodes named (a comma list, or a label
//! selector), every pod bound to them as a whole object (a List by
//! `spec.nodeName` a node, a few at a time: only these pods need their
//! scheduling spec; the rest keep the lean pass), each pod's owner as a
//! user names it (a ReplicaSet's Deployment), and, for a drain, the
//! PodDisruptionBudgets. Every request bounded by `--request-timeout`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Api;
use kube::api::ListParams;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::client::connect::Target;
use crate::client::http;
use crate::decode::terms::{selector, toleration};
use crate::error::{Error, Result, chain};
use crate::model::removal::{Budget, Kind, Owner, Plan, Pod, owner_id};

/// Which nodes go, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nodes {
    Names(Vec<String>),
    Selector(String),
}

impl Nodes {
    /// A value with `=`, `!=`, ` in ` or ` notin ` is a label selector;
    /// else a comma list of node names.
    pub fn parse(flag: &str, s: &str) -> std::result::Result<Nodes, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err(format!(
                "{flag} needs node names (node-1,node-2) or a node label selector (topology.kubernetes.io/zone=zone-b)"
            ));
        }
        if s.contains('=') || s.contains(" in ") || s.contains(" notin ") {
            return Ok(Nodes::Selector(s.to_string()));
        }
        let names: Vec<String> = s.split(',').map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect();
        Ok(Nodes::Names(names))
    }
}

/// `--drain` or `--lose`, as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub kind: Kind,
    pub nodes: Nodes,
    /// `--default-scheduler-name`: other schedulerNames that run
    /// kube-scheduler's default profile.
    pub default_profile: Vec<String>,
}

/// What the cluster says about the removal: the nodes, and the plan their
/// pods fold into, with one pod's spec per owner that replaces any.
#[derive(Clone, Debug)]
pub struct Read {
    /// The nodes removed, by name.
    pub nodes: Vec<String>,
    pub plan: Plan,
    /// By owner: the first of its pods that is replaced, as its bytes.
    pub specs: BTreeMap<String, Box<RawValue>>,
}

/// How many nodes' pods are listed at once.
const AT_ONCE: usize = 8;

/// Reads what `asked` removes.
pub async fn read(t: &Target, asked: &Asked) -> Result<Read> {
    let flag = asked.kind.flag();
    let nodes = resolve(t, flag, &asked.nodes).await?;
    let budgets = match asked.kind {
        Kind::Drain => budgets(t).await?,
        Kind::Lose => Vec::new(),
    };
    let mut plan = Plan::new(asked.kind, budgets);
    let mut specs = BTreeMap::new();
    let mut deployments: BTreeMap<(String, String), Option<String>> = BTreeMap::new();
    for chunk in nodes.chunks(AT_ONCE) {
        let mut set = tokio::task::JoinSet::new();
        for (i, name) in chunk.iter().enumerate() {
            let (t, name) = (t.clone(), name.clone());
            set.spawn(async move { (i, on_node(&t, &name).await) });
        }
        // In node order, so that the pod standing for an owner is the same
        // whichever list answers first.
        let mut listed: Vec<Option<Vec<Box<RawValue>>>> = vec![None; chunk.len()];
        while let Some(r) = set.join_next().await {
            let (i, pods) = r.map_err(|e| Error::cluster(format!("internal error: a pod list failed: {e}")))?;
            listed[i] = Some(pods?);
        }
        for raw in listed.into_iter().flatten() {
            let mut pods: Vec<(LeanPod, Box<RawValue>)> = Vec::with_capacity(raw.len());
            for r in raw {
                let lean: LeanPod = serde_json::from_str(r.get())
                    .map_err(|e| Error::cluster(format!("a pod on a removed node cannot be read: {e}")))?;
                pods.push((lean, r));
            }
            pods.sort_by(|(a, _), (b, _)| {
                (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
            });
            for (lean, raw) in pods {
                let uid = lean.metadata.uid.clone();
                let mut pod = model_pod(lean);
                if let Some(o) = pod.owner.as_mut().filter(|o| o.kind == "ReplicaSet") {
                    let key = (pod.namespace.clone(), o.name.clone());
                    if !deployments.contains_key(&key) {
                        let d = deployment_of(t, &key.0, &key.1).await?;
                        deployments.insert(key.clone(), d);
                    }
                    if let Some(d) = &deployments[&key] {
                        *o = Owner { kind: "Deployment".into(), name: d.clone() };
                    }
                }
                let id = owner_id(&pod);
                if plan.add(pod, &uid) {
                    specs.insert(id, raw);
                }
            }
        }
    }
    Ok(Read { nodes, plan, specs })
}

fn within<T>(
    t: &Target,
    what: &str,
    verb: &str,
    f: impl std::future::Future<Output = kube::Result<T>>,
) -> impl std::future::Future<Output = Result<T>> {
    let deadline = http::deadline(&t.at);
    let (what, verb) = (what.to_string(), verb.to_string());
    async move {
        match tokio::time::timeout_at(deadline, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(kube::Error::Api(s))) if s.code == 403 => Err(Error::forbidden(format!(
                "cannot {what}: forbidden (needs: {verb}); see kubectl podcount docs rbac"
            ))),
            Ok(Err(e)) => Err(Error::cluster(format!("cannot {what}: {}", chain(&e)))),
            Err(_) => Err(Error::cluster(format!(
                "the API server did not answer in time while trying to {what} (raise --request-timeout)"
            ))),
        }
    }
}

/// The node names, checked: each named node exists (asked one by one: a
/// drain names a few), a selector selects one (listed by it, names only
/// kept).
async fn resolve(t: &Target, flag: &str, nodes: &Nodes) -> Result<Vec<String>> {
    let api: Api<Node> = Api::all(t.client.clone());
    match nodes {
        Nodes::Selector(s) => {
            let what = format!("list the nodes {flag} {s} selects");
            let params = ListParams::default().labels(s);
            let listed = within(t, &what, "list nodes", api.list_metadata(&params)).await?;
            let mut have: Vec<String> = listed.items.into_iter().filter_map(|n| n.metadata.name).collect();
            if have.is_empty() {
                return Err(Error::usage(format!("{flag} {s}: no node has those labels")));
            }
            have.sort();
            Ok(have)
        }
        Nodes::Names(names) => {
            let mut missing = Vec::new();
            for n in names {
                let what = format!("read node {n} for {flag}");
                if within(t, &what, "get nodes", api.get_metadata_opt(n)).await?.is_none() {
                    missing.push(n.as_str());
                }
            }
            if !missing.is_empty() {
                return Err(Error::usage(format!(
                    "{flag}: no node named {} (kubectl get nodes lists them; a label selector needs = or in)",
                    missing.join(", ")
                )));
            }
            let mut names = names.clone();
            names.sort();
            names.dedup();
            Ok(names)
        }
    }
}

/// The pods bound to `node`, each as its bytes (read lean; only an owner's
/// first is read whole).
async fn on_node(t: &Target, node: &str) -> Result<Vec<Box<RawValue>>> {
    let params = ListParams::default().fields(&format!("spec.nodeName={node}"));
    let what = format!("list the pods on node {node}");
    let req = kube::core::Request::new("/api/v1/pods")
        .list(&params)
        .map_err(|e| Error::cluster(format!("cannot {what}: {e}")))?;
    let listed: RawList = within(t, &what, "list pods", t.client.request(req)).await?;
    Ok(listed.items)
}

#[derive(Deserialize)]
struct RawList {
    #[serde(default)]
    items: Vec<Box<RawValue>>,
}

/// What the what-if reads of a pod on a removed node.
#[derive(Default, Deserialize)]
struct LeanPod {
    #[serde(default)]
    metadata: LeanMeta,
    #[serde(default)]
    spec: LeanSpec,
    #[serde(default)]
    status: LeanStatus,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    owner_references: Vec<OwnerReference>,
    /// Only whether the mirror key is there (values can be long).
    #[serde(default)]
    annotations: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    deletion_timestamp: Option<serde::de::IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanSpec {
    #[serde(default)]
    node_name: String,
    #[serde(default)]
    tolerations: Vec<k8s_openapi::api::core::v1::Toleration>,
    #[serde(default)]
    volumes: Vec<LeanVolume>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanVolume {
    #[serde(default)]
    empty_dir: Option<serde::de::IgnoredAny>,
}

#[derive(Default, Deserialize)]
struct LeanStatus {
    #[serde(default)]
    phase: Option<String>,
}

/// A ReplicaSet's Deployment, if it has one.
async fn deployment_of(t: &Target, ns: &str, rs: &str) -> Result<Option<String>> {
    let api: Api<ReplicaSet> = Api::namespaced(t.client.clone(), ns);
    let what = format!("read ReplicaSet {ns}/{rs} (the Deployment its pods belong to)");
    let got = within(t, &what, "get replicasets.apps", api.get_metadata_opt(rs)).await?;
    Ok(got
        .and_then(|m| controller(m.metadata.owner_references.as_deref()))
        .filter(|o| o.kind == "Deployment")
        .map(|o| o.name))
}

fn controller(refs: Option<&[OwnerReference]>) -> Option<Owner> {
    refs.into_iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| Owner { kind: r.kind.clone(), name: r.name.clone() })
}

/// What the what-if reads of a pod.
fn model_pod(p: LeanPod) -> Pod {
    let LeanPod { metadata: meta, spec, status } = p;
    let tolerations = spec.tolerations;
    Pod {
        owner: controller(Some(&meta.owner_references)),
        mirror: meta.annotations.contains_key("kubernetes.io/config.mirror"),
        finished: matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")),
        terminating: meta.deletion_timestamp.is_some(),
        namespace: meta.namespace,
        name: meta.name,
        node: spec.node_name,
        labels: meta.labels,
        empty_dir: spec.volumes.iter().any(|v| v.empty_dir.is_some()),
        held_by: None,
        toleration_seconds: tolerations.iter().map(|t| t.toleration_seconds).collect(),
        tolerations: tolerations.iter().map(toleration).collect(),
    }
}

/// Every PodDisruptionBudget (a drain asks those that select its pods).
async fn budgets(t: &Target) -> Result<Vec<Budget>> {
    let api: Api<PodDisruptionBudget> = Api::all(t.client.clone());
    let what = "list PodDisruptionBudgets (a drain asks them)";
    let listed = within(t, what, "list poddisruptionbudgets.policy", api.list(&ListParams::default())).await?;
    let mut out = Vec::new();
    {
        for b in listed.items {
            let ns = b.metadata.namespace.clone().unwrap_or_default();
            let name = b.metadata.name.clone().unwrap_or_default();
            // policy/v1: no selector selects no pod, `{}` every pod.
            let sel = selector(
                &format!("PodDisruptionBudget {ns}/{name} selector"),
                b.spec.as_ref().and_then(|s| s.selector.as_ref()),
            )
            .map_err(Error::cluster)?;
            out.push(Budget {
                namespace: ns,
                name,
                selector: sel,
                allowed: b.status.as_ref().map_or(0, |s| i64::from(s.disruptions_allowed.unwrap_or(0))),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_or_a_selector() {
        let p = |s| Nodes::parse("--drain", s);
        assert_eq!(p("n1, n2,"), Ok(Nodes::Names(vec!["n1".into(), "n2".into()])));
        assert_eq!(
            p("topology.kubernetes.io/zone=zone-b"),
            Ok(Nodes::Selector("topology.kubernetes.io/zone=zone-b".into()))
        );
        assert_eq!(p("pool notin (a,b)"), Ok(Nodes::Selector("pool notin (a,b)".into())));
        assert_eq!(p("tier!=old"), Ok(Nodes::Selector("tier!=old".into())));
        assert!(p(" ").is_err());
    }
}
