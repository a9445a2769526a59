//! The built-in segmentations the CRM guides describe, as pure rules: RFM scores and
//! named RFM groups, behaviour from recency, value tier from revenue, and source group
//! from where a contact came from. The store computes the same rules in SQL over a whole
//! workspace; the tests here pin the rules down on hand-checked numbers.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// Where contacts came from, grouped.
pub const SOURCE_GROUPS: &[&str] = &["organic", "paid", "referral", "other"];
/// How recently a customer engaged, from most to least.
pub const BEHAVIOURS: &[&str] = &["active", "at_risk", "dormant", "churned"];
/// Value tiers of customers.
pub const VALUE_TIERS: &[&str] = &["high_value", "standard", "new"];
/// Named RFM groups.
pub const RFM_GROUPS: &[&str] = &[
    "champions",
    "loyal",
    "potential_loyalists",
    "new_customers",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose_them",
    "hibernating",
];

/// The classic recency × frequency grid: `(r_min, r_max, f_min, f_max, group)`. Every
/// one of the 25 cells belongs to exactly one group (a unit test checks).
pub const RFM_GRID: &[(i64, i64, i64, i64, &str)] = &[
    (5, 5, 4, 5, "champions"),
    (3, 4, 4, 5, "loyal"),
    (4, 5, 2, 3, "potential_loyalists"),
    (5, 5, 1, 1, "new_customers"),
    (4, 4, 1, 1, "promising"),
    (3, 3, 3, 3, "need_attention"),
    (3, 3, 1, 2, "about_to_sleep"),
    (1, 2, 3, 4, "at_risk"),
    (1, 2, 5, 5, "cant_lose_them"),
    (1, 2, 1, 2, "hibernating"),
];

/// The 1–5 score of the value at 1-based `rank` among `n` customers sorted ascending,
/// ties sharing their lowest rank: the bottom fifth scores 1, the top fifth 5.
pub fn rfm_score(rank: i64, n: i64) -> i64 {
    if n <= 0 || rank <= 0 {
        return 1;
    }
    1 + ((rank - 1) * 5) / n
}

/// Scores every value of `values` (higher value, higher score).
pub fn rfm_scores(values: &[i64]) -> Vec<i64> {
    let n = values.len() as i64;
    values
        .iter()
        .map(|v| {
            let rank = 1 + values.iter().filter(|o| *o < v).count() as i64;
            rfm_score(rank, n)
        })
        .collect()
}

/// The named group of a recency and frequency score.
pub fn rfm_group(r: i64, f: i64) -> &'static str {
    RFM_GRID
        .iter()
        .find(|(r0, r1, f0, f1, _)| (*r0..=*r1).contains(&r) && (*f0..=*f1).contains(&f))
        .map(|g| g.4)
        .unwrap_or("hibernating")
}

/// What a workspace decides about its customers' behaviour and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Engaged (ordered or had an activity) within this many days: active.
    pub active_days: i64,
    /// … within this many: at risk.
    pub at_risk_days: i64,
    /// … within this many: dormant; longer ago: churned.
    pub dormant_days: i64,
    /// First order within this many days: a new customer.
    pub new_customer_days: i64,
    /// Lifetime value (minor units) from which a customer is high-value; when absent,
    /// the top fifth by revenue (monetary score 5) is.
    pub high_value_min: Option<i64>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            active_days: 90,
            at_risk_days: 180,
            dormant_days: 365,
            new_customer_days: 90,
            high_value_min: None,
        }
    }
}

impl Thresholds {
    /// Reads and checks thresholds from JSON, naming the field at fault.
    pub fn from_json(v: &Value) -> Result<Thresholds, Error> {
        let t: Thresholds = serde_json::from_value(v.clone())
            .map_err(|e| Error::new("segmentation_invalid", e.to_string()))?;
        let mut errors = crate::FieldErrors::default();
        for (name, days) in [
            ("active_days", t.active_days),
            ("at_risk_days", t.at_risk_days),
            ("dormant_days", t.dormant_days),
            ("new_customer_days", t.new_customer_days),
        ] {
            if !(1..=36_500).contains(&days) {
                errors.add(name, "must be between 1 and 36500 days");
            }
        }
        if t.at_risk_days <= t.active_days {
            errors.add("at_risk_days", "must be more than active_days");
        }
        if t.dormant_days <= t.at_risk_days {
            errors.add("dormant_days", "must be more than at_risk_days");
        }
        if t.high_value_min.is_some_and(|m| m < 0) {
            errors.add("high_value_min", "must not be negative");
        }
        if errors.is_empty() {
            Ok(t)
        } else {
            Err(Error::fields(errors))
        }
    }

    /// The moments that separate the behaviours, newest first: engaged after the first
    /// is active, after the second at risk, after the third dormant.
    pub fn behaviour_cutoffs(&self, now: DateTime<Utc>) -> [DateTime<Utc>; 3] {
        [
            now - Duration::days(self.active_days),
            now - Duration::days(self.at_risk_days),
            now - Duration::days(self.dormant_days),
        ]
    }

    /// Behaviour from the last engagement (order or activity); None when there was none.
    pub fn behaviour(
        &self,
        last_engaged: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<&'static str> {
        let at = last_engaged?;
        let [active, at_risk, dormant] = self.behaviour_cutoffs(now);
        Some(if at >= active {
            "active"
        } else if at >= at_risk {
            "at_risk"
        } else if at >= dormant {
            "dormant"
        } else {
            "churned"
        })
    }

    /// Value tier of a customer (high-value before new before standard); None without
    /// orders.
    pub fn value_tier(
        &self,
        first_order_at: Option<DateTime<Utc>>,
        lifetime_value: i64,
        monetary_score: Option<i64>,
        now: DateTime<Utc>,
    ) -> Option<&'static str> {
        let first = first_order_at?;
        let high = match self.high_value_min {
            Some(min) => lifetime_value >= min,
            None => monetary_score == Some(5),
        };
        // A customer who spent a lot in their first weeks is high-value, not new.
        Some(if high {
            "high_value"
        } else if first >= now - Duration::days(self.new_customer_days) {
            "new"
        } else {
            "standard"
        })
    }
}

const PAID_MEDIUMS: &[&str] = &[
    "cpc",
    "ppc",
    "cpm",
    "cpv",
    "cpa",
    "paid",
    "paidsearch",
    "paid_search",
    "paid-search",
    "paidsocial",
    "paid_social",
    "paid-social",
    "display",
    "banner",
    "ads",
    "ad",
    "retargeting",
];
const REFERRAL_WORDS: &[&str] = &[
    "referral",
    "referred",
    "referer",
    "refer",
    "partner",
    "affiliate",
    "word of mouth",
    "anbefaling",
    "anbefalet",
    "henvisning",
    "推荐",
    "介绍",
    "转介绍",
];
const PAID_WORDS: &[&str] = &[
    "ads",
    "adwords",
    "google ads",
    "facebook ads",
    "paid",
    "cpc",
    "annonce",
    "广告",
    "付费",
];
const ORGANIC_WORDS: &[&str] = &[
    "organic",
    "seo",
    "direct",
    "(direct)",
    "(none)",
    "website",
    "web",
    "search",
    "google",
    "bing",
    "baidu",
    "duckduckgo",
    "blog",
    "hjemmeside",
    "官网",
    "搜索",
    "自然",
];

/// The source group of a contact from its `source`, `utm_source` and `utm_medium`;
/// None when nothing says where it came from. UTM medium decides first, as analytics
/// tools do.
pub fn source_group(
    source: Option<&str>,
    utm_source: Option<&str>,
    utm_medium: Option<&str>,
) -> Option<&'static str> {
    let clean = |s: Option<&str>| s.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let (source, utm_source, medium) = (clean(source), clean(utm_source), clean(utm_medium));
    if let Some(m) = &medium {
        if PAID_MEDIUMS.contains(&m.as_str()) || m.contains("paid") || m.contains("cpc") {
            return Some("paid");
        }
        if REFERRAL_WORDS.iter().any(|w| m.contains(w)) {
            return Some("referral");
        }
        if ["organic", "seo", "(none)", "none", "direct"].contains(&m.as_str()) {
            return Some("organic");
        }
    }
    let words = [source.as_deref(), utm_source.as_deref()];
    let any = |list: &[&str]| {
        words
            .iter()
            .flatten()
            .any(|s| list.iter().any(|w| s == w || s.contains(w)))
    };
    if any(REFERRAL_WORDS) {
        Some("referral")
    } else if any(PAID_WORDS) {
        Some("paid")
    } else if any(ORGANIC_WORDS) {
        Some("organic")
    } else if source.is_some() || utm_source.is_some() || medium.is_some() {
        Some("other")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn every_cell_of_the_grid_has_one_group() {
        for r in 1..=5 {
            for f in 1..=5 {
                let n = RFM_GRID
                    .iter()
                    .filter(|(r0, r1, f0, f1, _)| {
                        (*r0..=*r1).contains(&r) && (*f0..=*f1).contains(&f)
                    })
                    .count();
                assert_eq!(n, 1, "cell r={r} f={f}");
            }
        }
        for g in RFM_GRID {
            assert!(RFM_GROUPS.contains(&g.4));
        }
        assert_eq!(rfm_group(5, 5), "champions");
        assert_eq!(rfm_group(1, 5), "cant_lose_them");
        assert_eq!(rfm_group(2, 3), "at_risk");
        assert_eq!(rfm_group(1, 1), "hibernating");
        assert_eq!(rfm_group(5, 1), "new_customers");
    }

    #[test]
    fn scores_split_customers_in_fifths_and_ties_share() {
        // Ten customers with order counts; by hand: ranks 1,1,1,1,5,5,7,8,9,10 of 10.
        let freq = [1, 1, 1, 1, 2, 2, 3, 4, 6, 9];
        assert_eq!(rfm_scores(&freq), vec![1, 1, 1, 1, 3, 3, 4, 4, 5, 5]);
        assert_eq!(rfm_scores(&[500]), vec![1]);
        assert_eq!(rfm_scores(&[10, 20, 30, 40, 50]), vec![1, 2, 3, 4, 5]);
        assert_eq!(rfm_score(0, 0), 1);
    }

    #[test]
    fn behaviour_follows_the_last_engagement() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let t = Thresholds::default();
        let ago = |d| Some(now - Duration::days(d));
        assert_eq!(t.behaviour(ago(10), now), Some("active"));
        assert_eq!(t.behaviour(ago(90), now), Some("active"));
        assert_eq!(t.behaviour(ago(91), now), Some("at_risk"));
        assert_eq!(t.behaviour(ago(200), now), Some("dormant"));
        assert_eq!(t.behaviour(ago(400), now), Some("churned"));
        assert_eq!(t.behaviour(None, now), None);
    }

    #[test]
    fn value_tiers() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap();
        let t = Thresholds::default();
        let old = Some(now - Duration::days(400));
        assert_eq!(t.value_tier(Some(now), 100, Some(1), now), Some("new"));
        assert_eq!(
            t.value_tier(Some(now), 100, Some(5), now),
            Some("high_value")
        );
        assert_eq!(t.value_tier(old, 100, Some(5), now), Some("high_value"));
        assert_eq!(t.value_tier(old, 100, Some(4), now), Some("standard"));
        assert_eq!(t.value_tier(None, 0, None, now), None);
        let fixed = Thresholds {
            high_value_min: Some(500_000),
            ..Thresholds::default()
        };
        assert_eq!(
            fixed.value_tier(old, 500_000, Some(1), now),
            Some("high_value")
        );
        assert_eq!(
            fixed.value_tier(old, 499_999, Some(5), now),
            Some("standard")
        );
    }

    #[test]
    fn thresholds_are_checked_by_name() {
        let e = Thresholds::from_json(&serde_json::json!({"active_days": 200})).unwrap_err();
        assert!(e.to_string().contains("at_risk_days"), "{e}");
        let e = Thresholds::from_json(&serde_json::json!({"activ_days": 2})).unwrap_err();
        assert!(e.to_string().contains("activ_days"), "{e}");
        let t = Thresholds::from_json(&serde_json::json!({"high_value_min": 100})).unwrap();
        assert_eq!(t.active_days, 90);
    }

    #[test]
    fn sources_are_grouped_like_analytics_tools_do() {
        assert_eq!(
            source_group(None, Some("google"), Some("cpc")),
            Some("paid")
        );
        assert_eq!(
            source_group(None, Some("google"), Some("organic")),
            Some("organic")
        );
        assert_eq!(source_group(Some("Google"), None, None), Some("organic"));
        assert_eq!(source_group(Some("Facebook Ads"), None, None), Some("paid"));
        assert_eq!(
            source_group(Some("Anbefaling fra kunde"), None, None),
            Some("referral")
        );
        assert_eq!(source_group(Some("朋友推荐"), None, None), Some("referral"));
        assert_eq!(
            source_group(None, Some("newsletter"), Some("email")),
            Some("other")
        );
        assert_eq!(source_group(Some("Trade fair"), None, None), Some("other"));
        assert_eq!(source_group(Some("  "), None, None), None);
    }
}
