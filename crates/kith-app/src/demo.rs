//! A realistic demo workspace: Chinese, Danish and English customers, companies, two
//! pipelines with deals in every stage, activities and tasks. Everything is created
//! through the same use cases as real data, so search, audit and timelines work.

use chrono::{Duration, Utc};
use kith_core::objects::ObjectKind;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::{App, Caller, Error, Role};

/// Name of the demo workspace.
pub const WORKSPACE: &str = "Demo";
/// Email of the demo admin.
pub const EMAIL: &str = "demo@kith.local";
/// Password of the demo admin (it is a demo: printed at start).
pub const PASSWORD: &str = "kith-demo-password";

const CN_FAMILY: &[&str] = &[
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡",
];
const CN_GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "三丰", "小龙",
];
const DK_FIRST: &[&str] = &[
    "Søren", "Mette", "Jens", "Anne", "Lars", "Kirsten", "Niels", "Hanne", "Rasmus", "Åse",
    "Bjørn", "Sørine", "Frederik", "Ida", "Mads", "Freja", "Jørgen", "Lærke",
];
const DK_LAST: &[&str] = &[
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
    "Brøndum",
    "Aagaard",
];
const EN_FIRST: &[&str] = &[
    "James", "Olivia", "William", "Emma", "Oliver", "Amelia", "Harry", "Isla", "George", "Ava",
    "Noah", "Mia", "Jack", "Grace", "Charlie", "Lily",
];
const EN_LAST: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White",
];
const CN_COMPANIES: &[&str] = &[
    "华为",
    "腾讯",
    "阿里",
    "小米",
    "美的",
    "海尔",
    "比亚迪",
    "京东",
    "网易",
    "百度",
];
const CN_SUFFIX: &[&str] = &["科技有限公司", "贸易有限公司", "电子有限公司"];
const DK_COMPANIES: &[&str] = &[
    "Nordlys",
    "Havblik",
    "Skovgård",
    "Fjordhus",
    "Østerbro",
    "Bølgen",
    "Lærkehøj",
    "Æblegården",
    "Vesterhav",
    "Kløver",
];
const DK_SUFFIX: &[&str] = &["ApS", "A/S", "I/S"];
const EN_COMPANIES: &[&str] = &[
    "Acme",
    "Bluebird",
    "Crown",
    "Evergreen",
    "Harbour",
    "Kingfisher",
    "Lighthouse",
    "Oakwood",
    "Summit",
    "Thistle",
];
const EN_SUFFIX: &[&str] = &["Ltd", "Group", "Partners"];
const INDUSTRIES: &[&str] = &[
    "Retail",
    "Manufacturing",
    "Software",
    "Logistics",
    "Hospitality",
    "Healthcare",
    "Energy",
    "Food",
];
const JOBS: &[&str] = &[
    "CEO",
    "CFO",
    "Head of Sales",
    "Purchasing Manager",
    "Marketing Lead",
    "Office Manager",
    "CTO",
    "Buyer",
    "采购经理",
    "销售总监",
    "Indkøbschef",
    "Direktør",
];
const SOURCES: &[&str] = &[
    "website",
    "referral",
    "trade show",
    "paid ads",
    "cold call",
    "partner",
    "newsletter",
];
const LIFECYCLE: &[&str] = &[
    "subscriber",
    "lead",
    "lead",
    "mql",
    "sql",
    "opportunity",
    "customer",
    "customer",
    "advocate",
];

/// A small fixed-seed generator: the demo is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// What [`seed`] made.
#[derive(Debug, Default)]
pub struct Summary {
    /// Companies created.
    pub companies: usize,
    /// Contacts created.
    pub contacts: usize,
    /// Deals created.
    pub deals: usize,
    /// Activities created.
    pub activities: usize,
    /// Tasks created.
    pub tasks: usize,
    /// Orders created.
    pub orders: usize,
}

impl App {
    /// Creates the demo workspace and user with `contacts` contacts; does nothing (and
    /// returns None) when the demo user exists already.
    pub async fn seed_demo(&self, contacts: usize) -> Result<Option<Summary>, Error> {
        if self.caller_by_email(EMAIL).await.is_ok() {
            return Ok(None);
        }
        self.configure_workspace(WORKSPACE, "DKK", Some("DK"), "Europe/Copenhagen")
            .await?;
        self.add_user(EMAIL, Role::Admin, WORKSPACE, PASSWORD)
            .await?;
        let me = self.caller_by_email(EMAIL).await?;
        let mut members = vec![me.user.id];
        for (i, email) in ["mette@kith.local", "wei@kith.local", "james@kith.local"]
            .iter()
            .enumerate()
        {
            let u = self
                .add_user(
                    email,
                    if i == 2 { Role::ReadOnly } else { Role::Member },
                    WORKSPACE,
                    PASSWORD,
                )
                .await?;
            members.push(u.id);
        }
        Ok(Some(seed(self, &me, &members, contacts).await?))
    }
}

async fn seed(
    app: &App,
    me: &Caller,
    members: &[Uuid],
    n_contacts: usize,
) -> Result<Summary, Error> {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut s = Summary::default();
    let create = |object: ObjectKind, v: Value| {
        let input = obj(v);
        async move { app.create(me, object, &input).await }
    };
    for (key, label, kind, options) in [
        (
            "segment",
            "Segment",
            "select",
            json!(["SMB", "Mid-market", "Enterprise"]),
        ),
        ("annual_revenue", "Annual revenue", "money", json!([])),
        ("newsletter", "Newsletter", "boolean", json!([])),
    ] {
        let object = if key == "newsletter" {
            "contact"
        } else {
            "company"
        };
        create(
            ObjectKind::FieldDefinition,
            json!({"object": object, "key": key, "label": label, "kind": kind, "options": options}),
        )
        .await?;
    }
    let mut pipelines = Vec::new();
    for (name, stages) in [
        (
            "Sales",
            vec![
                ("Lead", 10, "open"),
                ("Qualified", 25, "open"),
                ("Proposal", 50, "open"),
                ("Negotiation", 75, "open"),
                ("Won", 100, "won"),
                ("Lost", 0, "lost"),
            ],
        ),
        (
            "Partnerships",
            vec![
                ("Intro", 10, "open"),
                ("Evaluation", 40, "open"),
                ("Contract", 80, "open"),
                ("Signed", 100, "won"),
                ("Dropped", 0, "lost"),
            ],
        ),
    ] {
        let p = create(ObjectKind::Pipeline, json!({"name": name})).await?;
        let mut ids = Vec::new();
        for (stage, prob, kind) in stages {
            let st = create(
                ObjectKind::Stage,
                json!({"pipeline_id": p.id, "name": stage, "probability": prob, "kind": kind}),
            )
            .await?;
            ids.push(st.id);
        }
        pipelines.push((p.id, ids));
    }
    let n_companies = (n_contacts / 12).max(3);
    let mut companies = Vec::new();
    for i in 0..n_companies {
        let (name, country, domain_tld) = match i % 3 {
            0 => (
                format!("{}{}", rng.pick(CN_COMPANIES), rng.pick(CN_SUFFIX)),
                "CN",
                "cn",
            ),
            1 => (
                format!("{} {}", rng.pick(DK_COMPANIES), rng.pick(DK_SUFFIX)),
                "DK",
                "dk",
            ),
            _ => (
                format!("{} {}", rng.pick(EN_COMPANIES), rng.pick(EN_SUFFIX)),
                "GB",
                "co.uk",
            ),
        };
        let segment = ["SMB", "Mid-market", "Enterprise"][rng.below(3)];
        let c = create(ObjectKind::Company, json!({
            "name": format!("{name} {}", i + 1),
            "domain": format!("company{}.{domain_tld}", i + 1),
            "industry": rng.pick(INDUSTRIES),
            "employees": 5 + rng.below(2000),
            "country": country,
            "city": match country { "CN" => "上海", "DK" => if i % 2 == 0 { "Århus" } else { "København" }, _ => "London" },
            "owner_id": members[rng.below(members.len())],
            "tags": if i % 4 == 0 { json!(["key account"]) } else { json!([]) },
            "custom": {"segment": segment, "annual_revenue": {"amount": (rng.below(5000) as i64 + 100) * 1_000_000, "currency": "DKK"}},
        })).await?;
        companies.push((c.id, country));
        s.companies += 1;
    }
    let mut contacts = Vec::new();
    for i in 0..n_contacts {
        let (company, country) = companies[rng.below(companies.len())];
        let (first, last, phone) = match country {
            "CN" => (
                rng.pick(CN_GIVEN).to_string(),
                rng.pick(CN_FAMILY).to_string(),
                format!("+86 138 {:04} {:04}", rng.below(10_000), rng.below(10_000)),
            ),
            "DK" => (
                rng.pick(DK_FIRST).to_string(),
                rng.pick(DK_LAST).to_string(),
                format!(
                    "{} {:02} {:02} {:02}",
                    [21, 22, 24, 26, 28, 30, 31, 40, 41, 42, 50, 51, 52, 53, 60, 61][rng.below(16)],
                    10 + rng.below(90),
                    rng.below(100),
                    rng.below(100)
                ),
            ),
            _ => (
                rng.pick(EN_FIRST).to_string(),
                rng.pick(EN_LAST).to_string(),
                format!("+44 7911 1{:05}", rng.below(100_000)),
            ),
        };
        let email = format!(
            "{}.{}{}@example.{}",
            kith_core::search::fold_plain(&first).replace(' ', ""),
            kith_core::search::fold_plain(&last).replace(' ', ""),
            i,
            if country == "CN" { "cn" } else { "com" }
        );
        let c = create(ObjectKind::Contact, json!({
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "job_title": rng.pick(JOBS),
            "company_id": company,
            "lifecycle_stage": rng.pick(LIFECYCLE),
            "source": rng.pick(SOURCES),
            "owner_id": members[rng.below(members.len())],
            "country": country,
            "birthday": format!("{}-{:02}-{:02}", 1960 + rng.below(40), 1 + rng.below(12), 1 + rng.below(28)),
            "consent": {"email": (["granted", "denied", "unknown"][rng.below(3)])},
            "tags": if i % 7 == 0 { json!(["vip"]) } else if i % 5 == 0 { json!(["newsletter"]) } else { json!([]) },
            "custom": {"newsletter": i % 3 == 0},
        })).await?;
        contacts.push((c.id, company));
        s.contacts += 1;
        // Every 150th person was also entered a second time, the way it happens: the
        // Danish letters typed as ae/oe/aa, a work address instead of the email, the
        // mobile written without +45. The duplicates page has something to show.
        if i % 150 == 75 && country != "GB" {
            let again = kith_core::search::fold_danish(&first);
            let mut cap = again.chars();
            let again: String = cap
                .next()
                .map(|c| c.to_uppercase().chain(cap).collect())
                .unwrap_or_default();
            create(ObjectKind::Contact, json!({
                "first_name": again,
                "last_name": last,
                "email": format!("{}@work.example.com", kith_core::search::fold_plain(&first).replace(' ', "")),
                "phone": phone,
                "company_id": company,
                "country": country,
            }))
            .await?;
            s.contacts += 1;
        }
    }
    let today = Utc::now().date_naive();
    for (p_index, (pipeline, stages)) in pipelines.iter().enumerate() {
        let per_stage = if p_index == 0 { 8 } else { 4 };
        for si in 0..stages.len() {
            for k in 0..per_stage {
                let (contact, company) = contacts[rng.below(contacts.len())];
                let deal = create(ObjectKind::Deal, json!({
                    "name": format!("{} #{}", if p_index == 0 { "Order" } else { "Partnership" }, si * 100 + k + 1),
                    "pipeline_id": pipeline,
                    "amount": (rng.below(500) as i64 + 5) * 100_000,
                    "expected_close": (today + Duration::days(rng.below(120) as i64 - 30)).to_string(),
                    "company_id": company,
                    "contact_id": contact,
                    "owner_id": members[rng.below(members.len())],
                })).await?;
                // Walk the deal through the stages so that its history is real.
                for next in stages.iter().take(si + 1).skip(1) {
                    let m = obj(json!({"stage_id": next}));
                    app.update(me, ObjectKind::Deal, deal.id, &m, None).await?;
                }
                s.deals += 1;
            }
        }
    }
    let kinds = ["note", "call", "email", "meeting"];
    for (i, (contact, company)) in contacts.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let kind = kinds[i % 4];
        create(ObjectKind::Activity, json!({
            "kind": kind,
            "subject": match kind { "call" => "Follow-up call", "email" => "Sent price list", "meeting" => "Demo meeting", _ => "Met at trade show" },
            "body": "Interested in the spring range. 对春季系列感兴趣。Vil gerne have et tilbud.",
            "occurred_at": (Utc::now() - Duration::days(rng.below(200) as i64)).to_rfc3339(),
            "contact_id": contact,
            "company_id": company,
        })).await?;
        s.activities += 1;
        if i % 6 == 0 {
            create(ObjectKind::Task, json!({
                "title": (["Call back", "Send offer", "Book a meeting", "Check payment"][i % 4]),
                "due_at": (Utc::now() + Duration::days(rng.below(30) as i64 - 10)).to_rfc3339(),
                "assignee_id": members[rng.below(members.len())],
                "contact_id": contact,
                "priority": (["low", "normal", "high"][i % 3]),
                "done": i % 18 == 0,
            })).await?;
            s.tasks += 1;
        }
    }
    // Four in ten people have bought: a few often and a lot, most once or twice, over
    // the last two years, so that RFM groups, behaviour and value tiers are all present.
    let products = [
        ("Kaffe, 1 kg", "KAF-1", 14950),
        ("茶叶礼盒", "TEA-8", 26800),
        ("Filter, 100 stk.", "FIL-100", 3000),
        ("Kværn", "GRN-2", 89900),
    ];
    let channels = ["online", "store", "phone", "marketplace"];
    for (i, (contact, company)) in contacts.iter().enumerate() {
        if i % 5 >= 2 {
            continue;
        }
        let n = if i % 25 == 0 {
            6 + rng.below(8)
        } else {
            1 + rng.below(3)
        };
        for k in 0..n {
            let (name, sku, price) = products[rng.below(products.len())];
            create(ObjectKind::Order, json!({
                "number": format!("D-{}-{k}", 10_000 + i),
                "contact_id": contact,
                "company_id": company,
                "ordered_at": (Utc::now() - Duration::days(rng.below(720) as i64)).to_rfc3339(),
                "channel": channels[rng.below(channels.len())],
                "status": if rng.below(30) == 0 { "refunded" } else { "paid" },
                "lines": [{"name": name, "sku": sku, "quantity": 1 + rng.below(4), "unit_price": price}],
            }))
            .await?;
            s.orders += 1;
        }
    }
    for (name, filter) in [
        ("Champions", "rfm_group = champions"),
        ("At risk, worth a call", "behaviour = at_risk and lifetime_value >= 100000"),
        ("Big companies with open deals", "company.employees >= 50 and has deals(status = open)"),
        ("Bought lately, not contacted", "sum(orders.total where ordered_at > -90d) >= 50000 and has no activities(occurred_at > -60d)"),
    ] {
        let seg = create(
            ObjectKind::Segment,
            json!({"name": name, "object": "contact", "filter": filter}),
        )
        .await?;
        if name.starts_with("At risk") {
            seed_campaigns(app, me, seg.id).await?;
        }
    }
    app.recompute_workspace(me.workspace.id, &me.workspace.currency)
        .await?;
    app.scan_workspace(me.workspace.id, ObjectKind::Contact)
        .await?;
    Ok(s)
}

/// A draft win-back campaign to the at-risk segment and a welcome sequence, with their
/// templates, so the campaign pages have something to show.
async fn seed_campaigns(app: &App, me: &crate::Caller, at_risk: uuid::Uuid) -> Result<(), Error> {
    use crate::campaigns::sequences::SequenceInput;
    use crate::campaigns::CampaignInput;
    use crate::mail::EmailTemplateInput;
    let template = |name: &str, language: &str, subject: &str, html: &str| EmailTemplateInput {
        name: name.into(),
        language: language.into(),
        subject: subject.into(),
        html: html.into(),
        ..EmailTemplateInput::default()
    };
    let win_back = app
        .create_email_template(
            me,
            template(
                "Vi savner dig",
                "da",
                "{{ contact.first_name | default: \"Hej\" }}, vi savner dig",
                "<p>Kære {{ contact.first_name | default: \"kunde\" }},</p><p>Det er et stykke tid siden sidst. Her er 15% på din næste ordre.</p><p><a href=\"https://shop.example/velkommen-tilbage\">Se udvalget</a></p><p><a href=\"{{ unsubscribe_url }}\">Afmeld</a></p>",
            ),
        )
        .await?;
    let welcome = app
        .create_email_template(
            me,
            template(
                "Welcome",
                "en",
                "Welcome to {{ workspace.name }}, {{ contact.first_name | default: \"there\" }}",
                "<p>Hi {{ contact.first_name | default: \"there\" }}, thanks for joining us.</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
            ),
        )
        .await?;
    let tips = app
        .create_email_template(
            me,
            template(
                "Getting started tips",
                "en",
                "Three tips for your first week",
                "<p>1. … 2. … 3. …</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
            ),
        )
        .await?;
    app.create_campaign(
        me,
        CampaignInput {
            name: "Win back: at-risk customers".into(),
            segment_id: Some(at_risk),
            template_id: Some(win_back.id),
            consent_mode: Some("opted_in".into()),
            rate_per_minute: Some(600),
            ..CampaignInput::default()
        },
    )
    .await?;
    app.create_sequence(
        me,
        SequenceInput {
            name: "Welcome series".into(),
            steps: json!([{"wait_minutes": 0, "template_id": welcome.id}, {"wait_minutes": 3 * 1440, "template_id": tips.id}]),
            ..SequenceInput::default()
        },
    )
    .await?;
    Ok(())
}
