//! The bed's kubelets (kwok, `tests/cluster/up --kubelets`) do what kubelets
//! do, so that later tests can trust them: pods run with pod IPs, graceful
//! deletes complete, `kubectl drain` finishes and a PodDisruptionBudget
//! refuses with 429, a node whose heartbeats stop goes NotReady and is
//! tainted unreachable, and `kubectl port-forward` reaches a loopback target.
//! Then `count --from service/NAMESPACE/NAME` through a real port-forward to
//! a `watch --listen`. Each test has nodes of its own (labelled with its
//! namespace), so that a drain or a dead node touches no other test.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::{Value, json};
use support::watcher::Watcher;
use support::{Cluster, Options, blocking};

const BED: Options = Options {
    nodes: 0,
    pods: 0,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: true,
    fast_seed: false,
    controllers: true,
    kubelets: true,
};

/// The grace period `up` gives the node lifecycle controller (8 s), and
/// what the controller and kwok add to it (a second each) with room.
const NOT_READY_WITHIN: Duration = Duration::from_secs(30);

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

fn kubectl(args: &[&str]) -> std::process::Output {
    Command::new("kubectl").args(args).env("KUBECONFIG", &cluster().kubeconfig).output().expect("run kubectl")
}

fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `n` nodes kwok runs, named and labelled after `ns`, in zones a, b, ...
/// by turns; Ready once kwok has taken them.
async fn kwok_nodes(client: &kube::Client, ns: &str, n: usize, zones: usize) -> Vec<String> {
    let api: Api<Node> = Api::all(client.clone());
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{ns}-k{i}");
        let zone = format!("zone-{}", (b'a' + (i % zones) as u8) as char);
        let node = json!({
            "metadata": {"name": name, "labels": {
                "podcount.test/kubelet": "kwok", "podcount.test/group": ns,
                "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "20"},
                       "capacity": {"cpu": "4", "memory": "8Gi", "pods": "20"}}
        });
        api.create(&PostParams::default(), &serde_json::from_value(node).unwrap()).await.expect("create node");
        names.push(name);
    }
    for name in &names {
        wait_for(Duration::from_secs(30), &format!("node {name} Ready"), || async {
            ready(&api.get(name).await.unwrap()).then_some(())
        })
        .await;
    }
    names
}

fn ready(node: &Node) -> bool {
    condition(node) == "True"
}

fn condition(node: &Node) -> String {
    let conds = node.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    conds.into_iter().find(|c| c.type_ == "Ready").map(|c| c.status).unwrap_or_default()
}

/// Polls `f` every 200 ms until it gives a value; fails the test after
/// `limit`, saying what it waited for.
async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A Deployment the bed's scheduler places on this test's nodes.
async fn deployment(client: &kube::Client, ns: &str, name: &str, replicas: u32, extra: Value) {
    let pod = pod_spec(ns, extra);
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}
    });
    let api: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), ns);
    api.create(&PostParams::default(), &serde_json::from_value(d).unwrap()).await.expect("create deployment");
}

/// The pods of `app` once `n` of them run (phase Running, a pod IP, bound).
async fn running(client: &kube::Client, ns: &str, app: &str, n: usize) -> Vec<Pod> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    wait_for(Duration::from_secs(60), &format!("{n} pods of {app} Running"), || async {
        let pods = api.list(&ListParams::default().labels(&format!("app={app}"))).await.unwrap().items;
        let up: Vec<Pod> = pods
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                let s = p.status.as_ref();
                s.and_then(|s| s.phase.as_deref()) == Some("Running")
                    && s.and_then(|s| s.pod_ip.as_deref()).is_some_and(|ip| !ip.is_empty())
            })
            .collect();
        (up.len() == n).then_some(up)
    })
    .await
}

fn node_of(p: &Pod) -> String {
    p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployments_pods_run_with_pod_ips_and_podcount_counts_them() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("run").await;
    let nodes = kwok_nodes(&client, &ns, 2, 1).await;
    deployment(&client, &ns, "web", 3, json!({})).await;
    let pods = running(&client, &ns, "web", 3).await;
    let mut ips: Vec<&str> =
        pods.iter().map(|p| p.status.as_ref().unwrap().pod_ip.as_deref().unwrap()).collect::<Vec<_>>();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 3, "each pod its own IP: {ips:?}");
    assert!(pods.iter().all(|p| nodes.contains(&node_of(p))));
    let want = support::kubectl_counts(&c.kubeconfig, &ns);
    let out = support::podcount(&c.kubeconfig, &["-n", &ns, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let got: std::collections::BTreeMap<String, u64> = support::nodes_of(&support::json_of(&out))
        .into_iter()
        .map(|(n, v)| (n, v["pods"].as_u64().unwrap()))
        .filter(|(_, p)| *p > 0)
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.values().sum::<u64>(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_delete_completes() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("delete").await;
    kwok_nodes(&client, &ns, 1, 1).await;
    deployment(&client, &ns, "web", 1, json!({"terminationGracePeriodSeconds": 30})).await;
    let pod = running(&client, &ns, "web", 1).await.remove(0);
    let name = pod.metadata.name.unwrap();
    // kubectl waits for the object to go: the kubelet must finish the delete.
    let started = Instant::now();
    let ns2 = ns.clone();
    let out = blocking(move || kubectl(&["delete", "pod", "-n", &ns2, &name, "--wait", "--timeout", "25s"])).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(25));
    // The Deployment replaces it, and the new one runs.
    running(&client, &ns, "web", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_completes_and_a_budget_that_allows_none_answers_429() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("drain").await;
    let nodes = kwok_nodes(&client, &ns, 2, 1).await;
    deployment(&client, &ns, "web", 2, json!({})).await;
    let pods = running(&client, &ns, "web", 2).await;
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "web"}}}});
    let pdbs: Api<k8s_openapi::api::policy::v1::PodDisruptionBudget> = Api::namespaced(client.clone(), &ns);
    pdbs.create(&PostParams::default(), &serde_json::from_value(pdb).unwrap()).await.unwrap();
    // The disruption controller says what the budget allows.
    wait_for(Duration::from_secs(30), "the budget's status", || async {
        let s = pdbs.get("web").await.unwrap().status?;
        (s.observed_generation == Some(1) && s.expected_pods == Some(2) && s.disruptions_allowed == Some(0))
            .then_some(())
    })
    .await;
    let victim = pods[0].metadata.name.clone().unwrap();
    // One eviction, as kubectl sends it (kube's default client would
    // retry a 429 for minutes).
    let eviction =
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": victim, "namespace": ns}});
    let path = c.dir.join(format!("eviction-{ns}.json"));
    std::fs::write(&path, eviction.to_string()).unwrap();
    let raw = format!("/api/v1/namespaces/{ns}/pods/{victim}/eviction");
    let (raw2, file) = (raw.clone(), path.display().to_string());
    let out = blocking(move || kubectl(&["create", "--raw", &raw2, "-f", &file, "--request-timeout", "20s"])).await;
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "the eviction was not refused");
    assert!(said.contains("TooManyRequests") && said.contains("disruption budget"), "{said}");
    pdbs.delete("web", &Default::default()).await.unwrap();
    let node = node_of(&pods[0]);
    let drained = node.clone();
    let out = blocking(move || {
        kubectl(&["drain", &drained, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout", "60s"])
    })
    .await;
    assert!(out.status.success(), "kubectl drain: {}", String::from_utf8_lossy(&out.stderr));
    let n = Api::<Node>::all(client.clone()).get(&node).await.unwrap();
    assert_eq!(n.spec.and_then(|s| s.unschedulable), Some(true), "cordoned");
    let after = running(&client, &ns, "web", 2).await;
    assert!(after.iter().all(|p| node_of(p) != node), "nothing left on the drained node");
    let other = nodes.iter().find(|n| **n != node).unwrap();
    assert!(after.iter().all(|p| &node_of(p) == other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_kubelet_stops_goes_not_ready_is_tainted_and_its_pods_are_evicted_but_stay() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("dead").await;
    let nodes = kwok_nodes(&client, &ns, 2, 2).await;
    // Evicted 2 s after the unreachable taint (the admission default is 300 s).
    let tolerate = json!({"tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}]});
    deployment(&client, &ns, "web", 4, tolerate).await;
    let pods = running(&client, &ns, "web", 4).await;
    let dead = nodes[0].clone();
    let on_dead: Vec<String> =
        pods.iter().filter(|p| node_of(p) == dead).map(|p| p.metadata.name.clone().unwrap()).collect();
    assert!(!on_dead.is_empty(), "the scheduler spread them: {:?}", pods.iter().map(node_of).collect::<Vec<_>>());
    let dir = c.dir.display().to_string();
    let stop = Command::new(support::repo_path("tests/cluster/kubelet"))
        .args(["--dir", &dir, "stop", &dead])
        .status()
        .unwrap();
    assert!(stop.success());
    let api: Api<Node> = Api::all(client.clone());
    let started = Instant::now();
    let taints = wait_for(NOT_READY_WITHIN, "NotReady and tainted unreachable", || async {
        let n = api.get(&dead).await.unwrap();
        let taints: Vec<String> = n
            .spec
            .and_then(|s| s.taints)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.key == "node.kubernetes.io/unreachable")
            .map(|t| t.effect)
            .collect();
        (condition(&api.get(&dead).await.unwrap()) == "Unknown" && taints.len() == 2).then_some(taints)
    })
    .await;
    eprintln!("NotReady and tainted {:.1} s after its kubelet stopped", started.elapsed().as_secs_f64());
    assert!(taints.contains(&"NoSchedule".to_string()) && taints.contains(&"NoExecute".to_string()));
    assert!(ready(&api.get(&nodes[1]).await.unwrap()), "the other node keeps its heartbeats");
    // Taint eviction deletes them; no kubelet finishes the delete, so they
    // stay, terminating, on the dead node; the ReplicaSet replaces them on
    // the live one.
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    for name in &on_dead {
        wait_for(Duration::from_secs(20), &format!("{name} evicted"), || async {
            pod_api.get(name).await.unwrap().metadata.deletion_timestamp.map(|_| ())
        })
        .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for name in &on_dead {
        let p = pod_api.get(name).await.expect("still there, terminating");
        assert_eq!(node_of(&p), dead);
    }
    let replaced = running(&client, &ns, "web", 4).await;
    assert!(replaced.iter().all(|p| node_of(p) == nodes[1]), "replacements on the live node");
    // Its kubelet back: Ready again, and the deletes complete.
    let start = Command::new(support::repo_path("tests/cluster/kubelet"))
        .args(["--dir", &dir, "start", &dead])
        .status()
        .unwrap();
    assert!(start.success());
    wait_for(NOT_READY_WITHIN, "Ready again", || async { ready(&api.get(&dead).await.unwrap()).then_some(()) }).await;
    for name in &on_dead {
        wait_for(Duration::from_secs(30), &format!("{name} gone"), || async {
            pod_api.get_opt(name).await.unwrap().is_none().then_some(())
        })
        .await;
    }
}

/// A loopback server that answers each connection's first line with
/// `echo: LINE`.
fn echo_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut r = BufReader::new(conn.try_clone().unwrap());
                if r.read_line(&mut line).is_ok() {
                    let _ = (&conn).write_all(format!("echo: {line}").as_bytes());
                }
            });
        }
    });
    port
}

/// A PortForward (kwok's kind) that sends `port` of pod `name` to a
/// loopback port.
fn forward_pod(ns: &str, name: &str, port: u16, to: u16) {
    let doc = json!({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "PortForward",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"forwards": [{"ports": [port], "target": {"address": "127.0.0.1", "port": to}}]}});
    let path = cluster().dir.join(format!("forward-{ns}-{name}.json"));
    std::fs::write(&path, doc.to_string()).unwrap();
    kubectl_ok(&["apply", "-f", path.to_str().unwrap()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_port_forward_reaches_a_loopback_target() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("forward").await;
    kwok_nodes(&client, &ns, 1, 1).await;
    deployment(&client, &ns, "web", 1, json!({})).await;
    let pod = running(&client, &ns, "web", 1).await.remove(0).metadata.name.unwrap();
    let target = echo_server();
    forward_pod(&ns, &pod, 8080, target);
    let (ns2, kc) = (ns.clone(), c.kubeconfig.clone());
    let said = blocking(move || {
        // kwok reads PortForward objects through a watch: ask until it has.
        for _ in 0..50 {
            let mut pf = Command::new("kubectl")
                .args(["port-forward", "-n", &ns2, &format!("pod/{pod}"), ":8080", "--address", "127.0.0.1"])
                .env("KUBECONFIG", &kc)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Kept open: kubectl says "Handling connection" on it, and dies
            // of a closed pipe.
            let mut said = BufReader::new(pf.stdout.take().unwrap());
            let mut first = String::new();
            said.read_line(&mut first).unwrap();
            // "Forwarding from 127.0.0.1:PORT -> 8080"
            let local: u16 = first.split(':').nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
            let mut s = std::net::TcpStream::connect(("127.0.0.1", local)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"hello\n").unwrap();
            let mut got = String::new();
            let _ = s.read_to_string(&mut got);
            let _ = pf.kill();
            let _ = pf.wait();
            if !got.is_empty() {
                return got;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        String::new()
    })
    .await;
    assert_eq!(said, "echo: hello\n");
}

/// Binds ServiceAccount `who` of namespace `sa_ns` to a Role in `ns`, or
/// (None) to a ClusterRole cluster-wide.
async fn bind(client: &kube::Client, ns: Option<&str>, role: &str, sa_ns: &str, who: &str) {
    use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
    let kind = if ns.is_some() { "Role" } else { "ClusterRole" };
    let binding = json!({"metadata": {"name": format!("{sa_ns}-{who}-{role}"), "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": who, "namespace": sa_ns}]});
    let pp = PostParams::default();
    match ns {
        Some(ns) => {
            let b: RoleBinding = serde_json::from_value(binding).unwrap();
            Api::<RoleBinding>::namespaced(client.clone(), ns).create(&pp, &b).await.map(|_| ())
        }
        None => {
            let b: ClusterRoleBinding = serde_json::from_value(binding).unwrap();
            Api::<ClusterRoleBinding>::all(client.clone()).create(&pp, &b).await.map(|_| ())
        }
    }
    .unwrap_or_else(|e| panic!("bind {who} to {kind} {role}: {e}"));
}

/// `count --from service/NAMESPACE/NAME`: the Service's ready pod found from
/// its EndpointSlices, a port-forward opened through the apiserver (as
/// `kubectl port-forward` does) that kwok sends to a `watch --listen` on
/// loopback, TLS pinned and the user's token reviewed by the watch, with
/// exactly the RBAC deploy/base grants; the answer equals `count`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_from_a_service_is_answered_through_a_port_forward() {
    use k8s_openapi::api::rbac::v1::Role;
    let c = cluster();
    let client = c.client().await;
    // deploy/base's namespace and names, so its Role applies as written.
    let ns = "podcount";
    let _ = kubectl(&["create", "namespace", ns]);
    let group = c.namespace("from").await;
    kwok_nodes(&client, &group, 2, 1).await;
    let serving = json!({"containers": [{"name": "podcount", "image": "registry.k8s.io/pause:3.10",
        "ports": [{"name": "metrics", "containerPort": 9464}]}],
        "nodeSelector": {"podcount.test/group": group}, "schedulerName": "podcount-fits"});
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "podcount", "namespace": ns},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "kubectl-podcount"}},
                 "template": {"metadata": {"labels": {"app.kubernetes.io/name": "kubectl-podcount", "app": "podcount"}},
                              "spec": serving}}});
    Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &serde_json::from_value(d).unwrap())
        .await
        .unwrap();
    // The Service as deploy/base has it, and one that selects nothing.
    for (name, selector) in [("podcount", "kubectl-podcount"), ("nobody", "nothing-here")] {
        let svc = json!({"metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app.kubernetes.io/name": selector},
                     "ports": [{"name": "metrics", "port": 9464, "targetPort": "metrics"}]}});
        Api::<k8s_openapi::api::core::v1::Service>::namespaced(client.clone(), ns)
            .create(&PostParams::default(), &serde_json::from_value(svc).unwrap())
            .await
            .unwrap();
    }
    deployment(&client, &group, "web", 5, json!({})).await;
    running(&client, &group, "web", 5).await;
    let pod = running(&client, ns, "podcount", 1).await.remove(0).metadata.name.unwrap();

    // The watch, on loopback as deploy/base runs it (TLS, token review).
    let w = Watcher::start(&c.kubeconfig, &["-n", &group, "--listen", "127.0.0.1:0", "--listen-auth", "kubernetes"]);
    let port: u16 = w.listen_url().rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let w = blocking(move || {
        w.synced();
        w
    })
    .await;
    let pin =
        w.stderr().lines().find_map(|l| l.strip_prefix("serving certificate sha256 ").map(str::to_string)).unwrap();
    forward_pod(ns, &pod, 9464, port);

    // A user with deploy/base's grants: podcount-metrics-reader, and the
    // Role podcount-from in its namespace; and one without the Role.
    let base = std::fs::read_to_string(support::repo_path("deploy/base/podcount.yaml")).unwrap();
    let docs: Vec<Value> =
        base.split("\n---\n").filter_map(|d| serde_yaml::from_str::<Value>(d).ok()).filter(|d| d.is_object()).collect();
    let find = |kind: &str, name: &str| {
        docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name).cloned().expect(name)
    };
    let reader = find("ClusterRole", "podcount-metrics-reader");
    let _ = Api::<k8s_openapi::api::rbac::v1::ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &serde_json::from_value(reader).unwrap())
        .await;
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &serde_json::from_value(find("Role", "podcount-from")).unwrap())
        .await
        .unwrap();
    let user = support::service_account_token(&client, &group, "user").await;
    let stranger = support::service_account_token(&client, &group, "stranger").await;
    for who in ["user", "stranger"] {
        bind(&client, None, "podcount-metrics-reader", &group, who).await;
    }
    bind(&client, Some(ns), "podcount-from", &group, "user").await;
    let (user_kc, stranger_kc) = (c.token_kubeconfig("user", &user), c.token_kubeconfig("stranger", &stranger));
    // One who may find the pod but not forward to it.
    let mut finds = find("Role", "podcount-from");
    finds["metadata"]["name"] = json!("podcount-finds");
    finds["rules"].as_array_mut().unwrap().retain(|r| r["resources"][0] != "pods/portforward");
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &serde_json::from_value(finds).unwrap())
        .await
        .unwrap();
    bind(&client, Some(ns), "podcount-finds", &group, "finder").await;
    let finder = support::service_account_token(&client, &group, "finder").await;
    let finder_kc = c.token_kubeconfig("finder", &finder);

    // The Service's endpoint is ready once kwok runs the pod.
    wait_for(Duration::from_secs(30), "a ready endpoint", || async {
        let out = kubectl(&[
            "get",
            "endpointslices",
            "-n",
            ns,
            "-l",
            "kubernetes.io/service-name=podcount",
            "-o",
            "jsonpath={.items[*].endpoints[*].conditions.ready}",
        ]);
        String::from_utf8_lossy(&out.stdout).contains("true").then_some(())
    })
    .await;
    let want = support::podcount(&c.kubeconfig, &["-n", &group]);
    assert_eq!(want.status.code(), Some(0), "{}", support::stderr(&want));
    let from = |kc: &std::path::Path, what: &str| {
        support::podcount(kc, &["-n", &group, "--from", what, "--from-fingerprint", &pin])
    };
    // kwok reads PortForward objects through a watch: the first ask may
    // come before it has this one.
    let mut answered = None;
    for _ in 0..50 {
        let out = from(&user_kc, "service/podcount/podcount");
        if out.status.code() == Some(0) {
            answered = Some(out);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = answered.unwrap_or_else(|| {
        let out = from(&user_kc, "service/podcount/podcount");
        panic!("never answered: {}", support::stderr(&out))
    });
    assert_eq!(support::stderr(&out), "", "answered by the watch, nothing to say");
    // The same table as a List's, under the user's context name.
    let strip = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(strip(&out), strip(&want));
    for named in ["service/podcount/podcount:metrics", "svc/podcount/podcount:9464"] {
        let out = from(&user_kc, named);
        assert_eq!((out.status.code(), support::stderr(&out)), (Some(0), String::new()), "{named}");
        assert_eq!(strip(&out), strip(&want), "{named}");
    }
    // And against kubectl's own JSON, which shares none of our code.
    let out = support::podcount(
        &user_kc,
        &["-n", &group, "--from", "service/podcount/podcount", "--from-fingerprint", &pin, "-o", "json"],
    );
    assert_eq!((out.status.code(), support::stderr(&out)), (Some(0), String::new()));
    let served: std::collections::BTreeMap<String, u64> = support::nodes_of(&support::json_of(&out))
        .into_iter()
        .map(|(n, v)| (n, v["pods"].as_u64().unwrap()))
        .filter(|(_, p)| *p > 0)
        .collect();
    assert_eq!(served, support::kubectl_counts(&c.kubeconfig, &group));
    assert_eq!(served.values().sum::<u64>(), 5);
    // By pod: the admin may get pods there; the user may not.
    let out = from(&c.kubeconfig, &format!("pod/podcount/{pod}:metrics"));
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    assert_eq!(strip(&out), strip(&want));

    // No ready endpoint: exit 3, naming the Service.
    let out = from(&c.kubeconfig, "service/podcount/nobody");
    assert_eq!(out.status.code(), Some(3), "{}", support::stderr(&out));
    assert!(
        support::stderr(&out).contains("service/podcount/nobody has no ready endpoint"),
        "{}",
        support::stderr(&out)
    );
    // No grants to reach it: exit 3 with the verb it lacks.
    let out = from(&stranger_kc, "service/podcount/podcount");
    assert_eq!(out.status.code(), Some(3), "{}", support::stderr(&out));
    assert!(support::stderr(&out).contains("may not get services in namespace podcount"), "{}", support::stderr(&out));
    let out = from(&finder_kc, "service/podcount/podcount");
    assert_eq!(out.status.code(), Some(3), "{}", support::stderr(&out));
    assert!(
        support::stderr(&out).contains(&format!(
            "may not port-forward to pod podcount/{pod}; grant it `get` and `create` on `pods/portforward` in namespace podcount"
        )),
        "{}",
        support::stderr(&out)
    );
    // A Service port it does not have: a usage error listing its ports.
    let out = from(&user_kc, "service/podcount/podcount:80");
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    assert!(support::stderr(&out).contains("has no port 80 (it has 9464 (metrics))"), "{}", support::stderr(&out));
    drop(w);
}

/// Creates the objects (JSON) in `ns` with `kubectl apply`.
fn apply(ns: &str, objects: &[Value]) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
    let path = cluster().dir.join(format!("apply-{ns}-{}.json", objects.len()));
    std::fs::write(&path, list.to_string()).unwrap();
    kubectl_ok(&["apply", "-n", ns, "-f", path.to_str().unwrap()]);
}

/// A pod template's spec on this test's nodes, with `extra` merged in.
fn pod_spec(ns: &str, extra: Value) -> Value {
    let mut pod = json!({
        "schedulerName": "podcount-fits",
        "nodeSelector": {"podcount.test/group": ns},
        "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                        "resources": {"requests": {"cpu": "100m"}}}]
    });
    if let (Some(p), Some(e)) = (pod.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    pod
}

/// podcount's answer (any exit code) as JSON, with the exit code.
fn what_if(args: &[&str]) -> (i32, Value) {
    let out = support::podcount(&cluster().kubeconfig, args);
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("exit {code}: {e}\nstderr: {}", support::stderr(&out)));
    eprintln!("podcount {args:?}: exit {code}\n{}", support::stderr(&out));
    (code, doc)
}

/// The pods of `app` now: (bound and running, bound and terminating,
/// Pending with no node).
async fn states(client: &kube::Client, ns: &str, app: &str) -> (usize, usize, usize) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pods = api.list(&ListParams::default().labels(&format!("app={app}"))).await.unwrap().items;
    let terminating = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_some()).count();
    let live: Vec<&Pod> = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect();
    let bound = live.iter().filter(|p| !node_of(p).is_empty()).count();
    (bound, terminating, live.len() - bound)
}

/// `--drain NODE` against a real `kubectl drain` (kwok kubelets, the
/// disruption controller): a Deployment whose replacements land, one whose
/// anti-affinity leaves its replacement Pending, a PDB that allows none
/// (the drain blocks on it; its pod has emptyDir data), a bare pod (lost
/// with --force) and a DaemonSet's pod (stays).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_says_what_a_real_kubectl_drain_does() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("whatif-drain").await;
    let nodes = kwok_nodes(&client, &ns, 3, 1).await;
    let k0 = nodes[0].clone();
    let host = |n: &str| json!({"nodeSelector": {"podcount.test/group": ns, "kubernetes.io/hostname": n}});
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}});
    let deploy = |name: &str, replicas: u32, spec: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(&ns, spec)}}})
    };
    // api and cache start on k0 (pinned by a node affinity that also
    // admits k1 and k2, which are cordoned while they start).
    for n in &nodes[1..] {
        kubectl_ok(&["cordon", n]);
    }
    let any_of_ours = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "podcount.test/group", "operator": "In", "values": [ns]}]}]}}}});
    let mut api = deploy("api", 2, any_of_ours.clone());
    api["spec"]["template"]["spec"]["volumes"] = json!([{"name": "scratch", "emptyDir": {}}]);
    let db = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": pod_spec(&ns, any_of_ours.clone())}}});
    apply(&ns, &[api, deploy("cache", 1, any_of_ours), db]);
    running(&client, &ns, "api", 2).await;
    running(&client, &ns, "cache", 1).await;
    running(&client, &ns, "db", 1).await;
    for n in &nodes[1..] {
        kubectl_ok(&["uncordon", n]);
    }
    let mut lonely = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "lonely", "labels": {"app": "lonely"}}, "spec": pod_spec(&ns, host(&k0))});
    lonely["spec"]["nodeName"] = json!(k0);
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": pod_spec(&ns, json!({}))}}});
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "cache"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "cache"}}}});
    apply(&ns, &[deploy("web", 3, anti), lonely, ds, pdb]);
    running(&client, &ns, "web", 3).await;
    running(&client, &ns, "agent", 3).await;
    running(&client, &ns, "lonely", 1).await;
    let pdbs: Api<k8s_openapi::api::policy::v1::PodDisruptionBudget> = Api::namespaced(client.clone(), &ns);
    wait_for(Duration::from_secs(30), "the budget's status", || async {
        let s = pdbs.get("cache").await.unwrap().status?;
        (s.observed_generation == Some(1) && s.expected_pods == Some(1) && s.disruptions_allowed == Some(0))
            .then_some(())
    })
    .await;

    let (code, doc) = what_if(&["--drain", &k0, "-o", "json", "--default-scheduler-name", "podcount-fits"]);
    let w = &doc["whatIf"];
    let owner = |id: &str| w["owners"][id].clone();
    assert_eq!(code, 1, "{w:#}");
    assert_eq!(w["removal"], "drain");
    assert_eq!(w["nodes"], json!([k0]));
    let api_doc = owner(&format!("Deployment/{ns}/api"));
    assert_eq!(
        (api_doc["displaced"].as_u64(), api_doc["lands"].as_u64(), api_doc["pending"].as_u64()),
        (Some(2), Some(2), Some(0)),
        "{w:#}"
    );
    let web = owner(&format!("Deployment/{ns}/web"));
    assert_eq!(
        (web["displaced"].as_u64(), web["lands"].as_u64(), web["pending"].as_u64()),
        (Some(1), Some(0), Some(1)),
        "{w:#}"
    );
    // A drain evicts a StatefulSet's pod, and the StatefulSet makes it again.
    let db = owner(&format!("StatefulSet/{ns}/db"));
    assert_eq!(
        (db["displaced"].as_u64(), db["replaced"].as_u64(), db["lands"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{w:#}"
    );
    assert_eq!(w["lost"], json!([format!("{ns}/lonely")]));
    assert_eq!(w["blockedBy"], json!([{"pdb": format!("{ns}/cache"), "allowed": 0, "wanted": 1}]));
    let cache_pod = running(&client, &ns, "cache", 1).await.remove(0).metadata.name.unwrap();
    let mut api_pods: Vec<String> = running(&client, &ns, "api", 2)
        .await
        .into_iter()
        .map(|p| format!("{ns}/{}", p.metadata.name.unwrap()))
        .collect();
    api_pods.sort();
    assert_eq!(w["emptyDir"], json!(api_pods));
    assert!(owner(&format!("Deployment/{ns}/cache")).is_null(), "the budget holds cache's pod: {w:#}");
    assert!(owner(&format!("DaemonSet/{ns}/agent")).is_null(), "the DaemonSet's pod stays: {w:#}");
    assert_eq!(w["exact"], true);
    // The table shows the node after: cordoned, the DaemonSet's and the
    // blocked pods' places only.
    let row = doc["nodes"].as_array().unwrap().iter().find(|r| r["name"] == k0).unwrap().clone();
    assert_eq!(row["schedulable"], false, "{row:#}");

    // The real drain: it evicts what it can and times out on the budget.
    let k = k0.clone();
    let out = blocking(move || {
        kubectl(&["drain", &k, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout", "20s"])
    })
    .await;
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && said.contains("disruption budget"), "the drain should block on the PDB: {said}");
    let settled = wait_for(Duration::from_secs(60), "api and db made again and running, web's Pending", || async {
        let s =
            (states(&client, &ns, "api").await, states(&client, &ns, "web").await, states(&client, &ns, "db").await);
        (s == ((2, 0, 0), (2, 0, 1), (1, 0, 0))).then_some(s)
    })
    .await;
    eprintln!("after the drain: api {:?}, web {:?}, db {:?}", settled.0, settled.1, settled.2);
    let db_node = node_of(&running(&client, &ns, "db", 1).await[0]);
    assert_ne!(db_node, k0, "the StatefulSet's pod made again elsewhere");
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    assert!(pods.get_opt("lonely").await.unwrap().is_none(), "the bare pod is gone for good");
    let api_nodes: Vec<String> = running(&client, &ns, "api", 2).await.iter().map(node_of).collect();
    assert!(api_nodes.iter().all(|n| *n != k0), "{api_nodes:?}");
    assert_eq!(node_of(&pods.get(&cache_pod).await.unwrap()), k0, "the budget kept cache on the node");
    let on_k0: Vec<String> = pods
        .list(&ListParams::default().fields(&format!("spec.nodeName={k0}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.metadata.labels.unwrap_or_default().get("app").cloned().unwrap_or_default())
        .collect();
    let mut on_k0 = on_k0;
    on_k0.sort();
    assert_eq!(on_k0, ["agent", "cache"]);
    assert_eq!(row["pods"].as_u64(), Some(2), "podcount's row for the node after: {row:#}");
}

/// `--lose` a zone against real dead kubelets (the node lifecycle and
/// taint eviction controllers): a zone spread with DoNotSchedule strands
/// its replacements (the dead zone is still a domain), the same with
/// `nodeTaintsPolicy: Honor` lands them, a StatefulSet is not replaced, a
/// bare pod is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lose_a_zone_says_what_real_dead_kubelets_do() {
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("whatif-lose").await;
    let nodes = kwok_nodes(&client, &ns, 4, 2).await;
    // Evicted 2 s after the unreachable taint (the admission default is 300 s).
    let soon = json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}]);
    let spread = |honor: bool| {
        let mut s =
            json!({"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"});
        if honor {
            s["nodeTaintsPolicy"] = json!("Honor");
        }
        s
    };
    let deploy = |name: &str, extra: Value| {
        let mut e = extra;
        e["tolerations"] = soon.clone();
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec(&ns, e)}}})
    };
    let with_spread = |app: &str, honor: bool| {
        let mut s = spread(honor);
        s["labelSelector"] = json!({"matchLabels": {"app": app}});
        json!({"topologySpreadConstraints": [s]})
    };
    let zone_a = json!({"tolerations": soon, "nodeSelector": {"podcount.test/group": ns, "topology.kubernetes.io/zone": "zone-a"}});
    let db = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "podManagementPolicy": "Parallel",
                 "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": pod_spec(&ns, zone_a.clone())}}});
    let mut lonely = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "lonely", "labels": {"app": "lonely"}}, "spec": pod_spec(&ns, zone_a)});
    lonely["spec"]["nodeName"] = json!(nodes[0]);
    apply(
        &ns,
        &[deploy("strict", with_spread("strict", false)), deploy("honor", with_spread("honor", true)), db, lonely],
    );
    for app in ["strict", "honor"] {
        running(&client, &ns, app, 4).await;
    }
    running(&client, &ns, "db", 2).await;
    running(&client, &ns, "lonely", 1).await;

    let zone = format!("podcount.test/group={ns},topology.kubernetes.io/zone=zone-a");
    let (code, doc) = what_if(&["--lose", &zone, "-o", "json", "--default-scheduler-name", "podcount-fits"]);
    let w = &doc["whatIf"];
    assert_eq!(code, 1, "{w:#}");
    assert_eq!(w["nodes"], json!([nodes[0], nodes[2]]));
    let owner = |id: String| w["owners"][id].clone();
    let strict = owner(format!("Deployment/{ns}/strict"));
    assert_eq!(
        (strict["displaced"].as_u64(), strict["lands"].as_u64(), strict["pending"].as_u64()),
        (Some(2), Some(0), Some(2)),
        "{w:#}"
    );
    let honor = owner(format!("Deployment/{ns}/honor"));
    assert_eq!(
        (honor["displaced"].as_u64(), honor["lands"].as_u64(), honor["pending"].as_u64()),
        (Some(2), Some(2), Some(0)),
        "{w:#}"
    );
    let db = owner(format!("StatefulSet/{ns}/db"));
    assert_eq!(
        (db["displaced"].as_u64(), db["replaced"].as_u64(), db["notReplaced"].as_u64()),
        (Some(2), Some(0), Some(2)),
        "{w:#}"
    );
    assert_eq!(w["lost"], json!([format!("{ns}/lonely")]));
    assert_eq!(w["blockedBy"], json!([]));

    // The real loss: zone-a's kubelets stop.
    let dir = c.dir.display().to_string();
    for dead in [&nodes[0], &nodes[2]] {
        let stop = Command::new(support::repo_path("tests/cluster/kubelet"))
            .args(["--dir", &dir, "stop", dead])
            .status()
            .unwrap();
        assert!(stop.success());
    }
    let settled = wait_for(Duration::from_secs(90), "the replacements placed or Pending", || async {
        let s = [
            states(&client, &ns, "strict").await,
            states(&client, &ns, "honor").await,
            states(&client, &ns, "db").await,
        ];
        (s == [(2, 2, 2), (4, 2, 0), (0, 2, 0)]).then_some(s)
    })
    .await;
    eprintln!(
        "after the loss (bound, terminating, Pending): strict {:?}, honor {:?}, db {:?}",
        settled[0], settled[1], settled[2]
    );
    // Held still: the Pending ones stay Pending.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(states(&client, &ns, "strict").await, (2, 2, 2));
    assert_eq!(states(&client, &ns, "db").await, (0, 2, 0));
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    assert!(pods.get("lonely").await.unwrap().metadata.deletion_timestamp.is_some(), "lonely deleted, not replaced");
    for dead in [&nodes[0], &nodes[2]] {
        let start = Command::new(support::repo_path("tests/cluster/kubelet"))
            .args(["--dir", &dir, "start", dead])
            .status()
            .unwrap();
        assert!(start.success());
    }
}
