//! Kubernetes quantities, exactly: the whole grammar of apimachinery's
//! `ParseQuantity` (`n u m "" k M G T P E`, `Ki`…`Ei`, `e`/`E` exponents,
//! fractions, signs), held in nanounits with no floats, and rounded the way
//! the scheduler rounds (`MilliValue`, `Value`: up).
//!
//! Parsing follows apimachinery v0.37 (`quantity.go`, `suffix.go`): the value
//! is computed exactly, rounded up (away from zero) to a whole nanounit, and
//! a binary-suffixed value is capped at 2^63-1 units. A value beyond what
//! nanounits in an i128 hold (about 1.7e29 units) is refused as too large;
//! apimachinery accepts it but its `Value()` overflows anyway.

use std::fmt;

/// Nanounits in one unit.
const NANO: i128 = 1_000_000_000;

/// A quantity, exactly, in nanounits (10^-9 of the base unit: cores, bytes,
/// devices).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i128);

/// Why a string is not a quantity (apimachinery's three errors, and ours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantityError {
    /// Not `<number><suffix>` (`ErrFormatWrong`).
    Format,
    /// The number cannot be read (`ErrNumeric`).
    Numeric,
    /// The suffix is none of the known ones (`ErrSuffix`).
    Suffix,
    /// Parses, but is larger than anything a cluster holds (over ~1.7e29).
    TooLarge,
}

/// What the grammar accepts, for messages.
pub const GRAMMAR: &str = "a Kubernetes quantity: a number with an optional suffix n, u, m, k, M, G, T, P, E, \
    Ki, Mi, Gi, Ti, Pi, Ei or an exponent e3 / E-2 (such as 500m, 1.5, 8Gi, 1e9)";

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantityError::Format | QuantityError::Numeric | QuantityError::Suffix => {
                write!(f, "not {GRAMMAR}")
            }
            QuantityError::TooLarge => f.write_str("too large a quantity"),
        }
    }
}

impl std::error::Error for QuantityError {}

/// Characters apimachinery's scanner takes as the start of a suffix.
const SUFFIX_CHARS: &[u8] = b"eEinumkKMGTP";

/// How the suffix scales the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// × 10^n (decimal suffixes and exponents).
    Ten(i32),
    /// × 2^n (binary suffixes).
    Two(u32),
}

/// apimachinery's suffix table (`fastLookup` and `newSuffixer`).
fn interpret(suffix: &[u8]) -> Option<Scale> {
    let ten = |n| Some(Scale::Ten(n));
    match suffix {
        b"" => ten(0),
        b"n" => ten(-9),
        b"u" => ten(-6),
        b"m" => ten(-3),
        b"k" => ten(3),
        b"M" => ten(6),
        b"G" => ten(9),
        b"T" => ten(12),
        b"P" => ten(15),
        b"E" => ten(18),
        b"Ki" => Some(Scale::Two(10)),
        b"Mi" => Some(Scale::Two(20)),
        b"Gi" => Some(Scale::Two(30)),
        b"Ti" => Some(Scale::Two(40)),
        b"Pi" => Some(Scale::Two(50)),
        b"Ei" => Some(Scale::Two(60)),
        [b'e' | b'E', rest @ ..] if !rest.is_empty() => {
            // strconv.ParseInt(rest, 10, 64), then int32(parsed): Go
            // truncates an exponent beyond int32 the same way.
            let text = std::str::from_utf8(rest).ok()?;
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            ten(text.parse::<i64>().ok()? as i32)
        }
        _ => None,
    }
}

/// A decimal magnitude as little-endian base-10 digits, with just the
/// arithmetic parsing needs: multiply by a small factor, read off digits.
struct Digits(Vec<u8>);

impl Digits {
    fn from_ascii(big_endian: &[u8]) -> Digits {
        let mut d: Vec<u8> = big_endian.iter().rev().map(|b| b - b'0').collect();
        while d.last() == Some(&0) {
            d.pop();
        }
        Digits(d)
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// × `factor` (at most 2^60).
    fn mul(&mut self, factor: u64) {
        let mut carry: u128 = 0;
        for d in self.0.iter_mut() {
            let v = u128::from(*d) * u128::from(factor) + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            self.0.push((carry % 10) as u8);
            carry /= 10;
        }
    }

    /// ceil(self × 10^shift) as an i128, or None when it does not fit.
    fn shifted_ceil(&self, shift: i64) -> Option<i128> {
        let len = self.0.len() as i64;
        // Digits below the point after the shift: dropped, rounding up.
        let cut = (-shift).clamp(0, len) as usize;
        let mut value: i128 = 0;
        for &d in self.0[cut..].iter().rev() {
            value = value.checked_mul(10)?.checked_add(i128::from(d))?;
        }
        for _ in 0..shift.max(0) {
            value = value.checked_mul(10)?;
        }
        let fraction = self.0[..cut].iter().any(|&d| d != 0) || (-shift > len && !self.is_zero());
        if fraction { value.checked_add(1) } else { Some(value) }
    }
}

impl Quantity {
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity(nanos)
    }

    /// Whole units (`3` cores, `1024` bytes).
    #[cfg(test)]
    pub fn from_units(units: i64) -> Quantity {
        Quantity(i128::from(units) * NANO)
    }

    pub fn nanos(self) -> i128 {
        self.0
    }

    /// ceil(q × 1000): apimachinery's `MilliValue` (what the scheduler adds
    /// up for cpu).
    pub fn milli_ceil(self) -> i128 {
        ceil_div(self.0, NANO / 1000)
    }

    /// ceil(q): apimachinery's `Value` (memory, storage, extended resources).
    pub fn value_ceil(self) -> i128 {
        ceil_div(self.0, NANO)
    }

    /// Parses `s` as apimachinery's `ParseQuantity` does.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(QuantityError::Format);
        }
        let mut pos = 0;
        let negative = b[0] == b'-';
        if matches!(b[0], b'-' | b'+') {
            pos = 1;
        }
        let int_start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        let int_digits = &b[int_start..pos];
        let mut frac_digits: &[u8] = &[];
        if pos < b.len() && b[pos] == b'.' {
            pos += 1;
            let start = pos;
            while pos < b.len() && b[pos].is_ascii_digit() {
                pos += 1;
            }
            frac_digits = &b[start..pos];
        }
        let suffix_start = pos;
        while pos < b.len() && SUFFIX_CHARS.contains(&b[pos]) {
            pos += 1;
        }
        if pos < b.len() && matches!(b[pos], b'-' | b'+') {
            pos += 1;
        }
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos < b.len() {
            return Err(QuantityError::Format);
        }
        // The scanner reads only a sign as "0" (no suffix is looked at).
        if int_digits.is_empty() && frac_digits.is_empty() && suffix_start == b.len() {
            return Ok(Quantity(0));
        }
        let scale = interpret(&b[suffix_start..]).ok_or(QuantityError::Suffix)?;
        if int_digits.is_empty() && frac_digits.is_empty() && takes_the_decimal_path(scale) {
            // apimachinery reads a number without digits as 0 on its int64
            // path, but fails to parse it on its arbitrary-precision one.
            return Err(QuantityError::Numeric);
        }
        let mut all = int_digits.to_vec();
        all.extend_from_slice(frac_digits);
        let mut digits = Digits::from_ascii(&all);
        if digits.is_zero() {
            return Ok(Quantity(0));
        }
        // value = digits × 10^-len(frac) × scale; in nanounits, × 10^9.
        let mut shift = 9 - frac_digits.len() as i64;
        let binary = matches!(scale, Scale::Two(_));
        match scale {
            Scale::Ten(n) => shift += i64::from(n),
            Scale::Two(n) => digits.mul(1u64 << n),
        }
        // Hopelessly large shifts would only make zeros: refuse them early.
        if shift > 40 {
            return Err(QuantityError::TooLarge);
        }
        let cap = i128::from(i64::MAX) * NANO;
        let nanos = match digits.shifted_ceil(shift) {
            // apimachinery caps binary-suffixed values at 2^63-1 units.
            Some(v) if binary => v.min(cap),
            None if binary => cap,
            Some(v) => v,
            None => return Err(QuantityError::TooLarge),
        };
        Ok(Quantity(if negative { -nanos } else { nanos }))
    }
}

/// Whether apimachinery parses a digitless number ("0" once read) with
/// this suffix on its arbitrary-precision path: a scale below nanounits,
/// or a binary suffix too large for its int64 precision estimate
/// (`15 - len("0") - exponent*3/10 - 1 < 0`: Pi and Ei).
fn takes_the_decimal_path(scale: Scale) -> bool {
    match scale {
        Scale::Ten(n) => n < -9,
        Scale::Two(n) => 13 - (n * 3 / 10) as i32 <= -1,
    }
}

/// ceil(a / b) for b > 0.
fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) != 0 { q + 1 } else { q }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

/// Parses a Kubernetes quantity as a whole count (`110`, `1k`, `2Ki`,
/// `1e3`, `1500m`), rounding down. None for anything that is not a
/// non-negative quantity.
pub fn parse_count_quantity(q: &str) -> Option<u64> {
    let q = Quantity::parse(q.trim()).ok()?;
    (q.0 >= 0).then(|| u64::try_from(q.0 / NANO).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> i128 {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}")).nanos()
    }

    #[test]
    fn suffixes_and_exponents() {
        assert_eq!(n("500m"), 500_000_000);
        assert_eq!(n("1"), NANO);
        assert_eq!(n("1.5"), 1_500_000_000);
        assert_eq!(n("2Ki"), 2048 * NANO);
        assert_eq!(n("1Ei"), (1i128 << 60) * NANO);
        assert_eq!(n("1E"), 10i128.pow(18) * NANO);
        assert_eq!(n("1e3"), 1000 * NANO);
        assert_eq!(n("1E-3"), 1_000_000);
        assert_eq!(n("1e+3"), 1000 * NANO);
        assert_eq!(n("3145728e3"), 3_145_728_000 * NANO);
        assert_eq!(n("608u"), 608_000);
        assert_eq!(n("1n"), 1);
        assert_eq!(n("0.1n"), 1, "finer than 1n rounds up");
        assert_eq!(n("-0.1n"), -1, "away from zero");
        assert_eq!(n(".5"), 500_000_000);
        assert_eq!(n("5."), 5 * NANO);
        assert_eq!(n("1.G"), NANO * NANO);
        assert_eq!(n("+"), 0);
        assert_eq!(n("."), 0);
        assert_eq!(n("0"), 0);
        assert_eq!(n("000.000k"), 0);
        assert_eq!(n("9Ei"), i128::from(i64::MAX) * NANO, "binary capped at 2^63-1");
        assert_eq!(n("99999999999999999999999999Ei"), i128::from(i64::MAX) * NANO);
        assert_eq!(n("1.5Ki"), 1536 * NANO);
        assert_eq!(n("0.5Ki"), 512 * NANO);
    }

    #[test]
    fn what_apimachinery_refuses() {
        for (s, e) in [
            ("", QuantityError::Format),
            ("1K", QuantityError::Suffix),
            ("1mi", QuantityError::Suffix),
            ("1e", QuantityError::Suffix),
            ("1ee3", QuantityError::Suffix),
            ("1KiB", QuantityError::Format),
            ("1 ", QuantityError::Format),
            (" 1", QuantityError::Format),
            ("1.5.5", QuantityError::Format),
            ("abc", QuantityError::Format),
            ("1e3e", QuantityError::Format),
            ("1e50", QuantityError::TooLarge),
            ("E-31", QuantityError::Numeric),
            (".Ei", QuantityError::Numeric),
        ] {
            assert_eq!(Quantity::parse(s), Err(e), "{s:?}");
        }
    }

    #[test]
    fn rounding_as_the_scheduler_does() {
        let q = Quantity::parse("0.5m").unwrap();
        assert_eq!((q.milli_ceil(), q.value_ceil()), (1, 1));
        let q = Quantity::parse("1500m").unwrap();
        assert_eq!((q.milli_ceil(), q.value_ceil()), (1500, 2));
        assert_eq!(Quantity::parse("1Gi").unwrap().value_ceil(), 1 << 30);
        assert_eq!(parse_count_quantity("110"), Some(110));
        assert_eq!(parse_count_quantity("1500m"), Some(1));
        assert_eq!(parse_count_quantity("2Ki"), Some(2048));
        assert_eq!(parse_count_quantity("-1"), None);
        assert_eq!(parse_count_quantity("12Q"), None);
    }
}
