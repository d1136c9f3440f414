//! `count --from URL`: the counts a running `watch --listen` holds, read from
//! its `/v1/podcount`, when they answer exactly this question (same contexts,
//! same selection, the node labels the views need); otherwise why not, so
//! the caller lists instead.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};

use crate::model::filter::Filter;
use crate::render::document::parse;
use crate::report::Counted;
use crate::report::group::GroupKey;

/// How long `--from` waits for a watch's answer before listing instead.
const WAIT: Duration = Duration::from_secs(1);

/// The watch's counts for exactly these contexts and this selection, with
/// these node labels, or why not.
pub async fn watch(url: &str, contexts: &[String], filter: &Filter, labels: &[String]) -> Result<Vec<Counted>, String> {
    let base = url.trim().trim_end_matches('/');
    let uri: http::Uri = format!("{base}/v1/podcount").parse().map_err(|e| format!("not a URL ({e})"))?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// URLs are served by watch --listen".into());
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    let fetch = async {
        let resp = client.get(uri).await.map_err(|e| format!("unreachable ({})", crate::error::chain(&e)))?;
        let status = resp.status();
        let body = resp.into_body().collect().await.map_err(|e| format!("the answer broke off ({e})"))?.to_bytes();
        Ok::<_, String>((status, body))
    };
    let (status, body) = tokio::time::timeout(WAIT, fetch)
        .await
        .map_err(|_| format!("no answer within {}", humantime::format_duration(WAIT)))??;
    if status == http::StatusCode::SERVICE_UNAVAILABLE {
        let why = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
            .unwrap_or_else(|| "not synced".into());
        return Err(why);
    }
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    let counted = parse(&body)?;
    let served: Vec<&str> = counted.iter().map(|c| c.context.as_str()).collect();
    if served != contexts.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err(format!("it watches context(s) {}, not {}", served.join(","), contexts.join(",")));
    }
    if let Some(c) = counted.iter().find(|c| c.filter != *filter) {
        return Err(format!("it watches other filters ({:?}, not {:?})", c.filter, filter));
    }
    // A watch keeps only the labels of its own --group-by.
    let kept = counted.first().and_then(|c| c.groups.as_ref()).map(|g| GroupKey::parse(&g.by).labels);
    if let Some(missing) = labels.iter().find(|l| !kept.as_ref().is_some_and(|k| k.contains(l))) {
        return Err(format!(
            "it keeps no node label {missing:?}, which -L/--group-by need (a watch keeps the labels of its own --group-by)"
        ));
    }
    Ok(counted)
}
