//! One typo in a Latin word: which words may be corrected, which stored terms a
//! workspace's vocabulary keeps for that, and the candidates one edit away.
//!
//! Candidates are generated from the query word (Norvig's edits: a letter deleted,
//! swapped with its neighbour, replaced or inserted) and looked up in the vocabulary
//! table, so writing a record costs one vocabulary row per new word and nothing more.

use std::collections::BTreeSet;

use super::MAX_TERM;

/// Shortest query word corrected: shorter words have too many neighbours to guess.
pub const MIN_CORRECTED: usize = 5;

/// Whether a stored term belongs in the typo vocabulary: a folded Latin word of 4 or
/// more letters (the shortest a 5-letter word is one deletion away from).
pub fn is_vocabulary_term(term: &str) -> bool {
    (MIN_CORRECTED - 1..=MAX_TERM).contains(&term.len())
        && term.bytes().all(|b| b.is_ascii_lowercase())
}

/// Whether a query term may be corrected: a folded Latin word of 5 or more letters.
pub fn is_correctable(term: &str) -> bool {
    term.len() >= MIN_CORRECTED && is_vocabulary_term(term)
}

/// Every vocabulary-shaped word one edit (delete, swap, replace, insert) away from
/// `word`; empty unless `word` is correctable.
pub fn one_edit_away(word: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if !is_correctable(word) {
        return out;
    }
    let w = word.as_bytes();
    let n = w.len();
    let mut push = |v: Vec<u8>| {
        // Only ASCII letters go in, so the bytes stay valid UTF-8.
        if let Ok(s) = String::from_utf8(v) {
            if s != word && is_vocabulary_term(&s) {
                out.insert(s);
            }
        }
    };
    for i in 0..n {
        let mut v = w.to_vec();
        v.remove(i);
        push(v);
    }
    for i in 0..n.saturating_sub(1) {
        let mut v = w.to_vec();
        v.swap(i, i + 1);
        push(v);
    }
    for i in 0..n {
        for c in b'a'..=b'z' {
            if c != w[i] {
                let mut v = w.to_vec();
                v[i] = c;
                push(v);
            }
        }
    }
    for i in 0..=n {
        for c in b'a'..=b'z' {
            let mut v = w.to_vec();
            v.insert(i, c);
            push(v);
        }
    }
    out
}

/// Whether `a` and `b` are at most one edit apart (optimal string alignment).
pub fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match diff.as_slice() {
                [_] => true,
                [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
                _ => false,
            }
        }
        1 => {
            let i = (0..short.len())
                .find(|&i| short[i] != long[i])
                .unwrap_or(short.len());
            short[i..] == long[i + 1..]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_typos_of_jensen_are_one_edit_away() {
        for typo in ["jensne", "jnesen", "jensn", "jensenn", "jansen", "jensem"] {
            assert!(one_edit_away(typo).contains("jensen"), "{typo}");
            assert!(within_one_edit(typo, "jensen"), "{typo}");
        }
        assert!(one_edit_away("andersn").contains("andersen"));
        assert!(one_edit_away("soerne").contains("soeren"));
    }

    #[test]
    fn two_edits_are_not_one() {
        assert!(!one_edit_away("jnesne").contains("jensen"));
        assert!(!within_one_edit("jnesne", "jensen"));
        assert!(!within_one_edit("jen", "jensen"));
    }

    #[test]
    fn short_words_digits_and_other_scripts_are_not_corrected() {
        assert!(one_edit_away("jens").is_empty());
        assert!(one_edit_away("jensen2").is_empty());
        assert!(one_edit_away("张伟张伟张").is_empty());
        assert!(!is_vocabulary_term("abc"));
        assert!(is_vocabulary_term("jens"));
        assert!(!is_vocabulary_term("ana.berg@example.com"));
    }

    #[test]
    fn candidates_stay_few_enough_for_one_lookup() {
        // 53n + 25 at most: an IN list of a few hundred values.
        assert!(one_edit_away("andersen").len() <= 53 * 8 + 25);
        assert!(!one_edit_away("andersen").contains("andersen"));
    }
}
