//! `-o jsonpath=` and `-o custom-columns=` against Kubernetes' own code:
//! each template runs here and through client-go's jsonpath engine behind
//! cli-runtime's printers (the bed's Go program, `tests/cluster/ctl
//! printers`, run directly as `model/quantity_oracle.rs` runs its oracle)
//! over the same `podcount/v1` document (`testdata/podcount.json`: `count
//! -A --resources --fits cpu=100m,memory=128Mi -L kubernetes.io/hostname
//! --group-by zone -o json` of the seeded bed, 4 nodes and 60 pods, so it
//! has floats, nulls, nested maps and dotted keys). Outputs must agree byte
//! for byte, errors must be errors on both sides and say the same thing.

use serde_json::{Value, json};

use super::{Columns, Template};
use crate::test_oracle::ask;

fn document() -> Value {
    serde_json::from_str(include_str!("testdata/podcount.json")).unwrap()
}

/// Each case through the Go oracle: (out, error).
fn oracle(cases: &[Value]) -> Vec<(String, String)> {
    let questions: Vec<String> = cases.iter().map(Value::to_string).collect();
    ask("printers", &questions)
        .into_iter()
        .map(|v| (v["out"].as_str().unwrap().to_string(), v["error"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// How outputs are compared: in order, or as a multiset of words (Go walks
/// maps in random order for `*` and `..`).
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    Exact,
    Unordered,
}

fn same(cmp: Cmp, ours: &str, theirs: &str) -> bool {
    match cmp {
        Cmp::Exact => ours == theirs,
        Cmp::Unordered => {
            let words = |s: &str| {
                let mut w: Vec<String> = s.split_whitespace().map(String::from).collect();
                w.sort();
                w
            };
            words(ours) == words(theirs)
        }
    }
}

const TEMPLATES: &[(&str, Cmp)] = &[
    ("{.nodes[*].name}", Cmp::Exact),
    ("{.totals.pods}", Cmp::Exact),
    (r#"{range .nodes[*]}{.name}{"\t"}{.pods}{"\n"}{end}"#, Cmp::Exact),
    (r#"{range .groups[*]}{.name}: {range .resources.*}{.saturation} {end}{"\n"}{end}"#, Cmp::Unordered),
    ("{.nodes[?(@.pods > 5)].name}", Cmp::Exact),
    ("{.nodes[?(@.pods >= 2)].name} {.nodes[?(@.pods < 2)].name} {.nodes[?(@.pods <= 0)].name}", Cmp::Exact),
    ("{.nodes[?(@.ready == true)].name}", Cmp::Exact),
    ("{.nodes[?(@.status != 'Ready')].name}", Cmp::Exact),
    (r#"{.nodes[?(@.labels.topology\.kubernetes\.io/zone == "zone-a")].name}"#, Cmp::Exact),
    ("{.nodes[?(@.saturation > 0.01)].saturation}", Cmp::Exact),
    ("{.nodes[?(@.resources.cpu.saturation)].name}", Cmp::Exact),
    ("{.nodes[0]}", Cmp::Exact),
    ("{.nodes[-1:].name}", Cmp::Exact),
    ("{.nodes[1:3].name} {.nodes[::2].name} {.nodes[0,2].name} {.nodes[-2].name}", Cmp::Exact),
    ("{.nodes[0]['name','pods']} {.nodes[*]['free']}", Cmp::Exact),
    ("{.nodes[*].saturation} {.nodes[*].resources.cpu.requests}", Cmp::Exact),
    (r"{.nodes[*].resources.nvidia\.com/gpu}", Cmp::Exact),
    ("{.nodes[*].resources.memory.allocatable}", Cmp::Exact),
    ("{.totals}", Cmp::Exact),
    ("{.totals.resources.cpu.free} {.totals.fitsLimitedBy}", Cmp::Exact),
    ("{.filter} {.filter.namespace} {.nodes[3].resources.nvidia\\.com/gpu.saturation}", Cmp::Exact),
    ("{.fits} {.shapes}", Cmp::Exact),
    ("{.nope} {.nodes[*].nope} {.nodes[0].taints}", Cmp::Exact),
    ("pods=", Cmp::Exact),
    (r#"{.kind}{"/"}{.apiVersion}{'\t'}{"a\u00e9\x41\101"}"#, Cmp::Exact),
    ("{$.totals.pods} {@.kind} {3} {-1.5} {true} {.kind} ", Cmp::Exact),
    ("{.totals.*}", Cmp::Unordered),
    ("{..fullestNode}", Cmp::Unordered),
    ("{.nodes[0].labels.*}", Cmp::Unordered),
    ("{.groups[*].name}{.groups[0].fitsLimitedBy}", Cmp::Exact),
    ("{.saturationHistogram[*].range}", Cmp::Exact),
    (r#"{range .nodes[*]}{.name}{range .taints[*]} {.}{end}{"|"}{end}{.unscheduled}"#, Cmp::Exact),
    ("{.nodes[0:0].name}x{.nodes[?(@.nope)].name}", Cmp::Exact),
    ("{.}", Cmp::Exact),
    ("{@}", Cmp::Exact),
];

const BAD_TEMPLATES: &[&str] =
    &["{.nodes", "{.nodes[0}", "{.nodes[x]}", "{!}", "{....a}", r#"{"abc}"#, "{.nodes[?(@.pods > 1)}", "{.nodes[1.5]}"];

const FAILING_TEMPLATES: &[&str] = &[
    "{end}",
    "{.nodes[999]}",
    "{.totals[0]}",
    "{.nodes[?(@.name > 3)]}",
    "{.nodes[?(@.pods > 1.5)]}",
    "{foo}",
    "{.nodes[3:1]}",
    "{.nodes[0:2:0]}",
    "{.nodes[?(@.ready < true)]}",
    "{.nodes[?(@.resources == 1)]}",
];

/// The rows `-o custom-columns` prints: the document's nodes.
fn rows(doc: &Value) -> Vec<&Value> {
    doc["nodes"].as_array().unwrap().iter().collect()
}

#[test]
fn jsonpath_prints_what_kubectls_printer_prints() {
    let doc = document();
    let cases: Vec<Value> = TEMPLATES.iter().map(|(t, _)| json!({"doc": doc, "jsonpath": t})).collect();
    let theirs = oracle(&cases);
    let mut failures = Vec::new();
    for ((template, cmp), (want, err)) in TEMPLATES.iter().zip(&theirs) {
        assert!(err.is_empty(), "the oracle failed on {template}: {err}");
        match Template::parse(template).and_then(|t| t.execute(&doc)) {
            Ok(got) if same(*cmp, &got, want) => {}
            got => failures.push(format!("{template}\n  ours:    {got:?}\n  kubectl: {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), TEMPLATES.len(), failures.join("\n"));
}

#[test]
fn bad_and_failing_templates_fail_as_kubectls_do() {
    let doc = document();
    let all: Vec<&str> = BAD_TEMPLATES.iter().chain(FAILING_TEMPLATES).copied().collect();
    let cases: Vec<Value> = all.iter().map(|t| json!({"doc": doc, "jsonpath": t})).collect();
    let theirs = oracle(&cases);
    for (i, (template, (_, err))) in all.iter().zip(&theirs).enumerate() {
        assert!(!err.is_empty(), "kubectl's printer accepted {template}");
        // The bad ones fail to parse, the failing ones to execute; kubectl's
        // printer says the same reason inside its own wording.
        let why = match Template::parse(template) {
            Err(why) => {
                assert!(i < BAD_TEMPLATES.len(), "{template} should parse: {why}");
                why
            }
            Ok(t) => {
                assert!(i >= BAD_TEMPLATES.len(), "{template} should not parse");
                t.execute(&doc).expect_err(template)
            }
        };
        assert!(err.contains(&why), "{template}: ours says {why:?}, kubectl says {err:?}");
    }
}

#[test]
fn custom_columns_print_what_kubectls_printer_prints() {
    let doc = document();
    let specs: &[(&str, bool)] = &[
        ("NAME:.name,PODS:.pods,FREE:.free", false),
        ("NAME:{.name},SAT:saturation,CPU:{resources.cpu.saturation}", false),
        ("N:.name,TAINTS:.taints,LABELS:.labels", false),
        ("N:.name,NOPE:.nope,GPU:.resources.nvidia\\.com/gpu.saturation", true),
        ("N:.name,FITS:.fits,WHY:.fitsLimitedBy", false),
        ("N:.name,R:.resources.memory", false),
        ("A VERY LONG HEADER:.name,B:.status", false),
    ];
    let cases: Vec<Value> = specs.iter().map(|(s, nh)| json!({"doc": doc, "columns": s, "noHeaders": nh})).collect();
    let theirs = oracle(&cases);
    for ((spec, no_headers), (want, err)) in specs.iter().zip(&theirs) {
        assert!(err.is_empty(), "the oracle failed on {spec}: {err}");
        let got = Columns::from_spec(spec).and_then(|c| c.render(&rows(&doc), *no_headers));
        assert_eq!(got.as_deref(), Ok(want.as_str()), "{spec}");
    }
    // The file form: a line of headers, a line of paths.
    let want = oracle(&[json!({"doc": doc, "columns": "NAME:.name,PODS:.pods"})]);
    let got = Columns::from_file_text("NAME PODS\n.name .pods\n").and_then(|c| c.render(&rows(&doc), false));
    assert_eq!(got.as_deref(), Ok(want[0].0.as_str()));
    // Bad specs are errors, as kubectl's are.
    for bad in ["NAME", "N:{a}{b}", ""] {
        let theirs = oracle(&[json!({"doc": doc, "columns": bad})]);
        assert!(!theirs[0].1.is_empty(), "kubectl accepted {bad:?}");
        assert!(Columns::from_spec(bad).is_err(), "{bad:?}");
    }
}
