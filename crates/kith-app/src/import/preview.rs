//! The import wizard's middle step: a draft import's file read with its mapping, the
//! first rows checked (nothing stored), the mapping changed, then started.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use chrono::Utc;
use kith_core::fields::Context;
use kith_core::import::columns;
use kith_core::objects::ObjectKind;
use kith_core::PhoneRegion;
use kith_store::imports as store;
use kith_store::records as records_store;
use serde_json::json;
use uuid::Uuid;

use super::mapping::{date_order_of, Mapping};
use super::rows::{Links, Outcome, RowRules};
use super::source::{self, Format, RawRow};
use super::write::Writer;
use super::{bad, Import, ImportRequest, Reject};
use crate::{App, Caller, Error};

/// Rows a preview checks.
const PREVIEW_ROWS: usize = 200;

/// What the wizard shows before an import starts.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The draft import.
    pub import: Import,
    /// The mapping as it stands (guessed, then the user's choices).
    pub mapping: Mapping,
    /// Every target a column of this object can take.
    pub targets: Vec<String>,
    /// The first rows as read.
    pub rows: Vec<RawRow>,
    /// Those of them that would be refused, and why.
    pub rejects: Vec<Reject>,
    /// Encoding used.
    pub encoding: Option<&'static str>,
    /// Delimiter used.
    pub delimiter: Option<char>,
    /// What the reading noticed: the sheet read, how dates are written.
    pub notes: Vec<String>,
}

impl App {
    /// Reads a draft import's file and checks its first rows with the current mapping.
    pub async fn preview_import(&self, caller: &Caller, id: Uuid) -> Result<Preview, Error> {
        let import = self.import_status(caller, id).await?;
        let object = ObjectKind::from_singular(&import.object).ok_or(Error::NotFound("object"))?;
        let req = ImportRequest::from_json(object, &import.file_name, &import.options)?;
        let data = store::load_upload(&self.db, id).await?;
        let path = std::env::temp_dir().join(format!("kith-preview-{}", Uuid::now_v7()));
        tokio::fs::write(&path, &data)
            .await
            .map_err(|e| bad(format!("cannot write a temporary file: {e}")))?;
        let format = req
            .format
            .unwrap_or_else(|| Format::detect(&req.file_name, &data[..data.len().min(512)]));
        drop(data);
        let opened = {
            let (p, enc, delim) = (path.clone(), req.encoding.clone(), req.delimiter);
            tokio::task::spawn_blocking(move || {
                source::open(
                    &p,
                    format,
                    enc.as_deref(),
                    delim,
                    Arc::new(AtomicU64::new(0)),
                )
            })
            .await
            .map_err(|e| bad(format!("the reader stopped: {e}")))?
        };
        let _ = tokio::fs::remove_file(&path).await;
        let opened = opened?;
        let defs =
            records_store::custom_defs(&mut self.db.clone(), caller.workspace.id, object).await?;
        let (mapping, new_fields) = Mapping::build(
            object,
            &opened.headers,
            opened.preset.as_deref(),
            &req.mapping,
            &defs,
            req.create_fields,
        )?;
        let mut all_defs = defs.clone();
        all_defs.extend(new_fields.iter().map(|k| kith_core::fields::CustomDef {
            key: k.clone(),
            kind: "text".into(),
            options: vec![],
        }));
        let region = req
            .region
            .as_deref()
            .or(caller.workspace.phone_region.as_deref())
            .and_then(|r| PhoneRegion::parse(r).ok());
        let rows: Vec<RawRow> = opened.rows.take(PREVIEW_ROWS).collect();
        let (order, order_note) = match req.date_order {
            Some(o) => (o, None),
            None => date_order_of(
                &mapping,
                &all_defs,
                &rows,
                super::order_of_region(region.as_ref()),
            ),
        };
        let rules = RowRules {
            object,
            mapping: &mapping,
            ctx: Context {
                phone_region: region,
                custom: &all_defs,
            },
            date_order: order,
            time_zone: caller.time_zone(),
            currency: caller.workspace.currency.clone(),
        };
        let rejects = self
            .preview_rejects(caller, &req, &import, &mapping, &rules, &rows)
            .await?;
        let mut targets: Vec<String> = columns::targets(object)
            .into_iter()
            .map(String::from)
            .collect();
        targets.extend(defs.iter().map(|d| format!("custom.{}", d.key)));
        Ok(Preview {
            import,
            mapping,
            targets,
            rows,
            rejects,
            encoding: opened.encoding,
            delimiter: opened.delimiter,
            notes: opened.notes.list().into_iter().chain(order_note).collect(),
        })
    }

    /// Changes a draft import's choices: the column mapping and whether unknown columns
    /// become custom fields.
    pub async fn set_import_mapping(
        &self,
        caller: &Caller,
        id: Uuid,
        mapping: Vec<(String, String)>,
        create_fields: bool,
        on_duplicate: super::OnDuplicate,
    ) -> Result<Import, Error> {
        crate::records::check_import(caller)?;
        let mut import = self.draft(caller, id).await?;
        let before = import.clone();
        let object = ObjectKind::from_singular(&import.object).ok_or(Error::NotFound("object"))?;
        for (col, target) in &mapping {
            super::mapping::parse_target(object, target)
                .map_err(|e| bad(format!("column `{col}`: {e}")))?;
        }
        import.options["map"] = json!(mapping
            .iter()
            .map(|(c, t)| json!([c, t]))
            .collect::<Vec<_>>());
        import.options["create_fields"] = create_fields.into();
        import.options["on_duplicate"] = on_duplicate.as_str().into();
        import.updated_at = Utc::now();
        store::save(&mut self.db.clone(), caller.workspace.id, &import).await?;
        // Choices the file cannot take (more new custom fields than a workspace may
        // have) are refused here, keeping the last good ones: stored, they would leave
        // the wizard with nothing to show but the error.
        if let Err(e) = self.preview_import(caller, id).await {
            store::save(&mut self.db.clone(), caller.workspace.id, &before).await?;
            return Err(e);
        }
        Ok(import)
    }

    /// Starts a draft import as a background job; returns it queued.
    pub async fn start_import(&self, caller: &Caller, id: Uuid) -> Result<Import, Error> {
        crate::records::check_import(caller)?;
        let mut import = self.draft(caller, id).await?;
        import.status = "queued".into();
        import.updated_at = Utc::now();
        store::save(&mut self.db.clone(), caller.workspace.id, &import).await?;
        Ok(import)
    }

    async fn draft(&self, caller: &Caller, id: Uuid) -> Result<Import, Error> {
        let import = self.import_status(caller, id).await?;
        if import.status != "draft" {
            return Err(Error::Duplicate(format!(
                "the import is {} already; upload the file again to change it",
                import.status
            )));
        }
        Ok(import)
    }
}

impl App {
    /// The preview's rows that a run would refuse: for their values, and for links that
    /// name nothing (an unknown stage, owner or contact), looked up as the run does.
    async fn preview_rejects(
        &self,
        caller: &Caller,
        req: &ImportRequest,
        import: &Import,
        mapping: &Mapping,
        rules: &RowRules<'_>,
        rows: &[RawRow],
    ) -> Result<Vec<Reject>, Error> {
        let checked: Vec<(Option<Reject>, &RawRow, Links)> = rows
            .iter()
            .map(|r| match rules.prepare(r.clone()) {
                Outcome::Refused(rej, links) => (Some(rej), r, links),
                Outcome::Ready(p) => (None, r, p.links),
            })
            .collect();
        let mut import = import.clone();
        // Link errors name the file's columns, which the writer finds in the mapping.
        import.options["mapping"] = mapping.to_json();
        let writer = Writer::new(self, caller, req, import).await?;
        let mut tx = self.db.begin().await?;
        let targets = writer
            .link_targets(&mut tx, checked.iter().map(|(_, _, l)| l))
            .await?;
        drop(tx);
        let mut rejects = vec![];
        for (rej, raw, links) in checked {
            let errors = writer.look_up(&links, &targets).errors;
            match rej {
                Some(mut rej) => {
                    rej.errors.extend(errors);
                    rejects.push(rej);
                }
                None if !errors.is_empty() => rejects.push(Reject {
                    line: raw.line as i64,
                    cells: raw.cells.clone(),
                    errors,
                }),
                None => {}
            }
        }
        Ok(rejects)
    }
}
