//! `--listen-auth kubernetes`: the served endpoints behind Kubernetes' own
//! authentication and authorization, as controller-runtime's
//! `WithAuthenticationAndAuthorization` and kube-state-metrics do. A bearer
//! token is checked with a TokenReview; its user is then asked about with a
//! SubjectAccessReview on the non-resource URL (`get /metrics`,
//! `get /v1/podcount`), so RBAC grants it:
//!
//! ```yaml
//! rules: [{nonResourceURLs: ["/metrics", "/v1/podcount"], verbs: ["get"]}]
//! ```
//!
//! Reviews are cached for [`CACHE_FOR`] (allowed and refused alike); each
//! call to the apiserver is bounded by [`REVIEW_TIMEOUT`]. An apiserver that
//! cannot answer gives 503, never an open door.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{NonResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

/// How long a review's verdict is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(10);
/// The bound on one TokenReview or SubjectAccessReview.
pub const REVIEW_TIMEOUT: Duration = Duration::from_secs(5);
/// Cached verdicts kept at most (a flood of made-up tokens cannot grow it).
const CACHE_MAX: usize = 4096;

/// What a request may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// No token, or one the apiserver does not accept: 401.
    Unauthenticated(String),
    /// A user RBAC does not grant `get` on the path: 403.
    Forbidden(String),
    /// The apiserver could not be asked: 503.
    Unavailable(String),
}

/// Reviews requests against the apiserver, with a short cache.
pub struct Authorizer {
    client: kube::Client,
    cache: Mutex<HashMap<(u64, String), (Instant, Verdict)>>,
}

impl Authorizer {
    pub fn new(client: kube::Client) -> Authorizer {
        Authorizer { client, cache: Mutex::new(HashMap::new()) }
    }

    /// The verdict on `get path` with the `Authorization` header `header`.
    pub async fn check(&self, header: Option<&str>, path: &str) -> Verdict {
        let Some(token) = bearer(header) else {
            return Verdict::Unauthenticated("a bearer token is required (Authorization: Bearer TOKEN)".into());
        };
        let key = (fingerprint(token), path.to_string());
        if let Some((at, v)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && at.elapsed() < CACHE_FOR
        {
            return v.clone();
        }
        let verdict = self.review(token, path).await;
        if !matches!(verdict, Verdict::Unavailable(_)) {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
                if cache.len() >= CACHE_MAX {
                    cache.clear();
                }
            }
            cache.insert(key, (Instant::now(), verdict.clone()));
        }
        verdict
    }

    async fn review(&self, token: &str, path: &str) -> Verdict {
        let tr = TokenReview {
            spec: TokenReviewSpec { token: token.to_string(), ..Default::default() },
            ..Default::default()
        };
        let reviews: Api<TokenReview> = Api::all(self.client.clone());
        let status = match tokio::time::timeout(REVIEW_TIMEOUT, reviews.create(&PostParams::default(), &tr)).await {
            Err(_) => return Verdict::Unavailable("the apiserver did not answer the TokenReview in time".into()),
            Ok(Err(e)) => return Verdict::Unavailable(format!("TokenReview failed: {e}")),
            Ok(Ok(r)) => r.status.unwrap_or_default(),
        };
        let user = match (status.authenticated, status.user) {
            (Some(true), Some(user)) => user,
            _ => {
                let why = status.error.unwrap_or_else(|| "the token was not accepted".into());
                return Verdict::Unauthenticated(why);
            }
        };
        let name = user.username.clone().unwrap_or_default();
        let sar = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: user.username,
                uid: user.uid,
                groups: user.groups,
                extra: user.extra,
                non_resource_attributes: Some(NonResourceAttributes {
                    path: Some(path.to_string()),
                    verb: Some("get".into()),
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let sars: Api<SubjectAccessReview> = Api::all(self.client.clone());
        match tokio::time::timeout(REVIEW_TIMEOUT, sars.create(&PostParams::default(), &sar)).await {
            Err(_) => Verdict::Unavailable("the apiserver did not answer the SubjectAccessReview in time".into()),
            Ok(Err(e)) => Verdict::Unavailable(format!("SubjectAccessReview failed: {e}")),
            Ok(Ok(r)) if r.status.as_ref().is_some_and(|s| s.allowed) => Verdict::Allowed,
            Ok(Ok(_)) => Verdict::Forbidden(format!(
                "user {name:?} may not get {path} (grant it: nonResourceURLs [\"{path}\"], verbs [\"get\"])"
            )),
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(header: Option<&str>) -> Option<&str> {
    let (scheme, token) = header?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A token's cache key: the token itself is not kept.
fn fingerprint(token: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // A per-process random key, so fingerprints cannot be precomputed.
    static KEY: std::sync::OnceLock<std::collections::hash_map::RandomState> = std::sync::OnceLock::new();
    let mut h = KEY.get_or_init(Default::default).build_hasher();
    h.write(token.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_header() {
        assert_eq!(bearer(Some("Bearer abc.def")), Some("abc.def"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic dXNlcjpwYXNz")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
    }

    #[test]
    fn fingerprints_tell_tokens_apart() {
        assert_eq!(fingerprint("a"), fingerprint("a"));
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
