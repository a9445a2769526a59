//! Importing other systems' exports: a reader thread turns the file into validated rows,
//! the writer stores them a chunk per transaction together with a checkpoint, so an
//! import killed half-way resumes exactly where it stopped, a file imported twice
//! creates nothing twice, and an import can be taken back as a whole.

mod cells;
mod mapping;
mod preview;
mod revert;
mod rows;
mod source;
mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::Utc;
use kith_core::fields::Context;
pub use kith_core::import::values::DateOrder;
use kith_core::objects::ObjectKind;
use kith_core::PhoneRegion;
use kith_store::imports as store;
use kith_store::records as records_store;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use kith_store::imports::{Import, Reject};
pub use mapping::{Mapping, Target};
pub use preview::Preview;
pub use source::{Format, RawRow};

use crate::{App, Caller, Error};

/// Rows handed from the reader to the writer at a time: one transaction each. Larger
/// chunks write the hot pages of the indexes an import fills fewer times per row (each
/// commit appends every page it dirtied to the log); a `kill -9` loses at most one.
const CHUNK: usize = 5000;

pub(crate) fn bad(message: impl Into<String>) -> Error {
    Error::Invalid(kith_core::Error::new("import_invalid", message))
}

/// What to do with a row that matches a record that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDuplicate {
    /// Leave the record alone; count the row as skipped.
    Skip,
    /// Overwrite the record's fields with the row's non-empty values.
    Update,
    /// Fill only the record's empty fields; add new emails, phones and tags.
    Merge,
}

impl OnDuplicate {
    /// Parses `skip`, `update` or `merge`.
    pub fn parse(s: &str) -> Result<OnDuplicate, Error> {
        match s {
            "skip" => Ok(OnDuplicate::Skip),
            "update" => Ok(OnDuplicate::Update),
            "merge" => Ok(OnDuplicate::Merge),
            other => Err(bad(format!(
                "on_duplicate must be skip, update or merge, not `{other}`"
            ))),
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDuplicate::Skip => "skip",
            OnDuplicate::Update => "update",
            OnDuplicate::Merge => "merge",
        }
    }
}

/// An import as asked for.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// Object to import into.
    pub object: ObjectKind,
    /// File name shown in the history.
    pub file_name: String,
    /// Format; detected from the name and content when None.
    pub format: Option<Format>,
    /// Text encoding of a CSV or vCard file; detected when None.
    pub encoding: Option<String>,
    /// CSV delimiter; detected when None.
    pub delimiter: Option<char>,
    /// `COLUMN=TARGET` choices over the guessed mapping.
    pub mapping: Vec<(String, String)>,
    /// What to do with rows matching records that exist.
    pub on_duplicate: OnDuplicate,
    /// Phone region for numbers without `+`, instead of the workspace's.
    pub region: Option<String>,
    /// How to read 01/02/2026; `None`: as the file's own dates show (5/14/1980 is month
    /// first), else as the phone region writes them (the US month first, others day first).
    pub date_order: Option<DateOrder>,
    /// Turn unknown columns into custom text fields.
    pub create_fields: bool,
    /// Check everything, store nothing.
    pub dry_run: bool,
}

impl ImportRequest {
    /// A request with the defaults: guessed mapping, skip duplicates, dates read as the
    /// file shows them.
    pub fn new(object: ObjectKind, file_name: &str) -> ImportRequest {
        ImportRequest {
            object,
            file_name: file_name.to_string(),
            format: None,
            encoding: None,
            delimiter: None,
            mapping: vec![],
            on_duplicate: OnDuplicate::Skip,
            region: None,
            date_order: None,
            create_fields: false,
            dry_run: false,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "format": self.format.map(Format::as_str),
            "encoding": self.encoding,
            "delimiter": self.delimiter.map(String::from),
            "map": self.mapping.iter().map(|(c, t)| json!([c, t])).collect::<Vec<_>>(),
            "on_duplicate": self.on_duplicate.as_str(),
            "region": self.region,
            "date_order": self.date_order.map(|o| match o {
                DateOrder::DayFirst => "day_first",
                DateOrder::MonthFirst => "month_first",
            }),
            "create_fields": self.create_fields,
        })
    }

    fn from_json(object: ObjectKind, file_name: &str, v: &Value) -> Result<ImportRequest, Error> {
        let s = |k: &str| v[k].as_str().map(String::from);
        Ok(ImportRequest {
            object,
            file_name: file_name.to_string(),
            format: s("format").map(|f| Format::parse(&f)).transpose()?,
            encoding: s("encoding"),
            delimiter: s("delimiter").and_then(|d| d.chars().next()),
            mapping: v["map"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| Some((p[0].as_str()?.into(), p[1].as_str()?.into())))
                        .collect()
                })
                .unwrap_or_default(),
            on_duplicate: OnDuplicate::parse(v["on_duplicate"].as_str().unwrap_or("skip"))?,
            region: s("region"),
            // Imports stored before the order was read from the file say `month_first`.
            date_order: match (v["date_order"].as_str(), v["month_first"].as_bool()) {
                (Some("month_first"), _) | (None, Some(true)) => Some(DateOrder::MonthFirst),
                (Some("day_first"), _) => Some(DateOrder::DayFirst),
                _ => None,
            },
            create_fields: v["create_fields"].as_bool().unwrap_or(false),
            dry_run: false,
        })
    }
}

/// How dates are written where a file shows nothing: month first in the United States,
/// day first elsewhere (Denmark, China's slash dates, most of the world).
fn order_of_region(region: Option<&PhoneRegion>) -> DateOrder {
    match region.map(PhoneRegion::code) {
        Some("US") => DateOrder::MonthFirst,
        _ => DateOrder::DayFirst,
    }
}

/// What an import run reports.
#[derive(Debug, Clone)]
pub struct Report {
    /// The import as stored (in a dry run: as it would be).
    pub import: Import,
    /// The mapping used.
    pub mapping: Mapping,
    /// Refused rows (a dry run keeps the first 1,000 here; a real run stores them all).
    pub rejects: Vec<Reject>,
    /// Notes such as skipped photos.
    pub notes: Vec<String>,
    /// Whether this run continued an unfinished import of the same file.
    pub resumed: bool,
}

/// Progress as an import goes.
pub type Progress<'a> = &'a (dyn Fn(&Import) + Send + Sync);

fn hash_file(path: &Path) -> Result<(String, u64), Error> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    let d = h.finalize();
    Ok((d.iter().map(|b| format!("{b:02x}")).collect(), total))
}

impl App {
    /// Imports the file at `path` (or checks it, in a dry run). An unfinished import of
    /// the same file into the same object is resumed from its checkpoint.
    pub async fn import_file(
        &self,
        caller: &Caller,
        path: &Path,
        req: &ImportRequest,
        progress: Progress<'_>,
    ) -> Result<Report, Error> {
        crate::records::check_import(caller)?;
        let (hash, size) = hash_file(path)?;
        let existing = if req.dry_run {
            None
        } else {
            store::unfinished(
                &mut self.db.clone(),
                caller.workspace.id,
                req.object.singular(),
                &hash,
            )
            .await?
        };
        let resumed = existing.is_some();
        let now = Utc::now();
        let import = match existing {
            Some(i) => i,
            None => Import {
                id: Uuid::now_v7(),
                object: req.object.singular().into(),
                file_name: req.file_name.clone(),
                file_hash: hash,
                format: String::new(),
                options: req.to_json(),
                status: "running".into(),
                rows_done: 0,
                created: 0,
                updated: 0,
                skipped: 0,
                failed: 0,
                bytes_done: 0,
                bytes_total: size as i64,
                message: None,
                created_by: Some(caller.user.id),
                created_at: now,
                updated_at: now,
                finished_at: None,
            },
        };
        let mut report = self
            .run(caller, path, req, import, !resumed, progress)
            .await?;
        report.resumed = resumed;
        Ok(report)
    }

    async fn run(
        &self,
        caller: &Caller,
        path: &Path,
        req: &ImportRequest,
        mut import: Import,
        is_new: bool,
        progress: Progress<'_>,
    ) -> Result<Report, Error> {
        let ws = caller.workspace.id;
        let region = match &req.region {
            Some(r) => Some(PhoneRegion::parse(r).map_err(|e| bad(format!("--region: {e}")))?),
            None => caller
                .workspace
                .phone_region
                .as_deref()
                .and_then(|r| PhoneRegion::parse(r).ok()),
        };
        let read = Arc::new(AtomicU64::new(0));
        let head = {
            use std::io::Read;
            let mut b = vec![0u8; 512];
            let n = std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut b))
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            b.truncate(n);
            b
        };
        let format = req
            .format
            .unwrap_or_else(|| Format::detect(&req.file_name, &head));
        import.format = format.as_str().into();
        let opened = {
            let (path, enc, delim, read) = (
                path.to_path_buf(),
                req.encoding.clone(),
                req.delimiter,
                read.clone(),
            );
            tokio::task::spawn_blocking(move || {
                source::open(&path, format, enc.as_deref(), delim, read)
            })
            .await
            .map_err(|e| bad(format!("the reader stopped: {e}")))??
        };
        let mut defs = records_store::custom_defs(&mut self.db.clone(), ws, req.object).await?;
        let (mapping, new_fields) = Mapping::build(
            req.object,
            &opened.headers,
            opened.preset.as_deref(),
            &req.mapping,
            &defs,
            req.create_fields,
        )?;
        if !mapping.columns.iter().any(|(_, t)| t.is_some()) {
            return Err(bad(format!(
                "no column of the file maps to a field of {}: map one with --map COLUMN=FIELD (columns: {})",
                req.object.singular(),
                opened.headers.join(", ")
            )));
        }
        if !req.dry_run {
            for key in &new_fields {
                let header = mapping
                    .columns
                    .iter()
                    .find(|(_, t)| t.as_ref() == Some(&Target::Custom(key.clone())))
                    .map(|(h, _)| h.clone())
                    .unwrap_or_else(|| key.clone());
                let mut input = Map::new();
                input.insert("object".into(), req.object.singular().into());
                input.insert("key".into(), key.clone().into());
                input.insert("label".into(), header.into());
                input.insert("kind".into(), "text".into());
                self.create(caller, ObjectKind::FieldDefinition, &input)
                    .await?;
            }
            defs = records_store::custom_defs(&mut self.db.clone(), ws, req.object).await?;
        } else {
            defs.extend(new_fields.iter().map(|k| kith_core::fields::CustomDef {
                key: k.clone(),
                kind: "text".into(),
                options: vec![],
            }));
        }
        let mut options = req.to_json();
        options["mapping"] = mapping.to_json();
        options["encoding_used"] = opened.encoding.into();
        options["delimiter_used"] = opened.delimiter.map(String::from).into();
        options["headers"] = opened.headers.clone().into();
        import.options = options;
        if is_new && !req.dry_run {
            store::create(&mut self.db.clone(), ws, &import).await?;
        }
        let skip = import.rows_done as usize;
        // One chunk waiting is enough to keep the writer busy (the reader is the faster of the
        // two); each waiting chunk costs memory.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<rows::Outcome>>(1);
        let reader = {
            let mapping = mapping.clone();
            let object = req.object;
            let given = req.date_order;
            let fallback = order_of_region(region.as_ref());
            let currency = caller.workspace.currency.clone();
            let time_zone = caller.time_zone();
            let mut rows_iter = opened.rows;
            tokio::task::spawn_blocking(move || {
                // Judged by the file's first rows, on a resumed run too.
                let sample: Vec<RawRow> = match given {
                    Some(_) => vec![],
                    None => rows_iter.by_ref().take(mapping::ORDER_SAMPLE).collect(),
                };
                let (order, note) = match given {
                    Some(o) => (o, None),
                    None => mapping::date_order_of(&mapping, &defs, &sample, fallback),
                };
                let rules = rows::RowRules {
                    object,
                    mapping: &mapping,
                    ctx: Context {
                        phone_region: region,
                        custom: &defs,
                    },
                    date_order: order,
                    time_zone,
                    currency: currency.clone(),
                };
                // The rows of one order (its lines) go in one chunk: a chunk ends only
                // where the order number changes.
                let number_at = match object {
                    ObjectKind::Order => mapping
                        .columns
                        .iter()
                        .position(|(_, t)| t.as_ref().is_some_and(|t| t.name() == "number")),
                    _ => None,
                };
                let number_of = |raw: &RawRow| number_at.and_then(|i| raw.cells.get(i)).cloned();
                let mut last_number = None;
                let mut batch = Vec::with_capacity(CHUNK);
                for raw in sample.into_iter().chain(rows_iter.by_ref()).skip(skip) {
                    let number = number_of(&raw);
                    let same_order = number.is_some() && number == last_number;
                    if batch.len() >= CHUNK && !same_order {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(CHUNK));
                        if tx.blocking_send(full).is_err() {
                            return note;
                        }
                    }
                    last_number = number;
                    batch.push(rules.prepare(raw));
                }
                if !batch.is_empty() {
                    let _ = tx.blocking_send(batch);
                }
                note
            })
        };
        let mut writer = write::Writer::new(self, caller, req, import).await?;
        let mut rejects = vec![];
        let bulk_load = kith_store::bulk::BulkLoad::start(&self.db).await?;
        let result: Result<(), Error> = async {
            while let Some(batch) = rx.recv().await {
                let bytes = read.load(Ordering::Relaxed) as i64;
                let refused = writer.write(batch, bytes).await?;
                if req.dry_run && rejects.len() < 1000 {
                    rejects.extend(refused);
                }
                progress(&writer.import);
            }
            Ok(())
        }
        .await;
        let restored = bulk_load.end(&self.db).await;
        let result = result.and(restored.map_err(Error::from));
        drop(rx);
        let order_note = reader.await.ok().flatten();
        let mut notes = opened.notes.list();
        notes.extend(order_note);
        notes.extend(writer.notes());
        let mut import = writer.import;
        import.updated_at = Utc::now();
        match result {
            Ok(()) => {
                import.status = "done".into();
                import.bytes_done = import.bytes_total.max(import.bytes_done);
                import.finished_at = Some(import.updated_at);
                if !notes.is_empty() {
                    import.message = Some(notes.join("; "));
                }
            }
            // Another process runs this import: leave its status to that process.
            Err(e @ Error::Duplicate(_)) => return Err(e),
            Err(e) => {
                import.status = "failed".into();
                import.message = Some(e.to_string());
                if !req.dry_run {
                    // Best effort: the checkpoint of the last good chunk is already stored.
                    let _ = store::save(&mut self.db.clone(), ws, &import).await;
                }
                return Err(e);
            }
        }
        if !req.dry_run {
            store::save(&mut self.db.clone(), ws, &import).await?;
        }
        progress(&import);
        Ok(Report {
            import,
            mapping,
            rejects,
            notes,
            resumed: false,
        })
    }

    /// An import of the caller's workspace.
    pub async fn import_status(&self, caller: &Caller, id: Uuid) -> Result<Import, Error> {
        store::get(&mut self.db.clone(), caller.workspace.id, id)
            .await?
            .ok_or(Error::NotFound("import"))
    }

    /// The workspace's recent imports, newest first.
    pub async fn imports(&self, caller: &Caller) -> Result<Vec<Import>, Error> {
        Ok(store::recent(&mut self.db.clone(), caller.workspace.id, 50).await?)
    }

    /// The refused rows of an import as a CSV to fix and import again: the file's own
    /// columns, then the line it came from and every reason.
    pub async fn import_errors_csv(&self, caller: &Caller, id: Uuid) -> Result<Vec<u8>, Error> {
        let import = self.import_status(caller, id).await?;
        let headers: Vec<String> = import.options["headers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|h| h.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        // A refused row can hold values beyond the header (a spreadsheet column without
        // a name): they get columns of their own, so the line and reasons stay in theirs.
        let mut width = headers.len();
        let mut after = 0;
        loop {
            let page = store::rejects(&mut self.db.clone(), id, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.line;
            width = page.iter().map(|r| r.cells.len()).fold(width, usize::max);
        }
        let mut out = csv::Writer::from_writer(vec![]);
        let mut head = headers.clone();
        head.extend((head.len()..width).map(|i| format!("Column {}", i + 1)));
        head.extend(mapping::REPORT_COLUMNS.iter().map(|c| c.to_string()));
        out.write_record(&head).map_err(|e| bad(e.to_string()))?;
        let mut after = 0;
        loop {
            let page = store::rejects(&mut self.db.clone(), id, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.line;
            for r in &page {
                let mut row = r.cells.clone();
                row.resize(width, String::new());
                row.push(r.line.to_string());
                row.push(r.reasons());
                out.write_record(&row).map_err(|e| bad(e.to_string()))?;
            }
        }
        out.into_inner().map_err(|e| bad(e.to_string()))
    }

    /// Starts an import of an uploaded file in the background: the file is kept in the
    /// database and a job runs it, so any node can, and a restart resumes it.
    pub async fn queue_import(
        &self,
        caller: &Caller,
        data: &[u8],
        req: &ImportRequest,
    ) -> Result<Import, Error> {
        self.upload_import(caller, data, req, "queued").await
    }

    /// Keeps an uploaded file as a draft import, to look at its mapping and first rows
    /// ([`App::preview_import`]) before [`App::start_import`].
    pub async fn draft_import(
        &self,
        caller: &Caller,
        data: &[u8],
        req: &ImportRequest,
    ) -> Result<Import, Error> {
        self.upload_import(caller, data, req, "draft").await
    }

    async fn upload_import(
        &self,
        caller: &Caller,
        data: &[u8],
        req: &ImportRequest,
        status: &str,
    ) -> Result<Import, Error> {
        crate::records::check_import(caller)?;
        let now = Utc::now();
        let mut h = Sha256::new();
        h.update(data);
        let import = Import {
            id: Uuid::now_v7(),
            object: req.object.singular().into(),
            file_name: req.file_name.clone(),
            file_hash: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            format: req.format.map(|f| f.as_str()).unwrap_or("").into(),
            options: req.to_json(),
            status: status.into(),
            rows_done: 0,
            created: 0,
            updated: 0,
            skipped: 0,
            failed: 0,
            bytes_done: 0,
            bytes_total: data.len() as i64,
            message: None,
            created_by: Some(caller.user.id),
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        let mut tx = self.db.begin().await?;
        store::create(&mut tx, caller.workspace.id, &import).await?;
        store::save_upload(&mut tx, caller.workspace.id, import.id, data).await?;
        tx.commit().await?;
        Ok(import)
    }

    /// Uploaded imports that were queued or running when the server stopped:
    /// `(workspace, import)` pairs to hand to [`App::run_queued_import`].
    pub async fn pending_imports(&self) -> Result<Vec<(Uuid, Uuid)>, Error> {
        Ok(store::pending_uploads(&self.db).await?)
    }

    /// Runs (or resumes) a queued import: the job behind [`App::queue_import`].
    pub async fn run_queued_import(&self, workspace: Uuid, id: Uuid) -> Result<Import, Error> {
        let ws = kith_store::WorkspaceId(workspace);
        let import = store::get(&mut self.db.clone(), ws, id)
            .await?
            .ok_or(Error::NotFound("import"))?;
        if !matches!(import.status.as_str(), "queued" | "running") {
            return Ok(import);
        }
        let caller = self
            .caller_by_id(import.created_by.ok_or(Error::NotFound("user"))?)
            .await?;
        let object = ObjectKind::from_singular(&import.object).ok_or(Error::NotFound("object"))?;
        let req = ImportRequest::from_json(object, &import.file_name, &import.options)?;
        let data = store::load_upload(&self.db, id).await?;
        let path: PathBuf = std::env::temp_dir().join(format!("kith-import-{id}"));
        tokio::fs::write(&path, &data)
            .await
            .map_err(|e| bad(format!("cannot write a temporary file: {e}")))?;
        drop(data);
        let mut import = import;
        import.status = "running".into();
        let result = self.run(&caller, &path, &req, import, false, &|_| {}).await;
        let _ = tokio::fs::remove_file(&path).await;
        Ok(result?.import)
    }
}
