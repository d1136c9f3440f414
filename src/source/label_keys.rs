//! The label keys some nodes carry: asked for only when a `--group-by` or
//! `-L` label is on no listed node, to name look-alikes. One bounded,
//! metadata-only request (PartialObjectMetadata), never the node objects.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;

use crate::client::connect::Target;
use crate::client::http;
use crate::model::label::look_alikes;

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

/// Nodes sampled for their label keys when a label is on none.
const LABEL_SAMPLE: u32 = 100;

/// Whether any node (of those `node_selector` picks) carries one of `keys`:
/// metadata-only Lists of at most one node each, bounded by the request
/// timeout. None when there is no such node (nothing to say) or the API
/// server does not answer.
pub async fn carried(t: &Target, node_selector: Option<&str>, keys: &[String]) -> Option<bool> {
    let api: Api<Node> = Api::all(t.client.clone());
    let base = node_selector.map(str::trim).filter(|s| !s.is_empty());
    let any = |selector: Option<String>| {
        let api = api.clone();
        async move {
            let mut lp = ListParams::default().limit(1);
            if let Some(s) = &selector {
                lp = lp.labels(s);
            }
            match tokio::time::timeout_at(http::deadline(&t.at), api.list_metadata(&lp)).await {
                Ok(Ok(list)) => Some(!list.items.is_empty()),
                _ => None,
            }
        }
    };
    if !any(base.map(String::from)).await? {
        return None;
    }
    for key in keys {
        if any(Some(base.map_or_else(|| key.clone(), |s| format!("{s},{key}")))).await? {
            return Some(true);
        }
    }
    Some(false)
}

/// The warning for a `-L`/`--group-by` label no listed node carries, with
/// the look-alikes among the keys a sample of nodes carries.
pub async fn on_no_node(t: &Target, flag: &str, name: &str) -> String {
    no_node_carries(flag, name, &sample(t, LABEL_SAMPLE).await)
}

/// The warning for a label no listed node carries, naming the keys nodes
/// do carry that look like it.
fn no_node_carries(flag: &str, name: &str, keys: &BTreeSet<String>) -> String {
    let alike = look_alikes(name, keys.iter().map(String::as_str));
    let hint = if alike.is_empty() {
        "check the key with kubectl get nodes --show-labels".to_string()
    } else {
        format!("nodes carry {}", alike.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", "))
    };
    format!("no listed node carries the label {name:?} ({flag}); {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_look_alikes_or_how_to_look() {
        let keys: BTreeSet<String> = ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map(String::from).into();
        assert_eq!(
            no_node_carries("--group-by", "topology.kubernetes.io/zones", &keys),
            "no listed node carries the label \"topology.kubernetes.io/zones\" (--group-by); nodes carry \"topology.kubernetes.io/zone\""
        );
        assert!(no_node_carries("-L", "team", &keys).ends_with("check the key with kubectl get nodes --show-labels"));
    }
}
