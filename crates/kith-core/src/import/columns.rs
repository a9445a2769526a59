//! Which field a column of an import file means, guessed from its header in English,
//! Danish or Chinese, including the headers Google, Outlook and HubSpot exports use.
//!
//! Besides an object's built-in fields, the importer understands these targets:
//! - `full_name`: a contact's whole name, split into first and last name.
//! - `company`: link to a company by name, created if missing; `company_domain`: by domain.
//! - `contact_email`: link a deal, activity or task to a contact by email.
//! - `external_id`: the record's id in the old system, kept to import again idempotently.
//! - `tags`: comma- or semicolon-separated tag names.
//! - `wechat`: a WeChat ID, stored as an identity (channel `wechat`).
//! - `mobile`, `email2`: a second phone and email, stored as identities. A file whose only
//!   phone column is a mobile one (`手机`) guesses `mobile`; the importer stores it as
//!   the contact's phone when no column maps to `phone`.
//! - `notes`: text that becomes a note on the record's timeline.
//! - `owner`: the owning (for tasks: assigned) user, by email or by the name the user gives.
//! - `stage`, `pipeline`: a deal's stage and pipeline, by name.
//! - `consent.CHANNEL` (`email`, `sms`, `phone`, `whatsapp`, `post`): a contact's
//!   marketing consent, as granted/denied/unknown or yes/no; `email_opted_in_at` and
//!   `email_opted_out_at`: when they opted in to and out of email (see
//!   [`super::consent`]).
//! - `created_at`: when the old system made the record ("customer since"), kept for the
//!   records an import creates; an order's creation is its order date.
//!
//! Orders are one row per order (`contact_name`: the customer's name, for a customer the
//! import makes when no contact has the order's email), or one row per line as Shopify exports them (`line.name`,
//! `line.sku`, `line.quantity`, `line.unit_price`; the rows of one order share its number,
//! the key a re-run matches on): customer by email, date, status, channel, currency and
//! total (money as people type it).

use super::is_cjk;
use crate::fields::Kind;
use crate::objects::ObjectKind;

/// Headers (normalised: lower-case, letters and digits only, Danish letters folded)
/// and what they mean before the object is known. Meanings that are not targets
/// themselves (`name`, `title`, `status`, `date`, …) are resolved per object in `resolve`.
#[rustfmt::skip]
const SYNONYMS: &[(&str, &[&str])] = &[
    ("first_name", &["firstname", "givenname", "forename", "fname", "first", "fornavn", "名",
        "名字"]),
    ("last_name", &["lastname", "surname", "familyname", "lname", "last", "efternavn", "姓", "姓氏"]),
    ("name", &["name", "navn", "名称"]),
    ("full_name", &["fullname", "fuldenavn", "fuldtnavn", "displayname", "contactname",
        "kontaktperson", "姓名", "联系人", "联系人姓名", "客户姓名"]),
    ("email", &["email", "emailaddress", "mail", "email1", "email1value", "primaryemail",
        "emailwork", "workemail",
        "emailadresse", "mailadresse", "邮箱", "电子邮件", "电子邮箱", "邮件", "邮箱地址", "电子邮件地址",
        "企业邮箱", "工作邮箱", "公司邮箱", "办公邮箱", "邮件地址"]),
    ("email2", &["email2", "email2value", "email2address", "secondaryemail", "otheremail",
        "emailhome", "emailother", "homeemail", "personalemail",
        "alternativeemail", "email3", "email3value", "email3address", "emailaddress2",
        "emailaddress3", "备用邮箱"]),
    ("phone", &["phone", "telephone", "tel", "phonenumber", "telephonenumber", "workphone",
        "phonework",
        "businessphone", "officephone", "homephone", "phone1", "phone1value", "primaryphone",
        "telefon", "tlf", "tlfnr", "telefonnummer", "telefonnr", "telefonogfax", "电话", "座机", "联系电话", "电话号码",
        "固定电话", "办公电话", "公司电话"]),
    ("mobile", &["mobile", "mobilephone", "mobilenumber", "mobilephonenumber", "cell", "cellphone", "cellular",
        "phonemobile", "phonehome", "phoneother",
        "phone2", "phone2value", "phone3", "phone3value", "phone4value", "otherphone",
        "businessphone2", "homephone2", "carphone",
        "callback", "radiophone", "mobil", "mobilnummer", "mobilnr", "mobiltelefon",
        "telefon2", "tlf2", "mobil2", "手机", "手机号", "手机号码", "移动电话"]),
    ("company", &["company", "companyname", "organization", "organisation", "organizationname",
        "organization1name", "accountname", "account", "employer", "virksomhed", "firma",
        "firmanavn", "virksomhedsnavn", "公司", "公司名称", "单位", "单位名称", "企业", "企业名称", "工作单位", "所在公司",
        "客户名称", "所属客户", "所属公司", "associatedcompany", "primaryassociatedcompany",
        "parentcustomer", "parentaccount"]),
    ("company_domain", &["companydomain", "companydomainname"]),
    ("job_title", &["jobtitle", "position", "organizationtitle", "organization1title",
        "stilling", "jobtitel", "职位", "职务", "头衔", "职称", "岗位"]),
    ("title", &["title", "titel"]),
    ("birthday", &["birthday", "dateofbirth", "birthdate", "dob", "foedselsdag", "foedselsdato",
        "生日", "出生日期"]),
    ("address_line1", &["address", "address1", "addressline1", "street", "streetaddress",
        "address1street", "businessstreet", "homestreet", "mailingstreet", "billingstreet",
        "adresse", "vejnavn", "gade", "地址", "详细地址", "联系地址", "通讯地址", "街道"]),
    ("address_line2", &["address2", "addressline2", "street2", "businessstreet2", "adresse2",
        "地址2"]),
    ("city", &["city", "town", "address1city", "businesscity", "homecity", "mailingcity",
        "billingcity", "by", "bynavn", "城市", "市", "所在城市"]),
    ("postcode", &["zip", "zipcode", "postalcode", "postcode", "address1postalcode",
        "businesspostalcode", "homepostalcode", "mailingzip", "mailingpostalcode", "billingzip",
        "zippostalcode", "postalzipcode",
        "postnummer", "postnr", "邮编", "邮政编码"]),
    ("region", &["region", "state", "province", "county", "stateprovince", "stateregion",
        "provincecode",
        "statecode", "regioncode", "address1region",
        "businessstate", "homestate", "mailingstate", "billingstate", "省", "省份", "所在省份", "地区"]),
    ("country", &["country", "countryregion", "countrycode", "address1country",
        "businesscountryregion", "homecountryregion", "mailingcountry", "billingcountry",
        "land", "国家", "国家地区"]),
    ("tags", &["tags", "tag", "labels", "label", "groupmembership", "categories", "maerker", "标签"]),
    ("source", &["source", "leadsource", "contactsource", "origin", "kilde", "来源", "客户来源",
        "线索来源"]),
    (
        "lifecycle_stage",
        &["lifecyclestage", "lifecycle", "livscyklus", "livscyklusfase", "生命周期阶段"],
    ),
    ("status", &["status", "状态", "客户状态"]),
    // WeChat, where Chinese customers are reached.
    ("wechat", &["wechat", "wechatid", "weixin", "微信", "微信号", "微信id"]),
    // Shopify's payment state is the order's status.
    ("financial_status", &["financialstatus", "paymentstatus", "betalingsstatus", "支付状态",
        "付款状态"]),
    ("external_id", &["id", "recordid", "externalid", "contactid", "activityid", "engagementid",
        // Dynamics 365 exports each record's GUID as "(Do Not Modify) Contact".
        "donotmodifycontact", "donotmodifyaccount", "donotmodifyopportunity", "customerid", "customerno",
        "customernumber", "dealid", "kundenummer", "kundenr", "kundeid", "cvr", "cvrnummer", "cvrnr", "编号", "客户编号", "客户id",
        "统一社会信用代码"]),
    ("notes", &["notes", "note", "comments", "comment", "remarks", "noter", "bemaerkninger",
        "bemaerkning", "kommentar", "kommentarer", "备注", "备注信息", "说明"]),
    ("body", &["body", "bodypreview", "notebody", "content", "text", "details", "description", "beskrivelse", "indhold",
        "内容", "描述", "详情"]),
    ("website", &["website", "web", "webpage", "homepage", "url", "website1value", "hjemmeside",
        "网站", "网址", "官网", "公司网站"]),
    ("domain", &["domain", "域名"]),
    ("industry", &["industry", "sector", "branche", "行业", "所属行业"]),
    ("employees", &["employees", "numberofemployees", "employeecount", "headcount",
        "antalansatte", "medarbejdere", "ansatte", "员工数", "员工人数"]),
    ("amount", &["amount", "value", "dealvalue", "dealamount", "beloeb", "vaerdi", "金额", "商机金额",
        "合同金额", "预计金额"]),
    ("currency", &["currency", "valuta", "币种", "货币"]),
    ("expected_close", &["closedate", "expectedclose", "expectedclosedate", "closingdate",
        "forventetlukning", "lukkedato", "forventetlukkedato", "预计成交日期", "成交日期", "预计结单日期"]),
    ("stage", &["stage", "dealstage", "salesstage", "fase", "阶段", "销售阶段", "商机阶段"]),
    ("pipeline", &["pipeline", "salespipeline", "销售管道", "销售流程"]),
    ("owner", &["owner", "contactowner", "dealowner", "accountowner", "companyowner",
        "assignedto", "assignedtouser", "activityassignedto", "salesperson", "ansvarlig", "ejer", "saelger", "负责人", "所有者", "销售负责人",
        "跟进人"]),
    ("deal_name", &["dealname", "deal", "opportunityname", "opportunity", "salgsmulighed",
        "商机名称", "商机"]),
    ("contact_email", &["contactemail", "kontaktemail", "customeremail", "buyeremail",
        "personemail", "contactpersonemail", "primarycontactemail",
        "kundeemail", "kundemail", "kundensemail", "联系人邮箱", "客户邮箱", "买家邮箱"]),
    // The name of an order's customer: made with it when no contact has its email.
    ("contact_name", &["billingname", "customername", "kundenavn", "buyername", "买家姓名",
        "收货人", "收货人姓名"]),
    // HubSpot's "Name (email)" of the contact an activity or a deal is with.
    ("associated_contact", &["associatedcontact", "associatedcontacts"]),
    ("lost_reason", &["lostreason", "closedlostreason", "reasonlost", "丢单原因", "输单原因"]),
    ("order_number", &["ordernumber", "orderno", "ordernr", "orderid", "order", "ordrenummer",
        "ordrenr", "ordre", "订单号", "订单编号", "订单"]),
    // Not "Subtotal": that is before shipping and taxes.
    ("total", &["total", "ordertotal", "totalprice", "totalamount", "grandtotal",
        "ordrebeloeb", "ordretotal", "ialt", "总额", "总金额", "订单金额", "实付金额", "合计"]),
    ("ordered_at", &["orderdate", "orderedat", "purchasedate", "ordredato",
        "koebsdato", "下单时间", "订单日期", "购买日期"]),
    // When it was paid dates an order only where nothing says when it was placed.
    ("paid_at", &["paidat", "paymentdate", "betalingsdato", "付款时间", "支付时间"]),
    // Shopify's Accepts Email Marketing, a Danish shop's Nyhedsbrev.
    ("consent.email", &["emailconsent", "emailmarketingconsent", "acceptsemailmarketing",
        "emailmarketing", "emailoptin", "newsletter", "emailsubscription", "marketingstatus",
        "emailsubscriptionstatus", "marketingemails", "nyhedsbrev", "emailsamtykke",
        "markedsfoeringssamtykke", "samtykkeemail", "邮件订阅", "订阅邮件", "是否订阅", "营销邮件",
        "接收营销邮件"]),
    ("consent.sms", &["smsconsent", "acceptssmsmarketing", "smsmarketing", "smsoptin",
        "smssamtykke", "短信订阅", "营销短信"]),
    // Mailchimp's OPTIN_TIME, CONFIRM_TIME and UNSUB_TIME; HubSpot's Unsubscribed from
    // all email.
    ("email_opted_in_at", &["optintime", "confirmtime", "optindate", "subscribedat",
        "subscriptiondate", "subscribedon", "tilmeldt", "tilmeldtden", "tilmeldingsdato",
        "订阅时间"]),
    ("email_opted_out_at", &["unsubtime", "unsubscribedat", "unsubscribedate",
        "unsubscribedon", "optouttime", "optoutdate", "unsubscribedfromallemail", "afmeldt",
        "emailoptout", "hasoptedoutofemail", "donotemail", "donotallowemails", "unsubscribed",
        "afmeldtden", "afmeldingsdato", "退订时间"]),
    // HubSpot's Create Date, Salesforce's Created Date, Pipedrive's Add time, Zoho's
    // Created Time, e-conomic's Oprettet, 销售易's 创建时间.
    ("created_at", &["createdat", "created", "createdate", "createddate", "datecreated",
        // Pipedrive's "Deal - Deal created", "Organization - Organization created".
        "dealcreated", "personcreated", "organizationcreated", "organisationcreated",
        "creationdate", "createdon", "createdtime", "addtime", "timecreated", "oprettet",
        "oprettetden", "oprettelsesdato", "oprettelse", "oprettetdato", "创建时间", "创建日期",
        "录入时间", "录入日期", "添加时间", "建档时间", "建档日期"]),
    // An order's line, one per row as Shopify exports them (rows of one order share its
    // number).
    ("line.name", &["lineitemname", "productname", "product", "itemname", "varenavn",
        "produkt", "produktnavn", "商品名称", "商品", "产品名称", "产品"]),
    ("line.sku", &["lineitemsku", "sku", "productsku", "itemsku", "varenummer", "varenr", "货号",
        "商品编码", "商品编号"]),
    ("line.quantity", &["lineitemquantity", "quantity", "qty", "antal", "数量", "购买数量"]),
    ("line.unit_price", &["lineitemprice", "unitprice", "itemprice", "price", "stykpris",
        "enhedspris", "pris", "单价", "商品单价"]),
    ("channel", &["channel", "saleschannel", "sourcename", "kanal", "salgskanal",
        "渠道", "销售渠道"]),
    ("kind", &["kind", "type", "activitytype", "aktivitetstype", "类型", "活动类型"]),
    ("subject", &["subject", "emne", "主题", "标题"]),
    ("date", &["date", "dato", "time", "timestamp", "occurredat", "activitydate", "日期", "时间"]),
    // When a meeting began; a task's start is not its due date.
    ("start", &["startdate", "start", "startdato"]),
    ("duration", &["duration", "durationminutes", "minutes", "callduration", "meetingduration", "varighed", "时长", "持续时间"]),
    ("due", &["due", "duedate", "dueat", "deadline", "forfaldsdato", "frist", "截止日期", "到期日"]),
    // The time of a date given in a column of its own (Pipedrive's Due date + Due time).
    ("time_of_day", &["duetime", "ordertime", "tidspunkt", "klokkeslaet"]),
    ("start_time", &["starttime", "starttidspunkt"]),
    ("remind_at", &["remindat", "reminder", "paamindelse", "提醒时间"]),
    ("priority", &["priority", "prioritet", "优先级"]),
    ("done", &["done", "completed", "udfoert", "完成", "已完成"]),
];

/// Guesses which target a column with this header fills, or None when the header means
/// nothing we know for this object (the importer then offers it as a custom field).
///
/// Several headers may guess the same target (Outlook's "Business Phone" and "Home
/// Phone" both guess `phone`); the importer keeps the first such column.
pub fn guess(object: ObjectKind, header: &str) -> Option<&'static str> {
    guess_ranked(object, header).map(|(target, _)| target)
}

/// [`guess`], and whether the header names the target itself (`Job Title`) rather than
/// reaching it through a general word (`Title`, which Outlook uses for `Dr.`): where
/// two columns would fill one field, the one that names it wins.
pub fn guess_ranked(object: ObjectKind, header: &str) -> Option<(&'static str, bool)> {
    let valid = targets(object);
    let exact = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    if let Some(&target) = valid.iter().find(|&&t| t == exact) {
        return Some((target, true));
    }
    let key = normalise(header, false);
    if meaning(&key).is_none() {
        if let Some(found) = of_entity(object, header) {
            return found;
        }
    }
    let meaning = meaning(&key)
        .or_else(|| meaning(&normalise(header, true)))
        // "Email 1", "Address 1": a first of several means the plain one.
        .or_else(|| key.strip_suffix('1').and_then(meaning))
        // Shopify's "Default Address City", Salesforce's "Mailing Zip/Postal Code".
        .or_else(|| {
            ADDRESS_PREFIXES
                .iter()
                .find_map(|p| key.strip_prefix(p).filter(|rest| !rest.is_empty()))
                .and_then(|rest| meaning(rest).or_else(|| meaning(&format!("address{rest}"))))
        })?;
    let target = resolve(object, meaning)?;
    // An order's creation is its placing: as specific as "Order Date".
    let names_it =
        |t: &str| t == meaning || (object == ObjectKind::Order && meaning == "created_at");
    valid
        .iter()
        .find(|&&t| t == target)
        .map(|&t| (t, names_it(t)))
}

/// A header that names whose value it is, as Pipedrive writes them (`Person - Email -
/// Work`, `Organization - Name`, `Deal - Title`): the record's own entity is read as the
/// rest; a linked one gives what it links by (a person's email, an organisation's
/// name) and nothing else. `None` when the header is not of that form.
fn of_entity(object: ObjectKind, header: &str) -> Option<Option<(&'static str, bool)>> {
    use ObjectKind::*;
    let (entity, rest) = header.split_once(" - ")?;
    let entity = normalise(entity, false);
    let own = match object {
        Contact => ["person", "contact"].contains(&entity.as_str()),
        Company => ["organization", "organisation", "company"].contains(&entity.as_str()),
        Deal => entity == "deal",
        Activity => entity == "activity",
        Task => entity == "task",
        _ => false,
    };
    if own {
        return Some(guess_ranked(object, rest));
    }
    let rest = normalise(rest, false);
    let link = match (entity.as_str(), rest.as_str()) {
        ("organization" | "organisation" | "company", "name") => "company",
        ("person" | "contact", r) if r.starts_with("email") => "contact_email",
        // Another record's fields are its own: not this one's.
        (
            "person" | "contact" | "organization" | "organisation" | "company" | "deal"
            | "activity" | "lead",
            _,
        ) => return Some(None),
        _ => return None,
    };
    Some(targets(object).contains(&link).then_some((link, false)))
}

/// What exporters put before an address's parts (normalised), tried when a header means
/// nothing as it is.
const ADDRESS_PREFIXES: &[&str] = &[
    "defaultaddress",
    "mailing",
    "billingaddress",
    "billing",
    // Dynamics' "Address 1: ZIP/Postal Code".
    "address1",
];

fn meaning(key: &str) -> Option<&'static str> {
    SYNONYMS
        .iter()
        .find(|(_, keys)| keys.contains(&key))
        .map(|(meaning, _)| *meaning)
}

/// What a header's meaning is as a target of this object; `valid` filters the rest.
fn resolve(object: ObjectKind, meaning: &'static str) -> Option<&'static str> {
    use ObjectKind::*;
    Some(match (object, meaning) {
        (Contact, "name") => "full_name",
        (Contact, "title") => "job_title",
        (Contact, "status" | "stage") => "lifecycle_stage",
        (Contact | Deal | Activity, "domain") => "company_domain",
        (Contact | Company | Deal, "body") => "notes",
        (Contact | Company, "contact_email") => "email",
        (Company, "company" | "name") => "name",
        (Company, "company_domain") => "domain",
        (Deal, "name" | "deal_name" | "title") => "name",
        (Deal, "status") => "stage",
        (Deal | Activity | Task, "email" | "associated_contact") => "contact_email",
        (Activity, "notes") => "body",
        (Order, "order_number" | "name" | "external_id") => "number",
        (Order, "amount" | "total") => "total",
        (Order, "date" | "ordered_at" | "created_at" | "paid_at") => "ordered_at",
        (Order, "financial_status") => "status",
        (Order, "full_name") => "contact_name",
        (Order, "email") => "contact_email",
        (Activity, "title") => "subject",
        // Pipedrive dates its activities by when they were due.
        (Activity, "date" | "due" | "start") => "occurred_at",
        (Activity, "start_time") => "time_of_day",
        (Activity, "duration") => "duration_minutes",
        (Task, "name" | "title" | "subject") => "title",
        (Task, "body") => "notes",
        (Task, "due" | "date") => "due_at",
        _ => meaning,
    })
}

/// Lower-case letters and digits only, with æ→ae, ø→oe, å→aa and other Latin accents
/// dropped, so "E-mail", "e_mail" and "EMAIL:" look alike; Chinese stays as it is.
/// `drop_brackets` also drops what brackets hold: "Amount (DKK)", "手机号码（必填）".
fn normalise(header: &str, drop_brackets: bool) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in header.chars().flat_map(char::to_lowercase) {
        match c {
            '(' | '（' | '[' | '【' if drop_brackets => depth += 1,
            ')' | '）' | ']' | '】' if drop_brackets => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            'æ' | 'ä' => out.push_str("ae"),
            'ø' | 'ö' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            c if c.is_ascii_alphanumeric() || is_cjk(c) => out.push(c),
            c if c.is_alphanumeric() => {
                let folded = deunicode::deunicode_char(c).unwrap_or("");
                out.extend(folded.chars().filter(char::is_ascii_alphanumeric));
            }
            _ => {}
        }
    }
    out.make_ascii_lowercase();
    out
}

/// Every target a column of this object can be mapped to: writable built-in fields
/// that hold plain values (references and identities are filled through the
/// pseudo-targets instead), then the pseudo-targets that apply. `custom.KEY` targets
/// are the caller's.
pub fn targets(object: ObjectKind) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = object
        .fields()
        .iter()
        .filter(|f| !f.read_only)
        .filter(|f| {
            !matches!(
                f.kind,
                Kind::Ref(_) | Kind::UserRef | Kind::Consent | Kind::Identities
            )
        })
        .map(|f| f.name)
        .collect();
    let pseudo: &[&'static str] = match object {
        ObjectKind::Contact => &[
            "full_name",
            "company",
            "company_domain",
            "external_id",
            "tags",
            "mobile",
            "email2",
            "notes",
            "owner",
            "created_at",
            "consent.email",
            "consent.sms",
            "consent.phone",
            "consent.whatsapp",
            "consent.post",
            "email_opted_in_at",
            "email_opted_out_at",
            "wechat",
        ],
        ObjectKind::Company => &["external_id", "tags", "notes", "owner", "created_at"],
        ObjectKind::Deal => &[
            "company",
            "company_domain",
            "contact_email",
            "external_id",
            "tags",
            "notes",
            "owner",
            "stage",
            "pipeline",
            "created_at",
        ],
        ObjectKind::Activity => &[
            "company",
            "company_domain",
            "contact_email",
            "external_id",
            "owner",
            "time_of_day",
            "created_at",
        ],
        ObjectKind::Task => &[
            "company",
            "contact_email",
            "external_id",
            "owner",
            "time_of_day",
            "created_at",
        ],
        ObjectKind::Order => &[
            "company",
            "company_domain",
            "contact_email",
            "owner",
            "time_of_day",
            "line.name",
            "line.sku",
            "line.quantity",
            "line.unit_price",
            "contact_name",
        ],
        _ => &[],
    };
    for p in pseudo {
        if !all.contains(p) {
            all.push(p);
        }
    }
    all
}

/// Longest custom field key made from a header.
const MAX_KEY: usize = 40;

/// A custom field key for a header no target matches: lower-case ASCII letters, digits
/// and `_`, starting with a letter, at most 40 characters. Chinese is spelled in pinyin
/// (`会员等级` → `hui_yuan_deng_ji`), Danish letters folded (`Særlig kode` →
/// `saerlig_kode`). Returns "" when nothing usable is left (e.g. a header of only
/// punctuation); the caller then names the column `column_N`.
pub fn custom_key(header: &str) -> String {
    let mut spelled = String::new();
    for c in header.chars().flat_map(char::to_lowercase) {
        match c {
            'æ' | 'ä' => spelled.push_str("ae"),
            'ø' | 'ö' => spelled.push_str("oe"),
            'å' => spelled.push_str("aa"),
            c if c.is_ascii() => spelled.push(c),
            // Pad with spaces so "会员" becomes "hui yuan", not "huiyuan".
            c => {
                spelled.push(' ');
                spelled.push_str(deunicode::deunicode_char(c).unwrap_or(" "));
                spelled.push(' ');
            }
        }
    }
    let mut key = String::new();
    for c in spelled.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        key.insert_str(0, "col_");
    }
    key.truncate(MAX_KEY);
    key.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests;
