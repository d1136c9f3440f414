//! Pod affinity terms and label selectors from k8s-openapi's types into the
//! model's ([`crate::model::selector`], [`crate::model::placement`]),
//! validated as the apiserver validates them: a manifest's terms and a
//! placed pod's (read as JSON) go through the same code.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{NodeSelector, PodAffinityTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sSelector;

use crate::model::placement::{Namespaces, PodTerm};
use crate::model::selector::{LabelSelector, NodeAffinity, NodeTerm, Requirement};

/// A `labelSelector` (None stays None: it selects nothing).
pub fn selector(field: &str, s: Option<&K8sSelector>) -> Result<Option<LabelSelector>, String> {
    let Some(s) = s else { return Ok(None) };
    let exprs = s
        .match_expressions
        .iter()
        .flatten()
        .map(|e| (e.key.clone(), e.operator.clone(), e.values.clone().unwrap_or_default()));
    LabelSelector::parse(field, s.match_labels.as_ref().unwrap_or(&BTreeMap::new()), exprs).map(Some)
}

/// `matchLabelKeys` (`key In (the pod's value)`) and `mismatchLabelKeys`
/// (`key NotIn (...)`) merged into a selector, as the apiserver does on
/// create; keys the pod does not carry add nothing.
pub fn merge_label_keys(
    sel: Option<LabelSelector>,
    pod_labels: &BTreeMap<String, String>,
    match_keys: &[String],
    mismatch_keys: &[String],
) -> Option<LabelSelector> {
    let mut sel = sel?;
    for k in match_keys {
        if let Some(v) = pod_labels.get(k) {
            sel.0.push(Requirement::equals(k, v));
        }
    }
    for k in mismatch_keys {
        if let Some(v) = pod_labels.get(k) {
            sel.0.push(Requirement { key: k.clone(), op: crate::model::selector::Op::NotIn, values: vec![v.clone()] });
        }
    }
    Some(sel)
}

/// A required pod (anti-)affinity term of a pod in `namespace` with
/// `pod_labels`: which namespaces it looks in (its own when it names none
/// and has no namespaceSelector; every one with `namespaceSelector: {}`).
pub fn pod_term(
    field: &str,
    t: &PodAffinityTerm,
    namespace: &str,
    pod_labels: &BTreeMap<String, String>,
) -> Result<PodTerm, String> {
    if t.topology_key.is_empty() {
        return Err(format!(
            "{field}.topologyKey is empty (the scheduler needs a node label key, such as kubernetes.io/hostname)"
        ));
    }
    let sel = selector(&format!("{field}.labelSelector"), t.label_selector.as_ref())?;
    let empty = Vec::new();
    let sel = merge_label_keys(
        sel,
        pod_labels,
        t.match_label_keys.as_ref().unwrap_or(&empty),
        t.mismatch_label_keys.as_ref().unwrap_or(&empty),
    );
    let listed: BTreeSet<String> = t.namespaces.iter().flatten().cloned().collect();
    let namespaces = match selector(&format!("{field}.namespaceSelector"), t.namespace_selector.as_ref())? {
        None if listed.is_empty() => Namespaces::Listed([namespace.to_string()].into()),
        None => Namespaces::Listed(listed),
        Some(s) if s.is_everything() => Namespaces::All,
        Some(s) => Namespaces::Selected(s, listed),
    };
    Ok(PodTerm { selector: sel, namespaces, topology_key: t.topology_key.clone() })
}

/// A required node selector (a pod's node affinity, a PersistentVolume's):
/// terms ORed, requirements in a term ANDed; `matchFields` only on
/// `metadata.name`, with In or NotIn.
pub fn node_selector(field: &str, required: &NodeSelector) -> Result<NodeAffinity, String> {
    let mut terms = Vec::new();
    for (i, t) in required.node_selector_terms.iter().enumerate() {
        let field = format!("{field}.nodeSelectorTerms[{i}]");
        let mut term = NodeTerm::default();
        for (j, e) in t.match_expressions.iter().flatten().enumerate() {
            let values = e.values.clone().unwrap_or_default();
            term.labels.push(Requirement::parse(
                &format!("{field}.matchExpressions[{j}]"),
                &e.key,
                &e.operator,
                values,
                true,
            )?);
        }
        for (j, e) in t.match_fields.iter().flatten().enumerate() {
            let f = format!("{field}.matchFields[{j}]");
            if e.key != "metadata.name" {
                return Err(format!("{f}: the only field is metadata.name, not {:?}", e.key));
            }
            if !matches!(e.operator.as_str(), "In" | "NotIn") {
                return Err(format!("{f}: operator is In or NotIn on metadata.name, not {:?}", e.operator));
            }
            term.fields.push(Requirement::parse(&f, &e.key, &e.operator, e.values.clone().unwrap_or_default(), false)?);
        }
        terms.push(term);
    }
    Ok(NodeAffinity(terms))
}

/// A toleration as the filters read it (empty key and effect: any).
pub fn toleration(t: &k8s_openapi::api::core::v1::Toleration) -> crate::model::fits::Toleration {
    crate::model::fits::Toleration {
        key: t.key.clone().filter(|k| !k.is_empty()),
        exists: t.operator.as_deref() == Some("Exists"),
        value: t.value.clone().unwrap_or_default(),
        effect: t.effect.clone().filter(|e| !e.is_empty()),
    }
}
