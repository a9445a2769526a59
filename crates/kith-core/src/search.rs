//! The one search tokeniser: both backends index the terms it makes, so a query finds
//! the same records on SQLite and PostgreSQL.
//!
//! - Words of alphabetic scripts are lower-cased and folded twice, the Danish way
//!   (`Søren` → `soeren`) and plainly (`soren`), so every way people type æ/ø/å finds them.
//! - Chinese, Japanese and Korean runs are indexed as single characters and bigrams, so a
//!   2-character name such as `张伟` is a term of its own.
//! - Emails are indexed whole, by local part and by domain; phones by all their digits
//!   and by their national digits.
//!
//! Every query term is matched as a prefix, which gives search-as-you-type.

use std::collections::BTreeSet;

pub mod highlight;
pub mod rank;
pub mod typo;

/// Longest term stored; longer words are cut (prefix matching still finds them).
const MAX_TERM: usize = 48;

/// Chinese, Japanese and Korean characters, indexed as characters and bigrams.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_TERM).collect()
}

/// Folds a word the Danish way: lower-case, æ→ae, ø→oe, å→aa, other accents dropped.
pub fn fold_danish(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            'æ' | 'ä' => out.push_str("ae"),
            'ø' | 'ö' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(&deunicode::deunicode_char(c).unwrap_or("").to_lowercase()),
        }
    }
    out
}

/// Folds a word plainly: lower-case ASCII transliteration (ø→o, å→a, é→e).
pub fn fold_plain(word: &str) -> String {
    deunicode::deunicode(word).to_lowercase()
}

/// Splits text into words and CJK runs.
fn segments(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let cjk = is_cjk(c);
        let word = !cjk && c.is_alphanumeric();
        if !cjk && !word {
            out.push((false, String::new()));
            continue;
        }
        match out.last_mut() {
            Some((was_cjk, s)) if *was_cjk == cjk && (!s.is_empty() || !cjk) && !s.is_empty() => {
                s.push(c)
            }
            _ => out.push((cjk, c.to_string())),
        }
    }
    out.retain(|(_, s)| !s.is_empty());
    out
}

fn push_text_terms(text: &str, terms: &mut BTreeSet<String>) {
    for (cjk, seg) in segments(text) {
        if cjk {
            let chars: Vec<char> = seg.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                terms.insert(c.to_string());
                if let Some(n) = chars.get(i + 1) {
                    terms.insert(format!("{c}{n}"));
                }
            }
        } else {
            for t in [fold_danish(&seg), fold_plain(&seg)] {
                if !t.is_empty() {
                    terms.insert(cut(&t));
                }
            }
        }
    }
}

/// A Chinese (or Japanese, Korean) name written family name first, as people type it
/// (`张` + `伟` → `张伟`), so its bigram is indexed; None for other scripts.
pub fn cjk_full_name(first: &str, last: &str) -> Option<String> {
    let cjk = |s: &str| !s.is_empty() && s.chars().all(is_cjk);
    (cjk(first) && cjk(last)).then(|| format!("{last}{first}"))
}

/// What a record offers to search.
#[derive(Debug, Default, Clone)]
pub struct Document<'a> {
    /// Names, titles, company names.
    pub texts: Vec<&'a str>,
    /// Email addresses (already normalised).
    pub emails: Vec<&'a str>,
    /// Phone numbers in E.164, perhaps with an extension.
    pub phones: Vec<&'a str>,
}

impl Document<'_> {
    /// The terms to store for this record.
    pub fn terms(&self) -> BTreeSet<String> {
        let mut terms = BTreeSet::new();
        for t in &self.texts {
            push_text_terms(t, &mut terms);
        }
        for e in &self.emails {
            let e = e.to_lowercase();
            terms.insert(cut(&e));
            if let Some((local, domain)) = e.split_once('@') {
                terms.insert(cut(domain));
                push_text_terms(local, &mut terms);
                push_text_terms(domain, &mut terms);
            }
        }
        for p in &self.phones {
            let p = crate::contact_points::phone_number(p);
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 3 {
                terms.insert(digits.clone());
                if let Some(national) = national_digits(p) {
                    terms.insert(national);
                }
            }
        }
        terms
    }
}

/// The national part of an E.164 number, found by its country code's length.
fn national_digits(e164: &str) -> Option<String> {
    let digits: String = e164
        .strip_prefix('+')?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    // Country codes are 1–3 digits; the single-digit ones are 1 (NANP) and 7.
    let cc_len = match digits.as_bytes().first()? {
        b'1' | b'7' => 1,
        _ if [
            "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
            "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61",
            "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94",
            "95", "98",
        ]
        .contains(&&digits[..2.min(digits.len())]) =>
        {
            2
        }
        _ => 3,
    };
    (digits.len() > cc_len + 2).then(|| digits[cc_len..].to_string())
}

/// The terms a query must match, each as a prefix, all of them.
pub fn query_terms(q: &str) -> Vec<String> {
    let q = q.trim();
    if q.is_empty() {
        return vec![];
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let phone_like = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_like && digits.len() >= 3 {
        let digits = digits.trim_start_matches("00").to_string();
        return vec![digits];
    }
    let mut out: Vec<String> = Vec::new();
    for word in q.split_whitespace() {
        if word.contains('@') {
            out.push(cut(&word.to_lowercase()));
            continue;
        }
        for (cjk, seg) in segments(word) {
            if cjk {
                let chars: Vec<char> = seg.chars().collect();
                if chars.len() == 1 {
                    out.push(seg);
                } else {
                    out.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
                }
            } else {
                let t = fold_danish(&seg);
                if !t.is_empty() {
                    out.push(cut(&t));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    // A shorter term that prefixes a longer one adds nothing.
    let all = out.clone();
    out.retain(|t| !all.iter().any(|o| o != t && o.starts_with(t.as_str())));
    out.truncate(8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_terms(texts: &[&str]) -> BTreeSet<String> {
        Document {
            texts: texts.to_vec(),
            ..Default::default()
        }
        .terms()
    }

    fn finds(terms: &BTreeSet<String>, q: &str) -> bool {
        let qt = query_terms(q);
        !qt.is_empty()
            && qt
                .iter()
                .all(|t| terms.iter().any(|x| x.starts_with(t.as_str())))
    }

    #[test]
    fn two_character_chinese_names_are_found() {
        let t = doc_terms(&["张伟"]);
        assert!(finds(&t, "张伟"));
        assert!(finds(&t, "张"));
        assert!(!finds(&t, "王伟"));
        let t = doc_terms(&["张三丰"]);
        assert!(finds(&t, "张三"));
        assert!(finds(&t, "三丰"));
    }

    #[test]
    fn chinese_names_stored_in_two_fields_are_found_whole() {
        let full = cjk_full_name("伟", "张").unwrap();
        let t = doc_terms(&["伟", "张", &full]);
        assert!(finds(&t, "张伟"));
        assert_eq!(cjk_full_name("Søren", "Jensen"), None);
    }

    #[test]
    fn danish_names_are_found_however_typed() {
        let t = doc_terms(&["Søren Ærø", "Åse"]);
        for q in [
            "Søren", "soeren", "SOREN", "sør", "aeroe", "æ", "Åse", "aase", "ase",
        ] {
            assert!(finds(&t, q), "{q} missed");
        }
    }

    #[test]
    fn phones_match_by_the_digits_people_remember() {
        let t = Document {
            phones: vec!["+4520123456"],
            ..Default::default()
        }
        .terms();
        assert!(finds(&t, "2012 3456"));
        assert!(finds(&t, "+45 20 12"));
        assert!(finds(&t, "0045 2012"));
        assert!(!finds(&t, "3012"));
        let t = Document {
            phones: vec!["+8613800138000"],
            ..Default::default()
        }
        .terms();
        assert!(finds(&t, "138 0013"));
        // An extension is no part of the digits people dial first.
        let t = Document {
            phones: vec!["+4570123456;ext=12"],
            ..Default::default()
        }
        .terms();
        assert!(t.contains("70123456") && t.contains("4570123456"), "{t:?}");
        assert!(!t.iter().any(|term| term.ends_with("12") && term.len() > 8));
    }

    #[test]
    fn emails_match_by_their_parts() {
        let t = Document {
            emails: vec!["ana.berg@example.com"],
            ..Default::default()
        }
        .terms();
        for q in ["ana.berg@ex", "berg", "example", "example.com"] {
            assert!(finds(&t, q), "{q} missed");
        }
    }

    #[test]
    fn queries_need_every_word() {
        let t = doc_terms(&["Ana Berg", "Acme ApS"]);
        assert!(finds(&t, "ana acme"));
        assert!(!finds(&t, "ana zeta"));
    }

    #[test]
    fn sql_looking_queries_are_only_terms() {
        let q = query_terms("'; DROP TABLE contacts; --");
        assert_eq!(q, vec!["contacts", "drop", "table"]);
    }
}
