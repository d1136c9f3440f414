//! What a pod's requests depend on, from either encoding: containers' and
//! init containers' resources and restart policy, overhead, pod-level
//! resources, and the resize status. Read only when resources are asked
//! for, as a second lean pass over the same item bytes (the counting pass
//! stays as cheap as before). A quantity that cannot be read is left out and
//! reported, never fatal.

use std::borrow::Cow;
use std::fmt;

use prost::Message;
use serde::Deserialize;

use super::Item;
use crate::model::quantity::{Quantity, QuantityError};
use crate::model::requests::{Container, ContainerStatus, List, PodResources};

/// A quantity the pod spells, but not as a quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// Where: `containers[app].requests.cpu`.
    pub field: String,
    pub text: String,
    pub error: QuantityError,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:?} is {}", self.field, self.text, self.error)
    }
}

/// A pod's resource fields, decoded lean from either encoding.
pub enum ResourcePod<'a> {
    Json(Box<JsonPod<'a>>),
    Proto(Box<ProtoPod>),
}

impl<'a> ResourcePod<'a> {
    pub fn decode(item: Item<'a>) -> Result<ResourcePod<'a>, String> {
        match item {
            Item::Json(b) => {
                serde_json::from_slice(b).map(|p| ResourcePod::Json(Box::new(p))).map_err(|e| e.to_string())
            }
            Item::Proto(b) => ProtoPod::decode(b).map(|p| ResourcePod::Proto(Box::new(p))).map_err(|e| e.to_string()),
        }
    }

    /// `namespace/name`, for warnings.
    pub fn name(&self) -> String {
        let (ns, name) = match self {
            ResourcePod::Json(p) => (p.metadata.namespace.as_deref(), p.metadata.name.as_deref()),
            ResourcePod::Proto(p) => {
                let m = p.metadata.as_ref();
                (m.and_then(|m| m.namespace.as_deref()), m.and_then(|m| m.name.as_deref()))
            }
        };
        format!("{}/{}", ns.unwrap_or_default(), name.unwrap_or_default())
    }

    /// What the request rule reads, and the quantities that could not be read.
    pub fn resources(&self) -> (PodResources<'_>, Vec<Unreadable>) {
        let mut bad = Vec::new();
        let r = match self {
            ResourcePod::Json(p) => pod_resources(&**p, &mut bad),
            ResourcePod::Proto(p) => pod_resources(&**p, &mut bad),
        };
        (r, bad)
    }
}

/// Reads `entries` into a list, reporting what is not a quantity.
fn read_list<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    field: impl Fn() -> String,
    bad: &mut Vec<Unreadable>,
) -> List<'a> {
    let mut out = List::new();
    for (name, text) in entries {
        match Quantity::parse(text) {
            Ok(q) => out.push((name, q)),
            Err(error) => bad.push(Unreadable { field: format!("{}.{name}", field()), text: text.to_string(), error }),
        }
    }
    out
}

// ------------------------------------------------------------------ JSON

/// A quantity as JSON carries it: a string (what the apiserver writes), or
/// a bare number (what a hand-written proxy might).
#[derive(Debug, Default)]
pub struct QuantityText<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for QuantityText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = QuantityText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(QuantityText(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(QuantityText(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(QuantityText(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(QuantityText(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(QuantityText(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A resource list in JSON, in the order written.
pub type JsonList<'a> = Vec<(Cow<'a, str>, QuantityText<'a>)>;

fn json_list<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<JsonList<'a>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = JsonList<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a resource list")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = m.next_entry::<Cow<'de, str>, QuantityText<'de>>()? {
                out.push((k, v));
            }
            Ok(out)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPod<'a> {
    #[serde(borrow, default)]
    metadata: JsonMeta<'a>,
    #[serde(borrow, default)]
    spec: JsonSpec<'a>,
    #[serde(borrow, default)]
    status: JsonStatus<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonMeta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    namespace: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpec<'a> {
    #[serde(borrow, default)]
    containers: Vec<JsonContainer<'a>>,
    #[serde(borrow, default)]
    init_containers: Vec<JsonContainer<'a>>,
    #[serde(borrow, default, deserialize_with = "json_list")]
    overhead: JsonList<'a>,
    #[serde(borrow, default)]
    resources: Option<JsonRequirements<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonContainer<'a> {
    #[serde(borrow, default)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    resources: Option<JsonRequirements<'a>>,
    #[serde(borrow, default)]
    restart_policy: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonRequirements<'a> {
    #[serde(borrow, default, deserialize_with = "json_list")]
    limits: JsonList<'a>,
    #[serde(borrow, default, deserialize_with = "json_list")]
    requests: JsonList<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonStatus<'a> {
    #[serde(borrow, default)]
    conditions: Vec<JsonCondition<'a>>,
    #[serde(borrow, default)]
    container_statuses: Vec<JsonContainerStatus<'a>>,
    #[serde(borrow, default)]
    init_container_statuses: Vec<JsonContainerStatus<'a>>,
    #[serde(borrow, default, deserialize_with = "json_list")]
    allocated_resources: JsonList<'a>,
    #[serde(borrow, default)]
    resources: Option<JsonRequirements<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct JsonCondition<'a> {
    #[serde(borrow, default, rename = "type")]
    type_: Cow<'a, str>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonContainerStatus<'a> {
    #[serde(borrow, default)]
    name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "json_list")]
    allocated_resources: JsonList<'a>,
    #[serde(borrow, default)]
    resources: Option<JsonRequirements<'a>>,
}

fn json_entries<'s>(l: &'s JsonList<'_>) -> impl Iterator<Item = (&'s str, &'s str)> {
    l.iter().map(|(k, v)| (k.as_ref(), v.0.as_ref()))
}

const EMPTY: &JsonList<'static> = &Vec::new();

impl ContainerFields for JsonContainer<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn requests(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.resources.as_ref().map_or(EMPTY, |r| &r.requests))
    }
    fn limits(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.resources.as_ref().map_or(EMPTY, |r| &r.limits))
    }
    fn restart_policy(&self) -> Option<&str> {
        self.restart_policy.as_deref()
    }
}

impl StatusFields for JsonContainerStatus<'_> {
    fn name(&self) -> &str {
        &self.name
    }
    fn allocated(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(&self.allocated_resources)
    }
    fn requests(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.resources.as_ref().map_or(EMPTY, |r| &r.requests))
    }
    fn limits(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.resources.as_ref().map_or(EMPTY, |r| &r.limits))
    }
}

impl<'a> PodFields for JsonPod<'a> {
    type Container = JsonContainer<'a>;
    type Status = JsonContainerStatus<'a>;
    fn containers(&self) -> &[Self::Container] {
        &self.spec.containers
    }
    fn init_containers(&self) -> &[Self::Container] {
        &self.spec.init_containers
    }
    fn overhead(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(&self.spec.overhead)
    }
    fn pod_requests(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.spec.resources.as_ref().map_or(EMPTY, |r| &r.requests))
    }
    fn pod_limits(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.spec.resources.as_ref().map_or(EMPTY, |r| &r.limits))
    }
    fn statuses(&self) -> impl Iterator<Item = &Self::Status> {
        self.status.container_statuses.iter().chain(&self.status.init_container_statuses)
    }
    fn conditions(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.status.conditions.iter().map(|c| (c.type_.as_ref(), c.reason.as_deref()))
    }
    fn status_allocated(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(&self.status.allocated_resources)
    }
    fn has_status_resources(&self) -> bool {
        self.status.resources.is_some()
    }
    fn status_requests(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.status.resources.as_ref().map_or(EMPTY, |r| &r.requests))
    }
    fn status_limits(&self) -> impl Iterator<Item = (&str, &str)> {
        json_entries(self.status.resources.as_ref().map_or(EMPTY, |r| &r.limits))
    }
}

/// `IsPodResizeInfeasible`: the first `PodResizePending` condition's reason.
fn resize_infeasible<'c>(conditions: impl IntoIterator<Item = (&'c str, Option<&'c str>)>) -> bool {
    conditions.into_iter().find(|(t, _)| *t == "PodResizePending").is_some_and(|(_, r)| r == Some("Infeasible"))
}

// ------------------------------------------------ one mapping, two encodings

/// A container's resource fields as either encoding holds them; quantity
/// maps as (name, quantity text) pairs.
trait ContainerFields {
    fn name(&self) -> &str;
    fn requests(&self) -> impl Iterator<Item = (&str, &str)>;
    fn limits(&self) -> impl Iterator<Item = (&str, &str)>;
    fn restart_policy(&self) -> Option<&str>;
}

/// A container status's resource fields.
trait StatusFields {
    fn name(&self) -> &str;
    fn allocated(&self) -> impl Iterator<Item = (&str, &str)>;
    fn requests(&self) -> impl Iterator<Item = (&str, &str)>;
    fn limits(&self) -> impl Iterator<Item = (&str, &str)>;
}

/// A pod's resource fields; [`pod_resources`] reads them into what the
/// request rule takes, the same way for both encodings.
trait PodFields {
    type Container: ContainerFields;
    type Status: StatusFields;
    fn containers(&self) -> &[Self::Container];
    fn init_containers(&self) -> &[Self::Container];
    fn overhead(&self) -> impl Iterator<Item = (&str, &str)>;
    fn pod_requests(&self) -> impl Iterator<Item = (&str, &str)>;
    fn pod_limits(&self) -> impl Iterator<Item = (&str, &str)>;
    /// `status.containerStatuses`, then `status.initContainerStatuses`.
    fn statuses(&self) -> impl Iterator<Item = &Self::Status>;
    fn conditions(&self) -> impl Iterator<Item = (&str, Option<&str>)>;
    fn status_allocated(&self) -> impl Iterator<Item = (&str, &str)>;
    /// Whether the pod reports pod-level `status.resources` at all.
    fn has_status_resources(&self) -> bool;
    fn status_requests(&self) -> impl Iterator<Item = (&str, &str)>;
    fn status_limits(&self) -> impl Iterator<Item = (&str, &str)>;
}

fn container<'s>(kind: &str, c: &'s impl ContainerFields, bad: &mut Vec<Unreadable>) -> Container<'s> {
    let field = |what: &str| format!("{kind}[{}].{what}", c.name());
    Container {
        name: c.name(),
        requests: read_list(c.requests(), || field("requests"), bad),
        limits: read_list(c.limits(), || field("limits"), bad),
        restartable: c.restart_policy() == Some("Always"),
    }
}

fn status<'s>(s: &'s impl StatusFields, bad: &mut Vec<Unreadable>) -> ContainerStatus<'s> {
    let field = |what: &str| format!("status[{}].{what}", s.name());
    ContainerStatus {
        name: s.name(),
        allocated: read_list(s.allocated(), || field("allocatedResources"), bad),
        requests: read_list(s.requests(), || field("resources.requests"), bad),
        limits: read_list(s.limits(), || field("resources.limits"), bad),
    }
}

fn pod_resources<'s>(p: &'s impl PodFields, bad: &mut Vec<Unreadable>) -> PodResources<'s> {
    PodResources {
        containers: p.containers().iter().map(|c| container("containers", c, bad)).collect(),
        init_containers: p.init_containers().iter().map(|c| container("initContainers", c, bad)).collect(),
        overhead: read_list(p.overhead(), || "overhead".into(), bad),
        pod_requests: read_list(p.pod_requests(), || "resources.requests".into(), bad),
        pod_limits: read_list(p.pod_limits(), || "resources.limits".into(), bad),
        statuses: p.statuses().map(|s| status(s, bad)).collect(),
        resize_infeasible: resize_infeasible(p.conditions()),
        status_allocated: read_list(p.status_allocated(), || "status.allocatedResources".into(), bad),
        status_resources: p.has_status_resources().then(|| {
            (
                read_list(p.status_requests(), || "status.resources.requests".into(), bad),
                read_list(p.status_limits(), || "status.resources.limits".into(), bad),
            )
        }),
    }
}

// -------------------------------------------------------------- protobuf

/// A Pod's resource fields (core/v1 generated.proto field numbers); every
/// other field is skipped.
#[derive(Clone, PartialEq, Message)]
pub struct ProtoPod {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<PodName>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<ProtoSpec>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<ProtoStatus>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodName {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub namespace: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoSpec {
    #[prost(message, repeated, tag = "2")]
    pub containers: Vec<ProtoContainer>,
    #[prost(message, repeated, tag = "20")]
    pub init_containers: Vec<ProtoContainer>,
    #[prost(message, repeated, tag = "32")]
    pub overhead: Vec<Entry>,
    #[prost(message, optional, tag = "40")]
    pub resources: Option<Requirements>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoContainer {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, optional, tag = "8")]
    pub resources: Option<Requirements>,
    #[prost(string, optional, tag = "24")]
    pub restart_policy: Option<String>,
}

/// `ResourceRequirements`: a map is a repeated entry on the wire.
#[derive(Clone, PartialEq, Message)]
pub struct Requirements {
    #[prost(message, repeated, tag = "1")]
    pub limits: Vec<Entry>,
    #[prost(message, repeated, tag = "2")]
    pub requests: Vec<Entry>,
}

/// One `map<string, Quantity>` entry; a Quantity is its string (field 1).
#[derive(Clone, PartialEq, Message)]
pub struct Entry {
    #[prost(string, optional, tag = "1")]
    pub key: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub value: Option<QuantityString>,
}

#[derive(Clone, PartialEq, Message)]
pub struct QuantityString {
    #[prost(string, optional, tag = "1")]
    pub string: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoStatus {
    #[prost(message, repeated, tag = "2")]
    pub conditions: Vec<ProtoCondition>,
    #[prost(message, repeated, tag = "8")]
    pub container_statuses: Vec<ProtoContainerStatus>,
    #[prost(message, repeated, tag = "10")]
    pub init_container_statuses: Vec<ProtoContainerStatus>,
    #[prost(message, repeated, tag = "19")]
    pub allocated_resources: Vec<Entry>,
    #[prost(message, optional, tag = "20")]
    pub resources: Option<Requirements>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoCondition {
    #[prost(string, optional, tag = "1")]
    pub r#type: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub reason: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoContainerStatus {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(message, repeated, tag = "10")]
    pub allocated_resources: Vec<Entry>,
    #[prost(message, optional, tag = "11")]
    pub resources: Option<Requirements>,
}

fn proto_entries(l: &[Entry]) -> impl Iterator<Item = (&str, &str)> {
    l.iter().map(|e| {
        (e.key.as_deref().unwrap_or_default(), e.value.as_ref().and_then(|v| v.string.as_deref()).unwrap_or_default())
    })
}

impl ContainerFields for ProtoContainer {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn requests(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.resources.as_ref().map_or(&[], |r| &r.requests))
    }
    fn limits(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.resources.as_ref().map_or(&[], |r| &r.limits))
    }
    fn restart_policy(&self) -> Option<&str> {
        self.restart_policy.as_deref()
    }
}

impl StatusFields for ProtoContainerStatus {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn allocated(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(&self.allocated_resources)
    }
    fn requests(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.resources.as_ref().map_or(&[], |r| &r.requests))
    }
    fn limits(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.resources.as_ref().map_or(&[], |r| &r.limits))
    }
}

static NO_SPEC: ProtoSpec =
    ProtoSpec { containers: Vec::new(), init_containers: Vec::new(), overhead: Vec::new(), resources: None };
static NO_STATUS: ProtoStatus = ProtoStatus {
    conditions: Vec::new(),
    container_statuses: Vec::new(),
    init_container_statuses: Vec::new(),
    allocated_resources: Vec::new(),
    resources: None,
};

impl ProtoPod {
    fn spec(&self) -> &ProtoSpec {
        self.spec.as_ref().unwrap_or(&NO_SPEC)
    }
    fn state(&self) -> &ProtoStatus {
        self.status.as_ref().unwrap_or(&NO_STATUS)
    }
}

impl PodFields for ProtoPod {
    type Container = ProtoContainer;
    type Status = ProtoContainerStatus;
    fn containers(&self) -> &[Self::Container] {
        &self.spec().containers
    }
    fn init_containers(&self) -> &[Self::Container] {
        &self.spec().init_containers
    }
    fn overhead(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(&self.spec().overhead)
    }
    fn pod_requests(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.spec().resources.as_ref().map_or(&[], |r| &r.requests))
    }
    fn pod_limits(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.spec().resources.as_ref().map_or(&[], |r| &r.limits))
    }
    fn statuses(&self) -> impl Iterator<Item = &Self::Status> {
        self.state().container_statuses.iter().chain(&self.state().init_container_statuses)
    }
    fn conditions(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.state().conditions.iter().map(|c| (c.r#type.as_deref().unwrap_or_default(), c.reason.as_deref()))
    }
    fn status_allocated(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(&self.state().allocated_resources)
    }
    fn has_status_resources(&self) -> bool {
        self.state().resources.is_some()
    }
    fn status_requests(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.state().resources.as_ref().map_or(&[], |r| &r.requests))
    }
    fn status_limits(&self) -> impl Iterator<Item = (&str, &str)> {
        proto_entries(self.state().resources.as_ref().map_or(&[], |r| &r.limits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = r#"{"metadata":{"name":"web-1","namespace":"shop","labels":{"a":"b"}},
      "spec":{"nodeName":"n1",
        "initContainers":[
          {"name":"proxy","restartPolicy":"Always","resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"memory":"128Mi"}}},
          {"name":"migrate","resources":{"requests":{"cpu":"200m","memory":"abc"}}}],
        "containers":[{"name":"app","image":"x","resources":{"requests":{"cpu":"100m","memory":128974848,"nvidia.com/gpu":"1"},"limits":{"nvidia.com/gpu":"1"}}}],
        "overhead":{"cpu":"250m"},
        "resources":null},
      "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"},{"type":"PodResizePending","status":"True","reason":"Infeasible"}],
        "containerStatuses":[{"name":"app","allocatedResources":{"cpu":"150m"},"resources":{"requests":{"cpu":"120m"}}}]}}"#;

    #[test]
    fn reads_what_the_rule_needs_and_reports_what_is_not_a_quantity() {
        let pod = ResourcePod::decode(Item::Json(POD.as_bytes())).unwrap();
        assert_eq!(pod.name(), "shop/web-1");
        let (r, bad) = pod.resources();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].field, "initContainers[migrate].requests.memory");
        assert_eq!(bad[0].text, "abc");
        assert!(r.resize_infeasible);
        assert!(r.init_containers[0].restartable && !r.init_containers[1].restartable);
        assert_eq!(r.containers[0].requests[1].1, Quantity::from_units(128974848), "a bare JSON number");
        // Infeasible: spec is left out, and only what the statuses say
        // counts: the app's allocated 150m (over its actuated 120m); the
        // containers without a status add nothing. Plus 250m overhead.
        let d = r.demand();
        assert_eq!(d.requests, [("cpu", 400)]);
        // Feasible: max(spec, actuated, allocated): the app 150m + the
        // sidecar 100m = 250m, under the init peak 200m + 100m = 300m.
        let r = PodResources { resize_infeasible: false, ..r };
        let d = r.demand();
        assert_eq!(d.requests, [("cpu", 550), ("memory", 128974848 + (64 << 20)), ("nvidia.com/gpu", 1)]);
        assert_eq!(d.limits, [("memory", 128 << 20), ("nvidia.com/gpu", 1)]);
    }

    #[test]
    fn protobuf_reads_the_same_fields() {
        let entry =
            |k: &str, v: &str| Entry { key: Some(k.into()), value: Some(QuantityString { string: Some(v.into()) }) };
        let pod = ProtoPod {
            metadata: Some(PodName { name: Some("p".into()), namespace: Some("ns".into()) }),
            spec: Some(ProtoSpec {
                containers: vec![ProtoContainer {
                    name: Some("app".into()),
                    resources: Some(Requirements { limits: vec![], requests: vec![entry("cpu", "100m")] }),
                    restart_policy: None,
                }],
                init_containers: vec![ProtoContainer {
                    name: Some("proxy".into()),
                    resources: Some(Requirements { limits: vec![], requests: vec![entry("cpu", "100m")] }),
                    restart_policy: Some("Always".into()),
                }],
                overhead: vec![],
                resources: Some(Requirements { limits: vec![], requests: vec![entry("memory", "2Gi")] }),
            }),
            status: None,
        };
        let bytes = pod.encode_to_vec();
        let decoded = ResourcePod::decode(Item::Proto(&bytes)).unwrap();
        assert_eq!(decoded.name(), "ns/p");
        let (r, bad) = decoded.resources();
        assert!(bad.is_empty());
        assert_eq!(r.demand().requests, [("cpu", 200), ("memory", 2 << 30)]);
    }
}
