//! krew-manifest.yaml passes krew's own validator (built from the Go module
//! proxy), and the validator is shown to reject a broken copy.

use std::path::{Path, PathBuf};
use std::process::Command;

const VALIDATOR: &str = "sigs.k8s.io/krew/cmd/validate-krew-manifest@v0.4.3";

fn validator() -> PathBuf {
    let gobin = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gobin");
    let bin = gobin.join("validate-krew-manifest");
    if !bin.exists() {
        let status = Command::new("go")
            .args(["install", VALIDATOR])
            .env("GOBIN", &gobin)
            .env("GOFLAGS", "-buildvcs=false")
            .env("GOTOOLCHAIN", "local")
            .status()
            .expect("run go install");
        assert!(status.success(), "go install {VALIDATOR} failed");
    }
    bin
}

/// Validates `manifest` as krew's index would (named after the plugin).
fn validate(manifest: &str, dir: &Path) -> std::process::Output {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("podcount.yaml");
    std::fs::write(&path, manifest).unwrap();
    Command::new(validator()).arg("-skip-install").arg("-manifest").arg(&path).output().unwrap()
}

#[test]
fn manifest_passes_krews_validator() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/krew-manifest.yaml")).unwrap();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("krew");
    let out = validate(&manifest, &tmp.join("good"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("structural validation OK"));

    // The validator is not a rubber stamp: a bad checksum fails.
    let sha = manifest.lines().find_map(|l| l.trim().strip_prefix("sha256: ")).expect("a sha256 line");
    let out = validate(&manifest.replace(sha, "not-a-checksum"), &tmp.join("bad"));
    assert!(!out.status.success(), "a broken manifest passed validation");

    // The manifest names the binary kubectl runs as `kubectl podcount`.
    assert!(manifest.contains("bin: kubectl-podcount"));
    let version = format!("version: v{}", env!("CARGO_PKG_VERSION"));
    assert!(manifest.contains(&version), "manifest version differs from Cargo.toml: run scripts/package");
}
