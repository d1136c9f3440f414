//! Shell completions generated from the clap definition, and the answers to
//! kubectl's plugin completion (kubectl >= 1.26 runs `kubectl_complete-podcount
//! WORDS... CURRENT` and reads Cobra's protocol: one candidate a line, then
//! `:DIRECTIVE`).

use clap::{Command, CommandFactory};
use clap_complete::Shell as GenShell;

use super::args::Cli;
use super::values::Shell;
use crate::client::connect::{ConnectOptions, targets};

/// The completion script for `shell`, for the `kubectl-podcount` binary.
pub fn script(shell: Shell) -> String {
    let gen_shell = match shell {
        Shell::Bash => GenShell::Bash,
        Shell::Zsh => GenShell::Zsh,
        Shell::Fish => GenShell::Fish,
        Shell::Powershell => GenShell::PowerShell,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(gen_shell, &mut cmd, "kubectl-podcount", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

/// Cobra directives.
const NO_FILE: u32 = 4;
const FILES: u32 = 0;

/// Candidates for the word being typed (the last of `words`).
pub fn candidates(words: &[String]) -> (Vec<String>, u32) {
    let root = Cli::command();
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    // The subcommand in play, if one was typed.
    let sub = before.iter().find_map(|w| root.find_subcommand(w).cloned());
    let cmd: &Command = sub.as_ref().unwrap_or(&root);

    if let Some(prev) = before.last()
        && let Some(arg) = flag(cmd, prev).filter(|a| a.get_action().takes_values())
    {
        let id = arg.get_id().as_str();
        return match id {
            "kubeconfig" => (vec![], FILES),
            "context" | "cluster" | "user" => (prefixed(kubeconfig_names(id, before), current), NO_FILE),
            "namespace" => (prefixed(namespaces(before), current), NO_FILE),
            "group_by" => {
                let aliases = crate::report::group::ALIASES.iter().map(|(a, _)| *a);
                (prefixed(aliases.chain(WELL_KNOWN_LABELS).map(String::from).collect(), current), NO_FILE)
            }
            "label_columns" => (prefixed(WELL_KNOWN_LABELS.iter().map(|s| s.to_string()).collect(), current), NO_FILE),
            _ => (
                prefixed(arg.get_possible_values().iter().map(|v| v.get_name().to_string()).collect(), current),
                NO_FILE,
            ),
        };
    }
    if current.starts_with('-') {
        let mut flags = Vec::new();
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(l) = a.get_long() {
                flags.push(format!("--{l}"));
            }
            if let Some(s) = a.get_short() {
                flags.push(format!("-{s}"));
            }
        }
        flags.push("--help".into());
        return (prefixed(flags, current), NO_FILE);
    }
    if sub.is_none() {
        let subs = root.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| s.get_name().to_string()).collect();
        return (prefixed(subs, current), NO_FILE);
    }
    if let Some(pos) = cmd.get_positionals().next() {
        let values = pos.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        return (prefixed(values, current), NO_FILE);
    }
    (vec![], NO_FILE)
}

/// Node labels most clusters set, offered for `--group-by` and `-L`.
const WELL_KNOWN_LABELS: [&str; 5] = [
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/arch",
    "kubernetes.io/os",
];

fn flag<'a>(cmd: &'a Command, word: &str) -> Option<&'a clap::Arg> {
    if let Some(long) = word.strip_prefix("--") {
        cmd.get_arguments().find(|a| a.get_long() == Some(long))
    } else if let Some(short) = word.strip_prefix('-').filter(|s| s.chars().count() == 1) {
        cmd.get_arguments().find(|a| a.get_short() == short.chars().next())
    } else {
        None
    }
}

fn prefixed(mut values: Vec<String>, current: &str) -> Vec<String> {
    values.retain(|v| v.starts_with(current));
    values
}

/// Context, cluster or user names from the kubeconfig the typed words point
/// at (`--kubeconfig P`), else from KUBECONFIG / ~/.kube/config.
fn kubeconfig_names(kind: &str, words: &[String]) -> Vec<String> {
    let path = words.windows(2).find(|w| w[0] == "--kubeconfig").map(|w| w[1].clone());
    let kc = match path {
        Some(p) => kube::config::Kubeconfig::read_from(p),
        None => kube::config::Kubeconfig::read(),
    };
    let Ok(kc) = kc else { return vec![] };
    match kind {
        "context" => kc.contexts.into_iter().map(|c| c.name).collect(),
        "cluster" => kc.clusters.into_iter().map(|c| c.name).collect(),
        _ => kc.auth_infos.into_iter().map(|u| u.name).collect(),
    }
}

/// The cluster's namespaces, for `-n`: through the kubeconfig, context,
/// cluster and user the typed words name, as kubectl's own completion does.
/// A shell waits on this, so it has a short bound; no answer is no candidates.
fn namespaces(words: &[String]) -> Vec<String> {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, ListParams};

    let value = |flag: &str| words.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone());
    let opts = ConnectOptions {
        kubeconfig: value("--kubeconfig").map(Into::into),
        contexts: value("--context").into_iter().collect(),
        cluster: value("--cluster"),
        user: value("--user"),
        request_timeout: Some(COMPLETION_BOUND),
        ..ConnectOptions::default()
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return vec![] };
    runtime.block_on(async {
        let list = async {
            let target = targets(&opts).await.ok()?.into_iter().next()?;
            let api: Api<Namespace> = Api::all(target.client);
            api.list_metadata(&ListParams::default().limit(1000)).await.ok()
        };
        match tokio::time::timeout(COMPLETION_BOUND, list).await {
            Ok(Some(l)) => l.items.into_iter().filter_map(|n| n.metadata.name).collect(),
            _ => vec![],
        }
    })
}

/// How long `-n <TAB>` may wait for the cluster.
const COMPLETION_BOUND: std::time::Duration = std::time::Duration::from_secs(5);

/// Cobra's output format.
pub fn render(words: &[String]) -> String {
    let (values, directive) = candidates(words);
    let mut out = String::new();
    for v in values {
        out.push_str(&v);
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn committed_completion_scripts_match_the_cli() {
        for (shell, ext) in
            [(Shell::Bash, "bash"), (Shell::Zsh, "zsh"), (Shell::Fish, "fish"), (Shell::Powershell, "powershell")]
        {
            let path = format!("{}/completions/kubectl-podcount.{ext}", env!("CARGO_MANIFEST_DIR"));
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(script(shell) == committed, "{path} is stale: run scripts/completions");
        }
    }

    #[test]
    fn completes_subcommands_flags_and_values() {
        assert_eq!(candidates(&w(&["c"])), (w(&["count", "completion"]), NO_FILE));
        let (flags, _) = candidates(&w(&["--sort"]));
        assert_eq!(flags, w(&["--sort-by"]));
        assert_eq!(candidates(&w(&["-o", "j"])).0, w(&["json", "jsonpath=", "jsonpath-file="]));
        assert_eq!(candidates(&w(&["-o", ""])).0.len(), 9);
        assert_eq!(candidates(&w(&["count", "--sort-by", "s"])).0, w(&["saturation"]));
        assert_eq!(candidates(&w(&["completion", "z"])).0, w(&["zsh"]));
        assert_eq!(candidates(&w(&["--kubeconfig", ""])), (vec![], FILES));
        assert!(candidates(&w(&["count", "--"])).0.contains(&"--max-saturation".to_string()));
        assert_eq!(render(&w(&["-o", "y"])), "yaml\n:4\n");
        assert_eq!(candidates(&w(&["watch", "--group-by", "z"])).0, w(&["zone"]));
        assert_eq!(candidates(&w(&["-L", "topology"])).0.len(), 2);
    }

    #[test]
    fn completes_contexts_from_the_named_kubeconfig() {
        let dir = std::env::temp_dir().join(format!("podcount-complete-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts:\n- name: prod\n  context: {cluster: c, user: u}\n- name: dev\n  context: {cluster: c, user: u}\n",
        )
        .unwrap();
        let p = path.to_string_lossy().to_string();
        assert_eq!(candidates(&w(&["--kubeconfig", &p, "--context", "p"])).0, w(&["prod"]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
