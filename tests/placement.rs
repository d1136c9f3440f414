//! `--fits-pod` against a real control plane: kube-scheduler with its
//! default profile and kube-controller-manager's workload controllers, both
//! built from the same Go modules as the apiserver. For each case podcount
//! predicts "K more land, this many on each node (or zone)"; the test then
//! makes the real workload (a Deployment, a StatefulSet with Parallel pod
//! management, a DaemonSet) with K + slack
//! replicas, waits until every pod is bound or Unschedulable and the bound
//! count holds still, and the scheduler must have bound exactly K, with the
//! same distribution where the answer gives one.
//!
//! Each case makes its own nodes (selected by the workload's nodeSelector,
//! so other cases' nodes stay out) in its own namespace, runs alone, and
//! deletes its nodes at the end.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};
use support::watcher::Watcher;
use support::{Cluster, Options, blocking, json_of, nodes_of, podcount, stderr};

const BED: Options = Options {
    nodes: 0,
    pods: 0,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: true,
    fast_seed: false,
    controllers: true,
    kubelets: false,
};
const SCHEDULER: &str = "podcount-fits";
const ZONE: &str = "topology.kubernetes.io/zone";
const HOSTNAME: &str = "kubernetes.io/hostname";

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

/// One case's nodes, pool and namespace; its nodes go when it is dropped.
struct Case {
    c: &'static Cluster,
    client: kube::Client,
    ns: String,
    nodes: Vec<String>,
}

/// A node to make: name suffix, zone, allocatable (cpu, pods), extra spec,
/// extra labels.
struct NodeSpec {
    name: &'static str,
    zone: &'static str,
    cpu: &'static str,
    pods: u32,
    spec: Value,
    labels: Value,
}

fn n(name: &'static str, zone: &'static str, cpu: &'static str, pods: u32) -> NodeSpec {
    NodeSpec { name, zone, cpu, pods, spec: json!({}), labels: json!({}) }
}

impl Case {
    async fn new(prefix: &str, nodes: Vec<NodeSpec>) -> Case {
        let c = cluster();
        let client = c.client().await;
        let ns = c.namespace(prefix).await;
        let api: Api<Node> = Api::all(client.clone());
        let mut names = Vec::new();
        for s in nodes {
            let name = format!("{ns}-{}", s.name);
            let mut labels = json!({HOSTNAME: name, ZONE: s.zone, "podcount.test/pool": ns});
            for (k, v) in s.labels.as_object().unwrap() {
                labels[k] = v.clone();
            }
            let res = json!({"cpu": s.cpu, "memory": "64Gi", "pods": s.pods.to_string()});
            let node = json!({"metadata": {"name": name, "labels": labels}, "spec": s.spec,
                "status": {"allocatable": res, "capacity": res, "conditions": [{"type": "Ready", "status": "True"}]}});
            api.create(&PostParams::default(), &serde_json::from_value(node).unwrap()).await.expect("create node");
            names.push(name);
        }
        Case { c, client, ns, nodes: names }
    }

    fn node(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.ns)
    }

    /// A pod already placed on a node (bound directly, no scheduler).
    async fn placed(&self, name: &str, node: &str, labels: Value, mut spec: Value) {
        spec["nodeName"] = json!(self.node(node));
        if spec.get("containers").is_none() {
            spec["containers"] = json!([{"name": "app", "image": "a", "resources": {"requests": {"cpu": "100m"}}}]);
        }
        support::create_pod_json(
            &self.client,
            &self.ns,
            json!({"metadata": {"name": name, "labels": labels}, "spec": spec}),
        )
        .await;
    }

    /// A workload's manifest, its pods kept to this case's nodes; its pods
    /// carry `labels` and a label of their own (so pods placed beforehand
    /// with the same `labels` are neither adopted nor counted as its own).
    fn manifest(&self, kind: &str, name: &str, replicas: u64, mut labels: Value, mut pod: Value) -> Value {
        labels["podcount.test/workload"] = json!(name);
        pod["nodeSelector"] = json!({"podcount.test/pool": self.ns});
        if pod.get("containers").is_none() {
            pod["containers"] = json!([{"name": "app", "image": "a", "resources": {"requests": {"cpu": "100m"}}}]);
        }
        let mut m = json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": self.ns},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": pod}}});
        if kind != "DaemonSet" {
            m["spec"]["replicas"] = json!(replicas);
        }
        if kind == "StatefulSet" {
            // All at once, as a Deployment: ordered start would wait on
            // readiness no kubelet here reports.
            m["spec"]["podManagementPolicy"] = json!("Parallel");
            m["spec"]["serviceName"] = json!(name);
        }
        m
    }

    /// podcount's answer for a manifest: the document.
    fn predict(&self, manifest: &Value, extra: &[&str]) -> Value {
        let path =
            std::env::temp_dir().join(format!("{}-{}.yaml", self.ns, manifest["metadata"]["name"].as_str().unwrap()));
        std::fs::write(&path, serde_yaml::to_string(manifest).unwrap()).unwrap();
        let mut args = vec!["--fits-pod", path.to_str().unwrap(), "-o", "json"];
        args.extend_from_slice(extra);
        let out = podcount(&self.c.kubeconfig, &args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        json_of(&out)
    }

    /// Makes the workload for the bed's scheduler and waits until it has
    /// placed what it will: the bound pods per node.
    async fn run(&self, mut manifest: Value, replicas: u64) -> BTreeMap<String, u64> {
        manifest["spec"]["template"]["spec"]["schedulerName"] = json!(SCHEDULER);
        let kind = manifest["kind"].as_str().unwrap().to_string();
        if kind == "DaemonSet" {
            let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), &self.ns);
            api.create(&PostParams::default(), &serde_json::from_value(manifest.clone()).unwrap()).await.unwrap();
        } else if kind == "StatefulSet" {
            manifest["spec"]["replicas"] = json!(replicas);
            let api: Api<StatefulSet> = Api::namespaced(self.client.clone(), &self.ns);
            api.create(&PostParams::default(), &serde_json::from_value(manifest.clone()).unwrap()).await.unwrap();
        } else {
            manifest["spec"]["replicas"] = json!(replicas);
            let api: Api<Deployment> = Api::namespaced(self.client.clone(), &self.ns);
            api.create(&PostParams::default(), &serde_json::from_value(manifest.clone()).unwrap()).await.unwrap();
        }
        let labels = manifest["spec"]["selector"]["matchLabels"].as_object().unwrap();
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect();
        self.settle(&selector.join(","), (kind != "DaemonSet").then_some(replicas)).await
    }

    /// Waits until `want` pods (a DaemonSet: whatever its controller made)
    /// exist and each is bound or Unschedulable, and the bound count has
    /// held for 3 s; returns the bound pods per node.
    async fn settle(&self, selector: &str, want: Option<u64>) -> BTreeMap<String, u64> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.ns);
        let lp = ListParams::default().labels(selector);
        let start = Instant::now();
        let mut last = (u64::MAX, Instant::now());
        loop {
            let list = pods.list(&lp).await.unwrap().items;
            let node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.clone());
            let refused = |p: &Pod| {
                p.status.iter().flat_map(|s| s.conditions.iter().flatten()).any(|c| {
                    c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable")
                })
            };
            let bound = list.iter().filter(|p| node(p).is_some()).count() as u64;
            let made = match want {
                Some(w) => list.len() as u64 == w,
                // A DaemonSet: its controller has made some.
                None => !list.is_empty(),
            };
            let settled = made && list.iter().all(|p| node(p).is_some() || refused(p));
            if bound != last.0 {
                last = (bound, Instant::now());
            } else if settled && last.1.elapsed() > Duration::from_secs(3) {
                let mut per_node = BTreeMap::new();
                for p in list.iter().filter_map(node) {
                    *per_node.entry(p).or_default() += 1;
                }
                return per_node;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "did not settle: {bound} bound of {}", list.len());
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Per zone, of bound pods per node.
    fn zones(&self, per_node: &BTreeMap<String, u64>, zone_of: &BTreeMap<String, &str>) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (node, k) in per_node {
            *out.entry(zone_of[node].to_string()).or_default() += k;
        }
        out
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        // Nodes go with the case (its pods stay in its namespace, on no node
        // any later case selects).
        let nodes = self.nodes.clone();
        let kubeconfig = self.c.kubeconfig.clone();
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let api: Api<Node> = Api::all(support::client_for(&kubeconfig).await);
                for n in nodes {
                    let _ = api.delete(&n, &DeleteParams::default()).await;
                }
            })
        })
        .join()
        .unwrap();
    }
}

/// The answer for `shape` in a document.
fn answer<'d>(doc: &'d Value, shape: &str) -> &'d Value {
    &doc["fits"][shape]
}

/// Per node, what the document says each takes.
fn per_node(doc: &Value, shape: &str) -> BTreeMap<String, u64> {
    nodes_of(doc)
        .into_iter()
        .filter_map(|(n, v)| Some((n, v["fits"][shape].as_u64()?)))
        .filter(|(_, k)| *k > 0)
        .collect()
}

fn app(name: &str) -> Value {
    json!({"app": name})
}

fn anti(key: &str, labels: Value) -> Value {
    json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": labels}, "topologyKey": key}]}})
}

fn affinity(key: &str, labels: Value) -> Value {
    json!({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": labels}, "topologyKey": key}]}})
}

/// Checks podcount's exact answer `k` against the scheduler with slack.
async fn check(case: &Case, manifest: Value, doc: &Value, shape: &str) -> BTreeMap<String, u64> {
    let a = answer(doc, shape);
    assert_eq!(a["exact"], true, "{a}");
    let k = a["more"].as_u64().unwrap();
    let bound = case.run(manifest, k + 3).await;
    assert_eq!(bound.values().sum::<u64>(), k, "the scheduler bound {bound:?}; podcount said {k}: {a}");
    bound
}

#[tokio::test]
async fn self_anti_affinity_by_hostname_is_one_a_node_none_where_one_runs() {
    let _serial = support::serial().await;
    let case = Case::new(
        "anti-host",
        vec![n("a1", "a", "4", 110), n("a2", "a", "4", 110), n("b1", "b", "4", 110), n("b2", "b", "50m", 110)],
    )
    .await;
    // A pod of the app already on a1; b2 is too small for one.
    case.placed("old", "a1", app("web"), json!({})).await;
    let m = case.manifest("Deployment", "web", 40, app("web"), json!({"affinity": anti(HOSTNAME, app("web"))}));
    let doc = case.predict(&m, &[]);
    let want: BTreeMap<String, u64> = [case.node("a2"), case.node("b1")].into_iter().map(|n| (n, 1)).collect();
    assert_eq!(per_node(&doc, "web"), want, "{}", answer(&doc, "web"));
    assert_eq!(nodes_of(&doc)[&case.node("a1")]["fitsLimitedBy"]["web"], format!("anti-affinity {HOSTNAME}"));
    // The manifest asks for 40: they do not land. --replicas asks and gates.
    assert_eq!(
        (answer(&doc, "web")["asked"].as_u64(), answer(&doc, "web")["lands"].as_bool()),
        (Some(40), Some(false))
    );
    let path = std::env::temp_dir().join(format!("{}-web-replicas.yaml", case.ns));
    std::fs::write(&path, serde_yaml::to_string(&m).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p, "--replicas", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("  2 asked: all land"));
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p, "--replicas", "3"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("web: 2 more fit in the cluster, fewer than --replicas 3"), "{}", stderr(&out));
    let bound = check(&case, m, &doc, "web").await;
    assert_eq!(bound, want, "the same nodes");
}

#[tokio::test]
async fn self_anti_affinity_by_zone_is_one_a_zone() {
    let _serial = support::serial().await;
    let case = Case::new(
        "anti-zone",
        vec![n("a1", "a", "4", 110), n("a2", "a", "4", 110), n("b1", "b", "4", 110), n("c1", "c", "4", 110)],
    )
    .await;
    case.placed("old", "c1", app("web"), json!({})).await;
    // A StatefulSet this time (Parallel: its controller makes them all).
    let m = case.manifest("StatefulSet", "web", 10, app("web"), json!({"affinity": anti(ZONE, app("web"))}));
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "web");
    assert_eq!((a["more"].as_u64(), a["by"].as_str()), (Some(2), Some(ZONE)), "{a}");
    assert_eq!(a["byDomain"], json!({"a": 1, "b": 1, "c": 0}));
    let bound = check(&case, m, &doc, "web").await;
    let zone_of: BTreeMap<String, &str> =
        [("a1", "a"), ("a2", "a"), ("b1", "b"), ("c1", "c")].iter().map(|(n, z)| (case.node(n), *z)).collect();
    assert_eq!(case.zones(&bound, &zone_of), [("a".to_string(), 1), ("b".to_string(), 1)].into());
}

#[tokio::test]
async fn anti_affinity_to_another_app_and_placed_pods_that_repel() {
    let _serial = support::serial().await;
    let case = Case::new(
        "anti-other",
        vec![n("a1", "a", "1", 110), n("a2", "a", "1", 110), n("b1", "b", "1", 110), n("b2", "b", "1", 110)],
    )
    .await;
    // A cache on a1 the new pods avoid by hostname; a guard on b1 whose own
    // anti-affinity (by zone) repels app=web from all of zone b.
    case.placed("cache", "a1", app("cache"), json!({})).await;
    case.placed("guard", "b1", app("guard"), json!({"affinity": anti(ZONE, app("web"))})).await;
    let pod = json!({"affinity": anti(HOSTNAME, app("cache")),
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "300m"}}}]});
    let m = case.manifest("Deployment", "web", 10, app("web"), pod);
    let doc = case.predict(&m, &[]);
    // a2 alone: 1 core, 300m a pod: 3.
    let want: BTreeMap<String, u64> = [(case.node("a2"), 3)].into();
    assert_eq!(per_node(&doc, "web"), want, "{}", answer(&doc, "web"));
    let b2 = &nodes_of(&doc)[&case.node("b2")];
    assert_eq!(b2["fitsLimitedBy"]["web"], format!("anti-affinity of placed pods {ZONE}"));
    let bound = check(&case, m, &doc, "web").await;
    assert_eq!(bound, want);
}

/// The symmetric rule for a pod with no inter-pod terms of its own: a
/// plain Deployment is kept off a placed pod's node by that pod's required
/// anti-affinity (kube-scheduler's `PodsWithRequiredAntiAffinity`), and the
/// answer is exact.
#[tokio::test]
async fn a_plain_pod_is_repelled_by_a_placed_pods_anti_affinity() {
    let _serial = support::serial().await;
    let case = Case::new(
        "repelled",
        vec![
            n("a1", "a", "1", 110),
            n("a2", "a", "1", 110),
            n("b1", "b", "1", 110),
            n("b2", "b", "1", 110),
            n("c1", "c", "1", 110),
        ],
    )
    .await;
    case.placed("guard", "b1", app("guard"), json!({"affinity": anti(HOSTNAME, app("web"))})).await;
    let pod = json!({"containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "300m"}}}]});
    let m = case.manifest("Deployment", "web", 10, app("web"), pod);
    let doc = case.predict(&m, &[]);
    // 1 core, 300m a pod: 3 on each node but guard's.
    let want: BTreeMap<String, u64> = ["a1", "a2", "b2", "c1"].iter().map(|s| (case.node(s), 3)).collect();
    assert_eq!(per_node(&doc, "web"), want, "{}", answer(&doc, "web"));
    let b1 = &nodes_of(&doc)[&case.node("b1")];
    assert_eq!(b1["fitsLimitedBy"]["web"], format!("anti-affinity of placed pods {HOSTNAME}"));
    let bound = check(&case, m, &doc, "web").await;
    assert_eq!(bound, want);
}

#[tokio::test]
async fn affinity_to_an_existing_app_and_node_affinity_gt_notin() {
    let _serial = support::serial().await;
    let mut big = n("a2", "a", "1", 110);
    big.labels = json!({"podcount.test/cores": "16"});
    let mut spot = n("b1", "b", "1", 110);
    spot.labels = json!({"podcount.test/cores": "16", "podcount.test/capacity": "spot"});
    let mut small = n("b2", "b", "1", 110);
    small.labels = json!({"podcount.test/cores": "4"});
    let case = Case::new("affinity", vec![n("a1", "a", "1", 110), big, spot, small]).await;
    case.placed("db", "b1", app("db"), json!({})).await;
    // Affinity to the db's zone (b), and nodes with more than 8 cores that
    // are not spot: b1 is spot, b2 has 4 cores. None land.
    let node_affinity = json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "podcount.test/cores", "operator": "Gt", "values": ["8"]},
        {"key": "podcount.test/capacity", "operator": "NotIn", "values": ["spot"]}]}]}});
    let mut aff = affinity(ZONE, app("db"));
    aff["nodeAffinity"] = node_affinity.clone();
    let pod = json!({"affinity": aff, "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "250m"}}}]});
    let m = case.manifest("Deployment", "web", 10, app("web"), pod);
    let doc = case.predict(&m, &[]);
    assert_eq!(answer(&doc, "web")["more"], 0, "{doc}");
    assert_eq!(nodes_of(&doc)[&case.node("a2")]["fitsLimitedBy"]["web"], format!("affinity {ZONE}"));
    assert_eq!(nodes_of(&doc)[&case.node("b2")]["fitsLimitedBy"]["web"], "node-affinity");
    check(&case, m, &doc, "web").await;
    // Without the node affinity: zone b's two nodes, 1 core each, 4 apiece.
    let pod = json!({"affinity": affinity(ZONE, app("db")),
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "250m"}}}]});
    let m = case.manifest("Deployment", "web2", 10, app("web2"), pod);
    let doc = case.predict(&m, &[]);
    // b1 holds the db (100m): 3 more; b2: 4.
    let want: BTreeMap<String, u64> = [(case.node("b1"), 3), (case.node("b2"), 4)].into();
    assert_eq!(per_node(&doc, "web2"), want);
    let bound = check(&case, m, &doc, "web2").await;
    assert_eq!(bound, want);
}

#[tokio::test]
async fn zone_spread_over_unequal_zones_with_existing_pods() {
    let _serial = support::serial().await;
    // Zone a: 3 nodes of 1 core; b: 1 node of 1 core; c: 1 node of 500m.
    let case = Case::new(
        "spread",
        vec![
            n("a1", "a", "1", 110),
            n("a2", "a", "1", 110),
            n("a3", "a", "1", 110),
            n("b1", "b", "1", 110),
            n("c1", "c", "500m", 110),
        ],
    )
    .await;
    // Two replicas already in zone a.
    case.placed("old-0", "a1", app("web"), json!({})).await;
    case.placed("old-1", "a2", app("web"), json!({})).await;
    let spread = json!([{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": app("web")}}]);
    let pod = json!({"topologySpreadConstraints": spread,
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "250m"}}}]});
    let m = case.manifest("Deployment", "web", 20, app("web"), pod);
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "web");
    // Capacity: a 3+3+4 = 10, b 4, c 2. Existing a 2. L = min(12, 4, 2) = 2:
    // a ends at 3 (+1), b at 3 (+3), c at 2 (+2).
    assert_eq!(a["byDomain"], json!({"a": 1, "b": 3, "c": 2}), "{a}");
    let bound = check(&case, m, &doc, "web").await;
    let zone_of: BTreeMap<String, &str> = [("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b"), ("c1", "c")]
        .iter()
        .map(|(n, z)| (case.node(n), *z))
        .collect();
    let want: BTreeMap<String, u64> = [("a", 1), ("b", 3), ("c", 2)].map(|(z, k)| (z.to_string(), k)).into();
    assert_eq!(case.zones(&bound, &zone_of), want);
}

#[tokio::test]
async fn min_domains_above_the_zones_there_are_and_the_ignore_policy() {
    let _serial = support::serial().await;
    let mut outside = n("c1", "c", "4", 110);
    outside.labels = json!({"podcount.test/pool": "elsewhere"});
    let case = Case::new("mindomains", vec![n("a1", "a", "4", 110), n("b1", "b", "4", 110), outside]).await;
    // minDomains 5 over 2 zones: the minimum stays 0, so each zone takes maxSkew (2).
    let spread = json!([{"maxSkew": 2, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "minDomains": 5,
        "labelSelector": {"matchLabels": app("web")}}]);
    let m = case.manifest("Deployment", "web", 10, app("web"), json!({"topologySpreadConstraints": spread}));
    let doc = case.predict(&m, &[]);
    assert_eq!(answer(&doc, "web")["byDomain"], json!({"a": 2, "b": 2}), "{doc}");
    check(&case, m, &doc, "web").await;
    // nodeAffinityPolicy: Ignore: zone c (its node outside the pool) holds
    // the minimum at 0, so a and b take maxSkew 1 each.
    let spread = json!([{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "nodeAffinityPolicy": "Ignore",
        "labelSelector": {"matchLabels": app("ign")}}]);
    let m = case.manifest("Deployment", "ign", 10, app("ign"), json!({"topologySpreadConstraints": spread}));
    let doc = case.predict(&m, &[]);
    assert_eq!(answer(&doc, "ign")["byDomain"], json!({"a": 1, "b": 1, "c": 0}), "{doc}");
    check(&case, m, &doc, "ign").await;
}

/// A zone and a hostname spread together (a pair many charts ship), over
/// unequal zones and nodes: every order the filters allow places as many,
/// so the answer is exact and a gate; with minDomains above the zones there
/// are, too.
#[tokio::test]
async fn zone_and_hostname_spread_together_over_unequal_zones() {
    let _serial = support::serial().await;
    // Replicas of 500m: a1 4, a2 4, a3 2, b1 4, b2 2, c1 4, c2 1.
    let case = Case::new(
        "zone-host",
        vec![
            n("a1", "a", "2", 110),
            n("a2", "a", "2", 110),
            n("a3", "a", "1", 110),
            n("b1", "b", "2", 110),
            n("b2", "b", "1", 110),
            n("c1", "c", "2", 110),
            n("c2", "c", "500m", 110),
        ],
    )
    .await;
    let spread = |zone_min: u32| {
        json!([
        {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "minDomains": zone_min, "labelSelector": {"matchLabels": app("web")}},
        {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": app("web")}}])
    };
    let pod = |zone_min: u32| {
        json!({"topologySpreadConstraints": spread(zone_min),
            "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "500m"}}}]})
    };
    let m = case.manifest("Deployment", "web", 30, app("web"), pod(1));
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "web");
    assert!(a.get("range").is_none() && a.get("boundBy").is_none(), "{a}");
    // c2 holds the hostname minimum at 1 at most, so each node takes 2 at
    // most; zone c (3) then holds a and b to 4: 11 in every order. Each
    // constraint alone says more (zone 6 + 6 + 5 = 17, hostname 13: what
    // podcount said before, as "at most 13").
    let k = a["more"].as_u64().unwrap();
    assert_eq!(k, 11, "{a}");
    // The gate agrees with the answer on both sides.
    let path = std::env::temp_dir().join(format!("{}-web-zone-host.yaml", case.ns));
    std::fs::write(&path, serde_yaml::to_string(&m).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p, "--min-fits", &k.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p, "--min-fits", &(k + 1).to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    check(&case, m, &doc, "web").await;
    // minDomains 4 over 3 zones: the zone minimum stays 0, so one a zone,
    // with the hostname spread on top.
    let m = case.manifest("Deployment", "md", 30, app("md"), {
        let mut p = pod(4);
        p["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"] = app("md");
        p["topologySpreadConstraints"][1]["labelSelector"]["matchLabels"] = app("md");
        p
    });
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "md");
    assert_eq!(a["more"], 3, "one a zone: {a}");
    check(&case, m, &doc, "md").await;
}

/// Affinity to its own kind with none placed: the scheduler's scores pick
/// the first pod's zone and the rest follow. The answer is the range over
/// the zones, and the gate passes only at or below its least.
#[tokio::test]
async fn self_affinity_with_none_placed_is_a_range_over_the_first_zone() {
    let _serial = support::serial().await;
    // Replicas of 250m: zone a 4 + 4, zone b 4.
    let case =
        Case::new("self-affinity", vec![n("a1", "a", "1", 110), n("a2", "a", "1", 110), n("b1", "b", "1", 110)]).await;
    let pod = json!({"affinity": affinity(ZONE, app("web")),
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "250m"}}}]});
    let m = case.manifest("Deployment", "web", 12, app("web"), pod);
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "web");
    assert_eq!(
        (a["exact"].clone(), a["more"].clone(), a["range"].clone()),
        (json!(false), json!(8), json!([4, 8])),
        "{a}"
    );
    let path = std::env::temp_dir().join(format!("{}-web-self-affinity.yaml", case.ns));
    std::fs::write(&path, serde_yaml::to_string(&m).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let codes: Vec<Option<i32>> = ["4", "5", "8", "9"]
        .iter()
        .map(|n| podcount(&case.c.kubeconfig, &["--fits-pod", p, "--min-fits", n]).status.code())
        .collect();
    assert_eq!(codes, [Some(0), Some(4), Some(4), Some(1)]);
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("fits web: between 4 and 8 more"), "{text}");
    assert!(text.contains("  12 asked: between 4 and 8 land, by the order; at least 4 would stay Pending"), "{text}");
    let bound = case.run(m, 12).await;
    let placed: u64 = bound.values().sum();
    assert!(placed == 4 || placed == 8, "one zone's worth: {bound:?}");
}

/// `--fits-release`: workloads placed together, in whatever order they
/// arrive. One that always lands (room to spare), one that never does
/// (one a node, more replicas than nodes), and one where the order decides
/// (anti-affinity between two workloads): applied in both orders, each
/// outcome within the predicted range.
#[tokio::test]
async fn a_release_that_lands_one_that_strands_and_one_the_order_decides() {
    let _serial = support::serial().await;
    let case = Case::new(
        "release",
        vec![n("a1", "a", "2", 110), n("a2", "a", "2", 110), n("b1", "b", "2", 110), n("b2", "b", "2", 110)],
    )
    .await;
    let write = |name: &str, manifests: &[Value]| {
        let text: Vec<String> = manifests.iter().map(|m| serde_yaml::to_string(m).unwrap()).collect();
        let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc", "namespace": case.ns},
            "spec": {"ports": [{"port": 80}]}});
        let path = std::env::temp_dir().join(format!("{}-{name}.yaml", case.ns));
        // As helm template writes it: a comment a document, a Service among them.
        let docs: Vec<String> = text.iter().map(|t| format!("# Source: chart/templates/x.yaml\n{t}")).collect();
        std::fs::write(&path, format!("{}---\n{}", docs.join("---\n"), serde_yaml::to_string(&service).unwrap()))
            .unwrap();
        path
    };
    let cpu = |m: &str| json!([{"name": "app", "image": "a", "resources": {"requests": {"cpu": m}}}]);
    let id = |name: &str| format!("Deployment/{}/{name}", case.ns);

    // Lands: 3 × 500m and 2 × 1 on 8 cores, nothing else between them.
    let web = case.manifest("Deployment", "web", 3, app("web"), json!({"containers": cpu("500m")}));
    let api = case.manifest("Deployment", "api", 2, app("api"), json!({"containers": cpu("1")}));
    let path = write("lands", &[web.clone(), api.clone()]);
    let out = podcount(&case.c.kubeconfig, &["--fits-release", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("--fits-release: skipped 1 Service"), "{}", stderr(&out));
    let r = json_of(&out)["release"].clone();
    assert_eq!((r["verdict"].clone(), r["exact"].clone()), (json!("lands"), json!(true)), "{r}");
    assert_eq!(r["workloads"][id("web")]["lands"], 3, "{r}");
    assert_eq!(r["workloads"][id("api")]["pending"], 0, "{r}");
    let bound = case.run(api, 2).await;
    assert_eq!(bound.values().sum::<u64>(), 2);
    let bound = case.run(web, 3).await;
    assert_eq!(bound.values().sum::<u64>(), 3);

    // Strands: 6 replicas one a node on 4 nodes, in every order.
    let db = case.manifest("Deployment", "db", 6, app("db"), json!({"affinity": anti(HOSTNAME, app("db"))}));
    let path = write("strands", std::slice::from_ref(&db));
    let out = podcount(&case.c.kubeconfig, &["--fits-release", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("release: strands replicas in every order"), "{text}");
    assert!(text.contains(&format!("  {}: 6 asked, 4 land, 2 stay Pending (4 more fit alone)", id("db"))), "{text}");
    let bound = case.run(db, 6).await;
    assert_eq!(bound.values().sum::<u64>(), 4, "{bound:?}");

    // Depends: front one a node; back keeps off nodes with a front pod.
    let fresh =
        Case::new("release-order", vec![n("a1", "a", "2", 110), n("a2", "a", "2", 110), n("b1", "b", "2", 110)]).await;
    let front =
        fresh.manifest("Deployment", "front", 3, app("front"), json!({"affinity": anti(HOSTNAME, app("front"))}));
    let back = fresh.manifest("Deployment", "back", 2, app("back"), json!({"affinity": anti(HOSTNAME, app("front"))}));
    let path = write("depends", &[front.clone(), back.clone()]);
    let out = podcount(&fresh.c.kubeconfig, &["--fits-release", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("the order decides"), "{}", stderr(&out));
    let r = serde_json::from_slice::<Value>(&out.stdout).unwrap()["release"].clone();
    let (front_id, back_id) = (format!("Deployment/{}/front", fresh.ns), format!("Deployment/{}/back", fresh.ns));
    assert_eq!(r["verdict"], "depends", "{r}");
    let range = |w: &str| -> (u64, u64) {
        match &r["workloads"][w]["lands"] {
            Value::Array(a) => (a[0].as_u64().unwrap(), a[1].as_u64().unwrap()),
            v => (v.as_u64().unwrap(), v.as_u64().unwrap()),
        }
    };
    let (front_range, back_range) = (range(&front_id), range(&back_id));
    assert_eq!((front_range.1, back_range.1), (3, 2), "{r}");
    // Front first: 3 front, then 0 back (every node holds a front pod).
    let f = fresh.run(front.clone(), 3).await.values().sum::<u64>();
    let b = fresh.run(back.clone(), 2).await.values().sum::<u64>();
    assert_eq!((f, b), (3, 0));
    for (got, (least, most)) in [(f, front_range), (b, back_range)] {
        assert!(least <= got && got <= most, "{got} outside {least}..={most}: {r}");
    }
    // Back first, on fresh nodes: 2 back, then 1 front.
    let other =
        Case::new("release-back", vec![n("a1", "a", "2", 110), n("a2", "a", "2", 110), n("b1", "b", "2", 110)]).await;
    let front =
        other.manifest("Deployment", "front", 3, app("front"), json!({"affinity": anti(HOSTNAME, app("front"))}));
    let back = other.manifest("Deployment", "back", 2, app("back"), json!({"affinity": anti(HOSTNAME, app("front"))}));
    let b = other.run(back, 2).await.values().sum::<u64>();
    let f = other.run(front, 3).await.values().sum::<u64>();
    assert_eq!((f, b), (1, 2));
    for (got, (least, most)) in [(f, front_range), (b, back_range)] {
        assert!(least <= got && got <= most, "{got} outside {least}..={most}: {r}");
    }
}

#[tokio::test]
async fn spread_and_anti_affinity_together() {
    let _serial = support::serial().await;
    // a: 3 nodes, b: 2, c: 1; one a node; zones within 1 of each other:
    // L = 1, so a 2, b 2, c 1.
    let case = Case::new(
        "spread-anti",
        vec![
            n("a1", "a", "4", 110),
            n("a2", "a", "4", 110),
            n("a3", "a", "4", 110),
            n("b1", "b", "4", 110),
            n("b2", "b", "4", 110),
            n("c1", "c", "4", 110),
        ],
    )
    .await;
    let spread = json!([{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": app("web")}}]);
    let pod = json!({"topologySpreadConstraints": spread, "affinity": anti(HOSTNAME, app("web"))});
    let m = case.manifest("Deployment", "web", 20, app("web"), pod);
    let doc = case.predict(&m, &[]);
    assert_eq!(answer(&doc, "web")["byDomain"], json!({"a": 2, "b": 2, "c": 1}), "{doc}");
    let bound = check(&case, m, &doc, "web").await;
    assert!(bound.values().all(|k| *k == 1), "one a node: {bound:?}");
}

#[tokio::test]
async fn host_ports_taken_and_host_network() {
    let _serial = support::serial().await;
    let case = Case::new("ports", vec![n("a1", "a", "4", 110), n("a2", "a", "4", 110), n("a3", "a", "4", 110)]).await;
    // Port 9100 is in use on a1 (a hostNetwork exporter: its container port).
    case.placed(
        "exporter",
        "a1",
        app("exporter"),
        json!({"hostNetwork": true,
        "containers": [{"name": "e", "image": "e", "ports": [{"containerPort": 9100, "hostPort": 9100}]}]}),
    )
    .await;
    let pod =
        json!({"hostNetwork": true, "containers": [{"name": "app", "image": "a", "ports": [{"containerPort": 9100}]}]});
    let m = case.manifest("Deployment", "agent", 10, app("agent"), pod);
    let doc = case.predict(&m, &[]);
    let want: BTreeMap<String, u64> = [(case.node("a2"), 1), (case.node("a3"), 1)].into();
    assert_eq!(per_node(&doc, "agent"), want, "{doc}");
    assert_eq!(nodes_of(&doc)[&case.node("a1")]["fitsLimitedBy"]["agent"], "host port 9100/TCP in use");
    let bound = check(&case, m, &doc, "agent").await;
    assert_eq!(bound, want);
}

#[tokio::test]
async fn node_name_and_a_daemon_set_over_cordoned_tainted_and_selected_nodes() {
    let _serial = support::serial().await;
    let mut cordoned = n("cordoned", "a", "4", 110);
    cordoned.spec = json!({"unschedulable": true});
    let mut tainted = n("tainted", "a", "4", 110);
    tainted.spec = json!({"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]});
    let mut not_ready = n("notready", "b", "4", 110);
    not_ready.spec = json!({"taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]});
    let full = n("full", "b", "50m", 110);
    let case = Case::new("daemonset", vec![n("plain", "a", "4", 110), cordoned, tainted, not_ready, full]).await;
    // nodeName: only that node, as many as it holds.
    let pod = json!({"nodeName": case.node("plain"),
        "containers": [{"name": "app", "image": "a", "resources": {"requests": {"cpu": "1"}}}]});
    let m = case.manifest("Deployment", "pinned", 3, app("pinned"), pod);
    let doc = case.predict(&m, &[]);
    assert_eq!(per_node(&doc, "pinned"), [(case.node("plain"), 4)].into());
    assert_eq!(nodes_of(&doc)[&case.node("cordoned")]["fitsLimitedBy"]["pinned"], "cordoned");
    assert_eq!(nodes_of(&doc)[&case.node("tainted")]["fitsLimitedBy"]["pinned"], "node-name");
    // A DaemonSet: its controller tolerates the cordon, not the taint nor
    // NotReady's NoSchedule; the full node leaves its pod Pending.
    let m = case.manifest("DaemonSet", "agent", 0, app("agent"), json!({}));
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "agent");
    assert_eq!(
        (a["daemonSet"].as_bool(), a["more"].as_u64(), a["exact"].as_bool()),
        (Some(true), Some(2), Some(true)),
        "{a}"
    );
    let want: BTreeMap<String, u64> = [(case.node("plain"), 1), (case.node("cordoned"), 1)].into();
    assert_eq!(per_node(&doc, "agent"), want);
    let bound = case.run(m, 0).await;
    assert_eq!(bound, want, "the DaemonSet controller and the scheduler");
    // Words for a person.
    let path = std::env::temp_dir().join(format!("{}-agent-table.yaml", case.ns));
    std::fs::write(
        &path,
        serde_yaml::to_string(&case.manifest("DaemonSet", "agent", 0, app("agent"), json!({}))).unwrap(),
    )
    .unwrap();
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", path.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("fits agent: runs on 2 of "), "{text}");
}

#[tokio::test]
async fn what_is_not_modelled_is_a_bound_and_min_fits_says_so() {
    let _serial = support::serial().await;
    let case = Case::new("bound", vec![n("a1", "a", "4", 110), n("b1", "b", "4", 110)]).await;
    // Two spread constraints at once: the least of each alone, a bound.
    let spread = json!([
        {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": app("web")}},
        {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": app("web")}}]);
    let pod = json!({"topologySpreadConstraints": spread,
        "volumes": [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}}}]});
    let m = case.manifest("Deployment", "web", 10, app("web"), pod);
    let doc = case.predict(&m, &[]);
    let a = answer(&doc, "web");
    assert_eq!(a["exact"], false, "{a}");
    let bound_by: Vec<&str> = a["boundBy"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(bound_by.iter().any(|b| b.starts_with("generic ephemeral volumes")), "{bound_by:?}");
    // The two spreads are replayed (no order reason); the volume keeps it a
    // bound, so its range starts at 0.
    assert!(a.get("order").is_none(), "{a}");
    let more = a["more"].as_u64().unwrap();
    assert_eq!(a["range"], json!([0, more]), "{a}");
    let path = std::env::temp_dir().join(format!("{}-web-bound.yaml", case.ns));
    std::fs::write(&path, serde_yaml::to_string(&m).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    // At or above the bound's N: 4 (not exact), one line naming why.
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p, "--min-fits", "1"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("not exact: generic ephemeral volumes"), "{}", stderr(&out));
    // Below the bound: too few for sure, 1.
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p, "--min-fits", &(more + 1).to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The table says it is a bound.
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("fits web: at most {more} more"))
            && text.contains("  an upper bound: generic ephemeral volumes"),
        "{text}"
    );
    // Bad input: exit 2 with one line.
    let bad = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "a"}],
        "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {}, "topologyKey": ""}]}}}});
    std::fs::write(&path, serde_yaml::to_string(&bad).unwrap()).unwrap();
    let out = podcount(&case.c.kubeconfig, &["--fits-pod", p]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("topologyKey is empty"), "{}", stderr(&out));
}

/// A ReadWriteOncePod claim bound (by the PersistentVolume binder) to a
/// volume with node affinity: one replica in the cluster, on a node the
/// volume allows; none once a pod mounts it; none for a claim that is not
/// there.
#[tokio::test]
async fn a_read_write_once_pod_claim_and_a_missing_one() {
    let _serial = support::serial().await;
    let case = Case::new("rwop", vec![n("a1", "a", "4", 110), n("a2", "a", "4", 110), n("b1", "b", "4", 110)]).await;
    let class = format!("{}-manual", case.ns);
    let pv = json!({"metadata": {"name": format!("{}-pv", case.ns)}, "spec": {
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOncePod"], "storageClassName": class,
        "hostPath": {"path": "/tmp/podcount-rwop"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": HOSTNAME, "operator": "In", "values": [case.node("a2"), case.node("b1")]}]}]}}}});
    let pvs: Api<PersistentVolume> = Api::all(case.client.clone());
    pvs.create(&PostParams::default(), &serde_json::from_value(pv).unwrap()).await.unwrap();
    let pvc = json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOncePod"], "storageClassName": class,
        "resources": {"requests": {"storage": "1Gi"}}}});
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(case.client.clone(), &case.ns);
    pvcs.create(&PostParams::default(), &serde_json::from_value(pvc).unwrap()).await.unwrap();
    let start = Instant::now();
    while pvcs.get("data").await.unwrap().status.and_then(|s| s.phase).as_deref() != Some("Bound") {
        assert!(start.elapsed() < Duration::from_secs(60), "the PersistentVolume binder did not bind the claim");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let pod = json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]});
    let m = case.manifest("Deployment", "db", 3, app("db"), pod.clone());
    let doc = case.predict(&m, &[]);
    let want: BTreeMap<String, u64> = [(case.node("a2"), 1), (case.node("b1"), 1)].into();
    assert_eq!(per_node(&doc, "db"), want, "each node the volume allows could take the one: {doc}");
    assert_eq!(nodes_of(&doc)[&case.node("a1")]["fitsLimitedBy"]["db"], "volume node affinity data");
    let bound = check(&case, m, &doc, "db").await;
    assert_eq!(bound.values().sum::<u64>(), 1);
    assert!(want.contains_key(bound.keys().next().unwrap()), "{bound:?}");
    // Now a pod mounts it: none more.
    let m = case.manifest("Deployment", "db2", 3, app("db2"), pod);
    let doc = case.predict(&m, &[]);
    assert_eq!(answer(&doc, "db2")["more"], 0, "{doc}");
    assert_eq!(nodes_of(&doc)[&case.node("b1")]["fitsLimitedBy"]["db2"], "claim data in use (ReadWriteOncePod)");
    // A claim that is not there: none, exactly.
    let pod = json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "nope"}}]});
    let m = case.manifest("Deployment", "lost", 3, app("lost"), pod);
    let doc = case.predict(&m, &[]);
    assert_eq!(nodes_of(&doc)[&case.node("a1")]["fitsLimitedBy"]["lost"], "claim nope not found");
    check(&case, m, &doc, "lost").await;
}

/// `watch --fits-pod` keeps the scheduler's answer live: placed pods that
/// match the anti-affinity and spread come and go, and the served answer
/// follows, equal to a fresh count's each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_keeps_the_answer_live_as_matching_pods_come_and_go() {
    let _serial = support::serial().await;
    let case = Case::new(
        "watch",
        vec![n("a1", "a", "4", 110), n("a2", "a", "4", 110), n("b1", "b", "4", 110), n("c1", "c", "4", 110)],
    )
    .await;
    let spread = json!([{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": app("web")}}]);
    let m = case.manifest(
        "Deployment",
        "web",
        10,
        app("web"),
        json!({"topologySpreadConstraints": spread,
        "affinity": anti(HOSTNAME, app("web"))}),
    );
    let path = std::env::temp_dir().join(format!("{}-watch.yaml", case.ns));
    std::fs::write(&path, serde_yaml::to_string(&m).unwrap()).unwrap();
    let p = path.to_str().unwrap().to_string();
    let w = Watcher::start(&case.c.kubeconfig, &["--fits-pod", &p, "--listen", "127.0.0.1:0"]);
    let (w, url) = blocking(move || {
        let url = w.listen_url();
        w.synced();
        (w, url)
    })
    .await;
    // The served answer, once it equals a fresh count's (the watch may lag a
    // change by an event or two).
    let agree = |want_more: u64| {
        let (url, kc, p) = (url.clone(), case.c.kubeconfig.clone(), p.clone());
        async move {
            blocking(move || {
                let start = Instant::now();
                loop {
                    let (status, body) = support::http("GET", &url, "/v1/podcount");
                    let served: Value = if status == 200 { serde_json::from_str(&body).unwrap() } else { json!({}) };
                    let fresh = json_of(&podcount(&kc, &["--fits-pod", &p, "-o", "json"]));
                    let (s, f) = (&served["fits"]["web"], &fresh["fits"]["web"]);
                    if s == f && f["more"] == want_more {
                        assert_eq!(s["exact"], true, "{s}");
                        return s.clone();
                    }
                    assert!(start.elapsed() < Duration::from_secs(20), "served {s}, fresh {f}, want {want_more}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
            .await
        }
    };
    // One a node over a 2/1/1 zone split: L = 1, so a 2, b 1, c 1.
    agree(4).await;
    // A replica already on a1: a1 is closed, a takes 1 more, so does b and c.
    case.placed("old-0", "a1", app("web"), json!({})).await;
    let s = agree(3).await;
    assert_eq!(s["byDomain"], json!({"a": 1, "b": 1, "c": 1}), "{s}");
    // One on b1 too: b is full, so a and c stay within one of it: 1 each.
    case.placed("old-1", "b1", app("web"), json!({})).await;
    agree(2).await;
    // And they go: back to 4.
    let pods: Api<Pod> = Api::namespaced(case.client.clone(), &case.ns);
    for name in ["old-0", "old-1"] {
        pods.delete(name, &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.unwrap();
    }
    agree(4).await;
    drop(w);
}
