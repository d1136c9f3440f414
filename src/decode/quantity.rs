//! Kubernetes quantities (`110`, `1k`, `2Ki`, `1e3`, `1500m`) as counts.

/// Parses a Kubernetes quantity as a whole count (`110`, `1k`, `2Ki`, `1e3`,
/// `1500m`), rounding down. None for anything that is not a quantity.
pub fn parse_count_quantity(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let value: f64 = num.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    let v = value * factor;
    (v.is_finite() && v >= 0.0).then(|| (v + 1e-9).floor() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_count_quantity("110"), Some(110));
        assert_eq!(parse_count_quantity("1k"), Some(1000));
        assert_eq!(parse_count_quantity("2Ki"), Some(2048));
        assert_eq!(parse_count_quantity("1e3"), Some(1000));
        assert_eq!(parse_count_quantity("1500m"), Some(1));
        assert_eq!(parse_count_quantity("0"), Some(0));
        assert_eq!(parse_count_quantity("abc"), None);
        assert_eq!(parse_count_quantity("-1"), None);
        assert_eq!(parse_count_quantity("12Q"), None);
    }
}
