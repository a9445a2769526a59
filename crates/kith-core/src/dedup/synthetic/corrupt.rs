//! The mistakes that make duplicates: how the second entry of a contact differs from the
//! first.

use super::data::{CHINESE_COMPANIES, DANISH_COMPANIES, ENGLISH_COMPANIES, NICKNAMES};
use super::{local_part, pinyin_word, Culture, Rng, Uniques};
use crate::dedup::names::is_cjk;
use crate::dedup::Person;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mistake {
    Typo,
    Swap,
    Transliterate,
    Pinyin,
    CjkLayout,
    DropEmail,
    DropPhone,
    NewEmail,
    Nickname,
    CaseSpace,
    CompanySuffix,
    GmailVariant,
    DropDetails,
    Initial,
}

/// How often each mistake is made (relative weights).
const MISTAKES: &[(Mistake, usize)] = &[
    (Mistake::Typo, 14),
    (Mistake::Swap, 8),
    (Mistake::Transliterate, 10),
    (Mistake::Pinyin, 8),
    (Mistake::CjkLayout, 4),
    (Mistake::DropEmail, 10),
    (Mistake::DropPhone, 10),
    (Mistake::NewEmail, 10),
    (Mistake::Nickname, 6),
    (Mistake::CaseSpace, 10),
    (Mistake::CompanySuffix, 5),
    (Mistake::GmailVariant, 5),
    (Mistake::DropDetails, 8),
    (Mistake::Initial, 2),
];

fn choose(rng: &mut Rng) -> Mistake {
    let total: usize = MISTAKES.iter().map(|(_, w)| w).sum();
    let mut roll = rng.below(total);
    for &(m, w) in MISTAKES {
        if roll < w {
            return m;
        }
        roll -= w;
    }
    Mistake::CaseSpace
}

fn is_han(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| s.chars().any(is_cjk))
}

/// The domain of a company from the tables, if it is one of theirs.
fn company_domain(company: &str) -> Option<&'static str> {
    [DANISH_COMPANIES, CHINESE_COMPANIES, ENGLISH_COMPANIES]
        .iter()
        .flat_map(|t| t.iter())
        .find(|(name, _)| *name == company)
        .map(|(_, domain)| *domain)
}

/// Replaces a person's email by their company's shared one (`info@firma.dk`).
pub(super) fn use_role_address(rng: &mut Rng, p: &mut Person) {
    if let Some(domain) = p.company.as_deref().and_then(company_domain) {
        let local = if rng.chance(0.5) { "info" } else { "kontakt" };
        p.emails = vec![format!("{local}@{domain}")];
    }
}

/// A second entry of `original`: a new id and one to three mistakes. At most one of them
/// loses a contact point (email dropped, phone dropped, or a different email).
pub(super) fn duplicate(
    rng: &mut Rng,
    uniques: &mut Uniques,
    original: &Person,
    culture: Culture,
) -> Person {
    let mut p = original.clone();
    p.id = rng.uuid();
    let count = match rng.below(20) {
        0..=8 => 1,
        9..=16 => 2,
        _ => 3,
    };
    let mut lost_contact = false;
    for _ in 0..count {
        let mut m = choose(rng);
        if matches!(
            m,
            Mistake::DropEmail | Mistake::DropPhone | Mistake::NewEmail
        ) {
            if lost_contact {
                m = Mistake::CaseSpace;
            }
            lost_contact = true;
        }
        apply(rng, uniques, &mut p, m, culture);
    }
    p
}

fn apply(rng: &mut Rng, uniques: &mut Uniques, p: &mut Person, m: Mistake, culture: Culture) {
    let han = is_han(&p.first_name) || is_han(&p.last_name);
    match m {
        Mistake::Typo if !han => {
            let field = if rng.chance(0.5) {
                &mut p.first_name
            } else {
                &mut p.last_name
            };
            if let Some(name) = field.as_mut() {
                *name = typo(rng, name);
            }
        }
        Mistake::Swap => std::mem::swap(&mut p.first_name, &mut p.last_name),
        Mistake::Transliterate if !han => {
            let plain = rng.chance(0.3);
            for f in [
                &mut p.first_name,
                &mut p.last_name,
                &mut p.address,
                &mut p.city,
            ] {
                if let Some(s) = f.as_mut() {
                    *s = transliterate(s, plain);
                }
            }
        }
        Mistake::Pinyin if han => {
            let (given, family) = chinese_parts(p);
            let (g, f) = (pinyin_word(&given), pinyin_word(&family));
            match rng.below(4) {
                0 => (p.first_name, p.last_name) = (Some(f), Some(g)),
                1 => (p.first_name, p.last_name) = (Some(format!("{f} {g}")), None),
                _ => (p.first_name, p.last_name) = (Some(g), Some(f)),
            }
        }
        Mistake::CjkLayout if han => {
            let (given, family) = chinese_parts(p);
            let sep = if rng.chance(0.5) { " " } else { "" };
            (p.first_name, p.last_name) = (Some(format!("{family}{sep}{given}")), None);
        }
        Mistake::DropEmail => p.emails.clear(),
        Mistake::DropPhone => p.phones.clear(),
        Mistake::NewEmail => {
            let first = p.first_name.clone().unwrap_or_default();
            let last = p.last_name.clone().unwrap_or_default();
            let local = local_part(rng, &first, &last, culture);
            let domain = match p.company.as_deref().and_then(company_domain) {
                Some(d) if rng.chance(0.5) => d,
                _ => "outlook.com",
            };
            p.emails = vec![uniques.email(rng, &local, domain)];
        }
        Mistake::Nickname => {
            let first = p.first_name.as_deref().unwrap_or("");
            match NICKNAMES
                .iter()
                .find(|(full, nick)| *full == first || *nick == first)
            {
                Some((full, nick)) => {
                    p.first_name = Some(if *full == first { nick } else { full }.to_string())
                }
                None => apply(rng, uniques, p, Mistake::Typo, culture),
            }
        }
        Mistake::CompanySuffix if p.company.is_some() => {
            if let Some(c) = p.company.as_mut() {
                *c = change_legal_form(rng, c);
            }
        }
        Mistake::GmailVariant if p.emails.iter().any(|e| e.ends_with("@gmail.com")) => {
            for e in p.emails.iter_mut().filter(|e| e.ends_with("@gmail.com")) {
                let local = e.trim_end_matches("@gmail.com");
                *e = if local.contains('.') {
                    format!("{}@gmail.com", local.replace('.', ""))
                } else {
                    format!("{local}+crm@gmail.com")
                };
            }
        }
        Mistake::DropDetails => match rng.below(3) {
            0 => (p.address, p.postcode, p.city) = (None, None, None),
            1 => p.birthday = None,
            _ => p.company = None,
        },
        Mistake::Initial if !han => {
            let initial = p
                .first_name
                .as_deref()
                .and_then(|f| f.trim().chars().next());
            if let Some(c) = initial.filter(|c| c.is_alphabetic()) {
                p.first_name = Some(format!("{c}."));
            }
        }
        // A mistake that does not fit this person: case and space noise instead.
        _ => case_space(rng, p),
    }
}

/// Given and family name of a Chinese person, whichever field layout they are in now.
fn chinese_parts(p: &Person) -> (String, String) {
    let han = |s: &Option<String>| {
        s.as_deref()
            .unwrap_or("")
            .chars()
            .filter(|c| is_cjk(*c))
            .collect::<String>()
    };
    let (first, last) = (han(&p.first_name), han(&p.last_name));
    if !first.is_empty() && !last.is_empty() {
        return (first, last);
    }
    let whole = if first.is_empty() { last } else { first };
    let mut cs = whole.chars();
    let family = cs.next().map(String::from).unwrap_or_default();
    (cs.collect(), family)
}

/// One edit: substitute, drop, add or swap a letter; rarely in the first letter (about
/// 7 % of real typos are there).
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut cs: Vec<char> = word.chars().collect();
    if cs.len() < 2 {
        return word.to_string();
    }
    let i = if rng.chance(0.07) {
        0
    } else {
        1 + rng.below(cs.len() - 1)
    };
    let letter = char::from(b'a' + rng.below(26) as u8);
    match rng.below(4) {
        0 => cs[i] = letter,
        1 => {
            cs.remove(i);
        }
        2 => cs.insert(i, letter),
        _ if i + 1 < cs.len() => cs.swap(i, i + 1),
        _ => cs.swap(i.saturating_sub(1), i),
    }
    cs.into_iter().collect()
}

/// æ/ø/å written as ae/oe/aa, or plainly as a/o/a.
fn transliterate(s: &str, plain: bool) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        let r = match (c, plain) {
            ('æ', false) => "ae",
            ('ø', false) => "oe",
            ('å', false) => "aa",
            ('Æ', false) => "Ae",
            ('Ø', false) => "Oe",
            ('Å', false) => "Aa",
            ('æ' | 'å', true) => "a",
            ('ø', true) => "o",
            ('Æ' | 'Å', true) => "A",
            ('Ø', true) => "O",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(r);
    }
    out
}

fn case_space(rng: &mut Rng, p: &mut Person) {
    let pad = |s: &str| format!(" {}  ", s.split_whitespace().collect::<Vec<_>>().join("  "));
    match rng.below(3) {
        0 => p.last_name = p.last_name.as_deref().map(str::to_uppercase),
        1 => p.first_name = p.first_name.as_deref().map(str::to_lowercase),
        _ => p.first_name = p.first_name.as_deref().map(pad),
    }
}

/// Drops, adds or swaps the legal form of a company name.
fn change_legal_form(rng: &mut Rng, company: &str) -> String {
    const CJK: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "集团"];
    const LATIN: &[&str] = &["A/S", "ApS", "I/S", "Ltd", "Inc.", "Inc", "LLC", "plc"];
    if let Some(form) = CJK
        .iter()
        .find(|f| company.ends_with(*f) && company.len() > f.len())
    {
        return company[..company.len() - form.len()].to_string();
    }
    if company.chars().any(is_cjk) {
        return format!("{company}有限公司");
    }
    match company.rsplit_once(' ') {
        Some((stem, form)) if LATIN.contains(&form) => match rng.below(2) {
            0 => stem.to_string(),
            _ => format!("{stem} {}", if form == "ApS" { "A/S" } else { "ApS" }),
        },
        _ => format!("{company} ApS"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_look_like_real_ones() {
        assert_eq!(transliterate("Søren Bækgård", false), "Soeren Baekgaard");
        assert_eq!(transliterate("Åse Ø", true), "Ase O");
        assert_eq!(
            change_legal_form(&mut Rng::new(1), "华为技术有限公司"),
            "华为技术"
        );
        let mut rng = Rng::new(2);
        for _ in 0..50 {
            let t = typo(&mut rng, "Jensen");
            assert!(
                crate::dedup::names::edit_distance_at_most_one(&t.to_lowercase(), "jensen"),
                "{t}"
            );
        }
        assert_eq!(typo(&mut rng, "J"), "J");
    }
}
