//! Label keys that look like one asked for: the hint when a `--group-by` or
//! `-L` label is on no node (a typo, or the other cloud's key).

/// Up to three of `keys` that look like `asked`, closest first: the same
/// name under another prefix (`zone` for `topology.kubernetes.io/zone`), one
/// or two edits apart (whole key or name), or one name containing the other;
/// within each, the fewest edits to the whole key first.
pub fn look_alikes<'k>(asked: &str, keys: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
    let asked = asked.to_ascii_lowercase();
    let name = |k: &str| k.rsplit('/').next().unwrap_or(k).to_string();
    let asked_name = name(&asked);
    let mut scored: Vec<(usize, usize, &str)> = keys
        .into_iter()
        .filter_map(|key| {
            let lower = key.to_ascii_lowercase();
            if lower == asked {
                return None;
            }
            let key_name = name(&lower);
            let whole = edit_distance(&asked, &lower);
            let edits = whole.min(edit_distance(&asked_name, &key_name));
            // Short names are one or two letters from anything.
            let allowed = match asked_name.len() {
                0..=2 => 0,
                3 => 1,
                _ => 2,
            };
            let contains = asked_name.len() >= 3
                && key_name.len() >= 3
                && (key_name.contains(&asked_name) || asked_name.contains(&key_name));
            let class = if key_name == asked_name {
                0
            } else if edits <= allowed {
                1
            } else if contains {
                2
            } else {
                return None;
            };
            Some((class, whole, key))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored.into_iter().take(3).map(|(.., k)| k).collect()
}

/// Levenshtein distance over bytes (label keys are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 7] = [
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "node.kubernetes.io/instance-type",
        "karpenter.sh/nodepool",
        "eks.amazonaws.com/nodegroup",
        "kubernetes.io/hostname",
        "team",
    ];

    #[test]
    fn the_same_name_under_another_prefix_comes_first() {
        assert_eq!(look_alikes("failure-domain.beta.kubernetes.io/zone", KEYS), ["topology.kubernetes.io/zone"]);
        assert_eq!(look_alikes("zone", KEYS), ["topology.kubernetes.io/zone"]);
    }

    #[test]
    fn typos_and_partial_names_are_found() {
        assert_eq!(look_alikes("topology.kubernetes.io/zoen", KEYS)[0], "topology.kubernetes.io/zone");
        assert_eq!(look_alikes("instance-type", KEYS), ["node.kubernetes.io/instance-type"]);
        assert_eq!(look_alikes("nodepool", KEYS), ["karpenter.sh/nodepool"]);
        assert_eq!(look_alikes("tema", KEYS), ["team"]);
    }

    #[test]
    fn nothing_alike_is_nothing() {
        assert!(look_alikes("gpu-vendor", KEYS).is_empty(), "{:?}", look_alikes("gpu-vendor", KEYS));
        assert!(look_alikes("x", ["y"]).is_empty());
    }

    #[test]
    fn edit_distance_is_levenshtein() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("zone", "zone"), 0);
    }
}
