//! From a row of text cells to a validated write, by the column mapping (`mapping`): the
//! reading of each cell (`cells`) and the field checks every API write gets. Pure and
//! synchronous: it runs on the reader's thread.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use kith_core::fields::{self, Changes, Context, Kind, Mode};
use kith_core::import::consent::{consent_state, email_consent, opt_mark, Opt};
use kith_core::import::values::{
    formula_error, is_spelled_out_blank, is_zero_date, parse_created_in, parse_money_in, says_time,
    split_full_name, time_only, DateOrder,
};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::cells::{
    as_field, beside, cell_value, collapse, custom_cell, number, several, split_many, tag,
    RowCurrency,
};
use super::mapping::{Mapping, Target};
use super::source::RawRow;

/// Values a row links by (resolved against the database by the writer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Links {
    /// Company by name.
    pub company: Option<String>,
    /// Company by web domain.
    pub company_domain: Option<String>,
    /// Contact by email.
    pub contact_email: Option<String>,
    /// Owner by user email.
    pub owner: Option<String>,
    /// Deal stage by name.
    pub stage: Option<String>,
    /// Pipeline by name.
    pub pipeline: Option<String>,
}

/// A row ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Line where the row starts.
    pub line: u64,
    /// The cells as read (for the error file if the writer refuses it).
    pub cells: Vec<String>,
    /// Validated values.
    pub changes: Changes,
    /// Links to resolve.
    pub links: Links,
    /// The old system's id.
    pub external_id: Option<String>,
    /// Text for a note on the record.
    pub notes: Option<String>,
    /// Fingerprint: the same row imported again is recognised.
    pub key: String,
    /// Search terms and identity rows of a new contact or company, worked out on the
    /// reader's thread so the writer need not; `None` after a merge changed the values.
    pub index: Option<crate::search_index::Parts>,
    /// When the old system made the record: a new record's creation time.
    pub created_at: Option<DateTime<Utc>>,
    /// An order's customer by name, for the contact an import makes when none has the
    /// order's email.
    pub customer_name: Option<String>,
}

impl Prepared {
    /// What the row gives the search index if stored as a new record (contacts and
    /// companies; other objects are indexed record by record).
    pub fn index_parts(&self, object: ObjectKind) -> Option<crate::search_index::Parts> {
        if !matches!(object, ObjectKind::Contact | ObjectKind::Company) {
            return None;
        }
        let ch = &self.changes;
        let identities = match ch.get("identities") {
            Some(Scalar::Json(v)) => Some(v),
            _ => None,
        };
        Some(crate::search_index::index_parts(
            object,
            |f| match ch.get(f) {
                Some(Scalar::Text(s)) => Some(s.as_str()),
                _ => None,
            },
            identities,
            self.links.company.as_deref(),
        ))
    }
}

/// What the reader's thread makes of a row.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Good: store it.
    Ready(Box<Prepared>),
    /// Bad: report it with every reason; its links are looked up too, for what they
    /// may add to the reasons.
    Refused(kith_store::imports::Reject, Links),
}

/// What preparing a row needs to know.
pub struct RowRules<'a> {
    /// Object imported into.
    pub object: ObjectKind,
    /// Column mapping.
    pub mapping: &'a Mapping,
    /// Validation context (phone region, custom fields).
    pub ctx: Context<'a>,
    /// How to read 01/02/2026.
    pub date_order: DateOrder,
    /// Where times written without an offset were written (the workspace's zone).
    pub time_zone: chrono_tz::Tz,
    /// Currency of money written without one (the workspace's).
    pub currency: String,
}

impl RowRules<'_> {
    /// Turns a row of cells into a validated write or a refusal naming every bad column.
    pub fn prepare(&self, raw: RawRow) -> Outcome {
        let mut errors: Vec<(String, String)> = vec![];
        if let Some(p) = &raw.problem {
            errors.push((String::new(), p.clone()));
            return refuse(raw, errors, Links::default());
        }
        let mut input = Map::new();
        let mut custom = Map::new();
        let mut tags: BTreeSet<String> = BTreeSet::new();
        let mut identities: Vec<Value> = vec![];
        let mut links = Links::default();
        let mut external_id = None;
        let mut notes_parts: Vec<&str> = vec![];
        let mut full_name = None;
        let mut created_at = None;
        let mut customer_name = None;
        let mut consent: BTreeMap<&'static str, &'static str> = BTreeMap::new();
        // An order's line on this row.
        let mut line = Map::new();
        let (mut opted_in, mut opted_out) = (None, None);
        // Field name as validation reports it → the column to name in the report.
        let mut column_of: Vec<(String, String)> = vec![];
        let no_phone_column = !self.mapping.has("phone");
        let cell_of = |target: &str| {
            self.mapping
                .columns
                .iter()
                .position(|(_, t)| t.as_ref().is_some_and(|t| t.name() == target))
                .and_then(|i| raw.cells.get(i))
                .map(|c| c.trim())
                .filter(|c| !c.is_empty() && !is_spelled_out_blank(c))
        };
        // Amounts are read in the row's currency, wherever its column stands.
        let currency = RowCurrency {
            column: cell_of("currency"),
            default: &self.currency,
        };
        // A time of day in a column of its own completes the row's date.
        let mut time_of_day = cell_of("time_of_day");
        let mut not_a_time = None;
        for (i, (header, target)) in self.mapping.columns.iter().enumerate() {
            let Some(target) = target else { continue };
            let cell = raw.cells.get(i).map(|c| c.trim()).unwrap_or("");
            if cell.is_empty() || is_spelled_out_blank(cell) {
                continue;
            }
            let mut bad = |m: String| errors.push((header.clone(), m));
            if let Some(error) = formula_error(cell) {
                bad(format!(
                    "`{error}` is an Excel error from a broken formula, not a value; fix the formula or clear the cell"
                ));
                continue;
            }
            match target {
                // Outlook writes 0/0/00 for "no birthday": that is an empty cell.
                Target::Field(spec)
                    if matches!(spec.kind, Kind::Date | Kind::DateTime) && is_zero_date(cell) => {}
                Target::Field(spec) => {
                    // `a@x.dk; b@x.dk` in a contact's Email column: the first is the
                    // email, the others are more ways to reach and find the same person.
                    let mut cell = cell;
                    let joined;
                    if Some(spec.name) == dated_field(self.object) {
                        // A date that says its time keeps it.
                        let time = time_of_day.take().filter(|_| !says_time(cell));
                        if let Some(time) = time {
                            match time_only(time) {
                                Some(t) => {
                                    joined = format!("{cell} {t}");
                                    cell = &joined;
                                }
                                None => not_a_time = Some(time),
                            }
                        }
                    }
                    if self.object == ObjectKind::Contact {
                        if let Some((first, more)) = several(spec.name, cell) {
                            cell = first;
                            for v in more {
                                column_of.push(("identities".into(), header.clone()));
                                identities.push(json!({"kind": spec.name, "value": v}));
                            }
                        }
                    }
                    let read = cell_value(
                        spec.kind,
                        spec.name,
                        cell,
                        self.date_order,
                        &self.time_zone,
                        &currency,
                    );
                    match read {
                        Ok((v, in_currency)) => {
                            column_of.push((spec.name.to_string(), header.clone()));
                            input.insert(spec.name.to_string(), v);
                            if let Some(c) = in_currency {
                                if self.object.field("currency").is_some() {
                                    input.insert("currency".into(), c.into());
                                }
                            }
                        }
                        Err(e) => bad(e),
                    }
                }
                Target::Custom(key) => {
                    let kind = self
                        .ctx
                        .custom
                        .iter()
                        .find(|d| &d.key == key)
                        .map(|d| d.kind.as_str())
                        .unwrap_or("text");
                    if kind == "date" && is_zero_date(cell) {
                        continue;
                    }
                    match custom_cell(kind, cell, self.date_order, &self.currency) {
                        Ok(v) => {
                            column_of.push((format!("custom.{key}"), header.clone()));
                            custom.insert(key.clone(), v);
                        }
                        Err(e) => bad(e),
                    }
                }
                Target::Pseudo(p) => match *p {
                    "full_name" => full_name = Some(cell.to_string()),
                    "tags" => {
                        column_of.push(("tags".into(), header.clone()));
                        tags.extend(split_many(cell).filter_map(tag).map(String::from))
                    }
                    "mobile" if no_phone_column && !input.contains_key("phone") => {
                        column_of.push(("phone".into(), header.clone()));
                        input.insert("phone".into(), cell.into());
                    }
                    "mobile" => {
                        for v in split_many(cell) {
                            column_of.push(("identities".into(), header.clone()));
                            identities.push(json!({"kind": "phone", "value": v}));
                        }
                    }
                    "email2" => {
                        for v in split_many(cell) {
                            column_of.push(("identities".into(), header.clone()));
                            identities.push(json!({"kind": "email", "value": v}));
                        }
                    }
                    "external_id" => external_id = Some(cell.to_string()),
                    "contact_name" => customer_name = Some(collapse(cell)),
                    // A WeChat ID reaches and finds the person as an email does.
                    "wechat" => {
                        column_of.push(("identities".into(), header.clone()));
                        identities
                            .push(json!({"kind": "external", "channel": "wechat", "value": cell}));
                    }
                    "notes" => notes_parts.push(cell),
                    "company" => match beside(ObjectKind::Company, "name", cell, &self.ctx) {
                        Ok(()) => links.company = Some(collapse(cell)),
                        Err(e) => bad(e),
                    },
                    "company_domain" => match as_field(Kind::Domain, cell, &self.ctx) {
                        Ok(domain) => links.company_domain = Some(domain),
                        Err(e) => bad(e),
                    },
                    "contact_email" => match as_field(Kind::Email, cell, &self.ctx) {
                        Ok(email) => links.contact_email = Some(email),
                        Err(e) => bad(e),
                    },
                    "owner" => links.owner = Some(cell.to_lowercase()),
                    "created_at" => {
                        match parse_created_in(cell, self.date_order, &self.time_zone, Utc::now()) {
                            Ok(t) => created_at = Some(t),
                            Err(e) => bad(e),
                        }
                    }
                    "email_opted_in_at" | "email_opted_out_at" => {
                        let (way, mark) = match *p {
                            "email_opted_in_at" => (Opt::In, &mut opted_in),
                            _ => (Opt::Out, &mut opted_out),
                        };
                        match opt_mark(cell, self.date_order, &self.time_zone, way) {
                            Ok(m) => *mark = m,
                            Err(e) => bad(e),
                        }
                    }
                    "line.name" | "line.sku" => {
                        line.insert(p["line.".len()..].into(), cell.into());
                    }
                    "line.quantity" => match number(cell) {
                        Ok(q) => {
                            line.insert("quantity".into(), json!(q));
                        }
                        Err(e) => bad(e),
                    },
                    "line.unit_price" => {
                        match parse_money_in(cell, currency.column, currency.default) {
                            Ok(m) => {
                                line.insert("unit_price".into(), m.minor.into());
                            }
                            Err(e) => bad(e),
                        }
                    }
                    p if p.starts_with("consent.") => match consent_state(cell) {
                        Ok(state) => {
                            consent.insert(&p["consent.".len()..], state);
                        }
                        Err(e) => bad(e),
                    },
                    // Joined to the date above; what is left has no date to go with.
                    "time_of_day" => {}
                    "stage" => links.stage = Some(collapse(cell)),
                    "pipeline" => links.pipeline = Some(collapse(cell)),
                    _ => {}
                },
            }
        }
        if let Some(time) = not_a_time {
            errors.push((
                self.header_of("time_of_day"),
                format!("`{time}` is not a time of day"),
            ));
        }
        if let (Some(time), Some(field)) = (time_of_day, dated_field(self.object)) {
            errors.push((
                self.header_of("time_of_day"),
                format!("`{time}` is a time of day, and the row has no {field} date for it"),
            ));
        }
        if !line.is_empty() {
            column_of.push(("lines".into(), self.header_of("line.name")));
            input.insert("lines".into(), json!([line]));
        }
        let email = consent.remove("email");
        if let Some(state) = email_consent(email, opted_in, opted_out) {
            consent.insert("email", state);
        }
        if !consent.is_empty() {
            let header = ["consent.email", "email_opted_in_at", "email_opted_out_at"]
                .iter()
                .map(|t| self.header_of(t))
                .find(|h| !h.is_empty())
                .unwrap_or_default();
            column_of.push(("consent".into(), header));
            input.insert("consent".into(), json!(consent));
        }
        // A note or call the old system kept without a date happened when it was logged.
        if let (ObjectKind::Activity, Some(t)) = (self.object, created_at) {
            if !input.contains_key("occurred_at") {
                let t = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                column_of.push(("occurred_at".into(), self.header_of("created_at")));
                input.insert("occurred_at".into(), t.into());
            }
        }
        let mut notes = None;
        if !notes_parts.is_empty() {
            let text = notes_parts.join("\n\n");
            match beside(ObjectKind::Activity, "body", &text, &self.ctx) {
                Ok(()) => notes = Some(text),
                Err(e) => errors.push((self.header_of("notes"), e)),
            }
        }
        if let Some(n) = full_name {
            let (first, last) = split_full_name(&n);
            let header = self.header_of("full_name");
            for (name, v) in [("first_name", first), ("last_name", last)] {
                if let (Some(v), false) = (v, input.contains_key(name)) {
                    column_of.push((name.into(), header.clone()));
                    input.insert(name.into(), v.into());
                }
            }
        }
        if let Some(ext) = &external_id {
            if self.object == ObjectKind::Contact {
                column_of.push(("identities".into(), self.header_of("external_id")));
                identities.push(json!({"kind": "external", "channel": "import", "value": ext}));
            }
        }
        if !identities.is_empty() {
            input.insert("identities".into(), Value::Array(identities));
        }
        if !custom.is_empty() {
            input.insert("custom".into(), Value::Object(custom));
        }
        if !tags.is_empty() {
            input.insert("tags".into(), tags.into_iter().collect());
        }
        let key = fingerprint(
            self.object,
            &input,
            &links,
            &external_id,
            &notes,
            created_at,
            customer_name.as_deref(),
        );
        // Links are resolved later: required references are checked then.
        let (changes, field_errors) =
            fields::validate_all(self.object, &input, Mode::Create, &self.ctx);
        for (field, message) in field_errors.0 {
            let column = column_of
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, c)| c.clone())
                .unwrap_or(field.clone());
            errors.push((column, message));
        }
        if self.object == ObjectKind::Contact
            && !["first_name", "last_name", "email", "phone"]
                .iter()
                .any(|f| changes.get(f).is_some_and(|v| !v.is_null()))
            && errors.is_empty()
        {
            errors.push((
                String::new(),
                "a contact needs a name, an email or a phone number".into(),
            ));
        }
        if !errors.is_empty() {
            return refuse(raw, errors, links);
        }
        let mut row = Prepared {
            line: raw.line,
            cells: raw.cells,
            changes,
            links,
            external_id,
            notes,
            key,
            index: None,
            created_at,
            customer_name,
        };
        row.index = row.index_parts(self.object);
        Outcome::Ready(Box::new(row))
    }

    fn header_of(&self, target: &str) -> String {
        self.mapping
            .columns
            .iter()
            .find(|(_, t)| t.as_ref().is_some_and(|t| t.name() == target))
            .map(|(h, _)| h.clone())
            .unwrap_or_default()
    }
}

/// The field a separate time-of-day column completes.
fn dated_field(object: ObjectKind) -> Option<&'static str> {
    match object {
        ObjectKind::Activity => Some("occurred_at"),
        ObjectKind::Task => Some("due_at"),
        ObjectKind::Order => Some("ordered_at"),
        _ => None,
    }
}

fn refuse(raw: RawRow, errors: Vec<(String, String)>, links: Links) -> Outcome {
    let reject = kith_store::imports::Reject {
        line: raw.line as i64,
        cells: raw.cells,
        errors,
    };
    Outcome::Refused(reject, links)
}

/// A hash of everything a row writes: equal rows, equal keys.
fn fingerprint(
    object: ObjectKind,
    input: &Map<String, Value>,
    links: &Links,
    external_id: &Option<String>,
    notes: &Option<String>,
    created_at: Option<DateTime<Utc>>,
    customer_name: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    h.update(object.singular());
    h.update([0]);
    h.update(Value::Object(input.clone()).to_string());
    h.update(format!("{links:?}{external_id:?}{notes:?}"));
    // Only when given, so the rows of files without one keep the keys they had.
    if let Some(t) = created_at {
        h.update(t.to_rfc3339());
    }
    if let Some(n) = customer_name {
        h.update([1]);
        h.update(n);
    }
    let d = h.finalize();
    d[..16].iter().map(|b| format!("{b:02x}")).collect()
}
