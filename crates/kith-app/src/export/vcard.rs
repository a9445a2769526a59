//! Contacts as vCard 4.0 (RFC 6350), as phones, Google and Apple Contacts read them and
//! as `kith_core::import::vcard` reads them back.

use chrono::SecondsFormat;
use kith_core::objects::ObjectKind;

use super::columns::{others, Names};
use super::lines::{escape, push};
use crate::Record;

/// The name a contact is shown by: Chinese names family name first without a space.
fn full_name(first: &str, last: &str) -> String {
    kith_core::search::cjk_full_name(first, last)
        .unwrap_or_else(|| format!("{first} {last}").trim().to_string())
}

/// One contact as a vCard; `names` resolves its company.
pub(crate) fn card(rec: &Record, names: &Names) -> String {
    debug_assert_eq!(rec.object, ObjectKind::Contact);
    let t = |f: &str| rec.text(f).unwrap_or("");
    let mut out = String::new();
    push(&mut out, "BEGIN:VCARD");
    push(&mut out, "VERSION:4.0");
    push(&mut out, "PRODID:-//Kith//Kith CRM//EN");
    push(&mut out, &format!("UID:urn:uuid:{}", rec.id));
    // FN is required: a contact without a name is shown by its email or phone.
    let mut fname = full_name(t("first_name"), t("last_name"));
    if fname.is_empty() {
        fname = [t("email"), t("phone")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .to_string();
    }
    push(&mut out, &format!("FN:{}", escape(&fname)));
    push(
        &mut out,
        &format!(
            "N:{};{};;;",
            escape(t("last_name")),
            escape(t("first_name"))
        ),
    );
    if !t("email").is_empty() {
        push(&mut out, &format!("EMAIL;PREF=1:{}", escape(t("email"))));
    }
    for e in others(rec, "email", "email") {
        push(&mut out, &format!("EMAIL:{}", escape(&e)));
    }
    // Kith does not know a number's kind: all are voice, the primary one preferred.
    if !t("phone").is_empty() {
        push(
            &mut out,
            &format!("TEL;VALUE=uri;PREF=1;TYPE=voice:tel:{}", t("phone")),
        );
    }
    for p in others(rec, "phone", "phone") {
        push(&mut out, &format!("TEL;VALUE=uri;TYPE=voice:tel:{p}"));
    }
    if let Some(company) = rec.uuid("company_id").and_then(|c| names.companies.get(&c)) {
        push(&mut out, &format!("ORG:{}", escape(company)));
    }
    if !t("job_title").is_empty() {
        push(&mut out, &format!("TITLE:{}", escape(t("job_title"))));
    }
    if let Some(kith_core::Scalar::Date(d)) = rec.get("birthday") {
        push(&mut out, &format!("BDAY:{}", d.format("%Y%m%d")));
    }
    let adr = [
        "address_line2",
        "address_line1",
        "city",
        "region",
        "postcode",
        "country",
    ];
    if adr.iter().any(|f| !t(f).is_empty()) {
        // Post office box; extended address; street; locality; region; code; country.
        let parts: Vec<String> = adr.iter().map(|f| escape(t(f))).collect();
        push(&mut out, &format!("ADR:;{}", parts.join(";")));
    }
    if !rec.tags.is_empty() {
        let tags: Vec<String> = rec.tags.iter().map(|s| escape(s)).collect();
        push(&mut out, &format!("CATEGORIES:{}", tags.join(",")));
    }
    push(
        &mut out,
        &format!(
            "REV:{}",
            rec.updated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true)
                .replace(['-', ':'], "")
        ),
    );
    push(&mut out, "END:VCARD");
    out
}
