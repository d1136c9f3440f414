//! `count --from URL`: the counts a running `watch --listen` holds, read from
//! its `/v1/podcount`, when they answer exactly this question (same contexts,
//! same selection, the node labels the views need); otherwise why not, so
//! the caller lists instead. The watch is a URL, or a Service or pod of the
//! cluster reached by port-forward (`service/NAMESPACE/NAME[:PORT]`).

use std::time::Duration;

use http_body_util::{BodyExt, Empty};

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::client::connect::Target;
use crate::client::forward::{Connector, Refused};
use crate::client::http::{Protocol, client_forwarded, client_with_tls};
use crate::client::pin::Fingerprint;

use crate::error::Error;
use crate::model::filter::Filter;
use crate::model::fits::Shape;
use crate::render::document::parse;
use crate::report::Counted;
use crate::report::group::GroupKey;
use crate::report::resources::{ResourceRow, Resources, Selection};
use crate::source::endpoint::{self, Named};

/// How long `--from` waits for a watch's answer before listing instead
/// (https: the handshake and the watch's TokenReview too).
const WAIT: Duration = Duration::from_secs(1);
const WAIT_HTTPS: Duration = Duration::from_secs(3);
/// `--from service/...`: the Service's endpoints read, the port-forward
/// opened through the apiserver, the TLS handshake and the answer.
const WAIT_FORWARD: Duration = Duration::from_secs(10);

/// How an https watch's certificate is trusted: `--from-ca`, or its pinned
/// fingerprint (`--from-fingerprint`), else the system's roots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trust {
    pub ca: Option<PathBuf>,
    pub fingerprint: Option<Fingerprint>,
}

/// What of the served document this `count` prints: `/v1/podcount` leaves
/// out each row's resources (`resources=false`) and the `--fits` answers
/// (`fits=false`) when asked, which at 5,000 nodes is most of the
/// document. (A watch that predates the parameters ignores them and
/// serves everything, which `pick_*` then drop.)
#[derive(Clone, Copy, Debug)]
pub struct Needs {
    pub resources: bool,
    pub fits: bool,
}

impl Needs {
    fn path(self) -> String {
        let off: Vec<&str> = [("resources=false", !self.resources), ("fits=false", !self.fits)]
            .into_iter()
            .filter_map(|(p, off)| off.then_some(p))
            .collect();
        if off.is_empty() { "/v1/podcount".into() } else { format!("/v1/podcount?{}", off.join("&")) }
    }
}

/// Where the watch is: a URL, or a Service or pod of the cluster reached by
/// port-forward through the apiserver.
#[derive(Clone, Debug, PartialEq)]
pub enum Reach {
    Url(String),
    Named(Named),
}

impl Reach {
    pub fn parse(s: &str) -> Result<Reach, Error> {
        match Named::parse(s) {
            Some(Ok(n)) => Ok(Reach::Named(n)),
            Some(Err(why)) => Err(Error::usage(why)),
            None => Ok(Reach::Url(s.trim().to_string())),
        }
    }
}

/// The watch's counts, or why not (`Ok(Err)`: `count` lists instead). A
/// named Service or pod that cannot be reached is an error of its own
/// (`Err`): the user named something in the cluster that is not there.
pub async fn fetch(
    reach: &Reach,
    target: &Target,
    trust: &Trust,
    needs: Needs,
) -> Result<Result<Vec<Counted>, String>, Error> {
    match reach {
        Reach::Url(url) => Ok(fetch_url(url, target, trust, needs).await),
        Reach::Named(named) => tokio::time::timeout(WAIT_FORWARD, fetch_forwarded(named, target, trust, needs))
            .await
            .unwrap_or_else(|_| {
                Err(Error::cluster(format!(
                    "--from {named}: no answer within {} (finding its pod, the port-forward and the watch's answer together)",
                    humantime::format_duration(WAIT_FORWARD)
                )))
            }),
    }
}

/// The watch's counts for exactly these contexts and this selection, with
/// these node labels, or why not. Over https it shows the kubeconfig user's
/// bearer token (a token, tokenFile or exec plugin), as `--listen-auth
/// kubernetes` reviews it; never over plain http.
async fn fetch_url(url: &str, target: &Target, trust: &Trust, needs: Needs) -> Result<Vec<Counted>, String> {
    let base = url.trim().trim_end_matches('/');
    let path = needs.path();
    let uri: http::Uri = format!("{base}{path}").parse().map_err(|e| format!("not a URL ({e})"))?;
    let (status, body) = match uri.scheme_str() {
        Some("http") => fetch_http(uri).await?,
        Some("https") => {
            let client = https_client(base, target, trust, None)?;
            let fetch = async { get(&client, &path).await.map_err(|e| unreachable_https(&e, trust)) };
            tokio::time::timeout(WAIT_HTTPS, fetch)
                .await
                .map_err(|_| format!("no answer within {}", humantime::format_duration(WAIT_HTTPS)))??
        }
        _ => {
            return Err(
                "expected an http:// or https:// URL of a watch --listen, or service/NAMESPACE/NAME[:PORT]".into()
            );
        }
    };
    read_answer(base, status, &body)
}

/// Over a port-forward to the pod behind `named`, as `kubectl port-forward`
/// opens it, with TLS and the user's token as for an https URL. Everything
/// up to the watch's answer is an error; the answer is read as a URL's.
async fn fetch_forwarded(
    named: &Named,
    target: &Target,
    trust: &Trust,
    needs: Needs,
) -> Result<Result<Vec<Counted>, String>, Error> {
    let at = endpoint::resolve(&target.client, named).await?;
    let forward = Connector::new(target.client.clone(), &named.namespace, &at.pod, at.port);
    let base = format!("https://{}:{}", at.server_name, at.port);
    let client = https_client(&base, target, trust, Some(forward.clone())).map_err(Error::usage)?;
    let path = needs.path();
    let (status, body) = match get(&client, &path).await {
        Ok(answer) => answer,
        Err(e) => {
            let ns = &named.namespace;
            let pod = format!("pod {ns}/{} port {}", at.pod, at.port);
            if let Some(refused) = cause::<Refused>(&e) {
                let verb_missing = refused.status() == Some(http::StatusCode::FORBIDDEN);
                let message = format!("--from {named}: {refused}");
                return Err(if verb_missing { Error::forbidden(message) } else { Error::cluster(message) });
            }
            if let Some(said) = forward.said().await {
                return Err(Error::cluster(format!("--from {named}: the port-forward to {pod} failed: {said}")));
            }
            return Err(Error::cluster(format!("--from {named} ({pod}): {}", unreachable_https(&e, trust))));
        }
    };
    Ok(read_answer(&base, status, &body))
}

/// The first cause of type `T` in `e`'s chain.
fn cause<'a, T: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

/// What a watch's answer says: its counts, or why they cannot be used.
fn read_answer(base: &str, status: http::StatusCode, body: &[u8]) -> Result<Vec<Counted>, String> {
    if status == http::StatusCode::UNAUTHORIZED {
        return Err(
            "the watch did not accept the kubeconfig user's credentials (401): --listen-auth kubernetes reviews bearer tokens (token, tokenFile, exec plugin), not client certificates".into(),
        );
    }
    if status == http::StatusCode::FORBIDDEN {
        return Err(format!(
            "the kubeconfig user may not read {base}/v1/podcount (403): grant it `get` on the non-resource URL /v1/podcount (rules: [{{nonResourceURLs: [\"/v1/podcount\"], verbs: [\"get\"]}}], as the ClusterRole podcount-metrics-reader in deploy/base has)"
        ));
    }
    if status == http::StatusCode::SERVICE_UNAVAILABLE {
        let why = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().map(String::from))
            .unwrap_or_else(|| "not synced".into());
        return Err(why);
    }
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    parse(body)
}

async fn fetch_http(uri: http::Uri) -> Result<(http::StatusCode, bytes::Bytes), String> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    let fetch = async {
        let resp = client.get(uri).await.map_err(|e| format!("unreachable ({})", crate::error::chain(&e)))?;
        let status = resp.status();
        let body = resp.into_body().collect().await.map_err(|e| format!("the answer broke off ({e})"))?.to_bytes();
        Ok::<_, String>((status, body))
    };
    tokio::time::timeout(WAIT, fetch)
        .await
        .map_err(|_| format!("no answer within {}", humantime::format_duration(WAIT)))?
}

/// The same HTTP stack as the apiserver's (bounds, token file, exec
/// plugin), with the watch's URL and trust in place of the cluster's, and
/// without what only the apiserver reads (client certificates,
/// impersonation, the cluster's proxy and server name); over TCP, or over
/// a port-forward.
fn https_client(
    base: &str,
    target: &Target,
    trust: &Trust,
    forward: Option<Connector>,
) -> Result<kube::Client, String> {
    let mut config = target.config.clone();
    config.cluster_url = base.parse().map_err(|e| format!("not a URL ({e})"))?;
    config.tls_server_name = None;
    config.proxy_url = None;
    config.accept_invalid_certs = false;
    config.root_cert = match &trust.ca {
        Some(path) => Some(pem_certificates(path)?),
        None => None,
    };
    let a = &mut config.auth_info;
    (a.impersonate, a.impersonate_groups, a.impersonate_uid) = (None, None, None);
    (a.client_certificate, a.client_certificate_data, a.client_key, a.client_key_data) = (None, None, None, None);
    let tls = match trust.fingerprint {
        Some(pin) => crate::client::pin::client_config(pin),
        None => kube::client::ConfigExt::rustls_client_config(&config).map_err(|e| crate::error::chain(&e))?,
    };
    let client = match forward {
        None => client_with_tls(&config, tls, target.at.timeouts, Protocol::Http1, None),
        Some(forward) => client_forwarded(&config, tls, target.at.timeouts, forward),
    };
    client.map_err(|e| crate::error::chain(&e))
}

async fn get(client: &kube::Client, path: &str) -> Result<(http::StatusCode, bytes::Bytes), kube::Error> {
    let request = http::Request::get(path).body(kube::client::Body::empty()).map_err(kube::Error::HttpError)?;
    let resp = client.send(request).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Why an https watch could not be asked; an untrusted certificate says how
/// to trust it.
fn unreachable_https(e: &kube::Error, trust: &Trust) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<tokio_rustls::rustls::Error>() {
            let hint = match trust {
                Trust { fingerprint: Some(_), .. } => "",
                Trust { ca: Some(_), .. } => " (is it the CA that signed the watch's certificate?)",
                _ => "; pass --from-ca FILE, or --from-fingerprint with the sha256 the watch printed at start",
            };
            return format!("its certificate is not trusted: {tls}{hint}");
        }
        // rustls' error comes wrapped in io::Errors, whose source() skips
        // the wrapped error itself: step into it instead.
        cur = match err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    format!("unreachable ({})", crate::error::chain(e))
}

/// The DER certificates of a PEM file (`--from-ca`).
fn pem_certificates(path: &std::path::Path) -> Result<Vec<Vec<u8>>, String> {
    use tokio_rustls::rustls::pki_types::CertificateDer;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let certs: Vec<Vec<u8>> = CertificateDer::pem_file_iter(path)
        .and_then(|i| i.map(|c| c.map(|c| c.to_vec())).collect())
        .map_err(|e| format!("--from-ca {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("--from-ca {}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// Which cluster `t` reaches, within `--from`'s own budget: an apiserver
/// slower than the watch it stands in for must not hold the answer up.
pub async fn identity(t: &Target) -> Result<String, String> {
    tokio::time::timeout(WAIT_HTTPS, crate::source::identity::cluster_id(t)).await.unwrap_or_else(|_| {
        Err(format!("the API server did not say which cluster it is within {}", humantime::format_duration(WAIT_HTTPS)))
    })
}

/// One context `count` is asked about, and which cluster it reaches (or why
/// that could not be read).
#[derive(Clone, Debug, PartialEq)]
pub struct Asked {
    pub context: String,
    pub cluster_id: Result<String, String>,
}

/// A watch's counts for the asked contexts, in their order and under their
/// names, and what was taken on trust (said as warnings).
#[derive(Debug)]
pub struct Matched {
    pub counted: Vec<Counted>,
    pub trusted: Vec<String>,
}

/// A watch's counts as `count`'s answer, if they answer this question
/// (the asked clusters, this selection, these node labels).
pub fn answer(served: Vec<Counted>, asked: &[Asked], filter: &Filter, labels: &[String]) -> Result<Matched, String> {
    let matched = match_clusters(served, asked)?;
    if let Some(c) = matched.counted.iter().find(|c| c.filter != *filter) {
        return Err(format!("it watches other filters ({:?}, not {:?})", c.filter, filter));
    }
    // A watch keeps only the labels of its own --group-by.
    let kept = matched.counted.first().and_then(|c| c.groups.as_ref()).map(|g| GroupKey::parse(&g.by).labels);
    if let Some(missing) = labels.iter().find(|l| !kept.as_ref().is_some_and(|k| k.contains(l))) {
        return Err(format!(
            "it keeps no node label {missing:?}, which -L/--group-by need (a watch keeps the labels of its own --group-by)"
        ));
    }
    Ok(matched)
}

/// For each asked context, the served count of the same cluster. Context
/// names are local to a kubeconfig, so clusters are matched on what they
/// say they are (the served `clusterID` against the user's own reading).
/// Where either side could not read it, the URL was named on purpose and
/// is trusted: the served context of the same name, or with one context
/// asked and one served, that one; and this is said.
fn match_clusters(served: Vec<Counted>, asked: &[Asked]) -> Result<Matched, String> {
    let mut served: Vec<Option<Counted>> = served.into_iter().map(Some).collect();
    let names = |s: &[Option<Counted>]| {
        let n: Vec<&str> = s.iter().flatten().map(|c| c.context.as_str()).collect();
        n.join(",")
    };
    let (mut counted, mut trusted) = (Vec::new(), Vec::new());
    let one_each = asked.len() == 1 && served.len() == 1;
    for a in asked {
        let by_id = |c: &Counted| a.cluster_id.as_ref().is_ok_and(|id| c.cluster_id.as_ref() == Some(id));
        let i = match served.iter().position(|c| c.as_ref().is_some_and(by_id)) {
            Some(i) => i,
            None => {
                // Unverifiable on one side: trusted by name, or as the only one.
                let unknown = |c: &Counted| a.cluster_id.is_err() || c.cluster_id.is_none();
                let by_name =
                    served.iter().position(|c| c.as_ref().is_some_and(|c| c.context == a.context && unknown(c)));
                let only = (one_each && served[0].as_ref().is_some_and(unknown)).then_some(0);
                let Some(i) = by_name.or(only) else {
                    return Err(match &a.cluster_id {
                        Ok(id) => format!(
                            "it does not watch the cluster of context {} (kube-system UID {id}); it watches context(s) {}",
                            a.context,
                            names(&served)
                        ),
                        Err(why) => format!(
                            "it watches context(s) {}, not {}, and which cluster {} is cannot be told: {why}",
                            names(&served),
                            a.context,
                            a.context
                        ),
                    });
                };
                let c = served[i].as_ref().expect("found");
                trusted.push(match &a.cluster_id {
                    Err(why) => format!(
                        "cannot tell whether its context {} is the cluster of context {} ({why}); trusted as given",
                        c.context, a.context
                    ),
                    Ok(_) => format!(
                        "its context {} does not say which cluster it is (a watch without {}); trusted as context {}",
                        c.context,
                        crate::source::identity::NEEDS,
                        a.context
                    ),
                });
                i
            }
        };
        let mut c = served[i].take().expect("each served count is matched once");
        // Printed as `count` prints its own List: under the user's name.
        c.context = a.context.clone();
        c.cluster_id = None;
        counted.push(c);
    }
    Ok(Matched { counted, trusted })
}

/// Keeps of a served answer only the resources `count` was asked for (the
/// watch serves every one it tracks), resolving the selection as the List
/// path would (the served allocatable values stand for the nodes'); or why
/// the watch cannot answer: it tracks no resources, no limits, or not one
/// that is asked for.
pub fn pick_resources(
    counted: &mut [Counted],
    selection: Option<&Selection>,
    limits: bool,
    judged: &[String],
) -> Result<(), String> {
    for c in counted.iter_mut() {
        let Some(selection) = selection else {
            for r in &mut c.rows {
                r.resources = None;
            }
            continue;
        };
        if c.rows.iter().any(|r| r.resources.is_none()) {
            return Err("it tracks no resources (start it with --resources)".into());
        }
        let all: Vec<(&crate::model::resource_name::ResourceName, &ResourceRow)> =
            c.rows.iter().flat_map(|r| r.resources.iter().flat_map(|res| res.0.iter())).collect();
        if limits && all.iter().any(|(_, row)| row.limits.is_none()) {
            return Err("it tracks no limits (start it with --limits)".into());
        }
        let allocated: BTreeSet<&str> =
            all.iter().filter(|(_, row)| row.allocatable.is_some()).map(|(n, _)| n.as_str()).collect();
        let requested: BTreeSet<&str> =
            all.iter().filter(|(_, row)| row.requests != 0).map(|(n, _)| n.as_str()).collect();
        let mut names = selection.resolve(allocated.iter().copied(), requested.iter().copied())?;
        names.extend(judged.iter().filter(|j| !names.contains(j)).cloned().collect::<Vec<_>>());
        for r in &mut c.rows {
            let Some(res) = &mut r.resources else { continue };
            let mut kept = Resources::default();
            for name in &names {
                let row = res.0.get(name.as_str()).copied().unwrap_or_default();
                kept.0.insert(name.into(), ResourceRow { limits: if limits { row.limits } else { None }, ..row });
            }
            *res = kept;
        }
    }
    Ok(())
}

/// Keeps of a served answer the fits of the shapes `count` asks about (a
/// served shape with the same requests, tolerations and nodeSelector,
/// under whatever name the watch gave it), or why the watch cannot answer.
/// A shape a watch's served fits answer: resources, tolerations and a
/// nodeSelector only.
fn per_node_only(s: &Shape) -> bool {
    s.node_name.is_none()
        && s.node_affinity.is_none()
        && !s.constraints.reads_neighbours()
        && !s.daemon_set
        && s.bound_by.is_empty()
        && s.may_place_more.is_empty()
}

pub fn pick_fits(counted: &mut [Counted], asked: &[Shape]) -> Result<(), String> {
    for c in counted.iter_mut() {
        let same = |a: &Shape, b: &Shape| {
            let mut ar = a.requests.clone();
            let mut br = b.requests.clone();
            ar.sort();
            br.sort();
            ar == br && a.tolerations == b.tolerations && a.node_selector == b.node_selector
        };
        let mut served_name = Vec::new();
        if let Some(a) = asked.iter().find(|a| !per_node_only(a)) {
            return Err(format!(
                "{} asks for nodeName, node affinity, host ports, pod affinity, spread or a DaemonSet's placement, which a watch does not answer",
                a.name
            ));
        }
        for a in asked {
            let Some(served) = c.shapes.iter().find(|s| same(s, a)) else {
                return Err(format!("it computes no fits for {} (start it with the same --fits)", a.name));
            };
            served_name.push((a.name.clone(), served.name.clone()));
        }
        for r in &mut c.rows {
            let fits = std::mem::take(&mut r.fits);
            let limited = std::mem::take(&mut r.fits_limited_by);
            for (ours, theirs) in &served_name {
                r.fits.insert(ours.clone(), fits.get(theirs).copied().flatten());
                r.fits_limited_by.insert(ours.clone(), limited.get(theirs).cloned().flatten());
            }
        }
        c.shapes = asked.to_vec();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_only_for_what_it_prints() {
        let path = |resources, fits| Needs { resources, fits }.path();
        assert_eq!(path(true, true), "/v1/podcount");
        assert_eq!(path(false, true), "/v1/podcount?resources=false");
        assert_eq!(path(true, false), "/v1/podcount?fits=false");
        assert_eq!(path(false, false), "/v1/podcount?resources=false&fits=false");
    }

    fn served(context: &str, id: Option<&str>) -> Counted {
        Counted { cluster_id: id.map(String::from), ..crate::render::testing::counted(context) }
    }

    fn asked(context: &str, id: Result<&str, &str>) -> Asked {
        Asked { context: context.into(), cluster_id: id.map(String::from).map_err(String::from) }
    }

    fn contexts(m: &Matched) -> Vec<&str> {
        m.counted.iter().map(|c| c.context.as_str()).collect()
    }

    #[test]
    fn clusters_are_matched_on_what_they_say_not_on_local_names() {
        // The watch in the cluster calls it in-cluster; the laptop, prod-eu.
        let m = match_clusters(vec![served("in-cluster", Some("u1"))], &[asked("prod-eu", Ok("u1"))]).unwrap();
        assert_eq!((contexts(&m), m.trusted.len()), (vec!["prod-eu"], 0));
        assert_eq!(m.counted[0].cluster_id, None, "printed as count's own List");
        // Another cluster of the same name is refused.
        let e = match_clusters(vec![served("prod-eu", Some("u2"))], &[asked("prod-eu", Ok("u1"))]).unwrap_err();
        assert!(e.contains("does not watch the cluster of context prod-eu (kube-system UID u1)"), "{e}");
        // Several: each asked context finds its own, in the order asked.
        let two = vec![served("a", Some("u1")), served("b", Some("u2")), served("c", Some("u3"))];
        let m = match_clusters(two, &[asked("east", Ok("u3")), asked("west", Ok("u1"))]).unwrap();
        assert_eq!(contexts(&m), ["east", "west"]);
        assert_eq!(m.counted.iter().map(|c| c.rows.len()).collect::<Vec<_>>(), [3, 3]);
    }

    #[test]
    fn an_identity_unread_on_either_side_is_trusted_as_given_and_said() {
        let denied = "the namespace kube-system is not readable";
        // One context asked, one served: the URL was named on purpose.
        let m = match_clusters(vec![served("in-cluster", Some("u1"))], &[asked("prod", Err(denied))]).unwrap();
        assert_eq!(contexts(&m), ["prod"]);
        assert!(m.trusted[0].contains(denied) && m.trusted[0].contains("trusted as given"), "{:?}", m.trusted);
        let m = match_clusters(vec![served("in-cluster", None)], &[asked("prod", Ok("u1"))]).unwrap();
        assert!(m.trusted[0].contains("does not say which cluster it is"), "{:?}", m.trusted);
        // Several, unverifiable: by name alone.
        let two = vec![served("a", None), served("b", None)];
        let m = match_clusters(two.clone(), &[asked("b", Err(denied))]).unwrap();
        assert_eq!(contexts(&m), ["b"]);
        let e = match_clusters(two, &[asked("c", Err(denied))]).unwrap_err();
        assert!(e.contains("it watches context(s) a,b, not c") && e.contains(denied), "{e}");
    }
}
