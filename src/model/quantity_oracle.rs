//! Quantities against apimachinery's own parser: thousands of generated
//! strings over the whole grammar (every suffix, exponents, fractions,
//! signs, leading zeros, extremes and garbage) are parsed by podcount and by
//! `resource.ParseQuantity` compiled from the test bed's Go modules
//! (`tests/cluster/ctl quantity`), and must agree: the same strings refused,
//! the same exact value in nanounits, the same `Value()` and `MilliValue()`
//! wherever apimachinery's int64 does not overflow.

use super::quantity::{Quantity, QuantityError};
use crate::test_oracle::ask;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

fn oracle(inputs: &[String]) -> Vec<Value> {
    ask("quantity", inputs)
}

/// A quantity-shaped string: mostly valid, sometimes near-valid.
fn quantity() -> impl Strategy<Value = String> {
    let sign = prop_oneof![8 => Just(""), 1 => Just("+"), 1 => Just("-")];
    let int = prop_oneof![
        3 => "[1-9][0-9]{0,5}",
        1 => "0{0,3}[0-9]{0,25}",
        1 => "[0-9]{18,21}",
    ];
    let frac = prop_oneof![4 => Just(String::new()), 2 => "\\.[0-9]{0,12}", 1 => "\\.[0-9]{0,40}"];
    let exp = (-45i32..45).prop_map(|e| e.to_string());
    let suffix = prop_oneof![
        3 => prop::sample::select(vec!["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"])
            .prop_map(String::from),
        2 => (prop::sample::select(vec!["e", "E", "e+", "E-", "e-"]), exp).prop_map(|(e, n)| format!("{e}{n}")),
        1 => "[eEinumkKMGTPB+\\-. x0-9]{0,4}",
    ];
    (sign, int, frac, suffix).prop_map(|(s, i, f, x)| format!("{s}{i}{f}{x}"))
}

/// Edges the generator may miss: caps, rounding below a nanounit, the
/// scanner's quirks.
const EDGES: &[&str] = &[
    "0",
    "+",
    "-",
    ".",
    "-.",
    ".e3",
    "1.",
    "1.G",
    ".5",
    "0.1n",
    "-0.1n",
    "1n",
    "1.5n",
    "9Ei",
    "8Ei",
    "7Ei",
    "9223372036854775807Ki",
    "9223372036854775807",
    "9223372036854775808",
    "9223372036854775807m",
    "99999999999999999999999999Ei",
    "1e",
    "1E",
    "1ee3",
    "1e+",
    "1e3e",
    "1K",
    "1KiB",
    "1mi",
    "1 ",
    " 1",
    "",
    "1e4294967296",
    "1e-4294967296",
    "0.000000000000000000000000001",
    "1E-9",
    "1E-10",
    "123456789.123456789123",
    "3145728e3",
    "608u",
    "1e31",
    "1e29",
    "170141183460469231731",
    "1e21Ki",
];

#[test]
fn quantities_parse_as_apimachinery_parses_them() {
    let mut runner =
        TestRunner::new(Config { rng_algorithm: prop::test_runner::RngAlgorithm::ChaCha, ..Config::default() });
    let strategy = quantity();
    let mut inputs: Vec<String> = EDGES.iter().map(|s| s.to_string()).collect();
    for _ in 0..6000 {
        inputs.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    let answers = oracle(&inputs);
    let mut failures = Vec::new();
    let mut exact = 0;
    for (s, go) in inputs.iter().zip(&answers) {
        let ours = Quantity::parse(s);
        let verdict = match (go["ok"].as_bool().unwrap(), ours) {
            (false, Err(QuantityError::TooLarge)) => Some("we refuse as too large what Go refuses".to_string()),
            (false, Err(_)) => None,
            (false, Ok(q)) => Some(format!("Go refuses ({}), we read {} nanos", go["error"], q.nanos())),
            (true, Err(QuantityError::TooLarge)) => {
                let nanos = go["nanos"].as_str().unwrap();
                let digits = nanos.trim_start_matches('-').len();
                // i128 holds up to 39 digits (1.7e38): refusing beyond is our documented bound.
                (digits < 39).then(|| format!("we refuse as too large, Go reads {nanos} nanos"))
            }
            (true, Err(e)) => Some(format!("Go reads {} nanos, we refuse: {e:?}", go["nanos"])),
            (true, Ok(q)) => {
                let go_nanos: i128 = go["nanos"].as_str().unwrap().parse().unwrap();
                if go_nanos != q.nanos() {
                    Some(format!("Go reads {go_nanos} nanos, we {}", q.nanos()))
                } else {
                    exact += 1;
                    // Value()/MilliValue() where Go's int64 holds them (and for
                    // non-negative values: Go rounds negatives two ways).
                    let fits = q.nanos() >= 0 && q.milli_ceil() <= i128::from(i64::MAX);
                    let (value, milli) = (go["value"].as_i64().unwrap(), go["milli"].as_i64().unwrap());
                    (fits && (i128::from(value), i128::from(milli)) != (q.value_ceil(), q.milli_ceil())).then(|| {
                        format!("Value/MilliValue: Go {value}/{milli}, we {}/{}", q.value_ceil(), q.milli_ceil())
                    })
                }
            }
        };
        if let Some(v) = verdict {
            failures.push(format!("{s:?}: {v}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} disagree:\n{}", failures.len(), inputs.len(), failures.join("\n"));
    // The generator must mostly make quantities, not garbage.
    assert!(exact > inputs.len() / 2, "only {exact} of {} parsed", inputs.len());
}
