//! A percentage as the flags give it (`90`, `90%`), carried as a percent
//! from the flag to the comparison; a saturation (a fraction, 0..1) is held
//! against it only through [`Percent::reached_by`] and [`Percent::fraction`].

use std::fmt;

/// A percentage from 0 to 100 (fractions allowed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percent(pub f64);

impl Percent {
    /// Where "saturated" starts when no flag says: red cells, groups'
    /// `atOrAboveThreshold`, the line a watch is judged against.
    pub const SATURATED: Percent = Percent(90.0);

    /// As a fraction of 1 (90% -> 0.9).
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }

    /// Whether a saturation (a fraction) is at or above this percentage,
    /// forgiving the rounding of the division that made it (90/100 pods).
    pub fn reached_by(self, saturation: f64) -> bool {
        saturation >= self.fraction() - 1e-12
    }

    /// Whether `used` of `of` is strictly above this percentage, in exact
    /// integer-scaled arithmetic (no division).
    pub fn exceeded_by(self, used: u32, of: u32) -> bool {
        f64::from(used) * 100.0 > self.0 * f64::from(of)
    }
}

impl std::str::FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n = s.trim().strip_suffix('%').unwrap_or(s.trim());
        match n.parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Ok(Percent(v)),
            _ => Err(format!("expected a percentage from 0 to 100, such as 90 or 90%, not {s:?}")),
        }
    }
}

/// `90%`, `99.5%`: as the flag was written.
impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_written_and_compares_as_a_fraction() {
        assert_eq!("90".parse::<Percent>(), Ok(Percent(90.0)));
        assert_eq!("90%".parse::<Percent>(), Ok(Percent(90.0)));
        assert_eq!("99.5%".parse::<Percent>(), Ok(Percent(99.5)));
        assert!("101".parse::<Percent>().is_err());
        assert!("-1".parse::<Percent>().is_err());
        assert!("ninety".parse::<Percent>().is_err());
        assert_eq!(Percent(99.5).to_string(), "99.5%");
        assert_eq!(Percent::SATURATED.to_string(), "90%");
        assert!(Percent::SATURATED.reached_by(99.0 / 110.0), "9/10 of the way, rounded below 0.9");
        assert!(!Percent::SATURATED.reached_by(0.89));
        assert!(Percent(75.0).exceeded_by(4, 5) && !Percent(80.0).exceeded_by(4, 5));
    }
}
