//! What a source tells its consumer: the one vocabulary between the informer
//! (I/O) and the stores (pure).

use std::fmt;

/// An informer's events, in order. A relist is `Relist`, then every object
/// in `Page`s, then `Synced`; the consumer builds a fresh store from those
/// and swaps it in at `Synced` (`store::Mirror`), so objects deleted while
/// disconnected disappear too. Between relists come `Apply` and `Delete`.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<T, K> {
    /// A full list begins.
    Relist { why: Relist },
    /// Objects of the list in progress, a page (or a batch of a WatchList's
    /// initial events) at a time.
    Page(Vec<T>),
    /// The list is complete: the objects since `Relist` are the whole state.
    Synced,
    /// An object was added or changed, at this resourceVersion (the state
    /// after it: carried with the change, so that a consumer never holds a
    /// change without its resourceVersion, nor the other way round).
    Apply(T, Option<String>),
    /// An object was deleted, or left the selectors (a pod that finished
    /// leaves the phase field selector).
    Delete(K, Option<String>),
    /// The connection failed, or went silent past the liveness bound: the
    /// view may be stale until the informer resumes (it is retrying).
    Reconnecting { why: String },
    /// The events before this one make the state at this resourceVersion
    /// (sent after a list's last page, and at bookmarks):
    /// the only resourceVersion a consumer may claim for what it applied.
    At(String),
}

/// Why a full list begins: a typed reason, so consumers decide on the kind
/// (bench skips a server without WatchList) and print the words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relist {
    /// The informer's first list.
    Start,
    /// A continue token expired mid-list (410 Gone).
    ListExpired(String),
    /// The watch's resourceVersion was compacted away (410 Gone).
    WatchExpired(String),
    /// A failure left no resourceVersion to resume from.
    Reconnected,
    /// The server refused WatchList; paged lists from now on.
    WatchListRefused(String),
}

impl fmt::Display for Relist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Relist::Start => Ok(()),
            Relist::ListExpired(m) => write!(f, "list expired: {m}"),
            Relist::WatchExpired(m) => write!(f, "watch expired (410 Gone): {m}"),
            Relist::Reconnected => f.write_str("reconnected"),
            Relist::WatchListRefused(m) => write!(f, "the API server refused WatchList ({m}); listing instead"),
        }
    }
}
