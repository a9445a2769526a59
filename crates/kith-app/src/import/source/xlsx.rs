//! The sheet of an XLSX workbook that holds the table, streamed: the first visible sheet
//! with a row of two or more values (a cover sheet with a title is passed over), its
//! header the first such row (title rows above it are skipped). A thread reads the
//! sheet's cells in the
//! order the file holds them and hands over one row at a time, so memory holds the
//! workbook's shared strings and a few hundred rows, not the sheet (which took 75 MB more
//! than CSV at 100,000 rows, growing with the file), and the database writes while the
//! rest of the sheet is still being read.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

use calamine::{DataRef, Reader, Xlsx};

use super::{io, Counting, Opened, RawRow, HEADER_WITHIN};
use crate::import::bad;
use crate::Error;

/// Rows read ahead of the import.
const AHEAD: usize = 256;

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// What the reading thread hands over: the header row first, then the data rows.
enum Sheet {
    Row(RawRow),
    /// The sheet cannot be read from this row (1-based) on.
    Failed(u64, String),
}

/// Opens the table's sheet of the workbook at `path`; its rows come as the thread reads
/// them.
pub(super) fn open(path: &Path, read: Arc<AtomicU64>) -> Result<Opened, Error> {
    let notes = super::Notes::default();
    let thread_notes = notes.clone();
    let file = File::open(path).map_err(|e| io(path, e))?;
    let size = file.metadata().map_err(|e| io(path, e))?.len();
    let counted = Counting {
        inner: BufReader::with_capacity(256 * 1024, file),
        read: read.clone(),
    };
    let (tx, rx) = sync_channel(AHEAD);
    std::thread::Builder::new()
        .name("kith-xlsx".into())
        .spawn(move || {
            if let Err((line, e)) = read_sheet(counted, &tx, &thread_notes) {
                let _ = tx.send(Sheet::Failed(line, e));
            }
            read.store(size, Ordering::Relaxed);
        })
        .map_err(|e| bad(format!("cannot start reading the workbook: {e}")))?;
    let header = match rx.recv() {
        Ok(Sheet::Row(r)) => r,
        Ok(Sheet::Failed(_, e)) => return Err(bad(e)),
        Err(_) => return Err(bad("the workbook's sheets are empty: no header row")),
    };
    let headers: Vec<String> = header
        .cells
        .iter()
        .enumerate()
        .map(|(i, h)| match h.trim() {
            "" => format!("Column {}", i + 1),
            h => h.to_string(),
        })
        .collect();
    let width = headers.len();
    let rows = rx.into_iter().map(move |m| match m {
        // A value in a column without a header would go nowhere: the row waits in the
        // error file until the column is named or the value cleared.
        Sheet::Row(mut r) => {
            if let Some(text) = r.cells.iter().skip(width).find(|c| !c.is_empty()) {
                r.problem.get_or_insert(format!(
                    "has a value right of the header row's last column ({text:?}): name that column in the header row, or clear the value"
                ));
            }
            r
        }
        Sheet::Failed(line, e) => RawRow {
            line,
            cells: vec![],
            problem: Some(format!(
                "the rest of the sheet cannot be read from here on: {e}"
            )),
        },
    });
    Ok(Opened {
        headers,
        preset: None,
        encoding: None,
        delimiter: None,
        notes,
        rows: Box::new(rows),
    })
}

/// One row as its cells arrive: absolute (0-based) column and text.
struct Building {
    row: u32,
    cells: Vec<(u32, String)>,
    problem: Option<String>,
}

/// Whether a sheet's first rows hold one of two or more values (read no further).
fn looks_like_a_table<R: Read + Seek>(book: &mut Xlsx<R>, name: &str) -> bool {
    let Ok(mut cells) = book.worksheet_cells_reader(name) else {
        return false;
    };
    let (mut rows, mut row, mut values) = (0usize, None, 0usize);
    while let Ok(Some(cell)) = cells.next_cell() {
        if text(cell.get_value()).trim().is_empty() {
            continue;
        }
        let at = cell.get_position().0;
        if row == Some(at) {
            values += 1;
            if values >= 2 {
                return true;
            }
        } else {
            rows += 1;
            if rows > HEADER_WITHIN {
                return false;
            }
            (row, values) = (Some(at), 1);
        }
    }
    false
}

/// The sheet to read: the first visible one that looks like a table, else the first
/// visible one, else the first. Says so when the workbook has more than one.
fn choose_sheet<R: Read + Seek>(
    book: &mut Xlsx<R>,
    notes: &super::Notes,
) -> Result<String, (u64, String)> {
    let sheets = book.sheets_metadata().to_vec();
    let visible: Vec<String> = sheets
        .iter()
        .filter(|s| s.visible == calamine::SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect();
    let first = visible
        .first()
        .or(sheets.first().map(|s| &s.name))
        .cloned()
        .ok_or((0, "the workbook has no sheet".to_string()))?;
    let chosen = visible
        .iter()
        .find(|name| looks_like_a_table(book, name))
        .cloned()
        .unwrap_or(first);
    if sheets.len() > 1 {
        let others: Vec<&str> = sheets
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| *n != chosen)
            .collect();
        notes.add(format!(
            "read the sheet \"{chosen}\"; the workbook's other sheets ({}) were not read",
            others.join(", ")
        ));
    }
    Ok(chosen)
}

/// Reads the table's sheet and sends its non-empty rows, the header first; stops quietly
/// when the import stops listening. An error carries the row (1-based) it happened at.
fn read_sheet<R: Read + Seek>(
    reader: R,
    tx: &SyncSender<Sheet>,
    notes: &super::Notes,
) -> Result<(), (u64, String)> {
    let mut book = Xlsx::new(reader).map_err(|e| (0, format!("not a readable XLSX file: {e}")))?;
    let name = choose_sheet(&mut book, notes)?;
    let mut cells = book
        .worksheet_cells_reader(&name)
        .map_err(|e| (0, format!("cannot read the sheet \"{name}\": {e}")))?;
    let declared_start = cells.dimensions().start.1;
    // Columns count from the sheet's first used column, as spreadsheets show the data;
    // set by the header row.
    let mut first_col: Option<u32> = None;
    let mut building: Option<Building> = None;
    // Rows before the header row is known: None once it is.
    let mut held: Option<Vec<Building>> = Some(vec![]);
    loop {
        let at = building.as_ref().map_or(0, |b| b.row as u64 + 1);
        let next = cells
            .next_cell()
            .map_err(|e| (at.max(1), format!("cannot read the sheet: {e}")))?;
        let Some(cell) = next else {
            break;
        };
        let (row, col) = cell.get_position();
        let text = text(cell.get_value());
        // Blank cells are no cells: a row of them is no row, as in CSV.
        if text.trim().is_empty() {
            continue;
        }
        match &mut building {
            Some(b) if b.row == row => b.cells.push((col, text)),
            _ => {
                let problem = match &building {
                    Some(b) if row < b.row => Some(format!(
                        "comes after row {} in the file: the sheet's rows are out of order \
                         (open it in a spreadsheet program and save it again)",
                        b.row + 1
                    )),
                    _ => None,
                };
                if let Some(done) = building.take() {
                    if !finish(done, &mut held, &mut first_col, declared_start, tx, notes) {
                        return Ok(());
                    }
                }
                building = Some(Building {
                    row,
                    cells: vec![(col, text)],
                    problem,
                });
            }
        }
    }
    if let Some(done) = building {
        if !finish(done, &mut held, &mut first_col, declared_start, tx, notes) {
            return Ok(());
        }
    }
    for row in held.into_iter().flatten() {
        if !send(row, &mut first_col, declared_start, tx) {
            break;
        }
    }
    Ok(())
}

/// Hands on a finished row once the header row is known. Until then rows wait: the
/// first with two or more values is the header and those before it are titles, skipped;
/// when none comes within [`HEADER_WITHIN`] rows, the waiting rows go on as they are.
fn finish(
    row: Building,
    held: &mut Option<Vec<Building>>,
    first_col: &mut Option<u32>,
    declared_start: u32,
    tx: &SyncSender<Sheet>,
    notes: &super::Notes,
) -> bool {
    let Some(waiting) = held else {
        return send(row, first_col, declared_start, tx);
    };
    if row.cells.len() >= 2 {
        if let (Some(first), Some(last)) = (waiting.first(), waiting.last()) {
            notes.add(super::title_note(
                "row",
                u64::from(first.row) + 1,
                u64::from(last.row) + 1,
                u64::from(row.row) + 1,
            ));
        }
        *held = None;
        return send(row, first_col, declared_start, tx);
    }
    waiting.push(row);
    if waiting.len() < HEADER_WITHIN {
        return true;
    }
    for row in held.take().into_iter().flatten() {
        if !send(row, first_col, declared_start, tx) {
            return false;
        }
    }
    true
}

/// Sends a finished row (the first one is the header); false when nobody listens.
fn send(
    b: Building,
    first_col: &mut Option<u32>,
    declared_start: u32,
    tx: &SyncSender<Sheet>,
) -> bool {
    let lowest = b.cells.iter().map(|(c, _)| *c).min().unwrap_or(0);
    let start = *first_col.get_or_insert(lowest.min(declared_start));
    let mut problem = b.problem;
    let width = b
        .cells
        .iter()
        .map(|(c, _)| c.saturating_sub(start) as usize + 1)
        .max()
        .unwrap_or(0);
    let mut cells = vec![String::new(); width];
    for (col, text) in b.cells {
        match col.checked_sub(start) {
            Some(i) => cells[i as usize] = text,
            None => {
                problem.get_or_insert(format!(
                    "has a value left of the header row's first column ({text:?})"
                ));
            }
        }
    }
    tx.send(Sheet::Row(RawRow {
        line: b.row as u64 + 1,
        cells,
        problem,
    }))
    .is_ok()
}

/// A cell as text, the way the CSV of the same sheet would hold it.
fn text(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => dt.as_f64().to_string(),
        },
        // As Excel shows it (#REF!), so the row rules know it for what it is.
        DataRef::Error(e) => e.to_string(),
    }
}
