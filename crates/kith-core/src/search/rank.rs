//! How search orders what it found. For each query term the best match over the
//! record's fields counts:
//!
//! | match          | title (name) | other field |
//! |----------------|--------------|-------------|
//! | whole word     | 100          | 40          |
//! | prefix         | 60           | 25          |
//! | one typo       | 30           | 12          |
//!
//! A term the index matched in a field that is not shown (e.g. a second email) counts
//! 10. When every term is found in the title, 50 more. Ties are broken by the caller
//! (open deals and open tasks first, then the most recently changed).

use super::highlight::{mark, snippet, FieldKind, Hit, Marked, Term};

/// Whether a field names the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The record's name or title.
    Title,
    /// Any other searchable field.
    Other,
}

/// One searchable field of a record.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// Field name, shown beside a matched context (`email`, `body`).
    pub name: &'a str,
    /// Name or other.
    pub role: Role,
    /// How it is matched.
    pub kind: FieldKind,
    /// The stored text.
    pub text: &'a str,
}

/// A record's relevance to a query, with what to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    /// Higher is better.
    pub score: u32,
    /// Some term matched only through a typo correction.
    pub typo: bool,
    /// The title with its matches marked.
    pub title: Marked,
    /// The best matching other field (name, marked text cut around the match).
    pub context: Option<(String, Marked)>,
}

/// Longest context shown, in characters.
const CONTEXT_CHARS: usize = 160;

fn points(role: Role, hit: Hit) -> u32 {
    match (role, hit) {
        (Role::Title, Hit::Exact) => 100,
        (Role::Title, Hit::Prefix) => 60,
        (Role::Title, Hit::Typo) => 30,
        (Role::Other, Hit::Exact) => 40,
        (Role::Other, Hit::Prefix) => 25,
        (Role::Other, Hit::Typo) => 12,
    }
}

/// Scores a record the index found for `terms` and marks its matches. `fields` holds
/// the title first (a record without one shows an empty title).
pub fn rank(fields: &[Field<'_>], terms: &[Term]) -> Ranked {
    let mut best = vec![(0u32, None::<Hit>); terms.len()];
    let mut in_title = vec![false; terms.len()];
    let mut title = None;
    let mut context: Option<(u32, String, Marked)> = None;
    for f in fields.iter().filter(|f| !f.text.is_empty()) {
        let (m, hits) = mark(f.text, f.kind, terms);
        let mut field_points = 0;
        for (i, h) in hits.iter().enumerate() {
            let Some(h) = *h else { continue };
            let p = points(f.role, h);
            field_points += p;
            if p > best[i].0 {
                best[i] = (p, Some(h));
            }
            if f.role == Role::Title {
                in_title[i] = true;
            }
        }
        match f.role {
            Role::Title if title.is_none() => title = Some(m),
            Role::Other if field_points > context.as_ref().map_or(0, |c| c.0) => {
                context = Some((field_points, f.name.to_string(), snippet(&m, CONTEXT_CHARS)));
            }
            _ => {}
        }
    }
    let mut score: u32 = best.iter().map(|(p, _)| (*p).max(10)).sum();
    if !terms.is_empty() && in_title.iter().all(|t| *t) {
        score += 50;
    }
    Ranked {
        score,
        typo: best.iter().any(|(_, h)| *h == Some(Hit::Typo)),
        title: title.unwrap_or_default(),
        context: context.map(|(_, n, m)| (n, m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact<'a>(name: &'a str, email: &'a str) -> Vec<Field<'a>> {
        vec![
            Field {
                name: "name",
                role: Role::Title,
                kind: FieldKind::Text,
                text: name,
            },
            Field {
                name: "email",
                role: Role::Other,
                kind: FieldKind::Email,
                text: email,
            },
        ]
    }

    fn terms(t: &[&str]) -> Vec<Term> {
        t.iter().map(|t| Term::prefix(*t)).collect()
    }

    #[test]
    fn a_whole_name_beats_a_prefix_beats_another_field() {
        let q = terms(&["berg"]);
        let exact = rank(&contact("Ana Berg", "ana@x.dk"), &q).score;
        let prefix = rank(&contact("Ana Bergström", "ana@x.dk"), &q).score;
        let other = rank(&contact("Ana Lund", "berg@x.dk"), &q).score;
        assert!(exact > prefix && prefix > other, "{exact} {prefix} {other}");
    }

    #[test]
    fn every_word_in_the_name_beats_words_spread_over_fields() {
        let q = terms(&["ana", "berg"]);
        let both = rank(&contact("Ana Berg", "x@y.dk"), &q).score;
        let spread = rank(&contact("Ana Lund", "berg@y.dk"), &q).score;
        assert!(both > spread);
    }

    #[test]
    fn typo_matches_rank_below_real_ones_and_say_so() {
        let q = vec![Term {
            text: "jensne".into(),
            typos: vec!["jensen".into()],
        }];
        let r = rank(&contact("Ole Jensen", "ole@x.dk"), &q);
        assert!(r.typo);
        let real = rank(&contact("Ole Jensen", "ole@x.dk"), &terms(&["jensen"]));
        assert!(real.score > r.score && !real.typo);
    }

    #[test]
    fn the_context_is_the_best_other_field() {
        let r = rank(&contact("Ana Lund", "berg@y.dk"), &terms(&["berg"]));
        let (name, m) = r.context.expect("email matched");
        assert_eq!(name, "email");
        assert_eq!(m.marks, vec![(0, 4)]);
    }
}
