//! `bench --probe`, the only write: the real `watch` command's latency from
//! a request that creates or deletes a pod to the line it prints.

use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use serde_json::json;

use super::summary::percentile;
use crate::client::connect::Target;
use crate::error::{Error, Result, chain};

/// Event-to-printed-line latency of the real `watch` command, in ms.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    pub samples: usize,
    pub create_p50_ms: f64,
    pub create_p99_ms: f64,
    pub create_max_ms: f64,
    pub delete_p50_ms: f64,
    pub delete_p99_ms: f64,
    pub delete_max_ms: f64,
}

fn millis(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(&v, 50.0), percentile(&v, 99.0), v.last().copied().unwrap_or(0.0))
}

/// Starts `watch -o jsonl --interval 0` on a throw-away namespace, then
/// creates and deletes pods bound to a node that does not exist (so no
/// kubelet runs them) and times request-start to printed line. Cleans up
/// on every path, Ctrl-C included.
pub async fn probe(samples: u32, connection_flags: &[String], t: &Target) -> Result<Probe> {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, DeleteParams, PostParams};
    use tokio::io::{AsyncBufReadExt, BufReader};

    let ns = format!("podcount-probe-{}", std::process::id());
    let node = format!("{ns}-nowhere");
    let namespaces: Api<Namespace> = Api::all(t.client.clone());
    let ns_obj: Namespace =
        serde_json::from_value(json!({"metadata": {"name": ns, "labels": {"podcount.io/probe": "true"}}}))
            .expect("static object");
    namespaces.create(&PostParams::default(), &ns_obj).await.map_err(|e| {
        Error::cluster(format!(
            "--probe cannot create namespace {ns}: {} (needs: create namespaces, create/delete pods)",
            chain(&e)
        ))
    })?;
    let pods: Api<Pod> = Api::namespaced(t.client.clone(), &ns);
    let exe = std::env::current_exe().map_err(|e| Error::usage(format!("cannot find my own binary: {e}")))?;
    let mut watcher = tokio::process::Command::new(exe)
        .args(["watch", "-o", "jsonl", "--interval", "0", "-n", &ns])
        .args(connection_flags)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::usage(format!("cannot start the watch: {e}")))?;
    let mut lines = BufReader::new(watcher.stdout.take().expect("piped")).lines();
    let work = async {
        loop {
            match lines.next_line().await {
                Ok(Some(l)) if l.contains("\"synced\"") => break,
                Ok(Some(_)) => {}
                _ => return Err(Error::cluster("the probe's watch ended before it synced")),
            }
        }
        let (mut created, mut deleted) = (Vec::new(), Vec::new());
        for i in 0..samples {
            let name = format!("probe-{i}");
            let pod: Pod = serde_json::from_value(json!({
                "metadata": {"name": name},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "podcount.invalid/probe"}]}
            }))
            .expect("static object");
            for (create, into) in [(true, &mut created), (false, &mut deleted)] {
                let started = Instant::now();
                let r = if create {
                    pods.create(&PostParams::default(), &pod).await.map(|_| ())
                } else {
                    pods.delete(&name, &DeleteParams::default().grace_period(0)).await.map(|_| ())
                };
                r.map_err(|e| Error::cluster(format!("--probe: {}", chain(&e))))?;
                let want = if create { "\"to\":1" } else { "\"to\":0" };
                loop {
                    match lines.next_line().await {
                        Ok(Some(l)) if l.contains("\"change\"") && l.contains(want) => break,
                        Ok(Some(_)) => {}
                        _ => return Err(Error::cluster("the probe's watch ended")),
                    }
                }
                into.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        Ok((created, deleted))
    };
    let outcome = tokio::select! {
        r = tokio::time::timeout(Duration::from_secs(300), work) => r.unwrap_or_else(|_| Err(Error::cluster("--probe timed out"))),
        _ = tokio::signal::ctrl_c() => Err(Error::cluster("interrupted")),
    };
    let _ = watcher.kill().await;
    // Clean up whatever happened above.
    let _ = pods.delete_collection(&DeleteParams::default().grace_period(0), &Default::default()).await;
    let _ = namespaces.delete(&ns, &DeleteParams::default()).await;
    let (created, deleted) = outcome?;
    let (c50, c99, cmax) = millis(created);
    let (d50, d99, dmax) = millis(deleted);
    Ok(Probe {
        samples: samples as usize,
        create_p50_ms: c50,
        create_p99_ms: c99,
        create_max_ms: cmax,
        delete_p50_ms: d50,
        delete_p99_ms: d99,
        delete_max_ms: dmax,
    })
}
