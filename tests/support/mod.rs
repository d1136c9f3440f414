//! Test support: one real cluster (kube-apiserver + etcd on loopback, see
//! tests/cluster/) per test binary, shared by its tests and stopped when the
//! binary exits, pass or fail; a fresh namespace per test; helpers to create,
//! bind, re-phase and delete pods and nodes, compact etcd, restart the
//! apiserver; a loopback TCP proxy that can pause traffic; and a runner for
//! `kubectl podcount` through kubectl's plugin mechanism.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod proxy;
pub mod watcher;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

/// How a test binary wants its cluster.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub nodes: u32,
    pub pods: u32,
    /// Lists and continuations go to etcd, so compaction expires them (410).
    pub no_pod_watch_cache: bool,
    /// Extra apiserver feature gates ("" for the defaults).
    pub feature_gates: &'static str,
    /// Also run kube-scheduler (scheduler name podcount-fits).
    pub scheduler: bool,
    /// Pods written straight into etcd (the benchmarks' seeder): thousands
    /// of nodes and tens of thousands of pods in well under a minute.
    pub fast_seed: bool,
    /// Also run kube-controller-manager's workload controllers (Deployments,
    /// ReplicaSets, StatefulSets, DaemonSets, Jobs) and garbage collector.
    pub controllers: bool,
    /// Also run kwok as the kubelet of nodes labelled
    /// `podcount.test/kubelet=kwok` ([`kwok_node`]); with `controllers`, the
    /// node lifecycle, taint eviction and pod GC controllers too.
    pub kubelets: bool,
}

pub struct Cluster {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    /// The seeder's ground truth (tests/cluster/seed), when seeded.
    pub truth: Option<Value>,
}

/// An HTTP/1.1 request head read off a test server's connection (up to and
/// including the blank line), or None when the client went away first or
/// sent more than 16 KiB without ending it.
pub async fn read_head(conn: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
        if head.len() > 16 * 1024 {
            return None;
        }
    }
    Some(head)
}

/// A path in the repository.
pub fn repo_path(rel: &str) -> PathBuf {
    repo().join(rel)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script(name: &str) -> PathBuf {
    repo().join("tests/cluster").join(name)
}

fn run_checked(cmd: &mut Command) -> String {
    let out = cmd.stderr(Stdio::inherit()).output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", out.status);
    String::from_utf8(out.stdout).expect("utf-8")
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static SECOND: OnceLock<Cluster> = OnceLock::new();

impl Cluster {
    /// The cluster of this test binary, started on first use.
    pub fn shared(opts: Options) -> &'static Cluster {
        CLUSTER.get_or_init(|| Cluster::start(opts, "cluster"))
    }

    /// A second cluster of this test binary (an apiserver and etcd of its
    /// own), for what several clusters must keep apart.
    pub fn second(opts: Options) -> &'static Cluster {
        SECOND.get_or_init(|| Cluster::start(opts, "second"))
    }

    fn start(opts: Options, what: &str) -> Cluster {
        let bin = std::env::current_exe().unwrap();
        let name = bin.file_stem().unwrap().to_string_lossy().to_string();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{what}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut up = Command::new(script("up"));
        up.arg("--dir").arg(&dir).args(["--nodes", &opts.nodes.to_string(), "--pods", &opts.pods.to_string()]);
        if opts.no_pod_watch_cache {
            up.arg("--no-pod-watch-cache");
        }
        if !opts.feature_gates.is_empty() {
            up.args(["--feature-gates", opts.feature_gates]);
        }
        if opts.scheduler {
            up.arg("--scheduler");
        }
        if opts.fast_seed {
            up.arg("--fast-seed");
        }
        if opts.controllers {
            up.arg("--controllers");
        }
        if opts.kubelets {
            up.arg("--kubelets");
        }
        // Whatever happens to this process, the cluster goes with it. The
        // reaper outlives us by design, so it is never waited for.
        #[allow(clippy::zombie_processes)]
        Command::new("setsid")
            .args(["bash", "-c", r#"while kill -0 "$0" 2>/dev/null; do sleep 0.5; done; "$1" --dir "$2"; rm -rf "$2""#])
            .arg(std::process::id().to_string())
            .arg(script("down"))
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cluster reaper");
        run_checked(&mut up);
        let truth = std::fs::read_to_string(dir.join("truth.json")).ok().map(|s| serde_json::from_str(&s).unwrap());
        Cluster { kubeconfig: dir.join("kubeconfig"), dir, truth }
    }

    /// One kubeconfig holding this cluster's context and `other`'s, the
    /// other's entries renamed `name` (both beds call theirs podcount-test).
    pub fn kubeconfig_with(&self, other: &Cluster, name: &str) -> PathBuf {
        let mut kc = Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let mut more = Kubeconfig::read_from(&other.kubeconfig).unwrap();
        for c in &mut more.clusters {
            c.name = name.into();
        }
        for u in &mut more.auth_infos {
            u.name = format!("{name}-admin");
        }
        for c in &mut more.contexts {
            c.name = name.into();
            let ctx = c.context.as_mut().unwrap();
            (ctx.cluster, ctx.user) = (name.into(), Some(format!("{name}-admin")));
        }
        kc.clusters.extend(more.clusters);
        kc.auth_infos.extend(more.auth_infos);
        kc.contexts.extend(more.contexts);
        let out = self.dir.join(format!("kubeconfig-and-{name}"));
        std::fs::write(&out, serde_yaml::to_string(&kc).unwrap()).unwrap();
        out
    }

    /// A client for the calling test's runtime (clients are tied to one).
    pub async fn client(&self) -> Client {
        client_for(&self.kubeconfig).await
    }

    /// A fresh namespace for one test.
    pub async fn namespace(&self, prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("t-{prefix}-{}-{}", std::process::id() % 10000, N.fetch_add(1, Ordering::Relaxed));
        let api: Api<Namespace> = Api::all(self.client().await);
        api.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap())
            .await
            .expect("create namespace");
        name
    }

    /// Forces etcd compaction at its current revision: every older
    /// resourceVersion and continue token is now too old (410 Gone).
    pub fn compact(&self) {
        run_checked(Command::new(script("ctl")).arg("compact").arg("--dir").arg(&self.dir));
    }

    /// Stops and starts the apiserver on the same data.
    pub fn restart_apiserver(&self) {
        run_checked(Command::new(script("restart")).arg("--dir").arg(&self.dir));
    }

    /// A kubeconfig for a client certificate of `user` (no groups, so RBAC
    /// grants it nothing).
    pub fn user_kubeconfig(&self, user: &str) -> PathBuf {
        let out = self.dir.join(format!("kubeconfig-{user}"));
        run_checked(
            Command::new(script("ctl"))
                .args(["user-kubeconfig", "--user", user, "--dir"])
                .arg(&self.dir)
                .arg("--out")
                .arg(&out),
        );
        out
    }

    /// The admin kubeconfig's text, for building variants (other servers,
    /// extra contexts).
    pub fn kubeconfig_text(&self) -> String {
        std::fs::read_to_string(&self.kubeconfig).unwrap()
    }

    pub fn server(&self) -> String {
        let kc = Kubeconfig::read_from(&self.kubeconfig).unwrap();
        kc.clusters[0].cluster.as_ref().unwrap().server.clone().unwrap()
    }
}

pub async fn client_for(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await.expect("kubeconfig");
    Client::try_from(config).expect("client")
}

/// How a test pod should look.
#[derive(Clone, Debug)]
pub struct PodSpec<'a> {
    pub name: &'a str,
    pub node: Option<&'a str>,
    pub phase: &'a str,
    pub daemon_set: bool,
    pub host_network: bool,
    pub labels: &'a [(&'a str, &'a str)],
}

impl<'a> PodSpec<'a> {
    pub fn new(name: &'a str, node: Option<&'a str>, phase: &'a str) -> Self {
        PodSpec { name, node, phase, daemon_set: false, host_network: false, labels: &[] }
    }
}

pub async fn create_node(client: &Client, name: &str, allocatable: u32, ready: bool, schedulable: bool) {
    let api: Api<Node> = Api::all(client.clone());
    let node = json!({
        "metadata": {"name": name, "labels": {"podcount.test/node": name}},
        "spec": {"unschedulable": !schedulable},
        "status": {
            "allocatable": {"pods": allocatable.to_string(), "cpu": "4"},
            "capacity": {"pods": allocatable.to_string(), "cpu": "4"},
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]
        }
    });
    // What the node lifecycle controller adds to a NotReady node (the bed
    // runs none): the scheduler keeps pods off by this taint.
    let mut node = node;
    if !ready {
        node["spec"]["taints"] = json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]);
    }
    api.create(&PostParams::default(), &serde_json::from_value(node).unwrap()).await.expect("create node");
}

/// Sets one label on a node.
pub async fn label_node(client: &Client, name: &str, key: &str, value: &str) {
    let api: Api<Node> = Api::all(client.clone());
    let patch = json!({"metadata": {"labels": {key: value}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await.expect("label node");
}

pub async fn delete_node(client: &Client, name: &str) {
    let api: Api<Node> = Api::all(client.clone());
    api.delete(name, &DeleteParams::default()).await.expect("delete node");
}

pub async fn create_pod(client: &Client, ns: &str, spec: &PodSpec<'_>) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let labels: BTreeMap<&str, &str> = spec.labels.iter().copied().collect();
    let owner = if spec.daemon_set {
        json!([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
                "uid": "00000000-0000-4000-8000-0000000000d5", "controller": true}])
    } else {
        json!([])
    };
    let mut pod = json!({
        "metadata": {"name": spec.name, "labels": labels, "ownerReferences": owner},
        "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1"}], "terminationGracePeriodSeconds": 30}
    });
    if let Some(node) = spec.node {
        pod["spec"]["nodeName"] = json!(node);
    }
    if spec.host_network {
        pod["spec"]["hostNetwork"] = json!(true);
    }
    api.create(&PostParams::default(), &serde_json::from_value(pod).unwrap()).await.expect("create pod");
    if spec.phase != "Pending" {
        set_phase(client, ns, spec.name, spec.phase).await;
    }
}

pub async fn set_phase(client: &Client, ns: &str, name: &str, phase: &str) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": {"phase": phase}})))
        .await
        .unwrap_or_else(|e| panic!("set phase of {ns}/{name} to {phase}: {e}"));
}

/// Binds an unscheduled pod to a node, as the scheduler does.
pub async fn bind(client: &Client, ns: &str, name: &str, node: &str) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
    api.create_subresource::<Value, Value>("binding", name, &PostParams::default(), &binding).await.expect("bind pod");
}

/// Deletes a pod. Graceful deletion of a bound pod never finishes without a
/// kubelet: the pod stays, terminating (deletionTimestamp set).
pub async fn delete_pod(client: &Client, ns: &str, name: &str, graceful: bool) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let dp = if graceful { DeleteParams::default() } else { DeleteParams::default().grace_period(0) };
    api.delete(name, &dp).await.expect("delete pod");
}

/// `kubectl podcount ARGS` through kubectl's plugin mechanism: the built
/// binary's folder first on PATH. No TTY, so no colours and no spinner.
pub fn podcount(kubeconfig: &Path, args: &[&str]) -> Output {
    podcount_cmd(kubeconfig, args).output().expect("run kubectl podcount")
}

pub fn podcount_cmd(kubeconfig: &Path, args: &[&str]) -> Command {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kubectl-podcount"));
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("kubectl");
    cmd.arg("podcount").args(args).env("PATH", path).env("KUBECONFIG", kubeconfig).env_remove("NO_COLOR");
    cmd
}

/// Parses a successful `-o json` run.
pub fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// `{node name: node object}` of a PodCount document.
pub fn nodes_of(doc: &Value) -> BTreeMap<String, Value> {
    doc["nodes"].as_array().unwrap().iter().map(|n| (n["name"].as_str().unwrap().to_string(), n.clone())).collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Per-node pod counts (non-zero) by the counting rule, recounted from
/// `kubectl get pods -o json`: an oracle that shares nothing with our decoder.
pub fn kubectl_counts(kubeconfig: &Path, namespace: &str) -> BTreeMap<String, u64> {
    let out = Command::new("kubectl")
        .args(["get", "pods", "-n", namespace, "-o", "json"])
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run kubectl get pods");
    assert!(out.status.success(), "kubectl get pods: {}", String::from_utf8_lossy(&out.stderr));
    let list: Value = serde_json::from_slice(&out.stdout).expect("kubectl JSON");
    let mut counts = BTreeMap::new();
    for pod in list["items"].as_array().unwrap() {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        let phase = pod["status"]["phase"].as_str().unwrap_or("");
        if !node.is_empty() && phase != "Succeeded" && phase != "Failed" {
            *counts.entry(node.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// Per-node requests, limits and allocatable as kube-scheduler accounts them
/// (`tests/cluster/ctl requests`: framework.NodeInfo over the live pods;
/// cpu in millicores): an oracle that shares no code with podcount.
pub fn oracle_requests(kubeconfig: &Path, namespace: Option<&str>, selector: Option<&str>) -> Value {
    let mut cmd = Command::new(script("ctl"));
    cmd.args(["requests", "--kubeconfig"]).arg(kubeconfig);
    if let Some(ns) = namespace {
        cmd.args(["--namespace", ns]);
    }
    if let Some(s) = selector {
        cmd.args(["--selector", s]);
    }
    serde_json::from_str(&run_checked(&mut cmd)).expect("the oracle prints JSON")
}

/// Creates a pod from its JSON (metadata.name and spec at least).
pub async fn create_pod_json(client: &Client, ns: &str, pod: Value) -> Pod {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    api.create(&PostParams::default(), &serde_json::from_value(pod).expect("a Pod")).await.expect("create pod")
}

/// Replaces a pod's status (kubelet's part), from JSON.
pub async fn set_status_json(client: &Client, ns: &str, name: &str, status: Value) {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let patch = json!({"status": status});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(patch)).await.expect("patch pod status");
}

/// CSV rows as Python's csv module reads them (an RFC 4180 reader that
/// shares nothing with ours), each a map from the header's names.
pub fn csv_rows(csv: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut py = Command::new("python3")
        .args(["-c", "import csv, json, sys; print(json.dumps(list(csv.DictReader(sys.stdin))))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    {
        use std::io::Write;
        py.stdin.take().unwrap().write_all(csv).unwrap();
    }
    serde_json::from_slice(&py.wait_with_output().unwrap().stdout).expect("python3 read the CSV")
}

/// A copy of the admin kubeconfig pointing at `server` instead.
pub fn kubeconfig_via(c: &Cluster, server: &str, name: &str) -> PathBuf {
    let text = c.kubeconfig_text().replace(&c.server(), server);
    let path = c.dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One test at a time within a binary: some restart the apiserver or compact
/// etcd under everyone's feet.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Runs blocking work (a watcher's waits, a kubectl run) off the runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// The apiserver's address, for a proxy in front of it.
pub fn upstream(c: &Cluster) -> std::net::SocketAddr {
    c.server().trim_start_matches("https://").parse().unwrap()
}

/// `n` ready, schedulable nodes named after the namespace.
pub async fn make_nodes(client: &Client, ns: &str, n: usize, allocatable: u32) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..n {
        let name = format!("{ns}-n{i}");
        crate::support::create_node(client, &name, allocatable, true, true).await;
        names.push(name);
    }
    names
}

/// `count` pods through every transition the counting rule cares about,
/// sixteen requests at a time.
pub async fn churn(client: &Client, ns: &str, nodes: &[String], prefix: &str, count: usize) {
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..count {
        let (client, ns, node, name) =
            (client.clone(), ns.to_string(), nodes[i % nodes.len()].clone(), format!("{prefix}-{i}"));
        let permit = sem.clone().acquire_owned().await.unwrap();
        set.spawn(async move {
            let _permit = permit;
            let on = Some(node.as_str());
            match i % 10 {
                0 => {
                    crate::support::create_pod(&client, &ns, &PodSpec::new(&name, None, "Pending")).await;
                    crate::support::bind(&client, &ns, &name, &node).await;
                }
                1 | 2 => {
                    crate::support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await;
                    crate::support::set_phase(&client, &ns, &name, if i % 10 == 1 { "Succeeded" } else { "Failed" })
                        .await;
                }
                3 => crate::support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Unknown")).await,
                4 => {
                    crate::support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await;
                    crate::support::delete_pod(&client, &ns, &name, true).await; // terminating, stays
                }
                5 => {
                    crate::support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await;
                    crate::support::delete_pod(&client, &ns, &name, false).await; // gone
                }
                6 => crate::support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Pending")).await,
                _ => crate::support::create_pod(&client, &ns, &PodSpec::new(&name, on, "Running")).await,
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("churn task");
    }
}

/// Grants `user` the `verbs` on `resources` (core group) cluster-wide, and
/// returns a kubeconfig for that user.
pub async fn grant(c: &Cluster, user: &str, resources: &[&str], verbs: &[&str]) -> PathBuf {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let client = c.client().await;
    let name = format!("podcount-{user}");
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": name},
        "rules": [{"apiGroups": [""], "resources": resources, "verbs": verbs}]
    }))
    .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .unwrap();
    Api::<ClusterRole>::all(client.clone()).create(&PostParams::default(), &role).await.unwrap();
    Api::<ClusterRoleBinding>::all(client).create(&PostParams::default(), &binding).await.unwrap();
    c.user_kubeconfig(user)
}

/// Grants `user` the `verbs` on `resources` (core group) in namespace `ns`
/// only, and returns a kubeconfig for that user whose context names `ns`.
pub async fn grant_in(c: &Cluster, user: &str, ns: &str, resources: &[&str], verbs: &[&str]) -> PathBuf {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let client = c.client().await;
    let name = format!("podcount-{user}");
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "rules": [{"apiGroups": [""], "resources": resources, "verbs": verbs}]
    }))
    .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .unwrap();
    Api::<Role>::namespaced(client.clone(), ns).create(&PostParams::default(), &role).await.unwrap();
    Api::<RoleBinding>::namespaced(client, ns).create(&PostParams::default(), &binding).await.unwrap();
    let kc = c.user_kubeconfig(user);
    let text = std::fs::read_to_string(&kc).unwrap();
    let with_ns = text.replace(&format!("    user: {user}\n"), &format!("    user: {user}\n    namespace: {ns}\n"));
    assert_ne!(text, with_ns, "the context names the user");
    std::fs::write(&kc, with_ns).unwrap();
    kc
}

/// `kubectl podcount ARGS` until its stderr no longer says `stale` (RBAC
/// changes reach the authorizer's cache within a moment), at most 5 s.
pub fn podcount_after_rbac(kubeconfig: &Path, args: &[&str], stale: &str) -> Output {
    let mut out = podcount(kubeconfig, args);
    for _ in 0..50 {
        if !stderr(&out).contains(stale) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        out = podcount(kubeconfig, args);
    }
    out
}

/// One plain HTTP/1.1 request to a loopback `base` (`http://127.0.0.1:PORT`):
/// status and body. The server closes the connection after answering.
pub fn http(method: &str, base: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    assert!(addr.starts_with("127.0.0.1:"), "tests only talk to loopback: {addr}");
    let mut s = std::net::TcpStream::connect(addr).expect("connect to --listen");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, body.to_string())
}

/// A Go tool built from the module proxy once (`go install MODULE@VERSION`)
/// and kept under ~/.cache/kubectl-podcount/gobin by name and version, like
/// the cluster program: actionlint, krew, helm.
pub fn go_tool(module: &str) -> PathBuf {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let (path, version) = module.split_once('@').unwrap();
    let name = path.rsplit('/').next().unwrap();
    let home = PathBuf::from(std::env::var("HOME").expect("HOME"));
    let gobin = home.join(".cache/kubectl-podcount/gobin").join(format!("{name}-{version}"));
    let bin = gobin.join(name);
    if !bin.exists() {
        let out = Command::new("go")
            .args(["install", module])
            .env("GOBIN", &gobin)
            .env("GOFLAGS", "-buildvcs=false")
            .env("GOTOOLCHAIN", "local")
            .env("GOWORK", "off")
            .output()
            .expect("run go install");
        assert!(out.status.success(), "go install {module}: {}", String::from_utf8_lossy(&out.stderr));
    }
    bin
}

/// DER as PEM (rcgen here is built without its pem feature).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// A ServiceAccount in `ns` and a token for it (TokenRequest).
pub async fn service_account_token(client: &kube::Client, ns: &str, name: &str) -> String {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use kube::api::{Api, PostParams};
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let sa = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
    let _ = api.create(&PostParams::default(), &sa).await;
    let req = serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600}});
    let got: serde_json::Value =
        api.create_subresource("token", name, &PostParams::default(), &req).await.expect("TokenRequest");
    got["status"]["token"].as_str().expect("a token").to_string()
}

impl Cluster {
    /// A kubeconfig for the bed that shows `token` (a ServiceAccount's).
    /// A kubeconfig with this ServiceAccount token, whose context is named
    /// after it (`reader@bed`), not as the watch's kubeconfig names it: context
    /// names are local, and `count --from` must match clusters all the same.
    pub fn token_kubeconfig(&self, name: &str, token: &str) -> PathBuf {
        let admin = self.kubeconfig_text();
        let ca = admin.lines().find_map(|l| l.trim().strip_prefix("certificate-authority-data: ")).unwrap();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: bed\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\nusers:\n- name: {name}\n  user:\n    token: {token}\ncontexts:\n- name: {name}@bed\n  context:\n    cluster: bed\n    user: {name}\ncurrent-context: {name}@bed\n",
            self.server()
        );
        let path = self.dir.join(format!("kubeconfig-{name}"));
        std::fs::write(&path, text).unwrap();
        path
    }
}
