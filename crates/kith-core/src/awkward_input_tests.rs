//! Every parser and normaliser that reads what users type or import, fed text made to be
//! awkward: pieces of dates, money, phones, vCards, filters and templates in the three
//! languages, mixed with control characters, combining marks, invisible characters,
//! astral-plane characters and very long runs, cut and shuffled by a seeded generator.
//! None may panic (a panic in an import is a lost import); each answers or says no.
//! A failure prints the input and the seed to replay it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::NaiveDate;
use serde_json::json;

use crate::dedup::{compare_organisations, compare_people, find_people, Organisation, Person};
use crate::filter::Filter;
use crate::import::values::{parse_bool, parse_date, parse_datetime, parse_money, DateOrder};
use crate::import::{columns, encoding, vcard};
use crate::objects::ObjectKind;
use crate::search::{cjk_full_name, query_terms, Document};
use crate::seeded::Rng;
use crate::templates::{html_to_text, Template};
use crate::{normalise_email, normalise_phone, PhoneRegion};

/// What users write, and what breaks code that slices strings or trusts lengths.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "0", "1", "7", "9", "12", "31", "2026", "00", "+", "+45", "+86", "+1", "-", "/", ".", ",",
    ":", ";", " ", "  ", "\t", "\n", "\r\n", "\r", "\"", "'", "\\", "=", "<", ">", "(", ")", "[", "]",
    "{", "}", "@", "#", "%", "&", "*", "|", "年", "月", "日", "时", "分", "marts", "maj", "jan",
    "December", "PM", "am", "T", "Z", "kr.", "kr", "DKK", "CNY", "¥", "€", "$", "元", "1.234,56",
    "1,234.56", "1 234", "1'234", "e", "E", "e9", "-0", "NaN", "inf", "9999999999999999999999",
    "张", "伟", "王芳", "欧阳", "ø", "Æ", "å", "Ø", "é", "\u{301}", "\u{200b}", "\u{feff}", "\u{0}",
    "\u{7f}", "\u{1b}", "\u{fffd}", "\u{2028}", "🙂", "👩‍👩‍👧", "𝔘", "ß", "İ", "ﬁ", "and", "or",
    "not", "has", "contains", "is empty", "in", "count(", "orders where", "-90d", ">=", "!=",
    "~", "{{", "}}", "{%", "%}", "{{ contact.first_name", "| default:", "BEGIN:VCARD",
    "END:VCARD", "VERSION:4.0", "VERSION:3.0", "TEL;TYPE=cell:", "EMAIL;TYPE=work:", "N:",
    "FN:", "ADR:;;", "ORG:", "BDAY:", "PHOTO;ENCODING=b;TYPE=JPEG:",
    "ENCODING=QUOTED-PRINTABLE:", "=0A", "=C3=B8", "CHARSET=UTF-8", "&amp;", "&#0;",
    "&#x110000;", "<br>", "<p>", "</p>", "<script>", "<!--", "]]>", "a@b.dk", "@@", "xn--",
    "mailto:", "ext. 12", "tel:", "Søren", "Jensen", "Kierkegaard", "ApS", "A/S", "有限公司",
    "null", "true", "false", "+01:00", "Mar", "pm", "\\n", "=C3", "=\n", "TEL;CELL:", "item1.",
    "·", "kl.", "x", "ja", "😀",
];

fn awkward(rng: &mut Rng) -> String {
    let mut s = String::new();
    let parts = match rng.below(20) {
        0 => 0,
        1 => 200 + rng.below(400),
        _ => 1 + rng.below(12),
    };
    for _ in 0..parts {
        let piece = PIECES[rng.below(PIECES.len())];
        if rng.below(50) == 0 {
            s.push_str(&piece.repeat(1 + rng.below(500)));
        } else {
            s.push_str(piece);
        }
    }
    s
}

/// Bytes as files arrive: any encoding, byte order marks, cut in the middle of a
/// character, NULs.
fn awkward_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut b: Vec<u8> = match rng.below(4) {
        0 => vec![0xEF, 0xBB, 0xBF],
        1 => vec![0xFF, 0xFE],
        _ => vec![],
    };
    for _ in 0..rng.below(40) {
        if rng.below(3) == 0 {
            b.push(rng.next_u64() as u8);
        } else {
            b.extend_from_slice(awkward(rng).as_bytes());
        }
    }
    if !b.is_empty() && rng.below(3) == 0 {
        let cut = rng.below(b.len());
        b.truncate(cut);
    }
    b
}

fn opt(rng: &mut Rng) -> Option<String> {
    (rng.below(4) != 0).then(|| awkward(rng))
}

fn person(rng: &mut Rng) -> Person {
    Person {
        id: rng.uuid(),
        first_name: opt(rng),
        last_name: opt(rng),
        emails: (0..rng.below(3)).map(|_| awkward(rng)).collect(),
        phones: (0..rng.below(3)).map(|_| awkward(rng)).collect(),
        company: opt(rng),
        address: opt(rng),
        postcode: opt(rng),
        city: opt(rng),
        birthday: NaiveDate::from_ymd_opt(1900 + rng.below(200) as i32, 1, 1),
    }
}

fn organisation(rng: &mut Rng) -> Organisation {
    Organisation {
        id: rng.uuid(),
        name: awkward(rng),
        domain: opt(rng),
        phone: opt(rng),
        email: opt(rng),
        postcode: opt(rng),
        city: opt(rng),
    }
}

/// Runs `check` on `rounds` inputs from `seed`; on a panic, fails naming the round so it
/// can be replayed alone.
fn never_panics(name: &str, seed: u64, rounds: usize, check: impl Fn(&mut Rng)) {
    for round in 0..rounds {
        let start = seed.wrapping_mul(1_000_003).wrapping_add(round as u64);
        let (mut rng, mut shown) = (Rng::new(start), Rng::new(start));
        if catch_unwind(AssertUnwindSafe(|| check(&mut rng))).is_err() {
            let first = awkward(&mut shown);
            let start: String = first.chars().take(300).collect();
            panic!(
                "{name} panicked in round {round} (seed {seed}); its first input ({} bytes) \
                 starts {start:?}",
                first.len()
            );
        }
    }
}

#[test]
fn values_from_cells_never_panic() {
    let dk = PhoneRegion::parse("DK").unwrap();
    never_panics("cell values", 1, 4_000, |rng| {
        let s = awkward(rng);
        for order in [DateOrder::DayFirst, DateOrder::MonthFirst] {
            let _ = parse_date(&s, order);
            let _ = parse_datetime(&s, order);
        }
        let _ = parse_money(&s);
        let _ = parse_bool(&s);
        let _ = normalise_email(&s);
        let _ = normalise_phone(&s, Some(dk));
        let _ = normalise_phone(&s, None);
        let _ = PhoneRegion::parse(&s);
        let _ = crate::import::values::split_full_name(&s);
    });
}

#[test]
fn headers_and_files_never_panic() {
    never_panics("headers and files", 2, 1_000, |rng| {
        let header = awkward(rng);
        for object in ObjectKind::ALL {
            let _ = columns::guess(object, &header);
        }
        let key = columns::custom_key(&header);
        let plain = key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let starts = key.is_empty() || key.starts_with(|c: char| c.is_ascii_lowercase());
        assert!(key.len() <= 40 && plain && starts, "custom key {key:?}");
        let _ = encoding::by_label(&header);
        let bytes = awkward_bytes(rng);
        let detected = encoding::detect(&bytes);
        assert!(detected.bom_len <= bytes.len());
        let (text, _) = detected
            .encoding
            .decode_without_bom_handling(&bytes[detected.bom_len..]);
        let _ = encoding::sniff_delimiter(&text);
        let _ = vcard::parse(&text);
    });
}

#[test]
fn vcards_never_panic_and_errors_point_at_a_line() {
    never_panics("vCards", 3, 4_000, |rng| {
        let mut text = String::new();
        for _ in 0..rng.below(8) {
            text.push_str(["BEGIN:VCARD\r\n", "END:VCARD\r\n", " ", "\r\n"][rng.below(4)]);
            text.push_str(&awkward(rng));
            text.push_str(["\r\n", "\n", "\r\n ", ""][rng.below(4)]);
        }
        // A lone `\r` breaks a line too (old Mac files).
        let lines = text
            .split("\r\n")
            .map(|l| l.split(['\r', '\n']).count())
            .sum::<usize>();
        for card in vcard::parse(&text) {
            if let Err(e) = card {
                assert!(
                    (1..=lines).contains(&e.line),
                    "error at line {} of {lines} in a text of {} bytes",
                    e.line,
                    text.len()
                );
                assert!(!e.message.is_empty());
            }
        }
    });
}

#[test]
fn search_terms_never_panic() {
    never_panics("search", 4, 4_000, |rng| {
        let (a, b, c) = (awkward(rng), awkward(rng), awkward(rng));
        let _ = query_terms(&a);
        let _ = cjk_full_name(&a, &b);
        let doc = Document {
            texts: vec![&a, &b],
            emails: vec![&c],
            phones: vec![&c, &a],
        };
        let _ = doc.terms();
    });
}

#[test]
fn filters_and_templates_never_panic() {
    let ctx = json!({"contact": {"first_name": "Søren", "last_name": "张"}, "workspace": {}});
    never_panics("filters and templates", 5, 10_000, |rng| {
        let s = awkward(rng);
        let _ = Filter::parse_any(&s);
        let _ = Filter::parse_any(&format!("{{\"field\": \"{s}\", \"op\": \"eq\"}}"));
        if let Ok(t) = Template::parse(&s) {
            let _ = t.render_text(&ctx);
            let _ = t.render_html(&ctx);
            let _ = t.variables();
        }
        let _ = html_to_text(&s);
    });
}

#[test]
fn duplicate_scoring_never_panics() {
    never_panics("duplicate scoring", 6, 1_500, |rng| {
        let (a, b) = (person(rng), person(rng));
        let s = compare_people(&a, &b);
        assert!(s.score.is_finite(), "score {} for {a:?} / {b:?}", s.score);
        let _ = compare_organisations(&organisation(rng), &organisation(rng));
        if rng.below(50) == 0 {
            let many: Vec<Person> = (0..50).map(|_| person(rng)).collect();
            let _ = find_people(&many, 0.5);
        }
    });
}
