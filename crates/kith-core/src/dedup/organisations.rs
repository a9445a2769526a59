//! Organisations: company names without their legal form, keys and comparison.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::blocking::{candidate_pairs, push_key};
use super::contact_points::{
    compare_phones, email_for_matching, is_usable_email, is_usable_phone, phone_digits, phone_tail,
};
use super::names::{edit_distance_at_most_one, is_cjk, skeleton};
use super::{sort_pairs, weights, Evidence, Pair, Scored};

/// An organisation as dedup sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    /// The organisation's id.
    pub id: Uuid,
    /// Its name, e.g. `Nordisk Data A/S` or `华为技术有限公司`.
    pub name: String,
    /// Its web domain, e.g. `nordiskdata.dk`.
    pub domain: Option<String>,
    /// Its main phone in E.164.
    pub phone: Option<String>,
    /// Its main email.
    pub email: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// City.
    pub city: Option<String>,
}

/// Legal forms dropped from the end of a Latin company name (after folding, so `A/S`
/// is `as`, `I/S` is `is`).
const LEGAL_FORMS: &[&str] = &[
    "as",
    "aps",
    "is",
    "ivs",
    "ps",
    "ks",
    "amba",
    "smba",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "llc",
    "llp",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "ab",
    "oy",
    "bv",
    "nv",
    "sa",
    "sarl",
    "srl",
    "spa",
    "holding",
];

/// Legal forms and group words dropped from the end of a Chinese company name, longest
/// first so 股份有限公司 goes before 有限公司 could leave 股份 behind.
const CJK_LEGAL_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "控股",
    "集团",
    "公司",
];

/// Webmail domains: an email there says nothing about which organisation it is.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "hotmail.com",
    "hotmail.dk",
    "outlook.com",
    "outlook.dk",
    "live.dk",
    "yahoo.com",
    "yahoo.dk",
    "icloud.com",
    "mail.dk",
    "jubii.dk",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
];

/// A company name folded for matching: skeleton words without the legal form
/// (`Nordisk Data A/S` → `nordisk data`, `华为技术有限公司` → `华为技术`). A name that
/// is nothing but legal forms is kept whole.
pub fn company_name(name: &str) -> String {
    let mut han: String = name.chars().filter(|c| is_cjk(*c)).collect();
    if !han.is_empty() {
        // Strip repeatedly: 集团股份有限公司 is two suffixes.
        while let Some(form) = CJK_LEGAL_FORMS
            .iter()
            .find(|f| han.ends_with(*f) && han.len() > f.len())
        {
            han.truncate(han.len() - form.len());
        }
        return han;
    }
    // Slashes and dots inside legal forms (A/S, I/S, Inc.) are dropped, not split on.
    let squeezed: String = name.chars().filter(|c| !matches!(c, '/' | '.')).collect();
    let mut words: Vec<String> = squeezed
        .split(|c: char| !c.is_alphanumeric())
        .map(skeleton)
        .filter(|w| !w.is_empty())
        .collect();
    while words.len() > 1
        && words
            .last()
            .is_some_and(|w| LEGAL_FORMS.contains(&w.as_str()))
    {
        words.pop();
    }
    words.join(" ")
}

/// A web domain or an email's domain, folded: lower-case, no scheme, `www.` or path.
fn domain_of(text: &str) -> String {
    let t = text.trim().to_lowercase();
    let t = t.rsplit_once('@').map(|(_, d)| d).unwrap_or(&t);
    let t = t.split("://").last().unwrap_or(t);
    let t = t.split('/').next().unwrap_or(t);
    t.strip_prefix("www.").unwrap_or(t).to_string()
}

struct Prepared<'a> {
    org: &'a Organisation,
    name: String,
    /// Its own domain, from the website or else from a non-webmail email.
    domain: String,
    email: String,
    phones: Vec<String>,
    postcode: String,
    city: String,
}

impl Prepared<'_> {
    fn new(o: &Organisation) -> Prepared<'_> {
        let email = o
            .email
            .as_deref()
            .map(email_for_matching)
            .filter(|e| is_usable_email(e))
            .unwrap_or_default();
        let mut domain = o.domain.as_deref().map(domain_of).unwrap_or_default();
        if domain.is_empty() && email.contains('@') {
            domain = domain_of(&email);
        }
        if FREE_MAIL.contains(&domain.as_str()) || !domain.contains('.') {
            domain.clear();
        }
        Prepared {
            org: o,
            name: company_name(&o.name),
            domain,
            email,
            phones: o
                .phone
                .iter()
                .map(|p| phone_digits(p))
                .filter(|d| is_usable_phone(d))
                .collect(),
            postcode: o
                .postcode
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect(),
            city: skeleton(o.city.as_deref().unwrap_or("")),
        }
    }

    fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        push_key(&mut keys, "n:", &self.name);
        push_key(&mut keys, "d:", &self.domain);
        push_key(&mut keys, "e:", &self.email);
        for p in &self.phones {
            push_key(&mut keys, "p:", phone_tail(p));
        }
        // Meets names with a typo in a later word, in the same postcode.
        let first: String = self
            .name
            .split(' ')
            .next()
            .unwrap_or("")
            .chars()
            .take(4)
            .collect();
        if !self.postcode.is_empty() && !first.is_empty() {
            push_key(&mut keys, "z:", &format!("{} {first}", self.postcode));
        }
        keys
    }
}

/// The blocking keys of an organisation: `n:` name without legal form, `d:` domain,
/// `e:` email, `p:` phone tail, `z:` postcode and start of the name.
pub fn organisation_keys(o: &Organisation) -> Vec<String> {
    Prepared::new(o).keys()
}

/// Compares two organisations: the score and the reasons for it.
pub fn compare_organisations(a: &Organisation, b: &Organisation) -> Scored {
    compare(&Prepared::new(a), &Prepared::new(b), true)
}

fn compare(a: &Prepared, b: &Prepared, explain: bool) -> Scored {
    let mut ev = Evidence::new(explain);
    compare_names(a, b, &mut ev);
    if !a.domain.is_empty() && !b.domain.is_empty() {
        if a.domain == b.domain {
            ev.add("domain", weights::SAME_DOMAIN, || {
                format!("same domain {}", a.domain)
            });
        } else {
            ev.add("domain", weights::DIFFERENT_DOMAINS, || {
                format!("different domains {} / {}", a.domain, b.domain)
            });
        }
    } else if !a.email.is_empty() && a.email == b.email {
        ev.add("email", weights::SAME_EMAIL, || {
            format!("same email {}", a.email)
        });
    }
    compare_phones(&a.phones, &b.phones, &mut ev);
    if !a.postcode.is_empty() && !b.postcode.is_empty() {
        if a.postcode == b.postcode {
            ev.add("address", weights::SAME_POSTCODE, || {
                format!("same postcode {}", a.postcode)
            });
        } else {
            ev.add("address", weights::DIFFERENT_POSTCODES, || {
                format!("different postcodes {} / {}", a.postcode, b.postcode)
            });
        }
    } else if !a.city.is_empty() && a.city == b.city {
        ev.add("address", weights::SAME_CITY, || {
            format!("same city {}", b.org.city.as_deref().unwrap_or("").trim())
        });
    }
    ev.scored()
}

fn compare_names(a: &Prepared, b: &Prepared, ev: &mut Evidence) {
    if a.name.is_empty() || b.name.is_empty() {
        return;
    }
    let both = || format!("{} / {}", a.org.name.trim(), b.org.name.trim());
    let sorted = |n: &str| {
        let mut w: Vec<&str> = n.split(' ').collect();
        w.sort_unstable();
        w.join(" ")
    };
    let (x, y) = (a.name.as_str(), b.name.as_str());
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if x == y {
        ev.add("name", weights::SAME_ORG_NAME, || {
            format!("same name {}", both())
        });
    } else if sorted(x) == sorted(y)
        || (short.chars().count() >= 6 && edit_distance_at_most_one(x, y))
    {
        ev.add("name", weights::SIMILAR_ORG_NAME, || {
            format!("similar names {}", both())
        });
    } else if long.starts_with(short) && short.chars().count() >= 2 {
        ev.add("name", weights::PARTIAL_ORG_NAME, || {
            format!("one name starts with the other {}", both())
        });
    } else {
        ev.add("name", weights::DIFFERENT_ORG_NAMES, || {
            format!("different names {}", both())
        });
    }
}

/// Finds likely duplicate organisations in memory: each pair once, best first.
pub fn find_organisations(orgs: &[Organisation], threshold: f32) -> Vec<Pair> {
    let prepared: Vec<Prepared> = orgs.iter().map(Prepared::new).collect();
    let keys: Vec<Vec<String>> = prepared.iter().map(Prepared::keys).collect();
    let mut pairs = Vec::new();
    for (i, j) in candidate_pairs(&keys).0 {
        let (a, b) = (&prepared[i], &prepared[j]);
        if a.org.id != b.org.id && compare(a, b, false).score >= threshold {
            pairs.push(Pair::new(a.org.id, b.org.id, compare(a, b, true)));
        }
    }
    sort_pairs(&mut pairs);
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: u64, name: &str) -> Organisation {
        Organisation {
            id: Uuid::from_u64_pair(0, id),
            name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn legal_forms_do_not_keep_companies_apart() {
        assert_eq!(company_name("Nordisk Data A/S"), "nordisk data");
        assert_eq!(company_name("Nordisk Data ApS"), "nordisk data");
        assert_eq!(company_name("NORDISK  DATA"), "nordisk data");
        assert_eq!(company_name("Acme Inc."), "acme");
        assert_eq!(company_name("Møller Holding GmbH"), company_name("Moeller"));
        assert_eq!(company_name("华为技术有限公司"), "华为技术");
        assert_eq!(company_name("阿里巴巴集团控股有限公司"), "阿里巴巴");
        assert!(!company_name("有限公司").is_empty());
        assert_eq!(company_name("A/S"), "as");
    }

    #[test]
    fn same_company_with_different_legal_form_and_same_domain_matches() {
        let mut a = org(1, "Nordisk Data A/S");
        a.domain = Some("https://www.nordiskdata.dk/".into());
        let mut b = org(2, "Nordisk Data ApS");
        b.email = Some("info@nordiskdata.dk".into());
        let s = compare_organisations(&a, &b);
        assert!(s.score > 0.99, "{s:?}");
        assert!(s
            .reasons
            .iter()
            .any(|r| r.detail == "same domain nordiskdata.dk"));
        let pairs = find_organisations(&[a, b, org(3, "Something Else")], 0.5);
        assert_eq!(pairs.len(), 1);
        assert!(pairs[0].a < pairs[0].b);
    }

    #[test]
    fn same_name_alone_is_not_enough_but_name_and_postcode_is() {
        let (mut a, mut b) = (org(1, "Bageriet ApS"), org(2, "Bageriet"));
        assert!(compare_organisations(&a, &b).score < 0.5);
        a.postcode = Some("8000".into());
        b.postcode = Some("8000".into());
        assert!(compare_organisations(&a, &b).score > 0.5);
        b.postcode = Some("2100".into());
        assert!(compare_organisations(&a, &b).score < 0.5);
    }

    #[test]
    fn webmail_domains_do_not_join_organisations() {
        let mut a = org(1, "Bageriet");
        a.email = Some("bageriet@gmail.com".into());
        let mut b = org(2, "Slagteren");
        b.email = Some("slagteren@gmail.com".into());
        assert!(compare_organisations(&a, &b).score < 0.01);
    }
}
