//! Exporting any list the API can produce (a filter, a quick search, a saved view, a
//! sort) as CSV, XLSX or vCard. Records are read a page at a time through the keyset
//! listing, so a million rows never sit in memory at once; the files are written so
//! that Kith's importer takes them back as they are.

mod columns;
pub(crate) mod lines;
mod table;
mod vcard;

use std::collections::HashSet;
use std::io::Write;

use chrono::Utc;
use kith_core::filter::{Condition, Filter, Op};
use kith_core::objects::ObjectKind;
use kith_core::Scalar;
use kith_store::records as store;
use serde_json::Value;
use uuid::Uuid;

use crate::records::{ListRequest, Page};
use crate::{App, Caller, Error};
use columns::{Column, Names};

/// Records read per page.
const PAGE: u32 = 500;
/// Company and contact names kept between pages; cleared when it grows past this.
const NAME_CACHE: usize = 100_000;

/// What an export failed on that is not the caller's fault (a temporary file, a
/// closed connection): a server error with the reason in the log.
pub(crate) fn failed(e: impl std::fmt::Display) -> Error {
    Error::Store(kith_store::Error::Config(format!("export failed: {e}")))
}

/// The formats Kith exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// UTF-8 with a byte order mark (so Excel reads it right), comma-separated.
    Csv,
    /// Excel workbook, one sheet.
    Xlsx,
    /// vCard 4.0 (contacts only).
    Vcard,
}

impl ExportFormat {
    /// Parses `csv`, `xlsx` or `vcard` (`vcf`).
    pub fn parse(s: &str) -> Result<ExportFormat, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            "vcard" | "vcf" => Ok(ExportFormat::Vcard),
            other => Err(kith_core::Error::field(
                "format",
                format!("must be csv, xlsx or vcard, not `{other}`"),
            )
            .into()),
        }
    }

    /// The format a file name's extension names, if any.
    pub fn from_file_name(name: &str) -> Option<ExportFormat> {
        let ext = name.rsplit_once('.')?.1;
        ExportFormat::parse(ext).ok()
    }

    /// The MIME type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Vcard => "text/vcard; charset=utf-8",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Vcard => "vcf",
        }
    }
}

/// Which records an export holds: the list parameters of `GET /api/v1/{objects}`.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    /// Filter; a view's filter when None and a view is named.
    pub filter: Option<Filter>,
    /// Quick search.
    pub q: Option<String>,
    /// Sort: `field` or `-field`; a view's sort when None.
    pub sort: Option<String>,
    /// A saved view, visible to the caller, of the same object.
    pub view: Option<Uuid>,
    /// Fields as list columns name them (`last_name`, `company_id`, `custom.KEY`); a
    /// view's columns when empty, and every field that imports back when both are.
    pub columns: Vec<String>,
}

enum Output {
    Csv,
    Vcard,
    Xlsx(Box<table::Sheet>),
}

/// An export under way: call [`Export::next_chunk`] until it answers None.
pub struct Export {
    app: App,
    caller: Caller,
    object: ObjectKind,
    format: ExportFormat,
    list: ListRequest,
    columns: Vec<Column>,
    names: Names,
    out: Option<Output>,
    rows: u64,
    started: bool,
}

impl App {
    /// Checks the request and prepares an export; nothing is read yet.
    pub async fn start_export(
        &self,
        caller: &Caller,
        object: ObjectKind,
        req: &ExportRequest,
        format: ExportFormat,
    ) -> Result<Export, Error> {
        if !matches!(
            object,
            ObjectKind::Contact
                | ObjectKind::Company
                | ObjectKind::Deal
                | ObjectKind::Activity
                | ObjectKind::Task
        ) {
            return Err(kith_core::Error::new(
                "export_invalid",
                "exports cover contacts, companies, deals, activities and tasks",
            )
            .into());
        }
        if format == ExportFormat::Vcard && object != ObjectKind::Contact {
            return Err(kith_core::Error::field("format", "vCard holds contacts only").into());
        }
        let mut req = req.clone();
        if let Some(id) = req.view {
            // A private view of someone else is not found, as in every other read.
            let view = self.get(caller, ObjectKind::View, id).await?;
            if view.text("object") != Some(object.singular()) {
                return Err(kith_core::Error::field(
                    "view",
                    format!(
                        "is a view of {}, not of {}",
                        view.text("object")
                            .and_then(ObjectKind::from_singular)
                            .map_or("another object", ObjectKind::plural),
                        object.plural()
                    ),
                )
                .into());
            }
            if req.filter.is_none() {
                req.filter = view
                    .text("filter")
                    .filter(|f| !f.trim().is_empty())
                    .map(Filter::parse_any)
                    .transpose()?;
            }
            if req.sort.is_none() {
                req.sort = view.text("sort").map(String::from);
            }
            if req.columns.is_empty() {
                if let Some(Scalar::Json(Value::Array(cols))) = view.get("columns") {
                    req.columns = cols
                        .iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect();
                }
            }
        }
        let defs = if object.is_customisable() {
            store::custom_defs(&mut self.db.clone(), caller.workspace.id, object).await?
        } else {
            vec![]
        };
        let columns = if req.columns.is_empty() {
            columns::all(object, &defs)
        } else {
            columns::chosen(object, &req.columns, &defs)?
        };
        let list = ListRequest {
            filter: req.filter,
            q: req.q,
            sort: req.sort,
            cursor: None,
            limit: Some(PAGE),
            deleted: false,
        };
        let mut names = Names::default();
        if columns.iter().any(|c| matches!(c, Column::Owner(_))) {
            names.users = self
                .users(caller)
                .await?
                .into_iter()
                .map(|u| (u.id, u.email))
                .collect();
        }
        if columns
            .iter()
            .any(|c| matches!(c, Column::Stage | Column::Pipeline))
        {
            names.stages = self.all_names(caller, ObjectKind::Stage).await?;
            names.pipelines = self.all_names(caller, ObjectKind::Pipeline).await?;
        }
        Ok(Export {
            app: self.clone(),
            caller: caller.clone(),
            object,
            format,
            list,
            columns,
            names,
            out: None,
            rows: 0,
            started: false,
        })
    }

    /// Writes the whole export to `out`; returns the number of records written.
    pub async fn export(
        &self,
        caller: &Caller,
        object: ObjectKind,
        req: &ExportRequest,
        format: ExportFormat,
        mut out: impl Write,
    ) -> Result<u64, Error> {
        let mut export = self.start_export(caller, object, req, format).await?;
        while let Some(chunk) = export.next_chunk().await? {
            out.write_all(&chunk).map_err(failed)?;
        }
        out.flush().map_err(failed)?;
        Ok(export.rows())
    }

    /// Names of every pipeline or stage (few; read once per export).
    async fn all_names(
        &self,
        caller: &Caller,
        object: ObjectKind,
    ) -> Result<std::collections::HashMap<Uuid, String>, Error> {
        let mut out = std::collections::HashMap::new();
        let mut req = ListRequest {
            limit: Some(PAGE),
            ..Default::default()
        };
        loop {
            let page = self.list(caller, object, &req).await?;
            for r in &page.records {
                out.insert(r.id, r.text("name").unwrap_or_default().to_string());
            }
            match page.next_cursor {
                Some(c) => req.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// The `field` (name, email) of the records of `object` with these ids.
    async fn names_of(
        &self,
        caller: &Caller,
        object: ObjectKind,
        field: &str,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, String)>, Error> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let req = ListRequest {
            filter: Some(Filter::Cond(Condition {
                field: "id".into(),
                op: Op::In,
                values: ids.iter().map(|i| Value::String(i.to_string())).collect(),
            })),
            limit: Some(PAGE),
            ..Default::default()
        };
        let page = self.list(caller, object, &req).await?;
        Ok(page
            .records
            .iter()
            .filter_map(|r| Some((r.id, r.text(field)?.to_string())))
            .collect())
    }
}

impl Export {
    /// Records written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The MIME type of the file.
    pub fn content_type(&self) -> &'static str {
        self.format.content_type()
    }

    /// A file name for it, e.g. `contacts-2026-03-01.csv`.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}.{}",
            self.object.plural(),
            Utc::now().format("%Y-%m-%d"),
            self.format.extension()
        )
    }

    /// The next piece of the file, None when it is complete. The first call answers
    /// the header (CSV) or the first page, so a bad filter fails before any byte.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, Error> {
        loop {
            if self.started && self.list.cursor.is_none() {
                // The last page is written: an XLSX file is put together only now.
                return match self.out.take() {
                    Some(Output::Xlsx(sheet)) => Ok(Some(sheet.finish()?)),
                    _ => Ok(None),
                };
            }
            let page = self.app.list(&self.caller, self.object, &self.list).await?;
            let first = !self.started;
            self.started = true;
            self.list.cursor = page.next_cursor.clone();
            self.resolve(&page).await?;
            let chunk = self.write(&page, first)?;
            if !chunk.is_empty() {
                return Ok(Some(chunk));
            }
        }
    }

    /// Loads the names of the companies and contacts this page links to.
    async fn resolve(&mut self, page: &Page) -> Result<(), Error> {
        let vcard = self.format == ExportFormat::Vcard;
        let links = [
            (
                vcard || self.columns.contains(&Column::Company),
                ObjectKind::Company,
                "company_id",
                "name",
            ),
            (
                self.columns.contains(&Column::ContactEmail),
                ObjectKind::Contact,
                "contact_id",
                "email",
            ),
        ];
        for (wanted, object, link, field) in links {
            if !wanted {
                continue;
            }
            let known = self.names.linked(object);
            if known.len() > NAME_CACHE {
                known.clear();
            }
            let missing: HashSet<Uuid> = page
                .records
                .iter()
                .filter_map(|r| r.uuid(link))
                .filter(|id| !known.contains_key(id))
                .collect();
            let missing: Vec<Uuid> = missing.into_iter().collect();
            let found = self
                .app
                .names_of(&self.caller, object, field, &missing)
                .await?;
            self.names.linked(object).extend(found);
        }
        Ok(())
    }

    fn write(&mut self, page: &Page, first: bool) -> Result<Vec<u8>, Error> {
        let headers: Vec<String> = self.columns.iter().map(Column::header).collect();
        if first {
            self.out = Some(match self.format {
                ExportFormat::Csv => Output::Csv,
                ExportFormat::Vcard => Output::Vcard,
                ExportFormat::Xlsx => {
                    let zone = self.caller.time_zone();
                    Output::Xlsx(Box::new(table::Sheet::new(&headers, zone)?))
                }
            });
        }
        let cells = |r: &crate::Record| -> Vec<columns::Cell> {
            self.columns
                .iter()
                .map(|c| columns::cell(c, r, &self.names))
                .collect()
        };
        let chunk = match self.out.as_mut() {
            Some(Output::Csv) => {
                let mut rows: Vec<Vec<String>> = Vec::with_capacity(page.records.len() + 1);
                if first {
                    rows.push(headers);
                }
                for r in &page.records {
                    rows.push(cells(r).iter().map(table::csv_text).collect());
                }
                let mut bytes = table::csv_rows(&rows)?;
                if first {
                    // The byte order mark tells Excel the file is UTF-8.
                    bytes.splice(0..0, "\u{feff}".bytes());
                }
                bytes
            }
            Some(Output::Vcard) => page
                .records
                .iter()
                .map(|r| vcard::card(r, &self.names))
                .collect::<String>()
                .into_bytes(),
            Some(Output::Xlsx(sheet)) => {
                for r in &page.records {
                    sheet.push(&cells(r))?;
                }
                vec![]
            }
            None => vec![],
        };
        self.rows += page.records.len() as u64;
        Ok(chunk)
    }
}
