//! From kubectl's connection flags to one API client per context: kubeconfig
//! (a `KUBECONFIG` list, `--kubeconfig`, or in-cluster), `--context` (one,
//! several, or `--all-contexts`), `--cluster`, `--user`. Exec auth plugins and
//! client certificates are kube's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::http::{self, Endpoint, Protocol, Timeouts};
use super::proxy;
use crate::decode::Encoding;
use crate::error::{Error, Result, chain};

/// Where to connect: kubectl's connection flags, as plain data.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`; None: `KUBECONFIG`, `~/.kube/config`, or in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`: none is the current context.
    pub contexts: Vec<String>,
    pub all_contexts: bool,
    pub cluster: Option<String>,
    pub user: Option<String>,
    /// `--as`, `--as-group`, `--as-uid` (over the kubeconfig user's `as`).
    pub impersonate: Option<Impersonate>,
    /// `--request-timeout`: None is no limit of the user's (a single request
    /// is still bounded, see [`http::DEFAULT_REQUEST`]).
    pub request_timeout: Option<Duration>,
    /// `--wire`: None is protobuf (bench: both).
    pub wire: Option<Encoding>,
}

/// Who to act as: kubectl's `--as`, `--as-group`, `--as-uid` (the
/// apiserver checks the `impersonate` verb and then answers as that user).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Impersonate {
    pub user: String,
    pub groups: Vec<String>,
    pub uid: Option<String>,
}

impl Impersonate {
    /// Into a client configuration, replacing what the kubeconfig says.
    fn apply(&self, config: &mut Config) {
        config.auth_info.impersonate = Some(self.user.clone());
        config.auth_info.impersonate_groups = (!self.groups.is_empty()).then(|| self.groups.clone());
        config.auth_info.impersonate_uid = self.uid.clone();
    }
}

/// One cluster to talk to.
#[derive(Clone)]
pub struct Target {
    /// The context name (`in-cluster` without a kubeconfig).
    pub context: String,
    /// Lists and one-off requests (HTTP/1.1).
    pub client: Client,
    /// Watches (HTTP/2 with keep-alive PINGs where the server offers it).
    pub watch_client: Client,
    pub at: Endpoint,
    /// The context's namespace (`default` when it sets none): what to
    /// suggest to a user who may not read pods cluster-wide.
    pub namespace: String,
    /// The resolved configuration, for clients of other servers that show
    /// the same credentials (`count --from https://...`).
    pub config: Config,
}

fn load_kubeconfig(path: Option<&Path>) -> Result<Option<Kubeconfig>> {
    if let Some(path) = path {
        return Kubeconfig::read_from(path).map(Some).map_err(|e| {
            Error::usage(format!("cannot load kubeconfig {}: {} (check --kubeconfig)", path.display(), chain(&e)))
        });
    }
    let env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let home_config = std::env::var_os("HOME").map(|h| Path::new(&h).join(".kube").join("config"));
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
    if env.is_none() && !home_config.as_deref().is_some_and(Path::exists) && in_cluster {
        return Ok(None);
    }
    if env.is_none() && !home_config.as_deref().is_some_and(Path::exists) {
        return Err(Error::usage("no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config"));
    }
    Kubeconfig::read().map(Some).map_err(|e| {
        let which = env.map_or_else(|| "~/.kube/config".to_string(), |v| format!("KUBECONFIG={}", v.to_string_lossy()));
        Error::usage(format!("cannot load kubeconfig ({which}): {}", chain(&e)))
    })
}

/// The contexts the flags name, checked against the kubeconfig.
fn contexts(kc: &Kubeconfig, args: &ConnectOptions) -> Result<Vec<String>> {
    let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    let names: Vec<String> = if args.all_contexts {
        known.iter().map(|s| s.to_string()).collect()
    } else if !args.contexts.is_empty() {
        if args.contexts.iter().any(|c| c.trim().is_empty()) {
            return Err(Error::usage(format!(
                "--context was given an empty name: pass a context name (available: {})",
                list_or_none(&known)
            )));
        }
        args.contexts.clone()
    } else {
        match kc.current_context.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => vec![c.to_string()],
            None => {
                return Err(Error::usage(format!(
                    "the kubeconfig has no current context: pass --context (available: {})",
                    list_or_none(&known)
                )));
            }
        }
    };
    if names.is_empty() {
        return Err(Error::usage("the kubeconfig has no contexts (check --kubeconfig / KUBECONFIG)"));
    }
    for n in &names {
        if !known.contains(&n.as_str()) {
            return Err(Error::usage(format!(
                "context {n:?} not found in the kubeconfig (available: {})",
                list_or_none(&known)
            )));
        }
    }
    let mut unique = Vec::new();
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    Ok(unique)
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() { "none".to_string() } else { names.join(", ") }
}

/// `kubeconfig_proxy`: the cluster entry's own `proxy-url` (kube's
/// `Config::proxy_url` also holds `HTTPS_PROXY`, without `NO_PROXY`).
fn client(context: String, config: Config, mut at: Endpoint, kubeconfig_proxy: Option<&str>) -> Result<Target> {
    at.server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let routed = proxy::route(kubeconfig_proxy, &config.cluster_url, &proxy::environment())
        .map_err(|e| Error::usage(format!("context {context}: kubeconfig cluster {:?}: {e}", at.cluster)))?;
    at.proxy = routed.as_ref().map(|r| format!("{} {}", r.from, r.shown));
    let route = routed.map(|r| r.route);
    let build = |protocol| http::client(&config, at.timeouts, protocol, route.as_ref());
    let clients = build(Protocol::Http1).and_then(|c| Ok((c, build(Protocol::Http2)?)));
    let (client, watch_client) = clients.map_err(|e| {
        let fault = http::credential_fault(&at, &e).or_else(|| http::kubeconfig_fault(&at, &e));
        fault.map(|f| f.in_context(&context)).unwrap_or_else(|| {
            Error::usage(format!(
                "context {context}: cannot set up a client for {} (kubeconfig cluster {:?}, user {:?}): {}",
                at.server,
                at.cluster,
                at.user,
                chain(&e)
            ))
        })
    })?;
    let namespace = config.default_namespace.clone();
    Ok(Target { context, client, watch_client, at, namespace, config })
}

/// The kubeconfig cluster and user entries a context resolves to.
fn entries(kc: &Kubeconfig, context: &str, args: &ConnectOptions) -> (String, String) {
    let ctx = kc.contexts.iter().find(|c| c.name == context).and_then(|c| c.context.as_ref());
    let cluster = args.cluster.clone().or_else(|| ctx.map(|c| c.cluster.clone())).unwrap_or_default();
    let user = args.user.clone().or_else(|| ctx.and_then(|c| c.user.clone())).unwrap_or_default();
    (cluster, user)
}

/// One client per selected context, in the order given.
pub async fn targets(args: &ConnectOptions) -> Result<Vec<Target>> {
    let base = Endpoint {
        request_timeout: args.request_timeout,
        timeouts: Timeouts::from_env(),
        wire: args.wire.unwrap_or_default(),
        ..Default::default()
    };
    let Some(kc) = load_kubeconfig(args.kubeconfig.as_deref())? else {
        let mut config = Config::incluster()
            .map_err(|e| Error::usage(format!("cannot load the in-cluster configuration: {}", chain(&e))))?;
        if let Some(i) = &args.impersonate {
            i.apply(&mut config);
        }
        let at = Endpoint { cluster: "in-cluster".into(), user: "service account".into(), ..base };
        return Ok(vec![client("in-cluster".to_string(), config, at, None)?]);
    };
    let mut out = Vec::new();
    for context in contexts(&kc, args)? {
        let opts = KubeConfigOptions {
            context: Some(context.clone()),
            cluster: args.cluster.clone(),
            user: args.user.clone(),
        };
        let (cluster, user) = entries(&kc, &context, args);
        let mut config = Config::from_custom_kubeconfig(kc.clone(), &opts).await.map_err(|e| {
            let at = Endpoint { cluster: cluster.clone(), user: user.clone(), ..Endpoint::default() };
            http::credential_fault(&at, &e)
                .map(|f| f.in_context(&context))
                .unwrap_or_else(|| Error::usage(format!("context {context}: invalid kubeconfig: {}", chain(&e))))
        })?;
        if let Some(i) = &args.impersonate {
            i.apply(&mut config);
        }
        let proxy_url = kc
            .clusters
            .iter()
            .find(|c| c.name == cluster)
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.proxy_url.clone());
        out.push(client(context, config, Endpoint { cluster, user, ..base.clone() }, proxy_url.as_deref())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kc(yaml: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(yaml).unwrap()
    }

    const TWO: &str = "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters: []\nusers: []\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n- name: b\n  context: {cluster: c, user: u}\n";

    #[test]
    fn picks_contexts() {
        let k = kc(TWO);
        let mut args = ConnectOptions::default();
        assert_eq!(contexts(&k, &args).unwrap(), ["a"]);
        args.contexts = vec!["b".into(), "a".into(), "b".into()];
        assert_eq!(contexts(&k, &args).unwrap(), ["b", "a"]);
        args.contexts = vec![];
        args.all_contexts = true;
        assert_eq!(contexts(&k, &args).unwrap(), ["a", "b"]);
    }

    #[test]
    fn unknown_context_is_a_usage_error_naming_the_choices() {
        let args = ConnectOptions { contexts: vec!["nope".into()], ..Default::default() };
        let e = contexts(&kc(TWO), &args).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(e.message, "context \"nope\" not found in the kubeconfig (available: a, b)");
        for empty in [vec![String::new()], vec!["a".into(), " ".into()]] {
            let args = ConnectOptions { contexts: empty, ..Default::default() };
            let e = contexts(&kc(TWO), &args).unwrap_err();
            assert_eq!(e.message, "--context was given an empty name: pass a context name (available: a, b)");
        }
    }
}
