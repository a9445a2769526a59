//! Rows of cells as CSV text and as an XLSX sheet, each written so that Kith's importer
//! reads the value back as it was.

use chrono::{Datelike, SecondsFormat, Timelike};
use kith_core::import::values::decimals;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::columns::Cell;
use super::failed;
use crate::Error;

/// Money as `parse_money` reads it back to the same minor units: `1234.50` for
/// currencies with two decimals (the currency column names it), `1234 JPY` and
/// `1.2340 KWD` for the others, whose decimals the importer learns from the code (the
/// extra zero keeps `1.234` from reading as one thousand two hundred and thirty-four).
pub(crate) fn money_text(minor: i64, currency: &str, code: bool) -> String {
    let places = decimals(currency);
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(places);
    let mut number = match places {
        0 => abs.to_string(),
        3 => format!("{}.{:03}0", abs / scale, abs % scale),
        p => format!(
            "{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = p as usize
        ),
    };
    let code = code || places != 2;
    if code && !currency.is_empty() {
        number = format!("{number} {currency}");
    }
    match (minor < 0, code) {
        // "(12.00 DKK)": an accountant's minus, which no spreadsheet runs as a formula.
        (true, true) => format!("({number})"),
        (true, false) => format!("-{number}"),
        _ => number,
    }
}

/// Whether `s` is a plain number (a phone number in E.164, a negative amount), which a
/// spreadsheet cannot run however it starts.
fn plain_number(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    body.bytes().any(|b| b.is_ascii_digit())
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b' '))
}

/// Text for a CSV cell. Excel and LibreOffice run a cell that starts with `=`, `+`, `-`
/// or `@` (or a tab or CR) as a formula, so an exported name like `=HYPERLINK(…)` could
/// act on the machine of whoever opens the file: such text gets a leading `'`, as OWASP
/// advises, which spreadsheets show as text. Plain numbers are left alone.
pub(crate) fn csv_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => {
            let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
            if risky && !plain_number(s) {
                format!("'{s}")
            } else {
                s.clone()
            }
        }
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Time(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        Cell::Money {
            minor,
            currency,
            code,
        } => money_text(*minor, currency, *code),
    }
}

/// One CSV chunk: the rows, comma-separated and quoted where needed.
pub(crate) fn csv_rows(rows: &[Vec<String>]) -> Result<Vec<u8>, Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).map_err(failed)?;
    }
    w.into_inner().map_err(failed)
}

/// Longest text a cell of Excel holds.
const MAX_CELL_CHARS: usize = 32_767;
/// Most rows of a sheet, the header included.
const MAX_ROWS: u32 = 1_048_576;

/// An XLSX workbook being written row by row; its rows go to a temporary file, not
/// memory, so a sheet of a million rows costs little.
pub(crate) struct Sheet {
    book: Workbook,
    row: u32,
    date: Format,
    time: Format,
    money: Format,
    /// Excel has no time zones: times are written as the workspace's wall clock, as
    /// people read them and as the importer reads them back.
    zone: chrono_tz::Tz,
}

impl Sheet {
    /// A workbook with one sheet and a bold, frozen header row.
    pub(crate) fn new(headers: &[String], zone: chrono_tz::Tz) -> Result<Sheet, Error> {
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = book.add_worksheet_with_constant_memory().map_err(failed)?;
        ws.set_freeze_panes(1, 0).map_err(failed)?;
        for (i, h) in headers.iter().enumerate() {
            let col = col(i)?;
            ws.set_column_width(col, 16).map_err(failed)?;
            ws.write_string_with_format(0, col, h, &bold)
                .map_err(failed)?;
        }
        Ok(Sheet {
            book,
            row: 1,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            money: Format::new().set_num_format("#,##0.00"),
            zone,
        })
    }

    /// Appends one row.
    pub(crate) fn push(&mut self, cells: &[Cell]) -> Result<(), Error> {
        if self.row >= MAX_ROWS {
            return Err(kith_core::Error::new(
                "export_too_large",
                "an XLSX sheet holds at most 1,048,575 rows; export as CSV or narrow the filter",
            )
            .into());
        }
        let (row, date, time, money) = (self.row, &self.date, &self.time, &self.money);
        let zone = self.zone;
        let ws = self.book.worksheet_from_index(0).map_err(failed)?;
        for (i, cell) in cells.iter().enumerate() {
            let col = col(i)?;
            let text = |ws: &mut rust_xlsxwriter::Worksheet, s: &str| {
                // Longer text does not fit a cell: keep what fits rather than fail.
                let s: String = s.chars().take(MAX_CELL_CHARS / 2).collect();
                ws.write_string(row, col, s).map(|_| ())
            };
            let written = match cell {
                Cell::Empty => Ok(()),
                // Strings are never run as formulas in XLSX: no neutralising needed.
                Cell::Text(s) => text(ws, s),
                Cell::Int(n) => ws.write_number(row, col, *n as f64).map(|_| ()),
                Cell::Float(f) => ws.write_number(row, col, *f).map(|_| ()),
                Cell::Bool(b) => ws.write_boolean(row, col, *b).map(|_| ()),
                Cell::Date(d) => match excel_date(d.year(), d.month(), d.day()) {
                    Some(x) => ws.write_datetime_with_format(row, col, x, date).map(|_| ()),
                    None => text(ws, &d.to_string()),
                },
                Cell::Time(t) => {
                    let t = t.with_timezone(&zone);
                    let x = excel_date(t.year(), t.month(), t.day()).and_then(|x| {
                        x.and_hms(t.hour() as u16, t.minute() as u8, t.second())
                            .ok()
                    });
                    match x {
                        Some(x) => ws.write_datetime_with_format(row, col, x, time).map(|_| ()),
                        None => text(ws, &csv_text(cell)),
                    }
                }
                // Two-decimal money as a number; other currencies as text naming the
                // code, which the importer needs to read their decimals.
                Cell::Money {
                    minor,
                    currency,
                    code: false,
                } if decimals(currency) == 2 => ws
                    .write_number_with_format(row, col, *minor as f64 / 100.0, money)
                    .map(|_| ()),
                Cell::Money { .. } => text(ws, &csv_text(cell)),
            };
            written.map_err(failed)?;
        }
        self.row += 1;
        Ok(())
    }

    /// The finished file.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, Error> {
        self.book.save_to_buffer().map_err(failed)
    }
}

fn col(i: usize) -> Result<u16, Error> {
    u16::try_from(i).map_err(failed)
}

/// Excel's dates start in 1900; earlier ones are written as text.
fn excel_date(year: i32, month: u32, day: u32) -> Option<ExcelDateTime> {
    let year = u16::try_from(year)
        .ok()
        .filter(|y| (1900..=9999).contains(y))?;
    ExcelDateTime::from_ymd(year, month as u8, day as u8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_core::import::values::parse_money;

    #[test]
    fn money_reads_back_to_the_same_minor_units() {
        for (minor, currency, code) in [
            (123_456, "DKK", false),
            (100, "DKK", false),
            (5, "EUR", false),
            (0, "DKK", false),
            (1234, "JPY", false),
            (1500, "KWD", false),
            (1_234_567, "KWD", false),
            (-1250, "DKK", true),
            (99_999_999_999, "CNY", false),
        ] {
            let text = money_text(minor, currency, code);
            let m = parse_money(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(m.minor, minor, "{text}");
            if code || decimals(currency) != 2 {
                assert_eq!(m.currency.as_deref(), Some(currency), "{text}");
            }
        }
        assert_eq!(money_text(123_450, "DKK", false), "1234.50");
    }

    #[test]
    fn formulas_are_neutralised_but_numbers_are_not() {
        let t = |s: &str| csv_text(&Cell::Text(s.into()));
        assert_eq!(t("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(t("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(t("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
        assert_eq!(t("+4520123456"), "+4520123456");
        assert_eq!(t("-12.50"), "-12.50");
        assert_eq!(t("Søren"), "Søren");
    }
}
