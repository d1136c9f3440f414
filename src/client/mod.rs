//! How podcount talks to an apiserver: kubeconfig to clients ([`connect`]),
//! one HTTP stack with every wait bounded ([`http`]), the proxy it goes
//! through ([`proxy`]) or the pod port it is forwarded to ([`forward`]), the one retry policy
//! ([`retry`]), and paginated Lists page by page ([`pager`]).

pub mod cause;
pub mod connect;
pub mod forward;
pub mod http;
pub mod pager;
pub mod pin;
pub mod proxy;
pub mod retry;
pub mod token;
