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

/// Checks and lower-cases an email address.
pub fn normalise_email(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 254 {
        return Err("is longer than 254 characters".into());
    }
    let parsed = email_address::EmailAddress::from_str(s)
        .map_err(|e| format!("`{s}` is not a valid email address ({e})"))?;
    let domain = parsed.domain();
    if !domain.contains('.') || domain.starts_with('[') {
        return Err(format!(
            "`{s}` is not a valid email address (domain has no dot)"
        ));
    }
    Ok(s.to_lowercase())
}

/// Parses a phone number as people write it and returns it in E.164 (`+4520123456`);
/// numbers without `+` are read in `region`'s numbering plan.
pub fn normalise_phone(raw: &str, region: Option<PhoneRegion>) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if !(3..=17).contains(&digits) {
        return Err(format!("`{s}` is not a phone number"));
    }
    let international = s.starts_with('+') || s.starts_with("00");
    if !international && region.is_none() {
        return Err(format!(
            "`{s}` has no country code and the workspace has no default phone region"
        ));
    }
    let number = phonenumber::parse(region.map(|r| r.0), s)
        .map_err(|_| format!("`{s}` is not a phone number"))?;
    if !number.is_valid() {
        return Err(format!("`{s}` is not a valid phone number"));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
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
    fn numbers_without_region_or_prefix_are_refused_with_a_reason() {
        let err = normalise_phone("20123456", None).unwrap_err();
        assert!(err.contains("country code"), "{err}");
        assert!(normalise_phone("12", None).is_err());
        assert!(normalise_phone("hello", PhoneRegion::parse("DK").ok()).is_err());
    }

    #[test]
    fn unknown_regions_are_refused() {
        assert!(PhoneRegion::parse("XX").is_err());
    }
}
