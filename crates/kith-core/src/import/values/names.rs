//! Splitting a whole name into first and last name, the Chinese way (family name
//! first, no space) or the Western way (family name last, or first before a comma).

use super::super::is_cjk;

/// Two-character Chinese family names; any other Chinese family name is one character.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "令狐", "端木", "西门", "南宫", "轩辕", "百里", "呼延",
];

/// Words that belong to the family name that follows them: "Ludwig van Beethoven".
const PARTICLES: &[&str] = &[
    "van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "af",
];

/// Splits a whole name into (first name, last name).
///
/// - "Hans Christian Andersen" → ("Hans Christian", "Andersen"); a lower-case particle
///   goes with the family name ("Ludwig van Beethoven" → "van Beethoven").
/// - "Andersen, Hans Christian" → ("Hans Christian", "Andersen").
/// - "张伟" → ("伟", "张"); "欧阳娜娜" → ("娜娜", "欧阳"); "王 小明" → ("小明", "王");
///   "迈克尔·乔丹" (a foreign name, given·family) → ("迈克尔", "乔丹").
/// - One word is a first name: "Madonna" → ("Madonna", None). Empty → (None, None).
pub fn split_full_name(s: &str) -> (Option<String>, Option<String>) {
    let words: Vec<&str> = s.split_whitespace().collect();
    let name = words.join(" ");
    if name.is_empty() {
        return (None, None);
    }
    if let Some((last, first)) = name.split_once([',', '，']) {
        return (some(first.trim()), some(last.trim()));
    }
    if name
        .chars()
        .all(|c| is_cjk(c) || c == ' ' || c == '·' || c == '・')
    {
        return split_cjk(&name, &words);
    }
    match words.as_slice() {
        [one] => (some(one), None),
        _ => {
            let mut family_from = words.len() - 1;
            while family_from > 1 && PARTICLES.contains(&words[family_from - 1]) {
                family_from -= 1;
            }
            (
                some(&words[..family_from].join(" ")),
                some(&words[family_from..].join(" ")),
            )
        }
    }
}

fn split_cjk(name: &str, words: &[&str]) -> (Option<String>, Option<String>) {
    if let Some((given, family)) = name.split_once(['·', '・']) {
        return (some(given.trim()), some(family.trim()));
    }
    if let [family, given @ ..] = words {
        if !given.is_empty() {
            return (some(&given.concat()), some(family));
        }
    }
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 2 {
        return (some(name), None);
    }
    let two: String = chars[..2].iter().collect();
    let family_len = if chars.len() > 2 && COMPOUND_SURNAMES.contains(&two.as_str()) {
        2
    } else {
        1
    };
    let family: String = chars[..family_len].iter().collect();
    let given: String = chars[family_len..].iter().collect();
    (some(&given), some(&family))
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str, first: Option<&str>, last: Option<&str>) {
        let (f, l) = split_full_name(s);
        assert_eq!((f.as_deref(), l.as_deref()), (first, last), "{s:?}");
    }

    #[test]
    fn western_names_split_before_the_last_word() {
        check("Søren Kierkegaard", Some("Søren"), Some("Kierkegaard"));
        check(
            "Hans Christian Andersen",
            Some("Hans Christian"),
            Some("Andersen"),
        );
        check("  Karen   Blixen ", Some("Karen"), Some("Blixen"));
        check(
            "Ludwig van Beethoven",
            Some("Ludwig"),
            Some("van Beethoven"),
        );
        check(
            "Anne Sophie de la Cour",
            Some("Anne Sophie"),
            Some("de la Cour"),
        );
    }

    #[test]
    fn family_name_first_with_a_comma_is_understood() {
        check(
            "Andersen, Hans Christian",
            Some("Hans Christian"),
            Some("Andersen"),
        );
        check("Andersen,", None, Some("Andersen"));
        check(", Hans", Some("Hans"), None);
    }

    #[test]
    fn chinese_names_put_the_family_name_first() {
        check("张伟", Some("伟"), Some("张"));
        check("王小明", Some("小明"), Some("王"));
        check("欧阳娜娜", Some("娜娜"), Some("欧阳"));
        check("诸葛亮", Some("亮"), Some("诸葛"));
        check("王 小明", Some("小明"), Some("王"));
        check("迈克尔·乔丹", Some("迈克尔"), Some("乔丹"));
    }

    #[test]
    fn a_single_word_is_a_first_name() {
        check("Madonna", Some("Madonna"), None);
        check("伟", Some("伟"), None);
        check("欧阳", Some("阳"), Some("欧"));
    }

    #[test]
    fn empty_names_give_nothing() {
        check("", None, None);
        check(" \t\u{a0}\n", None, None);
        check(",", None, None);
        check("·", None, None);
    }
}
