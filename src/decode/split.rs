//! Splits a List response into its items as the bytes arrive, so a page is
//! never held whole: each item's JSON is handed over as soon as its closing
//! brace is in, and everything outside `items` (kind, metadata with the
//! continue token) is kept to be parsed on its own. Pure; fed chunk by chunk.
//! The same for a Table's `rows` ([`Splitter::of`]).

use super::json::ListMeta;

#[derive(Debug)]
pub struct Splitter {
    /// The top-level array whose elements are split out (`items`, `rows`).
    key: &'static [u8],
    /// Bytes not yet handed over: at most one partial item.
    buf: Vec<u8>,
    /// Where scanning resumes in `buf`.
    pos: usize,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Start of the string being scanned at depth 1 (a candidate key).
    key_start: Option<usize>,
    /// The last string closed at depth 1.
    last_key: Vec<u8>,
    /// Inside the top-level `items` array (at depth 2 of it).
    in_items: bool,
    item_start: Option<usize>,
    /// Right after the items array closed, a following comma may need dropping.
    after_items: bool,
    /// Everything outside the items array, as JSON without it.
    rest: Vec<u8>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::of(b"items")
    }
}

impl Splitter {
    /// A List's `items`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The elements of the top-level array `key` (a Table's `rows`).
    pub fn of(key: &'static [u8]) -> Self {
        Splitter {
            key,
            buf: Vec::new(),
            pos: 0,
            depth: 0,
            in_string: false,
            escaped: false,
            key_start: None,
            last_key: Vec::new(),
            in_items: false,
            item_start: None,
            after_items: false,
            rest: Vec::new(),
        }
    }

    /// Feeds a chunk; calls `item` with each complete item's JSON.
    pub fn feed<E>(&mut self, chunk: &[u8], mut item: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        self.feed_with_head(chunk, |_, i| item(i))
    }

    /// As [`Splitter::feed`], also handing over the head: everything before
    /// the array, as JSON that [`parse_head`] reads (for a Table, its
    /// column definitions, which the apiserver writes before the rows).
    ///
    /// One flat byte-by-byte scanner (in a string or not, depth, inside the
    /// array or not), kept in one loop on purpose: it is the hot path of
    /// every JSON page, and split up it would pass its state around per byte.
    pub fn feed_with_head<E>(
        &mut self,
        chunk: &[u8],
        mut item: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.buf.extend_from_slice(chunk);
        let mut i = self.pos;
        while i < self.buf.len() {
            let b = self.buf[i];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    if let Some(s) = self.key_start.take() {
                        self.last_key.clear();
                        self.last_key.extend_from_slice(&self.buf[s + 1..i]);
                    }
                }
                if !self.in_items {
                    self.rest.push(b);
                }
                i += 1;
                continue;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    if self.depth == 1 && !self.in_items {
                        self.key_start = Some(i);
                    }
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth == 2 && b == b'[' && self.last_key == self.key && !self.in_items {
                        self.in_items = true;
                        // Drop `"items":` (and a comma before it) from rest.
                        let cut = self
                            .rest
                            .iter()
                            .rposition(|&c| c == b'"')
                            .and_then(|end| self.rest[..end].iter().rposition(|&c| c == b'"'));
                        if let Some(cut) = cut {
                            self.rest.truncate(cut);
                            while matches!(self.rest.last(), Some(c) if c.is_ascii_whitespace() || *c == b',') {
                                self.rest.pop();
                            }
                        }
                        i += 1;
                        continue;
                    }
                    if self.in_items && self.depth == 3 && b == b'{' {
                        self.item_start = Some(i);
                    }
                }
                b'}' | b']' => {
                    if self.in_items
                        && self.depth == 3
                        && b == b'}'
                        && let Some(s) = self.item_start.take()
                    {
                        item(&self.rest, &self.buf[s..=i])?;
                    }
                    self.depth = self.depth.saturating_sub(1);
                    if self.in_items && self.depth == 1 && b == b']' {
                        self.in_items = false;
                        self.after_items = true;
                        self.last_key.clear();
                        i += 1;
                        continue;
                    }
                }
                _ => {}
            }
            if !self.in_items {
                if self.after_items && !b.is_ascii_whitespace() {
                    self.after_items = false;
                    let open = matches!(self.rest.iter().rev().find(|c| !c.is_ascii_whitespace()), Some(b'{'));
                    if b == b',' && open {
                        i += 1;
                        continue;
                    }
                }
                self.rest.push(b);
            }
            i += 1;
        }
        // Keep only a partial item or key for the next chunk.
        let keep_from = self.item_start.into_iter().chain(self.key_start).min().unwrap_or(self.buf.len());
        self.buf.drain(..keep_from);
        for start in [self.item_start.as_mut(), self.key_start.as_mut()].into_iter().flatten() {
            *start -= keep_from;
        }
        self.pos = self.buf.len();
        Ok(())
    }

    /// The list's metadata, from everything outside `items`. Valid once the
    /// top-level object has closed (or, with the apiserver's field order,
    /// as soon as the items array has started).
    pub fn meta(&self) -> serde_json::Result<ListMeta<'static>> {
        #[derive(serde::Deserialize)]
        struct Head<'a> {
            #[serde(borrow, default)]
            metadata: ListMeta<'a>,
        }
        let text = if self.depth > 0 { closed(&self.rest) } else { self.rest.clone() };
        let head: Head = serde_json::from_slice(&text)?;
        Ok(ListMeta {
            continue_token: head.metadata.continue_token.map(|c| c.into_owned().into()),
            resource_version: head.metadata.resource_version.map(|c| c.into_owned().into()),
        })
    }

    /// True once the whole top-level object has been read.
    pub fn done(&self) -> bool {
        self.depth == 0 && !self.rest.is_empty()
    }
}

/// The head as [`Splitter::feed_with_head`] hands it over (the top-level
/// object, still open), closed.
fn closed(head: &[u8]) -> Vec<u8> {
    let mut text = head.to_vec();
    text.push(b'}');
    text
}

/// Reads what precedes the split array (handed over with each item).
pub fn parse_head<T: serde::de::DeserializeOwned>(head: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(&closed(head))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn split(body: &[u8], cuts: &[usize]) -> (Vec<Value>, ListMeta<'static>, bool) {
        let mut s = Splitter::new();
        let mut items = Vec::new();
        let mut at = 0;
        let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        bounds.push(body.len());
        bounds.sort_unstable();
        for b in bounds {
            s.feed::<()>(&body[at..b], |i| {
                items.push(serde_json::from_slice(i).unwrap());
                Ok(())
            })
            .unwrap();
            at = b;
        }
        (items, s.meta().unwrap(), s.done())
    }

    #[test]
    fn splits_an_apiserver_page() {
        let body = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"12","continue":"abc"},"items":[{"metadata":{"name":"a{"}},{"metadata":{"name":"b\"}]"},"spec":{"x":[1,{"y":2}]}}]}"#;
        let (items, meta, done) = split(body, &[]);
        assert_eq!(
            items,
            [json!({"metadata":{"name":"a{"}}), json!({"metadata":{"name":"b\"}]"},"spec":{"x":[1,{"y":2}]}})]
        );
        assert_eq!(meta.continue_token.as_deref(), Some("abc"));
        assert_eq!(meta.resource_version.as_deref(), Some("12"));
        assert!(done);
    }

    #[test]
    fn metadata_after_items_and_empty_lists() {
        let (items, meta, _) =
            split(br#"{"items":[{"a":1}], "metadata":{"continue":"z"},"kind":"PodList"}"#, &[3, 9, 14]);
        assert_eq!(items, [json!({"a":1})]);
        assert_eq!(meta.continue_token.as_deref(), Some("z"));
        let (items, meta, _) = split(br#"{"kind":"PodList","metadata":{},"items":[]}"#, &[]);
        assert!(items.is_empty() && meta.continue_token.is_none());
        let (items, _, _) = split(br#"{"kind":"PodList","metadata":{},"items":null}"#, &[]);
        assert!(items.is_empty());
    }

    #[test]
    fn the_head_is_readable_once_items_start() {
        let mut s = Splitter::new();
        s.feed::<()>(br#"{"kind":"PodList","metadata":{"continue":"next"},"items":[{"a":"#, |_| Ok(())).unwrap();
        assert_eq!(s.meta().unwrap().continue_token.as_deref(), Some("next"));
        assert!(!s.done());
    }

    #[test]
    fn splits_table_rows_with_the_columns_ahead() {
        let body = br#"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"continue":"c"},"columnDefinitions":[{"name":"Name"},{"name":"Node"}],"rows":[{"cells":["a","n1"]},{"cells":["b]",null]}]}"#;
        #[derive(serde::Deserialize)]
        struct Head {
            #[serde(rename = "columnDefinitions")]
            columns: Vec<Value>,
        }
        for cut in 0..body.len() {
            let mut s = Splitter::of(b"rows");
            let mut rows = Vec::new();
            for part in [&body[..cut], &body[cut..]] {
                s.feed_with_head::<()>(part, |head, row| {
                    let h: Head = parse_head(head).unwrap();
                    assert_eq!(h.columns[1]["name"], "Node");
                    rows.push(serde_json::from_slice::<Value>(row).unwrap());
                    Ok(())
                })
                .unwrap();
            }
            assert_eq!(rows, [json!({"cells":["a","n1"]}), json!({"cells":["b]",null]})], "cut {cut}");
            assert_eq!(s.meta().unwrap().continue_token.as_deref(), Some("c"));
            assert!(s.done());
        }
    }

    fn arb_string() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('{'),
                Just('}'),
                Just('['),
                Just(']'),
                Just('"'),
                Just('\\'),
                Just(','),
                Just(':'),
                Just('é'),
                Just('a'),
                Just('\n')
            ],
            0..12,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            arb_string().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            Just(Value::Null),
            any::<bool>().prop_map(Value::from)
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(arb_string(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any list, cut anywhere: the items and metadata serde sees.
        #[test]
        fn equals_serde_for_any_cuts(
            items in proptest::collection::vec(proptest::collection::btree_map(arb_string(), arb_value(), 0..4), 0..6),
            token in arb_string(),
            before in any::<bool>(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let items: Vec<Value> = items.into_iter().map(|m| Value::Object(m.into_iter().collect())).collect();
            let meta = json!({"continue": token, "resourceVersion": "7"});
            let body = if before {
                format!(r#"{{"kind":"PodList","metadata":{},"items":{}}}"#, meta, Value::Array(items.clone()))
            } else {
                format!(r#"{{"items":{} , "metadata":{},"kind":"PodList"}}"#, Value::Array(items.clone()), meta)
            };
            let (got, m, done) = split(body.as_bytes(), &cuts);
            prop_assert_eq!(got, items);
            prop_assert_eq!(m.continue_token.as_deref(), Some(token.as_str()));
            prop_assert!(done);
        }
    }
}
