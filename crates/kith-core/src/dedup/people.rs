//! People: blocking keys, pairwise comparison and the in-memory search.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::blocking::{candidate_pairs, push_key, Stats};
use super::contact_points::{
    compare_emails, compare_phones, email_for_matching, is_usable_email, is_usable_phone,
    phone_digits, phone_tail,
};
use super::names::{self, Name, Verdict};
use super::organisations::company_name;
use super::{sort_pairs, weights, Evidence, Pair, Scored};

/// A contact as dedup sees it; Kith has already normalised emails (lower-case) and
/// phones (E.164).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The contact's id.
    pub id: Uuid,
    /// Given name (for Chinese names, e.g. `伟`).
    pub first_name: Option<String>,
    /// Family name (for Chinese names, e.g. `张`).
    pub last_name: Option<String>,
    /// Email addresses.
    pub emails: Vec<String>,
    /// Phone numbers in E.164.
    pub phones: Vec<String>,
    /// The employer's name.
    pub company: Option<String>,
    /// Street address, e.g. `Nørregade 12, 2. tv`.
    pub address: Option<String>,
    /// Postcode, e.g. `1165`.
    pub postcode: Option<String>,
    /// City, e.g. `København K`.
    pub city: Option<String>,
    /// Date of birth.
    pub birthday: Option<NaiveDate>,
}

/// A person with everything folded once, for many comparisons.
struct Prepared<'a> {
    person: &'a Person,
    name: Name,
    emails: Vec<String>,
    phones: Vec<String>,
    company: String,
    address: String,
    postcode: String,
    city: String,
}

/// Folds free text to skeleton words joined by single spaces.
fn words(text: Option<&str>) -> String {
    text.unwrap_or("")
        .split(|c: char| !c.is_alphanumeric())
        .map(names::skeleton)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn postcode(text: Option<&str>) -> String {
    text.unwrap_or("")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

impl Prepared<'_> {
    fn new(p: &Person) -> Prepared<'_> {
        let mut emails: Vec<String> = p.emails.iter().map(|e| email_for_matching(e)).collect();
        emails.retain(|e| is_usable_email(e));
        emails.dedup();
        let mut phones: Vec<String> = p.phones.iter().map(|x| phone_digits(x)).collect();
        phones.retain(|d| is_usable_phone(d));
        phones.dedup();
        Prepared {
            person: p,
            name: Name::new(p.first_name.as_deref(), p.last_name.as_deref()),
            emails,
            phones,
            company: p.company.as_deref().map(company_name).unwrap_or_default(),
            address: words(p.address.as_deref()),
            postcode: postcode(p.postcode.as_deref()),
            city: words(p.city.as_deref()),
        }
    }

    fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for e in self.emails.iter().take(2) {
            push_key(&mut keys, "e:", e);
        }
        for p in self.phones.iter().take(2) {
            push_key(&mut keys, "p:", phone_tail(p));
        }
        push_key(&mut keys, "n:", &self.name.key_words().join(" "));
        if let Some(b) = self.person.birthday {
            push_key(&mut keys, "b:", &b.to_string());
        }
        if !self.postcode.is_empty() && !self.address.is_empty() {
            push_key(
                &mut keys,
                "a:",
                &format!("{} {}", self.postcode, self.address),
            );
        }
        // Catches a typo in the given name when emails and phones are not shared.
        if let (false, Some(family)) = (self.postcode.is_empty(), self.name.family_word()) {
            push_key(&mut keys, "z:", &format!("{} {family}", self.postcode));
        }
        keys
    }
}

/// The blocking keys of a person (at most [`super::MAX_KEYS`], each at most 64
/// characters): `e:` email, `p:` last 8 phone digits, `n:` name words (pinyin for
/// Chinese, nicknames expanded, sorted so swaps meet), `b:` birthday, `a:` postcode and
/// street, `z:` postcode and family name. Persist them to let a database do the join.
pub fn person_keys(p: &Person) -> Vec<String> {
    Prepared::new(p).keys()
}

/// Compares two people: the score and the reasons for it.
pub fn compare_people(a: &Person, b: &Person) -> Scored {
    compare(&Prepared::new(a), &Prepared::new(b), true)
}

fn compare(a: &Prepared, b: &Prepared, explain: bool) -> Scored {
    let mut ev = Evidence::new(explain);
    compare_emails(&a.emails, &b.emails, &mut ev);
    compare_phones(&a.phones, &b.phones, &mut ev);
    compare_names(&a.name, &b.name, &mut ev);
    compare_birthdays(a.person.birthday, b.person.birthday, &mut ev);
    compare_places(a, b, &mut ev);
    if !a.company.is_empty() && a.company == b.company {
        ev.add("company", weights::SAME_COMPANY, || {
            format!(
                "same company {}",
                b.person.company.as_deref().unwrap_or("").trim()
            )
        });
    }
    ev.scored()
}

fn compare_names(a: &Name, b: &Name, ev: &mut Evidence) {
    let c = names::compare(a, b);
    let both = || format!("{} / {}", a.display, b.display);
    let note = || {
        if c.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.note)
        }
    };
    match c.verdict {
        Verdict::Unknown => {}
        Verdict::Same if a.display == b.display => ev.add("name", weights::SAME_NAME, || {
            format!("same name {}", a.display)
        }),
        Verdict::Same => ev.add("name", weights::SAME_NAME, || {
            format!("same name written differently {}{}", both(), note())
        }),
        Verdict::Similar => ev.add("name", weights::SIMILAR_NAME, || {
            format!("similar names {}{}", both(), note())
        }),
        Verdict::Subset => ev.add("name", weights::PARTIAL_NAME, || {
            format!("partly the same name {}{}", both(), note())
        }),
        Verdict::NearMiss => ev.add("name", weights::NEAR_MISS_NAME, || {
            format!("names one letter apart, a typo or two people {}", both())
        }),
        Verdict::Pinyin => ev.add("name", weights::PINYIN_NAME, || {
            format!("same name in Chinese and pinyin {}", both())
        }),
        Verdict::Conflict => ev.add("name", weights::DIFFERENT_NAMES, || {
            format!("different names {}", both())
        }),
        Verdict::ScriptConflict => ev.add("name", weights::DIFFERENT_SCRIPT_NAMES, || {
            format!("Chinese name does not read as the other name {}", both())
        }),
    }
}

fn compare_birthdays(a: Option<NaiveDate>, b: Option<NaiveDate>, ev: &mut Evidence) {
    let (Some(a), Some(b)) = (a, b) else {
        return;
    };
    if a == b {
        ev.add("birthday", weights::SAME_BIRTHDAY, || {
            format!("same birthday {a}")
        });
    } else if (a.month(), a.day()) == (b.month(), b.day()) {
        ev.add("birthday", weights::BIRTHDAY_YEAR_DIFFERS, || {
            format!("birthdays differ only in the year {a} / {b}")
        });
    } else {
        ev.add("birthday", weights::DIFFERENT_BIRTHDAYS, || {
            format!("different birthdays {a} / {b}")
        });
    }
}

/// The address as people wrote it, for reasons.
fn shown_address(p: &Person) -> String {
    [
        p.address.as_deref(),
        p.postcode.as_deref(),
        p.city.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

fn compare_places(a: &Prepared, b: &Prepared, ev: &mut Evidence) {
    if !a.postcode.is_empty() && !b.postcode.is_empty() {
        if a.postcode != b.postcode {
            ev.add("address", weights::DIFFERENT_POSTCODES, || {
                format!("different postcodes {} / {}", a.postcode, b.postcode)
            });
        } else if !a.address.is_empty() && a.address == b.address {
            ev.add("address", weights::SAME_ADDRESS, || {
                format!("same address {}", shown_address(b.person))
            });
        }
    } else if !a.city.is_empty() && a.city == b.city {
        ev.add("address", weights::SAME_CITY, || {
            format!("same city {}", shown_address(b.person))
        });
    }
}

/// Finds likely duplicate people in memory: blocking, then scoring; each pair once,
/// best first. See [`find_people_with_stats`] for the work it did.
pub fn find_people(people: &[Person], threshold: f32) -> Vec<Pair> {
    find_people_with_stats(people, threshold).0
}

/// [`find_people`], also telling how many keys were skipped and pairs compared.
pub fn find_people_with_stats(people: &[Person], threshold: f32) -> (Vec<Pair>, Stats) {
    let prepared: Vec<Prepared> = people.iter().map(Prepared::new).collect();
    let keys: Vec<Vec<String>> = prepared.iter().map(Prepared::keys).collect();
    let (candidates, mut stats) = candidate_pairs(&keys);
    let mut pairs = Vec::new();
    for (i, j) in candidates {
        let (a, b) = (&prepared[i], &prepared[j]);
        // Score quietly first; write the reasons only for the pairs kept.
        if a.person.id != b.person.id && compare(a, b, false).score >= threshold {
            pairs.push(Pair::new(a.person.id, b.person.id, compare(a, b, true)));
        }
    }
    sort_pairs(&mut pairs);
    stats.found = pairs.len();
    (pairs, stats)
}

#[cfg(test)]
#[path = "people_tests.rs"]
mod tests;
