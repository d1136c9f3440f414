//! Results printed as kubectl prints them: scalars as Go's `fmt`, maps and
//! lists as `encoding/json` marshals them.

use super::eval::V;
use super::*;

/// `PrintResults`: maps and lists as JSON, the rest as Go's `fmt` prints
/// them, a space between the values of one action.
pub(super) fn print_results(out: &mut String, results: &[V<'_>]) {
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
pub(super) fn go_text(v: &V<'_>) -> String {
    match v {
        V::Json(Value::Null) | V::Nil => "null".into(),
        other => go_sprint(other),
    }
}

/// `fmt.Sprint` of a value decoded as kubectl's unstructured objects are
/// (integers int64, other numbers float64, maps with sorted keys).
pub(super) fn go_sprint(v: &V<'_>) -> String {
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

pub(super) fn go_sprint_json(v: &Value) -> String {
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
pub(super) fn go_float_v(f: f64) -> String {
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
pub(super) fn shortest(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    (m.to_string(), e.parse().unwrap_or(0))
}

/// `encoding/json`'s Marshal: compact, keys sorted, `<>&` escaped, floats
/// without a needless `.0`.
pub(super) fn go_json(out: &mut String, v: &Value) {
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

pub(super) fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (m, e) = shortest(f);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{}", e.abs());
    }
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

pub(super) fn go_json_string(out: &mut String, s: &str) {
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
pub(super) fn go_type(v: &V<'_>) -> &'static str {
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
