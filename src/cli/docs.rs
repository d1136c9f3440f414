//! `kubectl podcount docs TOPIC`: the README's sections, carried in the
//! binary, so a message can point at help a krew install has (krew ships the
//! binary, not the README).

/// The README as built; each topic names one of its headings.
const README: &str = include_str!("../../README.md");

/// Topic, heading, what it answers.
pub const TOPICS: &[(&str, &str, &str)] = &[
    ("counting", "The counting rule", "which pods count against a node"),
    ("resources", "Resources: cpu, memory, GPUs", "the scheduler's request rule (--resources)"),
    ("fits", "Will it fit: --fits", "how many more pods land, exact or a bound"),
    ("what-if", "What if: --drain and --lose", "what draining or losing nodes displaces, and where it lands"),
    ("outputs", "Outputs", "table, wide, json, yaml, csv, jsonpath, custom-columns"),
    ("exit-codes", "Exit codes", "what each exit code means"),
    ("serving", "Serving in a cluster securely", "watch --listen with TLS, TokenReview and SubjectAccessReview"),
    ("rbac", "RBAC", "the verbs on the resources each command needs"),
    ("reading", "How it reads the cluster", "requests, retries, timeouts and what each bound is"),
    ("proxies", "Proxies and credentials", "HTTPS_PROXY, NO_PROXY, proxy-url, tokenFile"),
    ("troubleshooting", "Troubleshooting", "common errors and what to do"),
];

/// The text `docs` prints for `topic` (`None`: the list of topics); an
/// unknown topic is a usage error naming the known ones.
pub fn render(topic: Option<&str>) -> Result<String, String> {
    let Some(topic) = topic else {
        let mut out = String::from("Topics (kubectl podcount docs TOPIC):\n");
        for (name, _, what) in TOPICS {
            out.push_str(&format!("  {name:<16} {what}\n"));
        }
        return Ok(out);
    };
    let names = || TOPICS.iter().map(|t| t.0).collect::<Vec<_>>().join(", ");
    let (_, heading, _) =
        TOPICS.iter().find(|t| t.0 == topic).ok_or_else(|| format!("no docs topic {topic:?}; topics: {}", names()))?;
    section(README, heading).ok_or_else(|| format!("docs topic {topic:?}: the README has no heading {heading:?}"))
}

/// The section under a Markdown heading, up to the next heading of the same
/// or a higher level (fenced code is not searched for headings).
fn section(doc: &str, heading: &str) -> Option<String> {
    let mut level = None;
    let mut out = String::new();
    let mut fenced = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let hashes = if fenced { 0 } else { line.chars().take_while(|&c| c == '#').count() };
        let is_heading = hashes > 0 && line[hashes..].starts_with(' ');
        match level {
            None if is_heading && line[hashes..].trim() == heading => {
                level = Some(hashes);
                out.push_str(line);
                out.push('\n');
            }
            Some(l) if is_heading && hashes <= l => break,
            Some(_) => {
                out.push_str(line);
                out.push('\n');
            }
            None => {}
        }
    }
    level.map(|_| out.trim_end().to_string() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_is_a_heading_of_the_readme() {
        for (name, heading, _) in TOPICS {
            let text = render(Some(name)).unwrap_or_else(|e| panic!("{e}"));
            assert!(text.lines().next().unwrap().ends_with(heading), "{name}: {text}");
            assert!(text.lines().count() > 3, "{name} is only a heading");
        }
    }

    #[test]
    fn a_section_ends_at_the_next_heading_of_its_level() {
        let doc = "# A\nx\n## B\ny\n```\n# not a heading\n```\n### C\nz\n## D\nw\n";
        assert_eq!(section(doc, "B").unwrap(), "## B\ny\n```\n# not a heading\n```\n### C\nz\n");
        assert_eq!(section(doc, "D").unwrap(), "## D\nw\n");
        assert!(section(doc, "E").is_none());
    }

    #[test]
    fn an_unknown_topic_names_the_known_ones() {
        let e = render(Some("rabc")).unwrap_err();
        assert!(e.contains("\"rabc\"") && e.contains("rbac, reading"), "{e}");
        assert!(render(None).unwrap().contains("rbac"));
    }

    /// Every `kubectl podcount docs X` a message or help text names exists.
    #[test]
    fn every_docs_topic_the_code_names_exists() {
        let sources = [
            include_str!("help.rs"),
            include_str!("../client/http.rs"),
            include_str!("../error.rs"),
            include_str!("../source/informer/wire.rs"),
            include_str!("../../.krew.yaml"),
        ];
        let mut seen = 0;
        for text in sources {
            for (i, _) in text.match_indices("kubectl podcount docs ") {
                let topic: String =
                    text[i + 22..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '-').collect();
                if topic.is_empty() {
                    continue;
                }
                assert!(TOPICS.iter().any(|t| t.0 == topic), "unknown docs topic {topic:?}");
                seen += 1;
            }
        }
        assert!(seen >= 3, "only {seen} references found");
    }
}
