//! `-o jsonpath=TEMPLATE` and `-o custom-columns=SPEC` over the `podcount/v1`
//! document, in kubectl's dialect: client-go's `util/jsonpath` parser and
//! evaluator (ranges, filters, unions, slices, recursive descent, quoted
//! text), kubectl's printing (missing keys allowed; scalars as Go's `fmt`
//! prints them, maps and lists as `encoding/json` marshals them) and its
//! custom-columns printer (`<none>`, `,`-joined values, the tab writer).
//! This follows the Go code's control flow closely on purpose, quirks
//! included: `oracle.rs` runs the same templates through the Go code itself
//! and compares byte for byte. One file a stage: `parse`, `eval`, `print`
//! (Go-style), `columns`.

mod columns;
mod eval;
#[cfg(test)]
mod oracle;
mod parse;
mod print;

use serde_json::Value;

pub use columns::Columns;

/// A parsed template: the root's nodes (text and `{actions}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    root: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
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
pub(super) struct Param {
    pub(super) value: i64,
    pub(super) known: bool,
    pub(super) derived: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use print::*;
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
