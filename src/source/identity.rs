//! Which cluster a context reaches, as the cluster itself says it: the UID of
//! its `kube-system` namespace (what cluster registries, Velero and many
//! multi-cluster tools use), so that a watch and a user whose kubeconfigs
//! name the same cluster differently still know it is one cluster. One
//! bounded request.

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;

use crate::client::connect::Target;
use crate::client::http;
use crate::error::chain;

/// The namespace every cluster has and keeps for its lifetime.
const IDENTITY_NAMESPACE: &str = "kube-system";

/// What RBAC rule reading the identity needs, for messages.
pub const NEEDS: &str = "get on namespaces, resourceNames [kube-system]";

/// The cluster's identity, or why it cannot be read.
pub async fn cluster_id(t: &Target) -> Result<String, String> {
    let api: Api<Namespace> = Api::all(t.client.clone());
    match tokio::time::timeout_at(http::deadline(&t.at), api.get_metadata(IDENTITY_NAMESPACE)).await {
        Ok(Ok(ns)) => {
            ns.metadata.uid.filter(|u| !u.is_empty()).ok_or_else(|| "its kube-system namespace has no UID".into())
        }
        Ok(Err(kube::Error::Api(s))) if s.code == 403 => {
            Err(format!("the namespace kube-system is not readable (needs: {NEEDS})"))
        }
        Ok(Err(kube::Error::Api(s))) if s.code == 404 => Err("it has no kube-system namespace".into()),
        Ok(Err(e)) => Err(format!("reading the namespace kube-system failed: {}", chain(&e))),
        Err(_) => Err("the API server did not answer for the namespace kube-system in time".into()),
    }
}
