//! A RuntimeClass's pod overhead: what admission adds to the requests of a
//! pod that names it (`--fits-pod` of a manifest with `runtimeClassName`).

use k8s_openapi::api::node::v1::RuntimeClass;
use kube::Api;

use crate::client::connect::Target;
use crate::client::http;
use crate::error::{Error, Result, chain};
use crate::model::fits::Shape;
use crate::model::quantity::Quantity;
use crate::model::requests::scheduler_units;

/// The overhead of RuntimeClass `name`, in the scheduler's units.
pub async fn overhead(t: &Target, name: &str) -> Result<Vec<(String, i64)>> {
    let api: Api<RuntimeClass> = Api::all(t.client.clone());
    let rc = tokio::time::timeout_at(http::deadline(&t.at), api.get(name))
        .await
        .map_err(|_| Error::cluster(format!("the API server did not answer for RuntimeClass {name} in time")))?
        .map_err(|e| match &e {
            kube::Error::Api(s) if s.code == 404 => Error::usage(format!(
                "--fits-pod: the manifest's runtimeClassName {name:?} is no RuntimeClass of this cluster"
            )),
            kube::Error::Api(s) if s.code == 403 => Error::forbidden(format!(
                "--fits-pod: cannot read RuntimeClass {name} for its overhead (needs: get runtimeclasses.node.k8s.io)"
            )),
            _ => Error::cluster(format!("cannot read RuntimeClass {name}: {}", chain(&e))),
        })?;
    let fixed = rc.overhead.and_then(|o| o.pod_fixed).unwrap_or_default();
    fixed
        .iter()
        .map(|(n, q)| {
            let q = Quantity::parse(&q.0)
                .map_err(|e| Error::cluster(format!("RuntimeClass {name}: overhead {n} {:?}: {e}", q.0)))?;
            Ok((n.clone(), scheduler_units(n, q)))
        })
        .collect()
}

/// The shapes, each with its RuntimeClass's overhead added as admission
/// would add it.
pub async fn with_overhead(t: &Target, fits: &[(Shape, Option<String>)]) -> Result<Vec<Shape>> {
    let mut out = Vec::new();
    for (shape, runtime_class) in fits {
        let mut shape = shape.clone();
        if let Some(rc) = runtime_class {
            for (name, v) in overhead(t, rc).await? {
                match shape.requests.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, r)) => *r += v,
                    None => shape.requests.push((name, v)),
                }
            }
        }
        out.push(shape);
    }
    Ok(out)
}
