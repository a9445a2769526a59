use super::*;
use ObjectKind::{Activity, Company, Contact, Deal, Order, Task};

fn all_guess(object: ObjectKind, cases: &[(&str, &str)]) {
    for (header, want) in cases {
        assert_eq!(guess(object, header), Some(*want), "{object:?} {header:?}");
    }
}

#[test]
fn english_contact_headers_are_recognised() {
    all_guess(
        Contact,
        &[
            ("First Name", "first_name"),
            ("Given name", "first_name"),
            ("Surname", "last_name"),
            ("Last name", "last_name"),
            ("Family name", "last_name"),
            ("Name", "full_name"),
            ("Full name", "full_name"),
            ("E-mail", "email"),
            ("Email Address", "email"),
            ("Mobile", "mobile"),
            ("Mobile Phone", "mobile"),
            ("Cell", "mobile"),
            ("Phone", "phone"),
            ("Telephone", "phone"),
            ("Work Phone", "phone"),
            ("Company", "company"),
            ("Organization", "company"),
            ("Account Name", "company"),
            ("Title", "job_title"),
            ("Job Title", "job_title"),
            ("Position", "job_title"),
            ("Birthday", "birthday"),
            ("Date of Birth", "birthday"),
            ("DOB", "birthday"),
            ("Street", "address_line1"),
            ("Address", "address_line1"),
            ("Address 1", "address_line1"),
            ("Address 2", "address_line2"),
            ("Zip", "postcode"),
            ("Postal Code", "postcode"),
            ("Postcode", "postcode"),
            ("City", "city"),
            ("Town", "city"),
            ("State", "region"),
            ("Region", "region"),
            ("Country", "country"),
            ("Tags", "tags"),
            ("Labels", "tags"),
            ("Lead Source", "source"),
            ("Source", "source"),
            ("Lifecycle Stage", "lifecycle_stage"),
            ("Status", "lifecycle_stage"),
            ("ID", "external_id"),
            ("Record ID", "external_id"),
            ("External ID", "external_id"),
            ("Notes", "notes"),
            ("Owner", "owner"),
            ("Domain", "company_domain"),
        ],
    );
}

#[test]
fn google_and_outlook_export_headers_are_recognised() {
    all_guess(
        Contact,
        &[
            ("Given Name", "first_name"),
            ("Family Name", "last_name"),
            ("E-mail 1 - Value", "email"),
            ("E-mail 2 - Value", "email2"),
            ("Phone 1 - Value", "phone"),
            ("Phone 2 - Value", "mobile"),
            ("Organization 1 - Name", "company"),
            ("Organization 1 - Title", "job_title"),
            ("Address 1 - Street", "address_line1"),
            ("Address 1 - City", "city"),
            ("Address 1 - Postal Code", "postcode"),
            ("Group Membership", "tags"),
            ("E-mail Address", "email"),
            ("E-mail 2 Address", "email2"),
            ("Business Phone", "phone"),
            ("Business Country/Region", "country"),
            ("Categories", "tags"),
            ("Email 1", "email"),
            ("Business Phone 2", "mobile"),
            ("Home Phone 2", "mobile"),
            ("Car Phone", "mobile"),
            ("E-mail 3 Address", "email2"),
            ("Phone 3 - Value", "mobile"),
            ("Telefon 2", "mobile"),
            ("CVR-nummer", "external_id"),
            ("Telefon og fax", "phone"),
        ],
    );
    // Outlook's "Title" is the honorific: where "Job Title" is there too, it names the
    // field and wins.
    assert_eq!(
        guess_ranked(Contact, "Job Title"),
        Some(("job_title", true))
    );
    assert_eq!(guess_ranked(Contact, "Title"), Some(("job_title", false)));
}

#[test]
fn chinese_contact_headers_are_recognised() {
    all_guess(
        Contact,
        &[
            ("姓名", "full_name"),
            ("名字", "first_name"),
            ("名", "first_name"),
            ("姓", "last_name"),
            ("姓氏", "last_name"),
            ("企业邮箱", "email"),
            ("客户名称", "company"),
            ("所属客户", "company"),
            ("手机", "mobile"),
            ("手机号", "mobile"),
            ("手机号码", "mobile"),
            ("移动电话", "mobile"),
            ("电话", "phone"),
            ("座机", "phone"),
            ("联系电话", "phone"),
            ("邮箱", "email"),
            ("电子邮件", "email"),
            ("电子邮箱", "email"),
            ("邮件", "email"),
            ("公司", "company"),
            ("公司名称", "company"),
            ("单位", "company"),
            ("企业", "company"),
            ("职位", "job_title"),
            ("职务", "job_title"),
            ("头衔", "job_title"),
            ("生日", "birthday"),
            ("出生日期", "birthday"),
            ("地址", "address_line1"),
            ("详细地址", "address_line1"),
            ("城市", "city"),
            ("市", "city"),
            ("省", "region"),
            ("省份", "region"),
            ("邮编", "postcode"),
            ("邮政编码", "postcode"),
            ("国家", "country"),
            ("标签", "tags"),
            ("来源", "source"),
            ("客户来源", "source"),
            ("备注", "notes"),
            ("负责人", "owner"),
            ("手机号码（必填）", "mobile"),
            ("*姓名", "full_name"),
            ("邮箱：", "email"),
        ],
    );
}

#[test]
fn danish_contact_headers_are_recognised() {
    all_guess(
        Contact,
        &[
            ("Fornavn", "first_name"),
            ("Efternavn", "last_name"),
            ("Navn", "full_name"),
            ("Fulde navn", "full_name"),
            ("E-mail", "email"),
            ("Mail", "email"),
            ("Telefon", "phone"),
            ("Tlf.", "phone"),
            ("Telefonnummer", "phone"),
            ("Mobil", "mobile"),
            ("Mobilnummer", "mobile"),
            ("Virksomhed", "company"),
            ("Firma", "company"),
            ("Firmanavn", "company"),
            ("Stilling", "job_title"),
            ("Titel", "job_title"),
            ("Jobtitel", "job_title"),
            ("Fødselsdag", "birthday"),
            ("Fødselsdato", "birthday"),
            ("FØDSELSDATO", "birthday"),
            ("Adresse", "address_line1"),
            ("Vejnavn", "address_line1"),
            ("Postnummer", "postcode"),
            ("Postnr.", "postcode"),
            ("By", "city"),
            ("Region", "region"),
            ("Land", "country"),
            ("Tags", "tags"),
            ("Mærker", "tags"),
            ("Kilde", "source"),
            ("Noter", "notes"),
            ("Bemærkninger", "notes"),
            ("Note", "notes"),
            ("Ansvarlig", "owner"),
            ("Ejer", "owner"),
        ],
    );
}

#[test]
fn company_headers_name_the_company_itself() {
    all_guess(
        Company,
        &[
            ("Name", "name"),
            ("Company", "name"),
            ("Company Name", "name"),
            ("公司名称", "name"),
            ("Virksomhed", "name"),
            ("Website", "website"),
            ("Hjemmeside", "website"),
            ("网址", "website"),
            ("Domain", "domain"),
            ("Industry", "industry"),
            ("Branche", "industry"),
            ("行业", "industry"),
            ("Employees", "employees"),
            ("Number of Employees", "employees"),
            ("Antal ansatte", "employees"),
            ("Medarbejdere", "employees"),
            ("员工人数", "employees"),
            ("Phone", "phone"),
            ("Owner", "owner"),
        ],
    );
}

#[test]
fn deal_headers_are_recognised() {
    all_guess(
        Deal,
        &[
            ("Deal Name", "name"),
            ("Name", "name"),
            ("Amount", "amount"),
            ("Value", "amount"),
            ("Beløb", "amount"),
            ("Værdi", "amount"),
            ("金额", "amount"),
            ("Currency", "currency"),
            ("Valuta", "currency"),
            ("Close Date", "expected_close"),
            ("Expected Close", "expected_close"),
            ("Forventet lukning", "expected_close"),
            ("Lukkedato", "expected_close"),
            ("Stage", "stage"),
            ("Deal Stage", "stage"),
            ("Fase", "stage"),
            ("阶段", "stage"),
            ("Pipeline", "pipeline"),
            ("Owner", "owner"),
            ("Company", "company"),
            ("Associated Company", "company"),
            ("Person - Email", "contact_email"),
            ("Organization", "company"),
            ("Email", "contact_email"),
            ("Contact Email", "contact_email"),
            ("Lost Reason", "lost_reason"),
        ],
    );
}

#[test]
fn activity_and_task_headers_are_recognised() {
    all_guess(
        Activity,
        &[
            ("Type", "kind"),
            ("Subject", "subject"),
            ("Notes", "body"),
            ("Description", "body"),
            ("Date", "occurred_at"),
            ("Due date", "occurred_at"),
            ("Start Date", "occurred_at"),
            ("Assigned to user", "owner"),
            ("Duration", "duration_minutes"),
            ("Email", "contact_email"),
            ("Company", "company"),
        ],
    );
    all_guess(
        Task,
        &[
            ("Title", "title"),
            ("Due Date", "due_at"),
            ("Notes", "notes"),
            ("Priority", "priority"),
        ],
    );
}

#[test]
fn creation_dates_are_recognised_and_an_orders_is_its_order_date() {
    for object in [Contact, Company, Deal, Activity, Task] {
        for header in [
            "Create Date",
            "Created Date",
            "Created at",
            "Date Created",
            "Add time",
            "Created Time",
            "Oprettet",
            "Oprettelsesdato",
            "创建时间",
            "录入日期",
        ] {
            assert_eq!(
                guess(object, header),
                Some("created_at"),
                "{object:?} {header}"
            );
        }
    }
    // Shopify's `Created at` is when the order was placed.
    assert_eq!(guess(Order, "Created at"), Some("ordered_at"));
    assert_eq!(guess(Order, "创建时间"), Some("ordered_at"));
    // Who made it is not when.
    assert_eq!(guess(Contact, "Created By"), None);
    // Placing an order is its creation; paying it dates it only when nothing else does.
    assert!(guess_ranked(Order, "Created at").unwrap().1);
    assert!(guess_ranked(Order, "Order Date").unwrap().1);
    assert_eq!(guess_ranked(Order, "Paid at"), Some(("ordered_at", false)));
}

#[test]
fn consent_columns_are_recognised_for_contacts() {
    for (header, target) in [
        ("Accepts Email Marketing", "consent.email"),
        ("Accepts SMS Marketing", "consent.sms"),
        ("Nyhedsbrev", "consent.email"),
        ("邮件订阅", "consent.email"),
        ("OPTIN_TIME", "email_opted_in_at"),
        ("CONFIRM_TIME", "email_opted_in_at"),
        ("UNSUB_TIME", "email_opted_out_at"),
        ("Unsubscribed from all email", "email_opted_out_at"),
        ("Afmeldt", "email_opted_out_at"),
    ] {
        assert_eq!(guess(Contact, header), Some(target), "{header}");
        assert_eq!(guess(Company, header), None, "{header}");
    }
    for channel in crate::fields::CONSENT_CHANNELS {
        assert!(targets(Contact).contains(&format!("consent.{channel}").as_str()));
    }
}

#[test]
fn shopify_salesforce_and_zoho_contact_exports_are_recognised() {
    all_guess(
        Contact,
        &[
            ("Default Address Company", "company"),
            ("Default Address Address1", "address_line1"),
            ("Default Address Address2", "address_line2"),
            ("Default Address City", "city"),
            ("Default Address Province Code", "region"),
            ("Default Address Country Code", "country"),
            ("Default Address Zip", "postcode"),
            ("Default Address Phone", "phone"),
            ("Mailing Street", "address_line1"),
            ("Mailing State/Province", "region"),
            ("Mailing Zip/Postal Code", "postcode"),
            ("Mailing Country", "country"),
            ("Email Opt Out", "email_opted_out_at"),
            ("Contact Owner", "owner"),
            ("Created Time", "created_at"),
        ],
    );
    // A prefix is tried only when the header means nothing as it is.
    assert_eq!(guess(Contact, "Billing Street"), Some("address_line1"));
    assert_eq!(guess(Contact, "Mailing List"), None);
}

#[test]
fn pipedrive_headers_name_whose_value_they_are() {
    all_guess(
        Contact,
        &[
            ("Person - Name", "full_name"),
            ("Person - Organization", "company"),
            ("Person - Email - Work", "email"),
            ("Person - Email - Home", "email2"),
            ("Person - Phone - Work", "phone"),
            ("Person - Phone - Mobile", "mobile"),
            ("Person - Owner", "owner"),
            ("Person - Add time", "created_at"),
            ("Person - Label", "tags"),
            ("Person - Marketing status", "consent.email"),
            ("Organization - Name", "company"),
        ],
    );
    all_guess(
        Deal,
        &[
            ("Deal - Title", "name"),
            ("Deal - Value", "amount"),
            ("Deal - Stage", "stage"),
            ("Deal - Owner", "owner"),
            ("Deal - Deal created", "created_at"),
            ("Person - Email", "contact_email"),
            ("Person - Email - Work", "contact_email"),
            ("Organization - Name", "company"),
        ],
    );
    all_guess(
        Company,
        &[
            ("Organization - Name", "name"),
            ("Organization - Address", "address_line1"),
            ("Organization - Organization created", "created_at"),
        ],
    );
    // A linked record's other fields are not this one's.
    assert_eq!(guess(Contact, "Organization - Address"), None);
    assert_eq!(guess(Deal, "Person - Phone"), None);
    assert_eq!(guess(Company, "Person - Name"), None);
    // Not that form: read as before.
    assert_eq!(guess(Contact, "E - mail"), Some("email"));
}

#[test]
fn a_shopify_order_export_takes_its_total_status_and_placing() {
    assert_eq!(guess_ranked(Order, "Total"), Some(("total", true)));
    assert_eq!(guess(Order, "Subtotal"), None, "before shipping and taxes");
    assert_eq!(
        guess_ranked(Order, "Financial Status"),
        Some(("status", false))
    );
    assert_eq!(guess_ranked(Order, "Status"), Some(("status", true)));
    assert_eq!(guess(Order, "Billing Name"), Some("contact_name"));
    assert_eq!(guess(Order, "客户姓名"), Some("contact_name"));
    assert_eq!(guess(Deal, "Billing Name"), None);
    for (header, target) in [
        ("Lineitem name", "line.name"),
        ("Lineitem sku", "line.sku"),
        ("Lineitem quantity", "line.quantity"),
        ("Lineitem price", "line.unit_price"),
        ("Varenavn", "line.name"),
        ("数量", "line.quantity"),
        ("单价", "line.unit_price"),
    ] {
        assert_eq!(guess(Order, header), Some(target), "{header}");
        assert_eq!(guess(Deal, header), None, "{header}");
    }
}

#[test]
fn hubspot_contact_and_activity_exports_are_recognised() {
    all_guess(
        Contact,
        &[
            ("Mobile Phone Number", "mobile"),
            ("State/Region", "region"),
            ("Unsubscribed from all email", "email_opted_out_at"),
        ],
    );
    all_guess(
        Activity,
        &[
            ("Activity ID", "external_id"),
            ("Activity date", "occurred_at"),
            ("Body preview", "body"),
            ("Associated Contact", "contact_email"),
            ("Activity assigned to", "owner"),
            ("Call duration (HH:mm:ss)", "duration_minutes"),
        ],
    );
    assert_eq!(guess(Deal, "Associated Contact"), Some("contact_email"));
    assert_eq!(
        guess(Company, "Associated Contact"),
        None,
        "not the company's email"
    );
}

#[test]
fn dynamics_and_chinese_contact_exports_are_recognised() {
    all_guess(
        Contact,
        &[
            ("(Do Not Modify) Contact", "external_id"),
            ("Parent Customer", "company"),
            ("Address 1: Street 1", "address_line1"),
            ("Address 1: ZIP/Postal Code", "postcode"),
            ("Address 1: Country/Region", "country"),
            ("Do not allow Emails", "email_opted_out_at"),
            ("Created On", "created_at"),
            ("微信号", "wechat"),
            ("客户状态", "lifecycle_stage"),
        ],
    );
    assert_eq!(guess(Company, "微信号"), None);
    assert_eq!(
        guess(Company, "(Do Not Modify) Account"),
        Some("external_id")
    );
    assert_eq!(guess(Contact, "(Do Not Modify) Row Checksum"), None);
    assert_eq!(guess(Contact, "(Do Not Modify) Modified On"), None);
}

#[test]
fn kith_field_names_map_to_themselves() {
    for object in [Contact, Company, Deal, Activity, Task] {
        for target in targets(object) {
            assert_eq!(guess(object, target), Some(target), "{object:?}");
        }
    }
}

#[test]
fn headers_that_do_not_fit_the_object_are_not_guessed() {
    assert_eq!(guess(Company, "First Name"), None);
    assert_eq!(guess(Company, "Full name"), None);
    assert_eq!(guess(Contact, "Industry"), None);
    assert_eq!(guess(Contact, "Website"), None);
    assert_eq!(guess(Deal, "Birthday"), None);
    // An Outlook task has a Start Date and a Due Date: only the second is due.
    assert_eq!(guess(Task, "Start Date"), None);
    assert_eq!(guess(Task, "Due Date"), Some("due_at"));
    assert_eq!(guess(Task, "Start Time"), None);
    assert_eq!(guess(Activity, "Start Time"), Some("time_of_day"));
    assert_eq!(guess(Task, "Due Time"), Some("time_of_day"));
    assert_eq!(guess(Contact, "会员等级"), None);
    assert_eq!(guess(Contact, ""), None);
    assert_eq!(guess(Contact, "  ---  "), None);
}

#[test]
fn every_guess_is_a_valid_target() {
    let headers: Vec<&str> = SYNONYMS
        .iter()
        .flat_map(|(_, k)| k.iter().copied())
        .collect();
    for object in ObjectKind::ALL {
        let valid = targets(object);
        for header in &headers {
            if let Some(t) = guess(object, header) {
                assert!(valid.contains(&t), "{object:?} {header} -> {t}");
            }
        }
    }
}

#[test]
fn synonyms_are_already_normalised_and_unambiguous() {
    let mut seen = std::collections::BTreeSet::new();
    for (_, keys) in SYNONYMS {
        for key in *keys {
            assert_eq!(normalise(key, false), *key);
            assert!(seen.insert(*key), "{key} listed twice");
        }
    }
}

#[test]
fn targets_leave_out_references_and_computed_fields() {
    let contact = targets(Contact);
    for absent in ["company_id", "owner_id", "consent", "identities"] {
        assert!(!contact.contains(&absent), "{absent}");
    }
    for present in [
        "first_name",
        "full_name",
        "company",
        "mobile",
        "tags",
        "owner",
    ] {
        assert!(contact.contains(&present), "{present}");
    }
    let deal = targets(Deal);
    for absent in ["status", "closed_at", "stage_id", "pipeline_id"] {
        assert!(!deal.contains(&absent), "{absent}");
    }
    for present in ["amount", "stage", "pipeline", "contact_email"] {
        assert!(deal.contains(&present), "{present}");
    }
}

#[test]
fn custom_keys_are_plain_ascii_snake_case() {
    assert_eq!(custom_key("会员等级"), "hui_yuan_deng_ji");
    assert_eq!(custom_key("Særlig kode"), "saerlig_kode");
    assert_eq!(custom_key("Kundetilfredshed (1-5)"), "kundetilfredshed_1_5");
    assert_eq!(custom_key("  Favourite Colour!  "), "favourite_colour");
    assert_eq!(custom_key("Bøgelund Åkande"), "boegelund_aakande");
    assert_eq!(custom_key("2024 revenue"), "col_2024_revenue");
    assert_eq!(custom_key("\u{feff}\"Loyalty tier\""), "loyalty_tier");
}

#[test]
fn custom_keys_are_short_and_empty_only_when_nothing_is_usable() {
    let long = custom_key(&"Very long header ".repeat(20));
    assert!(long.len() <= 40 && !long.ends_with('_'), "{long}");
    assert_eq!(custom_key(""), "");
    assert_eq!(custom_key("   "), "");
    assert_eq!(custom_key("!!! ---"), "");
    let odd = custom_key("😀 🎉");
    assert!(
        odd.is_empty() || odd.starts_with(|c: char| c.is_ascii_lowercase()),
        "{odd}"
    );
}
