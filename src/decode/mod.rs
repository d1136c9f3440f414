//! From the bytes the apiserver sends to the few facts counting reads, in
//! either encoding: protobuf ([`proto`]) or JSON ([`json`], split into items
//! as they arrive by [`split`]). Pure: no I/O, nothing of a Pod kept beyond
//! the fields asked for.

#[cfg(test)]
mod agreement;
pub mod json;
pub mod manifest;
pub mod neighbour;
pub mod proto;
pub mod resources;
pub mod split;
pub mod terms;

use prost::Message;
use serde::Deserialize;

use crate::model::node::NodeInfo;
use crate::model::node::NodeKeep;
use crate::model::pod::PodFacts;

/// How a body is encoded: what `--wire` asks for, and what the server sent
/// (from the Content-Type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Kubernetes protobuf, as kube-scheduler and kubelet read pods.
    #[default]
    Protobuf,
    Json,
}

impl Encoding {
    pub fn of_content_type(ct: Option<&str>) -> Encoding {
        match ct {
            Some(ct) if ct.trim_start().starts_with("application/vnd.kubernetes.protobuf") => Encoding::Protobuf,
            _ => Encoding::Json,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Protobuf => "protobuf",
        }
    }
}

/// One object's bytes, as the server encoded it (protobuf: no envelope).
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    Json(&'a [u8]),
    Proto(&'a [u8]),
}

/// A pod decoded lean from either encoding.
pub enum LeanPod<'a> {
    Json(json::SlimPod<'a>),
    Proto(proto::Pod),
}

impl<'a> LeanPod<'a> {
    pub fn decode(item: Item<'a>) -> std::result::Result<LeanPod<'a>, String> {
        match item {
            Item::Json(b) => serde_json::from_slice(b).map(LeanPod::Json).map_err(|e| e.to_string()),
            Item::Proto(b) => proto::Pod::decode(b).map(LeanPod::Proto).map_err(|e| e.to_string()),
        }
    }

    pub fn uid(&self) -> &str {
        match self {
            LeanPod::Json(p) => &p.metadata.uid,
            LeanPod::Proto(p) => p.uid(),
        }
    }

    pub fn resource_version(&self) -> Option<&str> {
        match self {
            LeanPod::Json(p) => p.metadata.resource_version.as_deref(),
            LeanPod::Proto(p) => p.resource_version(),
        }
    }

    pub fn facts(&self) -> PodFacts<&str> {
        match self {
            LeanPod::Json(p) => p.facts(),
            LeanPod::Proto(p) => p.facts(),
        }
    }
}

/// A node decoded lean from either encoding: what counting keeps of it,
/// and its resourceVersion.
pub fn node_info(item: Item<'_>, keep: &NodeKeep) -> std::result::Result<(NodeInfo, Option<String>), String> {
    match item {
        Item::Json(b) => {
            let n: json::SlimNode = serde_json::from_slice(b).map_err(|e| e.to_string())?;
            Ok((n.info(keep), n.metadata.resource_version.map(|v| v.into_owned())))
        }
        Item::Proto(b) => {
            let n = proto::Node::decode(b).map_err(|e| e.to_string())?;
            Ok((n.info(keep), n.resource_version().map(str::to_owned)))
        }
    }
}

/// An apiserver `Status` object, as sent with error responses and a watch's
/// ERROR events.
#[derive(Debug, Default, Deserialize)]
pub struct ApiStatus {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: u16,
}

impl ApiStatus {
    /// An error response body's Status, in whichever encoding it came
    /// (protobuf in its `k8s\0` envelope).
    pub fn of_body(content_type: Option<&str>, body: &[u8]) -> ApiStatus {
        match Encoding::of_content_type(content_type) {
            Encoding::Json => ApiStatus::of(Item::Json(body)),
            Encoding::Protobuf => match proto::unwrap(bytes::Bytes::copy_from_slice(body)) {
                Ok(raw) => ApiStatus::of(Item::Proto(&raw)),
                Err(_) => ApiStatus::default(),
            },
        }
    }

    /// A Status object (a watch's ERROR event carries one, envelope removed).
    pub fn of(object: Item<'_>) -> ApiStatus {
        match object {
            Item::Json(raw) => serde_json::from_slice(raw).unwrap_or_default(),
            Item::Proto(raw) => proto::Status::decode(raw)
                .map(|s| ApiStatus {
                    message: s.message.unwrap_or_default(),
                    code: s.code.and_then(|c| u16::try_from(c).ok()).unwrap_or(0),
                })
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_in_either_encoding() {
        let json = br#"{"kind":"Status","message":"too old","code":410}"#;
        let s = ApiStatus::of_body(Some("application/json"), json);
        assert_eq!((s.message.as_str(), s.code), ("too old", 410));
        let st = proto::Status { message: Some("gone".into()), code: Some(410) };
        let body = proto::tests::envelope(&st.encode_to_vec());
        let s = ApiStatus::of_body(Some("application/vnd.kubernetes.protobuf"), &body);
        assert_eq!((s.message.as_str(), s.code), ("gone", 410));
        assert_eq!(ApiStatus::of_body(Some("application/vnd.kubernetes.protobuf"), b"junk").code, 0);
    }
}
