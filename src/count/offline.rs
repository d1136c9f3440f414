//! `count --fits-pod`'s answer for a cluster given as objects, with no API
//! server: the same decoders, fold, rows and answers as [`super::count_one`],
//! fed nodes and pods already in hand. The differential tests hand it
//! generated clusters and hold it against kube-scheduler run in-process on
//! the same objects (`tests/cluster/ctl simulate`).

use std::collections::BTreeMap;

use crate::decode::{Item, manifest, node_info};
use crate::error::{Error, Result};
use crate::model::filter::Filter;
use crate::model::node::NodeKeep;
use crate::report::fits::{FitsAnswer, answers};
use crate::report::group::labels_read;
use crate::report::rows::{Extra, rows};
use crate::source::list::fold_pods;
use crate::source::query::{Method, PodQuery};

/// What namespaces carry when the cluster gives none (as the apiserver
/// labels every namespace).
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The answer for the pod of `manifest` over these nodes and placed pods
/// (JSON objects), its namespace's labels from `namespaces` (name to
/// labels; absent: the name label alone).
pub fn fits_pod(
    nodes: &[Vec<u8>],
    pods: &[Vec<u8>],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    manifest_text: &str,
) -> Result<FitsAnswer> {
    let m = manifest::read(manifest_text).map_err(Error::usage)?;
    let mut shape = m.shape;
    let c = &mut shape.constraints;
    c.bind_namespace(m.namespace.as_deref().unwrap_or("default"));
    let ns = c.namespace.clone();
    c.namespace_labels = namespaces.get(&ns).cloned().unwrap_or_else(|| [(NAME_LABEL.to_string(), ns.clone())].into());
    if c.selects_namespaces() {
        c.resolve_namespaces(namespaces);
    }
    let shapes = vec![shape];
    let mut query = PodQuery::new(&Filter::default(), 0, Method::Objects);
    query.resources = true;
    if shapes[0].constraints.reads_neighbours() {
        query.placing = vec![shapes[0].constraints.clone()];
    }
    let keep = NodeKeep { labels: labels_read(&[], None, &shapes), resources: true };
    let nodes = nodes
        .iter()
        .map(|b| node_info(Item::Json(b), &keep).map(|(n, _)| n).map_err(Error::usage))
        .collect::<Result<Vec<_>>>()?;
    let pods = fold_pods(&query, pods.iter().map(|b| Item::Json(b)))?;
    let mut rows = rows(&pods.tally, Some(&nodes), true, &Extra { shown: None, shapes: &shapes });
    let neighbours = (!query.placing.is_empty()).then_some(pods.neighbours.as_slice());
    let mut all = answers(&mut rows, Some(&nodes), &shapes, neighbours, false);
    Ok(all.remove(&shapes[0].name).expect("one answer a shape"))
}

#[cfg(test)]
mod tests {
    //! The differential oracle: generated clusters (zones, taints, labels,
    //! placed pods with anti-affinity and host ports) and pods to place,
    //! asked of podcount and of kube-scheduler itself. Where podcount says
    //! exact, the scheduler places exactly that many, in each of two runs
    //! (its ties are random); otherwise no more than podcount's bound.

    use super::*;
    use crate::rng::Rng;
    use serde_json::{Value, json};

    fn chance(rng: &mut Rng, percent: u64) -> bool {
        rng.below(100) < percent
    }

    const ZONE: &str = "topology.kubernetes.io/zone";
    const HOST: &str = "kubernetes.io/hostname";

    fn selector(app: &str) -> Value {
        json!({"matchLabels": {"app": app}})
    }

    /// One case: nodes, placed pods and the pod to place.
    fn case(rng: &mut Rng) -> (Vec<Value>, Vec<Value>, Value) {
        let zones = 1 + rng.below(3);
        let n = 2 + rng.below(9);
        let mut nodes = Vec::new();
        for i in 0..n {
            let name = format!("n{i}");
            let zone = format!("z{}", rng.below(zones));
            let cpu = ["2", "4", "8"][rng.below(3) as usize];
            let pods = ["10", "110"][rng.below(2) as usize];
            let pool = ["a", "b"][rng.below(2) as usize];
            let mut node = json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {HOST: name, ZONE: zone, "pool": pool}},
                "spec": {},
                "status": {"allocatable": {"cpu": cpu, "memory": "16Gi", "pods": pods},
                           "capacity": {"cpu": cpu, "memory": "16Gi", "pods": pods},
                           "conditions": [{"type": "Ready", "status": "True"}]}
            });
            if chance(rng, 15) {
                node["spec"]["taints"] = json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]);
            }
            if chance(rng, 10) {
                node["spec"]["unschedulable"] = json!(true);
                node["spec"]["taints"] = json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]);
            }
            nodes.push(node);
        }
        let mut placed = Vec::new();
        for i in 0..rng.below(3 * n) {
            let node = format!("n{}", rng.below(n));
            let app = ["web", "db", "cache"][rng.below(3) as usize];
            let used = ["100m", "500m", "1"][rng.below(3) as usize];
            let mut spec = json!({
                "nodeName": node,
                "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": used}}}],
                "tolerations": [{"operator": "Exists"}]
            });
            if chance(rng, 15) {
                let key = if chance(rng, 70) { HOST } else { ZONE };
                spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": selector("web"), "topologyKey": key}]}});
            }
            if chance(rng, 10) {
                spec["containers"][0]["ports"] = json!([{"containerPort": 8080, "hostPort": 8080}]);
            }
            placed.push(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("p{i}"), "namespace": "default", "uid": format!("00000000-0000-4000-8000-{i:012}"), "labels": {"app": app}},
                "spec": spec,
                "status": {"phase": "Running"}
            }));
            // Finished pods free their node; terminating ones do not.
            let last = placed.last_mut().unwrap();
            match rng.below(12) {
                0 => last["status"]["phase"] = json!(["Succeeded", "Failed"][rng.below(2) as usize]),
                1 => {
                    last["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
                    last["metadata"]["finalizers"] = json!(["podcount.test/hold"]);
                }
                _ => {}
            }
        }
        let wants = ["250m", "500m", "1", "2"][rng.below(4) as usize];
        let mut spec = json!({
            "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": wants}}}]
        });
        let spread = |key: &str, skew: u64, min_domains: Option<u64>| {
            let mut s = json!({"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector("web")});
            if let Some(m) = min_domains {
                s["minDomains"] = json!(m);
            }
            s
        };
        match rng.below(14) {
            0 => {}
            1 => {
                spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector("web"), "topologyKey": HOST}]}})
            }
            2 => {
                spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector("db"), "topologyKey": if chance(rng, 50) { HOST } else { ZONE }}]}})
            }
            3 => {
                spec["affinity"] = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector("db"), "topologyKey": ZONE}]}})
            }
            4 => spec["topologySpreadConstraints"] = json!([spread(ZONE, 1 + rng.below(2), None)]),
            5 => spec["topologySpreadConstraints"] = json!([spread(HOST, 1, None)]),
            6 => spec["topologySpreadConstraints"] = json!([spread(ZONE, 1, Some(1 + rng.below(4)))]),
            7 => spec["topologySpreadConstraints"] = json!([spread(ZONE, 1, None), spread(HOST, 1, None)]),
            8 => spec["containers"][0]["ports"] = json!([{"containerPort": 8080, "hostPort": 8080}]),
            // Several constraints tying nodes together: replayed.
            10 => {
                spec["topologySpreadConstraints"] = json!([
                    spread(ZONE, 1 + rng.below(2), Some(1 + rng.below(4))),
                    spread(HOST, 1 + rng.below(2), None)
                ])
            }
            11 => {
                spec["topologySpreadConstraints"] = json!([spread(HOST, 1, None)]);
                spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector("web"), "topologyKey": "pool"}]}});
            }
            12 => {
                spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector("web"), "topologyKey": "pool"},
                {"labelSelector": selector("web"), "topologyKey": ZONE}]}});
            }
            // Affinity to its own kind, none placed unless some are.
            13 => {
                spec["affinity"] = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": selector("web"), "topologyKey": if chance(rng, 50) { HOST } else { ZONE }}]}});
                if chance(rng, 50) {
                    spec["topologySpreadConstraints"] = json!([spread(HOST, 1, None)]);
                }
            }
            _ => {
                spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["a"]}]}]}}})
            }
        }
        if chance(rng, 20) {
            spec["tolerations"] = json!([{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]);
        }
        // The request rule: an init container above the containers' sum,
        // a second container, memory.
        match rng.below(6) {
            0 => {
                spec["initContainers"] =
                    json!([{"name": "init", "image": "x", "resources": {"requests": {"cpu": "3"}}}])
            }
            1 => spec["containers"].as_array_mut().unwrap().push(json!({"name": "side", "image": "x",
                    "resources": {"requests": {"cpu": "300m", "memory": "5Gi"}}})),
            _ => {}
        }
        // A preferred term: it moves where pods land, and so may change
        // how many a spread admits.
        if chance(rng, 15) {
            let prefer =
                json!([{"weight": 100, "podAffinityTerm": {"labelSelector": selector("db"), "topologyKey": HOST}}]);
            match spec["affinity"].as_object_mut() {
                Some(a) => {
                    a.entry("podAntiAffinity").or_insert_with(|| json!({}))["preferredDuringSchedulingIgnoredDuringExecution"] =
                        prefer;
                }
                None => {
                    spec["affinity"] =
                        json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": prefer}})
                }
            }
        }
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": spec
        });
        (nodes, placed, pod)
    }

    /// How many cases: `PODCOUNT_DIFF_CASES` (the long run), else a few
    /// hundred.
    fn cases() -> usize {
        std::env::var("PODCOUNT_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
    }

    #[test]
    fn fits_pod_agrees_with_kube_scheduler_on_generated_clusters() {
        let seed: u64 = std::env::var("PODCOUNT_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
        let mut rng = Rng(seed);
        let mut asked = Vec::new();
        let mut questions = Vec::new();
        for _ in 0..cases() {
            let (nodes, placed, pod) = case(&mut rng);
            let to_bytes = |v: &[Value]| v.iter().map(|o| serde_json::to_vec(o).unwrap()).collect::<Vec<_>>();
            let a = fits_pod(&to_bytes(&nodes), &to_bytes(&placed), &BTreeMap::new(), &pod.to_string())
                .unwrap_or_else(|e| panic!("{e}: {pod}"));
            let more = a.more.expect("nodes were given");
            let q = json!({"nodes": nodes, "pods": placed, "pod": pod, "max": more + 2}).to_string();
            // Twice: the scheduler breaks ties at random.
            questions.push(q.clone());
            questions.push(q);
            asked.push((a, pod));
        }
        let answers = crate::test_oracle::ask("simulate", &questions);
        let (mut exact, mut ranged, mut bounded, mut differ) = (0, 0, 0, Vec::new());
        let (mut at_least, mut at_most) = (0, 0);
        for (i, (a, pod)) in asked.iter().enumerate() {
            let more = a.more.unwrap();
            let (least, most) = a.bounds().unwrap();
            for run in &answers[2 * i..2 * i + 2] {
                assert!(run["error"].is_null(), "the oracle failed: {run}");
                let placed = run["placed"].as_u64().unwrap();
                let ok = if a.exact { placed == more } else { placed >= least && most.is_none_or(|m| placed <= m) };
                if !a.exact && a.bound_by.is_empty() && least < more {
                    at_least += usize::from(placed == least);
                    at_most += usize::from(placed == more);
                }
                if !ok {
                    // The question, to replay: tests/cluster/ctl simulate < FILE.
                    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/diff-cases");
                    let _ = std::fs::create_dir_all(&dir);
                    let _ = std::fs::write(dir.join(format!("{seed}-{i}.json")), &questions[2 * i]);
                    differ.push(format!(
                        "case {i}: podcount {least}..{more} (exact: {}), kube-scheduler {placed} ({}) for {pod}; bound by {:?}, order {:?}",
                        a.exact, run["stopped"], a.bound_by, a.order
                    ));
                }
            }
            match (a.exact, a.bound_by.is_empty()) {
                (true, _) => exact += 1,
                (false, true) => ranged += 1,
                (false, false) => bounded += 1,
            }
        }
        eprintln!(
            "{} cases (seed {seed}): {exact} exact, {ranged} ranges (runs at their least {at_least}, at their most {at_most}), {bounded} bounds; {} runs differed",
            asked.len(),
            differ.len()
        );
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }
}
