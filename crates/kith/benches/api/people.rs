//! The people the API bench creates: a fixed-seed xorshift and Chinese, Danish and
//! English names, cities, jobs and phones, so every run creates the same contacts.

use super::*;

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The generator for item `i` of a stream: the same numbers whichever task asks.
    pub(crate) fn for_item(stream: u64, i: usize) -> Rng {
        let mut r = Rng((SEED ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93))
            .wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            | 1);
        for _ in 0..4 {
            r.next();
        }
        r
    }
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub(crate) const ZH_FAMILY: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
];
pub(crate) const ZH_GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
];
pub(crate) const ZH_CITY: &[&str] = &["北京", "上海", "深圳", "广州", "杭州", "成都", "København"];
pub(crate) const DA_FIRST: &[&str] = &[
    "Søren", "Mette", "Lars", "Anne", "Jens", "Kirsten", "Niels", "Hanne", "Rasmus", "Line",
    "Mads", "Sofie", "Jørgen", "Birgitte", "Frederik", "Ida", "Bjørn", "Åse", "Æbele", "Ulla",
];
pub(crate) const DA_LAST: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Madsen",
    "Kristensen",
    "Østergaard",
    "Brønnum",
    "Kjær",
    "Lærke",
];
pub(crate) const DA_CITY: &[&str] = &[
    "København",
    "Århus",
    "Odense",
    "Aalborg",
    "Esbjerg",
    "Randers",
    "Kolding",
    "Horsens",
    "Vejle",
    "Roskilde",
    "Næstved",
    "Helsingør",
];
pub(crate) const EN_FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Sarah",
];
pub(crate) const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Clark",
];
pub(crate) const EN_CITY: &[(&str, &str)] = &[
    ("London", "GB"),
    ("Manchester", "GB"),
    ("Edinburgh", "GB"),
    ("New York", "US"),
    ("Boston", "US"),
    ("Dublin", "IE"),
    ("København", "DK"),
];
pub(crate) const JOBS: &[&str] = &[
    "Sales Manager",
    "Indkøbschef",
    "工程师",
    "CEO",
    "Developer",
    "Økonomichef",
    "Account Executive",
    "项目经理",
];
/// Danish mobile number prefixes (20 included, so that `q=2012` finds numbers).
pub(crate) const DK_MOBILE: &[u32] = &[
    20, 21, 22, 24, 26, 28, 30, 31, 40, 41, 42, 50, 51, 52, 53, 60, 61,
];
pub(crate) const STAGES: &[&str] = &["subscriber", "lead", "customer"];

/// One generated contact, as a client would type it.
pub(crate) struct Person {
    pub(crate) first: String,
    pub(crate) last: String,
    pub(crate) email: String,
    /// As typed: `20 12 34 56`.
    pub(crate) phone: String,
    pub(crate) job_title: Option<&'static str>,
    pub(crate) city: &'static str,
    pub(crate) stage: &'static str,
    pub(crate) country: &'static str,
}

pub(crate) fn ascii_name(s: &str) -> String {
    s.to_lowercase()
        .replace('æ', "ae")
        .replace('ø', "oe")
        .replace('å', "aa")
}

/// Contact number `i`: the same every run. 0 is 张伟 and 1 is Søren Jensen.
pub(crate) fn person(i: usize) -> Person {
    let mut r = Rng::for_item(1, i);
    let culture = match i {
        0 => 0,
        1 => 1,
        _ => r.below(3),
    };
    let (first, last, email, city, country) = match culture {
        0 => {
            let (fam, fam_py) = if i == 0 {
                ZH_FAMILY[2]
            } else {
                *r.pick(ZH_FAMILY)
            };
            let (giv, giv_py) = if i == 0 {
                ZH_GIVEN[0]
            } else {
                *r.pick(ZH_GIVEN)
            };
            let (city, country) = match r.below(4) {
                0 => ("København", "DK"),
                _ => (*r.pick(&ZH_CITY[..ZH_CITY.len() - 1]), "CN"),
            };
            let email = format!("{giv_py}.{fam_py}{i}@example.cn");
            (giv.to_string(), fam.to_string(), email, city, country)
        }
        1 => {
            let first = if i == 1 {
                DA_FIRST[0]
            } else {
                *r.pick(DA_FIRST)
            };
            let last = if i == 1 { DA_LAST[0] } else { *r.pick(DA_LAST) };
            let email = format!("{}.{}{i}@example.dk", ascii_name(first), ascii_name(last));
            (
                first.to_string(),
                last.to_string(),
                email,
                *r.pick(DA_CITY),
                "DK",
            )
        }
        _ => {
            let first = *r.pick(EN_FIRST);
            let last = *r.pick(EN_LAST);
            let (city, country) = *r.pick(EN_CITY);
            let email = format!(
                "{}.{}{i}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            );
            (first.to_string(), last.to_string(), email, city, country)
        }
    };
    let phone = format!(
        "{} {} {:02} {:02}",
        r.pick(DK_MOBILE),
        10 + r.below(90),
        r.below(100),
        r.below(100)
    );
    let job_title = (r.below(2) == 0).then(|| *r.pick(JOBS));
    Person {
        first,
        last,
        email,
        phone,
        job_title,
        city,
        stage: STAGES[r.below(STAGES.len())],
        country,
    }
}

impl Person {
    pub(crate) fn body(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("first_name".into(), json!(self.first));
        m.insert("last_name".into(), json!(self.last));
        m.insert("email".into(), json!(self.email));
        m.insert("phone".into(), json!(self.phone));
        if let Some(j) = self.job_title {
            m.insert("job_title".into(), json!(j));
        }
        m.insert("city".into(), json!(self.city));
        m.insert("lifecycle_stage".into(), json!(self.stage));
        m.insert("country".into(), json!(self.country));
        m
    }
    /// The phone as Kith stores it (E.164).
    pub(crate) fn e164(&self) -> String {
        format!("+45{}", self.phone.replace(' ', ""))
    }
}

// ---------------------------------------------------------------------------------------
// Timing.
