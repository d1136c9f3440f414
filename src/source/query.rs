//! What a pod List asks the apiserver for: namespace, selectors (the phase
//! filter pushed to the server), page size, resourceVersion, and whether
//! rows of the Table API or pod objects come back.

use crate::client::connect::Target;
use crate::client::pager::{Accept, ListRequest, path_segment};
use crate::error::Error;
use crate::model::filter::Filter;
use crate::model::placement::Constraints;

/// Pushed to the server so finished pods are never sent at all; ANDed with a
/// user's `--field-selector`. Counting still applies the rule itself.
pub const NOT_FINISHED: &str = "status.phase!=Succeeded,status.phase!=Failed";

/// The Table API: rows of printed columns instead of objects.
pub const TABLE: &str = "application/json;as=Table;g=meta.k8s.io;v=v1";

/// Pods per List page by default. kubectl's 500 was sized for JSON objects;
/// measured at 100,000 pods on the test bed (BENCHMARKS.md), 5,000 took the
/// Table path from 5.7 s to 1.3 s and protobuf objects from 12.7 s to 7.3 s,
/// with count's peak RSS under 20 MB (10,000 gained little and cost 2.4 MB).
pub const DEFAULT_CHUNK: u32 = 5000;

/// How pods are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Method {
    /// Pod objects, decoded lean: counts and the full breakdown.
    #[default]
    Objects,
    /// The Table API without objects: the server prints only the Node
    /// column we read, a fraction of the bytes; counts only, no breakdown.
    Table,
}

/// How often a list whose continue token expired (410) starts over.
pub const MAX_RESTARTS: u32 = 3;

#[derive(Clone, Debug, Default)]
pub struct PodQuery {
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// 0: one unpaginated request.
    pub chunk_size: u32,
    /// Unset: a consistent read. "0": whatever the apiserver's watch cache
    /// holds (the server then ignores `limit`).
    pub resource_version: Option<String>,
    pub method: Method,
    /// Also read what each pod requests (objects only; a second lean pass
    /// over each pod's bytes).
    pub resources: bool,
    /// With `resources`: limits too (`--limits`), else requests only.
    pub limits: bool,
    /// Also read what each placed pod tells these shapes' inter-pod
    /// filters (labels, host ports, anti-affinity; a third lean pass).
    pub placing: Vec<Constraints>,
    /// `--drain`/`--lose`: the pods that go, taken out of the count (a
    /// drain) or counted as terminating (a loss).
    pub removed: Option<Removed>,
}

/// The pods a what-if removes, by UID.
#[derive(Clone, Debug)]
pub struct Removed {
    /// A loss: they stay terminating on their node (they count there and
    /// for inter-pod affinity, not for spread); a drain: they are gone.
    pub lose: bool,
    pub going: std::sync::Arc<crate::model::removal::Going>,
}

impl PodQuery {
    /// The pods a filter asks for.
    pub fn new(s: &Filter, chunk_size: u32, method: Method) -> PodQuery {
        PodQuery {
            namespace: s.namespace.clone(),
            label_selector: s.label_selector.clone(),
            field_selector: s.field_selector.clone(),
            chunk_size,
            resource_version: None,
            method,
            resources: false,
            limits: false,
            placing: Vec::new(),
            removed: None,
        }
    }

    /// The field selector sent: the user's, ANDed with [`NOT_FINISHED`].
    pub fn server_field_selector(&self) -> String {
        match self.field_selector.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(user) => format!("{user},{NOT_FINISHED}"),
            None => NOT_FINISHED.to_string(),
        }
    }

    pub fn path(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("/api/v1/namespaces/{}/pods", path_segment(ns)),
            None => "/api/v1/pods".to_string(),
        }
    }

    /// The paginated List this query makes.
    pub fn list_request(&self) -> ListRequest {
        let table = self.method == Method::Table;
        ListRequest {
            path: self.path(),
            accept: if table { Accept::Exactly(TABLE) } else { Accept::Objects },
            params: vec![
                ("labelSelector", self.label_selector.clone()),
                ("fieldSelector", Some(self.server_field_selector())),
                ("resourceVersion", self.resource_version.clone()),
                ("includeObject", table.then(|| "None".to_string())),
            ],
            chunk_size: self.chunk_size,
            resource: "pods",
            namespace: self.namespace.clone(),
        }
    }
}

/// A user refused pods at cluster scope may still read them in a namespace
/// of theirs: say which flag to try.
pub fn suggest_namespace(e: Error, namespace: Option<&str>, t: &Target) -> Error {
    if !e.is_forbidden() || namespace.is_some() {
        return e;
    }
    Error::forbidden(format!("{e}; to count one namespace, pass -n {} (the context's namespace)", t.namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_selector_is_anded_with_the_phase_filter() {
        let mut q = PodQuery::default();
        assert_eq!(q.server_field_selector(), NOT_FINISHED);
        q.field_selector = Some("spec.schedulerName=x".into());
        assert_eq!(q.server_field_selector(), format!("spec.schedulerName=x,{NOT_FINISHED}"));
        let q = PodQuery { namespace: Some("team-01".into()), ..Default::default() };
        assert_eq!(q.path(), "/api/v1/namespaces/team-01/pods");
    }
}
