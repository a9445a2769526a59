//! Amounts of money as exports write them: Danish `1.234,56 kr.`, Chinese `¥1,234` or
//! `1234元`, English `$1,234.56`, accountants' `(1,234.56)`.

/// An amount in minor units (øre, fen, cents) and the currency the text named, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// Amount in the currency's minor units; two decimals when no currency was named.
    pub minor: i64,
    /// ISO 4217 code, upper-case, when the text carried a symbol or code.
    pub currency: Option<String>,
}

const HELP: &str = "not an amount: expected e.g. 1234.50, 1.234,50 kr., $1,234 or ¥1,234";

/// Currencies whose minor unit is not a hundredth (ISO 4217).
const ZERO_DECIMALS: &[&str] = &["JPY", "KRW", "ISK", "CLP", "VND"];
const THREE_DECIMALS: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// Decimals of a currency's minor unit: 0 for JPY, KRW, ISK, CLP and VND, 3 for the
/// dinars, 2 for every other code (and for an amount without currency).
pub fn decimals(currency: &str) -> u32 {
    let code = currency.trim().to_ascii_uppercase();
    if ZERO_DECIMALS.contains(&code.as_str()) {
        0
    } else if THREE_DECIMALS.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// Reads an amount of money.
///
/// The decimal separator is whichever of `.` and `,` comes last when both occur;
/// alone and followed by exactly three digits it is a thousands separator (`1.234` and
/// `1,234` are both 1234), otherwise a decimal one (`12,5`). Spaces of any width and
/// apostrophes group thousands. Symbols and codes before or after set the currency:
/// kr/kr./DKK → DKK, € → EUR, $ → USD, £ → GBP, ¥/￥/元/RMB → CNY, or any ISO 4217
/// code (`12 stk` is no amount). Minor units follow the currency (`decimals`); extra decimals are rounded half
/// away from zero. `(1.234,56)`, `-1.234,56` and `1.234,56-` are negative.
pub fn parse_money(s: &str) -> Result<Money, String> {
    read(s, None, None)
}

/// Reads an amount in the currency of its row: the row's currency cell (`column`)
/// decides, else the currency the text names, else `default` (the workspace's); the
/// minor units are that currency's (`¥1,234` in a JPY row is 1234, not 123400), and
/// `currency` is None only when neither the column nor the text named one. A text
/// naming a currency the column contradicts (`€12` in a DKK row) is refused; a sign many
/// currencies write (kr, $, ¥) is read as the column's when it can mean it.
pub fn parse_money_in(s: &str, column: Option<&str>, default: &str) -> Result<Money, String> {
    read(s, column, Some(default))
}

/// Currencies a sign written by several can mean.
fn could_mean(sign: &str, code: &str) -> bool {
    let family: &[&str] = match sign {
        "kr" => &["DKK", "SEK", "NOK", "ISK"],
        "$" => &[
            "USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN", "ARS", "CLP", "COP",
        ],
        "¥" | "￥" => &["CNY", "JPY"],
        _ => &[],
    };
    family.contains(&code)
}

fn read(s: &str, column: Option<&str>, default: Option<&str>) -> Result<Money, String> {
    let text = s.trim();
    let (text, mut negative) = match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => (inner.trim(), true),
        None => (text, false),
    };
    let first = text.find(|c: char| c.is_ascii_digit()).ok_or(HELP)?;
    let last = text
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(first, |i| i + 1);
    let (prefix, number, mut suffix) = (&text[..first], &text[first..last], &text[last..]);
    // "1.234,-" is Danish for a whole amount: the dash is not a minus.
    for whole in [",-", ".-", ",–", ".–"] {
        if let Some(rest) = suffix.strip_prefix(whole) {
            suffix = rest;
        }
    }
    let (prefix, minus_before) = without_signs(prefix);
    let (suffix, minus_after) = without_signs(suffix);
    negative |= minus_before || minus_after;
    let named = match (currency(&prefix)?, currency(&suffix)?) {
        (Some(a), Some(b)) if a != b => {
            return Err(format!("not an amount: names two currencies, {a} and {b}"))
        }
        (a, b) => a.or(b),
    };
    let sign = sign_of(if prefix.trim().is_empty() {
        &suffix
    } else {
        &prefix
    });
    let column = column
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let currency = match (column, named) {
        (Some(c), Some(n)) if n != c && !could_mean(&sign, &c) => {
            return Err(format!("is written in {n} but the row's currency is {c}"))
        }
        (Some(c), _) => Some(c),
        (None, Some(n)) => Some(n),
        (None, None) => None,
    };
    let (whole, fraction) = split_number(number)?;
    // Said nowhere, the amount is in the workspace's currency and takes its minor units.
    let places = currency.as_deref().or(default).map_or(2, decimals);
    let minor = to_minor(&whole, &fraction, places)?;
    Ok(Money {
        minor: if negative { -minor } else { minor },
        currency,
    })
}

/// Text around the number without minus signs and brackets, and whether it had a minus.
fn without_signs(s: &str) -> (String, bool) {
    let minus = s.contains(['-', '−', '–']) || (s.contains('(') && s.contains(')'));
    let rest = s.replace(['-', '−', '–', '+', '(', ')'], "");
    (rest.trim().to_string(), minus)
}

/// The written sign as [`could_mean`] knows it: `kr.` → `kr`.
fn sign_of(text: &str) -> String {
    text.trim().trim_end_matches('.').to_lowercase()
}

fn currency(text: &str) -> Result<Option<String>, String> {
    let lower = text.trim().trim_end_matches('.').to_lowercase();
    let code = match lower.as_str() {
        "" => return Ok(None),
        "kr" | "dkk" | "dkr" => "DKK",
        "€" | "eur" | "euro" => "EUR",
        "$" | "us$" | "usd" => "USD",
        "£" | "gbp" => "GBP",
        "¥" | "￥" | "元" | "rmb" | "cny" | "人民币" | "rmb¥" | "rmb ¥" => "CNY",
        other if crate::fields::is_currency(other) => return Ok(Some(other.to_ascii_uppercase())),
        _ => {
            let shown: String = text.trim().chars().take(20).collect();
            return Err(format!("not an amount: unknown currency \"{shown}\""));
        }
    };
    Ok(Some(code.to_string()))
}

/// The whole and fractional digits of "1.234,56", "1,234.56", "1 234,56" or "12,5".
fn split_number(number: &str) -> Result<(String, String), String> {
    let mut digits = String::with_capacity(number.len());
    for c in number.chars() {
        match c {
            '0'..='9' | '.' | ',' => digits.push(c),
            // Spaces (incl. no-break and narrow no-break) and apostrophes group thousands.
            '\'' | '’' => {}
            c if c.is_whitespace() => {}
            _ => return Err(HELP.into()),
        }
    }
    let decimal_at = match (digits.rfind('.'), digits.rfind(',')) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(i), None) | (None, Some(i)) => {
            let separator = &digits[i..=i];
            let single = digits.matches(separator).count() == 1;
            let before = &digits[..i];
            let thousands = digits.len() - i - 1 == 3 && (1..=3).contains(&before.len());
            (single && !(thousands && before != "0")).then_some(i)
        }
        (None, None) => None,
    };
    let (whole, fraction) = match decimal_at {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits.as_str(), ""),
    };
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HELP.into());
    }
    let groups: Vec<&str> = whole.split(['.', ',']).collect();
    let grouped = groups.len() > 1;
    let bad_group = groups.iter().enumerate().any(|(i, g)| match i {
        0 => grouped && (g.is_empty() || g.len() > 3),
        _ => g.len() != 3,
    });
    if bad_group || groups.len() > 1 && whole.contains('.') && whole.contains(',') {
        return Err(format!(
            "not an amount: \"{}\" has digit groups that are not thousands",
            number.chars().take(40).collect::<String>()
        ));
    }
    Ok((groups.concat(), fraction.to_string()))
}

/// Whole and fractional digits as minor units with `places` decimals, rounded half
/// away from zero; refuses amounts beyond what an i64 holds.
fn to_minor(whole: &str, fraction: &str, places: u32) -> Result<i64, String> {
    let too_large = || "not an amount: too large".to_string();
    let mut minor: i64 = 0;
    let kept = fraction.chars().chain(std::iter::repeat('0'));
    for c in whole.chars().chain(kept.take(places as usize)) {
        let digit = i64::from(c.to_digit(10).unwrap_or(0));
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(digit))
            .ok_or_else(too_large)?;
    }
    let next = fraction
        .chars()
        .nth(places as usize)
        .and_then(|c| c.to_digit(10));
    if next.is_some_and(|d| d >= 5) {
        minor = minor.checked_add(1).ok_or_else(too_large)?;
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(s: &str) -> (i64, Option<String>) {
        let m = parse_money(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        (m.minor, m.currency)
    }

    fn code(c: &str) -> Option<String> {
        Some(c.to_string())
    }

    #[test]
    fn an_amount_is_in_its_rows_currency() {
        let read = |s: &str, column: Option<&str>, default: &str| {
            parse_money_in(s, column, default).map(|m| (m.minor, m.currency.unwrap_or_default()))
        };
        // The column decides, and so do its minor units.
        assert_eq!(read("1.234", Some("jpy"), "DKK"), Ok((1234, "JPY".into())));
        assert_eq!(read("¥1,234", Some("JPY"), "DKK"), Ok((1234, "JPY".into())));
        assert_eq!(
            read("100 kr.", Some("SEK"), "DKK"),
            Ok((10_000, "SEK".into()))
        );
        assert_eq!(read("$5", Some("CAD"), "DKK"), Ok((500, "CAD".into())));
        // Without a column: the text's currency, else the workspace's.
        assert_eq!(read("¥8.888,00", None, "EUR"), Ok((888_800, "CNY".into())));
        let unnamed = |s: &str, column: Option<&str>, default: &str| {
            parse_money_in(s, column, default).map(|m| (m.minor, m.currency))
        };
        assert_eq!(unnamed("1.500", None, "ISK"), Ok((1500, None)));
        assert_eq!(unnamed("12,50", Some(""), "EUR"), Ok((1250, None)));
        // A currency the column contradicts is a question for the user.
        let err = read("€12", Some("DKK"), "DKK").unwrap_err();
        assert_eq!(err, "is written in EUR but the row's currency is DKK");
        assert!(read("100 kr", Some("EUR"), "EUR").is_err());
        assert!(read("USD 5", Some("CAD"), "EUR").is_err());
    }

    #[test]
    fn plain_and_grouped_amounts_are_read() {
        for (s, minor) in [
            ("1234", 123_400),
            ("1234.5", 123_450),
            ("1,234.56", 123_456),
            ("1.234,56", 123_456),
            ("1 234,56", 123_456),
            ("1\u{a0}234,56", 123_456),
            ("1\u{202f}234,56", 123_456),
            ("1'234.56", 123_456),
            ("12,5", 1250),
            ("1.234", 123_400),
            ("1,234", 123_400),
            ("1.234.567", 123_456_700),
            ("1,234,567.89", 123_456_789),
            ("0.125", 13),
            ("0,5", 50),
            ("1234,567", 123_457),
            ("0", 0),
        ] {
            assert_eq!(amount(s), (minor, None), "{s:?}");
        }
    }

    #[test]
    fn danish_amounts_in_kroner_are_read() {
        for s in [
            "kr. 1.234,56",
            "1.234,56 kr.",
            "DKK 1.234,56",
            "1.234,56 kr",
            "kr 1234,56",
        ] {
            assert_eq!(amount(s), (123_456, code("DKK")), "{s:?}");
        }
        assert_eq!(amount("1.234 DKK"), (123_400, code("DKK")));
        assert_eq!(amount("kr. 1.234,-"), (123_400, code("DKK")));
    }

    #[test]
    fn currency_symbols_and_codes_are_recognised() {
        assert_eq!(amount("€1,234.56"), (123_456, code("EUR")));
        assert_eq!(amount("€ 1.234,56"), (123_456, code("EUR")));
        assert_eq!(amount("$1,234"), (123_400, code("USD")));
        assert_eq!(amount("£12.50"), (1250, code("GBP")));
        assert_eq!(amount("¥1,234.50"), (123_450, code("CNY")));
        assert_eq!(amount("￥1,234"), (123_400, code("CNY")));
        assert_eq!(amount("1234元"), (123_400, code("CNY")));
        assert_eq!(amount("1,234.00 元"), (123_400, code("CNY")));
        assert_eq!(amount("RMB 88"), (8800, code("CNY")));
        assert_eq!(amount("¥88元"), (8800, code("CNY")));
        assert_eq!(amount("1.234,56 sek"), (123_456, code("SEK")));
    }

    #[test]
    fn zero_decimal_currencies_count_whole_units() {
        assert_eq!(amount("JPY 1,234"), (1234, code("JPY")));
        assert_eq!(amount("1234.5 ISK"), (1235, code("ISK")));
        assert_eq!(amount("KWD 1.5"), (1500, code("KWD")));
        assert_eq!(decimals("jpy"), 0);
        assert_eq!(decimals("DKK"), 2);
    }

    #[test]
    fn negative_amounts_are_read() {
        assert_eq!(amount("-1.234,56"), (-123_456, None));
        assert_eq!(amount("(1,234.56)"), (-123_456, None));
        assert_eq!(amount("1.234,56-"), (-123_456, None));
        assert_eq!(amount("kr. -1.234,56"), (-123_456, code("DKK")));
        assert_eq!(amount("-€5"), (-500, code("EUR")));
        assert_eq!(amount("−12,50"), (-1250, None));
        assert_eq!(amount("– 12,50 kr."), (-1250, code("DKK")));
    }

    #[test]
    fn amounts_that_do_not_fit_are_refused() {
        let err = parse_money("99999999999999999999").unwrap_err();
        assert!(err.contains("too large"), "{err}");
        assert!(parse_money(&"9".repeat(10_000)).is_err());
        assert_eq!(
            parse_money("92233720368547758.07").map(|m| m.minor),
            Ok(i64::MAX)
        );
        assert!(parse_money("92233720368547758.08").is_err());
    }

    #[test]
    fn text_that_is_not_an_amount_gets_a_reason() {
        for s in [
            "",
            "  ",
            "abc",
            "-",
            ".",
            "12a34",
            "1.2.3",
            "1,23,456",
            "1.234.5,6,7",
        ] {
            let err = parse_money(s).unwrap_err();
            assert!(err.starts_with("not an amount"), "{s:?}: {err}");
        }
        assert!(parse_money("5 bananas").unwrap_err().contains("bananas"));
        // Three letters are a currency only when ISO 4217 says so: not pieces, not typos.
        for s in ["12 stk", "100 pcs", "12abc"] {
            let err = parse_money(s).unwrap_err();
            assert!(err.contains("unknown currency"), "{s:?}: {err}");
        }
        assert_eq!(amount("12 sek"), (1200, code("SEK")));
        assert!(parse_money("$5 EUR")
            .unwrap_err()
            .contains("two currencies"));
    }
}
