//! How a value is written in a table cell: percentages rounded down, `-`
//! for what is not known.

/// `41%`: rounded down, so 100% means full; `-` when unknown.
pub fn percent(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_string(), |s| format!("{}%", (s * 100.0 + 1e-9).floor() as i64))
}

/// A value, or `-` when unknown.
pub fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_round_down() {
        assert_eq!(percent(Some(109.0 / 110.0)), "99%");
        assert_eq!(percent(Some(1.0)), "100%");
        assert_eq!(percent(Some(0.29 * 100.0 / 100.0)), "29%");
        assert_eq!(percent(None), "-");
    }
}
