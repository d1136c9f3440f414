//! Label selectors as the apiserver and kube-scheduler read them: a pod
//! affinity term's or spread constraint's `labelSelector`, a node affinity
//! term's `matchExpressions` (with `Gt`/`Lt`) and `matchFields`. Pure.

use std::collections::BTreeMap;
use std::fmt;

/// A requirement's operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// Node affinity only: the label's value, an integer, is greater.
    Gt,
    Lt,
}

/// `key op values`: one requirement of a selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: String,
    pub op: Op,
    pub values: Vec<String>,
}

impl Requirement {
    /// A requirement as the apiserver validates it; `field` names it in the
    /// error (`affinity.podAntiAffinity...matchExpressions[0]`), `node`
    /// allows `Gt` and `Lt`.
    pub fn parse(field: &str, key: &str, operator: &str, values: Vec<String>, node: bool) -> Result<Self, String> {
        if key.is_empty() {
            return Err(format!("{field}: the key is empty"));
        }
        let op = match operator {
            "In" => Op::In,
            "NotIn" => Op::NotIn,
            "Exists" => Op::Exists,
            "DoesNotExist" => Op::DoesNotExist,
            "Gt" if node => Op::Gt,
            "Lt" if node => Op::Lt,
            other => {
                let known = if node {
                    "In, NotIn, Exists, DoesNotExist, Gt or Lt"
                } else {
                    "In, NotIn, Exists or DoesNotExist"
                };
                return Err(format!("{field}: operator {other:?} is not one of {known}"));
            }
        };
        match op {
            Op::In | Op::NotIn if values.is_empty() => {
                return Err(format!("{field}: {operator} needs at least one value"));
            }
            Op::Exists | Op::DoesNotExist if !values.is_empty() => {
                return Err(format!("{field}: {operator} takes no values"));
            }
            Op::Gt | Op::Lt if values.len() != 1 || values[0].parse::<i64>().is_err() => {
                return Err(format!("{field}: {operator} takes exactly one integer value, not {values:?}"));
            }
            _ => {}
        }
        Ok(Requirement { key: key.to_string(), op, values })
    }

    /// `key=value`, as `matchLabels` and `nodeSelector` write it.
    pub fn equals(key: &str, value: &str) -> Requirement {
        Requirement { key: key.to_string(), op: Op::In, values: vec![value.to_string()] }
    }

    /// Whether a label's value (None: the label is absent) satisfies it.
    /// NotIn and DoesNotExist hold where the label is absent; Gt and Lt need
    /// an integer value.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let bound = || self.values.first().and_then(|v| v.parse::<i64>().ok());
        match self.op {
            Op::In => value.is_some_and(|v| self.values.iter().any(|w| w == v)),
            Op::NotIn => !value.is_some_and(|v| self.values.iter().any(|w| w == v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::Gt => value.and_then(|v| v.parse::<i64>().ok()).zip(bound()).is_some_and(|(v, b)| v > b),
            Op::Lt => value.and_then(|v| v.parse::<i64>().ok()).zip(bound()).is_some_and(|(v, b)| v < b),
        }
    }
}

impl fmt::Display for Requirement {
    /// The label-selector syntax kubectl takes (`app in (web)`, `!gpu`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Op::In if self.values.len() == 1 => write!(f, "{}={}", self.key, self.values[0]),
            Op::In => write!(f, "{} in ({})", self.key, self.values.join(",")),
            Op::NotIn => write!(f, "{} notin ({})", self.key, self.values.join(",")),
            Op::Exists => f.write_str(&self.key),
            Op::DoesNotExist => write!(f, "!{}", self.key),
            Op::Gt => write!(f, "{}>{}", self.key, self.values[0]),
            Op::Lt => write!(f, "{}<{}", self.key, self.values[0]),
        }
    }
}

/// A label selector: every requirement holds. No requirement at all (`{}`)
/// selects everything; an absent selector is `Option::None` where it is
/// read, and selects nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    /// `matchLabels` and `matchExpressions`, validated.
    pub fn parse(
        field: &str,
        match_labels: &BTreeMap<String, String>,
        expressions: impl IntoIterator<Item = (String, String, Vec<String>)>,
    ) -> Result<LabelSelector, String> {
        let mut reqs: Vec<Requirement> = match_labels.iter().map(|(k, v)| Requirement::equals(k, v)).collect();
        for (i, (key, op, values)) in expressions.into_iter().enumerate() {
            reqs.push(Requirement::parse(&format!("{field}.matchExpressions[{i}]"), &key, &op, values, false)?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches<'l>(&self, labels: impl Fn(&str) -> Option<&'l str>) -> bool {
        self.0.iter().all(|r| r.matches(labels(&r.key)))
    }

    /// Matches a label map.
    pub fn matches_map(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches(|k| labels.get(k).map(String::as_str))
    }

    /// Selects everything (`{}`).
    pub fn is_everything(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Requirement::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// One required node affinity term: its label requirements and its
/// `matchFields` (only `metadata.name`) all hold. A term with neither
/// matches no node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeTerm {
    pub labels: Vec<Requirement>,
    /// On `metadata.name`.
    pub fields: Vec<Requirement>,
}

impl NodeTerm {
    pub fn matches<'l>(&self, name: &str, labels: impl Fn(&str) -> Option<&'l str>) -> bool {
        (!self.labels.is_empty() || !self.fields.is_empty())
            && self.labels.iter().all(|r| r.matches(labels(&r.key)))
            && self.fields.iter().all(|r| r.matches(Some(name)))
    }
}

/// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`: any
/// term matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeAffinity(pub Vec<NodeTerm>);

impl NodeAffinity {
    pub fn matches<'l>(&self, name: &str, labels: impl Fn(&str) -> Option<&'l str> + Copy) -> bool {
        self.0.iter().any(|t| t.matches(name, labels))
    }

    /// The label keys its terms read.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flat_map(|t| t.labels.iter().map(|r| &r.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, op: &str, values: &[&str], node: bool) -> Result<Requirement, String> {
        Requirement::parse("f", key, op, values.iter().map(|v| v.to_string()).collect(), node)
    }

    #[test]
    fn operators_as_the_apiserver_reads_them() {
        let r = req("tier", "In", &["web", "api"], false).unwrap();
        assert!(r.matches(Some("web")) && !r.matches(Some("db")) && !r.matches(None));
        let r = req("tier", "NotIn", &["db"], false).unwrap();
        assert!(r.matches(Some("web")) && !r.matches(Some("db")) && r.matches(None), "NotIn holds where absent");
        assert!(req("gpu", "Exists", &[], false).unwrap().matches(Some("")));
        assert!(req("gpu", "DoesNotExist", &[], false).unwrap().matches(None));
        let gt = req("cores", "Gt", &["8"], true).unwrap();
        assert!(gt.matches(Some("16")) && !gt.matches(Some("8")) && !gt.matches(Some("x")) && !gt.matches(None));
        let lt = req("cores", "Lt", &["8"], true).unwrap();
        assert!(lt.matches(Some("4")) && !lt.matches(Some("8")));
        for (key, op, values, node, says) in [
            ("k", "Gt", &["1"][..], false, "not one of In, NotIn, Exists or DoesNotExist"),
            ("k", "Near", &[][..], true, "operator \"Near\" is not one of In, NotIn, Exists, DoesNotExist, Gt or Lt"),
            ("k", "In", &[][..], false, "needs at least one value"),
            ("k", "Exists", &["x"][..], false, "takes no values"),
            ("k", "Gt", &["x"][..], true, "exactly one integer value"),
            ("", "Exists", &[][..], false, "the key is empty"),
        ] {
            let e = req(key, op, values, node).unwrap_err();
            assert!(e.contains(says), "{op}: {e}");
        }
    }

    #[test]
    fn selectors_and_node_terms() {
        let labels: BTreeMap<String, String> =
            [("app", "web"), ("tier", "front")].map(|(k, v)| (k.into(), v.into())).into();
        let sel = LabelSelector::parse(
            "s",
            &[("app".to_string(), "web".to_string())].into(),
            [("tier".to_string(), "In".to_string(), vec!["front".to_string()])],
        )
        .unwrap();
        assert!(sel.matches_map(&labels));
        assert_eq!(sel.to_string(), "app=web,tier=front");
        assert!(LabelSelector::default().matches_map(&labels), "{{}} selects everything");
        let get = |k: &str| labels.get(k).map(String::as_str);
        let by_name =
            NodeTerm { fields: vec![req("metadata.name", "In", &["n1"], true).unwrap()], ..Default::default() };
        assert!(by_name.matches("n1", get) && !by_name.matches("n2", get));
        assert!(!NodeTerm::default().matches("n1", get), "an empty term matches nothing");
        let aff = NodeAffinity(vec![NodeTerm::default(), by_name]);
        assert!(aff.matches("n1", get), "terms are ORed");
    }
}
