//! Where a query matched inside a field's text: byte ranges to mark (the web layer
//! escapes and wraps them in `<mark>`), how well each query term matched, and a short
//! window of long texts around the first match.
//!
//! The rules mirror the index: a Latin word matches when either of its foldings starts
//! with the term, CJK terms match as substrings, phones by their full or national
//! digits, emails from their start.

use super::{fold_danish, fold_plain, is_cjk, national_digits};

/// How well a query term matched a word, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hit {
    /// A stored word one edit away.
    Typo,
    /// The start of a word (or, in CJK, part of a run).
    Prefix,
    /// A whole word.
    Exact,
}

/// A query term as the search used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The folded term, matched as a prefix.
    pub text: String,
    /// For a word that matched nothing: stored words one edit away, matched whole.
    pub typos: Vec<String>,
}

impl Term {
    /// A term matched as a prefix only.
    pub fn prefix(text: impl Into<String>) -> Term {
        Term {
            text: text.into(),
            typos: vec![],
        }
    }
}

/// What kind of value a field holds, which decides how it is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Names, titles, free text.
    Text,
    /// An email address.
    Email,
    /// A phone number in E.164.
    Phone,
}

/// Text with the byte ranges (on character boundaries, sorted, not overlapping) that
/// a search matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marked {
    /// The text as stored (not escaped).
    pub text: String,
    /// Matched ranges, as byte offsets into `text`.
    pub marks: Vec<(usize, usize)>,
}

impl Marked {
    /// The text split into (is it marked?, piece) runs, for rendering.
    pub fn pieces(&self) -> Vec<(bool, &str)> {
        let mut out = vec![];
        let mut at = 0;
        for &(s, e) in &self.marks {
            if s > at {
                out.push((false, &self.text[at..s]));
            }
            out.push((true, &self.text[s..e]));
            at = e;
        }
        if at < self.text.len() {
            out.push((false, &self.text[at..]));
        }
        out
    }

    /// The marks as character (code point) offsets, for clients outside Rust.
    pub fn char_marks(&self) -> Vec<(usize, usize)> {
        let chars = |b: usize| self.text[..b].chars().count();
        self.marks
            .iter()
            .map(|&(s, e)| (chars(s), chars(e)))
            .collect()
    }
}

/// Runs of one kind: `Some(true)` CJK, `Some(false)` other letters and digits.
fn runs(text: &str) -> Vec<(bool, usize, usize)> {
    let mut out: Vec<(bool, usize, usize)> = vec![];
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let kind = if is_cjk(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (kind, out.last_mut()) {
            (Some(k), Some(last)) if last.0 == k && last.2 == i => last.2 = end,
            (Some(k), _) => out.push((k, i, end)),
            (None, _) => {}
        }
    }
    out
}

/// Bytes of `word` whose folding (char by char with `fold`) first covers `len` bytes.
fn folded_prefix_end(word: &str, len: usize, fold: Fold) -> usize {
    let mut folded = 0;
    for (i, c) in word.char_indices() {
        folded += fold(c.encode_utf8(&mut [0; 4])).len();
        if folded >= len {
            return i + c.len_utf8();
        }
    }
    word.len()
}

/// A way of folding a word (Danish or plain).
type Fold = fn(&str) -> String;

fn match_word(word: &str, term: &Term) -> Option<(Hit, usize)> {
    let folds: [(String, Fold); 2] = [
        (fold_danish(word), fold_danish),
        (fold_plain(word), fold_plain),
    ];
    if folds.iter().any(|(f, _)| *f == term.text) {
        return Some((Hit::Exact, word.len()));
    }
    for (f, fold) in &folds {
        if !term.text.is_empty() && f.starts_with(term.text.as_str()) {
            return Some((Hit::Prefix, folded_prefix_end(word, term.text.len(), *fold)));
        }
    }
    folds
        .iter()
        .any(|(f, _)| term.typos.iter().any(|t| t == f))
        .then_some((Hit::Typo, word.len()))
}

fn phone_match(text: &str, term: &str) -> Option<(Hit, usize, usize)> {
    let text = crate::contact_points::phone_number(text);
    let digits: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .collect();
    let all: String = digits.iter().map(|(_, c)| *c).collect();
    let national = national_digits(text).unwrap_or_default();
    let (skip, whole) = if !national.is_empty() && national.starts_with(term) {
        (all.len() - national.len(), national == term)
    } else if all.starts_with(term) {
        (0, all == term)
    } else {
        return None;
    };
    let first = digits.get(skip)?;
    let last = digits.get(skip + term.len() - 1)?;
    let hit = if whole { Hit::Exact } else { Hit::Prefix };
    Some((hit, first.0, last.0 + 1))
}

/// Marks where `terms` match `text` and says how well each term matched (None: not here).
pub fn mark(text: &str, kind: FieldKind, terms: &[Term]) -> (Marked, Vec<Option<Hit>>) {
    let mut marks = vec![];
    let mut hits = vec![None; terms.len()];
    let word_runs = runs(text);
    for (ti, term) in terms.iter().enumerate() {
        let t = term.text.as_str();
        let mut best: Option<Hit> = None;
        let mut note = |h: Hit, s: usize, e: usize, marks: &mut Vec<(usize, usize)>| {
            marks.push((s, e));
            best = best.max(Some(h));
        };
        if t.is_empty() {
            continue;
        }
        if t.contains('@') {
            let lower = text.to_lowercase();
            if kind == FieldKind::Email && lower.starts_with(t) {
                let n = t.chars().count();
                let end = text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
                let h = if lower == t { Hit::Exact } else { Hit::Prefix };
                note(h, 0, end, &mut marks);
            }
        } else if t.chars().all(is_cjk) {
            for &(_, s, e) in word_runs.iter().filter(|r| r.0) {
                let run = &text[s..e];
                for (at, _) in run.match_indices(t) {
                    let h = if run == t { Hit::Exact } else { Hit::Prefix };
                    note(h, s + at, s + at + t.len(), &mut marks);
                }
            }
        } else if kind == FieldKind::Phone && t.bytes().all(|b| b.is_ascii_digit()) {
            if let Some((h, s, e)) = phone_match(text, t) {
                note(h, s, e, &mut marks);
            }
        } else {
            for &(_, s, e) in word_runs.iter().filter(|r| !r.0) {
                if let Some((h, len)) = match_word(&text[s..e], term) {
                    note(h, s, s + len, &mut marks);
                }
            }
        }
        hits[ti] = best;
    }
    marks.sort_unstable();
    let mut merged: Vec<(usize, usize)> = vec![];
    for (s, e) in marks {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    (
        Marked {
            text: text.to_string(),
            marks: merged,
        },
        hits,
    )
}

/// A window of about `max_chars` characters around the first mark of a long text,
/// with `…` where it was cut.
pub fn snippet(m: &Marked, max_chars: usize) -> Marked {
    let total = m.text.chars().count();
    if total <= max_chars {
        return m.clone();
    }
    let bounds: Vec<usize> = m
        .text
        .char_indices()
        .map(|(i, _)| i)
        .chain([m.text.len()])
        .collect();
    let first = m.marks.first().map_or(0, |&(s, _)| s);
    let first_char = bounds.partition_point(|&b| b < first);
    // A quarter of the window before the match gives it some context.
    let start_char = first_char
        .saturating_sub(max_chars / 4)
        .min(total - max_chars);
    let end_char = start_char + max_chars;
    let (start, end) = (bounds[start_char], bounds[end_char]);
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < m.text.len() { "…" } else { "" };
    let text = format!("{lead}{}{tail}", &m.text[start..end]);
    let marks = m
        .marks
        .iter()
        .filter(|&&(s, e)| e > start && s < end)
        .map(|&(s, e)| {
            (
                s.max(start) - start + lead.len(),
                e.min(end) - start + lead.len(),
            )
        })
        .collect();
    Marked { text, marks }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(text: &str, kind: FieldKind, terms: &[&str]) -> Vec<String> {
        let terms: Vec<Term> = terms.iter().map(|t| Term::prefix(*t)).collect();
        let (m, _) = mark(text, kind, &terms);
        m.marks
            .iter()
            .map(|&(s, e)| m.text[s..e].to_string())
            .collect()
    }

    #[test]
    fn latin_prefixes_mark_the_typed_part_however_folded() {
        assert_eq!(
            marked("Søren Jensen", FieldKind::Text, &["soeren"]),
            ["Søren"]
        );
        assert_eq!(marked("Søren Jensen", FieldKind::Text, &["sor"]), ["Sør"]);
        assert_eq!(marked("Søren Jensen", FieldKind::Text, &["jen"]), ["Jen"]);
        assert_eq!(marked("Åse Ærø", FieldKind::Text, &["aase"]), ["Åse"]);
    }

    #[test]
    fn exact_words_beat_prefixes() {
        let (_, hits) = mark(
            "Jens Jensen",
            FieldKind::Text,
            &[Term::prefix("jensen"), Term::prefix("jens")],
        );
        assert_eq!(hits, vec![Some(Hit::Exact), Some(Hit::Exact)]);
        let (_, hits) = mark("Jensen", FieldKind::Text, &[Term::prefix("jens")]);
        assert_eq!(hits, vec![Some(Hit::Prefix)]);
    }

    #[test]
    fn chinese_substrings_are_marked() {
        assert_eq!(marked("张伟", FieldKind::Text, &["张伟"]), ["张伟"]);
        assert_eq!(
            marked("王张三丰", FieldKind::Text, &["三丰", "张三"]),
            ["张三丰"]
        );
    }

    #[test]
    fn phones_mark_the_digits_remembered() {
        assert_eq!(
            marked("+4520123456", FieldKind::Phone, &["20123456"]),
            ["20123456"]
        );
        assert_eq!(
            marked("+4520123456", FieldKind::Phone, &["452012"]),
            ["452012"]
        );
        assert!(marked("+4520123456", FieldKind::Phone, &["3456"]).is_empty());
        assert_eq!(
            marked("+4520123456;ext=7", FieldKind::Phone, &["20123456"]),
            ["20123456"]
        );
        let terms = [Term::prefix("20123456")];
        assert_eq!(
            mark("+4520123456;ext=7", FieldKind::Phone, &terms).1,
            [Some(Hit::Exact)]
        );
    }

    #[test]
    fn emails_mark_whole_prefix_and_parts() {
        assert_eq!(
            marked("ana.berg@example.com", FieldKind::Email, &["ana.berg@ex"]),
            ["ana.berg@ex"]
        );
        assert_eq!(
            marked("ana.berg@example.com", FieldKind::Email, &["berg"]),
            ["berg"]
        );
    }

    #[test]
    fn typos_mark_the_whole_word() {
        let t = Term {
            text: "jensne".into(),
            typos: vec!["jensen".into()],
        };
        let (m, hits) = mark("Ole Jensen", FieldKind::Text, &[t]);
        assert_eq!(hits, vec![Some(Hit::Typo)]);
        assert_eq!(m.pieces(), vec![(false, "Ole "), (true, "Jensen")]);
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let body = format!(
            "{} Jensen called about the offer. {}",
            "x".repeat(300),
            "y".repeat(300)
        );
        let (m, _) = mark(&body, FieldKind::Text, &[Term::prefix("jensen")]);
        let s = snippet(&m, 80);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(s.text.chars().count(), 82);
        let (a, b) = s.marks[0];
        assert_eq!(&s.text[a..b], "Jensen");
        // Character offsets count code points, not bytes.
        assert_eq!(s.char_marks()[0].1 - s.char_marks()[0].0, 6);
    }

    #[test]
    fn nothing_odd_in_the_text_breaks_marking() {
        for text in [
            "",
            "🎉🎉",
            "'; DROP TABLE x; --",
            "\u{0}\u{10FFFF}",
            "a\u{301}b",
        ] {
            let (m, _) = mark(
                text,
                FieldKind::Text,
                &[Term::prefix("a"), Term::prefix("🎉")],
            );
            for (s, e) in m.marks {
                assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
            }
        }
    }
}
