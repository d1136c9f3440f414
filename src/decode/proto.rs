//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`), read lean:
//! the encoding kube-scheduler and kubelet read pods in. Field numbers are
//! those of `k8s.io/api/core/v1/generated.proto` and
//! `k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`; each message here
//! declares only the fields counting reads, and prost skips every other field
//! without storing it (a container spec is one length-prefixed skip).
//!
//! Framing, both pure and fed chunk by chunk:
//! - a List body is the magic `k8s\0` and a `runtime.Unknown` whose `raw`
//!   (field 2) is the PodList; [`ListSplitter`] walks into `raw` as bytes
//!   arrive and hands over each item (PodList field 2) once it is complete;
//! - a watch stream is frames of a 4-byte big-endian length and a
//!   `metav1.WatchEvent` whose object's `raw` is an enveloped object again
//!   ([`Frames`], [`event`]).

use bytes::{Buf, Bytes, BytesMut};
use prost::Message;
use prost::encoding::{WireType, decode_key, decode_varint};

use crate::model::node::{NodeFields, NodeInfo, NodeKeep};
use crate::model::pod::PodFacts;

/// What every protobuf body starts with.
pub const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, PartialEq, Message)]
pub struct Pod {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<ObjectMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<PodSpec>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<PodStatus>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ObjectMeta {
    #[prost(string, optional, tag = "5")]
    pub uid: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub resource_version: Option<String>,
    /// Present: the pod is terminating. Its value does not matter.
    #[prost(message, optional, tag = "9")]
    pub deletion_timestamp: Option<Time>,
    #[prost(message, repeated, tag = "13")]
    pub owner_references: Vec<OwnerReference>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Time {
    #[prost(int64, optional, tag = "1")]
    pub seconds: Option<i64>,
    #[prost(int32, optional, tag = "2")]
    pub nanos: Option<i32>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OwnerReference {
    #[prost(string, optional, tag = "1")]
    pub kind: Option<String>,
    #[prost(bool, optional, tag = "6")]
    pub controller: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodSpec {
    #[prost(string, optional, tag = "10")]
    pub node_name: Option<String>,
    #[prost(bool, optional, tag = "11")]
    pub host_network: Option<bool>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PodStatus {
    #[prost(string, optional, tag = "1")]
    pub phase: Option<String>,
}

impl Pod {
    pub fn uid(&self) -> &str {
        self.metadata.as_ref().and_then(|m| m.uid.as_deref()).unwrap_or_default()
    }

    pub fn resource_version(&self) -> Option<&str> {
        self.metadata.as_ref()?.resource_version.as_deref()
    }

    pub fn facts(&self) -> PodFacts<&str> {
        let meta = self.metadata.as_ref();
        let spec = self.spec.as_ref();
        PodFacts::read(
            spec.and_then(|s| s.node_name.as_deref()),
            self.status.as_ref().and_then(|s| s.phase.as_deref()),
            meta.is_some_and(|m| m.deletion_timestamp.is_some()),
            meta.into_iter().flat_map(|m| &m.owner_references).map(|o| (o.kind.as_deref(), o.controller)),
            spec.and_then(|s| s.host_network),
        )
    }
}

/// A Node: of its kilobytes (images, conditions' messages, node info,
/// managedFields) only what [`NodeInfo`] keeps is decoded.
#[derive(Clone, PartialEq, Message)]
pub struct Node {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<NodeMeta>,
    #[prost(message, optional, tag = "2")]
    pub spec: Option<NodeSpec>,
    #[prost(message, optional, tag = "3")]
    pub status: Option<NodeStatus>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeMeta {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub resource_version: Option<String>,
    #[prost(btree_map = "string, string", tag = "11")]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeSpec {
    #[prost(bool, optional, tag = "4")]
    pub unschedulable: Option<bool>,
    #[prost(message, repeated, tag = "5")]
    pub taints: Vec<Taint>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Taint {
    #[prost(string, optional, tag = "1")]
    pub key: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub value: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub effect: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeStatus {
    #[prost(btree_map = "string, message", tag = "2")]
    pub allocatable: std::collections::BTreeMap<String, QuantityText>,
    #[prost(message, repeated, tag = "4")]
    pub conditions: Vec<NodeCondition>,
}

/// `resource.Quantity`: its text.
#[derive(Clone, PartialEq, Message)]
pub struct QuantityText {
    #[prost(string, optional, tag = "1")]
    pub string: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeCondition {
    #[prost(string, optional, tag = "1")]
    pub r#type: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub status: Option<String>,
}

/// An optional string field's text ("" when absent).
fn text(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or_default()
}

impl Node {
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata.as_ref()?.resource_version.as_deref()
    }

    /// What counting keeps of the node, and what `keep` asks for.
    pub fn info(&self, keep: &NodeKeep) -> NodeInfo {
        let meta = self.metadata.as_ref();
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        NodeInfo::read(
            NodeFields {
                name: meta.and_then(|m| m.name.as_deref()).unwrap_or_default(),
                labels: meta.into_iter().flat_map(|m| &m.labels).map(|(k, v)| (k.as_str(), v.as_str())),
                allocatable: status
                    .into_iter()
                    .flat_map(|s| &s.allocatable)
                    .map(|(k, q)| (k.as_str(), text(&q.string))),
                conditions: status.into_iter().flat_map(|s| &s.conditions).map(|c| (text(&c.r#type), text(&c.status))),
                unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
                taints: spec
                    .into_iter()
                    .flat_map(|s| &s.taints)
                    .map(|t| (text(&t.key), t.value.as_deref(), text(&t.effect))),
            },
            keep,
        )
    }
}

#[derive(Clone, PartialEq, Message)]
pub struct ListMeta {
    #[prost(string, optional, tag = "2")]
    pub resource_version: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub continue_token: Option<String>,
    #[prost(int64, optional, tag = "4")]
    pub remaining_item_count: Option<i64>,
}

/// `runtime.Unknown`: the envelope after the magic.
#[derive(Clone, PartialEq, Message)]
pub struct Unknown {
    #[prost(bytes = "bytes", optional, tag = "2")]
    pub raw: Option<Bytes>,
}

#[derive(Clone, PartialEq, Message)]
pub struct WatchEvent {
    #[prost(string, optional, tag = "1")]
    pub r#type: Option<String>,
    #[prost(message, optional, tag = "2")]
    pub object: Option<RawExtension>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RawExtension {
    #[prost(bytes = "bytes", optional, tag = "1")]
    pub raw: Option<Bytes>,
}

/// `metav1.Status`, as sent with errors (and a watch's ERROR event).
#[derive(Clone, PartialEq, Message)]
pub struct Status {
    #[prost(string, optional, tag = "3")]
    pub message: Option<String>,
    #[prost(int32, optional, tag = "6")]
    pub code: Option<i32>,
}

/// A BOOKMARK's object: its resourceVersion and annotations only.
#[derive(Clone, PartialEq, Message)]
pub struct Bookmark {
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<BookmarkMeta>,
}

#[derive(Clone, PartialEq, Message)]
pub struct BookmarkMeta {
    #[prost(string, optional, tag = "6")]
    pub resource_version: Option<String>,
    #[prost(btree_map = "string, string", tag = "12")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

impl Bookmark {
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata.as_ref()?.resource_version.as_deref()
    }

    /// The bookmark that ends a WatchList's initial events.
    pub fn initial_events_end(&self) -> bool {
        self.metadata.as_ref().and_then(|m| m.annotations.get("k8s.io/initial-events-end")).is_some_and(|v| v == "true")
    }
}

/// Why bytes could not be read as Kubernetes protobuf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<prost::DecodeError> for DecodeError {
    fn from(e: prost::DecodeError) -> Self {
        DecodeError(e.to_string())
    }
}

impl From<DecodeError> for crate::error::Error {
    fn from(e: DecodeError) -> Self {
        crate::error::Error::cluster(format!("the API server sent a protobuf body that cannot be decoded: {e}"))
    }
}

/// The object inside an enveloped body (`k8s\0` + `runtime.Unknown`).
pub fn unwrap(body: Bytes) -> Result<Bytes, DecodeError> {
    if !body.starts_with(MAGIC) {
        return Err(DecodeError("no k8s\\0 magic: not a Kubernetes protobuf body".into()));
    }
    Ok(Unknown::decode(body.slice(MAGIC.len()..))?.raw.unwrap_or_default())
}

/// A length-delimited field's key and length, if all of it has arrived:
/// (field number, wire type, bytes of key + length prefix, bytes of value).
fn field_head(buf: &[u8]) -> Result<Option<(u32, WireType, usize, usize)>, DecodeError> {
    // A varint is complete once a byte without the high bit is in.
    let varint_end = |from: usize| buf[from..].iter().take(10).position(|b| b & 0x80 == 0).map(|i| from + i + 1);
    let Some(key_end) = varint_end(0) else { return Ok(None) };
    let mut key = &buf[..key_end];
    let (tag, wire) = decode_key(&mut key)?;
    let (head, len) = match wire {
        WireType::LengthDelimited => {
            let Some(end) = varint_end(key_end) else { return Ok(None) };
            let mut v = &buf[key_end..end];
            (end, decode_varint(&mut v)? as usize)
        }
        WireType::Varint => match varint_end(key_end) {
            Some(end) => (key_end, end - key_end),
            None => return Ok(None),
        },
        WireType::SixtyFourBit => (key_end, 8),
        WireType::ThirtyTwoBit => (key_end, 4),
        w => return Err(DecodeError(format!("unexpected wire type {w:?}"))),
    };
    Ok(Some((tag, wire, head, len)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for the 4-byte magic.
    Magic,
    /// Fields of the `runtime.Unknown` envelope.
    Envelope,
    /// Inside the envelope's `raw`, the List: this many bytes of it left.
    List { left: usize },
}

/// Splits a protobuf List body into its items as the bytes arrive; holds at
/// most one partial item. The protobuf twin of [`super::split::Splitter`].
#[derive(Debug)]
pub struct ListSplitter {
    buf: BytesMut,
    stage: Stage,
    list_seen: bool,
    meta: Option<ListMeta>,
}

impl Default for ListSplitter {
    fn default() -> Self {
        ListSplitter { buf: BytesMut::new(), stage: Stage::Magic, list_seen: false, meta: None }
    }
}

impl ListSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk; calls `item` with each complete item's bytes (a Pod
    /// message, no envelope).
    pub fn feed<E: From<DecodeError>>(
        &mut self,
        chunk: &[u8],
        mut item: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.buf.extend_from_slice(chunk);
        loop {
            match self.stage {
                Stage::Magic => {
                    if self.buf.len() < MAGIC.len() {
                        return Ok(());
                    }
                    if &self.buf[..MAGIC.len()] != MAGIC {
                        return Err(DecodeError("no k8s\\0 magic: not a Kubernetes protobuf body".into()).into());
                    }
                    self.buf.advance(MAGIC.len());
                    self.stage = Stage::Envelope;
                }
                Stage::Envelope => {
                    let Some((tag, wire, head, len)) = field_head(&self.buf)? else { return Ok(()) };
                    if tag == 2 && wire == WireType::LengthDelimited {
                        if self.list_seen {
                            return Err(DecodeError("two objects in one envelope".into()).into());
                        }
                        self.list_seen = true;
                        self.buf.advance(head);
                        self.stage = Stage::List { left: len };
                        continue;
                    }
                    // typeMeta, contentType: small; skip once whole.
                    if self.buf.len() < head + len {
                        return Ok(());
                    }
                    self.buf.advance(head + len);
                }
                Stage::List { left: 0 } => self.stage = Stage::Envelope,
                Stage::List { left } => {
                    let Some((tag, wire, head, len)) = field_head(&self.buf[..self.buf.len().min(left)])? else {
                        if self.buf.len() >= left {
                            return Err(DecodeError("a List field runs past the end of the List".into()).into());
                        }
                        return Ok(());
                    };
                    if head + len > left {
                        return Err(DecodeError("a List field runs past the end of the List".into()).into());
                    }
                    if self.buf.len() < head + len {
                        return Ok(());
                    }
                    let value = &self.buf[head..head + len];
                    match (tag, wire) {
                        (1, WireType::LengthDelimited) => {
                            self.meta = Some(ListMeta::decode(value).map_err(DecodeError::from)?)
                        }
                        (2, WireType::LengthDelimited) => item(value)?,
                        _ => {}
                    }
                    self.buf.advance(head + len);
                    self.stage = Stage::List { left: left - head - len };
                }
            }
        }
    }

    /// The whole List has arrived, and nothing after it is cut.
    pub fn done(&self) -> bool {
        self.list_seen && self.stage == Stage::Envelope && self.buf.is_empty()
    }

    /// The List's metadata (continue token, resourceVersion).
    pub fn meta(&self) -> ListMeta {
        self.meta.clone().unwrap_or_default()
    }
}

/// Splits a protobuf watch stream into frames (4-byte big-endian length,
/// then a `WatchEvent`).
#[derive(Debug, Default)]
pub struct Frames {
    buf: BytesMut,
}

impl Frames {
    pub fn feed(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete frame, if in.
    pub fn next_frame(&mut self) -> Option<Bytes> {
        let len = u32::from_be_bytes(self.buf.get(..4)?.try_into().ok()?) as usize;
        if self.buf.len() < 4 + len {
            return None;
        }
        self.buf.advance(4);
        Some(self.buf.split_to(len).freeze())
    }

    /// Bytes of an incomplete frame held.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// A watch frame: its type and its object (envelope removed).
pub fn event(frame: Bytes) -> Result<(String, Bytes), DecodeError> {
    let ev = WatchEvent::decode(frame)?;
    let raw = ev.object.and_then(|o| o.raw).unwrap_or_default();
    Ok((ev.r#type.unwrap_or_default(), unwrap(raw)?))
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::model::pod::Phase;
    use proptest::prelude::*;

    /// Encodes `msg` as a Kubernetes body: magic + Unknown{raw}.
    pub fn envelope(raw: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        // typeMeta (field 1) first, as the apiserver writes it.
        prost::encoding::bytes::encode(1, &b"\x0a\x03Pod\x12\x02v1".to_vec(), &mut out);
        prost::encoding::bytes::encode(2, &raw.to_vec(), &mut out);
        prost::encoding::string::encode(4, &String::new(), &mut out);
        out
    }

    /// A PodList body: metadata, items, and a field this decoder ignores.
    pub fn list_body(meta: &ListMeta, items: &[Vec<u8>]) -> Vec<u8> {
        let mut list = Vec::new();
        prost::encoding::message::encode(1, meta, &mut list);
        for i in items {
            prost::encoding::bytes::encode(2, i, &mut list);
        }
        envelope(&list)
    }

    fn pod(uid: &str, node: &str, phase: &str, terminating: bool, ds: bool) -> Pod {
        Pod {
            metadata: Some(ObjectMeta {
                uid: Some(uid.into()),
                resource_version: Some("9".into()),
                deletion_timestamp: terminating.then_some(Time { seconds: Some(1), nanos: Some(0) }),
                owner_references: vec![OwnerReference {
                    kind: Some(if ds { "DaemonSet" } else { "ReplicaSet" }.into()),
                    controller: Some(true),
                }],
            }),
            spec: Some(PodSpec { node_name: Some(node.into()), host_network: ds.then_some(true) }),
            status: Some(PodStatus { phase: Some(phase.into()) }),
        }
    }

    /// Unknown fields of every wire type, in the middle of a pod message,
    /// as a real Pod has (names, labels, containers, conditions...).
    fn with_noise(p: &Pod) -> Vec<u8> {
        let mut b = p.encode_to_vec();
        prost::encoding::string::encode(4, &"default-scheduler".to_string(), &mut b);
        prost::encoding::int64::encode(99, &-5, &mut b);
        prost::encoding::fixed64::encode(98, &7, &mut b);
        prost::encoding::fixed32::encode(97, &7, &mut b);
        b
    }

    #[test]
    fn splits_a_list_fed_in_any_chunks() {
        let pods: Vec<Pod> = (0..5).map(|i| pod(&format!("u{i}"), "n1", "Running", i == 2, i == 3)).collect();
        let items: Vec<Vec<u8>> = pods.iter().map(with_noise).collect();
        let meta = ListMeta {
            resource_version: Some("42".into()),
            continue_token: Some("abc".into()),
            remaining_item_count: Some(7),
        };
        let body = list_body(&meta, &items);
        for chunk in [1, 2, 3, 7, 64, body.len()] {
            let mut s = ListSplitter::new();
            let mut got = Vec::new();
            for c in body.chunks(chunk) {
                s.feed::<DecodeError>(c, |i| {
                    got.push(Pod::decode(i)?);
                    Ok(())
                })
                .unwrap();
            }
            assert!(s.done(), "chunk {chunk}");
            assert_eq!(got, pods);
            assert_eq!(s.meta(), meta);
        }
        // Cut anywhere before the List's last byte: never done. (The
        // envelope's trailing contentType, 2 bytes, is not needed.)
        for cut in 0..body.len() - 2 {
            let mut s = ListSplitter::new();
            let _ = s.feed::<DecodeError>(&body[..cut], |_| Ok(()));
            assert!(!s.done(), "cut at {cut}");
        }
        assert!(ListSplitter::new().feed::<DecodeError>(b"{\"kind\"", |_| Ok(())).is_err());
    }

    #[test]
    fn facts_follow_the_counting_fields() {
        let f = pod("u", "n-1", "Running", true, true);
        assert_eq!(
            f.facts(),
            PodFacts {
                node: Some("n-1"),
                phase: Phase::Running,
                terminating: true,
                daemon_set: true,
                host_network: true
            }
        );
        let empty = Pod::decode(&[][..]).unwrap();
        assert_eq!(
            empty.facts(),
            PodFacts { node: None, phase: Phase::Pending, terminating: false, daemon_set: false, host_network: false }
        );
        let f = pod("u", "", "Succeeded", false, false);
        assert_eq!(f.facts().node, None);
    }

    #[test]
    fn watch_frames_carry_enveloped_objects() {
        let p = pod("u1", "n1", "Pending", false, false);
        let ev = WatchEvent {
            r#type: Some("ADDED".into()),
            object: Some(RawExtension { raw: Some(envelope(&p.encode_to_vec()).into()) }),
        };
        let e = ev.encode_to_vec();
        let mut stream = Vec::new();
        for _ in 0..3 {
            stream.extend_from_slice(&(e.len() as u32).to_be_bytes());
            stream.extend_from_slice(&e);
        }
        let mut f = Frames::default();
        let mut seen = 0;
        for c in stream.chunks(5) {
            f.feed(c);
            while let Some(frame) = f.next_frame() {
                let (ty, obj) = event(frame).unwrap();
                assert_eq!(ty, "ADDED");
                assert_eq!(Pod::decode(obj).unwrap(), p);
                seen += 1;
            }
        }
        assert_eq!((seen, f.pending()), (3, 0));
    }

    /// uid, node, phase, terminating, owner references (kind, controller), hostNetwork.
    type ArbPod = (String, Option<String>, Option<String>, bool, Vec<(String, bool)>, Option<bool>);

    /// A message built field by field, as Go's generated marshaller writes it.
    #[derive(Default)]
    struct Msg(Vec<u8>);

    impl Msg {
        fn s(mut self, tag: u32, v: &str) -> Msg {
            prost::encoding::string::encode(tag, &v.to_string(), &mut self.0);
            self
        }
        fn m(mut self, tag: u32, v: Msg) -> Msg {
            prost::encoding::bytes::encode(tag, &v.0, &mut self.0);
            self
        }
        fn b(mut self, tag: u32, v: bool) -> Msg {
            prost::encoding::bool::encode(tag, &v, &mut self.0);
            self
        }
        /// A map entry (key 1, value 2).
        fn entry(self, tag: u32, k: &str, v: Msg) -> Msg {
            self.m(tag, Msg::default().s(1, k).m(2, v))
        }
    }

    #[test]
    fn nodes_decode_as_their_json_does_skipping_what_counting_does_not_read() {
        let q = |v: &str| Msg::default().s(1, v);
        let label = |k: &str, v: &str| Msg::default().s(1, k).s(2, v);
        let meta = Msg::default()
            .s(1, "node-7")
            .s(5, "uid-7")
            .s(6, "4711")
            .m(11, label("topology.kubernetes.io/zone", "zone-b"))
            .m(11, label("kubernetes.io/hostname", "node-7"))
            .m(12, label("node.alpha.kubernetes.io/ttl", "0"))
            .m(17, Msg::default().s(1, "kubelet").s(2, "Update"));
        let spec = Msg::default()
            .s(1, "10.244.7.0/24")
            .s(3, "aws:///us-west-2b/i-07")
            .b(4, true)
            .m(5, Msg::default().s(1, "dedicated").s(2, "batch").s(3, "NoSchedule"))
            .m(5, Msg::default().s(1, "spot").s(3, "PreferNoSchedule"))
            .m(5, Msg::default().s(1, "node.kubernetes.io/unreachable").s(3, "NoExecute"))
            .s(7, "10.244.7.0/24");
        let status = Msg::default()
            .entry(1, "cpu", q("16"))
            .entry(2, "cpu", q("15890m"))
            .entry(2, "memory", q("61478Mi"))
            .entry(2, "nvidia.com/gpu", q("8"))
            .entry(2, "pods", q("110"))
            .m(4, Msg::default().s(1, "MemoryPressure").s(2, "False").s(5, "KubeletHasSufficientMemory"))
            .m(4, Msg::default().s(1, "Ready").s(2, "True").s(6, "kubelet is posting ready status"))
            .m(5, Msg::default().s(1, "InternalIP").s(2, "10.16.0.7"))
            .m(8, Msg::default().s(1, "registry.example/app@sha256:00").s(1, "registry.example/app:1"))
            .s(9, "kubernetes.io/csi/ebs.csi.aws.com^vol-07");
        let node = Msg::default().m(1, meta).m(2, spec).m(3, status);
        let decoded = Node::decode(node.0.as_slice()).unwrap();
        let json = br#"{"metadata": {"name": "node-7", "uid": "uid-7", "resourceVersion": "4711",
            "labels": {"topology.kubernetes.io/zone": "zone-b", "kubernetes.io/hostname": "node-7"},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"}, "managedFields": [{"manager": "kubelet"}]},
          "spec": {"podCIDR": "10.244.7.0/24", "unschedulable": true, "taints": [
            {"key": "dedicated", "value": "batch", "effect": "NoSchedule"}, {"key": "spot", "effect": "PreferNoSchedule"},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]},
          "status": {"capacity": {"cpu": "16"}, "allocatable": {"cpu": "15890m", "memory": "61478Mi", "nvidia.com/gpu": "8", "pods": "110"},
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "images": [{"names": ["registry.example/app:1"]}]}}"#;
        let slim: super::super::json::SlimNode = serde_json::from_slice(json).unwrap();
        let labels = vec!["topology.kubernetes.io/zone".to_string(), "karpenter.sh/nodepool".to_string()];
        let keep = NodeKeep { labels, resources: true };
        let info = decoded.info(&keep);
        assert_eq!(info, slim.info(&keep));
        assert_eq!(decoded.resource_version(), Some("4711"));
        assert_eq!(info.name, "node-7");
        assert_eq!(info.allocatable, Some(110));
        assert_eq!((info.ready, info.schedulable), (true, false));
        assert_eq!(info.taints, ["dedicated=batch:NoSchedule".parse().unwrap()]);
        assert_eq!(info.labels.len(), 1);
        assert_eq!(info.resources["cpu"], 15890);
        assert_eq!(info.resources["nvidia.com/gpu"], 8);
        // Without resources asked for, only pods of allocatable is read.
        let plain = decoded.info(&NodeKeep::default());
        assert_eq!((plain.allocatable, plain.resources.len(), plain.labels.len()), (Some(110), 0, 0));
    }

    fn arb_pod() -> impl Strategy<Value = ArbPod> {
        (
            "[a-f0-9-]{0,36}",
            proptest::option::of("[a-z0-9.-]{0,20}"),
            proptest::option::of(prop_oneof![
                Just("Pending".to_string()),
                Just("Running".to_string()),
                Just("Succeeded".to_string()),
                Just("Failed".to_string()),
                Just("Unknown".to_string()),
                Just(String::new()),
                "[A-Za-z]{1,8}"
            ]),
            any::<bool>(),
            proptest::collection::vec(
                (prop_oneof![Just("DaemonSet".to_string()), "[A-Za-z]{1,10}"], any::<bool>()),
                0..3,
            ),
            proptest::option::of(any::<bool>()),
        )
    }

    proptest! {
        /// The protobuf decoder and the JSON decoder agree on the same pod.
        #[test]
        fn protobuf_and_json_give_the_same_facts((uid, node, phase, terminating, owners, host_network) in arb_pod()) {
            let p = Pod {
                metadata: Some(ObjectMeta {
                    uid: Some(uid.clone()),
                    resource_version: Some("1".into()),
                    deletion_timestamp: terminating.then_some(Time { seconds: Some(1), nanos: None }),
                    owner_references: owners.iter().map(|(k, c)| OwnerReference { kind: Some(k.clone()), controller: Some(*c) }).collect(),
                }),
                spec: Some(PodSpec { node_name: node.clone(), host_network }),
                status: Some(PodStatus { phase: phase.clone() }),
            };
            let json = serde_json::json!({
                "metadata": {
                    "uid": uid,
                    "resourceVersion": "1",
                    "deletionTimestamp": if terminating { serde_json::json!("2026-01-01T00:00:00Z") } else { serde_json::Value::Null },
                    "ownerReferences": owners.iter().map(|(k, c)| serde_json::json!({"kind": k, "controller": c})).collect::<Vec<_>>(),
                },
                "spec": {"nodeName": node, "hostNetwork": host_network},
                "status": {"phase": phase},
            });
            let mut json = json;
            if !terminating {
                json["metadata"].as_object_mut().unwrap().remove("deletionTimestamp");
            }
            let text = serde_json::to_vec(&json).unwrap();
            let slim: crate::decode::json::SlimPod = serde_json::from_slice(&text).unwrap();
            let decoded = Pod::decode(&with_noise(&p)[..]).unwrap();
            prop_assert_eq!(decoded.facts(), slim.facts());
            prop_assert_eq!(decoded.uid(), slim.metadata.uid.as_ref());
        }
    }
}
