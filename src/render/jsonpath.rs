//! `-o jsonpath=TEMPLATE` and `-o custom-columns=SPEC` over the `podcount/v1`
//! document, in kubectl's dialect: client-go's `util/jsonpath` parser and
//! evaluator (ranges, filters, unions, slices, recursive descent, quoted
//! text), kubectl's printing (missing keys allowed; scalars as Go's `fmt`
//! prints them, maps and lists as `encoding/json` marshals them) and its
//! custom-columns printer (`<none>`, `,`-joined values, the tab writer).
//! This follows the Go code's control flow closely on purpose, quirks
//! included: `tests/jsonpath.rs` runs the same templates through the Go code
//! itself and compares byte for byte.

use serde_json::Value;

/// A parsed template: the root's nodes (text and `{actions}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    root: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    List(Vec<Node>),
    Text(String),
    Field(String),
    Array([Param; 3]),
    Filter { left: Vec<Node>, right: Vec<Node>, op: String },
    Int(i64),
    Float(f64),
    Bool(bool),
    Wildcard,
    Recursive,
    Union(Vec<Vec<Node>>),
    Identifier(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Param {
    value: i64,
    known: bool,
    derived: bool,
}

// ---------------------------------------------------------------- parsing

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    width: usize,
    /// The root list the actions are appended to.
    root: Vec<Node>,
}

const EOF: Option<char> = None;

impl Template {
    /// Parses as client-go's `jsonpath.Parse` does; its error text.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut p = Parser { input: text, pos: 0, start: 0, width: 0, root: Vec::new() };
        p.parse_text()?;
        Ok(Template { root: p.root })
    }

    /// The inside of one action (`parseAction`: `{text}`, its first list).
    fn action(text: &str) -> Result<Vec<Node>, String> {
        let t = Template::parse(&format!("{{{text}}}"))?;
        match t.root.into_iter().next() {
            Some(Node::List(nodes)) => Ok(nodes),
            _ => Ok(Vec::new()),
        }
    }
}

impl Parser<'_> {
    fn next(&mut self) -> Option<char> {
        match self.input[self.pos..].chars().next() {
            None => {
                self.width = 0;
                EOF
            }
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                Some(c)
            }
        }
    }

    fn peek(&mut self) -> Option<char> {
        let c = self.next();
        self.backup();
        c
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn consume(&mut self) -> String {
        let v = self.input[self.start..self.pos].to_string();
        self.start = self.pos;
        v
    }

    fn rest(&self) -> &str {
        &self.input[self.pos..]
    }

    /// Text up to each `{`, then the action; until the input ends.
    fn parse_text(&mut self) -> Result<(), String> {
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    let t = self.consume();
                    self.root.push(Node::Text(t));
                }
                self.pos += 1;
                self.consume();
                // Go appends the action's list before filling it; pushing
                // it filled keeps the same order.
                let mut action = Vec::new();
                self.parse_inside(&mut action)?;
                self.root.push(Node::List(action));
                continue;
            }
            if self.next() == EOF {
                break;
            }
        }
        if self.pos > self.start {
            let t = self.consume();
            self.root.push(Node::Text(t));
        }
        Ok(())
    }

    /// `parseInsideAction`, up to and including the closing `}` (Go
    /// recurses once a token; this loops).
    fn parse_inside(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            if self.rest().starts_with('}') {
                self.pos += 1;
                self.consume();
                return Ok(());
            }
            if self.rest().starts_with("[?(") {
                self.parse_filter(cur)?;
                continue;
            }
            if self.rest().starts_with("..") {
                if matches!(cur.last(), Some(Node::Recursive)) {
                    return Err("invalid multiple recursive descent".into());
                }
                self.pos += 2;
                self.consume();
                cur.push(Node::Recursive);
                if self.peek().is_some_and(alphanumeric) {
                    self.parse_field(cur);
                }
                continue;
            }
            match self.next() {
                None | Some('\r' | '\n') => return Err("unclosed action".into()),
                Some(' ') => {
                    self.consume();
                }
                Some('@' | '$') => {
                    self.consume();
                }
                Some('[') => self.parse_array(cur)?,
                Some(q @ ('"' | '\'')) => self.parse_quote(cur, q)?,
                Some('.') => self.parse_field(cur),
                Some(c) if c == '+' || c == '-' || c.is_numeric() => {
                    self.backup();
                    self.parse_number(cur)?;
                }
                Some(c) if alphanumeric(c) => {
                    self.backup();
                    self.parse_identifier(cur);
                }
                Some(c) => return Err(format!("unrecognized character in action: {}", go_unicode(c))),
            }
        }
    }

    fn parse_identifier(&mut self, cur: &mut Vec<Node>) {
        loop {
            let r = self.next();
            if terminator(r) {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        cur.push(match value.as_str() {
            "true" => Node::Bool(true),
            "false" => Node::Bool(false),
            _ => Node::Identifier(value),
        });
    }

    fn parse_number(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        if matches!(self.peek(), Some('+' | '-')) {
            self.next();
        }
        loop {
            match self.next() {
                Some(c) if c == '.' || c.is_numeric() => {}
                _ => {
                    self.backup();
                    break;
                }
            }
        }
        let value = self.consume();
        if let Some(i) = go_atoi(&value) {
            cur.push(Node::Int(i));
        } else if let Some(f) = go_parse_float(&value) {
            cur.push(Node::Float(f));
        } else {
            return Err(format!("cannot parse number {value}"));
        }
        Ok(())
    }

    fn parse_array(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated array".into()),
                Some(']') => break,
                _ => {}
            }
        }
        let text = self.consume();
        let mut text = &text[1..text.len() - 1];
        if text == "*" {
            text = ":";
        }
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 1 {
            let mut union = Vec::new();
            for part in parts {
                union.push(Template::action(&format!("[{}]", part.trim_matches(' ')))?);
            }
            cur.push(Node::Union(union));
            return Ok(());
        }
        if text.len() >= 2 && text.starts_with('\'') && text.ends_with('\'') && !text[1..text.len() - 1].contains('\'')
        {
            cur.extend(Template::action(&format!(".{}", &text[1..text.len() - 1]))?);
            return Ok(());
        }
        let groups = slice_operator(text).ok_or_else(|| format!("invalid array index {text}"))?;
        let mut params = [Param::default(); 3];
        for i in 0..3 {
            let mut v = groups[i];
            if !v.is_empty() {
                if i > 0 {
                    v = &v[1..];
                }
                if i > 0 && v.is_empty() {
                    params[i].known = false;
                } else {
                    params[i].known = true;
                    params[i].value = go_atoi(v).ok_or_else(|| format!("array index {v} is not a number"))?;
                }
            } else if i == 1 {
                params[i] = Param { value: params[0].value + 1, known: true, derived: true };
            } else {
                params[i] = Param::default();
            }
        }
        cur.push(Node::Array(params));
        Ok(())
    }

    fn parse_filter(&mut self, cur: &mut Vec<Node>) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end, mut pair) = (false, false, '\0');
        loop {
            let r = self.next();
            match r {
                None | Some('\n') => return Err("unterminated filter".into()),
                Some(q @ ('"' | '\'')) => {
                    if !begin {
                        begin = true;
                        pair = q;
                        continue;
                    }
                    if self.input.as_bytes()[self.pos - 2] != b'\\' && q == pair {
                        end = true;
                    }
                }
                Some(')') if begin == end => break,
                _ => {}
            }
        }
        if self.next() != Some(']') {
            return Err("unclosed array expect ]".into());
        }
        let text = self.consume();
        let text = &text[..text.len() - 2];
        match filter_parts(text) {
            None => cur.push(Node::Filter { left: Template::action(text)?, right: Vec::new(), op: "exists".into() }),
            Some((l, op, r)) => {
                cur.push(Node::Filter { left: Template::action(l)?, right: Template::action(r)?, op: op.to_string() })
            }
        }
        Ok(())
    }

    fn parse_quote(&mut self, cur: &mut Vec<Node>, end: char) -> Result<(), String> {
        loop {
            match self.next() {
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some(c) if c == end && self.input.as_bytes()[self.pos - 2] != b'\\' => break,
                _ => {}
            }
        }
        let value = self.consume();
        let s = unquote(&value).map_err(|e| format!("unquote string {value} error {e}"))?;
        cur.push(Node::Text(s));
        Ok(())
    }

    fn parse_field(&mut self, cur: &mut Vec<Node>) {
        self.consume();
        loop {
            let r = self.next();
            if r == Some('\\') {
                self.next();
            } else if terminator(r) {
                self.backup();
                break;
            }
        }
        let value = self.consume();
        cur.push(if value == "*" { Node::Wildcard } else { Node::Field(value.replace('\\', "")) });
    }
}

fn terminator(r: Option<char>) -> bool {
    matches!(r, None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'))
}

fn alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`.
fn go_unicode(c: char) -> String {
    if c.is_control() { format!("U+{:04X}", c as u32) } else { format!("U+{:04X} '{c}'", c as u32) }
}

/// `strconv.Atoi`: an optional sign and ASCII digits, in range.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `strconv.ParseFloat` for what the number scanner lets through (signs,
/// digits, dots): Rust's parser agrees on those, but not on "." or "-.".
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !body.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `^(-?[\d]*)(:-?[\d]*)?(:-?[\d]*)?$`: the three groups ("" when absent).
fn slice_operator(text: &str) -> Option<[&str; 3]> {
    fn number(s: &str) -> usize {
        let sign = usize::from(s.starts_with('-'));
        sign + s[sign..].bytes().take_while(u8::is_ascii_digit).count()
    }
    let mut groups = [""; 3];
    let mut rest = text;
    let n = number(rest);
    groups[0] = &rest[..n];
    rest = &rest[n..];
    for g in groups.iter_mut().skip(1) {
        if let Some(after) = rest.strip_prefix(':') {
            let n = 1 + number(after);
            *g = &rest[..n];
            rest = &rest[n..];
        }
    }
    rest.is_empty().then_some(groups)
}

/// `^([^!<>=]+)([!<>=]+)(.+?)$`: the operator run is greedy but leaves
/// the right side at least one character.
fn filter_parts(text: &str) -> Option<(&str, &str, &str)> {
    let op = |c: char| matches!(c, '!' | '<' | '>' | '=');
    let l = text.find(op)?;
    if l == 0 {
        return None;
    }
    let mut o = text[l..].find(|c| !op(c)).map_or(text.len(), |i| l + i);
    if o == text.len() {
        // Backtrack: the last operator character becomes the right side.
        if o - l < 2 {
            return None;
        }
        o -= 1;
    }
    Some((&text[..l], &text[l..o], &text[o..]))
}

/// client-go's `UnquoteExtend`: Go's escapes in '…' or "…".
fn unquote(s: &str) -> Result<String, &'static str> {
    let quote = s.chars().next().ok_or("invalid syntax")?;
    if s.len() < 2 || !s.ends_with(quote) || !matches!(quote, '"' | '\'') {
        return Err("invalid syntax");
    }
    let body = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            return Err("invalid syntax");
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("invalid syntax")?;
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize| -> Result<u32, &'static str> {
            let mut v = 0;
            for _ in 0..n {
                v = v * 16 + chars.next().and_then(|c| c.to_digit(16)).ok_or("invalid syntax")?;
            }
            Ok(v)
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' | '"' if e == quote => out.push(e),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?).ok_or("invalid syntax")?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?).ok_or("invalid syntax")?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?).ok_or("invalid syntax")?),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    v = v * 8 + chars.next().and_then(|c| c.to_digit(8)).ok_or("invalid syntax")?;
                }
                if v > 255 {
                    return Err("invalid syntax");
                }
                out.push(char::from_u32(v).ok_or("invalid syntax")?);
            }
            _ => return Err("invalid syntax"),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------- evaluation

/// A value in flight: a place in the document, or a literal of the template.
#[derive(Clone, Debug)]
enum V<'a> {
    Json(&'a Value),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A byte of a string (Go's wildcard over a string yields its bytes).
    Byte(u8),
    /// The nil `FindResults(nil)` walks to find a range's end.
    Nil,
}

/// The results of one root node.
type Results<'a> = Vec<V<'a>>;

struct Run {
    begin_range: i32,
    in_range: i32,
    end_range: i32,
    last_end: Option<usize>,
}

impl Template {
    /// kubectl's `Execute` with missing keys allowed: the printed text.
    pub fn execute(&self, data: &Value) -> Result<String, String> {
        let results = self.find(data)?;
        let mut out = String::new();
        for r in &results {
            print_results(&mut out, r);
        }
        Ok(out)
    }

    /// Every value the template finds, each group as kubectl's custom
    /// columns joins them (`FindResults`).
    fn find<'a>(&self, data: &'a Value) -> Result<Vec<Results<'a>>, String> {
        let nodes: Vec<&Node> = self.root.iter().collect();
        let mut run = Run { begin_range: 0, in_range: 0, end_range: 0, last_end: None };
        run.find(&nodes, 0, V::Json(data))
    }
}

impl Run {
    /// `FindResults` over `nodes` (the root's from `offset` on).
    fn find<'a>(&mut self, nodes: &[&Node], offset: usize, data: V<'a>) -> Result<Vec<Results<'a>>, String> {
        let cur = vec![data];
        let mut full = Vec::new();
        let mut i = 0;
        while i < nodes.len() {
            let results = self.walk(&cur, nodes[i])?;
            if self.end_range > 0 && self.end_range <= self.in_range {
                self.end_range -= 1;
                self.last_end = Some(offset + i);
                break;
            }
            if self.begin_range > 0 {
                self.begin_range -= 1;
                self.in_range += 1;
                if !results.is_empty() {
                    for value in results {
                        full.extend(self.find(&nodes[i + 1..], offset + i + 1, value)?);
                    }
                } else {
                    self.find(&nodes[i + 1..], offset + i + 1, V::Nil)?;
                }
                self.in_range -= 1;
                if let Some(k) = (i + 1..nodes.len()).find(|&k| Some(offset + k) == self.last_end) {
                    i = k;
                }
                i += 1;
                continue;
            }
            full.push(results);
            i += 1;
        }
        Ok(full)
    }

    fn walk<'a>(&mut self, input: &[V<'a>], node: &Node) -> Result<Vec<V<'a>>, String> {
        match node {
            Node::List(nodes) => self.list(input, nodes),
            Node::Text(t) => Ok(vec![V::Str(t.clone())]),
            Node::Field(name) => Ok(field(input, name)),
            Node::Array(params) => array(input, params),
            Node::Filter { left, right, op } => self.filter(input, left, right, op),
            Node::Int(i) => Ok(input.iter().map(|_| V::Int(*i)).collect()),
            Node::Float(f) => Ok(input.iter().map(|_| V::Float(*f)).collect()),
            Node::Bool(b) => Ok(input.iter().map(|_| V::Bool(*b)).collect()),
            Node::Wildcard => Ok(input.iter().flat_map(children).collect()),
            Node::Recursive => Ok(recursive(input)),
            Node::Union(lists) => {
                let mut out = Vec::new();
                for l in lists {
                    out.extend(self.list(input, l)?);
                }
                Ok(out)
            }
            Node::Identifier(name) => match name.as_str() {
                "range" => {
                    self.begin_range += 1;
                    Ok(input.to_vec())
                }
                "end" if self.in_range > 0 => {
                    self.end_range += 1;
                    Ok(Vec::new())
                }
                "end" => Err("not in range, nothing to end".into()),
                _ => Err(format!("unrecognized identifier {name}")),
            },
        }
    }

    fn list<'a>(&mut self, input: &[V<'a>], nodes: &[Node]) -> Result<Vec<V<'a>>, String> {
        let mut cur = input.to_vec();
        for n in nodes {
            cur = self.walk(&cur, n)?;
        }
        Ok(cur)
    }

    fn filter<'a>(&mut self, input: &[V<'a>], left: &[Node], right: &[Node], op: &str) -> Result<Vec<V<'a>>, String> {
        let mut out = Vec::new();
        for value in input {
            let V::Json(Value::Array(items)) = value else {
                return Err(format!("{} is not array or slice and cannot be filtered", go_sprint(value)));
            };
            for item in items {
                let temp = [V::Json(item)];
                let lefts = self.list(&temp, left);
                if op == "exists" {
                    if lefts.is_ok_and(|l| !l.is_empty()) {
                        out.push(V::Json(item));
                    }
                    continue;
                }
                let lefts = lefts?;
                match lefts.len() {
                    0 => continue,
                    1 => {}
                    _ => return Err("can only compare one element at a time".into()),
                }
                let rights = self.list(&temp, right)?;
                match rights.len() {
                    0 => continue,
                    1 => {}
                    _ => return Err("can only compare one element at a time".into()),
                }
                let (l, r) = (&lefts[0], &rights[0]);
                let pass = match op {
                    "<" => less(l, r)?,
                    ">" => !(less(l, r)? || equal(l, r)?),
                    "==" => equal(l, r)?,
                    "!=" => !equal(l, r)?,
                    "<=" => less(l, r)? || equal(l, r)?,
                    ">=" => !less(l, r)?,
                    _ => return Err(format!("unrecognized filter operator {op}")),
                };
                if pass {
                    out.push(V::Json(item));
                }
            }
        }
        Ok(out)
    }
}

fn field<'a>(input: &[V<'a>], name: &str) -> Vec<V<'a>> {
    input
        .iter()
        .filter_map(|v| match v {
            V::Json(Value::Object(m)) => m.get(name).map(V::Json),
            _ => None,
        })
        .collect()
}

fn array<'a>(input: &[V<'a>], node: &[Param; 3]) -> Result<Vec<V<'a>>, String> {
    let mut out = Vec::new();
    for value in input {
        let items: Vec<V<'a>> = match value {
            V::Json(Value::Null) | V::Nil => continue,
            V::Json(Value::Array(a)) => a.iter().map(V::Json).collect(),
            other => return Err(format!("{} is not array or slice", go_type(other))),
        };
        let mut p = *node;
        let len = items.len() as i64;
        if !p[0].known {
            p[0].value = 0;
        }
        if p[0].value < 0 {
            p[0].value += len;
        }
        if !p[1].known {
            p[1].value = len;
        }
        if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
            p[1].value += len;
        }
        if p[1].value == p[0].value {
            return Ok(out);
        }
        if p[0].value >= len || p[0].value < 0 {
            return Err(format!("array index out of bounds: index {}, length {len}", p[0].value));
        }
        if p[1].value > len || p[1].value < 0 {
            return Err(format!("array index out of bounds: index {}, length {len}", p[1].value - 1));
        }
        if p[0].value > p[1].value {
            return Err(format!("starting index {} is greater than ending index {}", p[0].value, p[1].value));
        }
        let step = if p[2].known {
            if p[2].value <= 0 {
                return Err("step must be > 0".into());
            }
            p[2].value as usize
        } else {
            1
        };
        out.extend(items[p[0].value as usize..p[1].value as usize].iter().step_by(step).cloned());
    }
    Ok(out)
}

/// What a wildcard yields: a map's values, a list's items, a string's bytes.
fn children<'a>(v: &V<'a>) -> Vec<V<'a>> {
    match v {
        V::Json(Value::Object(m)) => m.values().map(V::Json).collect(),
        V::Json(Value::Array(a)) => a.iter().map(V::Json).collect(),
        V::Json(Value::String(s)) => s.bytes().map(V::Byte).collect(),
        V::Str(s) => s.bytes().map(V::Byte).collect(),
        _ => Vec::new(),
    }
}

fn recursive<'a>(input: &[V<'a>]) -> Vec<V<'a>> {
    let mut out = Vec::new();
    for v in input {
        let kids = children(v);
        if !kids.is_empty() {
            out.push(v.clone());
            out.extend(recursive(&kids));
        }
    }
    out
}

// ------------------------------------------------------------ comparison

#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
}

enum Scalar<'s> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'s str),
}

fn scalar<'s>(v: &'s V<'_>) -> Result<Scalar<'s>, String> {
    Ok(match v {
        V::Json(Value::Bool(b)) | V::Bool(b) => Scalar::Bool(*b),
        V::Json(Value::Number(n)) => match n.as_i64() {
            Some(i) => Scalar::Int(i),
            None => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        V::Json(Value::String(s)) => Scalar::Str(s),
        V::Str(s) => Scalar::Str(s),
        V::Int(i) => Scalar::Int(*i),
        V::Float(f) => Scalar::Float(*f),
        V::Byte(b) => Scalar::Uint(u64::from(*b)),
        _ => return Err("invalid type for comparison".into()),
    })
}

fn kind(s: &Scalar<'_>) -> Kind {
    match s {
        Scalar::Bool(_) => Kind::Bool,
        Scalar::Int(_) => Kind::Int,
        Scalar::Uint(_) => Kind::Uint,
        Scalar::Float(_) => Kind::Float,
        Scalar::Str(_) => Kind::Str,
    }
}

/// The forked text/template `eq`.
fn equal(a: &V<'_>, b: &V<'_>) -> Result<bool, String> {
    let (a, b) = (scalar(a)?, scalar(b)?);
    Ok(match (&a, &b) {
        (Scalar::Int(x), Scalar::Uint(y)) | (Scalar::Uint(y), Scalar::Int(x)) => *x >= 0 && *x as u64 == *y,
        _ if kind(&a) != kind(&b) => return Err("incompatible types for comparison".into()),
        (Scalar::Bool(x), Scalar::Bool(y)) => x == y,
        (Scalar::Int(x), Scalar::Int(y)) => x == y,
        (Scalar::Uint(x), Scalar::Uint(y)) => x == y,
        (Scalar::Float(x), Scalar::Float(y)) => x == y,
        (Scalar::Str(x), Scalar::Str(y)) => x == y,
        _ => unreachable!("kinds are equal"),
    })
}

/// The forked text/template `lt`.
fn less(a: &V<'_>, b: &V<'_>) -> Result<bool, String> {
    let (a, b) = (scalar(a)?, scalar(b)?);
    Ok(match (&a, &b) {
        (Scalar::Int(x), Scalar::Uint(y)) => *x < 0 || (*x as u64) < *y,
        (Scalar::Uint(x), Scalar::Int(y)) => *y >= 0 && *x < *y as u64,
        _ if kind(&a) != kind(&b) => return Err("incompatible types for comparison".into()),
        (Scalar::Bool(_), _) => return Err("invalid type for comparison".into()),
        (Scalar::Int(x), Scalar::Int(y)) => x < y,
        (Scalar::Uint(x), Scalar::Uint(y)) => x < y,
        (Scalar::Float(x), Scalar::Float(y)) => x < y,
        (Scalar::Str(x), Scalar::Str(y)) => x < y,
        _ => unreachable!("kinds are equal"),
    })
}

// --------------------------------------------------------------- printing

/// `PrintResults`: maps and lists as JSON, the rest as Go's `fmt` prints
/// them, a space between the values of one action.
fn print_results(out: &mut String, results: &[V<'_>]) {
    for (i, r) in results.iter().enumerate() {
        match r {
            V::Json(v @ (Value::Object(_) | Value::Array(_))) => go_json(out, v),
            other => out.push_str(&go_text(other)),
        }
        if i + 1 != results.len() {
            out.push(' ');
        }
    }
}

/// `evalToText`: `fmt.Fprint` of the value.
fn go_text(v: &V<'_>) -> String {
    match v {
        V::Json(Value::Null) | V::Nil => "null".into(),
        other => go_sprint(other),
    }
}

/// `fmt.Sprint` of a value decoded as kubectl's unstructured objects are
/// (integers int64, other numbers float64, maps with sorted keys).
fn go_sprint(v: &V<'_>) -> String {
    match v {
        V::Json(j) => go_sprint_json(j),
        V::Str(s) => s.clone(),
        V::Int(i) => i.to_string(),
        V::Float(f) => go_float_v(*f),
        V::Bool(b) => b.to_string(),
        V::Byte(b) => b.to_string(),
        V::Nil => "<nil>".into(),
    }
}

fn go_sprint_json(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => go_float_v(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_sprint_json).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{k}:{}", go_sprint_json(&m[*k]))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` of a float64: strconv's `'g'` with the shortest digits, which
/// switches to an exponent below 1e-4 and from 1e6 (`1e+06`).
fn go_float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let (mantissa, exp) = shortest(f);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// Shortest round-trip digits as `d.ddd` and the decimal exponent.
fn shortest(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    (m.to_string(), e.parse().unwrap_or(0))
}

/// `encoding/json`'s Marshal: compact, keys sorted, `<>&` escaped, floats
/// without a needless `.0`.
fn go_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => go_json_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(out, x);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(out, k);
                out.push(':');
                go_json(out, &m[*k]);
            }
            out.push('}');
        }
    }
}

fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (m, e) = shortest(f);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{}", e.abs());
    }
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The Go type name in evaluation errors.
fn go_type(v: &V<'_>) -> &'static str {
    match v {
        V::Json(Value::Object(_)) => "map[string]interface {}",
        V::Json(Value::Array(_)) => "[]interface {}",
        V::Json(Value::String(_)) | V::Str(_) => "string",
        V::Json(Value::Number(n)) if n.as_i64().is_some() => "int64",
        V::Json(Value::Number(_)) => "float64",
        V::Json(Value::Bool(_)) | V::Bool(_) => "bool",
        V::Int(_) => "int",
        V::Float(_) => "float64",
        V::Byte(_) => "uint8",
        V::Json(Value::Null) | V::Nil => "<nil>",
    }
}

// --------------------------------------------------------- custom columns

/// `-o custom-columns=HEADER:PATH,...`: one column a `HEADER:PATH`.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    columns: Vec<(String, Template)>,
}

impl Columns {
    /// kubectl's `NewCustomColumnsPrinterFromSpec`.
    pub fn from_spec(spec: &str) -> Result<Columns, String> {
        if spec.is_empty() {
            return Err("custom-columns format specified but no custom columns given".into());
        }
        let mut columns = Vec::new();
        for part in spec.split(',') {
            let Some((header, path)) = part.split_once(':') else {
                return Err(format!("unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"));
            };
            columns.push((header.to_string(), relaxed(path)?));
        }
        Ok(Columns { columns })
    }

    /// kubectl's `NewCustomColumnsPrinterFromTemplate`: a line of headers,
    /// a line of paths, split on white space.
    pub fn from_file_text(text: &str) -> Result<Columns, String> {
        let mut lines = text.lines();
        let headers: Vec<&str> = lines
            .next()
            .ok_or("invalid template, missing header line. Expected format is one line of space separated headers, one line of space separated column specs.")?
            .split_whitespace()
            .collect();
        let specs: Vec<&str> = lines
            .next()
            .ok_or("invalid template, missing spec line. Expected format is one line of space separated headers, one line of space separated column specs.")?
            .split_whitespace()
            .collect();
        if headers.len() != specs.len() {
            return Err(format!(
                "number of headers ({}) and field specifications ({}) don't match",
                headers.len(),
                specs.len()
            ));
        }
        let mut columns = Vec::new();
        for (h, s) in headers.iter().zip(specs) {
            columns.push((h.to_string(), relaxed(s)?));
        }
        Ok(Columns { columns })
    }

    /// The table: a header line unless `no_headers`, then one line a row,
    /// through kubectl's tab writer (min width 6, padding 3).
    pub fn render(&self, rows: &[&Value], no_headers: bool) -> Result<String, String> {
        let mut lines: Vec<Vec<String>> = Vec::new();
        if !no_headers {
            let headers: Vec<&str> = self.columns.iter().map(|c| c.0.as_str()).collect();
            lines.push(headers.join("\t").split('\t').map(String::from).collect());
        }
        for row in rows {
            let mut cells = Vec::new();
            for (_, template) in &self.columns {
                let values = template.find(row)?;
                let mut strings: Vec<String> = Vec::new();
                if values.first().is_none_or(|v| v.is_empty()) {
                    strings.push("<none>".into());
                }
                for group in &values {
                    for v in group {
                        strings.push(go_sprint(v).replace('\x1b', "^[").replace('\r', "\\r"));
                    }
                }
                cells.push(strings.join(","));
            }
            // A tab inside a value starts a new cell, as it does for kubectl.
            lines.push(cells.join("\t").split('\t').map(String::from).collect());
        }
        Ok(tabwrite(&lines))
    }
}

/// kubectl's `RelaxedJSONPathExpression` (`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`):
/// `a.b`, `.a.b`, `{a.b}`, `{.a.b}` all become `{.a.b}`.
fn relaxed(path: &str) -> Result<Template, String> {
    const EXPECTED: &str =
        "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'";
    if path.is_empty() {
        return Template::parse(path);
    }
    let braced = path.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
    let inner = match braced {
        Some(b) if !b.is_empty() && !b.contains(['{', '}']) => b,
        _ if !path.contains(['{', '}']) => path,
        _ => return Err(EXPECTED.into()),
    };
    // `\.?` gives its dot back when nothing else is left for `[^{}]+`.
    let field = if inner.len() > 1 { inner.strip_prefix('.').unwrap_or(inner) } else { inner };
    Template::parse(&format!("{{.{field}}}"))
}

/// text/tabwriter with kubectl's settings: every cell but a line's last is
/// padded to its column's widest cell plus 3, and at least 6.
fn tabwrite(lines: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;
    let mut out = String::new();
    // Columns form blocks of consecutive lines that have a cell there; with
    // a column per line these are computed per block, as tabwriter does.
    let widths = column_widths(lines, 0, lines.len(), 0, MIN_WIDTH, PADDING);
    for (li, line) in lines.iter().enumerate() {
        for (ci, cell) in line.iter().enumerate() {
            if ci + 1 < line.len() {
                let w = widths.get(&(li, ci)).copied().unwrap_or(0);
                out.push_str(cell);
                out.push_str(&" ".repeat(w.saturating_sub(cell.chars().count())));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}

/// The width of each (line, column) cell that is tab-terminated.
fn column_widths(
    lines: &[Vec<String>],
    from: usize,
    to: usize,
    column: usize,
    min: usize,
    padding: usize,
) -> std::collections::HashMap<(usize, usize), usize> {
    let mut widths = std::collections::HashMap::new();
    let mut line = from;
    while line < to {
        if lines[line].len() <= column + 1 {
            line += 1;
            continue;
        }
        let start = line;
        let mut width = min;
        while line < to && lines[line].len() > column + 1 {
            width = width.max(lines[line][column].chars().count() + padding);
            line += 1;
        }
        for l in start..line {
            widths.insert((l, column), width);
        }
        widths.extend(column_widths(lines, start, line, column + 1, min, padding));
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(t: &str, doc: &Value) -> Result<String, String> {
        Template::parse(t)?.execute(doc)
    }

    fn doc() -> Value {
        json!({
            "kind": "PodCount",
            "nodes": [
                {"name": "a", "pods": 3, "allocatable": 110, "saturation": 0.027, "labels": {"zone": "z1"}},
                {"name": "b", "pods": 0, "allocatable": 110, "saturation": 0.0, "labels": {}},
                {"name": "c", "pods": 7, "allocatable": 10, "saturation": 0.7, "labels": {"zone": "z2"}}
            ],
            "totals": {"pods": 10, "ratio": 1.0, "big": 1e21, "html": "<a&b>"}
        })
    }

    #[test]
    fn kubectls_everyday_templates() {
        let d = doc();
        assert_eq!(run("{.nodes[*].name}", &d).unwrap(), "a b c");
        assert_eq!(run("{.totals.pods}", &d).unwrap(), "10");
        assert_eq!(run(r#"{range .nodes[*]}{.name}{"\t"}{.pods}{"\n"}{end}"#, &d).unwrap(), "a\t3\nb\t0\nc\t7\n");
        assert_eq!(run("{.nodes[?(@.pods > 2)].name}", &d).unwrap(), "a c");
        assert_eq!(run("{.nodes[?(@.labels.zone == 'z2')].name}", &d).unwrap(), "c");
        assert_eq!(run("{.nodes[-1:].name}", &d).unwrap(), "c");
        assert_eq!(run("{.nodes[0,2].name}", &d).unwrap(), "a c");
        assert_eq!(run("{.nodes[0]['name','pods']}", &d).unwrap(), "a 3");
        assert_eq!(run("pods: {.totals.pods} ", &d).unwrap(), "pods: 10 ");
        assert_eq!(run("{.nope}", &d).unwrap(), "");
        assert_eq!(run("{.nodes[0].labels}", &d).unwrap(), r#"{"zone":"z1"}"#);
        assert_eq!(run("{.totals.html}", &d).unwrap(), "<a&b>");
        assert_eq!(run("{.totals}", &d).unwrap(), r#"{"big":1e+21,"html":"\u003ca\u0026b\u003e","pods":10,"ratio":1}"#);
        assert_eq!(run("{.totals.ratio} {.totals.big}", &d).unwrap(), "1 1e+21");
        assert_eq!(run("{..zone}", &d).unwrap(), "z1 z2");
    }

    #[test]
    fn errors_say_what_go_says() {
        let d = doc();
        assert_eq!(Template::parse("{.nodes").unwrap_err(), "unclosed action");
        assert_eq!(Template::parse("{.nodes[0}").unwrap_err(), "unterminated array");
        assert_eq!(Template::parse("{.a[x]}").unwrap_err(), "invalid array index x");
        assert_eq!(Template::parse("{!}").unwrap_err(), "unrecognized character in action: U+0021 '!'");
        assert_eq!(run("{end}", &d).unwrap_err(), "not in range, nothing to end");
        assert_eq!(run("{.nodes[5]}", &d).unwrap_err(), "array index out of bounds: index 5, length 3");
        assert_eq!(run("{.totals[0]}", &d).unwrap_err(), "map[string]interface {} is not array or slice");
        assert_eq!(run("{.nodes[?(@.pods > 'x')]}", &d).unwrap_err(), "incompatible types for comparison");
        assert_eq!(run("{foo}", &d).unwrap_err(), "unrecognized identifier foo");
    }

    #[test]
    fn go_formats_floats_its_way() {
        for (f, v, j) in [
            (1e6, "1e+06", "1000000"),
            (123456789.0, "1.23456789e+08", "123456789"),
            (1e20, "1e+20", "100000000000000000000"),
            (1e21, "1e+21", "1e+21"),
            (0.00001, "1e-05", "0.00001"),
            (0.0001, "0.0001", "0.0001"),
            (0.9, "0.9", "0.9"),
            (1.0, "1", "1"),
            (100000.0, "100000", "100000"),
            (1234567.5, "1.2345675e+06", "1234567.5"),
        ] {
            assert_eq!(go_float_v(f), v, "{f}");
            assert_eq!(go_json_float(f), j, "{f}");
        }
    }

    #[test]
    fn custom_columns_as_kubectl_prints_them() {
        let d = doc();
        let rows: Vec<&Value> = d["nodes"].as_array().unwrap().iter().collect();
        let c = Columns::from_spec("NAME:.name,PODS:{.pods},ZONE:labels.zone").unwrap();
        assert_eq!(
            c.render(&rows, false).unwrap(),
            "NAME   PODS   ZONE\na      3      z1\nb      0      <none>\nc      7      z2\n"
        );
        let c = Columns::from_spec("N:.name,L:.labels").unwrap();
        assert_eq!(c.render(&rows[..1], true).unwrap(), "a     map[zone:z1]\n");
        assert!(Columns::from_spec("NAME").unwrap_err().contains("expected <header>:<json-path-expr>"));
        let f = Columns::from_file_text("NAME PODS\n.name .pods\n").unwrap();
        assert_eq!(f, Columns::from_spec("NAME:.name,PODS:.pods").unwrap());
    }
}
