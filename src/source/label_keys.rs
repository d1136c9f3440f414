//! The label keys some nodes carry: asked for only when a `--group-by` or
//! `-L` label is on no listed node, to name look-alikes. One bounded,
//! metadata-only request (PartialObjectMetadata), never the node objects.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;

use crate::client::connect::Target;
use crate::client::http;

/// The label keys of up to `sample` nodes; empty when the API server does
/// not answer in time or refuses (the hint is a courtesy, not a result).
pub async fn sample(t: &Target, sample: u32) -> BTreeSet<String> {
    let api: Api<Node> = Api::all(t.client.clone());
    let lp = ListParams::default().limit(sample);
    match tokio::time::timeout_at(http::deadline(&t.at), api.list_metadata(&lp)).await {
        Ok(Ok(list)) => {
            list.items.iter().flat_map(|n| n.metadata.labels.iter().flatten().map(|(k, _)| k.clone())).collect()
        }
        _ => BTreeSet::new(),
    }
}
