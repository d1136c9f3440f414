//! The namespace facts a shape's inter-pod filters read: its own namespace
//! (the context's when the manifest gives none) and that namespace's
//! labels (placed pods' `namespaceSelector` terms match them), and every
//! namespace's labels when one of its own terms selects namespaces by
//! label (the scheduler resolves those to names). Bounded requests, asked
//! only for shapes with pod affinity, anti-affinity or spread.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::ListParams;

use crate::client::connect::Target;
use crate::client::http;
use crate::error::{Error, Result, chain};
use crate::model::fits::Shape;

/// The label every namespace carries with its own name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The shapes with their namespaces bound and read.
pub async fn with_namespaces(t: &Target, mut shapes: Vec<Shape>) -> Result<Vec<Shape>> {
    let mut all: Option<BTreeMap<String, BTreeMap<String, String>>> = None;
    for shape in shapes.iter_mut().filter(|s| s.constraints.inter_pod()) {
        let c = &mut shape.constraints;
        c.bind_namespace(&t.namespace);
        let api: Api<Namespace> = Api::all(t.client.clone());
        let ns = c.namespace.clone();
        c.namespace_labels = match tokio::time::timeout_at(http::deadline(&t.at), api.get_metadata(&ns)).await {
            Ok(Ok(n)) => n.metadata.labels.unwrap_or_default(),
            Ok(Err(kube::Error::Api(s))) if s.code == 404 => [(NAME_LABEL.to_string(), ns.clone())].into(),
            Ok(Err(kube::Error::Api(s))) if s.code == 403 => {
                shape.bound_by.push(format!(
                    "the labels of namespace {ns} could not be read (needs: get namespaces): placed pods' namespaceSelector terms were matched on its name only"
                ));
                [(NAME_LABEL.to_string(), ns.clone())].into()
            }
            Ok(Err(e)) => return Err(Error::cluster(format!("cannot read namespace {ns}: {}", chain(&e)))),
            Err(_) => return Err(Error::cluster(format!("the API server did not answer for namespace {ns} in time"))),
        };
        if c.selects_namespaces() {
            if all.is_none() {
                all = Some(list(t).await?);
            }
            c.resolve_namespaces(all.as_ref().expect("listed"));
        }
    }
    Ok(shapes)
}

/// Every namespace's labels (metadata only).
async fn list(t: &Target) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let api: Api<Namespace> = Api::all(t.client.clone());
    let list = tokio::time::timeout_at(http::deadline(&t.at), api.list_metadata(&ListParams::default()))
        .await
        .map_err(|_| Error::cluster("the API server did not answer the namespace list in time"))?
        .map_err(|e| match &e {
            kube::Error::Api(s) if s.code == 403 => Error::forbidden(
                "--fits-pod: a pod affinity term selects namespaces by label, and namespaces cannot be listed (needs: list namespaces)",
            ),
            _ => Error::cluster(format!("cannot list namespaces: {}", chain(&e))),
        })?;
    Ok(list.items.into_iter().filter_map(|n| Some((n.metadata.name?, n.metadata.labels.unwrap_or_default()))).collect())
}
