//! The release, as far as it can run here: the workflows pass actionlint;
//! `.krew.yaml` (krew-release-bot's template) renders for five platforms into
//! a manifest krew's own validator accepts; a real krew installs the archive
//! `scripts/package` built, from a local file, into a throwaway KREW_ROOT; and
//! `kubectl podcount`, found by kubectl on that PATH, counts the test bed.
//! actionlint and krew are built from their Go modules and cached beside the
//! cluster program (~/.cache/kubectl-podcount/gobin).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{Cluster, Options, go_tool};

const BED: Options = Options {
    nodes: 3,
    pods: 40,
    no_pod_watch_cache: false,
    feature_gates: "",
    scheduler: false,
    fast_seed: false,
    controllers: false,
    kubelets: false,
};

const ACTIONLINT: &str = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12";
const KREW: &str = "sigs.k8s.io/krew/cmd/krew@v0.4.3";
const VALIDATOR: &str = "sigs.k8s.io/krew/cmd/validate-krew-manifest@v0.4.3";
const PLATFORMS: [(&str, &str, &str); 5] = [
    ("linux", "amd64", "tar.gz"),
    ("linux", "arm64", "tar.gz"),
    ("darwin", "amd64", "tar.gz"),
    ("darwin", "arm64", "tar.gz"),
    ("windows", "amd64", "zip"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("release-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

#[test]
fn the_workflows_pass_actionlint_and_it_catches_a_broken_one() {
    let lint = go_tool(ACTIONLINT);
    let workflows: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    assert!(workflows.len() >= 2, "the release and ci workflows: {workflows:?}");
    let out = run(Command::new(&lint).arg("-no-color").args(&workflows).current_dir(repo()));
    assert!(out.status.success(), "actionlint:\n{}{}", text(&out.stdout), text(&out.stderr));

    // Not a rubber stamp: a matrix key that does not exist is an error.
    let dir = tmp("actionlint");
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    let release = std::fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    let broken = release.replacen("${{ matrix.target }}", "${{ matrix.triple }}", 1);
    assert_ne!(broken, release);
    let path = dir.join(".github/workflows/release.yml");
    std::fs::write(&path, broken).unwrap();
    let out = run(Command::new(&lint).arg("-no-color").arg(&path).current_dir(&dir));
    assert!(!out.status.success(), "actionlint passed a workflow naming matrix.triple");
    assert!(text(&out.stdout).contains("triple"), "{}", text(&out.stdout));
}

/// The five platforms' checksum files: this machine's archive is real (the
/// debug build, packaged by scripts/package); the four others cannot be built
/// here, so they get stand-in checksums (distinct, well-formed).
fn package(out: &Path) -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kubectl-podcount"));
    let package = run(Command::new(repo().join("scripts/package"))
        .arg("x86_64-unknown-linux-gnu")
        .env("PODCOUNT_BIN", &bin)
        .current_dir(repo()));
    assert!(package.status.success(), "scripts/package: {}", text(&package.stderr));
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let archive = format!("kubectl-podcount-{version}-linux-amd64.tar.gz");
    let built = repo().join("target/package");
    std::fs::copy(built.join(&archive), out.join(&archive)).unwrap();
    let sha = std::fs::read_to_string(built.join(format!("{archive}.sha256"))).unwrap();
    assert!(sha.starts_with(|c: char| c.is_ascii_hexdigit()) && sha.contains(&archive), "{sha}");
    std::fs::write(out.join(format!("{archive}.sha256")), &sha).unwrap();
    for (i, (os, arch, ext)) in PLATFORMS.iter().enumerate().skip(1) {
        let name = format!("kubectl-podcount-{version}-{os}-{arch}.{ext}");
        std::fs::write(out.join(format!("{name}.sha256")), format!("{}  {name}\n", format!("{:x}", i + 10).repeat(64)))
            .unwrap();
    }
    out.join(archive)
}

fn render(tag: &str, dir: &Path) -> String {
    let out = run(Command::new(repo().join("scripts/krew-render")).arg(tag).arg(dir));
    assert!(out.status.success(), "scripts/krew-render: {}", text(&out.stderr));
    text(&out.stdout)
}

fn validate(manifest: &str, dir: &Path) -> Output {
    // krew's index names the file after the plugin.
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("podcount.yaml");
    std::fs::write(&path, manifest).unwrap();
    run(Command::new(go_tool(VALIDATOR)).arg("-skip-install").arg("-manifest").arg(&path))
}

#[test]
fn krew_validates_the_rendered_manifest_installs_the_archive_and_kubectl_runs_it() {
    let dir = tmp("krew");
    let archive = package(&dir);
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let manifest = render(&tag, &dir);

    // Five platforms, each with its own archive and checksum.
    for (os, arch, ext) in PLATFORMS {
        let uri = format!(
            "uri: https://github.com/kubectl-podcount/kubectl-podcount/releases/download/{tag}/kubectl-podcount-{tag}-{os}-{arch}.{ext}"
        );
        assert!(manifest.contains(&uri), "{uri} missing:\n{manifest}");
    }
    assert_eq!(manifest.matches("sha256: ").count(), 5);
    assert!(!manifest.contains("{{"), "unrendered template:\n{manifest}");
    assert!(manifest.contains(&format!("version: {tag}")));

    let out = validate(&manifest, &dir.join("good"));
    assert!(out.status.success(), "krew's validator: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("structural validation OK"), "{}", text(&out.stderr));
    let sha = manifest.lines().find_map(|l| l.trim().strip_prefix("sha256: ")).unwrap();
    let out = validate(&manifest.replace(sha, "not-a-checksum"), &dir.join("bad"));
    assert!(!out.status.success(), "the validator passed a broken checksum");

    // A real krew installs the local archive; kubectl finds the plugin on PATH.
    let krew_root = dir.join("krew-root");
    let out = run(Command::new(go_tool(KREW))
        .args(["install", "--manifest"])
        .arg(dir.join("good/podcount.yaml"))
        .arg("--archive")
        .arg(&archive)
        .env("KREW_ROOT", &krew_root)
        .stdin(std::process::Stdio::null()));
    assert!(out.status.success(), "krew install: {}{}", text(&out.stdout), text(&out.stderr));
    let said = text(&out.stderr);
    assert!(said.contains("Installed plugin: podcount"), "{said}");
    // The caveats say how to put the completion script on PATH, and it is where they say.
    assert!(said.contains("kubectl_complete-podcount"), "{said}");
    assert!(krew_root.join(format!("store/podcount/{tag}/kubectl_complete-podcount")).exists());

    let c = Cluster::shared(BED);
    let path = format!("{}:{}", krew_root.join("bin").display(), std::env::var("PATH").unwrap());
    let out = run(Command::new("kubectl")
        .args(["podcount", "-o", "json"])
        .env("PATH", &path)
        .env("KUBECONFIG", &c.kubeconfig));
    assert!(out.status.success(), "kubectl podcount through krew: {}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let truth = c.truth.as_ref().unwrap();
    assert_eq!(doc["totals"]["pods"], truth["counted"], "{doc}");
    for (name, want) in truth["nodes"].as_object().unwrap() {
        let node = doc["nodes"].as_array().unwrap().iter().find(|n| n["name"] == *name).unwrap();
        assert_eq!(node["pods"], want["pods"], "node {name}");
    }
    let which = run(Command::new("kubectl").args(["plugin", "list"]).env("PATH", &path));
    assert!(text(&which.stdout).contains(&krew_root.join("bin/kubectl-podcount").display().to_string()));
}

/// `cargo install kubectl-podcount` builds from the package: it holds the
/// sources, the lock file, the README (`docs` carries it) and the licence,
/// and none of the test bed.
#[test]
fn the_crate_package_holds_what_cargo_install_needs_and_not_the_test_bed() {
    let out =
        run(Command::new(env!("CARGO")).args(["package", "--list", "--allow-dirty", "--locked"]).current_dir(repo()));
    assert!(out.status.success(), "cargo package --list: {}", text(&out.stderr));
    let files = text(&out.stdout);
    for want in ["Cargo.toml", "Cargo.lock", "README.md", "LICENSE", "src/main.rs", "src/lib.rs"] {
        assert!(files.lines().any(|l| l == want), "{want} missing from the package:\n{files}");
    }
    for line in files.lines() {
        assert!(
            !line.starts_with("tests/") && !line.starts_with("target/") && !line.starts_with(".github/"),
            "{line} should not be in the package"
        );
    }
}
