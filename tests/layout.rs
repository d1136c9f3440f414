//! The layout the README promises: imports run one way, `cli` → the
//! commands (`count`, `watch`, `bench`) → `source`, `render` → `report` →
//! `client`, `decode` → `model` (a printer reads rows; rows never know
//! their printer), and no folder imports one above it (tests included);
//! inside `model`, the pure core, no file imports back in a circle. Read
//! from the source text, so a `use` that climbs fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each folder's layer: a folder may import its own layer's other folders
/// only where listed in `SIDEWAYS`, and any layer below.
const LAYERS: [(&str, u8); 10] = [
    ("cli", 0),
    ("count", 1),
    ("watch", 1),
    ("bench", 1),
    ("source", 2),
    ("render", 2),
    ("report", 3),
    ("client", 4),
    ("decode", 4),
    ("model", 5),
];

/// Same-layer imports that are part of the design. `watch --lose-each`
/// asks, a value at a time, exactly what `count --lose` answers
/// (`count::what_if`), so that the two cannot drift.
const SIDEWAYS: [(&str, &str); 2] = [("client", "decode"), ("watch", "count")];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `crate::NAME` (and, in `model`, `super::NAME`) paths a file's code
/// names, comments left out.
fn named(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let code = line.split(" //").next().unwrap_or(line);
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

#[test]
fn imports_run_one_way_and_model_has_no_circle() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let layer: BTreeMap<&str, u8> = LAYERS.into_iter().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut climbs = Vec::new();
    let mut model: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let folder = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let Some(&own) = layer.get(folder) else { continue };
        let text = std::fs::read_to_string(path).unwrap();
        for target in named(&text, "crate::") {
            let Some(&theirs) = layer.get(target.as_str()) else { continue };
            let sideways = own == theirs && target != folder && !SIDEWAYS.contains(&(folder, target.as_str()));
            if theirs < own || sideways {
                climbs.push(format!("{rel} imports crate::{target}"));
            }
        }
        if folder == "model" && rel != "model/mod.rs" {
            let me = rel.trim_start_matches("model/").split(['/', '.']).next().unwrap().to_string();
            let mut names = named(&text, "super::");
            names.extend(named(&text, "crate::model::"));
            names.remove(&me);
            model.entry(me).or_default().extend(names);
        }
    }
    assert!(climbs.is_empty(), "imports that climb back up:\n{}", climbs.join("\n"));
    // A circle among model's files: a walk that comes back to its start.
    for start in model.keys() {
        let mut stack = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            for next in model.get(path.last().unwrap()).into_iter().flatten() {
                assert!(next != start, "an import circle in model: {} -> {start}", path.join(" -> "));
                if model.contains_key(next) && !path.contains(next) {
                    stack.push([path.clone(), vec![next.clone()]].concat());
                }
            }
        }
    }
    assert!(model.len() > 10, "the walk saw model's files: {:?}", model.keys());
}
