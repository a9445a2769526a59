//! What a user of the merge screen would notice about people matching.

use chrono::NaiveDate;
use uuid::Uuid;

use super::*;
use crate::dedup::{clusters, DEFAULT_THRESHOLD, MAX_BLOCK, MAX_KEYS};

fn person(id: u64, first: &str, last: &str) -> Person {
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Person {
        id: Uuid::from_u64_pair(0, id),
        first_name: opt(first),
        last_name: opt(last),
        ..Person::default()
    }
}

fn with(mut p: Person, f: impl FnOnce(&mut Person)) -> Person {
    f(&mut p);
    p
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn is_match(a: &Person, b: &Person) -> bool {
    compare_people(a, b).score >= DEFAULT_THRESHOLD
}

#[test]
fn soeren_and_soren_with_the_same_phone_match() {
    let a = with(person(1, "Søren", "Jensen"), |p| {
        p.phones = vec!["+4520123456".into()]
    });
    for (first, last) in [
        ("Soeren", "Jensen"),
        ("Soren", "Jensen"),
        ("SØREN", "  jensen "),
    ] {
        let b = with(person(2, first, last), |p| {
            p.phones = vec!["+4520123456".into()]
        });
        assert!(is_match(&a, &b), "{first} {last}");
    }
    let s = compare_people(
        &person(1, "Aase", "Østergaard"),
        &person(2, "Åse", "Oestergaard"),
    );
    assert_eq!(s.reasons[0].weight, weights::SAME_NAME);
}

#[test]
fn swapped_first_and_last_names_match() {
    let a = with(person(1, "Mette", "Nielsen"), |p| {
        p.emails = vec!["mette@firma.dk".into()]
    });
    let b = with(person(2, "Nielsen", "Mette"), |p| {
        p.emails = vec!["mette@firma.dk".into()]
    });
    let s = compare_people(&a, &b);
    assert!(s.score > 0.99, "{s:?}");
    assert!(
        s.reasons.iter().any(|r| r.detail.contains("swapped")),
        "{s:?}"
    );
    assert!(person_keys(&a).contains(&"n:mette nielsen".to_string()));
    assert_eq!(person_keys(&a), person_keys(&b));
}

#[test]
fn same_common_name_with_different_everything_does_not_match() {
    let a = with(person(1, "伟", "王"), |p| {
        p.emails = vec!["wangwei88@163.com".into()];
        p.phones = vec!["+8613812345678".into()];
        p.birthday = date(1985, 3, 12);
    });
    let b = with(person(2, "伟", "王"), |p| {
        p.emails = vec!["wangwei1990@qq.com".into()];
        p.phones = vec!["+8613987654321".into()];
        p.birthday = date(1990, 7, 1);
    });
    assert!(compare_people(&a, &b).score < 0.01);
    // A bare name is not enough either.
    assert!(!is_match(
        &person(1, "Søren", "Jensen"),
        &person(2, "Søren", "Jensen")
    ));
}

#[test]
fn chinese_name_matches_its_pinyin_only_with_other_evidence() {
    let han = person(1, "伟", "张");
    for (first, last) in [("Wei", "Zhang"), ("Zhang", "Wei"), ("Zhang Wei", "")] {
        let latin = person(2, first, last);
        let s = compare_people(&han, &latin);
        assert_eq!(
            s.reasons[0].weight,
            weights::PINYIN_NAME,
            "{first} {last}: {s:?}"
        );
        assert!(
            s.score < DEFAULT_THRESHOLD,
            "pinyin alone must not be enough"
        );
        let phone = |p: Person| with(p, |p| p.phones = vec!["+8613812345678".into()]);
        assert!(is_match(&phone(han.clone()), &phone(latin)));
    }
    for layout in [("张伟", ""), ("张 伟", ""), ("张", "伟")] {
        let s = compare_people(&han, &person(2, layout.0, layout.1));
        assert_eq!(s.reasons[0].weight, weights::SAME_NAME, "{layout:?}");
    }
    let key = |p: &Person| person_keys(p).into_iter().find(|k| k.starts_with("n:"));
    assert_eq!(key(&han), key(&person(2, "Wei", "Zhang")));
}

#[test]
fn gmail_addresses_match_despite_dots_and_tags() {
    let a = with(person(1, "Anna", "Hansen"), |p| {
        p.emails = vec!["anna.hansen@gmail.com".into()]
    });
    let b = with(person(2, "Anna", "Hansen"), |p| {
        p.emails = vec!["annahansen+shop@googlemail.com".into()]
    });
    assert!(is_match(&a, &b));
    assert_eq!(person_keys(&a)[0], person_keys(&b)[0]);
    let c = with(person(3, "Anna", "Hansen"), |p| {
        p.emails = vec!["annahansen@firma.dk".into()]
    });
    let d = with(person(4, "Anna", "Hansen"), |p| {
        p.emails = vec!["anna.hansen@firma.dk".into()]
    });
    assert!(!is_match(&c, &d), "dots matter outside Gmail");
}

#[test]
fn a_different_birthday_lowers_the_score() {
    let base = with(person(1, "Lars", "Holm"), |p| {
        p.phones = vec!["+4520123456".into()]
    });
    let a = with(base.clone(), |p| p.birthday = date(1970, 5, 1));
    let same = with(base.clone(), |p| p.birthday = date(1970, 5, 1));
    let other = with(base.clone(), |p| p.birthday = date(1982, 11, 23));
    let missing = base.clone();
    let (s_same, s_missing, s_other) = (
        compare_people(&a, &same).score,
        compare_people(&a, &missing).score,
        compare_people(&a, &other).score,
    );
    assert!(
        s_same > s_missing && s_missing > s_other,
        "{s_same} {s_missing} {s_other}"
    );
    assert!(compare_people(&a, &other)
        .reasons
        .iter()
        .any(|r| r.weight < 0.0 && r.field == "birthday"));
}

#[test]
fn missing_fields_are_neutral() {
    let a = with(person(1, "Mette", "Dahl"), |p| {
        p.emails = vec!["mette.dahl@mail.dk".into()]
    });
    let full = with(a.clone(), |p| {
        p.phones = vec!["+4520123456".into()];
        p.birthday = date(1980, 1, 2);
        p.address = Some("Nørregade 12".into());
        p.postcode = Some("1165".into());
    });
    let s = compare_people(&a, &full);
    assert!(s.reasons.iter().all(|r| r.weight > 0.0), "{s:?}");
}

#[test]
fn typos_nicknames_and_middle_names_still_match_with_a_shared_phone() {
    let phone = |p: Person| with(p, |p| p.phones = vec!["+4520123456".into()]);
    let a = phone(person(1, "Kristian", "Christensen"));
    for (first, last) in [
        ("Kristain", "Christensen"),
        ("Kris", "Christensen"),
        ("Kristian", "Christensne"),
    ] {
        assert!(
            is_match(&a, &phone(person(2, first, last))),
            "{first} {last}"
        );
    }
    assert!(is_match(
        &phone(person(1, "Hans-Henrik", "Holm")),
        &phone(person(2, "Hans", "Holm"))
    ));
    assert!(is_match(
        &phone(person(1, "Bob", "Smith")),
        &phone(person(2, "Robert", "Smith"))
    ));
}

#[test]
fn family_members_sharing_address_and_landline_do_not_match() {
    let home = |p: Person| {
        with(p, |p| {
            p.phones = vec!["+4598123456".into()];
            p.address = Some("Nørregade 12".into());
            p.postcode = Some("1165".into());
        })
    };
    let s = compare_people(
        &home(person(1, "Søren", "Jensen")),
        &home(person(2, "Mette", "Jensen")),
    );
    assert!(s.score < 0.2, "{s:?}");
}

#[test]
fn reasons_explain_the_score_strongest_first() {
    let a = with(person(1, "Søren", "Jensen"), |p| {
        p.emails = vec!["soeren@firma.dk".into()];
        p.birthday = date(1975, 4, 3);
        p.company = Some("Nordisk Data A/S".into());
    });
    let b = with(person(2, "Soeren", "Jensen"), |p| {
        p.emails = vec!["soeren@firma.dk".into()];
        p.birthday = date(1976, 8, 9);
        p.company = Some("Nordisk Data ApS".into());
    });
    let s = compare_people(&a, &b);
    let details: Vec<&str> = s.reasons.iter().map(|r| r.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "same email soeren@firma.dk",
            "same name written differently Søren Jensen / Soeren Jensen",
            "same company Nordisk Data ApS",
            "different birthdays 1975-04-03 / 1976-08-09",
        ]
    );
    assert!((0.0..=1.0).contains(&s.score));
}

#[test]
fn strange_input_never_panics() {
    let odd = [
        person(1, "", ""),
        person(2, " ", "-"),
        person(3, "🦀", "ß"),
        with(person(4, "张", ""), |p| {
            p.emails = vec!["@".into(), "".into()];
            p.phones = vec!["+".into(), "1".into()];
            p.postcode = Some("   ".into());
        }),
        with(person(5, &"x".repeat(10_000), "é"), |p| {
            p.address = Some("ø".repeat(5000))
        }),
    ];
    for a in &odd {
        assert!(person_keys(a).len() <= MAX_KEYS);
        for b in &odd {
            let s = compare_people(a, b);
            assert!((0.0..=1.0).contains(&s.score));
        }
    }
    find_people(&odd, 0.0);
}

#[test]
fn find_people_reports_each_pair_once_best_first() {
    let email = |p: Person, e: &str| with(p, |p| p.emails = vec![e.into()]);
    let people = vec![
        email(person(3, "Søren", "Jensen"), "s@x.dk"),
        email(person(1, "Soeren", "Jensen"), "s@x.dk"),
        email(person(2, "S.", "Jensen"), "s@x.dk"),
        email(person(4, "Mette", "Hansen"), "m@x.dk"),
    ];
    let pairs = find_people(&people, DEFAULT_THRESHOLD);
    assert_eq!(pairs.len(), 3);
    assert!(pairs.iter().all(|p| p.a < p.b));
    assert!(pairs.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(clusters(&pairs).len(), 1);
}

#[test]
fn thousands_with_the_same_name_do_not_blow_up() {
    let people: Vec<Person> = (0..(MAX_BLOCK as u64 * 10))
        .map(|i| {
            with(person(i, "伟", "王"), |p| {
                p.emails = vec![format!("w{i}@163.com")]
            })
        })
        .collect();
    let (pairs, stats) = find_people_with_stats(&people, DEFAULT_THRESHOLD);
    assert!(pairs.is_empty());
    assert_eq!(stats.skipped_keys, 1);
    assert_eq!(stats.compared, 0);
}
