//! The informer's one state machine (after kube-runtime's `watcher.rs`):
//! one [`State`], one [`Machine::step`], one retry policy ([`RETRY`]), and a
//! seam ([`Api`]) between it and the server, so that every transition is
//! table-tested without one, in paused time (the tests below).
//!
//! ```text
//!          +---------------------------- 410 Gone --------------------------------+
//!          v                                                                      |
//!  Empty --(paged)--> Listing --(last page: Synced)--> Resuming(rv) --(opened)--> Following(rv)
//!    |                 |  ^                               ^    ^                   |   |
//!    |                 +--+ (failure: the same page,      |    +--(closed after a  |   |
//!    |                       after Backoff)               |       healthy run)-----+   |
//!    |                                                    +--- Backoff <--(cut, silent, 5xx,
//!    |                                                                     closed at once)
//!    +--(WatchList)--> Initial --(initial-events-end bookmark: Synced)--> Following(rv)
//!                        (refused: Empty, paged from then on)
//! ```
//!
//! Every failure goes through [`Machine::failed`]: a fatal one (forbidden,
//! bad selector) ends the informer; before the first sync so does a
//! transient one once [`RETRY`]'s attempts are spent (a wrong context should
//! not spin); after it, the failure is announced (`Reconnecting`) and tried
//! again after [`RETRY`]'s backoff, without end. Nothing below retries on its
//! own: the seam's requests are single attempts.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Meter;
use super::kind::Kind;
use crate::client::http::Failure;
use crate::client::retry::{Backoff, Policy};
use crate::decode::ApiStatus;
use crate::error::{Error, Result};
use crate::model::event::{Event, Relist};

/// A watch that ran this long was healthy: the next failure backs off from
/// the start again.
pub(crate) const HEALTHY: Duration = Duration::from_secs(10);
/// WatchList initial events are sent on to the consumer in pages this big.
pub(crate) const BATCH: usize = 500;
/// The one retry policy: 250 ms doubling, jittered, up to 10 s; a server's
/// `Retry-After` honoured up to 5 s (as for a request). `attempts` bounds a failure before the
/// first sync (as a request's retries would: about 2 s); after it there is
/// no bound.
pub(crate) const RETRY: Policy = Policy {
    attempts: 4,
    base: Duration::from_millis(250),
    cap: Duration::from_secs(10),
    retry_after_cap: Duration::from_secs(5),
};

/// How the informer gets the initial state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitialList {
    /// A paginated List, then a watch from its resourceVersion.
    #[default]
    Paged,
    /// WatchList: one watch that starts with every object
    /// (sendInitialEvents); falls back to paged when the server refuses it.
    Stream,
}

/// One page of a List, decoded.
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    /// More pages follow.
    pub more: bool,
    /// The List's resourceVersion (from its first page).
    pub resource_version: Option<String>,
}

/// A watch event, decoded.
pub(crate) enum WatchEvent<K: Kind> {
    Added(K::Item, Option<String>),
    Modified(K::Item, Option<String>),
    Deleted(K::Key, Option<String>),
    Bookmark {
        rv: Option<String>,
        initial_events_end: bool,
    },
    /// An ERROR event's Status (410: the resourceVersion is gone).
    Error(ApiStatus),
}

/// What the machine asks of the API server (kube-runtime's `ApiMode`): the
/// HTTP one is [`super::wire::HttpApi`], the tests' a script. Each request
/// is one attempt; retrying is the machine's.
pub(crate) trait Api<K: Kind>: Send {
    /// A List in progress.
    type List: Send;
    /// An open watch.
    type Watch: Send;
    /// A paginated List, from its start.
    fn list(&self) -> Self::List;
    /// The List's next page.
    fn page(&mut self, list: &mut Self::List) -> impl Future<Output = Result<Page<K::Item>, Failure>> + Send;
    /// Opens a watch from `from`; WatchList (initial events first) when None.
    fn watch(&mut self, from: Option<&str>) -> impl Future<Output = Result<Self::Watch, Failure>> + Send;
    /// The watch's next event; None once the server ended it.
    fn next(&mut self, watch: &mut Self::Watch) -> impl Future<Output = Result<Option<WatchEvent<K>>, Failure>> + Send;
}

/// Where the informer is.
pub(crate) enum State<K: Kind, A: Api<K>> {
    /// No usable state: list from scratch. `why` goes into the Relist event.
    Empty { why: Relist },
    /// The paginated List, a page per step.
    Listing { list: Box<A::List> },
    /// WatchList: its initial events, gathered into pages until the bookmark
    /// that ends them. `rv` is not yet a place to resume from.
    Initial { watch: Box<A::Watch>, batch: Vec<K::Item>, rv: String, since: Instant },
    /// Synced: open a watch from `rv`.
    Resuming { rv: String },
    /// A watch is open (since `since`), an event per step.
    Following { watch: Box<A::Watch>, rv: String, since: Instant },
    /// Wait ([`RETRY`]; the server's `Retry-After` if it gave one), then `then`.
    Backoff { then: Box<State<K, A>>, retry_after: Option<Duration> },
}

/// Why the machine stops.
pub(crate) enum Stop {
    /// The consumer hung up.
    Hangup,
    /// The cluster refused for good.
    Failed(Error),
}

pub(crate) struct Machine<K: Kind, A: Api<K>> {
    api: A,
    tx: mpsc::Sender<Event<K::Item, K::Key>>,
    meter: Meter,
    initial: InitialList,
    backoff: Backoff,
    /// Failures before the first sync since the last progress.
    failures_in_a_row: u32,
    synced_once: bool,
}

/// Runs the machine from `Empty` until the consumer hangs up (Ok) or the
/// cluster refuses for good (Err).
pub(crate) async fn run<K: Kind, A: Api<K>>(
    api: A,
    initial: InitialList,
    meter: Meter,
    tx: mpsc::Sender<Event<K::Item, K::Key>>,
) -> Result<()> {
    let mut m = Machine { api, tx, meter, initial, backoff: RETRY.backoff(), failures_in_a_row: 0, synced_once: false };
    let mut state = State::Empty { why: Relist::Start };
    loop {
        state = match m.step(state).await {
            Ok(s) => s,
            Err(Stop::Hangup) => return Ok(()),
            Err(Stop::Failed(e)) => return Err(e),
        };
    }
}

impl<K: Kind, A: Api<K>> Machine<K, A> {
    async fn send(&self, ev: Event<K::Item, K::Key>) -> Result<(), Stop> {
        self.tx.send(ev).await.map_err(|_| Stop::Hangup)
    }

    /// Notes an object's or bookmark's resourceVersion as the latest seen.
    fn saw(&self, rv: &mut String, seen: Option<&String>) {
        if let Some(v) = seen {
            self.meter.seen(v);
            rv.clone_from(v);
        }
    }

    /// The one transition function.
    pub(crate) async fn step(&mut self, state: State<K, A>) -> Result<State<K, A>, Stop> {
        match state {
            State::Empty { why } => {
                self.meter.set_watching(false);
                if self.initial == InitialList::Paged {
                    self.send(Event::Relist { why }).await?;
                    return Ok(State::Listing { list: Box::new(self.api.list()) });
                }
                let since = Instant::now();
                match self.api.watch(None).await {
                    Ok(watch) => {
                        self.send(Event::Relist { why }).await?;
                        Ok(State::Initial { watch: Box::new(watch), batch: Vec::new(), rv: String::new(), since })
                    }
                    // Refused (422 without the feature, 400 on some servers):
                    // anything but a missing permission means "list instead".
                    Err(Failure::Fatal(e)) if !e.is_forbidden() => {
                        self.initial = InitialList::Paged;
                        Ok(State::Empty { why: Relist::WatchListRefused(e.message) })
                    }
                    Err(Failure::Gone(m)) => Ok(State::Empty { why: Relist::WatchExpired(m) }),
                    Err(f) => self.failed(f, State::Empty { why: Relist::Reconnected }).await,
                }
            }
            State::Listing { mut list } => match self.api.page(&mut list).await {
                Ok(page) => {
                    self.failures_in_a_row = 0;
                    self.send(Event::Page(page.items)).await?;
                    if page.more {
                        return Ok(State::Listing { list });
                    }
                    if let Some(rv) = &page.resource_version {
                        self.meter.seen(rv);
                        self.send(Event::At(rv.clone())).await?;
                    }
                    self.send(Event::Synced).await?;
                    self.synced_once = true;
                    Ok(State::Resuming { rv: page.resource_version.unwrap_or_default() })
                }
                Err(Failure::Gone(m)) => Ok(State::Empty { why: Relist::ListExpired(m) }),
                Err(f) => self.failed(f, State::Listing { list }).await,
            },
            State::Initial { mut watch, mut batch, mut rv, since } => match self.api.next(&mut watch).await {
                Ok(Some(WatchEvent::Added(item, v) | WatchEvent::Modified(item, v))) => {
                    self.saw(&mut rv, v.as_ref());
                    batch.push(item);
                    if batch.len() >= BATCH {
                        self.send(Event::Page(std::mem::take(&mut batch))).await?;
                    }
                    Ok(State::Initial { watch, batch, rv, since })
                }
                Ok(Some(WatchEvent::Bookmark { rv: at, initial_events_end })) => {
                    self.saw(&mut rv, at.as_ref());
                    if !initial_events_end {
                        return Ok(State::Initial { watch, batch, rv, since });
                    }
                    self.synced_once = true;
                    self.meter.set_watching(true);
                    self.send(Event::Page(batch)).await?;
                    if let Some(v) = at {
                        self.send(Event::At(v)).await?;
                    }
                    self.send(Event::Synced).await?;
                    Ok(State::Following { watch, rv, since })
                }
                Ok(Some(WatchEvent::Deleted(..))) => {
                    let f = Failure::transient(Error::cluster("a DELETED event among WatchList's initial events"));
                    self.failed(f, State::Empty { why: Relist::Reconnected }).await
                }
                Ok(Some(WatchEvent::Error(st))) => {
                    self.watch_error(st, State::Empty { why: Relist::Reconnected }).await
                }
                Ok(None) => {
                    let f = Failure::transient(Error::cluster(format!(
                        "the WatchList stream of {} ended before its initial events did",
                        K::RESOURCE.as_str()
                    )));
                    self.failed(f, State::Empty { why: Relist::Reconnected }).await
                }
                Err(f) => self.failed(f, State::Empty { why: Relist::Reconnected }).await,
            },
            State::Resuming { rv } => {
                let since = Instant::now();
                match self.api.watch(Some(&rv)).await {
                    Ok(watch) => {
                        // A plain watch is current from its first byte.
                        self.meter.set_watching(true);
                        Ok(State::Following { watch: Box::new(watch), rv, since })
                    }
                    Err(Failure::Gone(m)) => Ok(State::Empty { why: Relist::WatchExpired(m) }),
                    Err(f) => self.failed(f, State::Resuming { rv }).await,
                }
            }
            State::Following { mut watch, mut rv, since } => {
                let ev = self.api.next(&mut watch).await;
                // Asked only when the watch ends, not on every event.
                let healthy = || since.elapsed() >= HEALTHY;
                match ev {
                    Ok(Some(WatchEvent::Added(item, v) | WatchEvent::Modified(item, v))) => {
                        self.saw(&mut rv, v.as_ref());
                        self.send(Event::Apply(item, v)).await?;
                        Ok(State::Following { watch, rv, since })
                    }
                    Ok(Some(WatchEvent::Deleted(key, v))) => {
                        self.saw(&mut rv, v.as_ref());
                        self.send(Event::Delete(key, v)).await?;
                        Ok(State::Following { watch, rv, since })
                    }
                    Ok(Some(WatchEvent::Bookmark { rv: at, .. })) => {
                        if let Some(v) = at {
                            self.saw(&mut rv, Some(&v));
                            self.send(Event::At(v)).await?;
                        }
                        Ok(State::Following { watch, rv, since })
                    }
                    Ok(Some(WatchEvent::Error(st))) => {
                        if healthy() {
                            self.backoff.reset();
                        }
                        self.watch_error(st, State::Resuming { rv }).await
                    }
                    // The server ended it (timeoutSeconds): resume at once.
                    Ok(None) if healthy() => {
                        self.backoff.reset();
                        Ok(State::Resuming { rv })
                    }
                    // Ended at once: not a fault to announce, but no reason to
                    // hammer the server either.
                    Ok(None) => Ok(State::Backoff { then: Box::new(State::Resuming { rv }), retry_after: None }),
                    Err(f) => {
                        if healthy() {
                            self.backoff.reset();
                        }
                        self.failed(f, State::Resuming { rv }).await
                    }
                }
            }
            State::Backoff { then, retry_after } => {
                tokio::time::sleep(RETRY.delay(&mut self.backoff, retry_after)).await;
                Ok(*then)
            }
        }
    }

    /// A watch's ERROR event: 410 means its resourceVersion is gone (list
    /// again); anything else is a failure like a cut.
    async fn watch_error(&mut self, st: ApiStatus, then: State<K, A>) -> Result<State<K, A>, Stop> {
        if st.code == 410 {
            return Ok(State::Empty { why: Relist::WatchExpired(st.message) });
        }
        let f = Failure::transient(Error::cluster(format!("watch error {}: {}", st.code, st.message)));
        self.failed(f, then).await
    }

    /// A failed request or stream: see the module doc.
    async fn failed(&mut self, f: Failure, then: State<K, A>) -> Result<State<K, A>, Stop> {
        let retry_after = match &f {
            Failure::Transient { retry_after, .. } => *retry_after,
            _ => None,
        };
        match f {
            Failure::Fatal(e) => Err(Stop::Failed(e)),
            Failure::Transient { .. } if !self.synced_once && self.failures_in_a_row + 1 < RETRY.attempts => {
                self.failures_in_a_row += 1;
                Ok(State::Backoff { then: Box::new(then), retry_after })
            }
            f if !self.synced_once => Err(Stop::Failed(f.into_error())),
            f => {
                self.meter.set_watching(false);
                self.send(Event::Reconnecting { why: f.into_error().message }).await?;
                Ok(State::Backoff { then: Box::new(then), retry_after })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The transitions, table-tested against a scripted server in paused
    //! time: each test runs in milliseconds of real time.

    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::decode::Item;
    use crate::source::informer::kind::{Decoded, Resource};

    /// Objects are numbers; an object's key is itself.
    struct Things;
    impl Kind for Things {
        type Item = u32;
        type Key = u32;
        type Keep = ();
        const RESOURCE: Resource = Resource::Pods;
        fn object(item: Item<'_>, _: &()) -> Decoded<Self> {
            let (Item::Json(b) | Item::Proto(b)) = item;
            let n: u32 = std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()).ok_or("not a number")?;
            Ok((n, n, None))
        }
    }

    /// What the server does next, in the order the machine asks.
    enum Answer {
        /// A list page: items, more to come, the List's resourceVersion.
        Page(Vec<u32>, bool, &'static str),
        /// A watch opens; its events, each after a wait.
        Watch(Vec<(Duration, Streamed)>),
        Fail(Failure),
    }

    /// What an open watch delivers.
    enum Streamed {
        Add(u32, &'static str),
        Remove(u32, &'static str),
        Bookmark(&'static str, bool),
        Status(u16),
        Cut,
        Close,
    }
    use Streamed::*;

    /// A request the machine made, and when (paused time, from the start).
    #[derive(Debug, PartialEq)]
    enum Asked {
        Page { at_ms: u64 },
        Watch { from: Option<String>, at_ms: u64 },
    }

    struct Script {
        answers: VecDeque<Answer>,
        asked: Arc<Mutex<Vec<Asked>>>,
        start: Instant,
    }

    impl Script {
        fn next_answer(&mut self) -> Answer {
            // A script that runs out ends the run: Fatal stops the machine.
            self.answers.pop_front().unwrap_or(Answer::Fail(Failure::Fatal(Error::cluster("the script ended"))))
        }
        fn ms(&self) -> u64 {
            self.start.elapsed().as_millis() as u64
        }
    }

    impl Api<Things> for Script {
        /// The List's resourceVersion, once its first page gave it.
        type List = Option<String>;
        type Watch = VecDeque<(Duration, Streamed)>;
        fn list(&self) -> Option<String> {
            None
        }
        async fn page(&mut self, list: &mut Option<String>) -> Result<Page<u32>, Failure> {
            let at_ms = self.ms();
            self.asked.lock().unwrap().push(Asked::Page { at_ms });
            match self.next_answer() {
                Answer::Page(items, more, rv) => {
                    if list.is_none() && !rv.is_empty() {
                        *list = Some(rv.to_string());
                    }
                    Ok(Page { items, more, resource_version: list.clone() })
                }
                Answer::Fail(f) => Err(f),
                Answer::Watch(_) => panic!("the script expected a watch, the machine asked for a page"),
            }
        }
        async fn watch(&mut self, from: Option<&str>) -> Result<Self::Watch, Failure> {
            let at_ms = self.ms();
            self.asked.lock().unwrap().push(Asked::Watch { from: from.map(str::to_owned), at_ms });
            match self.next_answer() {
                Answer::Watch(events) => Ok(events.into()),
                Answer::Fail(f) => Err(f),
                Answer::Page(..) => panic!("the script expected a page, the machine opened a watch"),
            }
        }
        async fn next(&mut self, watch: &mut Self::Watch) -> Result<Option<WatchEvent<Things>>, Failure> {
            let Some((wait, ev)) = watch.pop_front() else { return Ok(None) };
            tokio::time::sleep(wait).await;
            let rv = |v: &str| Some(v.to_string());
            Ok(Some(match ev {
                Add(n, v) => WatchEvent::Added(n, rv(v)),
                Remove(n, v) => WatchEvent::Deleted(n, rv(v)),
                Bookmark(v, end) => WatchEvent::Bookmark { rv: rv(v), initial_events_end: end },
                Status(code) => WatchEvent::Error(ApiStatus { code, message: format!("status {code}") }),
                Cut => return Err(Failure::transient(Error::cluster("cut"))),
                Close => return Ok(None),
            }))
        }
    }

    type Ev = Event<u32, u32>;

    /// Runs the machine over `answers`; its events, what it asked, and how
    /// the run ended.
    async fn play(initial: InitialList, answers: Vec<Answer>) -> (Vec<Ev>, Vec<Asked>, Result<()>, Meter) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let script = Script { answers: answers.into(), asked: asked.clone(), start: Instant::now() };
        let (tx, mut rx) = mpsc::channel(1024);
        let meter = Meter::default();
        let end = run::<Things, _>(script, initial, meter.clone(), tx).await;
        let mut events = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            events.push(ev);
        }
        let asked = std::mem::take(&mut *asked.lock().unwrap());
        (events, asked, end, meter)
    }

    fn page(items: &[u32], more: bool, rv: &'static str) -> Answer {
        Answer::Page(items.to_vec(), more, rv)
    }
    fn watch(events: Vec<(u64, Streamed)>) -> Answer {
        Answer::Watch(events.into_iter().map(|(ms, e)| (Duration::from_millis(ms), e)).collect())
    }
    fn transient(m: &str) -> Answer {
        Answer::Fail(Failure::transient(Error::cluster(m)))
    }
    fn from(rv: &str, at_ms: u64) -> Asked {
        Asked::Watch { from: Some(rv.into()), at_ms }
    }
    fn end_message(end: &Result<()>) -> String {
        end.as_ref().err().map(|e| e.message.clone()).unwrap_or_default()
    }
    const SCRIPT_END: &str = "the script ended";

    #[tokio::test(start_paused = true)]
    async fn a_paged_list_syncs_then_the_watch_forwards_events_and_resumes_from_the_last_seen() {
        let (events, asked, end, meter) = play(
            InitialList::Paged,
            vec![
                page(&[1, 2], true, "10"),
                page(&[3], false, ""),
                // A healthy watch the server ends after its timeout: resumed
                // at once, from the last resourceVersion seen.
                watch(vec![(5, Add(4, "11")), (5, Remove(1, "12")), (5, Bookmark("13", false)), (20_000, Close)]),
            ],
        )
        .await;
        use Event::*;
        assert_eq!(
            events,
            vec![
                Relist { why: super::Relist::Start },
                Page(vec![1, 2]),
                Page(vec![3]),
                At("10".into()),
                Synced,
                Apply(4, Some("11".into())),
                Delete(1, Some("12".into())),
                At("13".into()),
            ]
        );
        assert_eq!(asked, vec![Asked::Page { at_ms: 0 }, Asked::Page { at_ms: 0 }, from("10", 0), from("13", 20_015)]);
        assert_eq!(end_message(&end), SCRIPT_END);
        assert_eq!(*meter.resource_version.lock().unwrap(), "13");
    }

    #[tokio::test(start_paused = true)]
    async fn watches_closed_at_once_are_reopened_after_a_growing_backoff() {
        let mut answers = vec![page(&[], false, "5")];
        answers.extend((0..5).map(|_| watch(vec![(0, Close)])));
        let (events, asked, _, _) = play(InitialList::Paged, answers).await;
        // Closing at once is no fault to announce.
        assert!(!events.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
        let at: Vec<u64> = asked
            .iter()
            .filter_map(|a| match a {
                Asked::Watch { at_ms, .. } => Some(*at_ms),
                _ => None,
            })
            .collect();
        let gaps: Vec<u64> = at.windows(2).map(|w| w[1] - w[0]).collect();
        // 125-250, 250-500, 500-1000, 1000-2000, 2000-4000 ms.
        let bounds = [(125, 250), (250, 500), (500, 1000), (1000, 2000), (2000, 4000)];
        assert_eq!(gaps.len(), bounds.len(), "{at:?}");
        for (g, (lo, hi)) in gaps.iter().zip(bounds) {
            assert!((lo..=hi).contains(g), "gap {g} ms outside {lo}-{hi}: {gaps:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_after_the_sync_is_announced_and_a_healthy_watch_resets_the_backoff() {
        let (events, asked, _, meter) = play(
            InitialList::Paged,
            vec![
                page(&[], false, "5"),
                watch(vec![(1, Cut)]),
                watch(vec![(1, Cut)]),
                watch(vec![(1, Cut)]),
                // Healthy for 10 s, then cut: the backoff starts over.
                watch(vec![(1, Add(7, "6")), (10_000, Cut)]),
            ],
        )
        .await;
        let reconnects = events.iter().filter(|e| matches!(e, Event::Reconnecting { .. })).count();
        assert_eq!(reconnects, 4);
        assert!(events.contains(&Event::Reconnecting { why: "cut".into() }));
        let watches: Vec<&Asked> = asked.iter().filter(|a| matches!(a, Asked::Watch { .. })).collect();
        let Asked::Watch { at_ms: healthy_from, .. } = watches[3] else { unreachable!() };
        let Asked::Watch { from, at_ms: after, .. } = watches[4] else { unreachable!() };
        assert_eq!(from.as_deref(), Some("6"), "resumes from the last event seen");
        let gap = after - healthy_from - 10_001;
        assert!((125..=250).contains(&gap), "after a healthy watch the wait is the first one again: {gap} ms");
        assert!(!meter.watching.load(std::sync::atomic::Ordering::Relaxed), "a failed watch is not current");
    }

    #[tokio::test(start_paused = true)]
    async fn gone_relists_whether_the_watch_or_the_list_expired() {
        let (events, _, _, _) = play(
            InitialList::Paged,
            vec![
                page(&[1], false, "5"),
                // An ERROR event with 410: the watch's resourceVersion is gone.
                watch(vec![(1, Status(410))]),
                page(&[1], true, "20"),
                // The continue token expired.
                Answer::Fail(Failure::Gone("too old".into())),
                page(&[2], false, "30"),
                // A 410 answer to the watch's open.
                Answer::Fail(Failure::Gone("compacted".into())),
                page(&[3], false, "40"),
            ],
        )
        .await;
        let relists: Vec<&Ev> = events.iter().filter(|e| matches!(e, Event::Relist { .. })).collect();
        assert_eq!(
            relists,
            vec![
                &Event::Relist { why: Relist::Start },
                &Event::Relist { why: Relist::WatchExpired("status 410".into()) },
                &Event::Relist { why: Relist::ListExpired("too old".into()) },
                &Event::Relist { why: Relist::WatchExpired("compacted".into()) },
            ]
        );
        assert_eq!(events.iter().filter(|e| **e == Event::Synced).count(), 3);
        assert!(!events.iter().any(|e| matches!(e, Event::Reconnecting { .. })), "410 is no outage");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_page_is_tried_again_not_the_whole_list() {
        let (events, asked, _, _) = play(
            InitialList::Paged,
            vec![
                page(&[1], true, "5"),
                transient("503"),
                page(&[2], false, ""),
                watch(vec![(1, Cut)]),
                Answer::Fail(Failure::Gone("compacted".into())),
                page(&[1], true, "9"),
                transient("503"),
                page(&[2], false, ""),
            ],
        )
        .await;
        use Event::*;
        let relist = Relist { why: super::Relist::WatchExpired("compacted".into()) };
        let pos = events.iter().position(|e| *e == relist).expect("relisted");
        // Before the sync, silently (the attempts' bound); after it, announced.
        assert!(!events[..pos].iter().any(|e| matches!(e, Reconnecting { why } if why == "503")));
        assert_eq!(
            events[pos..],
            [relist.clone(), Page(vec![1]), Reconnecting { why: "503".into() }, Page(vec![2]), At("9".into()), Synced]
        );
        assert_eq!(asked.iter().filter(|a| matches!(a, Asked::Page { .. })).count(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn before_the_first_sync_transient_failures_are_bounded_and_fatal_ones_end_at_once() {
        let (events, asked, end, _) =
            play(InitialList::Paged, vec![transient("a"), transient("b"), transient("c"), transient("d")]).await;
        assert_eq!(end_message(&end), "d", "the fourth failure in a row ends it");
        assert_eq!(asked.len(), 4);
        assert!(!events.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
        let Asked::Page { at_ms } = asked[3] else { unreachable!() };
        assert!((875..=1750).contains(&at_ms), "three waits of 125-1000 ms: {at_ms}");

        let (_, asked, end, _) = play(
            InitialList::Paged,
            vec![
                Answer::Fail(Failure::Transient {
                    error: Error::cluster("busy"),
                    retry_after: Some(Duration::from_secs(3)),
                }),
                Answer::Fail(Failure::Fatal(Error::forbidden("forbidden"))),
            ],
        )
        .await;
        assert_eq!(end_message(&end), "forbidden");
        assert_eq!(asked, vec![Asked::Page { at_ms: 0 }, Asked::Page { at_ms: 3000 }], "Retry-After honoured");

        let (_, asked, end, _) =
            play(InitialList::Paged, vec![Answer::Fail(Failure::TimedOut(Error::cluster("no answer")))]).await;
        assert_eq!((end_message(&end).as_str(), asked.len()), ("no answer", 1), "a spent bound is not retried");
    }

    #[tokio::test(start_paused = true)]
    async fn watchlist_batches_its_initial_events_until_the_bookmark_then_follows_the_same_stream() {
        let mut initial: Vec<(u64, Streamed)> = (0..BATCH as u32 + 2).map(|n| (0, Add(n, "3"))).collect();
        initial.push((0, Bookmark("7", false)));
        initial.push((0, Bookmark("8", true)));
        initial.push((1, Add(900, "9")));
        initial.push((1, Close));
        let (events, asked, _, _) = play(InitialList::Stream, vec![watch(initial)]).await;
        use Event::*;
        assert_eq!(events[0], Relist { why: super::Relist::Start });
        let Page(first) = &events[1] else { panic!("{:?}", events[1]) };
        assert_eq!(first.len(), BATCH);
        assert_eq!(events[2], Page(vec![BATCH as u32, BATCH as u32 + 1]));
        assert_eq!(events[3..], [At("8".into()), Synced, Apply(900, Some("9".into()))]);
        // Closed at once: after a backoff, a plain watch from the last seen.
        let Asked::Watch { from, at_ms } = &asked[1] else { unreachable!() };
        assert_eq!(from.as_deref(), Some("9"));
        assert!(*at_ms >= 125);
        assert_eq!(asked[0], Asked::Watch { from: None, at_ms: 0 });
    }

    #[tokio::test(start_paused = true)]
    async fn watchlist_refused_falls_back_to_paged_lists_for_good() {
        let (events, asked, _, _) = play(
            InitialList::Stream,
            vec![
                Answer::Fail(Failure::Fatal(Error::cluster("422 Unprocessable"))),
                page(&[1], false, "5"),
                watch(vec![(1, Status(410))]),
                page(&[1], false, "6"),
            ],
        )
        .await;
        use Event::*;
        assert_eq!(events[0], Relist { why: super::Relist::WatchListRefused("422 Unprocessable".into()) });
        assert_eq!(asked[3], Asked::Page { at_ms: 1 }, "after a 410, a paged list again");
        // But a missing permission is the user's to fix.
        let (_, _, end, _) =
            play(InitialList::Stream, vec![Answer::Fail(Failure::Fatal(Error::forbidden("cannot watch pods")))]).await;
        assert_eq!(end_message(&end), "cannot watch pods");
    }

    #[tokio::test(start_paused = true)]
    async fn a_watchlist_that_breaks_before_its_end_starts_over_and_never_resumes_from_an_objects_version() {
        let (events, asked, _, _) = play(
            InitialList::Stream,
            vec![
                watch(vec![(0, Add(1, "3")), (0, Close)]),
                watch(vec![(0, Add(1, "3")), (0, Remove(1, "4"))]),
                watch(vec![(0, Add(1, "3")), (0, Bookmark("8", true)), (20_000, Cut)]),
                watch(vec![(0, Status(410))]),
                watch(vec![(0, Bookmark("9", true))]),
            ],
        )
        .await;
        let froms: Vec<Option<&str>> = asked
            .iter()
            .map(|a| match a {
                Asked::Watch { from, .. } => from.as_deref(),
                Asked::Page { .. } => panic!("no list in WatchList mode"),
            })
            .collect();
        assert_eq!(froms, vec![None, None, None, Some("8"), None, Some("9")]);
        use Event::*;
        let relists: Vec<&Ev> = events.iter().filter(|e| matches!(e, Relist { .. })).collect();
        assert_eq!(relists.len(), 4);
        assert_eq!(relists[3], &Relist { why: super::Relist::WatchExpired("status 410".into()) });
        assert_eq!(
            events.iter().filter(|e| matches!(e, Reconnecting { .. })).count(),
            1,
            "only the cut after the sync"
        );
        assert_eq!(events.iter().filter(|e| **e == Synced).count(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_consumer_that_hangs_up_stops_the_machine_cleanly() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let script = Script {
            answers: vec![page(&[1], true, "5"), page(&[2], false, "")].into(),
            asked: asked.clone(),
            start: Instant::now(),
        };
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let end = run::<Things, _>(script, InitialList::Paged, Meter::default(), tx).await;
        assert!(end.is_ok());
        assert!(asked.lock().unwrap().is_empty(), "nothing asked once nobody listens");
    }
}
