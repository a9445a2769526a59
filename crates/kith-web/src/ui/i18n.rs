//! Interface languages (English, Simplified Chinese, Danish): Fluent messages, and
//! numbers, money and dates written the way each locale writes them.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Without this Fluent wraps every argument in invisible isolation marks.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese.
    ZhCn,
    /// Danish.
    Da,
}

impl Lang {
    /// Every language, in menu order.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::ZhCn, Lang::Da];

    /// BCP 47 tag, also the stored user preference.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
            Lang::Da => "da",
        }
    }

    /// The language's own name, for the menu.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
            Lang::Da => "Dansk",
        }
    }

    /// Reads a stored preference or a tag.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if t.starts_with("da") || t.starts_with("nb") || t.starts_with("no") {
            Some(Lang::Da)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The best language for an `Accept-Language` header (English when none fits).
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }

    fn id(self) -> LanguageIdentifier {
        self.tag().parse().expect("our tags are valid")
    }

    /// The message `key`.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(&self.id(), key)
    }

    /// The message `key` with arguments.
    pub fn t_args(self, key: &str, args: &[(&'static str, String)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone())))
            .collect();
        LOCALES.lookup_with_args(&self.id(), key, &map)
    }

    /// The message `key` if it exists.
    pub fn try_t(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(&self.id(), key)
    }

    /// A whole number with the locale's thousands separator.
    pub fn number(self, n: i64) -> String {
        let sep = if self == Lang::Da { '.' } else { ',' };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    }

    /// Money from minor units: `DKK 12,500.00` / `12.500,00 kr.` / `¥12,500.00`.
    pub fn money(self, minor: i64, currency: &str) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let minor = minor.unsigned_abs();
        let major = self.number(i64::try_from(minor / 100).unwrap_or(i64::MAX));
        let dec = if self == Lang::Da { ',' } else { '.' };
        let amount = format!("{major}{dec}{:02}", minor % 100);
        match (self, currency) {
            (Lang::Da, "DKK") => format!("{sign}{amount} kr."),
            (Lang::Da, c) => format!("{sign}{amount} {c}"),
            (_, "CNY") => format!("{sign}¥{amount}"),
            (_, "USD") => format!("{sign}${amount}"),
            (_, "EUR") => format!("{sign}€{amount}"),
            (_, "GBP") => format!("{sign}£{amount}"),
            (_, c) => format!("{sign}{c} {amount}"),
        }
    }

    /// A calendar date: `23 Nov 2026` / `23. nov. 2026` / `2026年11月23日`.
    pub fn date(self, d: NaiveDate) -> String {
        const EN: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        const DA: [&str; 12] = [
            "jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.",
            "dec.",
        ];
        let m = d.month0() as usize;
        match self {
            Lang::En => format!("{} {} {}", d.day(), EN[m], d.year()),
            Lang::Da => format!("{}. {} {}", d.day(), DA[m], d.year()),
            Lang::ZhCn => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        }
    }

    /// A moment as a date and time in time zone `tz`.
    pub fn datetime(self, t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        let local = t.with_timezone(&tz);
        format!(
            "{} {}",
            self.date(local.date_naive()),
            local.format("%H:%M")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_language_is_negotiated() {
        assert_eq!(Lang::negotiate("da-DK,da;q=0.9,en;q=0.8"), Lang::Da);
        assert_eq!(Lang::negotiate("zh-CN,zh;q=0.9"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("fr-FR, en;q=0.5"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
    }

    #[test]
    fn money_and_dates_follow_the_locale() {
        assert_eq!(Lang::Da.money(1_250_000, "DKK"), "12.500,00 kr.");
        assert_eq!(Lang::En.money(1_250_000, "DKK"), "DKK 12,500.00");
        assert_eq!(Lang::ZhCn.money(-99, "CNY"), "-¥0.99");
        assert_eq!(Lang::Da.money(-123_456, "DKK"), "-1.234,56 kr.");
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(Lang::En.date(d), "1 Mar 2026");
        assert_eq!(Lang::Da.date(d), "1. mar. 2026");
        assert_eq!(Lang::ZhCn.date(d), "2026年3月1日");
    }

    fn keys(ftl: &str) -> std::collections::BTreeSet<&str> {
        ftl.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains(" ="))
            .map(|l| l.split(" =").next().unwrap_or("").trim())
            .collect()
    }

    #[test]
    fn every_workflow_key_exists_in_every_language() {
        let en = keys(include_str!("../../locales/en/workflows.ftl"));
        assert!(en.len() > 50);
        let da = keys(include_str!("../../locales/da/workflows.ftl"));
        assert_eq!(da, en, "da keys differ from en");
        let zh = keys(include_str!("../../locales/zh-CN/workflows.ftl"));
        assert_eq!(zh, en, "zh-CN keys differ from en");
        assert_eq!(Lang::Da.t("nav-workflows"), "Arbejdsgange");
    }

    #[test]
    fn every_key_exists_in_every_language() {
        let en = keys(include_str!("../../locales/en/main.ftl"));
        assert!(en.len() > 50);
        assert_eq!(
            keys(include_str!("../../locales/zh-CN/main.ftl")),
            en,
            "zh-CN keys differ from en"
        );
        assert_eq!(
            keys(include_str!("../../locales/da/main.ftl")),
            en,
            "da keys differ from en"
        );
        // Translated, not copied.
        assert_ne!(Lang::Da.t("signin-title"), Lang::En.t("signin-title"));
        assert_ne!(Lang::ZhCn.t("nav-contacts"), Lang::En.t("nav-contacts"));
        assert_eq!(Lang::Da.t("nav-contacts"), "Kontakter");
    }
}
