//! The cluster facts a shape's filters read beyond nodes and pods: its own
//! namespace (the context's when the manifest gives none) and that
//! namespace's labels (placed pods' `namespaceSelector` terms match them),
//! every namespace's labels when one of its own terms selects namespaces by
//! label (the scheduler resolves those to names), and each claim it mounts:
//! the PersistentVolumeClaim, its StorageClass's binding mode, the bound
//! PersistentVolume's node affinity and zone, and whether a CSINode limits
//! its driver's attachments. Bounded requests, asked only for shapes that
//! need them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSINode, StorageClass};
use kube::Api;
use kube::api::ListParams;

use crate::client::connect::Target;
use crate::client::http;
use crate::decode::terms::node_selector;
use crate::error::{Error, Result, chain};
use crate::model::fits::Shape;
use crate::model::placement::{BoundVolume, ClaimState};

/// The label every namespace carries with its own name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The shapes with their namespaces bound and read, and their claims read.
pub async fn with_cluster_facts(t: &Target, mut shapes: Vec<Shape>) -> Result<Vec<Shape>> {
    let mut all: Option<BTreeMap<String, BTreeMap<String, String>>> = None;
    let mut limited: Option<Vec<String>> = None;
    for shape in shapes.iter_mut().filter(|s| !s.constraints.claims.is_empty()) {
        let c = &mut shape.constraints;
        c.bind_namespace(&t.namespace);
        for claim in c.claims.iter_mut() {
            claim.state = read_claim(t, &c.namespace, &claim.name, &mut limited).await?;
        }
    }
    for shape in shapes.iter_mut().filter(|s| s.constraints.reads_domains()) {
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

/// The zone and region labels VolumeZone compares a volume's against the node's.
const ZONE_LABELS: [&str; 4] = [
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
];

/// What the volume filters see of claim `name` in `ns`.
async fn read_claim(t: &Target, ns: &str, name: &str, limited: &mut Option<Vec<String>>) -> Result<ClaimState> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(t.client.clone(), ns);
    let pvc = match bounded(t, claims.get_opt(name), &format!("claim {ns}/{name}"), "persistentvolumeclaims").await? {
        Err(why) => return Ok(ClaimState::Unreadable(why)),
        Ok(None) => return Ok(ClaimState::Missing),
        Ok(Some(pvc)) => pvc,
    };
    let spec = pvc.spec.unwrap_or_default();
    let modes = spec.access_modes.unwrap_or_default();
    let bound = pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    let volume = spec.volume_name.filter(|v| !v.is_empty() && bound);
    let Some(volume) = volume else {
        // Unbound: the class's binding mode decides (none: Immediate).
        let class = spec.storage_class_name.filter(|c| !c.is_empty());
        let deferred = match class {
            None => false,
            Some(class) => {
                let classes: Api<StorageClass> = Api::all(t.client.clone());
                match bounded(
                    t,
                    classes.get_opt(&class),
                    &format!("StorageClass {class}"),
                    "storageclasses.storage.k8s.io",
                )
                .await?
                {
                    Err(why) => return Ok(ClaimState::Unreadable(why)),
                    Ok(sc) => sc.and_then(|sc| sc.volume_binding_mode).as_deref() == Some("WaitForFirstConsumer"),
                }
            }
        };
        return Ok(if deferred { ClaimState::UnboundDeferred } else { ClaimState::UnboundImmediate });
    };
    let volumes: Api<PersistentVolume> = Api::all(t.client.clone());
    let pv =
        match bounded(t, volumes.get_opt(&volume), &format!("PersistentVolume {volume}"), "persistentvolumes").await? {
            Err(why) => return Ok(ClaimState::Unreadable(why)),
            Ok(None) => return Ok(ClaimState::UnboundImmediate),
            Ok(Some(pv)) => pv,
        };
    let labels = pv.metadata.labels.unwrap_or_default();
    let pv_spec = pv.spec.unwrap_or_default();
    let node_affinity = match pv_spec.node_affinity.and_then(|a| a.required) {
        Some(required) => Some(
            node_selector(&format!("PersistentVolume {volume} nodeAffinity.required"), &required)
                .map_err(Error::cluster)?,
        ),
        None => None,
    };
    let zones = ZONE_LABELS
        .iter()
        .filter_map(|k| Some((k.to_string(), labels.get(*k)?.split("__").map(String::from).collect())))
        .collect();
    let attach_limited = match pv_spec.csi.map(|c| c.driver) {
        Some(driver) => {
            if limited.is_none() {
                *limited = Some(limited_drivers(t).await);
            }
            limited.as_ref().expect("read").contains(&driver).then_some(driver)
        }
        None => None,
    };
    Ok(ClaimState::Bound(BoundVolume {
        read_write_once_pod: modes.iter().any(|m| m == "ReadWriteOncePod"),
        node_affinity,
        zones,
        attach_limited,
    }))
}

/// CSI drivers some CSINode gives an attach limit (`allocatable.count`);
/// none when the CSINodes cannot be read (the limit is then not said).
async fn limited_drivers(t: &Target) -> Vec<String> {
    let api: Api<CSINode> = Api::all(t.client.clone());
    match tokio::time::timeout_at(http::deadline(&t.at), api.list(&ListParams::default())).await {
        Ok(Ok(list)) => list
            .items
            .into_iter()
            .flat_map(|n| n.spec.drivers)
            .filter(|d| d.allocatable.as_ref().and_then(|a| a.count).is_some())
            .map(|d| d.name)
            .collect(),
        _ => Vec::new(),
    }
}

/// One GET, bounded by the request timeout: the object, or (Err inside)
/// why it may not be read; a cluster error otherwise.
async fn bounded<T>(
    t: &Target,
    get: impl std::future::Future<Output = kube::Result<Option<T>>>,
    what: &str,
    resource: &str,
) -> Result<std::result::Result<Option<T>, String>> {
    match tokio::time::timeout_at(http::deadline(&t.at), get).await {
        Ok(Ok(v)) => Ok(Ok(v)),
        Ok(Err(kube::Error::Api(s))) if s.code == 403 => {
            Ok(Err(format!("{what} could not be read (needs: get {resource}): its volume's filters are not modelled")))
        }
        Ok(Err(e)) => Err(Error::cluster(format!("cannot read {what}: {}", chain(&e)))),
        Err(_) => Err(Error::cluster(format!("the API server did not answer for {what} in time"))),
    }
}
