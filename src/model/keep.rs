//! What is read and kept of each object beyond what counting needs: asked
//! for by the views, so a plain count holds as little as it can.

/// What to keep beyond counting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keep {
    /// Node labels (`-L`, `--group-by`, a `--fits` shape's nodeSelector).
    pub labels: Vec<String>,
    /// Requests and limits of pods, allocatable resources of nodes
    /// (`--resources`, per-resource thresholds, `--fits`).
    pub resources: bool,
    /// Pods: their limits too (`--limits`); without, only requests are
    /// kept, so a store or tally holds nothing nobody shows.
    pub limits: bool,
    /// Pods: what each tells these `--fits` shapes' inter-pod filters
    /// (labels, host ports, anti-affinity, claims), when any reads them.
    pub placing: Vec<super::placement::Constraints>,
}
