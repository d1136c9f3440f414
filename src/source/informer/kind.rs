//! What differs between watching pods and watching nodes: the resource's
//! name, and how an object is decoded into what counting keeps.

use crate::decode::neighbour;
use crate::decode::resources::ResourcePod;
use crate::decode::{Item, LeanPod, node_info};
use crate::model::node::NodeInfo;
use crate::model::node::NodeKeep;
use crate::model::placement::Constraints;
use crate::model::placement::Neighbours;
use crate::model::store::{PodRecord, Uid};

/// What an informer watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Pods,
    Nodes,
}

impl Resource {
    /// The API's plural name, as requests and messages say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Pods => "pods",
            Resource::Nodes => "nodes",
        }
    }
}

/// A kind of object an informer watches. Both are read in the encoding
/// `--wire` asks for (protobuf unless the server cannot).
pub trait Kind: Send + Sync + 'static {
    type Item: Send + 'static;
    type Key: Send + 'static;
    /// What is kept of each object beyond counting, as the views ask.
    type Keep: Clone + Default + Send + Sync + 'static;
    const RESOURCE: Resource;
    /// Decodes a watched or listed object: the item, its key and
    /// resourceVersion, keeping what `keep` asks for beyond counting.
    fn object(item: Item<'_>, keep: &Self::Keep) -> Decoded<Self>;
}

/// A decoded object (item, key, resourceVersion), or why it is not one.
pub type Decoded<K> = std::result::Result<(<K as Kind>::Item, <K as Kind>::Key, Option<String>), String>;

pub struct Pods;
pub struct Nodes;

/// What a pod informer keeps of each pod beyond counting, as the views ask.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodKeep {
    /// Requests (`--resources`, per-resource thresholds, `--fits`).
    pub resources: bool,
    /// Their limits too (`--limits`); without, only requests are kept, so
    /// a store holds nothing nobody shows.
    pub limits: bool,
    /// What each pod tells these `--fits` shapes' inter-pod filters
    /// (labels, host ports, anti-affinity, claims), when any reads them.
    pub placing: Vec<Constraints>,
}

impl Kind for Pods {
    type Item = PodRecord;
    type Key = Uid;
    type Keep = PodKeep;
    const RESOURCE: Resource = Resource::Pods;
    fn object(item: Item<'_>, keep: &PodKeep) -> Decoded<Self> {
        let p = LeanPod::decode(item)?;
        let mut r = PodRecord::new(p.uid(), p.facts());
        if keep.resources && r.node.is_some() {
            let rp = ResourcePod::decode(item)?;
            let (resources, bad) = rp.resources();
            let mut demand = resources.demand();
            if !keep.limits {
                demand.limits.clear();
            }
            r.demand = Some(demand.to_owned());
            if !bad.is_empty() {
                let what: Vec<String> = bad.iter().map(ToString::to_string).collect();
                r.unreadable = Some(format!("pod {}: {}", rp.name(), what.join("; ")));
            }
        }
        if let (false, Some(node)) = (keep.placing.is_empty(), r.node.as_deref())
            && let Some(n) = neighbour::decode_for(item, &keep.placing)?
        {
            let parts: Vec<Option<Neighbours>> = keep.placing.iter().map(|c| Neighbours::of(c, node, &n)).collect();
            if parts.iter().any(Option::is_some) {
                r.placed = Some(parts.into_iter().map(Option::unwrap_or_default).collect());
            }
        }
        let uid = r.uid;
        Ok((r, uid, p.resource_version().map(str::to_owned)))
    }
}

impl Kind for Nodes {
    type Item = NodeInfo;
    type Key = String;
    type Keep = NodeKeep;
    const RESOURCE: Resource = Resource::Nodes;
    fn object(item: Item<'_>, keep: &NodeKeep) -> Decoded<Self> {
        let (info, rv) = node_info(item, keep)?;
        let name = info.name.clone();
        Ok((info, name, rv))
    }
}
