//! The command line as a user meets it through kubectl, without a cluster:
//! help, bad input, and kubectl's plugin completion.

use std::path::PathBuf;
use std::process::{Command, Output};

fn kubectl(args: &[&str]) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kubectl-podcount"));
    let completions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions");
    let path = format!(
        "{}:{}:{}",
        bin.parent().unwrap().display(),
        completions.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // No kubeconfig anywhere: nothing here may need a cluster.
    Command::new("kubectl")
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("run kubectl")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn help_reads_kubectl_podcount_and_explains_the_rule_and_exit_codes() {
    let out = kubectl(&["podcount", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Usage: kubectl podcount [OPTIONS]"), "{help}");
    assert!(help.contains("neither Succeeded nor Failed"), "{help}");
    assert!(help.contains("3  cluster error"), "{help}");
    for flag in [
        "--kubeconfig",
        "--context",
        "--cluster",
        "--user",
        "--namespace",
        "--all-namespaces",
        "--selector",
        "--field-selector",
        "--request-timeout",
        "--output",
        "--chunk-size",
        "--max-saturation",
        "--min-free",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
    let out = kubectl(&["podcount", "count", "--help"]);
    assert!(text(&out.stdout).contains("Usage: kubectl podcount count [OPTIONS]"));
}

/// What krew search, crates.io and `--help` show first: it names what the
/// tool measures beyond pod slots.
#[test]
fn the_one_line_descriptions_say_resources_and_fits() {
    let out = kubectl(&["podcount", "--help"]);
    let help = text(&out.stdout);
    let first = help.lines().next().unwrap();
    assert!(first.contains("pod slots, cpu, memory, GPUs") && first.contains("more pods fit"), "{first}");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join(".krew.yaml")).unwrap();
    let short = manifest.lines().find_map(|l| l.trim().strip_prefix("shortDescription: ")).unwrap();
    let long = manifest.split("description: |").nth(1).unwrap().split("caveats:").next().unwrap().to_string();
    for (what, line) in
        [("krew shortDescription", short), ("krew description", &long), ("Cargo.toml", env!("CARGO_PKG_DESCRIPTION"))]
    {
        let line = line.replace('\n', " ");
        for word in ["cpu", "memory", "GPU", "fit"] {
            assert!(line.contains(word), "{what} does not say {word}: {line}");
        }
    }
}

#[test]
fn bad_flags_exit_2_with_one_clear_error() {
    let out = kubectl(&["podcount", "--sort-by", "size"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("invalid value 'size' for '--sort-by"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn a_missing_kubeconfig_is_a_configuration_error() {
    let out = kubectl(&["podcount"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: cannot load kubeconfig"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn kubectl_plugin_completion_uses_the_helper() {
    let out = kubectl(&["__complete", "podcount", "--sort-by", ""]);
    let got = text(&out.stdout);
    assert!(got.contains("saturation\n") && got.contains("free\n"), "{got}");
    let out = kubectl(&["__complete", "podcount", "--max-sat"]);
    assert!(text(&out.stdout).contains("--max-saturation"), "{}", text(&out.stdout));
}
