//! Single words of a name: folding, typos, nicknames.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::search::fold_plain;

/// Folds a word so the usual ways of typing it compare equal: lower-case ASCII letters
/// and digits, with æ/ø/å in either spelling (Søren, Soeren, Soren → soren; Åse, Aase →
/// ase). The digraph rule is applied to both sides alike, so it only ever makes more
/// words equal, never fewer.
pub fn skeleton(word: &str) -> String {
    let plain = fold_plain(word);
    let mut out = String::with_capacity(plain.len());
    let mut prev = ' ';
    for c in plain.chars().filter(char::is_ascii_alphanumeric) {
        // ae/oe/aa are how æ/ø/å are typed without a Danish keyboard.
        if matches!((prev, c), ('a', 'e') | ('o', 'e') | ('a', 'a')) {
            continue;
        }
        out.push(c);
        prev = c;
    }
    out
}

/// A skeleton word of a name with its rows in the nickname table, looked up once
/// rather than in every comparison.
#[derive(Debug, Clone, Default)]
pub(super) struct Word {
    pub(super) text: String,
    /// Bit `i` set: the word is in row `i` of [`NICKNAMES`].
    pub(super) nicknames: u64,
}

/// How two words of a name relate, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum WordMatch {
    Exact,
    Nickname,
    Typo,
    Initial,
    /// One edit apart but too short to call it a typo: Lars/Lasr, but also Mary/Mark.
    Close,
    None,
}

/// How two skeleton words of a name relate.
pub(super) fn word_match(wa: &Word, wb: &Word) -> WordMatch {
    let (a, b) = (wa.text.as_str(), wb.text.as_str());
    if a == b {
        return WordMatch::Exact;
    }
    // Skeleton words are ASCII, so bytes are letters.
    let (la, lb) = (a.len(), b.len());
    if la == 1 || lb == 1 {
        return if a.chars().next() == b.chars().next() {
            WordMatch::Initial
        } else {
            WordMatch::None
        };
    }
    if wa.nicknames & wb.nicknames != 0 {
        return WordMatch::Nickname;
    }
    if !edit_distance_at_most_one(a, b) || are_sibling_names(a, b) {
        return WordMatch::None;
    }
    // People check the start of a name, so a wrong first letter is rarely a typo:
    // Hanne/Janne and Mette/Jette are different people. A letter dropped or added in
    // front of a long enough name (homas/Thomas) still counts.
    if a.chars().next() != b.chars().next() {
        let front_gap = la != lb && la.min(lb) >= 5;
        let front_swap = la == lb && la >= 5 && a.chars().nth(1) == b.chars().next();
        if !(front_gap || front_swap || la.min(lb) >= 7) {
            return WordMatch::None;
        }
    }
    if la.min(lb) >= 5 {
        WordMatch::Typo
    } else {
        WordMatch::Close
    }
}

/// Names one letter apart that are usually different names, not typos: a final vowel
/// changed or added (Anne/Anna, Daniel/Daniela), and -ian/-ina (Christian/Christina).
fn are_sibling_names(a: &str, b: &str) -> bool {
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'y');
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let stem = |s: &str| s.get(..s.len().saturating_sub(1)).unwrap_or("").to_string();
    let last = |s: &str| s.chars().last().unwrap_or(' ');
    // Bente/Bentee is a doubled key, not a name.
    let added_vowel = long.len() == short.len() + 1
        && long.starts_with(short)
        && matches!(last(long), 'a' | 'e')
        && last(long) != last(short);
    let changed_vowel =
        a.len() == b.len() && stem(a) == stem(b) && vowel(last(a)) && vowel(last(b));
    let ian_ina = |x: &str, y: &str| {
        x.strip_suffix("ian")
            .is_some_and(|s| y.strip_suffix("ina") == Some(s))
    };
    added_vowel || changed_vowel || ian_ina(a, b) || ian_ina(b, a)
}

/// Damerau-Levenshtein (optimal string alignment) distance ≤ 1: one substitution,
/// insertion, deletion or swap of neighbours.
pub(crate) fn edit_distance_at_most_one(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // Skeleton words are ASCII: no need to decode characters.
        return at_most_one_edit(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    at_most_one_edit(&a, &b)
}

fn at_most_one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix == short.len() {
        return true; // equal, or one letter appended
    }
    let (s, l) = (&short[prefix..], &long[prefix..]);
    if s.len() == l.len() {
        // substitution, or neighbours swapped
        s[1..] == l[1..] || (s.len() >= 2 && s[0] == l[1] && s[1] == l[0] && s[2..] == l[2..])
    } else {
        s == &l[1..] // one letter inserted in the longer word
    }
}

/// A small table of nicknames and spelling variants; kept short on purpose: every entry
/// is a rule that can join two different people.
const NICKNAMES: &[&[&str]] = &[
    &["robert", "bob", "bobby", "rob"],
    &["william", "bill", "billy", "will"],
    &["elizabeth", "liz", "beth", "eliza"],
    &["katherine", "kate", "katie", "kathy", "catherine"],
    &["michael", "mike", "mick"],
    &["james", "jim", "jimmy", "jamie"],
    &["thomas", "tom", "tommy"],
    &["david", "dave"],
    &["christopher", "chris"],
    &["christian", "chris"],
    &["alexander", "alex"],
    &["alexandra", "alex"],
    &["daniel", "dan", "danny"],
    &["richard", "rick", "dick"],
    &["edward", "ed", "ted"],
    &["joseph", "joe"],
    &["margaret", "maggie", "peggy"],
    &["jennifer", "jen", "jenny"],
    &["benjamin", "ben"],
    &["kristian", "kris"],
    &["kristoffer", "kris"],
    &["lars", "lasse"],
    &["johannes", "hans", "johan"],
    &["frederik", "frede"],
    &["nikolaj", "nicolai", "niko"],
    &["margrethe", "grethe"],
];

/// Skeleton of each nickname → the table rows it appears in.
fn nickname_rows() -> &'static HashMap<String, Vec<usize>> {
    static ROWS: OnceLock<HashMap<String, Vec<usize>>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let mut rows: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, row) in NICKNAMES.iter().enumerate() {
            for name in *row {
                rows.entry(skeleton(name)).or_default().push(i);
            }
        }
        rows
    })
}

/// The nickname rows a word is in, as bits (the table has fewer than 64 rows).
pub(super) fn nickname_mask(word: &str) -> u64 {
    nickname_rows()
        .get(word)
        .map(|rows| {
            rows.iter()
                .filter(|r| **r < 64)
                .fold(0, |m, r| m | 1u64 << r)
        })
        .unwrap_or(0)
}

/// The full form of a nickname (`bob` → `robert`), or the word itself.
pub(super) fn nickname_canonical(word: &str) -> String {
    nickname_rows()
        .get(word)
        .and_then(|rows| rows.first())
        .and_then(|r| NICKNAMES.get(*r))
        .and_then(|row| row.first())
        .map(|full| skeleton(full))
        .unwrap_or_else(|| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_letters_fold_every_way_people_type_them() {
        for w in ["Søren", "Soeren", "Soren", "SØREN", " søren "] {
            assert_eq!(skeleton(w), "soren", "{w}");
        }
        assert_eq!(skeleton("Åse"), skeleton("Aase"));
        assert_eq!(skeleton("Bækgaard"), skeleton("Baekgard"));
    }

    #[test]
    fn one_edit_is_detected_and_two_are_not() {
        assert!(edit_distance_at_most_one("jensen", "jensne"));
        assert!(edit_distance_at_most_one("jensen", "jenson"));
        assert!(edit_distance_at_most_one("jensen", "jenssen"));
        assert!(edit_distance_at_most_one("jensen", "ensen"));
        assert!(!edit_distance_at_most_one("jensen", "hansen"));
        assert!(!edit_distance_at_most_one("", "ab"));
        assert!(edit_distance_at_most_one("", ""));
    }
}
