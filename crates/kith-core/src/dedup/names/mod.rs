//! Person names as dedup compares them: Danish spellings, accents, case, spaces, swapped
//! first/last, typos, nicknames, and Chinese names in characters or in pinyin.

mod words;

pub(crate) use words::edit_distance_at_most_one;
pub use words::skeleton;
use words::{nickname_canonical, nickname_mask, word_match, Word, WordMatch};

/// Most words of a name looked at; more is noise (and keeps comparison cost bounded).
const MAX_WORDS: usize = 6;

/// Longest name shown in a reason, in characters.
const MAX_DISPLAY: usize = 80;

pub(crate) use crate::search::is_cjk;

/// Splits a field into skeleton words, ignoring CJK characters (they are handled whole).
fn latin_words(field: &str) -> Vec<Word> {
    field
        .split(|c: char| !c.is_alphanumeric() || is_cjk(c))
        .map(skeleton)
        .filter(|w| !w.is_empty())
        .take(MAX_WORDS)
        .map(|text| Word {
            nicknames: nickname_mask(&text),
            text,
        })
        .collect()
}

/// Pinyin of a run of CJK characters as one word (`欧阳` → `ouyang`).
fn pinyin(cjk: &str) -> String {
    skeleton(&deunicode::deunicode(cjk))
}

/// A name prepared once for many comparisons.
#[derive(Debug, Clone, Default)]
pub(crate) struct Name {
    /// As typed, trimmed and single-spaced: for reasons shown to people.
    pub display: String,
    first: Vec<Word>,
    last: Vec<Word>,
    /// `first` then `last`.
    all: Vec<Word>,
    /// The CJK characters of the whole name, sorted, so field order does not matter.
    han: Vec<char>,
    /// The CJK name in pinyin, as whole-name strings in both orders (`zhangwei`, `weizhang`).
    pinyin_forms: Vec<String>,
    /// The CJK name in pinyin as words, family name first where it can be told.
    pinyin_words: Vec<String>,
}

impl Name {
    /// Prepares a person's name fields.
    pub fn new(first: Option<&str>, last: Option<&str>) -> Name {
        let first = first.unwrap_or("").trim();
        let last = last.unwrap_or("").trim();
        // Cut, so a pasted essay does not become the reason shown on screen.
        let display = format!("{first} {last}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(MAX_DISPLAY)
            .collect();
        let cjk_of = |s: &str| s.chars().filter(|c| is_cjk(*c)).collect::<String>();
        let (han_first, han_last) = (cjk_of(first), cjk_of(last));
        let mut han: Vec<char> = han_last.chars().chain(han_first.chars()).collect();
        han.sort_unstable();
        // Family name and given name in pinyin; when the whole name sits in one field,
        // its first character is taken as the family name (true of most Chinese names).
        let (family, given) = match (han_last.is_empty(), han_first.is_empty()) {
            (false, false) => (pinyin(&han_last), pinyin(&han_first)),
            (true, true) => (String::new(), String::new()),
            _ => {
                let whole = if han_last.is_empty() {
                    &han_first
                } else {
                    &han_last
                };
                let mut chars = whole.chars();
                let head: String = chars.next().map(String::from).unwrap_or_default();
                (pinyin(&head), pinyin(chars.as_str()))
            }
        };
        let pinyin_words: Vec<String> = [family.clone(), given.clone()]
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect();
        let mut pinyin_forms = Vec::new();
        if !pinyin_words.is_empty() {
            pinyin_forms.push(format!("{family}{given}"));
            pinyin_forms.push(format!("{given}{family}"));
        }
        let (first, last) = (latin_words(first), latin_words(last));
        Name {
            display,
            all: first.iter().chain(&last).cloned().collect(),
            first,
            last,
            han,
            pinyin_forms,
            pinyin_words,
        }
    }

    /// All Latin words, first name first.
    fn words(&self) -> &[Word] {
        &self.all
    }

    /// Words for the name blocking key: pinyin for CJK names (so `张伟` and `Zhang Wei`
    /// meet), else the first and the last word, nicknames replaced by their full form.
    pub fn key_words(&self) -> Vec<String> {
        let words = if self.pinyin_words.is_empty() {
            let all: Vec<&String> = self
                .all
                .iter()
                .map(|w| &w.text)
                .filter(|w| w.len() > 1)
                .collect();
            match (all.first(), all.last()) {
                (Some(a), Some(b)) if all.len() >= 2 => vec![(*a).clone(), (*b).clone()],
                _ => Vec::new(),
            }
        } else {
            self.pinyin_words.clone()
        };
        let mut words: Vec<String> = words.iter().map(|w| nickname_canonical(w)).collect();
        words.sort();
        words
    }

    /// The last Latin word (usually the family name), for the postcode + name key.
    pub fn family_word(&self) -> Option<String> {
        self.pinyin_words
            .first()
            .or(self.last.last().map(|w| &w.text))
            .or(self.first.last().map(|w| &w.text))
            .cloned()
    }

    fn is_empty(&self) -> bool {
        self.han.is_empty() && self.first.is_empty() && self.last.is_empty()
    }
}

/// What comparing two names concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// One side has no name: no evidence either way.
    Unknown,
    /// Same words, after folding case, spaces, accents and æ/ae; maybe swapped.
    Same,
    /// Same words but for a nickname or a one-letter typo.
    Similar,
    /// One name has extra words (a middle name, Hans-Henrik vs Hans) or initials.
    Subset,
    /// Every word accounted for, but some only by a one-letter near miss in a short
    /// word: as often two people (Mary/Mark Jones at one address) as a typo.
    NearMiss,
    /// A CJK name and the same name in pinyin (`张伟` / `Zhang Wei`); homophones exist.
    Pinyin,
    /// A word on each side without a counterpart: different people (Søren vs Mette).
    Conflict,
    /// A CJK name and a Latin name that is not its pinyin; transliteration is uncertain.
    ScriptConflict,
}

/// The verdict and a few words on why, for the reason shown to people.
pub(crate) struct NameComparison {
    pub verdict: Verdict,
    pub note: &'static str,
}

/// Compares two prepared names.
pub(crate) fn compare(a: &Name, b: &Name) -> NameComparison {
    let done = |verdict, note| NameComparison { verdict, note };
    if a.is_empty() || b.is_empty() {
        return done(Verdict::Unknown, "");
    }
    match (a.han.is_empty(), b.han.is_empty()) {
        (false, false) => {
            return if a.han == b.han {
                done(Verdict::Same, "")
            } else {
                done(Verdict::Conflict, "")
            }
        }
        (false, true) | (true, false) => {
            let (cjk, latin) = if a.han.is_empty() { (b, a) } else { (a, b) };
            return compare_cross_script(cjk, latin);
        }
        (true, true) => {}
    }
    let (worst, extra_a, extra_b) = align(a.words(), b.words());
    if extra_a > 0 && extra_b > 0 {
        return done(Verdict::Conflict, "");
    }
    let extra = extra_a + extra_b > 0;
    let note = match worst {
        WordMatch::Nickname => "nickname",
        WordMatch::Typo => "one letter differs",
        WordMatch::Initial => "initial",
        WordMatch::Close => "one letter differs in a short name",
        _ if extra => "extra name",
        _ if is_swapped(a, b) => "first and last name swapped",
        _ => "",
    };
    let verdict = match worst {
        WordMatch::Close => Verdict::NearMiss,
        WordMatch::Initial => Verdict::Subset,
        _ if extra => Verdict::Subset,
        WordMatch::Exact => Verdict::Same,
        _ => Verdict::Similar,
    };
    done(verdict, note)
}

fn compare_cross_script(cjk: &Name, latin: &Name) -> NameComparison {
    let words = latin.words();
    let joined = |ws: &[Word]| ws.iter().map(|w| w.text.as_str()).collect::<String>();
    let (first, last) = (joined(&latin.first), joined(&latin.last));
    let forms = [format!("{first}{last}"), format!("{last}{first}")];
    let family = cjk
        .pinyin_words
        .first()
        .filter(|f| words.iter().any(|w| &w.text == *f));
    let verdict = if forms.iter().any(|f| cjk.pinyin_forms.contains(f)) {
        Verdict::Pinyin
    } else if words.is_empty() {
        Verdict::Unknown
    } else if family.is_some() {
        // Same family name in pinyin, another given name: 张伟 vs Zhang Fang.
        Verdict::Conflict
    } else {
        Verdict::ScriptConflict
    };
    NameComparison { verdict, note: "" }
}

/// Pairs up words best-first; returns the weakest pairing made and how many words on
/// each side found no counterpart. Names have at most [`MAX_WORDS`] words, so this
/// works on the stack.
fn align(a: &[Word], b: &[Word]) -> (WordMatch, usize, usize) {
    let mut candidates = [(WordMatch::None, 0, 0); MAX_WORDS * MAX_WORDS];
    let mut n = 0;
    for (i, x) in a.iter().enumerate().take(MAX_WORDS) {
        for (j, y) in b.iter().enumerate().take(MAX_WORDS) {
            let m = word_match(x, y);
            if m != WordMatch::None {
                candidates[n] = (m, i, j);
                n += 1;
            }
        }
    }
    let candidates = &mut candidates[..n];
    candidates.sort_unstable();
    let (mut used_a, mut used_b) = ([false; MAX_WORDS], [false; MAX_WORDS]);
    let mut worst = WordMatch::Exact;
    let mut paired = 0;
    for &(m, i, j) in candidates.iter() {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            worst = worst.max(m);
            paired += 1;
        }
    }
    if paired == 0 {
        worst = WordMatch::None;
    }
    let (la, lb) = (a.len().min(MAX_WORDS), b.len().min(MAX_WORDS));
    (worst, la - paired, lb - paired)
}

/// Whether a's first name is b's last name and the other way round.
fn is_swapped(a: &Name, b: &Name) -> bool {
    let same = |x: &[Word], y: &[Word]| {
        !x.is_empty()
            && x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|(p, q)| word_match(p, q) <= WordMatch::Typo)
    };
    same(&a.first, &b.last) && same(&a.last, &b.first) && !same(&a.first, &b.first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(a: (&str, &str), b: (&str, &str)) -> Verdict {
        compare(
            &Name::new(Some(a.0), Some(a.1)),
            &Name::new(Some(b.0), Some(b.1)),
        )
        .verdict
    }

    #[test]
    fn swapped_typo_and_nickname_names_are_similar() {
        assert_eq!(
            verdict(("Søren", "Jensen"), ("Jensen", "Soeren")),
            Verdict::Same
        );
        assert_eq!(
            verdict(("Mette", "Nielsen"), ("Mette", "Nielsne")),
            Verdict::Similar
        );
        assert_eq!(
            verdict(("Bob", "Smith"), ("Robert", "Smith")),
            Verdict::Similar
        );
        assert_eq!(
            verdict(("Hans-Henrik", "Hansen"), ("Hans", "Hansen")),
            Verdict::Subset
        );
        assert_eq!(
            verdict(("S.", "Jensen"), ("Søren", "Jensen")),
            Verdict::Subset
        );
    }

    #[test]
    fn names_one_letter_apart_that_are_different_names_conflict() {
        for (x, y) in [
            ("Anne", "Hanne"),
            ("Hanne", "Janne"),
            ("Anne", "Anna"),
            ("Daniel", "Daniela"),
            ("Christian", "Christina"),
        ] {
            assert_eq!(
                verdict((x, "Hansen"), (y, "Hansen")),
                Verdict::Conflict,
                "{x} {y}"
            );
        }
        assert_eq!(
            verdict(("Lars", "Hansen"), ("Lasr", "Hansen")),
            Verdict::NearMiss
        );
    }

    #[test]
    fn family_members_conflict() {
        assert_eq!(
            verdict(("Søren", "Jensen"), ("Mette", "Jensen")),
            Verdict::Conflict
        );
        assert_eq!(verdict(("张", "伟"), ("张", "芳")), Verdict::Conflict);
    }

    #[test]
    fn chinese_names_match_in_any_field_order_and_in_pinyin() {
        assert_eq!(verdict(("伟", "张"), ("张伟", "")), Verdict::Same);
        assert_eq!(verdict(("伟", "张"), ("张 伟", "")), Verdict::Same);
        assert_eq!(verdict(("伟", "张"), ("Wei", "Zhang")), Verdict::Pinyin);
        assert_eq!(verdict(("张伟", ""), ("Zhang", "Wei")), Verdict::Pinyin);
        assert_eq!(
            verdict(("伟", "张"), ("Fang", "Wang")),
            Verdict::ScriptConflict
        );
        let key = |f, l| Name::new(Some(f), Some(l)).key_words();
        assert_eq!(key("伟", "张"), key("Wei", "Zhang"));
        assert_eq!(key("张伟", ""), key("Zhang", "Wei"));
    }

    #[test]
    fn missing_names_are_no_evidence() {
        assert_eq!(verdict(("", ""), ("Søren", "Jensen")), Verdict::Unknown);
    }
}
