//! Synthetic labelled people for tests and benchmarks: Danish, Chinese and English
//! names with their real crowding (many different `Søren Jensen`s and `王伟`s), families
//! sharing an address and a landline, colleagues sharing `info@`, and duplicates made
//! by the mistakes people make when entering a contact twice. Deterministic per seed.

mod corrupt;
mod data;

use std::collections::HashSet;

use chrono::NaiveDate;
use uuid::Uuid;

use super::contact_points::email_for_matching;
use super::Person;
use crate::search::fold_danish;
pub(crate) use crate::seeded::Rng;
use data::*;

/// Which naming world a person comes from; decides names, emails, phones, places.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Culture {
    Danish,
    Chinese,
    English,
}

/// Keeps emails and phones unique among different people, as they are in life.
pub(crate) struct Uniques {
    emails: HashSet<String>,
    phones: HashSet<String>,
}

impl Uniques {
    fn email(&mut self, rng: &mut Rng, local: &str, domain: &str) -> String {
        let mut e = format!("{local}@{domain}");
        // Unique as the provider sees it: Gmail ignores dots, so a.b and ab are one.
        while !self.emails.insert(email_for_matching(&e)) {
            e = format!("{local}{}@{domain}", 1 + rng.below(9999));
        }
        e
    }

    fn phone(&mut self, rng: &mut Rng, culture: Culture) -> String {
        loop {
            let p = match culture {
                Culture::Danish => format!("+45{}{}", 2 + rng.below(8), rng.digits(7)),
                Culture::Chinese => format!("+861{}{}", 3 + rng.below(7), rng.digits(9)),
                Culture::English => format!("+447{}", rng.digits(9)),
            };
            if self.phones.insert(p.clone()) {
                return p;
            }
        }
    }
}

/// Pinyin of Chinese characters as one capitalised word (`秀英` → `Xiuying`).
pub(crate) fn pinyin_word(han: &str) -> String {
    let plain: String = deunicode::deunicode(han)
        .split_whitespace()
        .collect::<String>()
        .to_lowercase();
    let mut cs = plain.chars();
    cs.next()
        .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
        .unwrap_or_default()
}

/// A person's name as an email local part (`Søren`, `Jensen` → `soeren.jensen`).
pub(crate) fn local_part(rng: &mut Rng, first: &str, last: &str, culture: Culture) -> String {
    let ascii = |s: &str| -> String {
        let folded = if culture == Culture::Chinese {
            pinyin_word(s).to_lowercase()
        } else {
            fold_danish(s)
        };
        folded.chars().filter(char::is_ascii_alphanumeric).collect()
    };
    let (f, l) = (ascii(first), ascii(last));
    match (culture, rng.below(4)) {
        (Culture::Chinese, 0) => rng.digits(9).trim_start_matches('0').to_string() + "1",
        (Culture::Chinese, _) => format!("{l}{f}{}", rng.below(100)),
        (_, 0) => format!("{}{l}", f.chars().next().unwrap_or('x')),
        (_, 1) => format!("{f}{l}{}", rng.below(100)),
        _ => format!("{f}.{l}"),
    }
}

fn birthday(rng: &mut Rng) -> Option<NaiveDate> {
    let days = rng.below(365 * 65) as i64;
    NaiveDate::from_ymd_opt(1940, 1, 1)
        .and_then(|d| d.checked_add_signed(chrono::Duration::days(days)))
}

/// One new person of a random culture.
fn person(rng: &mut Rng, uniques: &mut Uniques) -> (Person, Culture) {
    let roll = rng.unit();
    let culture = if roll < 0.5 {
        Culture::Danish
    } else if roll < 0.8 {
        Culture::Chinese
    } else {
        Culture::English
    };
    (person_of(rng, uniques, culture), culture)
}

/// One new person of the given culture.
fn person_of(rng: &mut Rng, uniques: &mut Uniques, culture: Culture) -> Person {
    let woman = rng.chance(0.5);
    let (first, last, mail, companies) = match culture {
        Culture::Danish => (
            rng.skewed(if woman { DANISH_WOMEN } else { DANISH_MEN }),
            rng.skewed(DANISH_SURNAMES),
            DANISH_MAIL,
            DANISH_COMPANIES,
        ),
        Culture::Chinese => (
            rng.skewed(CHINESE_GIVEN),
            rng.skewed(CHINESE_SURNAMES),
            CHINESE_MAIL,
            CHINESE_COMPANIES,
        ),
        Culture::English => (
            rng.skewed(if woman { ENGLISH_WOMEN } else { ENGLISH_MEN }),
            rng.skewed(ENGLISH_SURNAMES),
            ENGLISH_MAIL,
            ENGLISH_COMPANIES,
        ),
    };
    let (first, last) = (first.unwrap_or("Anne"), last.unwrap_or("Jensen"));
    let company = if rng.chance(0.5) {
        rng.pick(companies)
    } else {
        None
    };
    let mut p = Person {
        id: rng.uuid(),
        first_name: Some(first.to_string()),
        last_name: Some(last.to_string()),
        company: company.map(|(name, _)| name.to_string()),
        birthday: if rng.chance(0.45) {
            birthday(rng)
        } else {
            None
        },
        ..Person::default()
    };
    if rng.chance(0.85) {
        let local = local_part(rng, first, last, culture);
        let domain = match company {
            Some((_, d)) if rng.chance(0.3) => d,
            _ => rng.pick(mail).unwrap_or("mail.dk"),
        };
        p.emails.push(uniques.email(rng, &local, domain));
    }
    if rng.chance(0.85) {
        p.phones.push(uniques.phone(rng, culture));
    }
    let has_address = rng.chance(match culture {
        Culture::Danish => 0.7,
        Culture::Chinese => 0.3,
        Culture::English => 0.5,
    });
    if has_address {
        let (postcode, city, address) = match culture {
            Culture::Danish => {
                let (pc, city) = rng.pick(DANISH_TOWNS).unwrap_or(("1000", "København K"));
                let street = rng.pick(DANISH_STREETS).unwrap_or("Nørregade");
                let floor = match rng.below(3) {
                    0 => String::new(),
                    1 => format!(", st. {}", if rng.chance(0.5) { "tv" } else { "th" }),
                    _ => format!(
                        ", {}. {}",
                        1 + rng.below(5),
                        if rng.chance(0.5) { "tv" } else { "th" }
                    ),
                };
                (
                    pc.to_string(),
                    city,
                    format!("{street} {}{floor}", 1 + rng.below(150)),
                )
            }
            Culture::Chinese => {
                let (pc, city, street) =
                    rng.pick(CHINESE_TOWNS)
                        .unwrap_or(("100020", "北京", "建国路"));
                let (building, room) = (1 + rng.below(300), 1 + rng.below(30) * 100 + rng.below(8));
                (
                    pc.to_string(),
                    city,
                    format!("{street}{building}号{}栋{room}室", 1 + rng.below(12)),
                )
            }
            Culture::English => {
                let (pc, city) = rng.pick(ENGLISH_TOWNS).unwrap_or(("E1", "London"));
                let street = rng.pick(ENGLISH_STREETS).unwrap_or("High Street");
                // A full UK postcode covers a street or two: outward code + a random
                // inward code such as `4DJ`.
                let letter = |rng: &mut Rng| char::from(b'A' + rng.below(26) as u8);
                let pc = format!("{pc} {}{}{}", rng.below(10), letter(rng), letter(rng));
                (pc, city, format!("{} {street}", 1 + rng.below(200)))
            }
        };
        p.postcode = Some(postcode);
        p.city = Some(city.to_string());
        p.address = Some(address);
    }
    p
}

/// Someone living with `other`: same family name and address, often the same landline;
/// their own first name, email and birthday. The hardest kind of non-duplicate.
fn housemate(
    rng: &mut Rng,
    uniques: &mut Uniques,
    household: &[&Person],
    culture: Culture,
) -> Option<Person> {
    let other = household.first()?;
    let mut p = person_of(rng, uniques, culture);
    // Parents rarely give a child their own first name; skip the odd case.
    for _ in 0..10 {
        if household.iter().all(|h| h.first_name != p.first_name) {
            break;
        }
        p = person_of(rng, uniques, culture);
    }
    p.last_name = other.last_name.clone();
    p.address = other.address.clone();
    p.postcode = other.postcode.clone();
    p.city = other.city.clone();
    if rng.chance(0.5) && !other.phones.is_empty() {
        p.phones = other.phones.clone();
    }
    Some(p)
}

/// Generates `people` contacts, of which about `duplicate_rate` are extra copies of
/// another contact, and every true duplicate pair (smaller id first; a contact entered
/// three times gives three pairs). The same seed gives the same data.
pub fn generate(seed: u64, people: usize, duplicate_rate: f32) -> (Vec<Person>, Vec<(Uuid, Uuid)>) {
    let mut rng = Rng::new(seed);
    let rate = if duplicate_rate.is_finite() {
        duplicate_rate.clamp(0.0, 0.9)
    } else {
        0.0
    };
    // At least one original whenever there are people at all.
    let copies =
        (((people as f64) * f64::from(rate)).round() as usize).min(people.saturating_sub(1));
    let originals = people - copies;
    let mut uniques = Uniques {
        emails: HashSet::new(),
        phones: HashSet::new(),
    };
    let mut out: Vec<Person> = Vec::with_capacity(people);
    let mut cultures: Vec<Culture> = Vec::with_capacity(people);
    // Indices of the people sharing the last person's home.
    let mut household: Vec<usize> = Vec::new();
    for i in 0..originals {
        let members: Vec<&Person> = household.iter().filter_map(|&h| out.get(h)).collect();
        let culture = household.first().and_then(|&h| cultures.get(h)).copied();
        let mate = match culture {
            Some(c) if rng.chance(0.06) => housemate(&mut rng, &mut uniques, &members, c),
            _ => None,
        };
        let (mut p, culture) = match (mate, culture) {
            (Some(p), Some(c)) => (p, c),
            _ => {
                household.clear();
                person(&mut rng, &mut uniques)
            }
        };
        household.push(i);
        // Some contacts were entered with their company's shared address.
        if rng.chance(0.02) {
            corrupt::use_role_address(&mut rng, &mut p);
        }
        out.push(p);
        cultures.push(culture);
    }
    let mut groups: Vec<Vec<usize>> = (0..out.len()).map(|i| vec![i]).collect();
    for _ in 0..copies {
        let original = rng.below(originals);
        let copy = corrupt::duplicate(&mut rng, &mut uniques, &out[original], cultures[original]);
        groups[original].push(out.len());
        out.push(copy);
    }
    let mut truth = Vec::new();
    for g in &groups {
        for (n, &i) in g.iter().enumerate() {
            for &j in &g[n + 1..] {
                let (a, b) = (out[i].id, out[j].id);
                truth.push((a.min(b), a.max(b)));
            }
        }
    }
    // Shuffle so copies are not next to their originals.
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1);
        out.swap(i, j);
    }
    truth.sort();
    (out, truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let (a, ta) = generate(7, 500, 0.1);
        let (b, tb) = generate(7, 500, 0.1);
        assert_eq!(a, b);
        assert_eq!(ta, tb);
        assert_eq!(a.len(), 500);
        assert!(ta.len() >= 45, "{}", ta.len());
        assert_ne!(generate(8, 500, 0.1).0, a);
    }

    #[test]
    fn odd_arguments_do_not_panic() {
        assert!(generate(1, 0, 0.5).0.is_empty());
        assert_eq!(generate(1, 1, 1.0).0.len(), 1);
        assert_eq!(generate(1, 10, f32::NAN).1, vec![]);
        assert_eq!(generate(1, 10, -3.0).0.len(), 10);
    }

    #[test]
    fn common_names_are_crowded() {
        let (people, _) = generate(3, 5000, 0.0);
        let jensens = people
            .iter()
            .filter(|p| p.last_name.as_deref() == Some("Jensen"))
            .count();
        let wangs = people
            .iter()
            .filter(|p| p.last_name.as_deref() == Some("王"))
            .count();
        assert!(jensens > 100 && wangs > 100, "{jensens} {wangs}");
    }
}
