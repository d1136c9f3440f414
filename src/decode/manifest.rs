//! `--fits-pod FILE|-`: the pod a manifest would make (a Pod, or the pod
//! template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob or ReplicationController), as a [`Shape`]: its effective requests
//! by the scheduler's rule (after the apiserver's defaulting of requests
//! from limits), tolerations (a DaemonSet's with those its controller adds),
//! nodeSelector, nodeName, required node affinity, host ports (a
//! hostNetwork pod's container ports), required pod affinity and
//! anti-affinity, DoNotSchedule spread constraints, and what of it `--fits`
//! does not model (said: the answer is then an upper bound). Terms are
//! validated as the apiserver would: a bad one is a usage error.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container as K8sContainer, PodSpec, ResourceRequirements};
use serde_json::Value;

use super::terms::{merge_label_keys, node_selector, pod_term, selector, toleration};
use crate::model::fits::{Shape, Toleration};
use crate::model::placement::{Claim, ClaimState, Constraints, HostPort, Spread};
use crate::model::quantity::{GRAMMAR, Quantity};
use crate::model::requests::{Container, List, PodResources, pod_level};
use crate::model::selector::NodeAffinity;

/// A manifest's pod, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// Without RuntimeClass overhead (see `runtime_class`); its namespace
    /// is the manifest's, or empty for the context's (see `namespace`).
    pub shape: Shape,
    /// `Deployment/web`, for messages.
    pub what: String,
    /// `spec.runtimeClassName`: its overhead is added at admission.
    pub runtime_class: Option<String>,
    /// `metadata.namespace`; None: the context's namespace.
    pub namespace: Option<String>,
    /// A workload's `spec.replicas`.
    pub replicas: Option<u64>,
    /// Pod-bearing objects after the first (ignored).
    pub ignored: usize,
}

/// The labels the workload controllers add to the pods they make: a
/// selector that reads one cannot be matched from the manifest alone.
const CONTROLLER_LABELS: [(&str, &str); 6] = [
    ("pod-template-hash", "Deployment"),
    ("controller-revision-hash", "StatefulSet or DaemonSet"),
    ("statefulset.kubernetes.io/pod-name", "StatefulSet"),
    ("apps.kubernetes.io/pod-index", "StatefulSet"),
    ("pod-template-generation", "DaemonSet"),
    ("batch.kubernetes.io/controller-uid", "Job"),
];

/// The tolerations the DaemonSet controller adds to its pods
/// (`pkg/controller/daemon/util.AddOrUpdateDaemonPodTolerations`).
fn daemon_set_tolerations(host_network: bool) -> Vec<Toleration> {
    let mut out: Vec<Toleration> = [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
    .into_iter()
    .chain(host_network.then_some(("node.kubernetes.io/network-unavailable", "NoSchedule")))
    .map(|(key, effect)| Toleration {
        key: Some(key.to_string()),
        exists: true,
        value: String::new(),
        effect: Some(effect.to_string()),
    })
    .collect();
    out.dedup();
    out
}

/// Where a kind keeps its pod spec.
fn pod_spec(kind: &str, obj: &Value) -> Option<Value> {
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            &["spec", "template", "spec"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    };
    path.iter().try_fold(obj, |v, k| v.get(k)).cloned()
}

/// The objects of a YAML or JSON text (several documents, `kind: List`).
fn objects(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v: Value = serde::Deserialize::deserialize(doc).map_err(|e| format!("not YAML or JSON: {e}"))?;
        match v.get("kind").and_then(Value::as_str) {
            Some(k) if k.ends_with("List") => out.extend(v["items"].as_array().into_iter().flatten().cloned()),
            _ if v.is_null() => {}
            _ => out.push(v),
        }
    }
    Ok(out)
}

/// Reads the first pod-bearing object of `text`.
pub fn read(text: &str) -> Result<Manifest, String> {
    let objects = objects(text)?;
    let mut bearing = objects.iter().filter_map(|o| {
        let kind = o.get("kind").and_then(Value::as_str).unwrap_or_default();
        pod_spec(kind, o).map(|spec| (kind, o, spec))
    });
    let Some((kind, obj, spec)) = bearing.next() else {
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o.get("kind").and_then(Value::as_str)).collect();
        return Err(format!(
            "--fits-pod: no Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob in the manifest{}",
            if kinds.is_empty() { String::new() } else { format!(" (it has: {})", kinds.join(", ")) }
        ));
    };
    let mut m = read_object(kind, obj, spec)?;
    m.ignored = bearing.count();
    Ok(m)
}

/// `--fits-release`: every pod-bearing object of `text` (`helm template`
/// output, several documents, Lists), each with the replicas it asks for:
/// `spec.replicas` (1 when not given), a Job's `parallelism` (at most its
/// `completions`), a CronJob's job's, a Pod 1; and the kinds of the objects
/// that bear no pod (skipped), by kind with how many.
pub fn read_release(text: &str) -> Result<(Vec<Manifest>, BTreeMap<String, usize>), String> {
    let mut out = Vec::new();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for obj in objects(text)? {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let Some(spec) = pod_spec(kind, &obj) else {
            *skipped.entry(if kind.is_empty() { "(no kind)".to_string() } else { kind.to_string() }).or_default() += 1;
            continue;
        };
        let mut m = read_object(kind, &obj, spec).map_err(|e| e.replacen("--fits-pod", "--fits-release", 1))?;
        let job = |spec: &Value| {
            let parallel = spec["parallelism"].as_u64().unwrap_or(1);
            spec["completions"].as_u64().map_or(parallel, |c| parallel.min(c))
        };
        m.replicas = match kind {
            "DaemonSet" => None,
            "Pod" => Some(1),
            "Job" => Some(job(&obj["spec"])),
            "CronJob" => Some(job(&obj["spec"]["jobTemplate"]["spec"])),
            _ => Some(obj["spec"]["replicas"].as_u64().unwrap_or(1)),
        };
        out.push(m);
    }
    if out.is_empty() {
        let kinds: Vec<&str> = skipped.keys().map(String::as_str).collect();
        return Err(format!(
            "--fits-release: no Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob in the manifests{}",
            if kinds.is_empty() { String::new() } else { format!(" (they have: {})", kinds.join(", ")) }
        ));
    }
    Ok((out, skipped))
}

/// A placed pod's replacement, as its controller would make it: the pod's
/// own spec (admission's defaults already in it: tolerations, priority,
/// overhead) without its node; a `schedulerName` in `default_profile` is
/// one that runs kube-scheduler's default profile (answered as it).
pub fn read_replacement(pod: &Value, default_profile: &[String]) -> Result<Manifest, String> {
    let mut spec = pod_spec("Pod", pod).unwrap_or_default();
    if let Some(s) = spec.as_object_mut() {
        s.remove("nodeName");
        if s.get("schedulerName").and_then(Value::as_str).is_some_and(|n| default_profile.iter().any(|d| d == n)) {
            s.remove("schedulerName");
        }
    }
    read_object("Pod", pod, spec)
}

/// One pod-bearing object, read.
fn read_object(kind: &str, obj: &Value, spec: Value) -> Result<Manifest, String> {
    let name = obj["metadata"]["name"].as_str().unwrap_or("pod").to_string();
    let what = format!("{kind}/{name}");
    let spec: PodSpec =
        serde_json::from_value(spec).map_err(|e| format!("--fits-pod: the pod spec of {what} cannot be read: {e}"))?;
    let requests = effective_requests(&spec).map_err(|e| format!("--fits-pod {what}: {e}"))?;
    let meta = match kind {
        "Pod" => &obj["metadata"],
        "CronJob" => &obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"],
        _ => &obj["spec"]["template"]["metadata"],
    };
    let labels: BTreeMap<String, String> = serde_json::from_value(meta["labels"].clone()).unwrap_or_default();
    let namespace = obj["metadata"]["namespace"].as_str().filter(|n| !n.is_empty()).map(String::from);
    let host_network = spec.host_network == Some(true);
    let mut tolerations: Vec<Toleration> = spec.tolerations.iter().flatten().map(toleration).collect();
    let daemon_set = kind == "DaemonSet";
    if daemon_set {
        tolerations.extend(daemon_set_tolerations(host_network));
    }
    let field = |f: &str| format!("--fits-pod {what}: {f}");
    let constraints = Constraints {
        pod: true,
        namespace: namespace.clone().unwrap_or_default(),
        host_ports: host_ports(&spec),
        anti_affinity: pod_terms(&spec, true, namespace.as_deref(), &labels).map_err(|e| field(&e))?,
        affinity: pod_terms(&spec, false, namespace.as_deref(), &labels).map_err(|e| field(&e))?,
        spread: spreads(&spec, &labels).map_err(|e| field(&e))?,
        claims: spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| v.persistent_volume_claim.as_ref())
            .map(|c| Claim { name: c.claim_name.clone(), state: ClaimState::Unread })
            .collect(),
        labels,
        ..Default::default()
    };
    let node_affinity = node_affinity(&spec).map_err(|e| field(&e))?;
    let (bound_by, may_place_more, notes) = unmodelled(kind, obj, &spec, &constraints);
    Ok(Manifest {
        shape: Shape {
            name,
            requests,
            tolerations,
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
            node_affinity,
            constraints,
            daemon_set,
            bound_by,
            may_place_more,
            notes,
            asked: None,
            workload: None,
        },
        what,
        runtime_class: spec.runtime_class_name.clone(),
        namespace,
        replicas: obj["spec"]["replicas"].as_u64().filter(|_| kind != "Pod" && !daemon_set),
        ignored: 0,
    })
}

/// Host ports of containers and restartable init containers
/// (`util.GetHostPorts`); a hostNetwork pod's container ports are host
/// ports (the apiserver defaults hostPort to containerPort).
fn host_ports(spec: &PodSpec) -> Vec<HostPort> {
    let sidecars = spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always"));
    let mut out: Vec<HostPort> = sidecars
        .chain(&spec.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = match p.host_port {
                Some(h) if h > 0 => h,
                _ if spec.host_network == Some(true) => p.container_port,
                _ => return None,
            };
            Some(HostPort::new(p.host_ip.as_deref(), p.protocol.as_deref(), port))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Required pod anti-affinity (`anti`) or affinity terms. A namespace the
/// manifest does not give stays empty until the context's is known.
fn pod_terms(
    spec: &PodSpec,
    anti: bool,
    namespace: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<crate::model::placement::PodTerm>, String> {
    let a = spec.affinity.as_ref();
    let (name, terms) = if anti {
        (
            "podAntiAffinity",
            a.and_then(|a| a.pod_anti_affinity.as_ref())
                .and_then(|p| p.required_during_scheduling_ignored_during_execution.as_ref()),
        )
    } else {
        (
            "podAffinity",
            a.and_then(|a| a.pod_affinity.as_ref())
                .and_then(|p| p.required_during_scheduling_ignored_during_execution.as_ref()),
        )
    };
    terms
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, t)| {
            let field = format!("affinity.{name}.requiredDuringSchedulingIgnoredDuringExecution[{i}]");
            pod_term(&field, t, namespace.unwrap_or_default(), labels)
        })
        .collect()
}

/// `whenUnsatisfiable: DoNotSchedule` constraints (ScheduleAnyway only scores).
fn spreads(spec: &PodSpec, labels: &BTreeMap<String, String>) -> Result<Vec<Spread>, String> {
    let mut out = Vec::new();
    for (i, c) in spec.topology_spread_constraints.iter().flatten().enumerate() {
        let field = format!("topologySpreadConstraints[{i}]");
        if c.when_unsatisfiable == "ScheduleAnyway" {
            continue;
        }
        if c.when_unsatisfiable != "DoNotSchedule" {
            return Err(format!(
                "{field}.whenUnsatisfiable is DoNotSchedule or ScheduleAnyway, not {:?}",
                c.when_unsatisfiable
            ));
        }
        if c.topology_key.is_empty() {
            return Err(format!(
                "{field}.topologyKey is empty (the scheduler needs a node label key, such as topology.kubernetes.io/zone)"
            ));
        }
        if c.max_skew < 1 {
            return Err(format!("{field}.maxSkew must be at least 1, not {}", c.max_skew));
        }
        if c.min_domains.is_some_and(|m| m < 1) {
            return Err(format!("{field}.minDomains must be at least 1"));
        }
        let policy = |name: &str, v: Option<&String>, default_honor: bool| -> Result<bool, String> {
            match v.map(String::as_str) {
                None => Ok(default_honor),
                Some("Honor") => Ok(true),
                Some("Ignore") => Ok(false),
                Some(other) => Err(format!("{field}.{name} is Honor or Ignore, not {other:?}")),
            }
        };
        let sel = selector(&format!("{field}.labelSelector"), c.label_selector.as_ref())?;
        let empty = Vec::new();
        out.push(Spread {
            max_skew: c.max_skew as u32,
            topology_key: c.topology_key.clone(),
            selector: merge_label_keys(sel, labels, c.match_label_keys.as_ref().unwrap_or(&empty), &[]),
            min_domains: c.min_domains.unwrap_or(1) as u32,
            honor_node_affinity: policy("nodeAffinityPolicy", c.node_affinity_policy.as_ref(), true)?,
            honor_taints: policy("nodeTaintsPolicy", c.node_taints_policy.as_ref(), false)?,
        });
    }
    Ok(out)
}

/// Required node affinity (terms ORed, requirements in a term ANDed).
fn node_affinity(spec: &PodSpec) -> Result<Option<NodeAffinity>, String> {
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    let field = "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";
    required.map(|r| node_selector(field, r)).transpose()
}

/// What the scheduler would do that `--fits` does not model (the answer is
/// an upper bound), what could place more than it says (preemption), and
/// what is worth saying but changes nothing of it.
fn unmodelled(kind: &str, obj: &Value, spec: &PodSpec, c: &Constraints) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut bound, mut more, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let volumes = spec.volumes.iter().flatten();
    if volumes.clone().any(|v| v.ephemeral.is_some()) {
        bound.push(
            "generic ephemeral volumes: each replica's new claim (binding, zone, attach limits) is not modelled"
                .to_string(),
        );
    }
    if kind == "StatefulSet" && obj["spec"]["volumeClaimTemplates"].as_array().is_some_and(|v| !v.is_empty()) {
        bound.push(
            "volumeClaimTemplates: each replica's new claim (binding, zone, attach limits) is not modelled".to_string(),
        );
    }
    if spec.resource_claims.as_ref().is_some_and(|c| !c.is_empty()) {
        bound.push("DRA resource claims: which devices are free is not modelled".to_string());
    }
    // Selectors that read a label only the controller sets.
    let keys = c
        .anti_affinity
        .iter()
        .chain(&c.affinity)
        .flat_map(|t| t.selector.iter())
        .chain(c.spread.iter().flat_map(|s| s.selector.iter()))
        .flat_map(|s| s.0.iter().map(|r| r.key.as_str()));
    let mut read: Vec<&str> = keys.collect();
    read.sort();
    read.dedup();
    for key in read {
        if let Some((_, by)) = CONTROLLER_LABELS.iter().find(|(k, _)| *k == key)
            && !c.labels.contains_key(key)
        {
            bound.push(format!("a selector reads {key}, which the {by} controller sets on each pod"));
        }
    }
    match spec.scheduler_name.as_deref() {
        None | Some("") | Some("default-scheduler") => {}
        Some(other) => {
            let why = format!("schedulerName {other}: answered as kube-scheduler's default profile would");
            bound.push(why.clone());
            more.push(why);
        }
    }
    if spec.preemption_policy.as_deref() != Some("Never")
        && let Some(p) = spec.priority_class_name.as_deref().filter(|p| !p.is_empty())
    {
        more.push(format!("priority class {p}: preemption could evict lower-priority pods and place more"));
    }
    if let Some(gates) = spec.scheduling_gates.as_ref().filter(|g| !g.is_empty()) {
        let names: Vec<&str> = gates.iter().map(|g| g.name.as_str()).collect();
        notes.push(format!("schedulingGates {}: the pods wait unscheduled until they are removed", names.join(", ")));
    }
    (bound, more, notes)
}

fn list<'a>(
    field: &str,
    r: Option<&'a std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> Result<List<'a>, String> {
    r.into_iter()
        .flatten()
        .map(|(n, q)| {
            Quantity::parse(&q.0)
                .map(|v| (n.as_str(), v))
                .map_err(|_| format!("{field}.{n} = {:?} is not {GRAMMAR}", q.0))
        })
        .collect()
}

/// A container as the apiserver stores it: requests defaulted from limits.
fn container<'a>(kind: &str, c: &'a K8sContainer) -> Result<Container<'a>, String> {
    let r = c.resources.as_ref();
    let field = |what: &str| format!("{kind}[{}].resources.{what}", c.name);
    let limits = list(&field("limits"), r.and_then(|r| r.limits.as_ref()))?;
    let mut requests = list(&field("requests"), r.and_then(|r| r.requests.as_ref()))?;
    for (n, q) in &limits {
        if !requests.iter().any(|(r, _)| r == n) {
            requests.push((n, *q));
        }
    }
    Ok(Container { name: &c.name, requests, limits, restartable: c.restart_policy.as_deref() == Some("Always") })
}

/// The requests the scheduler sees once the pod is made: the rule over the
/// defaulted spec (no status yet), in its units, zeros left out.
fn effective_requests(spec: &PodSpec) -> Result<Vec<(String, i64)>, String> {
    let containers = spec.containers.iter().map(|c| container("containers", c)).collect::<Result<Vec<_>, _>>()?;
    let init =
        spec.init_containers.iter().flatten().map(|c| container("initContainers", c)).collect::<Result<Vec<_>, _>>()?;
    let pod: Option<&ResourceRequirements> = spec.resources.as_ref();
    let mut pod_requests = list("resources.requests", pod.and_then(|r| r.requests.as_ref()))?;
    let pod_limits = list("resources.limits", pod.and_then(|r| r.limits.as_ref()))?;
    let mut r = PodResources {
        containers,
        init_containers: init,
        overhead: list("overhead", spec.overhead.as_ref())?,
        pod_limits: pod_limits.clone(),
        ..Default::default()
    };
    // Pod-level defaulting (defaultPodRequests), only with pod-level limits:
    // cpu and memory from the containers' requests, else from the limits.
    if !pod_limits.is_empty() {
        let containers =
            PodResources { pod_requests: Vec::new(), pod_limits: Vec::new(), overhead: Vec::new(), ..r.clone() };
        for (n, q) in containers.requests() {
            if matches!(n, "cpu" | "memory") && !pod_requests.iter().any(|(r, _)| *r == n) {
                pod_requests.push((n, q));
            }
        }
        for (n, q) in &pod_limits {
            if pod_level(n) && !pod_requests.iter().any(|(r, _)| r == n) {
                pod_requests.push((n, *q));
            }
        }
    }
    r.pod_requests = pod_requests;
    Ok(r.demand().requests.into_iter().filter(|(_, v)| *v > 0).map(|(n, v)| (n.to_string(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::placement::HostPort;

    const DEPLOYMENT: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 40
  template:
    spec:
      nodeSelector: {pool: general}
      tolerations: [{key: dedicated, operator: Equal, value: web, effect: NoSchedule}, {operator: Exists, effect: NoExecute}]
      runtimeClassName: kata-lite
      initContainers:
      - {name: proxy, image: p, restartPolicy: Always, resources: {requests: {cpu: 100m, memory: 64Mi}}}
      - {name: migrate, image: m, resources: {limits: {cpu: 200m, memory: 256Mi}}}
      containers:
      - {name: app, image: a, resources: {requests: {cpu: 100m, memory: 128Mi}}, ports: [{containerPort: 80, hostPort: 8080}]}
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]
"#;

    #[test]
    fn a_deployment_template_by_the_rule() {
        let m = read(DEPLOYMENT).unwrap();
        assert_eq!(m.what, "Deployment/web");
        // migrate's requests default to its limits: 200m + the sidecar's 100m.
        assert_eq!(m.shape.requests, [("cpu".to_string(), 300), ("memory".to_string(), (256 + 64) << 20)]);
        assert_eq!(m.shape.node_selector["pool"], "general");
        assert!(m.shape.tolerations[0].tolerates("dedicated", "web", crate::model::node::Effect::NoSchedule));
        assert!(m.shape.tolerations[1].tolerates("anything", "x", crate::model::node::Effect::NoExecute));
        assert_eq!(m.runtime_class.as_deref(), Some("kata-lite"));
        assert_eq!(m.shape.constraints.host_ports, [HostPort::new(None, None, 8080)]);
        assert_eq!(m.shape.constraints.spread.len(), 1);
        assert_eq!(m.shape.constraints.spread[0].selector, None, "no labelSelector: counts nothing");
        assert!(m.shape.bound_by.is_empty(), "{:?}", m.shape.bound_by);
        assert_eq!((m.replicas, m.ignored), (Some(40), 0));
    }

    #[test]
    fn affinity_spread_and_the_rest_of_what_the_scheduler_reads() {
        let m = read(
            r#"
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: web, pod-template-hash: abc}}
    spec:
      hostNetwork: true
      priorityClassName: high
      schedulingGates: [{name: wait}]
      containers: [{name: a, image: a, ports: [{containerPort: 9100}]}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: cores, operator: Gt, values: ["8"]}, {key: pool, operator: NotIn, values: [spot]}]
              matchFields: [{key: metadata.name, operator: NotIn, values: [n0]}]
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
          - {labelSelector: {matchLabels: {app: db}}, namespaceSelector: {}, topologyKey: topology.kubernetes.io/zone}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, minDomains: 3,
         nodeAffinityPolicy: Ignore, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [pod-template-hash]}
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {}}
"#,
        )
        .unwrap();
        let c = &m.shape.constraints;
        assert_eq!((c.namespace.as_str(), m.namespace.as_deref()), ("shop", Some("shop")));
        assert_eq!(c.host_ports, [HostPort::new(None, None, 9100)], "hostNetwork: container ports are host ports");
        assert_eq!(c.anti_affinity.len(), 2);
        assert_eq!(
            c.anti_affinity[0].namespaces,
            crate::model::placement::Namespaces::Listed(["shop".to_string()].into())
        );
        assert_eq!(c.anti_affinity[1].namespaces, crate::model::placement::Namespaces::All);
        assert_eq!(c.spread.len(), 1, "ScheduleAnyway only scores");
        let s = &c.spread[0];
        assert_eq!((s.min_domains, s.honor_node_affinity, s.honor_taints), (3, false, false));
        assert_eq!(s.selector.as_ref().unwrap().to_string(), "app=web,pod-template-hash=abc");
        let aff = m.shape.node_affinity.as_ref().unwrap();
        assert_eq!(aff.0[0].labels.len(), 2);
        assert_eq!(aff.0[0].fields[0].to_string(), "metadata.name notin (n0)");
        assert!(m.shape.may_place_more[0].starts_with("priority class high"), "{:?}", m.shape.may_place_more);
        assert!(m.shape.notes[0].starts_with("schedulingGates wait"), "{:?}", m.shape.notes);
        assert!(m.shape.bound_by.is_empty(), "the manifest sets pod-template-hash itself: {:?}", m.shape.bound_by);
        // A DaemonSet gets its controller's tolerations; no replicas.
        let ds = read(
            "kind: DaemonSet\nmetadata: {name: agent}\nspec: {template: {spec: {containers: [{name: a, image: a}]}}}\n",
        )
        .unwrap();
        assert!(ds.shape.daemon_set && ds.replicas.is_none());
        assert!(ds.shape.tolerations.iter().any(|t| t.tolerates(
            "node.kubernetes.io/unschedulable",
            "",
            crate::model::node::Effect::NoSchedule
        )));
        assert!(!ds.shape.tolerations.iter().any(|t| t.tolerates(
            "node.kubernetes.io/not-ready",
            "",
            crate::model::node::Effect::NoSchedule
        )));
        // Volumes, a claim template, a controller's label: a bound, said.
        let sts = read(
            "kind: StatefulSet\nmetadata: {name: db}\nspec:\n  volumeClaimTemplates: [{metadata: {name: data}}]\n  template:\n    spec:\n      containers: [{name: a, image: a}]\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchExpressions: [{key: controller-revision-hash, operator: Exists}]}}]\n",
        )
        .unwrap();
        assert_eq!(sts.shape.bound_by.len(), 2, "{:?}", sts.shape.bound_by);
    }

    #[test]
    fn bad_terms_are_refused_with_the_field() {
        for (spec, says) in [
            (
                "affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {}, topologyKey: ''}]}}",
                "requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey is empty",
            ),
            (
                "affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchExpressions: [{key: a, operator: Near}]}, topologyKey: z}]}}",
                "operator \"Near\" is not one of In, NotIn, Exists or DoesNotExist",
            ),
            (
                "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: cores, operator: Gt, values: [many]}]}]}}}",
                "Gt takes exactly one integer value",
            ),
            (
                "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: spec.x, operator: In, values: [a]}]}]}}}",
                "the only field is metadata.name",
            ),
            (
                "topologySpreadConstraints: [{maxSkew: 0, topologyKey: z, whenUnsatisfiable: DoNotSchedule}]",
                "maxSkew must be at least 1",
            ),
            (
                "topologySpreadConstraints: [{maxSkew: 1, topologyKey: '', whenUnsatisfiable: DoNotSchedule}]",
                "topologyKey is empty",
            ),
        ] {
            let text =
                format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{{name: a, image: a}}]\n  {spec}\n");
            let e = read(&text).unwrap_err();
            assert!(e.starts_with("--fits-pod Pod/p: ") && e.contains(says), "{e}");
        }
    }

    #[test]
    fn pod_level_limits_default_the_requests() {
        let pod = r#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"resources":{"limits":{"cpu":"2","memory":"2Gi"}},
            "containers":[{"name":"a","image":"a","resources":{"requests":{"cpu":"500m"}}}]}}"#;
        let m = read(pod).unwrap();
        // cpu from the containers' 500m, memory from the pod-level limit.
        assert_eq!(m.shape.requests, [("cpu".to_string(), 500), ("memory".to_string(), 2 << 30)]);
    }

    #[test]
    fn what_is_not_a_pod_is_refused() {
        let e = read("kind: Service\nmetadata: {name: s}\n").unwrap_err();
        assert!(e.contains("no Pod, Deployment") && e.contains("(it has: Service)"), "{e}");
        let e = read("kind: Pod\nspec: {containers: [{name: a, resources: {requests: {cpu: lots}}}]}\n").unwrap_err();
        assert!(e.contains("containers[a].resources.requests.cpu = \"lots\" is not a Kubernetes quantity"), "{e}");
        assert!(read("{{{").is_err());
    }

    #[test]
    fn a_release_reads_every_pod_bearing_object_with_its_replicas() {
        let text = "\
# Source: chart/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: x}]}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec: {parallelism: 4, completions: 2, template: {spec: {containers: [{name: c, image: x}]}}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
- {apiVersion: v1, kind: Pod, metadata: {name: one}, spec: {containers: [{name: c, image: x}]}}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: x}]}}}
";
        let (ms, skipped) = read_release(text).unwrap();
        let got: Vec<(&str, Option<u64>)> = ms.iter().map(|m| (m.what.as_str(), m.replicas)).collect();
        assert_eq!(
            got,
            [("Deployment/web", Some(1)), ("Job/migrate", Some(2)), ("Pod/one", Some(1)), ("DaemonSet/agent", None)]
        );
        assert_eq!(skipped, [("ConfigMap".to_string(), 1), ("Service".to_string(), 1)].into());
        let err = read_release("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n").unwrap_err();
        assert!(err.starts_with("--fits-release: no Pod") && err.ends_with("(they have: Service)"), "{err}");
    }
}
