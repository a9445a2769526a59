//! Emails and phones as evidence: normalised for matching, compared as sets.

use super::{weights, Evidence};

/// Local parts shared by everyone at a company; matching them says little about a person.
const GENERIC_LOCALS: &[&str] = &[
    "info",
    "kontakt",
    "contact",
    "mail",
    "post",
    "office",
    "admin",
    "sales",
    "salg",
    "support",
    "hello",
    "hej",
    "team",
    "service",
    "kundeservice",
    "noreply",
];

/// An email folded for matching: lower-case, and for Gmail the dots and `+tag` of the
/// local part dropped (Gmail ignores them; other providers do not, so they are kept).
pub(crate) fn email_for_matching(email: &str) -> String {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email;
    };
    if domain == "gmail.com" || domain == "googlemail.com" {
        let local = local.split('+').next().unwrap_or(local).replace('.', "");
        format!("{local}@gmail.com")
    } else {
        email
    }
}

/// Whether an (already folded) email is a shared role address such as `info@firma.dk`.
pub(crate) fn is_generic(email: &str) -> bool {
    email
        .split_once('@')
        .is_some_and(|(local, _)| GENERIC_LOCALS.contains(&local))
}

/// Whether a folded email can be evidence: something on both sides of the `@`.
pub(crate) fn is_usable_email(email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

/// Whether phone digits can be evidence: long enough, and not a placeholder such as
/// `+4500000000` that many records carry.
pub(crate) fn is_usable_phone(digits: &str) -> bool {
    let number = without_extension(digits);
    let tail = phone_tail(number).as_bytes();
    number.len() >= 6 && tail.iter().any(|d| Some(d) != tail.first())
}

/// The digits of a phone number, and `x` and its extension's when it has one
/// (`4570123456x12`).
pub(crate) fn phone_digits(phone: &str) -> String {
    use crate::contact_points::{phone_extension, phone_number};
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    match phone_extension(phone) {
        Some(ext) => format!("{}x{}", digits(phone_number(phone)), digits(ext)),
        None => digits(phone_number(phone)),
    }
}

fn without_extension(digits: &str) -> &str {
    digits.split('x').next().unwrap_or(digits)
}

fn extension(digits: &str) -> Option<&str> {
    digits.split_once('x').map(|(_, ext)| ext)
}

/// The last 8 digits of the number (a Danish number without its country code; the
/// subscriber part of most others), or all of them when there are fewer; never the
/// extension.
pub(crate) fn phone_tail(digits: &str) -> &str {
    let number = without_extension(digits);
    number
        .get(number.len().saturating_sub(8)..)
        .unwrap_or(number)
}

/// Compares two sets of folded emails; nothing when either side has none.
pub(crate) fn compare_emails(a: &[String], b: &[String], ev: &mut Evidence) {
    let (Some(first_a), Some(first_b)) = (a.first(), b.first()) else {
        return;
    };
    match a.iter().find(|e| b.contains(e)) {
        Some(e) if is_generic(e) => ev.add("email", weights::SAME_SHARED_EMAIL, || {
            format!("same shared email {e}")
        }),
        Some(e) => ev.add("email", weights::SAME_EMAIL, || format!("same email {e}")),
        None => ev.add("email", weights::DIFFERENT_EMAILS, || {
            format!("different emails {first_a} / {first_b}")
        }),
    }
}

/// Compares two sets of phone digit strings; nothing when either side has none.
pub(crate) fn compare_phones(a: &[String], b: &[String], ev: &mut Evidence) {
    let (Some(first_a), Some(first_b)) = (a.first(), b.first()) else {
        return;
    };
    if let Some(p) = a.iter().find(|p| b.contains(p)) {
        return ev.add("phone", weights::SAME_PHONE, || format!("same phone +{p}"));
    }
    // A switchboard's number with two different extensions reaches two people; with
    // one extension missing it may be the same person.
    let may_be_same_line = |p: &str, q: &str| match (extension(p), extension(q)) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    for p in a {
        let tail = phone_tail(p);
        if tail.len() == 8
            && b.iter()
                .any(|q| phone_tail(q) == tail && may_be_same_line(p, q))
        {
            return ev.add("phone", weights::SAME_PHONE_TAIL, || {
                format!("phones end in the same 8 digits {tail}")
            });
        }
    }
    ev.add("phone", weights::DIFFERENT_PHONES, || {
        format!("different phones +{first_a} / +{first_b}")
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_dots_and_tags_are_ignored_only_at_gmail() {
        assert_eq!(
            email_for_matching("Anna.Hansen+crm@googlemail.com"),
            "annahansen@gmail.com"
        );
        assert_eq!(
            email_for_matching("anna.hansen@gmail.com"),
            "annahansen@gmail.com"
        );
        assert_eq!(
            email_for_matching("anna.hansen+x@firma.dk"),
            "anna.hansen+x@firma.dk"
        );
        assert_eq!(email_for_matching("not an email"), "not an email");
    }

    fn weight(compare: fn(&[String], &[String], &mut Evidence), a: &str, b: &str) -> Option<f32> {
        let mut ev = Evidence::new(true);
        let list = |s: &str| {
            if s.is_empty() {
                vec![]
            } else {
                vec![s.to_string()]
            }
        };
        compare(&list(a), &list(b), &mut ev);
        ev.scored().reasons.first().map(|r| r.weight)
    }

    #[test]
    fn phones_match_on_their_last_eight_digits() {
        let w = weight(compare_phones, "4512345678", "12345678");
        assert_eq!(w, Some(weights::SAME_PHONE_TAIL));
        let w = weight(compare_phones, "4512345678", "4587654321");
        assert_eq!(w, Some(weights::DIFFERENT_PHONES));
        assert_eq!(weight(compare_phones, "", "12345678"), None);
        assert_eq!(phone_tail("123"), "123");
        assert_eq!(phone_digits("+4512345678;ext=99"), "4512345678x99");
        assert_eq!(phone_tail("4512345678x99"), "12345678");
        assert!(is_usable_phone("4512345678x99") && !is_usable_phone("4500000000x12"));
        let w = weight(compare_phones, "4512345678x12", "4512345678x34");
        assert_eq!(
            w,
            Some(weights::DIFFERENT_PHONES),
            "two extensions, two people"
        );
        let w = weight(compare_phones, "4512345678x12", "4512345678");
        assert_eq!(w, Some(weights::SAME_PHONE_TAIL));
        let w = weight(compare_phones, "4512345678x12", "4512345678x12");
        assert_eq!(w, Some(weights::SAME_PHONE));
    }

    #[test]
    fn junk_contact_points_are_not_evidence() {
        assert!(is_usable_email("anna@x.dk"));
        assert!(!is_usable_email("@"));
        assert!(!is_usable_email("anna@"));
        assert!(!is_usable_email("anna"));
        assert!(is_usable_phone("4520123456"));
        assert!(!is_usable_phone("4500000000"));
        assert!(!is_usable_phone("12345"));
    }

    #[test]
    fn shared_role_addresses_count_for_little() {
        let w = weight(compare_emails, "info@firma.dk", "info@firma.dk");
        assert_eq!(w, Some(weights::SAME_SHARED_EMAIL));
    }
}
