//! A pod's effective requests and limits by kube-scheduler's rule: the one
//! it applies when it adds a pod to a node (component-helpers `PodRequests`
//! and `PodLimits`, as `framework.PodInfo.CalculateResource` calls them in
//! v1.37: status-aware for in-place resize, pod-level resources honoured).
//! Pure; exact (quantities are summed in nanounits and rounded once per pod,
//! cpu up to the millicore and everything else up to a whole unit).
//!
//! - App containers are summed. A restartable init container (a native
//!   sidecar, `restartPolicy: Always`) adds to that sum and keeps running
//!   for the init containers after it; a plain init container needs its own
//!   request plus the sidecars before it. The pod needs the larger.
//! - In-place resize: per container the larger of spec, the actuated
//!   (`status.resources`) and the allocated (`allocatedResources`) values;
//!   spec is left out while the resize is `Infeasible`. Pod-level status
//!   totals, when the pod reports both, stand for the containers'.
//! - Pod-level `spec.resources` replaces the container total for cpu, memory
//!   and `hugepages-*`.
//! - `spec.overhead` is added (to limits only where a limit is set).

use crate::model::quantity::Quantity;

/// A resource list as a pod spells it; absent and empty are the same (Go
/// decodes an empty map as nil, and the apiserver omits empty maps).
pub type List<'a> = Vec<(&'a str, Quantity)>;

/// One container's spec: its name (to find its status) and resources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Container<'a> {
    pub name: &'a str,
    pub requests: List<'a>,
    pub limits: List<'a>,
    /// An init container with `restartPolicy: Always`: a native sidecar.
    pub restartable: bool,
}

/// What a container's status says about its resources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerStatus<'a> {
    pub name: &'a str,
    /// `allocatedResources`.
    pub allocated: List<'a>,
    /// `resources.requests` (the actuated requests).
    pub requests: List<'a>,
    /// `resources.limits`.
    pub limits: List<'a>,
}

/// Everything of a pod that its effective requests and limits depend on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodResources<'a> {
    pub containers: Vec<Container<'a>>,
    pub init_containers: Vec<Container<'a>>,
    /// `spec.overhead` (RuntimeClass overhead).
    pub overhead: List<'a>,
    /// Pod-level `spec.resources.requests` / `.limits`.
    pub pod_requests: List<'a>,
    pub pod_limits: List<'a>,
    /// `status.containerStatuses`, then `status.initContainerStatuses` (the
    /// order Kubernetes looks a name up in).
    pub statuses: Vec<ContainerStatus<'a>>,
    /// The `PodResizePending` condition says `Infeasible`.
    pub resize_infeasible: bool,
    /// Pod-level `status.allocatedResources`.
    pub status_allocated: List<'a>,
    /// Pod-level `status.resources`, when the pod reports it at all.
    pub status_resources: Option<(List<'a>, List<'a>)>,
}

/// A pod's demand in the units the scheduler adds up: cpu in millicores,
/// everything else in whole units; by resource name, sorted. `N` holds the
/// names: borrowed from the decoded pod while counting, owned in a store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Demand<N> {
    pub requests: Vec<(N, i64)>,
    pub limits: Vec<(N, i64)>,
}

impl<N: AsRef<str>> Demand<N> {
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.limits.is_empty()
    }

    /// The same demand owning its names (what a store keeps).
    pub fn to_owned(&self) -> Demand<Box<str>> {
        let own = |l: &[(N, i64)]| l.iter().map(|(n, v)| (Box::from(n.as_ref()), *v)).collect();
        Demand { requests: own(&self.requests), limits: own(&self.limits) }
    }
}

/// Resources pod-level `spec.resources` may set (`IsSupportedPodLevelResource`).
pub fn pod_level(name: &str) -> bool {
    name == "cpu" || name == "memory" || name.starts_with("hugepages-")
}

/// Per-name arithmetic on resource lists, exact (a list has a handful of
/// names: a linear search beats a map).
#[derive(Clone, Debug, Default, PartialEq)]
struct Acc<'a>(List<'a>);

impl<'a> Acc<'a> {
    fn get_mut(&mut self, name: &'a str) -> Option<&mut Quantity> {
        self.0.iter_mut().find(|(n, _)| *n == name).map(|(_, q)| q)
    }

    fn add(&mut self, list: &[(&'a str, Quantity)]) {
        for &(name, q) in list {
            match self.get_mut(name) {
                Some(v) => *v = Quantity::from_nanos(v.nanos().saturating_add(q.nanos())),
                None => self.0.push((name, q)),
            }
        }
    }

    /// Each name to the larger of its value and `list`'s.
    fn max(&mut self, list: &[(&'a str, Quantity)]) {
        for &(name, q) in list {
            match self.get_mut(name) {
                Some(v) if q > *v => *v = q,
                Some(_) => {}
                None => self.0.push((name, q)),
            }
        }
    }

    fn of(lists: &[&[(&'a str, Quantity)]]) -> Acc<'a> {
        let mut acc = Acc::default();
        for l in lists {
            acc.max(l);
        }
        acc
    }
}

/// Which of a container's lists an aggregation reads, given its status.
type Pick<'p, 'a> = fn(&'p Container<'a>, Option<&'p ContainerStatus<'a>>, bool) -> &'p [(&'a str, Quantity)];

impl<'a> PodResources<'a> {
    fn status(&self, name: &str) -> Option<&ContainerStatus<'a>> {
        self.statuses.iter().find(|s| s.name == name)
    }

    /// `aggregateContainerResourcesByFn`: app containers summed, init
    /// containers by the sidecar formula, the larger of the two.
    fn aggregate<'p>(&'p self, pick: Pick<'p, 'a>) -> Acc<'a> {
        let infeasible = self.resize_infeasible;
        let mut result = Acc::default();
        for c in &self.containers {
            result.add(pick(c, self.status(c.name), infeasible));
        }
        let mut sidecars = Acc::default();
        let mut init_peak = Acc::default();
        for c in &self.init_containers {
            let r = pick(c, self.status(c.name), infeasible);
            if c.restartable {
                result.add(r);
                sidecars.add(r);
                init_peak.max(&sidecars.0);
            } else {
                let mut with_sidecars = Acc(r.to_vec());
                with_sidecars.add(&sidecars.0);
                init_peak.max(&with_sidecars.0);
            }
        }
        result.max(&init_peak.0);
        result
    }

    /// The pod's effective requests (`PodRequests`), exact.
    pub fn requests(&self) -> List<'a> {
        let infeasible = self.resize_infeasible;
        let spec = self.aggregate(|c, _, _| &c.requests);
        let (allocated, actuated) = match &self.status_resources {
            Some((requests, _)) if !self.status_allocated.is_empty() && !requests.is_empty() => {
                (Acc(self.status_allocated.clone()), Acc(requests.clone()))
            }
            _ => (self.aggregate(allocated_requests), self.aggregate(actuated_requests)),
        };
        let mut reqs = if infeasible {
            Acc::of(&[&actuated.0, &allocated.0])
        } else {
            Acc::of(&[&spec.0, &actuated.0, &allocated.0])
        };
        if self.pod_requests.iter().any(|(n, _)| pod_level(n)) {
            let effective = match &self.status_resources {
                Some((requests, _)) => {
                    let spec: &[_] = if infeasible { &[] } else { &self.pod_requests };
                    Acc::of(&[spec, requests, &self.status_allocated]).0
                }
                None => self.pod_requests.clone(),
            };
            set_pod_level(&mut reqs, &effective);
        }
        reqs.add(&self.overhead);
        reqs.0
    }

    /// The pod's effective limits (`PodLimits`), exact.
    pub fn limits(&self) -> List<'a> {
        let infeasible = self.resize_infeasible;
        let spec = self.aggregate(|c, _, _| &c.limits);
        let actuated = match &self.status_resources {
            Some((_, limits)) if !limits.is_empty() => Acc(limits.clone()),
            _ => self.aggregate(actuated_limits),
        };
        let mut limits = if infeasible { actuated } else { Acc::of(&[&spec.0, &actuated.0]) };
        let pod_level_set = self.pod_requests.iter().chain(&self.pod_limits).any(|(n, _)| pod_level(n));
        if pod_level_set {
            let effective = match &self.status_resources {
                Some((_, status_limits)) => {
                    let spec: &[_] = if infeasible { &[] } else { &self.pod_limits };
                    Acc::of(&[spec, status_limits]).0
                }
                None => self.pod_limits.clone(),
            };
            set_pod_level(&mut limits, &effective);
        }
        for &(name, q) in &self.overhead {
            if let Some(v) = limits.get_mut(name).filter(|v| v.nanos() != 0) {
                *v = Quantity::from_nanos(v.nanos().saturating_add(q.nanos()));
            }
        }
        limits.0
    }

    /// Requests and limits rounded as the scheduler adds them up.
    pub fn demand(&self) -> Demand<&'a str> {
        Demand { requests: rounded(self.requests()), limits: rounded(self.limits()) }
    }
}

/// `applyPodLevelResources`: pod-level values replace the containers'.
fn set_pod_level<'a>(acc: &mut Acc<'a>, effective: &[(&'a str, Quantity)]) {
    for &(name, q) in effective.iter().filter(|(n, _)| pod_level(n)) {
        match acc.get_mut(name) {
            Some(v) => *v = q,
            None => acc.0.push((name, q)),
        }
    }
}

/// `containerAllocatedRequests`.
fn allocated_requests<'p, 'a>(
    c: &'p Container<'a>,
    cs: Option<&'p ContainerStatus<'a>>,
    infeasible: bool,
) -> &'p [(&'a str, Quantity)] {
    match cs {
        Some(cs) if !cs.allocated.is_empty() => &cs.allocated,
        _ if infeasible => &[],
        _ => &c.requests,
    }
}

/// `containerActuatedRequests`.
fn actuated_requests<'p, 'a>(
    c: &'p Container<'a>,
    cs: Option<&'p ContainerStatus<'a>>,
    infeasible: bool,
) -> &'p [(&'a str, Quantity)] {
    match cs {
        Some(cs) if !cs.requests.is_empty() => &cs.requests,
        Some(cs) if !cs.allocated.is_empty() => &cs.allocated,
        _ if infeasible => &[],
        _ => &c.requests,
    }
}

/// `containerActuatedLimits`.
fn actuated_limits<'p, 'a>(
    c: &'p Container<'a>,
    cs: Option<&'p ContainerStatus<'a>>,
    infeasible: bool,
) -> &'p [(&'a str, Quantity)] {
    match cs {
        Some(cs) if !cs.limits.is_empty() => &cs.limits,
        _ if infeasible => &[],
        _ => &c.limits,
    }
}

/// The scheduler's units (`Resource.Add`): cpu `MilliValue`, the rest `Value`;
/// saturated at the i64 the scheduler keeps them in.
pub fn scheduler_units(name: &str, q: Quantity) -> i64 {
    let v = if name == "cpu" { q.milli_ceil() } else { q.value_ceil() };
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

fn rounded(list: List<'_>) -> Vec<(&str, i64)> {
    let mut out: Vec<(&str, i64)> = list.into_iter().map(|(n, q)| (n, scheduler_units(n, q))).collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(&'static str, &str)]) -> List<'static> {
        items.iter().map(|(n, q)| (*n, Quantity::parse(q).unwrap())).collect()
    }

    fn c(name: &'static str, requests: &[(&'static str, &str)]) -> Container<'static> {
        Container { name, requests: list(requests), limits: vec![], restartable: false }
    }

    fn sidecar(name: &'static str, requests: &[(&'static str, &str)]) -> Container<'static> {
        Container { restartable: true, ..c(name, requests) }
    }

    fn get(d: &[(&str, i64)], name: &str) -> Option<i64> {
        d.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// kubernetes/website#57373: sidecar 100m, then init 200m, app 100m ⇒ 300m.
    #[test]
    fn the_worked_example() {
        let p = PodResources {
            init_containers: vec![sidecar("proxy", &[("cpu", "100m")]), c("init", &[("cpu", "200m")])],
            containers: vec![c("app", &[("cpu", "100m")])],
            ..Default::default()
        };
        assert_eq!(get(&p.demand().requests, "cpu"), Some(300));
    }

    #[test]
    fn init_containers_larger_than_the_app() {
        // fit.go's example: result cpu 3, memory 3G.
        let p = PodResources {
            init_containers: vec![
                c("ic1", &[("cpu", "2"), ("memory", "1G")]),
                c("ic2", &[("cpu", "2"), ("memory", "3G")]),
            ],
            containers: vec![c("c1", &[("cpu", "2"), ("memory", "1G")]), c("c2", &[("cpu", "1"), ("memory", "1G")])],
            ..Default::default()
        };
        let d = p.demand();
        assert_eq!((get(&d.requests, "cpu"), get(&d.requests, "memory")), (Some(3000), Some(3_000_000_000)));
    }

    #[test]
    fn pod_level_resources_replace_cpu_and_memory_only() {
        let p = PodResources {
            containers: vec![c("a", &[("cpu", "100m"), ("ephemeral-storage", "1Gi"), ("nvidia.com/gpu", "1")])],
            pod_requests: list(&[("cpu", "1"), ("memory", "2Gi")]),
            overhead: list(&[("cpu", "250m")]),
            ..Default::default()
        };
        let d = p.demand();
        assert_eq!(get(&d.requests, "cpu"), Some(1250));
        assert_eq!(get(&d.requests, "memory"), Some(2 << 30));
        assert_eq!(get(&d.requests, "ephemeral-storage"), Some(1 << 30));
        assert_eq!(get(&d.requests, "nvidia.com/gpu"), Some(1));
    }

    #[test]
    fn cpu_rounds_up_once_per_pod() {
        // Two 0.5m sidecars: 1m for the pod, not 2m.
        let p = PodResources {
            init_containers: vec![sidecar("a", &[("cpu", "0.5m")]), sidecar("b", &[("cpu", "0.5m")])],
            ..Default::default()
        };
        assert_eq!(get(&p.demand().requests, "cpu"), Some(1));
    }

    #[test]
    fn in_place_resize_takes_the_largest_and_drops_spec_when_infeasible() {
        let mut p = PodResources {
            containers: vec![c("app", &[("cpu", "500m"), ("memory", "1Gi")])],
            statuses: vec![ContainerStatus {
                name: "app",
                allocated: list(&[("cpu", "700m"), ("memory", "512Mi")]),
                requests: list(&[("cpu", "600m"), ("memory", "512Mi")]),
                limits: vec![],
            }],
            ..Default::default()
        };
        let d = p.demand();
        assert_eq!((get(&d.requests, "cpu"), get(&d.requests, "memory")), (Some(700), Some(1 << 30)));
        p.resize_infeasible = true;
        let d = p.demand();
        assert_eq!((get(&d.requests, "cpu"), get(&d.requests, "memory")), (Some(700), Some(512 << 20)));
    }

    #[test]
    fn limits_get_overhead_only_where_set() {
        let p = PodResources {
            containers: vec![Container { limits: list(&[("memory", "1Gi")]), ..c("a", &[("memory", "1Gi")]) }],
            overhead: list(&[("cpu", "250m"), ("memory", "120Mi")]),
            ..Default::default()
        };
        let d = p.demand();
        assert_eq!(get(&d.limits, "memory"), Some((1 << 30) + (120 << 20)));
        assert_eq!(get(&d.limits, "cpu"), None);
        assert_eq!(get(&d.requests, "cpu"), Some(250));
    }
}
