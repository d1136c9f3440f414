//! `--fits-pod FILE|-`: the pod a manifest would make (a Pod, or the pod
//! template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
//! CronJob or ReplicationController), as a [`Shape`]: its effective requests
//! by the scheduler's rule (after the apiserver's defaulting of requests
//! from limits), its tolerations and nodeSelector, and what of it `--fits`
//! does not model.

use k8s_openapi::api::core::v1::{Container as K8sContainer, PodSpec, ResourceRequirements};
use serde_json::Value;

use crate::model::fits::{Shape, Toleration};
use crate::model::quantity::{GRAMMAR, Quantity};
use crate::model::requests::{Container, List, PodResources, pod_level};

/// A manifest's pod, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// Without RuntimeClass overhead (see `runtime_class`).
    pub shape: Shape,
    /// `Deployment/web`, for messages.
    pub what: String,
    /// `spec.runtimeClassName`: its overhead is added at admission.
    pub runtime_class: Option<String>,
    /// Scheduling features the manifest uses that `--fits` does not model.
    pub unmodelled: Vec<&'static str>,
    /// Pod-bearing objects after the first (ignored).
    pub ignored: usize,
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
    let ignored = bearing.count();
    let name = obj["metadata"]["name"].as_str().unwrap_or("pod").to_string();
    let spec: PodSpec = serde_json::from_value(spec)
        .map_err(|e| format!("--fits-pod: the pod spec of {kind}/{name} cannot be read: {e}"))?;
    let requests = effective_requests(&spec).map_err(|e| format!("--fits-pod {kind}/{name}: {e}"))?;
    let tolerations = spec
        .tolerations
        .iter()
        .flatten()
        .map(|t| Toleration {
            key: t.key.clone().filter(|k| !k.is_empty()),
            exists: t.operator.as_deref() == Some("Exists"),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone().filter(|e| !e.is_empty()),
        })
        .collect();
    Ok(Manifest {
        shape: Shape {
            name: name.clone(),
            requests,
            tolerations,
            node_selector: spec.node_selector.clone().unwrap_or_default(),
        },
        what: format!("{kind}/{name}"),
        runtime_class: spec.runtime_class_name.clone(),
        unmodelled: unmodelled(&spec),
        ignored,
    })
}

/// What the scheduler would do that `--fits` does not model.
fn unmodelled(spec: &PodSpec) -> Vec<&'static str> {
    let mut out = Vec::new();
    if let Some(a) = &spec.affinity {
        if a.node_affinity.is_some() {
            out.push("node affinity");
        }
        if a.pod_affinity.is_some() {
            out.push("pod affinity");
        }
        if a.pod_anti_affinity.is_some() {
            out.push("pod anti-affinity");
        }
    }
    if spec.topology_spread_constraints.as_ref().is_some_and(|t| !t.is_empty()) {
        out.push("topology spread");
    }
    let volumes = spec.volumes.iter().flatten();
    if volumes.clone().any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some()) {
        out.push("volume topology");
    }
    let all = spec.containers.iter().chain(spec.init_containers.iter().flatten());
    if all.flat_map(|c| c.ports.iter().flatten()).any(|p| p.host_port.is_some_and(|h| h > 0)) {
        out.push("host ports");
    }
    if spec.resource_claims.as_ref().is_some_and(|c| !c.is_empty()) {
        out.push("DRA claims");
    }
    out
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
        assert!(m.shape.tolerations[0].tolerates("dedicated", "web", "NoSchedule"));
        assert!(m.shape.tolerations[1].tolerates("anything", "x", "NoExecute"));
        assert_eq!(m.runtime_class.as_deref(), Some("kata-lite"));
        assert_eq!(m.unmodelled, ["topology spread", "host ports"]);
        assert_eq!(m.ignored, 0);
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
}
