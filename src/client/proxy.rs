//! Which proxy a cluster is reached through, decided as kubectl (client-go)
//! decides it: the kubeconfig cluster's `proxy-url` when it sets one (http,
//! https or socks5; the environment is then not read), else the environment:
//! `HTTPS_PROXY` for an https server and `HTTP_PROXY` for an http one (either
//! case), unless `NO_PROXY` names the server (hosts, `.domain` suffixes,
//! CIDRs, `*`) or the server is `localhost` or a loopback address (Go's
//! httpproxy never proxies those from the environment, so kind, minikube
//! and k3d work behind a corporate proxy). Pure: the environment is passed
//! in.

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::{Intercept, Matcher};

/// How to reach the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// An HTTP CONNECT tunnel through this proxy (http or https), with its
    /// `Proxy-Authorization` from the URL's user and password.
    Connect { proxy: Uri, auth: Option<HeaderValue> },
    /// A SOCKS5 proxy (`socks5h`: it resolves the server's name).
    Socks5 { proxy: Uri, auth: Option<(String, String)>, remote_dns: bool },
}

/// Where the route came from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    pub route: Route,
    /// `kubeconfig proxy-url`, or the variable (`HTTPS_PROXY`).
    pub from: String,
    /// The proxy's URL without its credentials.
    pub shown: String,
}

/// The environment variables the route reads (name, value), upper and
/// lower case alike.
pub fn environment() -> Vec<(String, String)> {
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
        .iter()
        .filter_map(|k| Some((k.to_string(), std::env::var(k).ok().filter(|v| !v.trim().is_empty())?)))
        .collect()
}

/// The route to `server`: the kubeconfig's `proxy-url` if set, else what
/// the environment says. Err: a proxy URL that cannot be used.
pub fn route(kubeconfig_proxy: Option<&str>, server: &Uri, env: &[(String, String)]) -> Result<Option<Routed>, String> {
    if let Some(url) = kubeconfig_proxy.map(str::trim).filter(|u| !u.is_empty()) {
        // For every scheme, whatever NO_PROXY says (client-go's rule).
        let hit = Matcher::builder().all(url.to_string()).build().intercept(server);
        let hit = hit.ok_or_else(|| format!("kubeconfig proxy-url {:?} is not a proxy URL", shown_str(url)))?;
        return routed(&hit, "kubeconfig proxy-url".into()).map(Some);
    }
    if loopback(server) {
        return Ok(None);
    }
    let get = |upper: &str| {
        env.iter()
            .find(|(k, _)| k == upper)
            .or_else(|| env.iter().find(|(k, _)| k.eq_ignore_ascii_case(upper)))
            .map(|(k, v)| (k.clone(), v.clone()))
    };
    let (https, http, no) = (get("HTTPS_PROXY"), get("HTTP_PROXY"), get("NO_PROXY"));
    let no = no.map(|(k, v)| (k, go_no_proxy(&v, server)));
    if no.as_ref().is_some_and(|(_, v)| v == "*") {
        return Ok(None);
    }
    let mut b = Matcher::builder();
    if let Some((_, v)) = &https {
        b = b.https(v.clone());
    }
    if let Some((_, v)) = &http {
        b = b.http(v.clone());
    }
    if let Some((_, v)) = &no {
        b = b.no(v.clone());
    }
    let Some(hit) = b.build().intercept(server) else { return Ok(None) };
    let from = if server.scheme_str() == Some("https") { https } else { http };
    routed(&hit, from.map(|(k, _)| k).unwrap_or_else(|| "the environment".into())).map(Some)
}

/// `localhost` or a loopback IP (127.0.0.0/8, ::1, and IPv4-mapped
/// 127.x): `httpproxy.config.useProxy` says no to them whatever the
/// variables say.
fn loopback(server: &Uri) -> bool {
    let Some(host) = server.host() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(std::net::IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => false,
    }
}

/// `NO_PROXY` as Go's httpproxy reads it, in the matcher's (curl's)
/// terms: `*` alone means every host; a leading `*.` is `.`; an entry with
/// a port counts only for a server on that port.
fn go_no_proxy(list: &str, server: &Uri) -> String {
    let port = server.port_u16().unwrap_or(if server.scheme_str() == Some("http") { 80 } else { 443 });
    let mut out = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "*" {
            return "*".into();
        }
        let entry = entry.strip_prefix('*').filter(|e| e.starts_with('.')).unwrap_or(entry);
        // host:port (not an IPv6 address or a CIDR).
        match entry.rsplit_once(':') {
            Some((host, p)) if !host.contains(':') && !p.contains('/') => {
                if p.parse::<u16>().ok() == Some(port) {
                    out.push(host.to_string());
                }
            }
            _ => out.push(entry.to_string()),
        }
    }
    out.join(",")
}

/// A matched proxy as a route.
fn routed(hit: &Intercept, from: String) -> Result<Routed, String> {
    let proxy = hit.uri().clone();
    let shown = proxy.to_string().trim_end_matches('/').to_string();
    let route = match proxy.scheme_str() {
        Some(s @ ("socks5" | "socks5h")) => Route::Socks5 {
            remote_dns: s == "socks5h",
            auth: hit.raw_auth().map(|(u, p)| (u.to_string(), p.to_string())),
            proxy,
        },
        Some("http") | Some("https") => Route::Connect { auth: hit.basic_auth().cloned(), proxy },
        _ => return Err(format!("{from} {shown}: the proxy's scheme is http, https or socks5")),
    };
    Ok(Routed { route, from, shown })
}

/// A proxy URL for messages: its credentials left out.
fn shown_str(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.rsplit('@').next().unwrap_or(rest)),
        None => url.rsplit('@').next().unwrap_or(url).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn server(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn the_environment_as_client_go_reads_it() {
        let https = server("https://10.1.2.3:6443");
        let e = env(&[("HTTPS_PROXY", "http://proxy.corp:3128")]);
        let r = route(None, &https, &e).unwrap().unwrap();
        assert_eq!((r.from.as_str(), r.shown.as_str()), ("HTTPS_PROXY", "http://proxy.corp:3128"));
        assert!(matches!(r.route, Route::Connect { auth: None, .. }));
        // An https server does not use HTTP_PROXY; lower case counts.
        assert!(route(None, &https, &env(&[("HTTP_PROXY", "http://p:1")])).unwrap().is_none());
        assert!(route(None, &https, &env(&[("https_proxy", "http://p:1")])).unwrap().is_some());
        // NO_PROXY: the host, a CIDR, a domain suffix, *.
        for no in ["10.1.2.3", "10.0.0.0/8", "*", "localhost,10.1.2.3", "10.1.2.3:6443"] {
            let e = env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)]);
            assert!(route(None, &https, &e).unwrap().is_none(), "NO_PROXY={no}");
        }
        let named = server("https://api.prod.example.com:443");
        let e = env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "10.1.2.3:443")]);
        assert!(route(None, &https, &e).unwrap().is_some(), "another port: proxied");
        for (no, bypass) in [
            (".example.com", true),
            ("example.com", true),
            ("*.example.com", true),
            ("other.com", false),
            ("prod", false),
        ] {
            let e = env(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", no)]);
            assert_eq!(route(None, &named, &e).unwrap().is_none(), bypass, "NO_PROXY={no}");
        }
        // Credentials: sent as Proxy-Authorization, never shown.
        let e = env(&[("HTTPS_PROXY", "http://me:s3cret@p:1")]);
        let r = route(None, &https, &e).unwrap().unwrap();
        assert!(!r.shown.contains("s3cret"), "{}", r.shown);
        assert!(matches!(r.route, Route::Connect { auth: Some(_), .. }));
    }

    #[test]
    fn loopback_servers_are_never_proxied_from_the_environment() {
        let e = env(&[("HTTPS_PROXY", "http://proxy:3128"), ("HTTP_PROXY", "http://proxy:3128")]);
        for s in [
            "https://127.0.0.1:6443",
            "https://127.8.9.10",
            "https://localhost:6443",
            "https://LOCALHOST:6443",
            "https://[::1]:6443",
            "http://[::ffff:127.0.0.1]:8080",
        ] {
            assert!(route(None, &server(s), &e).unwrap().is_none(), "{s}");
        }
        // Not loopback: proxied.
        for s in ["https://128.0.0.1", "https://localhost.example.com", "https://[::2]:6443", "https://0.0.0.0:6443"] {
            assert!(route(None, &server(s), &e).unwrap().is_some(), "{s}");
        }
        // A kubeconfig's proxy-url is used for loopback too (as client-go's http.ProxyURL).
        let r = route(Some("http://127.0.0.1:3128"), &server("https://127.0.0.1:6443"), &e).unwrap();
        assert_eq!(r.map(|r| r.from), Some("kubeconfig proxy-url".to_string()));
    }

    #[test]
    fn a_kubeconfig_proxy_url_wins_over_the_environment() {
        let https = server("https://10.1.2.3:6443");
        let e = env(&[("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "*")]);
        let r = route(Some("socks5://me:pw@127.0.0.1:1080"), &https, &e).unwrap().unwrap();
        assert_eq!((r.from.as_str(), r.shown.as_str()), ("kubeconfig proxy-url", "socks5://127.0.0.1:1080"));
        assert_eq!(
            r.route,
            Route::Socks5 {
                proxy: "socks5://127.0.0.1:1080".parse().unwrap(),
                auth: Some(("me".into(), "pw".into())),
                remote_dns: false
            }
        );
        let r = route(Some("http://127.0.0.1:3128"), &https, &[]).unwrap().unwrap();
        assert!(matches!(r.route, Route::Connect { auth: None, .. }));
        assert!(route(Some("ftp://me:pw@p:21"), &https, &[]).is_err());
    }
}
