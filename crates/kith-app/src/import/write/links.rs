//! Turning a row's link values (company name, contact email, owner, stage) into ids,
//! creating the companies a chunk names that do not exist yet.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::bulk::{self, NewRecord};
use kith_store::imports as store;
use kith_store::Tx;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{checked_key, made, name_key, text, Writer, COMPANY_CACHE};
use crate::import::rows::{Links, Prepared};
use crate::search_index::index_parts;
use crate::Error;

/// The records a chunk's rows link to by company domain and contact email, found with
/// one keyed query per kind for the whole chunk instead of one per row.
#[derive(Default)]
pub(in crate::import) struct LinkTargets {
    domains: HashMap<String, Uuid>,
    emails: HashMap<String, Uuid>,
}

/// What [`Writer::look_up`] found for a row's links.
pub(in crate::import) struct LookedUp {
    /// The ids, by the field they go in.
    pub found: Vec<(&'static str, Uuid)>,
    /// Links that name nothing: the column and why.
    pub errors: Vec<(String, String)>,
}

impl Writer<'_> {
    /// Looks up what `rows` link to by company domain and contact email (the first
    /// record by id wins, as for a single row).
    pub(in crate::import) async fn link_targets<'r>(
        &self,
        tx: &mut Tx,
        links: impl Iterator<Item = &'r Links>,
    ) -> Result<LinkTargets, Error> {
        let ws = self.ws();
        let mut domains = BTreeSet::new();
        let mut emails = BTreeSet::new();
        for l in links {
            domains.extend(l.company_domain.clone());
            emails.extend(l.contact_email.clone());
        }
        let mut out = LinkTargets::default();
        if !domains.is_empty() {
            let values: Vec<String> = domains.into_iter().collect();
            let found = bulk::ids_by_value(tx, ws, ObjectKind::Company, "domain", &values).await?;
            for (v, id) in found {
                out.domains.entry(v).or_insert(id);
            }
        }
        if !emails.is_empty() {
            let values: Vec<String> = emails.into_iter().collect();
            for (v, id) in bulk::contacts_by_identity(tx, ws, "email", &values).await? {
                out.emails.entry(v).or_insert(id);
            }
        }
        Ok(out)
    }

    /// Turns a row's link values (company name, contact email, owner, stage) into ids,
    /// creating companies that do not exist yet; `targets` holds the chunk's lookups
    /// (see [`Writer::link_targets`]).
    pub(super) async fn link(
        &mut self,
        tx: &mut Tx,
        row: &mut Prepared,
        targets: &LinkTargets,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Vec<(String, String)>>, Error> {
        let object = self.req.object;
        let set = |row: &mut Prepared, name: &str, id: Uuid| {
            if let Some(spec) = object.field(name) {
                row.changes.set(spec, Scalar::Uuid(id));
            }
        };
        if let Some(name) = &row.links.company {
            let id = self.company(tx, name, now).await?;
            set(row, "company_id", id);
        }
        let LookedUp { found, errors } = self.look_up(&row.links, targets);
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        for (field, id) in found {
            set(row, field, id);
        }
        Ok(Ok(()))
    }

    /// The ids a row's looked-up links (company domain, contact email, owner, stage)
    /// name, by field, and why those that name nothing fail, under the file's column
    /// names. A company named as well as given by domain is made if missing: no error.
    pub(in crate::import) fn look_up(&self, links: &Links, targets: &LinkTargets) -> LookedUp {
        let object = self.req.object;
        let mut found = vec![];
        let mut errors: Vec<(String, String)> = vec![];
        if let Some(domain) = &links.company_domain {
            match targets.domains.get(domain) {
                Some(id) => found.push(("company_id", *id)),
                None if links.company.is_some() => {}
                None => errors.push((
                    "company_domain".into(),
                    format!("no company has the domain {domain}"),
                )),
            }
        }
        if let Some(email) = &links.contact_email {
            match targets.emails.get(email) {
                Some(id) => found.push(("contact_id", *id)),
                None => errors.push((
                    "contact_email".into(),
                    format!("no contact has the email {email}"),
                )),
            }
        }
        if let Some(owner) = &links.owner {
            let user = match self.users.get(owner) {
                Some(id) => Some(Some(*id)),
                None => self.user_names.get(&name_key(owner)).copied(),
            };
            let field = match object {
                // A task's owner is its assignee.
                ObjectKind::Task => "assignee_id",
                _ => "owner_id",
            };
            match user {
                Some(Some(id)) => found.push((field, id)),
                Some(None) => errors.push((
                    "owner".into(),
                    format!("several users are called {owner}: give the owner's email"),
                )),
                None if owner.contains('@') => errors.push((
                    "owner".into(),
                    format!("no user of this workspace has the email {owner}"),
                )),
                None => errors.push((
                    "owner".into(),
                    format!(
                        "no user of this workspace is called {owner} (an owner is found by \
                         email, or by the name a user gives in their menu)"
                    ),
                )),
            }
        }
        if links.stage.is_some() || links.pipeline.is_some() {
            let stage = links.stage.as_deref().map(str::to_lowercase);
            let pipeline = links.pipeline.as_deref().map(str::to_lowercase);
            let matched = self.stages.iter().find(|s| {
                stage.as_ref().is_none_or(|n| *n == s.stage.to_lowercase())
                    && pipeline
                        .as_ref()
                        .is_none_or(|p| *p == s.pipeline.to_lowercase())
            });
            match matched {
                Some(s) if stage.is_some() => {
                    found.push(("stage_id", s.stage_id));
                    found.push(("pipeline_id", s.pipeline_id));
                }
                Some(s) => found.push(("pipeline_id", s.pipeline_id)),
                None => errors.push((
                    if pipeline.is_some() && stage.is_none() {
                        "pipeline"
                    } else {
                        "stage"
                    }
                    .into(),
                    self.no_stage(links.stage.as_deref(), links.pipeline.as_deref()),
                )),
            }
        }
        // Report link errors under the file's own column names.
        let errors = errors
            .into_iter()
            .map(|(target, m)| (self.header_of(&target).unwrap_or(target), m))
            .collect();
        LookedUp { found, errors }
    }

    /// Why no stage matched, naming what there is to choose from.
    fn no_stage(&self, stage: Option<&str>, pipeline: Option<&str>) -> String {
        /// Names listed before the rest is counted.
        const SHOWN: usize = 12;
        fn listed<'n>(names: impl Iterator<Item = &'n str>) -> String {
            let mut all: Vec<&str> = vec![];
            for n in names {
                if !all.contains(&n) {
                    all.push(n);
                }
            }
            let more = all.len().saturating_sub(SHOWN);
            let mut text = all.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
            if more > 0 {
                text.push_str(&format!(" and {more} more"));
            }
            text
        }
        if self.stages.is_empty() {
            return "this workspace has no pipeline yet: make one with its stages (Settings → \
                    Pipelines) and import the file again"
                .into();
        }
        let in_pipeline: Vec<&bulk::StageName> = self
            .stages
            .iter()
            .filter(|s| pipeline.is_none_or(|p| s.pipeline.eq_ignore_ascii_case(p)))
            .collect();
        match (pipeline, stage) {
            (Some(p), _) if in_pipeline.is_empty() => format!(
                "no pipeline `{p}` (pipelines: {})",
                listed(self.stages.iter().map(|s| s.pipeline.as_str()))
            ),
            (Some(p), Some(st)) => format!(
                "no stage `{st}` in pipeline {p} (stages: {})",
                listed(in_pipeline.iter().map(|s| s.stage.as_str()))
            ),
            (None, Some(st)) => format!(
                "no stage `{st}` (stages: {})",
                listed(in_pipeline.iter().map(|s| s.stage.as_str()))
            ),
            _ => "no such pipeline or stage".into(),
        }
    }

    pub(super) fn header_of(&self, target: &str) -> Option<String> {
        self.import.options["mapping"]
            .as_array()?
            .iter()
            .find(|m| m["target"].as_str() == Some(target))
            .and_then(|m| m["column"].as_str().map(String::from))
    }

    /// The company called `name` (see [`Writer::ensure_companies`]).
    pub(super) async fn company(
        &mut self,
        tx: &mut Tx,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Uuid, Error> {
        let key = name.to_lowercase();
        if let Some(id) = self.companies.get(&key) {
            return Ok(*id);
        }
        self.ensure_companies(tx, &[name.to_string()], now).await?;
        self.companies
            .get(&key)
            .copied()
            .ok_or(Error::NotFound("company"))
    }

    /// Finds the companies a chunk names, creating (and remembering for a revert) those
    /// that do not exist yet — with a few statements for the whole chunk.
    pub(super) async fn ensure_companies(
        &mut self,
        tx: &mut Tx,
        names: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut missing: Vec<String> = vec![];
        let mut seen = HashSet::new();
        for n in names {
            let key = n.to_lowercase();
            if !self.companies.contains_key(&key) && seen.insert(key) {
                missing.push(n.clone());
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if self.companies.len() + missing.len() > COMPANY_CACHE {
            self.companies.clear();
        }
        let ws = self.ws();
        let object = ObjectKind::Company;
        for (name, id) in bulk::ids_by_value(tx, ws, object, "name", &missing).await? {
            self.companies.entry(name.to_lowercase()).or_insert(id);
        }
        let spec = |n: &str| object.field(n).expect("companies have name and owner");
        let owner = self.caller.user.id;
        let recs: Vec<NewRecord> = missing
            .iter()
            .filter(|n| !self.companies.contains_key(&n.to_lowercase()))
            .map(|name| NewRecord {
                id: Uuid::now_v7(),
                columns: vec![
                    (spec("name"), text(name)),
                    (spec("owner_id"), Scalar::Uuid(owner)),
                ],
                custom: Map::new(),
                created_at: None,
            })
            .collect();
        if recs.is_empty() {
            return Ok(());
        }
        bulk::insert_records(tx, ws, object, now, &recs).await?;
        let name_of = |r: &NewRecord| match &r.columns[0].1 {
            Scalar::Text(n) => n.clone(),
            _ => String::new(),
        };
        let terms: Vec<_> = recs
            .iter()
            .map(|r| {
                let name = name_of(r);
                let (t, _) = index_parts(
                    object,
                    |f| (f == "name").then_some(name.as_str()),
                    None,
                    None,
                );
                (r.id, t)
            })
            .collect();
        bulk::insert_terms(tx, ws, object, &terms).await?;
        let audit: Vec<(Uuid, Value)> = recs
            .iter()
            .map(|r| (r.id, json!({"name": name_of(r), "owner_id": owner})))
            .collect();
        bulk::audit_many(tx, ws, now, Some(owner), "create", object, &audit).await?;
        let items = made(object, recs.iter().map(|r| r.id));
        store::add_items(tx, ws, self.import.id, &items).await?;
        for r in &recs {
            self.companies.insert(name_of(r).to_lowercase(), r.id);
        }
        Ok(())
    }
}

impl Writer<'_> {
    /// Makes the customers of a chunk's orders that no contact is yet: an order's email
    /// with the name its row gives (`Billing Name`). Shops sell to guests, and an order
    /// refused for want of its customer would be a sale lost. They are made customers
    /// (they bought), remembered for a revert, and counted for the import's notes.
    pub(super) async fn ensure_customers<'r>(
        &mut self,
        tx: &mut Tx,
        rows: impl Iterator<Item = &'r Prepared>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut wanted: Vec<(String, Option<String>)> = vec![];
        let mut seen = HashSet::new();
        for r in rows {
            if let Some(email) = &r.links.contact_email {
                if seen.insert(email.clone()) {
                    wanted.push((email.clone(), r.customer_name.clone()));
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let ws = self.ws();
        let emails: Vec<String> = wanted.iter().map(|(e, _)| e.clone()).collect();
        let known: HashSet<String> = bulk::contacts_by_identity(tx, ws, "email", &emails)
            .await?
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        let object = ObjectKind::Contact;
        let spec = |n: &str| object.field(n).expect("contacts have these fields");
        let owner = self.caller.user.id;
        let mut recs = vec![];
        for (email, name) in wanted.into_iter().filter(|(e, _)| !known.contains(e)) {
            let (first, last) = name
                .as_deref()
                .map(kith_core::import::values::split_full_name)
                .unwrap_or_default();
            let mut columns = vec![
                (spec("email"), text(&email)),
                (spec("lifecycle_stage"), text("customer")),
                (spec("owner_id"), Scalar::Uuid(owner)),
            ];
            columns.extend(first.map(|f| (spec("first_name"), Scalar::Text(f))));
            columns.extend(last.map(|l| (spec("last_name"), Scalar::Text(l))));
            recs.push(NewRecord {
                id: Uuid::now_v7(),
                columns,
                custom: Map::new(),
                created_at: None,
            });
        }
        if recs.is_empty() {
            return Ok(());
        }
        bulk::insert_records(tx, ws, object, now, &recs).await?;
        let value_of = |r: &NewRecord, f: &str| {
            r.columns.iter().find_map(|(s, v)| match v {
                Scalar::Text(t) if s.name == f => Some(t.clone()),
                _ => None,
            })
        };
        let mut terms = vec![];
        let mut idents = vec![];
        let mut audit = vec![];
        for r in &recs {
            let values: Vec<(&str, Option<String>)> = ["email", "first_name", "last_name"]
                .iter()
                .map(|f| (*f, value_of(r, f)))
                .collect();
            let get = |f: &str| {
                values
                    .iter()
                    .find(|(n, _)| *n == f)
                    .and_then(|(_, v)| v.as_deref())
            };
            let (t, i) = index_parts(object, get, None, None);
            terms.push((r.id, t));
            idents.push((r.id, i));
            let mut m: Map<String, Value> = r
                .columns
                .iter()
                .map(|(f, v)| (f.name.to_string(), v.to_json()))
                .collect();
            m.insert("made_for_an_order".into(), Value::Bool(true));
            audit.push((r.id, Value::Object(m)));
        }
        bulk::insert_terms(tx, ws, object, &terms).await?;
        bulk::insert_identities(tx, ws, &idents).await?;
        bulk::audit_many(tx, ws, now, Some(owner), "create", object, &audit).await?;
        let items = made(object, recs.iter().map(|r| r.id));
        store::add_items(tx, ws, self.import.id, &items).await?;
        for r in &recs {
            // A dry run makes them again in each chunk it rolls back: count each once.
            let email = value_of(r, "email").unwrap_or_default();
            if !self.req.dry_run
                || self
                    .checked
                    .insert(checked_key(&format!("customer:{email}")))
            {
                self.customers_made += 1;
            }
        }
        Ok(())
    }
}
