//! What a placed pod tells the inter-pod filters ([`Neighbour`]): its
//! namespace and labels, whether it is terminating, the host ports it binds
//! (containers and restartable init containers), and its required pod
//! anti-affinity terms, from either encoding. Read only when a `--fits`
//! shape has host ports, pod affinity, anti-affinity or spread: a second
//! lean pass over the item bytes, as the resources pass is.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodAffinityTerm;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use prost::Message;
use serde::Deserialize;

use super::Item;
use super::proto::Time;
use super::terms::pod_term;
use crate::model::placement::{Constraints, HostPort, Neighbour};

/// What `placing`'s shapes need of a placed pod: None when it tells them
/// nothing for certain. When they ask only whether placed pods' required
/// anti-affinity repels them (a `--fits-pod` with no inter-pod terms of its
/// own), a pod without such terms is passed over without decoding it: as
/// JSON, by the absence of the `podAntiAffinity` key; as protobuf, by
/// reading its spec's affinity alone.
pub fn decode_for(item: Item<'_>, placing: &[Constraints]) -> Result<Option<Neighbour>, String> {
    if !placing.iter().all(Constraints::reads_repelling_only) {
        return decode(item).map(Some);
    }
    let repels = match item {
        Item::Json(b) => memchr::memmem::find(b, b"\"podAntiAffinity\"").is_some(),
        Item::Proto(b) => ProtoSpecOnly::decode(b).map_err(|e| e.to_string())?.has_required_anti_affinity(),
    };
    if !repels {
        return Ok(None);
    }
    let n = decode(item)?;
    Ok((!n.anti_affinity.is_empty()).then_some(n))
}

/// Decodes a placed pod's facts for the inter-pod filters.
pub fn decode(item: Item<'_>) -> Result<Neighbour, String> {
    match item {
        Item::Json(b) => serde_json::from_slice::<JsonPod>(b).map(JsonPod::neighbour).map_err(|e| e.to_string()),
        Item::Proto(b) => ProtoPod::decode(b).map(ProtoPod::neighbour).map_err(|e| e.to_string()),
    }
}

/// A port, whichever encoding it came in.
struct Port<'a> {
    host_port: Option<i32>,
    container_port: Option<i32>,
    protocol: Option<&'a str>,
    host_ip: Option<&'a str>,
}

/// Host ports of the containers and the init containers that keep running
/// (`util.GetHostPorts`); a hostNetwork pod's container ports are its host
/// ports.
fn host_ports(host_network: bool, containers: &[ProtoContainer], init: &[ProtoContainer]) -> Vec<HostPort> {
    init.iter()
        .filter(|c| c.restartable())
        .chain(containers)
        .flat_map(ProtoContainer::ports)
        .filter_map(|p| {
            let port = match p.host_port {
                Some(h) if h > 0 => h,
                _ if host_network => p.container_port.filter(|c| *c > 0)?,
                _ => return None,
            };
            Some(HostPort::new(p.host_ip, p.protocol, port))
        })
        .collect()
}

/// The pod's own anti-affinity terms (namespaces relative to its own); a
/// term the apiserver would not have admitted is skipped.
fn anti_terms(
    terms: &[PodAffinityTerm],
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<crate::model::placement::PodTerm> {
    terms.iter().filter_map(|t| pod_term("placed pod", t, namespace, labels).ok()).collect()
}

#[derive(Deserialize)]
struct JsonPod {
    #[serde(default)]
    metadata: JsonMeta,
    #[serde(default)]
    spec: JsonSpec,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonMeta {
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    deletion_timestamp: Option<serde::de::IgnoredAny>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSpec {
    #[serde(default)]
    host_network: bool,
    #[serde(default)]
    containers: Vec<ProtoContainer>,
    #[serde(default)]
    init_containers: Vec<ProtoContainer>,
    #[serde(default)]
    affinity: Option<JsonAffinity>,
    #[serde(default)]
    volumes: Vec<JsonVolume>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonVolume {
    #[serde(default)]
    persistent_volume_claim: Option<JsonClaim>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonClaim {
    #[serde(default)]
    claim_name: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonAffinity {
    #[serde(default)]
    pod_anti_affinity: Option<JsonAnti>,
}

#[derive(Default, Deserialize)]
struct JsonAnti {
    #[serde(default, rename = "requiredDuringSchedulingIgnoredDuringExecution")]
    required: Vec<PodAffinityTerm>,
}

impl JsonPod {
    fn neighbour(self) -> Neighbour {
        let spec = &self.spec;
        let host_ports = host_ports(spec.host_network, &spec.containers, &spec.init_containers);
        let terms = spec.affinity.as_ref().and_then(|a| a.pod_anti_affinity.as_ref()).map(|a| a.required.as_slice());
        let anti_affinity = anti_terms(terms.unwrap_or_default(), &self.metadata.namespace, &self.metadata.labels);
        let claims =
            spec.volumes.iter().filter_map(|v| Some(v.persistent_volume_claim.as_ref()?.claim_name.clone())).collect();
        Neighbour {
            claims,
            terminating: self.metadata.deletion_timestamp.is_some(),
            namespace: self.metadata.namespace,
            labels: self.metadata.labels,
            host_ports,
            anti_affinity,
        }
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoPod {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ProtoMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<ProtoSpec>,
}

/// A pod's spec's affinity alone (the rest of the bytes skipped).
#[derive(Clone, PartialEq, Message)]
pub struct ProtoSpecOnly {
    #[prost(message, optional, tag = "2")]
    pub spec: Option<ProtoAffinityOnly>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoAffinityOnly {
    #[prost(message, optional, tag = "18")]
    pub affinity: Option<ProtoAffinity>,
}

impl ProtoSpecOnly {
    fn has_required_anti_affinity(&self) -> bool {
        let anti = self.spec.as_ref().and_then(|s| s.affinity.as_ref()).and_then(|a| a.pod_anti_affinity.as_ref());
        anti.is_some_and(|a| !a.required.is_empty())
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoMeta {
    #[prost(string, optional, tag = "3")]
    pub namespace: Option<String>,
    #[prost(message, optional, tag = "9")]
    pub deletion_timestamp: Option<Time>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoSpec {
    #[prost(message, repeated, tag = "1")]
    pub volumes: Vec<ProtoVolume>,
    #[prost(message, repeated, tag = "2")]
    pub containers: Vec<ProtoContainer>,
    #[prost(bool, optional, tag = "11")]
    pub host_network: Option<bool>,
    #[prost(message, optional, tag = "18")]
    pub affinity: Option<ProtoAffinity>,
    #[prost(message, repeated, tag = "20")]
    pub init_containers: Vec<ProtoContainer>,
}

/// A container's ports and restart policy: the same message read from
/// protobuf (prost) and from JSON (serde).
#[derive(Clone, PartialEq, Message, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtoContainer {
    #[prost(message, repeated, tag = "6")]
    #[serde(default)]
    pub ports: Vec<ProtoPort>,
    #[prost(string, optional, tag = "24")]
    #[serde(default)]
    pub restart_policy: Option<String>,
}

#[derive(Clone, PartialEq, Message, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtoPort {
    #[prost(int32, optional, tag = "2")]
    #[serde(default)]
    pub host_port: Option<i32>,
    #[prost(int32, optional, tag = "3")]
    #[serde(default)]
    pub container_port: Option<i32>,
    #[prost(string, optional, tag = "4")]
    #[serde(default)]
    pub protocol: Option<String>,
    #[prost(string, optional, tag = "5")]
    #[serde(default, rename = "hostIP")]
    pub host_ip: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoVolume {
    #[prost(message, optional, tag = "2")]
    pub source: Option<ProtoVolumeSource>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoVolumeSource {
    #[prost(message, optional, tag = "10")]
    pub persistent_volume_claim: Option<ProtoClaim>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoClaim {
    #[prost(string, optional, tag = "1")]
    pub claim_name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoAffinity {
    #[prost(message, optional, tag = "3")]
    pub pod_anti_affinity: Option<ProtoAnti>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoAnti {
    #[prost(message, repeated, tag = "1")]
    pub required: Vec<ProtoTerm>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoTerm {
    #[prost(message, optional, tag = "1")]
    pub label_selector: Option<ProtoSelector>,
    #[prost(string, repeated, tag = "2")]
    pub namespaces: Vec<String>,
    #[prost(string, optional, tag = "3")]
    pub topology_key: Option<String>,
    #[prost(message, optional, tag = "4")]
    pub namespace_selector: Option<ProtoSelector>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoSelector {
    #[prost(btree_map = "string, string", tag = "1")]
    pub match_labels: BTreeMap<String, String>,
    #[prost(message, repeated, tag = "2")]
    pub match_expressions: Vec<ProtoRequirement>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoRequirement {
    #[prost(string, optional, tag = "1")]
    pub key: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub operator: Option<String>,
    #[prost(string, repeated, tag = "3")]
    pub values: Vec<String>,
}

impl ProtoSelector {
    fn k8s(self) -> LabelSelector {
        LabelSelector {
            match_labels: Some(self.match_labels),
            match_expressions: Some(
                self.match_expressions
                    .into_iter()
                    .map(|r| LabelSelectorRequirement {
                        key: r.key.unwrap_or_default(),
                        operator: r.operator.unwrap_or_default(),
                        values: Some(r.values),
                    })
                    .collect(),
            ),
        }
    }
}

impl ProtoContainer {
    /// An init container that keeps running (`restartPolicy: Always`).
    fn restartable(&self) -> bool {
        self.restart_policy.as_deref() == Some("Always")
    }
    fn ports(&self) -> impl Iterator<Item = Port<'_>> {
        self.ports.iter().map(|p| Port {
            host_port: p.host_port,
            container_port: p.container_port,
            protocol: p.protocol.as_deref(),
            host_ip: p.host_ip.as_deref(),
        })
    }
}

impl ProtoPod {
    fn neighbour(self) -> Neighbour {
        let meta = self.metadata.unwrap_or_default();
        let spec = self.spec.unwrap_or_default();
        let host_ports = host_ports(spec.host_network == Some(true), &spec.containers, &spec.init_containers);
        let namespace = meta.namespace.unwrap_or_default();
        let terms: Vec<PodAffinityTerm> = spec
            .affinity
            .and_then(|a| a.pod_anti_affinity)
            .map(|a| a.required)
            .unwrap_or_default()
            .into_iter()
            .map(|t| PodAffinityTerm {
                label_selector: t.label_selector.map(ProtoSelector::k8s),
                namespaces: Some(t.namespaces),
                topology_key: t.topology_key.unwrap_or_default(),
                namespace_selector: t.namespace_selector.map(ProtoSelector::k8s),
                ..Default::default()
            })
            .collect();
        let anti_affinity = anti_terms(&terms, &namespace, &meta.labels);
        let claims = spec.volumes.into_iter().filter_map(|v| v.source?.persistent_volume_claim?.claim_name).collect();
        Neighbour {
            terminating: meta.deletion_timestamp.is_some(),
            namespace,
            labels: meta.labels,
            host_ports,
            anti_affinity,
            claims,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::placement::Namespaces;
    use k8s_openapi::api::core::v1::Pod;

    /// The same pod as JSON and as protobuf (encoded from JSON by the
    /// prost messages' own encoder is not an oracle; the wire bytes of a
    /// real apiserver are checked on the test bed): here the JSON path
    /// against k8s-openapi's own reading.
    #[test]
    fn a_placed_pod_as_json() {
        let json = r#"{"metadata":{"name":"p","namespace":"shop","labels":{"app":"web"},"deletionTimestamp":"2026-01-01T00:00:00Z"},
            "spec":{"hostNetwork":true,"nodeName":"n1",
              "initContainers":[{"name":"sidecar","restartPolicy":"Always","ports":[{"containerPort":9000}]},{"name":"init","ports":[{"containerPort":9001,"hostPort":9001}]}],
              "containers":[{"name":"a","ports":[{"containerPort":80,"hostPort":80,"protocol":"UDP","hostIP":"10.0.0.1"}]}],
              "volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"data"}},{"name":"e","emptyDir":{}}],
              "affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
                {"labelSelector":{"matchLabels":{"app":"web"}},"topologyKey":"kubernetes.io/hostname"},
                {"labelSelector":{"matchExpressions":[{"key":"tier","operator":"In","values":["db"]}]},"namespaces":["data"],"topologyKey":"zone"}]}}}}"#;
        let n = decode(Item::Json(json.as_bytes())).unwrap();
        assert!(n.terminating);
        assert_eq!((n.namespace.as_str(), n.labels["app"].as_str()), ("shop", "web"));
        assert_eq!(n.claims, ["data"]);
        assert_eq!(n.host_ports, [HostPort::new(None, None, 9000), HostPort::new(Some("10.0.0.1"), Some("UDP"), 80)]);
        assert_eq!(n.anti_affinity.len(), 2);
        assert_eq!(n.anti_affinity[0].namespaces, Namespaces::Listed(["shop".to_string()].into()));
        assert_eq!(n.anti_affinity[1].namespaces, Namespaces::Listed(["data".to_string()].into()));
        // k8s-openapi reads the same pod: the terms we kept are its terms.
        let pod: Pod = serde_json::from_str(json).unwrap();
        let terms = pod
            .spec
            .unwrap()
            .affinity
            .unwrap()
            .pod_anti_affinity
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .unwrap();
        assert_eq!(
            terms.iter().map(|t| t.topology_key.as_str()).collect::<Vec<_>>(),
            ["kubernetes.io/hostname", "zone"]
        );
    }

    #[test]
    fn a_pod_asking_only_about_repelling_passes_over_pods_without_required_anti_affinity() {
        let only = [Constraints { pod: true, ..Default::default() }];
        let json = |affinity: &str| {
            format!(
                r#"{{"metadata":{{"namespace":"shop","labels":{{"app":"db"}}}},"spec":{{"affinity":{affinity},"containers":[{{"name":"a","ports":[{{"containerPort":80,"hostPort":80}}]}}]}}}}"#
            )
        };
        let required = json(
            r#"{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{},"topologyKey":"kubernetes.io/hostname"}]}}"#,
        );
        let preferred = json(
            r#"{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,"podAffinityTerm":{"labelSelector":{},"topologyKey":"kubernetes.io/hostname"}}]}}"#,
        );
        let none = json("{}");
        let read = |j: &str, placing: &[Constraints]| decode_for(Item::Json(j.as_bytes()), placing).unwrap();
        assert_eq!(read(&required, &only).map(|n| n.anti_affinity.len()), Some(1));
        assert_eq!(read(&preferred, &only), None);
        assert_eq!(read(&none, &only), None);
        // A shape with a host port of its own reads every pod.
        let ports = [Constraints { pod: true, host_ports: vec![HostPort::new(None, None, 80)], ..Default::default() }];
        assert_eq!(read(&none, &ports).map(|n| n.host_ports.len()), Some(1));
        // The same pods as protobuf, encoded from what k8s-openapi reads of the JSON.
        let proto = |j: &str| {
            let pod: Pod = serde_json::from_str(j).unwrap();
            let terms = pod.spec.and_then(|s| s.affinity).and_then(|a| a.pod_anti_affinity);
            let required =
                terms.and_then(|a| a.required_during_scheduling_ignored_during_execution).unwrap_or_default();
            ProtoPod {
                metadata: Some(ProtoMeta {
                    namespace: Some("shop".into()),
                    deletion_timestamp: None,
                    labels: [].into(),
                }),
                spec: Some(ProtoSpec {
                    affinity: Some(ProtoAffinity {
                        pod_anti_affinity: Some(ProtoAnti {
                            required: required
                                .iter()
                                .map(|t| ProtoTerm {
                                    label_selector: Some(ProtoSelector::default()),
                                    namespaces: vec![],
                                    topology_key: Some(t.topology_key.clone()),
                                    namespace_selector: None,
                                })
                                .collect(),
                        }),
                    }),
                    ..Default::default()
                }),
            }
            .encode_to_vec()
        };
        assert!(decode_for(Item::Proto(&proto(&required)), &only).unwrap().is_some());
        assert_eq!(decode_for(Item::Proto(&proto(&none)), &only).unwrap(), None);
    }

    #[test]
    fn a_placed_pod_as_protobuf() {
        let pod = ProtoPod {
            metadata: Some(ProtoMeta {
                namespace: Some("shop".into()),
                deletion_timestamp: None,
                labels: [("app".to_string(), "web".to_string())].into(),
            }),
            spec: Some(ProtoSpec {
                volumes: vec![ProtoVolume {
                    source: Some(ProtoVolumeSource {
                        persistent_volume_claim: Some(ProtoClaim { claim_name: Some("data".into()) }),
                    }),
                }],
                containers: vec![ProtoContainer {
                    ports: vec![ProtoPort {
                        host_port: Some(8080),
                        container_port: Some(80),
                        protocol: None,
                        host_ip: None,
                    }],
                    restart_policy: None,
                }],
                host_network: None,
                affinity: Some(ProtoAffinity {
                    pod_anti_affinity: Some(ProtoAnti {
                        required: vec![ProtoTerm {
                            label_selector: Some(ProtoSelector {
                                match_labels: [("app".to_string(), "web".to_string())].into(),
                                match_expressions: vec![],
                            }),
                            namespaces: vec![],
                            topology_key: Some("kubernetes.io/hostname".into()),
                            namespace_selector: Some(ProtoSelector::default()),
                        }],
                    }),
                }),
                init_containers: vec![],
            }),
        };
        let n = decode(Item::Proto(&pod.encode_to_vec())).unwrap();
        assert!(!n.terminating);
        assert_eq!(n.host_ports, [HostPort::new(None, None, 8080)]);
        assert_eq!(n.anti_affinity[0].namespaces, Namespaces::All, "namespaceSelector: {{}}");
        assert_eq!(n.claims, ["data"]);
    }
}
