//! Which pod and port stand behind `count --from service/NAMESPACE/NAME[:PORT]`
//! or `pod/NAMESPACE/NAME[:PORT]`: for a Service, a ready endpoint of its
//! EndpointSlices (where the Service would route) and the port its slices
//! give for the Service port; for a pod, the port by number or by the name
//! of a container port. The choices are pure ([`service_port`],
//! [`ready_endpoint`], [`pod_port`]); [`resolve`] reads what they need.

use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;

use crate::error::{Error, chain};

/// What `--from` names in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    pub port: Option<PortRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Service,
    Pod,
}

/// A port as the user gave it: its number or its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl Named {
    /// `service/NAMESPACE/NAME[:PORT]` or `pod/NAMESPACE/NAME[:PORT]`
    /// (`svc/` and `po/` too, as kubectl spells them); None for anything
    /// else (a URL).
    pub fn parse(s: &str) -> Option<Result<Named, String>> {
        let (kind, rest) = s.trim().split_once('/')?;
        let kind = match kind {
            "service" | "services" | "svc" => Kind::Service,
            "pod" | "pods" | "po" => Kind::Pod,
            _ => return None,
        };
        let (path, port) = match rest.rsplit_once(':') {
            Some((path, port)) => (path, Some(port)),
            None => (rest, None),
        };
        let shape = || format!("--from {s}: expected {}/NAMESPACE/NAME[:PORT]", kind.word());
        let Some((namespace, name)) = path.split_once('/') else { return Some(Err(shape())) };
        if namespace.is_empty() || name.is_empty() || name.contains('/') {
            return Some(Err(shape()));
        }
        let port = match port {
            None => None,
            Some("") => return Some(Err(shape())),
            Some(p) => match p.parse::<u16>() {
                Ok(0) => return Some(Err(format!("--from {s}: port 0 is not a port"))),
                Ok(n) => Some(PortRef::Number(n)),
                Err(_) if p.bytes().all(|b| b.is_ascii_digit()) => {
                    return Some(Err(format!("--from {s}: port {p} is out of range")));
                }
                Err(_) => Some(PortRef::Name(p.to_string())),
            },
        };
        Some(Ok(Named { kind, namespace: namespace.into(), name: name.into(), port }))
    }
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Pod => "pod",
        }
    }
}

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind.word(), self.namespace, self.name)
    }
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => f.write_str(s),
        }
    }
}

/// The pod to forward to, its port, and the name its certificate is
/// checked against (`NAME.NAMESPACE.svc` for a Service, as the in-cluster
/// certificates name it; the pod's IP for a pod).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub pod: String,
    pub port: u16,
    pub server_name: String,
}

/// The Service port `asked` names (by number or name), or its only port.
pub fn service_port<'a>(named: &Named, ports: &'a [ServicePort]) -> Result<&'a ServicePort, Error> {
    let list = || ports.iter().map(shown).collect::<Vec<_>>().join(", ");
    match &named.port {
        None if ports.len() == 1 => Ok(&ports[0]),
        None if ports.is_empty() => Err(Error::cluster(format!("{named} has no ports"))),
        None => Err(Error::usage(format!("{named} has several ports ({}): say which, {named}:PORT", list()))),
        Some(want) => ports
            .iter()
            .find(|p| match want {
                PortRef::Number(n) => p.port == i32::from(*n),
                PortRef::Name(s) => p.name.as_deref() == Some(s.as_str()),
            })
            .ok_or_else(|| Error::usage(format!("{named} has no port {want} (it has {})", list()))),
    }
}

fn shown(p: &ServicePort) -> String {
    match &p.name {
        Some(n) if !n.is_empty() => format!("{} ({n})", p.port),
        _ => p.port.to_string(),
    }
}

/// A ready endpoint backed by a pod, and the port its slice gives for the
/// Service port named `port_name` (targetPort resolved by the EndpointSlice
/// controller, names included). The first by pod name, so that the same
/// cluster gives the same pod.
pub fn ready_endpoint(named: &Named, slices: &[EndpointSlice], port_name: &str) -> Result<(String, u16), Error> {
    let mut found: Vec<(String, u16)> = Vec::new();
    let mut not_ready = 0;
    for slice in slices {
        let port = slice.ports.iter().flatten().find(|p| p.name.as_deref().unwrap_or("") == port_name);
        let Some(port) = port.and_then(|p| p.port).and_then(|p| u16::try_from(p).ok()) else { continue };
        for e in slice.endpoints.iter().flatten() {
            let pod = e.target_ref.as_ref().filter(|r| r.kind.as_deref() == Some("Pod")).and_then(|r| r.name.clone());
            let Some(pod) = pod else { continue };
            // An unset `ready` is ready (discovery/v1), a terminating one is not.
            let c = e.conditions.as_ref();
            let ready = c.and_then(|c| c.ready).unwrap_or(true) && !c.and_then(|c| c.terminating).unwrap_or(false);
            if ready {
                found.push((pod, port));
            } else {
                not_ready += 1;
            }
        }
    }
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        let why = match not_ready {
            0 => "no endpoint: does its selector match a running pod?".to_string(),
            1 => "1 endpoint, not ready".to_string(),
            n => format!("{n} endpoints, none ready"),
        };
        Error::cluster(format!("{named} has no ready endpoint ({why})"))
    })
}

/// The pod's port: the number given, or the container port of that name,
/// or its only container port.
pub fn pod_port(named: &Named, pod: &Pod) -> Result<u16, Error> {
    let ports: Vec<(Option<&str>, i32)> = pod
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| (p.name.as_deref(), p.container_port))
        .collect();
    let list = || {
        let all: Vec<String> =
            ports.iter().map(|(n, p)| n.map(|n| format!("{p} ({n})")).unwrap_or_else(|| p.to_string())).collect();
        if all.is_empty() { "none declared".into() } else { all.join(", ") }
    };
    let number = |p: i32| u16::try_from(p).map_err(|_| Error::cluster(format!("{named}: port {p} is out of range")));
    match &named.port {
        Some(PortRef::Number(n)) => Ok(*n),
        Some(PortRef::Name(want)) => match ports.iter().find(|(n, _)| *n == Some(want.as_str())) {
            Some((_, p)) => number(*p),
            None => Err(Error::usage(format!("{named} has no container port named {want} ({})", list()))),
        },
        None if ports.len() == 1 => number(ports[0].1),
        None => Err(Error::usage(format!("say which port, {named}:PORT (its container ports: {})", list()))),
    }
}

/// Reads what the choice needs, with `client`'s bounds.
pub async fn resolve(client: &kube::Client, named: &Named) -> Result<Endpoint, Error> {
    let ns = &named.namespace;
    match named.kind {
        Kind::Service => {
            let services: Api<Service> = Api::namespaced(client.clone(), ns);
            let svc = services.get(&named.name).await.map_err(|e| read_failed(named, &e, "get", "services"))?;
            let ports = svc.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
            let port = service_port(named, &ports)?;
            let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
            let listed = slices
                .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={}", named.name)))
                .await
                .map_err(|e| read_failed(named, &e, "list", "endpointslices.discovery.k8s.io"))?;
            let (pod, port) = ready_endpoint(named, &listed.items, port.name.as_deref().unwrap_or(""))?;
            Ok(Endpoint { pod, port, server_name: format!("{}.{ns}.svc", named.name) })
        }
        Kind::Pod => {
            let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
            let pod = pods.get(&named.name).await.map_err(|e| read_failed(named, &e, "get", "pods"))?;
            let port = pod_port(named, &pod)?;
            let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).filter(|ip| !ip.is_empty());
            let server_name = ip.unwrap_or_else(|| format!("{}.{ns}.pod", named.name));
            Ok(Endpoint { pod: named.name.clone(), port, server_name })
        }
    }
}

fn read_failed(named: &Named, e: &kube::Error, verb: &str, resource: &str) -> Error {
    let ns = &named.namespace;
    match e {
        kube::Error::Api(s) if s.code == 404 => Error::cluster(format!("{named} not found (404)")),
        kube::Error::Api(s) if s.code == 403 => Error::forbidden(format!(
            "forbidden (403): the kubeconfig user may not {verb} {resource} in namespace {ns}, which --from {named} reads (kubectl podcount docs rbac)"
        )),
        e => Error::cluster(format!("reading {named} failed: {}", chain(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::api::discovery::v1::{Endpoint as SliceEndpoint, EndpointConditions, EndpointPort};

    fn named(s: &str) -> Named {
        Named::parse(s).expect("a named form").expect("parses")
    }

    #[test]
    fn parses_kubectl_spellings_and_ports() {
        let n = named("service/podcount/podcount:metrics");
        assert_eq!((n.kind, n.namespace.as_str(), n.name.as_str()), (Kind::Service, "podcount", "podcount"));
        assert_eq!(n.port, Some(PortRef::Name("metrics".into())));
        assert_eq!(named("svc/a/b:9464").port, Some(PortRef::Number(9464)));
        assert_eq!(named("po/a/b").kind, Kind::Pod);
        assert_eq!(named("pod/a/b").port, None);
        assert!(Named::parse("https://127.0.0.1:9464").is_none());
        assert!(Named::parse("127.0.0.1:9464").is_none());
        for bad in
            ["service/b", "service//b", "service/a/", "service/a/b:", "service/a/b/c", "pod/a/b:0", "pod/a/b:70000"]
        {
            let e = Named::parse(bad).expect("named").expect_err(bad);
            assert!(e.starts_with(&format!("--from {bad}:")), "{e}");
        }
    }

    fn port(name: Option<&str>, port: i32) -> ServicePort {
        ServicePort { name: name.map(String::from), port, ..Default::default() }
    }

    #[test]
    fn a_service_port_by_number_name_or_the_only_one() {
        let one = [port(None, 9464)];
        assert_eq!(service_port(&named("svc/a/b"), &one).unwrap().port, 9464);
        let two = [port(Some("metrics"), 9464), port(Some("debug"), 6060)];
        assert_eq!(service_port(&named("svc/a/b:debug"), &two).unwrap().port, 6060);
        assert_eq!(service_port(&named("svc/a/b:9464"), &two).unwrap().port, 9464);
        let e = service_port(&named("svc/a/b"), &two).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("9464 (metrics), 6060 (debug)"), "{e}");
        assert_eq!(service_port(&named("svc/a/b:80"), &two).unwrap_err().exit_code(), 2);
    }

    fn slice(port_name: &str, port: i32, endpoints: &[(&str, Option<bool>, Option<bool>)]) -> EndpointSlice {
        EndpointSlice {
            ports: Some(vec![EndpointPort { name: Some(port_name.into()), port: Some(port), ..Default::default() }]),
            endpoints: Some(
                endpoints
                    .iter()
                    .map(|(pod, ready, terminating)| SliceEndpoint {
                        target_ref: Some(ObjectReference {
                            kind: Some("Pod".into()),
                            name: Some(pod.to_string()),
                            ..Default::default()
                        }),
                        conditions: Some(EndpointConditions {
                            ready: *ready,
                            terminating: *terminating,
                            serving: None,
                        }),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_ready_endpoint_with_the_ports_number_from_its_slice() {
        let n = named("svc/a/b");
        let slices = [
            slice("metrics", 9464, &[("p-3", Some(true), None), ("p-1", Some(false), None), ("p-2", None, Some(true))]),
            slice("metrics", 9465, &[("p-0", None, None)]),
            slice("other", 1, &[("p-00", Some(true), None)]),
        ];
        assert_eq!(ready_endpoint(&n, &slices, "metrics").unwrap(), ("p-0".into(), 9465));
        let none = [slice("metrics", 9464, &[("p-1", Some(false), None), ("p-2", Some(true), Some(true))])];
        let e = ready_endpoint(&n, &none, "metrics").unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert_eq!(e.to_string(), "service/a/b has no ready endpoint (2 endpoints, none ready)");
        let e = ready_endpoint(&n, &[], "metrics").unwrap_err();
        assert!(e.to_string().contains("no ready endpoint (no endpoint"), "{e}");
    }

    #[test]
    fn a_pods_port_by_number_name_or_the_only_one() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "w", "namespace": "a"},
            "spec": {"containers": [{"name": "c", "ports": [{"name": "metrics", "containerPort": 9464}]}]}
        }))
        .unwrap();
        assert_eq!(pod_port(&named("pod/a/w"), &pod).unwrap(), 9464);
        assert_eq!(pod_port(&named("pod/a/w:metrics"), &pod).unwrap(), 9464);
        assert_eq!(pod_port(&named("pod/a/w:8080"), &pod).unwrap(), 8080);
        let e = pod_port(&named("pod/a/w:http"), &pod).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("no container port named http (9464 (metrics))"), "{e}");
    }
}
