//! JSON numbers without a float parser: whether one is finite as an `f64`, and its value
//! for NumericDates. (The standard library's float parser and its tables would add several
//! KiB to the browser package.)

/// A JSON number's parts as written: sign, integer digits, fraction digits, exponent.
pub(crate) struct Decimal<'a> {
    negative: bool,
    /// The integer and fraction digits, in order (leading/trailing zeros still in).
    integer: &'a str,
    fraction: &'a str,
    exponent: i64,
}

/// `f64::MAX` plus half a unit in the last place, as significant digits: a decimal at or
/// above it rounds to infinity (a tie goes to the even neighbour, which is infinity).
const OVERFLOW_DIGITS: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

impl<'a> Decimal<'a> {
    /// Reads a number that already matched the JSON grammar.
    pub(crate) fn read(text: &'a str) -> Self {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = text
            .split_once(['e', 'E'])
            .map_or((text, "0"), |(m, e)| (m, e.trim_start_matches('+')));
        // A huge exponent saturates; the digits cannot bring it back into range.
        let exponent = exponent
            .parse::<i64>()
            .unwrap_or(if exponent.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            });
        let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        Self {
            negative,
            integer,
            fraction,
            exponent,
        }
    }

    /// The significant digits (no leading zeros) and the exponent of the first of them
    /// (value = d.ddd × 10^exp); `None` for zero.
    fn significant(&self) -> Option<(impl Iterator<Item = u8> + '_, i64)> {
        let int = self.integer.trim_start_matches('0');
        if !int.is_empty() {
            let digits = int.bytes().chain(self.fraction.bytes());
            return Some((digits, self.exponent.saturating_add(int.len() as i64 - 1)));
        }
        let frac = self.fraction.trim_start_matches('0');
        if frac.is_empty() {
            return None;
        }
        let lead = (self.fraction.len() - frac.len()) as i64;
        Some((
            frac.bytes().chain("".bytes()),
            self.exponent.saturating_sub(lead + 1),
        ))
    }

    /// Whether the number is finite as an `f64` (underflow to zero is finite).
    pub(crate) fn is_finite(&self) -> bool {
        let Some((digits, exp)) = self.significant() else {
            return true;
        };
        match exp.cmp(&308) {
            core::cmp::Ordering::Less => true,
            core::cmp::Ordering::Greater => false,
            // Compare digit by digit with the overflow threshold, missing digits as zeros.
            core::cmp::Ordering::Equal => {
                let mut digits = digits;
                for limit in OVERFLOW_DIGITS.bytes() {
                    match digits.next().unwrap_or(b'0').cmp(&limit) {
                        core::cmp::Ordering::Less => return true,
                        core::cmp::Ordering::Greater => return false,
                        core::cmp::Ordering::Equal => {}
                    }
                }
                // Equal to the threshold so far: any further non-zero digit is above it;
                // exactly the threshold rounds to infinity too.
                false
            }
        }
    }

    /// The value as an `f64`: exact for up to 15 significant digits and powers of ten up to
    /// 22 (every NumericDate with millisecond precision), else within a few units in the last
    /// place. Infinite numbers give infinity.
    pub(crate) fn to_f64(&self) -> f64 {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        let sign = if self.negative { -1.0 } else { 1.0 };
        if !self.is_finite() {
            return sign * f64::INFINITY;
        }
        // Up to 19 digits into an integer; later digits only scale.
        let mut mantissa = 0u64;
        let mut scale = self.exponent.saturating_sub(self.fraction.len() as i64);
        for digit in self.integer.bytes().chain(self.fraction.bytes()) {
            if mantissa < 1_000_000_000_000_000_000 {
                mantissa = mantissa * 10 + u64::from(digit - b'0');
            } else {
                scale += 1;
            }
        }
        let mut value = mantissa as f64;
        while scale != 0 {
            let step = scale.clamp(-22, 22);
            let power = POW10[step.unsigned_abs() as usize];
            value = if step > 0 {
                value * power
            } else {
                value / power
            };
            scale -= step;
            if value == 0.0 || value.is_infinite() {
                break;
            }
        }
        sign * value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn numbers_are_finite_exactly_as_f64_parsing_says() {
        for text in [
            "0",
            "-0",
            "1e308",
            "1.7976931348623157e308",
            "-1.7976931348623157e308",
            "1.79769313486231580793e308",
            "179769313486231570000e288",
            "1e-400",
            "0e99999",
            "0.0000e400",
            "1.7976931348623158e308",
            "1.79769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792e308",
            "1.79769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791e308",
            "1.797693134862315807937289714053034150799341327100378269361737789804449682927647509466490179775872070963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700698555713669596228429148198608349364752927190741684443655107043427115596995080930428801779041744977920001e308",
            "2e308",
            "1e309",
            "1e99999999999999999999",
            "0.1e310",
            "100e306",
        ] {
            assert_eq!(
                Decimal::read(text).is_finite(),
                text.parse::<f64>().unwrap().is_finite(),
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_convert_like_f64_parsing_for_numeric_dates() {
        for text in [
            "0",
            "1",
            "1700000000",
            "1700000000.5",
            "1700000000.125",
            "1.7e9",
            "17e8",
            "170000000000e-2",
            "0.5",
            "253402300799",
            "253402300799.999",
            "1E3",
            "-1.5",
            "1700000000.123",
            "12345678901234567890123",
            "1e-5",
        ] {
            assert_eq!(
                Decimal::read(text).to_f64(),
                text.parse::<f64>().unwrap(),
                "{text}"
            );
        }
        assert_eq!(Decimal::read("1e400").to_f64(), f64::INFINITY);
    }
}
