//! Emails and phone numbers: the two ways a customer is reached and recognised.

use std::str::FromStr;

/// A country whose numbering plan reads phone numbers written without a `+` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(phonenumber::country::Id);

impl PhoneRegion {
    /// Parses an ISO 3166-1 alpha-2 code such as `DK` or `CN`.
    pub fn parse(code: &str) -> Result<Self, String> {
        phonenumber::country::Id::from_str(&code.trim().to_ascii_uppercase())
            .map(PhoneRegion)
            .map_err(|_| format!("`{code}` is not a known ISO country code"))
    }

    /// The two-letter code.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

/// Checks and lower-cases an email address. Written as mail programs and their exports
/// write it (`Ane Hansen <ane@example.dk>`, `<ane@example.dk>`, `mailto:ane@example.dk`,
/// a trailing dot), the address alone is kept.
pub fn normalise_email(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    let address = address_of(s);
    if address.len() > 254 {
        return Err("is longer than 254 characters".into());
    }
    let parsed = email_address::EmailAddress::from_str(address)
        .map_err(|e| format!("`{s}` is not a valid email address ({e})"))?;
    let domain = parsed.domain();
    if !domain.contains('.') || domain.starts_with('[') {
        return Err(format!(
            "`{s}` is not a valid email address (domain has no dot)"
        ));
    }
    Ok(format!("{}@{domain}", parsed.local_part()).to_lowercase())
}

/// The address in `Name <address>`, `Name (address)` (HubSpot's exports), `mailto:address`
/// or `address.`.
fn address_of(s: &str) -> &str {
    let mut a = s;
    if let (Some(open), true) = (a.rfind('<'), a.ends_with('>')) {
        a = a[open + 1..a.len() - 1].trim();
    } else if let (Some(open), true) = (a.rfind('('), a.ends_with(')')) {
        if a[open..].contains('@') {
            a = a[open + 1..a.len() - 1].trim();
        }
    }
    if a.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("mailto:"))
    {
        a = a[7..].trim();
    }
    a.strip_suffix('.').unwrap_or(a)
}

/// Parses a phone number as people write it and returns it in E.164 (`+4520123456`);
/// numbers without `+` are read in `region`'s numbering plan. An extension
/// (`ext. 12`, `x12`, `;ext=12`) is kept after the number as RFC 3966 writes it
/// (`+4570123456;ext=12`): E.164 has no place for it, and a switchboard number without
/// its extension does not reach the person.
pub fn normalise_phone(raw: &str, region: Option<PhoneRegion>) -> Result<String, String> {
    // Messages quote the number as written, not as it is rewritten below.
    let written = raw.trim();
    if written.is_empty() {
        return Err("must not be empty".into());
    }
    let s = written;
    // A number copied from a link.
    let s = match s.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => s[4..].trim(),
        _ => s,
    };
    let spelled = with_extension_marked(s);
    let s = spelled.as_ref();
    // The stored form, which libphonenumber reads only inside a `tel:` URI.
    let (s, stored_ext) = match s.to_ascii_lowercase().find(";ext=") {
        Some(at) => {
            let ext = s[at + 5..].trim();
            if ext.is_empty() || !ext.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{written}` has an extension that is not digits"));
            }
            (s[..at].trim_end(), Some(ext))
        }
        None => (s, None),
    };
    let digits = s.chars().filter(char::is_ascii_digit).count();
    // 17: the longest number (15) with its prefix `00`; extensions may add up to 7.
    if !(3..=24).contains(&digits) {
        return Err(format!("`{written}` is not a phone number"));
    }
    let international = s.starts_with('+') || s.starts_with("00");
    if !international && region.is_none() {
        return Err(format!(
            "`{written}` has no country code and the workspace has no default phone region"
        ));
    }
    // "+44 (0)20 7946 0958": the trunk 0 in brackets is dialled only from inside the
    // country, so business cards print it beside the country code; it is no digit of
    // the number.
    let dialled = strip_trunk_zero(s);
    let number = phonenumber::parse(region.map(|r| r.0), &dialled)
        .map_err(|_| format!("`{written}` is not a phone number"))?;
    if !number.is_valid() {
        return Err(format!("`{written}` is not a valid phone number"));
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    Ok(match stored_ext.or(number.extension().map(|e| &**e)) {
        Some(ext) if !ext.is_empty() => format!("{e164};ext={ext}"),
        _ => e164,
    })
}

/// The number of a stored phone, without its extension: what dials, matches and is
/// searched by its digits.
pub fn phone_number(stored: &str) -> &str {
    stored.split(';').next().unwrap_or(stored)
}

/// The extension of a stored phone (`+4570123456;ext=12` → `12`), if it has one.
pub fn phone_extension(stored: &str) -> Option<&str> {
    stored
        .split_once(";ext=")
        .map(|(_, ext)| ext)
        .filter(|e| !e.is_empty())
}

/// How our users write "extension" where libphonenumber knows only English forms:
/// Danish (`lokal 12`, `lok. 12`) and Chinese (`转 123`, `分机 123`).
const EXTENSION_WORDS: &[&str] = &["lokal", "lok.", "lok", "转", "轉", "分机", "分機"];

/// `s` with a Danish or Chinese extension word written as `ext.`.
fn with_extension_marked(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes()
        .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
    {
        return s.into();
    }
    let lower = s.to_lowercase();
    if lower.len() != s.len() {
        // Offsets in `lower` would not be offsets in `s`.
        return s.into();
    }
    for word in EXTENSION_WORDS {
        let Some(at) = lower.find(word) else { continue };
        let (Some(head), Some(tail)) = (s.get(..at), s.get(at + word.len()..)) else {
            continue;
        };
        let rest = tail.trim_start_matches([' ', ':', '.', '：']);
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            return format!("{head} ext. {rest}").into();
        }
    }
    s.into()
}

/// `s` without a bracketed trunk zero, `(0)` or `( 0 )`.
fn strip_trunk_zero(s: &str) -> std::borrow::Cow<'_, str> {
    let Some(open) = s.find('(') else {
        return s.into();
    };
    let Some(len) = s[open..].find(')') else {
        return s.into();
    };
    if s[open + 1..open + len].trim() != "0" {
        return s.into();
    }
    format!("{} {}", &s[..open], &s[open + len + 1..]).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalise_email("  Ana@Example.COM ").unwrap(),
            "ana@example.com"
        );
    }

    #[test]
    fn addresses_as_mail_programs_write_them_keep_the_address() {
        for written in [
            "Ane Hansen <Ane@Example.dk>",
            "\"Hansen, Ane\" <ane@example.dk>",
            "<ane@example.dk>",
            "mailto:ane@example.dk",
            "MAILTO: ane@example.dk",
            "ane@example.dk.",
            "Ane <mailto:ane@example.dk>",
            "Ane Hansen (ane@example.dk)",
        ] {
            assert_eq!(
                normalise_email(written).as_deref(),
                Ok("ane@example.dk"),
                "{written}"
            );
        }
        assert!(normalise_email("Ane Hansen <>").is_err());
        assert!(normalise_email("Ane Hansen (Nordlys)").is_err());
        assert!(normalise_email("<ane@example.dk").is_err());
        assert!(normalise_email("ane@example.dk..").is_err());
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@localhost",
            "a b@example.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn danish_numbers_without_prefix_use_the_region() {
        let dk = PhoneRegion::parse("dk").unwrap();
        assert_eq!(
            normalise_phone("20 12 34 56", Some(dk)).unwrap(),
            "+4520123456"
        );
        assert_eq!(
            normalise_phone("+45 20-12-34-56", None).unwrap(),
            "+4520123456"
        );
    }

    #[test]
    fn chinese_mobile_numbers_normalise() {
        let cn = PhoneRegion::parse("CN").unwrap();
        assert_eq!(
            normalise_phone("138 0013 8000", Some(cn)).unwrap(),
            "+8613800138000"
        );
    }

    #[test]
    fn a_bracketed_trunk_zero_is_no_digit_of_the_number() {
        let cn = PhoneRegion::parse("CN").ok();
        for (written, e164) in [
            ("+86 (0)10 1234 5678", "+861012345678"),
            ("+44 (0)20 7946 0958", "+442079460958"),
            ("+49 ( 0 ) 30 901820", "+4930901820"),
            ("(0)10 1234 5678", "+861012345678"),
        ] {
            assert_eq!(normalise_phone(written, cn).unwrap(), e164, "{written}");
        }
        // Other brackets stay as they are: area codes, unbalanced ones.
        assert_eq!(
            normalise_phone("(010) 1234 5678", cn).unwrap(),
            "+861012345678"
        );
        assert!(normalise_phone("+86 (0 10 1234 5678", cn).is_ok());
    }

    #[test]
    fn numbers_without_region_or_prefix_are_refused_with_a_reason() {
        let err = normalise_phone("20123456", None).unwrap_err();
        assert!(err.contains("country code"), "{err}");
        assert!(normalise_phone("12", None).is_err());
        assert!(normalise_phone("hello", PhoneRegion::parse("DK").ok()).is_err());
    }

    #[test]
    fn extensions_are_kept_after_the_number() {
        let dk = PhoneRegion::parse("DK").ok();
        let us = PhoneRegion::parse("US").ok();
        let cn = PhoneRegion::parse("CN").ok();
        for (written, region, stored) in [
            ("+45 70 12 34 56 ext. 12", None, "+4570123456;ext=12"),
            ("70 12 34 56 lokal 12", dk, "+4570123456;ext=12"),
            ("70 12 34 56, lok. 12", dk, "+4570123456;ext=12"),
            ("010-8888 6666转123", cn, "+861088886666;ext=123"),
            ("+86 10 8888 6666 分机：123", None, "+861088886666;ext=123"),
            ("70 12 34 56 x12", dk, "+4570123456;ext=12"),
            ("(650) 253-0000 ext 4321", us, "+16502530000;ext=4321"),
            ("+1 650 253 0000 #4321", None, "+16502530000;ext=4321"),
            (
                "tel:+1-650-253-0000;ext=4321",
                None,
                "+16502530000;ext=4321",
            ),
        ] {
            let got = normalise_phone(written, region);
            assert_eq!(got.as_deref(), Ok(stored), "{written}");
            // A stored number reads back as itself, so an edit that resends it is no change.
            assert_eq!(normalise_phone(stored, None).as_deref(), Ok(stored));
        }
        assert_eq!(phone_number("+16502530000;ext=4321"), "+16502530000");
        let err = normalise_phone("8888 6666转123", None).unwrap_err();
        assert!(
            err.starts_with("`8888 6666转123` has no country code"),
            "{err}"
        );
        assert_eq!(phone_number("+4520123456"), "+4520123456");
        assert_eq!(phone_extension("+16502530000;ext=4321"), Some("4321"));
        assert_eq!(phone_extension("+4520123456"), None);
    }

    #[test]
    fn unknown_regions_are_refused() {
        assert!(PhoneRegion::parse("XX").is_err());
    }
}
