//! A resource's name (`cpu`, `memory`, `nvidia.com/gpu`, ...) as a map key.
//!
//! Every node allocates and every row shows the same handful of names, so
//! the well-known ones are static strings, never a heap allocation: at 5,000
//! nodes with `--resources` that is tens of thousands of small allocations
//! (about 2 MB of heap) fewer. Any other name is owned.

use std::borrow::{Borrow, Cow};
use std::fmt;

/// The names a cluster's nodes and pods commonly carry.
const WELL_KNOWN: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "pods",
    "hugepages-1Gi",
    "hugepages-2Mi",
    "nvidia.com/gpu",
    "amd.com/gpu",
    "attachable-volumes-aws-ebs",
    "attachable-volumes-azure-disk",
    "attachable-volumes-gce-pd",
];

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceName(Cow<'static, str>);

impl ResourceName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ResourceName {
    fn from(s: &str) -> Self {
        match WELL_KNOWN.iter().find(|k| **k == s) {
            Some(k) => ResourceName(Cow::Borrowed(k)),
            None => ResourceName(Cow::Owned(s.to_string())),
        }
    }
}

impl From<String> for ResourceName {
    fn from(s: String) -> Self {
        match WELL_KNOWN.iter().find(|k| **k == s) {
            Some(k) => ResourceName(Cow::Borrowed(k)),
            None => ResourceName(Cow::Owned(s)),
        }
    }
}

impl From<&String> for ResourceName {
    fn from(s: &String) -> Self {
        ResourceName::from(s.as_str())
    }
}

impl Borrow<str> for ResourceName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ResourceName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ResourceName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for ResourceName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ResourceName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(ResourceName::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_names_are_not_allocated_and_compare_as_text() {
        assert!(matches!(ResourceName::from("cpu").0, Cow::Borrowed(_)));
        assert!(matches!(ResourceName::from("example.com/foo").0, Cow::Owned(_)));
        let mut names: Vec<ResourceName> =
            ["memory", "example.com/foo", "cpu", "nvidia.com/gpu"].into_iter().map(ResourceName::from).collect();
        names.sort();
        let text: Vec<&str> = names.iter().map(ResourceName::as_str).collect();
        assert_eq!(text, ["cpu", "example.com/foo", "memory", "nvidia.com/gpu"]);
        assert_eq!(ResourceName::from(String::from("memory")), ResourceName::from("memory"));
        assert_eq!(serde_json::to_string(&ResourceName::from("cpu")).unwrap(), "\"cpu\"");
    }
}
