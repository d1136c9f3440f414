//! Reaching the cluster as kubectl does: a kubeconfig `tokenFile` (trimmed,
//! as client-go reads it), and proxies, through real proxies on loopback: an HTTP
//! CONNECT proxy and a SOCKS5 proxy, each written here in a few lines and
//! logging the tunnels it opens (they only ever tunnel to loopback).
//! `HTTPS_PROXY` is used and `NO_PROXY` bypasses it; a loopback server
//! (`127.0.0.1`, `localhost`) is never proxied from the environment, as
//! kubectl does not proxy it; a kubeconfig `proxy-url` (socks5) is used
//! whatever the environment says; a dead proxy is exit 3 naming the proxy,
//! within the request bound. The environment's proxies are tried on the bed
//! named `kubernetes` (a name its certificate carries, which only the
//! proxy resolves, to loopback).

mod support;

use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Cluster, Options, json_of, nodes_of, podcount_cmd, stderr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const BED: Options = Options {
    nodes: 3,
    pods: 60,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};

fn cluster() -> &'static Cluster {
    Cluster::shared(BED)
}

/// What a proxy logged: one line a tunnel (`CONNECT 127.0.0.1:6443`).
type Log = Arc<Mutex<Vec<String>>>;

/// The name the bed goes by through the proxies (its certificate's SANs
/// have it): a server that is not loopback by name, so the environment's
/// proxy applies.
const BED_NAME: &str = "kubernetes";

/// Only loopback is ever a target: `kubernetes:PORT` is the bed on
/// 127.0.0.1; any other name is refused.
fn loopback(target: &str) -> Option<String> {
    if let Some(port) = target.strip_prefix(&format!("{BED_NAME}:")) {
        return Some(format!("127.0.0.1:{port}"));
    }
    target.parse::<SocketAddr>().ok().filter(|a| a.ip().is_loopback()).map(|a| a.to_string())
}

/// An HTTP CONNECT proxy on loopback.
async fn connect_proxy() -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let Some(head) = support::read_head(&mut client).await else { return };
                let text = String::from_utf8_lossy(&head).to_string();
                let line = text.lines().next().unwrap_or_default().to_string();
                let target = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                seen.lock().unwrap().push(format!("CONNECT {target}"));
                let to = loopback(&target).filter(|_| line.starts_with("CONNECT "));
                let Some(to) = to else {
                    let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(&to).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (addr, log)
}

/// A SOCKS5 proxy on loopback (no authentication; IPv4 and names).
async fn socks5_proxy() -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                // Greeting: version, methods; no authentication.
                let mut head = [0u8; 2];
                if c.read_exact(&mut head).await.is_err() || head[0] != 5 {
                    return;
                }
                let mut methods = vec![0u8; head[1] as usize];
                if c.read_exact(&mut methods).await.is_err() || c.write_all(&[5, 0]).await.is_err() {
                    return;
                }
                // Request: version, CONNECT, reserved, address type.
                let mut req = [0u8; 4];
                if c.read_exact(&mut req).await.is_err() || req[1] != 1 {
                    return;
                }
                let host = match req[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        if c.read_exact(&mut ip).await.is_err() {
                            return;
                        }
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let mut len = [0u8; 1];
                        let _ = c.read_exact(&mut len).await;
                        let mut name = vec![0u8; len[0] as usize];
                        if c.read_exact(&mut name).await.is_err() {
                            return;
                        }
                        String::from_utf8_lossy(&name).to_string()
                    }
                    _ => return,
                };
                let mut port = [0u8; 2];
                if c.read_exact(&mut port).await.is_err() {
                    return;
                }
                let target = format!("{host}:{}", u16::from_be_bytes(port));
                seen.lock().unwrap().push(format!("SOCKS5 {target}"));
                let upstream = match loopback(&target) {
                    Some(to) => TcpStream::connect(&to).await.ok(),
                    None => None,
                };
                let Some(mut upstream) = upstream else {
                    let _ = c.write_all(&[5, 2, 0, 1, 0, 0, 0, 0, 0, 0]).await;
                    return;
                };
                if c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut c, &mut upstream).await;
                }
            });
        }
    });
    (addr, log)
}

/// `kubectl podcount -o json` with these proxy variables and no others.
async fn count(kubeconfig: &std::path::Path, env: &[(&str, String)]) -> Output {
    count_with(kubeconfig, &[], env).await
}

/// [`count`] with more arguments.
async fn count_with(kubeconfig: &std::path::Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut all = vec!["-o", "json", "--request-timeout", "20s"];
    all.extend(args);
    let mut cmd = podcount_cmd(kubeconfig, &all);
    for k in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    support::blocking(move || cmd.output().unwrap()).await
}

fn counts(out: &Output) -> std::collections::BTreeMap<String, u64> {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    nodes_of(&json_of(out)).into_iter().map(|(n, v)| (n, v["pods"].as_u64().unwrap())).collect()
}

/// The apiserver's `host:port`.
fn server_authority(c: &Cluster) -> String {
    c.server().trim_start_matches("https://").trim_end_matches('/').to_string()
}

/// The bed's kubeconfig with its server at another host (same port).
fn kubeconfig_at(c: &Cluster, host: &str) -> std::path::PathBuf {
    let authority = server_authority(c);
    let port = authority.rsplit_once(':').unwrap().1;
    let text = c.kubeconfig_text().replace(&format!("https://{authority}"), &format!("https://{host}:{port}"));
    let path = c.dir.join(format!("kubeconfig-{host}"));
    std::fs::write(&path, text).unwrap();
    path
}

/// kubectl with this kubeconfig and these proxy variables alone: whether it
/// listed pods.
async fn kubectl_lists(kubeconfig: &std::path::Path, env: &[(&str, String)]) -> bool {
    let mut cmd = std::process::Command::new("kubectl");
    cmd.args(["get", "pods", "-A", "-o", "name", "--request-timeout", "20s"]).env("KUBECONFIG", kubeconfig);
    for k in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    support::blocking(move || cmd.output().unwrap().status.success()).await
}

#[tokio::test]
async fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let c = cluster();
    let direct = counts(&count(&c.kubeconfig, &[]).await);
    let (addr, log) = connect_proxy().await;
    let named = kubeconfig_at(c, BED_NAME);
    let out = count(&named, &[("HTTPS_PROXY", format!("http://{addr}"))]).await;
    assert_eq!(counts(&out), direct, "the same counts through the proxy");
    let port = server_authority(c).rsplit_once(':').unwrap().1.to_string();
    let tunnels = log.lock().unwrap().clone();
    assert!(!tunnels.is_empty() && tunnels.iter().all(|t| *t == format!("CONNECT {BED_NAME}:{port}")), "{tunnels:?}");
    // kubectl takes the same route.
    log.lock().unwrap().clear();
    assert!(kubectl_lists(&named, &[("HTTPS_PROXY", format!("http://{addr}"))]).await);
    assert!(!log.lock().unwrap().is_empty(), "kubectl went through the proxy too");
    // Lower case too, and NO_PROXY naming the server (by name, with its
    // port, or *) bypasses it: the name is then looked up here, where it
    // means nothing, so the count fails, and the proxy saw no tunnel.
    for no in [BED_NAME.to_string(), format!("{BED_NAME}:{port}"), "*".into(), format!("localhost,{BED_NAME}")] {
        log.lock().unwrap().clear();
        let out = count(&named, &[("https_proxy", format!("http://{addr}")), ("NO_PROXY", no.clone())]).await;
        assert_eq!(out.status.code(), Some(3), "NO_PROXY={no}: {}", stderr(&out));
        assert!(log.lock().unwrap().is_empty(), "NO_PROXY={no}: {:?}", log.lock().unwrap());
    }
}

/// kubectl never proxies a loopback server from the environment (Go's
/// httpproxy rule), so neither does podcount: the bed at 127.0.0.1 and at
/// localhost, with HTTPS_PROXY and HTTP_PROXY set to a live proxy that logs
/// and to a dead one, and no NO_PROXY.
#[tokio::test]
async fn a_loopback_server_is_never_proxied_from_the_environment_as_kubectl_does() {
    let c = cluster();
    let direct = counts(&count(&c.kubeconfig, &[]).await);
    let (live, log) = connect_proxy().await;
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    for kc in [c.kubeconfig.clone(), kubeconfig_at(c, "localhost")] {
        for proxy in [live, dead] {
            let env = [("HTTPS_PROXY", format!("http://{proxy}")), ("HTTP_PROXY", format!("http://{proxy}"))];
            assert!(kubectl_lists(&kc, &env).await, "the oracle: kubectl reaches {} directly", kc.display());
            let out = count(&kc, &env).await;
            assert_eq!(counts(&out), direct, "{}", kc.display());
        }
    }
    assert!(log.lock().unwrap().is_empty(), "no tunnel: {:?}", log.lock().unwrap());
}

#[tokio::test]
async fn a_dead_proxy_is_exit_3_naming_it_within_the_bound() {
    let c = cluster();
    // A port nothing listens on (bound, then closed).
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let start = Instant::now();
    let out = count(&kubeconfig_at(c, BED_NAME), &[("HTTPS_PROXY", format!("http://{dead}"))]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("through the proxy HTTPS_PROXY http://{dead}")), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
}

#[tokio::test]
async fn a_kubeconfig_socks5_proxy_url_is_used_whatever_the_environment_says() {
    let c = cluster();
    let direct = counts(&count(&c.kubeconfig, &[]).await);
    let (addr, log) = socks5_proxy().await;
    // The bed's kubeconfig with proxy-url on its cluster.
    let text = c.kubeconfig_text();
    let server_line = text.lines().find(|l| l.trim_start().starts_with("server:")).unwrap().to_string();
    let indent = &server_line[..server_line.len() - server_line.trim_start().len()];
    let with_proxy = text.replace(&server_line, &format!("{server_line}\n{indent}proxy-url: socks5://{addr}"));
    let kc = c.dir.join("kubeconfig-socks5");
    std::fs::write(&kc, with_proxy).unwrap();
    // NO_PROXY does not apply to a kubeconfig proxy-url (client-go's rule).
    let out = count(&kc, &[("NO_PROXY", "*".to_string()), ("HTTPS_PROXY", "http://127.0.0.1:1".to_string())]).await;
    assert_eq!(counts(&out), direct);
    let tunnels = log.lock().unwrap().clone();
    assert!(
        !tunnels.is_empty() && tunnels.iter().all(|t| *t == format!("SOCKS5 {}", server_authority(c))),
        "{tunnels:?}"
    );
}

/// A kubeconfig user with a `tokenFile` written by `echo "$TOKEN" > file`
/// (a trailing newline): counted as kubectl counts, with the same file; a
/// file that is not there is exit 2 naming it.
#[tokio::test]
async fn a_token_file_with_a_newline_is_read_as_kubectl_reads_it() {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use kube::api::{Api, PostParams};
    let c = cluster();
    let client = c.client().await;
    let ns = c.namespace("token").await;
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    let sa = serde_json::from_value(serde_json::json!({"metadata": {"name": "reader"}})).unwrap();
    api.create(&PostParams::default(), &sa).await.unwrap();
    support::grant(c, &format!("system:serviceaccount:{ns}:reader"), &["pods", "nodes"], &["list", "watch"]).await;
    let req = serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}});
    let got: serde_json::Value = api.create_subresource("token", "reader", &PostParams::default(), &req).await.unwrap();
    let token = got["status"]["token"].as_str().unwrap().to_string();
    let file = c.dir.join("reader.token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    // The bed's kubeconfig with the user's credentials swapped for the file.
    let mut kc = kube::config::Kubeconfig::read_from(&c.kubeconfig).unwrap();
    for a in kc.auth_infos.iter_mut() {
        a.auth_info =
            Some(kube::config::AuthInfo { token_file: Some(file.display().to_string()), ..Default::default() });
    }
    let path = c.dir.join("kubeconfig-token-file");
    std::fs::write(&path, serde_yaml::to_string(&kc).unwrap()).unwrap();
    // The seeded pods only: other tests of this binary add pods meanwhile.
    let seeded = ["-l", "app.kubernetes.io/part-of=shop"];
    // (Nodes other tests add meanwhile hold none of them.)
    let held = |out: &Output| {
        let mut m = counts(out);
        m.retain(|_, p| *p > 0);
        m
    };
    let out = count_with(&path, &seeded, &[]).await;
    assert_eq!(held(&out), held(&count_with(&c.kubeconfig, &seeded, &[]).await));
    // kubectl with the same kubeconfig: the oracle says the file is good.
    let k = std::process::Command::new("kubectl")
        .args(["get", "pods", "-A", "-o", "name"])
        .env("KUBECONFIG", &path)
        .output()
        .unwrap();
    assert!(k.status.success(), "{}", String::from_utf8_lossy(&k.stderr));
    // A file that is not there: the kubeconfig's fault, named.
    std::fs::remove_file(&file).unwrap();
    let out = count(&path, &[]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("tokenFile {}: cannot read it", file.display())), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

/// `--as`: the admin's kubeconfig, impersonating a user RBAC lets count
/// pods in one namespace only, gets what that user gets with their own
/// credentials, refusals included.
#[tokio::test]
async fn as_another_user_sees_what_that_user_sees() {
    let c = cluster();
    let ns = c.namespace("as").await;
    let client = c.client().await;
    let node = support::make_nodes(&client, &ns, 1, 10).await.remove(0);
    for i in 0..3 {
        support::create_pod(&client, &ns, &support::PodSpec::new(&format!("p{i}"), Some(&node), "Running")).await;
    }
    let user = format!("dev-{ns}");
    let own = support::grant_in(c, &user, &ns, &["pods"], &["list"]).await;
    let run = |kc: &std::path::Path, args: &[&str]| {
        let mut cmd = podcount_cmd(kc, args);
        for k in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            cmd.env_remove(k);
        }
        cmd.output().unwrap()
    };
    let mine = support::podcount_after_rbac(&own, &["-n", &ns, "-o", "json"], "cannot list pods");
    let theirs = run(&c.kubeconfig, &["-n", &ns, "-o", "json", "--as", &user]);
    assert_eq!(theirs.status.code(), mine.status.code(), "{}", stderr(&theirs));
    assert_eq!(counts(&theirs), counts(&mine));
    assert_eq!(counts(&theirs).get(&node), Some(&3));
    // Both told nodes are not theirs to list, naming the same user.
    for out in [&mine, &theirs] {
        assert!(stderr(out).contains(&format!("user \"{user}\" cannot list nodes")), "{}", stderr(out));
    }
    // Cluster-wide: refused for both alike.
    let mine = run(&own, &["-A"]);
    let theirs = run(&c.kubeconfig, &["-A", "--as", &user]);
    assert_eq!((theirs.status.code(), mine.status.code()), (Some(3), Some(3)), "{}", stderr(&theirs));
    assert!(
        stderr(&theirs).contains(&format!("user \"{user}\" cannot list pods at cluster scope")),
        "{}",
        stderr(&theirs)
    );
    // --as-group needs --as.
    let out = run(&c.kubeconfig, &["--as-group", "g"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `kubectl podcount -n <TAB>` offers the cluster's namespaces, through the
/// kubeconfig the typed words name (as kubectl's own completion does), and
/// nothing, promptly, when the cluster cannot be reached.
#[test]
fn namespace_completion_asks_the_cluster() {
    let c = cluster();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ns = rt.block_on(c.namespace("complete"));
    // What kubectl_complete-podcount runs for `kubectl podcount ... <TAB>`.
    let complete = |args: &[&str], kubeconfig: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-podcount"))
            .arg("__complete")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .env("KUBECONFIG", "/nonexistent")
            .output()
            .unwrap()
    };
    let prefix = &ns[..ns.len() - 2];
    let out = complete(&["-n", prefix], &c.kubeconfig);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.lines().any(|l| l == ns), "{ns} not offered:\n{said}");
    assert!(said.lines().all(|l| l.starts_with(prefix) || l.starts_with(':')), "{said}");
    assert_eq!(said.lines().last(), Some(":4"));
    // The counting subcommand completes it too, with --namespace.
    let out = complete(&["count", "--namespace", prefix], &c.kubeconfig);
    assert!(String::from_utf8_lossy(&out.stdout).lines().any(|l| l == ns));

    // A server that does not answer: no candidates, within the bound.
    let dead = support::kubeconfig_via(c, "https://127.0.0.1:1", "dead-complete");
    let started = Instant::now();
    let out = complete(&["-n", ""], &dead);
    assert_eq!(String::from_utf8_lossy(&out.stdout), ":4\n");
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}

/// A service account's token from the TokenRequest API, allowed to list and
/// watch pods and nodes cluster-wide.
async fn reader_token(c: &Cluster, ns: &str) -> String {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use kube::api::{Api, PostParams};
    let api: Api<ServiceAccount> = Api::namespaced(c.client().await, ns);
    let sa = serde_json::from_value(serde_json::json!({"metadata": {"name": "reader"}})).unwrap();
    api.create(&PostParams::default(), &sa).await.unwrap();
    support::grant(c, &format!("system:serviceaccount:{ns}:reader"), &["pods", "nodes"], &["list", "watch"]).await;
    let req = serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}});
    let got: serde_json::Value = api.create_subresource("token", "reader", &PostParams::default(), &req).await.unwrap();
    got["status"]["token"].as_str().unwrap().to_string()
}

/// A kubeconfig for the bed with `cluster` and `user` as YAML bodies.
fn kubeconfig_with(c: &Cluster, name: &str, cluster: &str, user: &str) -> std::path::PathBuf {
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bed\n  cluster:\n    server: {}\n{}users:\n- name: u\n  user:\n{}contexts:\n- name: bed\n  context:\n    cluster: bed\n    user: u\ncurrent-context: bed\n",
        c.server(),
        indent(cluster),
        indent(user)
    );
    let path = c.dir.join(format!("kubeconfig-form-{name}"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Every form a kubeconfig gives credentials in, each checked against
/// kubectl with the same file: a token, a tokenFile with and without a
/// trailing newline, a client certificate as data and as files, an exec
/// plugin, and insecure-skip-tls-verify. Each counts what the admin counts;
/// kubectl, the oracle, accepts each. Credentials that cannot be used are the
/// kubeconfig's fault: exit 2, naming what to fix.
#[tokio::test]
async fn every_kubeconfig_credential_form_works_as_it_does_for_kubectl() {
    use base64::Engine;
    let c = cluster();
    let ns = c.namespace("forms").await;
    let token = reader_token(c, &ns).await;
    let admin = kube::config::Kubeconfig::read_from(&c.kubeconfig).unwrap();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
    let ca_data = admin.clusters[0].cluster.as_ref().unwrap().certificate_authority_data.clone().unwrap();
    let admin_text = c.kubeconfig_text();
    let field = |key: &str| {
        admin_text.lines().find_map(|l| l.trim().strip_prefix(&format!("{key}: ")).map(str::to_string)).unwrap()
    };
    let (cert_data, key_data) = (field("client-certificate-data"), field("client-key-data"));
    let dir = c.dir.join("forms");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    let (ca, cert, key) =
        (write("ca.crt", &b64(&ca_data)), write("admin.crt", &b64(&cert_data)), write("admin.key", &b64(&key_data)));
    let token_nl = write("token-nl", format!("{token}\n").as_bytes());
    let token_bare = write("token-bare", token.as_bytes());
    let plugin = write(
        "credential-helper",
        format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
        )
        .as_bytes(),
    );
    let failing = write("failing-helper", b"#!/bin/sh\necho 'login expired: run sso login' >&2\nexit 1\n");
    for p in [&plugin, &failing] {
        std::process::Command::new("chmod").args(["+x", p]).status().unwrap();
    }
    let ca_by_data = format!("certificate-authority-data: {ca_data}");
    let ca_by_file = format!("certificate-authority: {ca}");
    let exec = |cmd: &str| {
        format!("exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: {cmd}\n  interactiveMode: Never\n")
    };
    let forms: Vec<(&str, String, String)> = vec![
        ("token", ca_by_data.clone(), format!("token: {token}")),
        ("token-file-newline", ca_by_data.clone(), format!("tokenFile: {token_nl}")),
        ("token-file-bare", ca_by_data.clone(), format!("tokenFile: {token_bare}")),
        ("cert-data", ca_by_data.clone(), format!("client-certificate-data: {cert_data}\nclient-key-data: {key_data}")),
        ("cert-files", ca_by_file.clone(), format!("client-certificate: {cert}\nclient-key: {key}")),
        ("exec", ca_by_data.clone(), exec(&plugin)),
        ("insecure", "insecure-skip-tls-verify: true".into(), format!("token: {token}")),
    ];
    let want = counts(&count(&c.kubeconfig, &[]).await);
    for (name, cluster, user) in &forms {
        let kc = kubeconfig_with(c, name, cluster, user);
        let k = std::process::Command::new("kubectl")
            .args(["get", "pods", "-A", "-o", "name"])
            .env("KUBECONFIG", &kc)
            .output()
            .unwrap();
        assert!(k.status.success(), "kubectl refuses form {name}: {}", String::from_utf8_lossy(&k.stderr));
        let out = count(&kc, &[]).await;
        assert_eq!(out.status.code(), Some(0), "form {name}: {}", stderr(&out));
        assert_eq!(counts(&out), want, "form {name}");
    }

    // Credentials that cannot be used: exit 2 and one line naming the field,
    // where kubectl fails too.
    let broken: Vec<(&str, String, String, &str)> = vec![
        (
            "key-file-missing",
            ca_by_file.clone(),
            format!("client-certificate: {cert}\nclient-key: {key}.gone"),
            "client-key",
        ),
        (
            "cert-data-garbage",
            ca_by_data.clone(),
            "client-certificate-data: bm90IGEgY2VydA==\nclient-key-data: bm90IGEga2V5".into(),
            "client-certificate",
        ),
        (
            "ca-file-missing",
            format!("certificate-authority: {ca}.gone"),
            format!("token: {token}"),
            "certificate-authority",
        ),
        ("exec-fails", ca_by_data.clone(), exec(&failing), "login expired"),
    ];
    for (name, cluster, user, names) in &broken {
        let kc = kubeconfig_with(c, name, cluster, user);
        let k =
            std::process::Command::new("kubectl").args(["get", "pods", "-A"]).env("KUBECONFIG", &kc).output().unwrap();
        assert!(!k.status.success(), "kubectl accepts broken form {name}");
        let out = count(&kc, &[]).await;
        let said = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "form {name}: {said}");
        assert!(said.contains(names), "form {name} does not name {names}: {said}");
        assert!(!said.contains("is the cluster up"), "form {name} blames the cluster: {said}");
    }
}
