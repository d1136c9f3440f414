//! `-o jsonpath=` and `-o custom-columns=` against Kubernetes' own code: each
//! template runs through `kubectl podcount` on the test bed, and through
//! client-go's jsonpath engine behind cli-runtime's printers (the bed's Go
//! program, `ctl printers`) over the `-o json` document of the same cluster.
//! Outputs must agree byte for byte, errors must be errors on both sides and
//! say the same thing. Two runs differ only in `observedAt` and the
//! resourceVersions (the apiserver renews its leases), so those are masked.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::{Cluster, Options, podcount_cmd, stderr};

const BED: Options = Options {
    nodes: 4,
    pods: 60,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
};

/// The flags every run shares: resources, a fits shape, a label column and
/// groups, so the document has floats, nulls, nested maps and dotted keys.
const FLAGS: [&str; 8] =
    ["-A", "--resources", "--fits", "cpu=100m,memory=128Mi", "-L", "kubernetes.io/hostname", "--group-by", "zone"];

/// How outputs are compared: in order, or as a multiset of words (Go walks
/// maps in random order for `*` and `..`).
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    Exact,
    Unordered,
}

fn flags() -> Vec<&'static str> {
    FLAGS.to_vec()
}

fn document(c: &Cluster) -> Value {
    let mut args = flags();
    args.extend(["-o", "json"]);
    let out = podcount_cmd(&c.kubeconfig, &args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each case through the Go oracle: (out, error).
fn oracle(cases: &[Value]) -> Vec<(String, String)> {
    let bin = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/ctl");
    let mut child = Command::new(bin)
        .arg("printers")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for c in cases {
        input.push_str(&c.to_string());
        input.push('\n');
    }
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "ctl printers failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["out"].as_str().unwrap().to_string(), v["error"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

/// Timestamps and resourceVersions, which differ from run to run.
fn mask(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let digits = |r: std::ops::Range<usize>| r.end <= b.len() && b[r].iter().all(u8::is_ascii_digit);
    while i < b.len() {
        // 2026-12-06T07:10:31.349Z
        if i + 20 <= b.len()
            && digits(i..i + 4)
            && b[i + 4] == b'-'
            && digits(i + 5..i + 7)
            && b[i + 10] == b'T'
            && digits(i + 11..i + 13)
            && b[i + 13] == b':'
        {
            let end = s[i..].find('Z').map_or(b.len(), |z| i + z + 1);
            out.push_str("<time>");
            i = end;
            continue;
        }
        for key in ["esourceVersion\":\"", "esourceVersion:"] {
            if s[i..].starts_with(key) {
                out.push_str(key);
                i += key.len();
                let n = s[i..].bytes().take_while(u8::is_ascii_digit).count();
                out.push_str("<rv>");
                i += n;
            }
        }
        if i < b.len() {
            let c = s[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn same(cmp: Cmp, ours: &str, theirs: &str) -> bool {
    match cmp {
        Cmp::Exact => mask(ours) == mask(theirs),
        Cmp::Unordered => {
            let words = |s: &str| {
                let mut w: Vec<String> = mask(s).split_whitespace().map(String::from).collect();
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

fn ours(c: &Cluster, output: &str, extra: &[&str]) -> std::process::Output {
    let mut args = flags();
    args.extend(extra);
    let o = format!("--output={output}");
    args.push(&o);
    podcount_cmd(&c.kubeconfig, &args).output().unwrap()
}

#[test]
fn jsonpath_prints_what_kubectls_printer_prints() {
    let c = Cluster::shared(BED);
    let doc = document(c);
    let cases: Vec<Value> = TEMPLATES.iter().map(|(t, _)| json!({"doc": doc, "jsonpath": t})).collect();
    let theirs = oracle(&cases);
    let mut failures = Vec::new();
    for ((template, cmp), (want, err)) in TEMPLATES.iter().zip(&theirs) {
        assert!(err.is_empty(), "the oracle failed on {template}: {err}");
        let out = ours(c, &format!("jsonpath={template}"), &[]);
        let got = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !same(*cmp, &got, want) {
            failures.push(format!("{template}\n  ours:   {got:?} ({})\n  kubectl: {want:?}", stderr(&out).trim()));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), TEMPLATES.len(), failures.join("\n"));
}

#[test]
fn bad_and_failing_templates_fail_as_kubectls_do() {
    let c = Cluster::shared(BED);
    let doc = document(c);
    let all: Vec<&str> = BAD_TEMPLATES.iter().chain(FAILING_TEMPLATES).copied().collect();
    let cases: Vec<Value> = all.iter().map(|t| json!({"doc": doc, "jsonpath": t})).collect();
    let theirs = oracle(&cases);
    for (i, (template, (_, err))) in all.iter().zip(&theirs).enumerate() {
        assert!(!err.is_empty(), "kubectl's printer accepted {template}");
        let out = ours(c, &format!("jsonpath={template}"), &[]);
        assert_eq!(out.status.code(), Some(2), "{template}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{template}: printed {:?}", String::from_utf8_lossy(&out.stdout));
        let said = stderr(&out);
        // Ours: `error: error parsing jsonpath T, WHY` or `error: error executing jsonpath: WHY`;
        // kubectl's printer says WHY inside its own wording.
        let first = said.lines().next().unwrap_or_default();
        let why = first.rsplit_once(if i < BAD_TEMPLATES.len() { ", " } else { ": " }).unwrap().1;
        assert!(err.contains(why), "{template}: ours says {said:?}, kubectl says {err:?}");
        assert!(!said.contains("panicked"), "{said}");
    }
}

#[test]
fn custom_columns_print_what_kubectls_printer_prints() {
    let c = Cluster::shared(BED);
    let doc = document(c);
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
        let extra: &[&str] = if *no_headers { &["--no-headers"] } else { &[] };
        let out = ours(c, &format!("custom-columns={spec}"), extra);
        assert!(out.status.success(), "{spec}: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), *want, "{spec}");
    }
    // The file form: a line of headers, a line of paths.
    let file = std::env::temp_dir().join(format!("podcount-columns-{}", std::process::id()));
    std::fs::write(&file, "NAME PODS\n.name .pods\n").unwrap();
    let out = ours(c, &format!("custom-columns-file={}", file.display()), &[]);
    let want = oracle(&[json!({"doc": doc, "columns": "NAME:.name,PODS:.pods"})]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), want[0].0);
    // Bad specs are usage errors, as kubectl's are errors.
    for bad in ["NAME", "N:{a}{b}", ""] {
        let theirs = oracle(&[json!({"doc": doc, "columns": bad})]);
        assert!(!theirs[0].1.is_empty(), "kubectl accepted {bad:?}");
        let out = ours(c, &format!("custom-columns={bad}"), &[]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
}
