//! Reading an import file as rows of text cells: CSV in any delimiter and the encodings
//! old systems write, XLSX, and vCard. Runs on a blocking thread; the database side
//! never waits for the disk and the disk never waits for the database.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kith_core::import::{encoding, vcard};

use super::bad;
use crate::Error;

mod xlsx;

/// Rows searched for the header row: the first with two or more values (in a CSV file,
/// two or more fields). A file of one column has none; its first row is the header. Few,
/// since the rows passed over are not imported: title blocks and notes are a line or
/// three.
const HEADER_WITHIN: usize = 5;

/// The note that rows above the header were skipped: `first`..=`last` are 1-based.
fn title_note(unit: &str, first: u64, last: u64, header: u64) -> String {
    let rows = match (first, last) {
        (a, b) if a == b => format!("{unit} {a}"),
        (a, b) => format!("{unit}s {a}–{b}"),
    };
    format!("{rows} above the header {unit} ({unit} {header}) read as a title and skipped")
}

/// The formats Kith reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-, semicolon-, tab- or pipe-separated text.
    Csv,
    /// Excel workbook (the first visible sheet that holds a table).
    Xlsx,
    /// vCard 2.1, 3.0 or 4.0 (phones, Google, Apple).
    Vcard,
}

impl Format {
    /// Its name in options and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Vcard => "vcard",
        }
    }

    /// Parses a format name.
    pub fn parse(s: &str) -> Result<Format, Error> {
        match s.to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "txt" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "vcard" | "vcf" => Ok(Format::Vcard),
            other => Err(bad(format!(
                "unknown format `{other}`: use csv, xlsx or vcard"
            ))),
        }
    }

    /// Guesses the format from the file name and its first bytes.
    pub fn detect(file_name: &str, head: &[u8]) -> Format {
        let lower = file_name.to_ascii_lowercase();
        if head.starts_with(b"PK\x03\x04") || lower.ends_with(".xlsx") {
            Format::Xlsx
        } else if lower.ends_with(".vcf") || lower.ends_with(".vcard") || {
            let text = String::from_utf8_lossy(&head[..head.len().min(512)]);
            text.trim_start_matches('\u{feff}')
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("BEGIN:VCARD")
        } {
            Format::Vcard
        } else {
            Format::Csv
        }
    }
}

/// One data row as read: the line it starts on (1-based) and its cells.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Line (CSV, vCard) or row number (XLSX) where the row starts.
    pub line: u64,
    /// Cell texts, one per column.
    pub cells: Vec<String>,
    /// A problem reading the row itself (bad quoting, undecodable bytes).
    pub problem: Option<String>,
}

/// An opened file: its header row, what was detected, and its rows.
pub struct Opened {
    /// Column names from the first row (vCard: fixed names).
    pub headers: Vec<String>,
    /// Targets fixed by the format (vCard), one per header.
    pub preset: Option<Vec<Option<&'static str>>>,
    /// Text encoding used (CSV).
    pub encoding: Option<&'static str>,
    /// Delimiter used (CSV).
    pub delimiter: Option<char>,
    /// Notes for the summary, some only known once every row is read.
    pub notes: Notes,
    /// The data rows.
    pub rows: Box<dyn Iterator<Item = RawRow> + Send>,
}

/// Notes for an import's summary (e.g. photos skipped), shared with the reader that
/// finds them.
#[derive(Debug, Clone, Default)]
pub struct Notes(Arc<Mutex<Vec<String>>>);

impl Notes {
    fn add(&self, note: String) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(note);
    }

    /// The notes so far.
    pub fn list(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Counts bytes read, for progress by bytes.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    bad(format!("cannot read {}: {e}", path.display()))
}

/// Opens `path` as `format`. `encoding`/`delimiter` override what CSV detection finds.
pub fn open(
    path: &Path,
    format: Format,
    encoding_label: Option<&str>,
    delimiter: Option<char>,
    read: Arc<AtomicU64>,
) -> Result<Opened, Error> {
    let mut opened = match format {
        Format::Csv => open_csv(path, encoding_label, delimiter, read),
        Format::Xlsx => xlsx::open(path, read),
        Format::Vcard => open_vcard(path, encoding_label, read),
    }?;
    // NUL is in no text a person typed (old systems pad fields with it); PostgreSQL
    // cannot store it, and a refused row holding one could not be kept for the error
    // file. It goes, from every format alike.
    for h in &mut opened.headers {
        strip_nul(h);
    }
    let rows = std::mem::replace(&mut opened.rows, Box::new(std::iter::empty()));
    opened.rows = Box::new(rows.map(|mut r| {
        r.cells.iter_mut().for_each(strip_nul);
        r
    }));
    Ok(opened)
}

fn strip_nul(s: &mut String) {
    if s.contains('\0') {
        s.retain(|c| c != '\0');
    }
}

/// Reads text with every line break as `\n`: the CSV reader counts lines by `\n`
/// alone, so in a file saved with `\r` breaks (Excel for the old Mac OS) every row was
/// "line 1", and the refused rows of one file overwrote each other in the error file.
/// It also ends the text with a line break when the file does not, so that every row
/// ends with one and its line can be counted back from where it ends.
struct LineBreaks<R> {
    inner: R,
    /// The last byte handed out was a `\r` turned into `\n`: a `\n` right after it
    /// belongs to the same break.
    after_cr: bool,
    /// The last byte handed out, once there was one.
    last: Option<u8>,
}

impl<R: Read> Read for LineBreaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(match self.last {
                    Some(b) if b != b'\n' && !buf.is_empty() => {
                        buf[0] = b'\n';
                        self.last = Some(b'\n');
                        1
                    }
                    _ => 0,
                });
            }
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[out] = if self.after_cr { b'\n' } else { b };
                out += 1;
            }
            // A read of nothing but the `\n` of a `\r\n` is no end of file.
            if out > 0 {
                self.last = Some(buf[out - 1]);
                return Ok(out);
            }
        }
    }
}

/// A text file being decoded to UTF-8 with `\n` line breaks, and what was found.
struct Text {
    reader: LineBreaks<Box<dyn Read + Send>>,
    encoding: &'static encoding_rs::Encoding,
    /// The decoded first 64 KiB, for sniffing the delimiter.
    sample: String,
}

/// Opens a text file in the encoding `encoding_label` names, or the one it is found in.
fn open_text(
    path: &Path,
    encoding_label: Option<&str>,
    read: Arc<AtomicU64>,
) -> Result<Text, Error> {
    let mut file = File::open(path).map_err(|e| io(path, e))?;
    let mut head = vec![];
    (&mut file)
        .take(encoding::SAMPLE as u64)
        .read_to_end(&mut head)
        .map_err(|e| io(path, e))?;
    let encoding = match encoding_label {
        Some(l) => encoding::by_label(l).map_err(bad)?,
        // The start again, then the rest of the same file only if detection reads on.
        None => {
            let rest = BufReader::with_capacity(256 * 1024, file);
            encoding::detect_file(head.as_slice().chain(rest))
                .map_err(|e| io(path, e))?
                .encoding
        }
    };
    let sample = encoding.decode(&head).0.into_owned();
    let file = File::open(path).map_err(|e| io(path, e))?;
    let counted = Counting {
        inner: BufReader::with_capacity(256 * 1024, file),
        read,
    };
    let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .build(counted);
    Ok(Text {
        reader: LineBreaks {
            inner: Box::new(decoded),
            after_cr: false,
            last: None,
        },
        encoding,
        sample,
    })
}

/// Why a row holding U+FFFD is refused: its bytes were not text in `label`.
fn undecodable(label: &str) -> String {
    format!("holds bytes that are not {label} text; choose the file's encoding with --encoding")
}

fn open_csv(
    path: &Path,
    encoding_label: Option<&str>,
    delimiter: Option<char>,
    read: Arc<AtomicU64>,
) -> Result<Opened, Error> {
    let text = open_text(path, encoding_label, read)?;
    let delim = match delimiter {
        Some(d) if d.is_ascii() => d as u8,
        Some(d) => return Err(bad(format!("delimiter `{d}` must be one ASCII character"))),
        None => encoding::sniff_delimiter(&text.sample),
    };
    let reader = csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(256 * 1024)
        .from_reader(text.reader);
    let mut records = Records { reader };
    let notes = Notes::default();
    // Lines of notes above the header (LinkedIn's Connections.csv has three) hold no
    // delimiter; the header row does, whenever the file has two columns or more.
    let mut waiting: Vec<(csv::StringRecord, u64)> = vec![];
    let found = loop {
        match records.next() {
            Some(Ok(r)) if r.0.len() >= 2 => break Some(r),
            Some(Ok(r)) => {
                waiting.push(r);
                if waiting.len() >= HEADER_WITHIN {
                    break None;
                }
            }
            Some(Err(e)) => {
                let line = e.position().map_or(1, |p| p.line());
                return Err(bad(format!("line {line}: {e}")));
            }
            None => break None,
        }
    };
    let (header, before) = match found {
        Some(h) => {
            if let (Some(a), Some(b)) = (waiting.first(), waiting.last()) {
                notes.add(title_note("line", a.1, b.1, h.1));
            }
            (Some(h), vec![])
        }
        // No row of two columns: the first is the header, the rest are rows.
        None if waiting.is_empty() => (None, vec![]),
        None => {
            let first = waiting.remove(0);
            (Some(first), waiting)
        }
    };
    let headers: Vec<String> = match header {
        Some((r, _)) => r
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = h.trim().trim_start_matches('\u{feff}').trim();
                if h.is_empty() {
                    format!("Column {}", i + 1)
                } else {
                    h.to_string()
                }
            })
            .collect(),
        None => return Err(bad("the file is empty: no header row")),
    };
    let label = text.encoding.name();
    let width = headers.len();
    let records = before.into_iter().map(Ok).chain(records);
    let rows = records.filter_map(move |r| match r {
        Ok((rec, line)) => {
            if rec.iter().all(|c| c.trim().is_empty()) {
                return None;
            }
            let mut problem = rec
                .iter()
                .any(|c| c.contains('\u{fffd}'))
                .then(|| undecodable(label));
            let mut cells: Vec<String> = rec.iter().map(str::to_string).collect();
            if cells.len() > width {
                let extra = cells.split_off(width);
                // More values than columns is nearly always a value holding the
                // delimiter unquoted, which shifts the rest into the wrong columns: the
                // row is refused, its overflow kept in the last column for the fix.
                if extra.iter().any(|c| !c.trim().is_empty()) {
                    problem.get_or_insert_with(|| {
                        format!(
                            "has {} values where the header has {width} columns: a value may hold an unquoted `{}`; quote it or fix the row",
                            width + extra.len(),
                            delim as char
                        )
                    });
                    if let Some(last) = cells.last_mut() {
                        for e in extra {
                            last.push(delim as char);
                            last.push_str(&e);
                        }
                    }
                }
            }
            Some(RawRow {
                line,
                cells,
                problem,
            })
        }
        Err(e) => {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Some(RawRow {
                line,
                cells: vec![],
                problem: Some(format!("cannot be read: {e}")),
            })
        }
    });
    Ok(Opened {
        headers,
        preset: None,
        encoding: Some(label),
        delimiter: Some(delim as char),
        notes,
        rows: Box::new(rows),
    })
}

/// A CSV record and the line it starts on.
type Lined = csv::Result<(csv::StringRecord, u64)>;

/// CSV records with the line each starts on. The csv crate's own position of a record
/// is where blank lines before it begin; counted back from where the record ends (every
/// row ends with a line break, see [`LineBreaks`]) it is the record's first line.
struct Records<R> {
    reader: csv::Reader<R>,
}

impl<R: Read> Iterator for Records<R> {
    type Item = Lined;

    fn next(&mut self) -> Option<Lined> {
        let mut rec = csv::StringRecord::new();
        match self.reader.read_record(&mut rec) {
            Ok(true) => {
                let inside: u64 = rec.iter().map(|f| f.matches('\n').count() as u64).sum();
                let end = self.reader.position().line();
                // A quote left open makes the crate count a line short at the end; its
                // own start is then the better one, and either way each row's line is
                // past the one before.
                let begun = rec.position().map_or(1, |p| p.line());
                Some(Ok((rec, end.saturating_sub(1 + inside).max(begun))))
            }
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The columns a vCard becomes, with the field each fills.
const VCARD_COLUMNS: &[(&str, Option<&str>)] = &[
    ("Full name", Some("full_name")),
    ("First name", Some("first_name")),
    ("Last name", Some("last_name")),
    ("Email", Some("email")),
    ("Other emails", Some("email2")),
    ("Phone", Some("phone")),
    ("Other phones", Some("mobile")),
    ("Company", Some("company")),
    ("Title", Some("job_title")),
    ("Birthday", Some("birthday")),
    ("Street", Some("address_line1")),
    ("City", Some("city")),
    ("Region", Some("region")),
    ("Postcode", Some("postcode")),
    ("Country", Some("country")),
    ("Notes", Some("notes")),
    ("Categories", Some("tags")),
    ("Website", None),
    ("UID", Some("external_id")),
];

fn open_vcard(
    path: &Path,
    encoding_label: Option<&str>,
    read: Arc<AtomicU64>,
) -> Result<Opened, Error> {
    let text = open_text(path, encoding_label, read)?;
    let label = text.encoding.name();
    let notes = Notes::default();
    let mut lines = std::io::BufRead::lines(BufReader::new(text.reader));
    let mut cards = Some(vcard::Cards::default());
    let mut ready = std::collections::VecDeque::new();
    let mut photos = 0;
    let summary = notes.clone();
    let rows = std::iter::from_fn(move || loop {
        if let Some(row) = ready.pop_front() {
            return Some(row);
        }
        let reading = cards.as_mut()?;
        let found = match lines.next() {
            Some(Ok(line)) => reading.line(&line).into_iter().collect(),
            Some(Err(e)) => {
                let line = reading.lines() + 1;
                cards = None;
                vec![Err(vcard::CardError {
                    line,
                    message: format!("cannot be read: {e}"),
                })]
            }
            None => cards.take().map(vcard::Cards::finish).unwrap_or_default(),
        };
        for card in found {
            ready.push_back(match card {
                Ok(c) => {
                    photos += c.skipped.len();
                    let mut row = vcard_row(c);
                    if row.cells.iter().any(|c| c.contains('\u{fffd}')) {
                        row.problem = Some(undecodable(label));
                    }
                    row
                }
                Err(e) => RawRow {
                    line: e.line as u64,
                    cells: vec![],
                    problem: Some(e.message),
                },
            });
        }
        // The photos are counted as the cards go by; the note is known at the end.
        if cards.is_none() && photos > 0 {
            summary.add(format!(
                "{photos} photo(s) or other binary properties were skipped"
            ));
        }
    });
    Ok(Opened {
        headers: VCARD_COLUMNS.iter().map(|(h, _)| h.to_string()).collect(),
        preset: Some(VCARD_COLUMNS.iter().map(|(_, t)| *t).collect()),
        encoding: Some(label),
        delimiter: None,
        notes,
        rows: Box::new(rows),
    })
}

fn vcard_row(c: vcard::Card) -> RawRow {
    // The first mobile-looking number is the phone when none is marked otherwise.
    let mut phones: Vec<String> = c.phones.iter().map(|p| p.value.clone()).collect();
    if let Some(i) = c
        .phones
        .iter()
        .position(|p| p.kinds.iter().any(|k| k == "cell"))
    {
        let p = phones.remove(i);
        phones.insert(0, p);
    }
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    let rest = |v: &[String]| v.iter().skip(1).cloned().collect::<Vec<_>>().join(", ");
    let adr = c.address.unwrap_or(vcard::Address {
        street: None,
        city: None,
        region: None,
        postcode: None,
        country: None,
    });
    let o = |s: Option<String>| s.unwrap_or_default();
    RawRow {
        line: c.line as u64,
        cells: vec![
            o(c.full_name),
            o(c.first_name),
            o(c.last_name),
            first(&c.emails),
            rest(&c.emails),
            first(&phones),
            rest(&phones),
            o(c.org),
            o(c.title),
            o(c.birthday),
            o(adr.street),
            o(adr.city),
            o(adr.region),
            o(adr.postcode),
            o(adr.country),
            o(c.note),
            c.categories.join(", "),
            o(c.url),
            o(c.uid),
        ],
        problem: None,
    }
}
