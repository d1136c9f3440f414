//! What a source tells its consumer: the one vocabulary between the informer
//! (I/O) and the stores (pure).

/// An informer's events, in order. A relist is `Relist`, then every object
/// in `Page`s, then `Synced`; the consumer builds a fresh store from those
/// and swaps it in at `Synced` (`store::Mirror`), so objects deleted while
/// disconnected disappear too. Between relists come `Apply` and `Delete`.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<T, K> {
    /// A full list begins: on start (`why` empty), after 410 Gone, or after
    /// a failure that left no resourceVersion to resume from.
    Relist { why: String },
    /// Objects of the list in progress, a page (or a batch of a WatchList's
    /// initial events) at a time.
    Page(Vec<T>),
    /// The list is complete: the objects since `Relist` are the whole state.
    Synced,
    /// An object was added or changed.
    Apply(T),
    /// An object was deleted, or left the selectors (a pod that finished
    /// leaves the phase field selector).
    Delete(K),
    /// The connection failed, or went silent past the liveness bound: the
    /// view may be stale until the informer resumes (it is retrying).
    Reconnecting { why: String },
}
