//! Which pods and nodes a count covers: kubectl's selection flags as plain
//! data. Every output states it (the documents' `filter`), and `count --from`
//! takes a watch's answer only when its selection is the same.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// One namespace; None is all of them.
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    /// The user's pod field selector (the phase filter is ANDed on the wire).
    pub field_selector: Option<String>,
    pub node_selector: Option<String>,
    /// `--schedulable-only`: cordoned and tainted nodes are out of the view.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub schedulable_only: bool,
}

impl Filter {
    /// The flag that needs the node list, if this selection has one
    /// (without it neither can be honoured).
    pub fn needs_node_list(&self) -> Option<&'static str> {
        if self.schedulable_only {
            Some("--schedulable-only")
        } else if self.node_selector.is_some() {
            Some("--node-selector")
        } else {
            None
        }
    }

    /// `namespace=web, selector=app=x, ...` for the table footer; None when
    /// nothing is filtered.
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("namespace", &self.namespace),
            ("selector", &self.label_selector),
            ("field-selector", &self.field_selector),
            ("node-selector", &self.node_selector),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .chain(self.schedulable_only.then(|| "schedulable-only".to_string()))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}
