//! `count --fits-pod`'s answer for a cluster given as objects, with no API
//! server: the same decoders, fold, rows and answers as [`super::count_one`],
//! fed nodes and pods already in hand. The differential tests hand it
//! generated clusters and hold it against kube-scheduler run in-process on
//! the same objects (`tests/cluster/ctl simulate`).

use std::collections::BTreeMap;

use crate::decode::{Item, manifest, node_info};
use crate::error::{Error, Result};
use crate::model::filter::Filter;
use crate::model::fits::Shape;
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
    let shape = bound(m.shape, m.namespace.as_deref(), namespaces);
    let name = shape.name.clone();
    let (mut all, _, _) = answer(nodes, pods, vec![shape])?;
    Ok(all.remove(&name).expect("one answer a shape"))
}

/// `count --fits-release`'s release for the manifests' workloads over these
/// nodes and placed pods.
#[cfg(test)]
pub fn fits_release(
    nodes: &[Vec<u8>],
    pods: &[Vec<u8>],
    namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    text: &str,
) -> Result<crate::report::release::Release> {
    let (ms, _) = manifest::read_release(text).map_err(Error::usage)?;
    let shapes: Vec<Shape> = ms
        .into_iter()
        .map(|m| {
            let mut s = bound(m.shape, m.namespace.as_deref(), namespaces);
            s.asked = m.replicas;
            s.workload = Some(m.what);
            s
        })
        .collect();
    let (answers, (shapes, rows), (nodes, tally)) = answer(nodes, pods, shapes)?;
    let free = crate::report::release::free_on(&nodes, &tally);
    let shapes: Vec<&Shape> = shapes.iter().filter(|s| s.workload.is_some()).collect();
    let ws: Vec<_> =
        shapes.iter().map(|s| crate::report::release::workload(s, answers.get(&s.name), &rows, &free)).collect();
    Ok(crate::report::release::judge(&shapes, &ws))
}

/// A manifest's shape with its namespace (default: `default`) and that
/// namespace's labels bound.
fn bound(mut shape: Shape, ns: Option<&str>, namespaces: &BTreeMap<String, BTreeMap<String, String>>) -> Shape {
    let c = &mut shape.constraints;
    c.bind_namespace(ns.unwrap_or("default"));
    let ns = c.namespace.clone();
    c.namespace_labels = namespaces.get(&ns).cloned().unwrap_or_else(|| [(NAME_LABEL.to_string(), ns.clone())].into());
    if c.selects_namespaces() {
        c.resolve_namespaces(namespaces);
    }
    shape
}

/// The shapes' answers over the nodes and pods, with the shapes and the
/// rows (in node order) they were made from, and the nodes and the tally.
type Answered = (
    BTreeMap<String, FitsAnswer>,
    (Vec<Shape>, Vec<crate::report::rows::NodeRow>),
    (Vec<crate::model::node::NodeInfo>, crate::model::tally::Tally<String>),
);

fn answer(nodes: &[Vec<u8>], pods: &[Vec<u8>], shapes: Vec<Shape>) -> Result<Answered> {
    let mut query = PodQuery::new(&Filter::default(), 0, Method::Objects);
    query.resources = true;
    if shapes.iter().any(|s| s.constraints.reads_neighbours()) {
        query.placing = shapes.iter().map(|s| s.constraints.clone()).collect();
    }
    let keep = NodeKeep { labels: labels_read(&[], None, &shapes), resources: true };
    let nodes = nodes
        .iter()
        .map(|b| node_info(Item::Json(b), &keep).map(|(n, _)| n).map_err(Error::usage))
        .collect::<Result<Vec<_>>>()?;
    let pods = fold_pods(&query, pods.iter().map(|b| Item::Json(b)))?;
    let mut rows = rows(&pods.tally, Some(&nodes), true, &Extra { shown: None, shapes: &shapes });
    let neighbours = (!query.placing.is_empty()).then_some(pods.neighbours.as_slice());
    let all = answers(&mut rows, Some(&nodes), &shapes, neighbours, false);
    Ok((all, (shapes, rows), (nodes, pods.tally)))
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
        let (nodes, placed) = cluster(rng);
        (nodes, placed, pod(rng))
    }

    /// Nodes in zones and pools, some tainted or cordoned, and pods placed
    /// on them (some with anti-affinity or host ports, some finished, some
    /// terminating).
    fn cluster(rng: &mut Rng) -> (Vec<Value>, Vec<Value>) {
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
        (nodes, placed)
    }

    /// A pod to place: each filter the answers model, alone or together.
    fn pod(rng: &mut Rng) -> Value {
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
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": spec
        })
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

    /// A release: two or three workloads, each a few replicas, alone or
    /// kept apart, drawn together, spread or bound to a port.
    fn release(rng: &mut Rng) -> Vec<(String, u64, Value)> {
        let n = 2 + rng.below(2) as usize;
        let names: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
        (0..n)
            .map(|i| {
                let me = &names[i];
                let other = &names[(i + 1 + rng.below(n as u64 - 1) as usize) % n];
                let cpu = ["250m", "500m", "1"][rng.below(3) as usize];
                let mut spec = json!({"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}]});
                let term = |app: &str, key: &str| json!([{"labelSelector": selector(app), "topologyKey": key}]);
                match rng.below(7) {
                    0 | 1 => {}
                    2 => spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term(me, HOST)}}),
                    3 => spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term(other, HOST)}}),
                    4 => spec["affinity"] = json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": term(other, ZONE)}}),
                    5 => {
                        spec["topologySpreadConstraints"] = json!([{"maxSkew": 1, "topologyKey": ZONE,
                            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector(me)}])
                    }
                    _ => spec["containers"][0]["ports"] = json!([{"containerPort": 9000, "hostPort": 9000}]),
                }
                if chance(rng, 20) {
                    spec["tolerations"] = json!([{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]);
                }
                (me.clone(), 1 + rng.below(6), spec)
            })
            .collect()
    }

    #[test]
    fn fits_release_holds_every_order_kube_scheduler_takes() {
        let seed: u64 = std::env::var("PODCOUNT_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
        let cases = std::env::var("PODCOUNT_DIFF_RELEASES").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
        let mut rng = Rng(seed ^ 0xa11);
        let mut asked = Vec::new();
        let mut questions = Vec::new();
        for _ in 0..cases {
            let (nodes, placed) = cluster(&mut rng);
            let ws = release(&mut rng);
            let text: Vec<String> = ws
                .iter()
                .map(|(name, replicas, spec)| {
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})
                    .to_string()
                })
                .collect();
            let to_bytes = |v: &[Value]| v.iter().map(|o| serde_json::to_vec(o).unwrap()).collect::<Vec<_>>();
            let r = fits_release(&to_bytes(&nodes), &to_bytes(&placed), &BTreeMap::new(), &text.join("\n---\n"))
                .unwrap_or_else(|e| panic!("{e}: {text:?}"));
            // Three orders: workload by workload (two of them), and every
            // pod shuffled.
            let pod = |name: &str, spec: &Value| {
                json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": "default", "labels": {"app": name}}, "spec": spec})
            };
            let mut pods: Vec<Value> =
                ws.iter().flat_map(|(n, k, spec)| std::iter::repeat_n(pod(n, spec), *k as usize)).collect();
            for round in 0..3 {
                if round < 2 {
                    let mut order: Vec<usize> = (0..ws.len()).collect();
                    order.rotate_left(round + rng.below(ws.len() as u64) as usize);
                    pods = order
                        .iter()
                        .flat_map(|&i| std::iter::repeat_n(pod(&ws[i].0, &ws[i].2), ws[i].1 as usize))
                        .collect();
                } else {
                    for k in (1..pods.len()).rev() {
                        pods.swap(k, rng.below(k as u64 + 1) as usize);
                    }
                }
                questions.push(json!({"nodes": nodes, "pods": placed, "arrivals": pods}).to_string());
            }
            asked.push((r, text));
        }
        let answers = crate::test_oracle::ask("simulate", &questions);
        let (mut exact, mut runs, mut differ) = (0, 0, Vec::new());
        let (mut at_least, mut at_most, mut inside) = (0, 0, 0);
        for (i, (r, text)) in asked.iter().enumerate() {
            exact += usize::from(r.exact);
            for run in &answers[3 * i..3 * i + 3] {
                assert!(run["error"].is_null(), "the oracle failed: {run}");
                runs += 1;
                for (id, w) in &r.workloads {
                    let name = id.rsplit('/').next().unwrap();
                    let got = run["landed"][name].as_u64().unwrap_or(0);
                    let (least, most) = match w.lands {
                        crate::report::release::Count::One(n) => (n, n),
                        crate::report::release::Count::Range([l, m]) => (l, m),
                    };
                    if got < least || got > most {
                        differ.push(format!(
                            "case {i}: {id} landed {got}, podcount {least}..={most} ({:?}): {text:?}",
                            w.why
                        ));
                    } else if least < most {
                        if got == least {
                            at_least += 1
                        } else if got == most {
                            at_most += 1
                        } else {
                            inside += 1
                        }
                    }
                }
            }
        }
        eprintln!(
            "{} releases (seed {seed}), {runs} orders: {exact} exact; workloads of ranges at their least {at_least}, at their most {at_most}, inside {inside}; {} differed",
            asked.len(),
            differ.len()
        );
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }
}
