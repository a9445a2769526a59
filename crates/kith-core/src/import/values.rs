//! Cell values as people type them in Danish, Chinese and English: dates, times,
//! money, whole names and yes/no.

mod dates;
mod money;
mod names;

pub use dates::{
    order_shown, parse_birthday, parse_created_in, parse_date, parse_datetime, parse_datetime_in,
    says_time, time_only, DateOrder,
};
pub use money::{decimals, parse_money, parse_money_in, Money};
pub use names::split_full_name;

/// Whether a cell spells out "no value": `NULL`, `null` and `\N` as database dumps
/// write it, `N/A`, `n/a`, a lone `-`, and Excel's `#N/A` (a lookup that found
/// nothing). Such a cell is read as empty, not stored as a city called NULL. `Null`
/// stays: it is a surname.
pub fn is_spelled_out_blank(cell: &str) -> bool {
    matches!(
        cell.trim(),
        "NULL" | "null" | "\\N" | "N/A" | "n/a" | "-" | "#N/A"
    )
}

/// Whether a date cell holds the "no date" old systems write: Outlook's `0/0/00`, MySQL's
/// `0000-00-00` (with a time of zeros or not): only zeros between separators.
pub fn is_zero_date(cell: &str) -> bool {
    let cell = cell.trim();
    let mut digits = 0;
    for c in cell.chars() {
        match c {
            '0' => digits += 1,
            '/' | '-' | '.' | ':' | ' ' | 'T' => {}
            _ => return false,
        }
    }
    digits >= 3 && cell.contains(['/', '-', '.'])
}

/// The Excel error a broken formula left in a cell (`#REF!`, `#VALUE!`, `#DIV/0!`,
/// `#NAME?`, `#NUM!`, `#NULL!`, `#DATA!`), if it holds one: a value went missing there.
pub fn formula_error(cell: &str) -> Option<&str> {
    let cell = cell.trim();
    [
        "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#DATA!",
    ]
    .contains(&cell)
    .then_some(cell)
}

/// Reads yes or no: yes/no, y/n, true/false, 1/0, ja/nej, j, sand/falsk, 是/否, on/off,
/// and `x` or ✓ as a ticked box.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "t" | "1" | "ja" | "j" | "sand" | "是" | "对" | "on" | "x" | "✓"
        | "✔" => Ok(true),
        "no" | "n" | "false" | "f" | "0" | "nej" | "falsk" | "否" | "不是" | "off" | "✗" => {
            Ok(false)
        }
        _ => Err("not yes or no: expected e.g. yes/no, ja/nej, 是/否, true/false or 1/0".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_are_read_in_every_language() {
        for s in [
            "yes", "YES", "y", "true", "1", "ja", "Ja", "是", "x", "X", " on ",
        ] {
            assert_eq!(parse_bool(s), Ok(true), "{s:?}");
        }
        for s in ["no", "N", "false", "0", "nej", "NEJ", "否", "off"] {
            assert_eq!(parse_bool(s), Ok(false), "{s:?}");
        }
    }

    #[test]
    fn dates_of_zeros_are_no_date() {
        for none in [
            "0/0/00",
            "0/0/0000",
            "00.00.0000",
            "0000-00-00",
            "0000-00-00 00:00:00",
        ] {
            assert!(is_zero_date(none), "{none:?}");
        }
        for date in ["0", "00", "2000-01-01", "1/1/00", "0/0/01", "Never", ""] {
            assert!(!is_zero_date(date), "{date:?}");
        }
    }

    #[test]
    fn empty_values_spelled_out_are_told_from_values_and_broken_formulas() {
        for blank in ["NULL", "null", "\\N", " N/A ", "n/a", "-", "#N/A"] {
            assert!(is_spelled_out_blank(blank), "{blank:?}");
            assert_eq!(formula_error(blank), None, "{blank:?}");
        }
        for value in ["Null", "NA", "None", "--", "0", "n/a/b", "Hansen"] {
            assert!(!is_spelled_out_blank(value), "{value:?}");
        }
        assert_eq!(formula_error(" #REF! "), Some("#REF!"));
        assert_eq!(formula_error("#DIV/0!"), Some("#DIV/0!"));
        assert_eq!(formula_error("#hashtag"), None);
    }

    #[test]
    fn anything_else_is_not_yes_or_no() {
        for s in ["", " ", "maybe", "2", "yess", "🤷"] {
            let err = parse_bool(s).unwrap_err();
            assert!(err.contains("ja/nej"), "{s:?}: {err}");
        }
    }
}
