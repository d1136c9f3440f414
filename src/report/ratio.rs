//! Ratios as every output writes them: four decimals.

/// A ratio as every output writes it: four decimals (0.9091, not
/// 0.9090909090909091).
pub fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// [`round4`] for serde, on an optional ratio.
pub fn serialize_round4<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_f64(round4(*v)),
        None => s.serialize_none(),
    }
}
