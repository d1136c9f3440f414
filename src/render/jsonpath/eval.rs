//! Templates evaluated as client-go's `JSONPath.FindResults` walks the
//! document, and filters' comparisons as its `template` package makes them.

use super::print::{go_sprint, go_type, print_results};
use super::*;

/// A value in flight: a place in the document, or a literal of the template.
#[derive(Clone, Debug)]
pub(super) enum V<'a> {
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
pub(super) type Results<'a> = Vec<V<'a>>;

pub(super) struct Run {
    pub(super) begin_range: i32,
    pub(super) in_range: i32,
    pub(super) end_range: i32,
    pub(super) last_end: Option<usize>,
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
    pub(super) fn find<'a>(&self, data: &'a Value) -> Result<Vec<Results<'a>>, String> {
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

pub(super) fn field<'a>(input: &[V<'a>], name: &str) -> Vec<V<'a>> {
    input
        .iter()
        .filter_map(|v| match v {
            V::Json(Value::Object(m)) => m.get(name).map(V::Json),
            _ => None,
        })
        .collect()
}

pub(super) fn array<'a>(input: &[V<'a>], node: &[Param; 3]) -> Result<Vec<V<'a>>, String> {
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
pub(super) fn children<'a>(v: &V<'a>) -> Vec<V<'a>> {
    match v {
        V::Json(Value::Object(m)) => m.values().map(V::Json).collect(),
        V::Json(Value::Array(a)) => a.iter().map(V::Json).collect(),
        V::Json(Value::String(s)) => s.bytes().map(V::Byte).collect(),
        V::Str(s) => s.bytes().map(V::Byte).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn recursive<'a>(input: &[V<'a>]) -> Vec<V<'a>> {
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
pub(super) enum Kind {
    Bool,
    Int,
    Uint,
    Float,
    Str,
}

pub(super) enum Scalar<'s> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'s str),
}

pub(super) fn scalar<'s>(v: &'s V<'_>) -> Result<Scalar<'s>, String> {
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

pub(super) fn kind(s: &Scalar<'_>) -> Kind {
    match s {
        Scalar::Bool(_) => Kind::Bool,
        Scalar::Int(_) => Kind::Int,
        Scalar::Uint(_) => Kind::Uint,
        Scalar::Float(_) => Kind::Float,
        Scalar::Str(_) => Kind::Str,
    }
}

/// The forked text/template `eq`.
pub(super) fn equal(a: &V<'_>, b: &V<'_>) -> Result<bool, String> {
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
pub(super) fn less(a: &V<'_>, b: &V<'_>) -> Result<bool, String> {
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
