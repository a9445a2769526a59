//! PostgreSQL's `COPY … FROM STDIN` for the bulk write path: rows of [`Scalar`]s in
//! COPY's text format, streamed in chunks inside the caller's transaction. Each value is
//! written as the text PostgreSQL reads back to what [`crate::db`]'s binding of the same
//! [`Scalar`] stores, so the two paths fill a table alike.

use std::io::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use kith_core::Scalar;
use sqlx::PgConnection;

use crate::Error;

/// Bytes of encoded rows per `CopyData` message: large enough that per-message costs
/// vanish, small enough that memory stays flat however many rows a load has.
const CHUNK_BYTES: usize = 256 * 1024;

/// Streams `rows` into `table (columns)` with one `COPY … FROM STDIN` on `conn`.
pub(crate) async fn copy_rows(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Scalar>],
) -> Result<(), Error> {
    // As binding does (a NUL would otherwise fail the COPY as a database error).
    for v in rows.iter().flatten() {
        crate::db::refuse_nul(v)?;
    }
    // Names come from our own code, never from input (as in the INSERT path).
    let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut rows = rows.iter();
    let mut ready = Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4);
    let mut spare = Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4);
    fill(&mut ready, &mut rows);
    let mut copy = conn.copy_in_raw(&statement).await?;
    // Double-buffered: the next chunk is encoded while the previous one is written to
    // the socket, and the server parses each chunk while the following one is built.
    while !ready.is_empty() {
        spare.clear();
        let (sent, ()) = tokio::join!(copy.send(ready.as_slice()), async {
            fill(&mut spare, &mut rows)
        });
        // On error `copy` is dropped, which tells the server the COPY failed; the
        // transaction is then aborted like after a failed INSERT.
        sent?;
        std::mem::swap(&mut ready, &mut spare);
    }
    copy.finish().await?;
    Ok(())
}

/// Encodes rows into `buf` until it holds a chunk's worth or the rows run out.
fn fill<'a>(buf: &mut Vec<u8>, rows: &mut impl Iterator<Item = &'a Vec<Scalar>>) {
    while buf.len() < CHUNK_BYTES {
        match rows.next() {
            Some(row) => encode_row(buf, row),
            None => break,
        }
    }
}

/// Appends one row in COPY text format: values separated by tabs, ended by a newline.
pub(crate) fn encode_row(buf: &mut Vec<u8>, row: &[Scalar]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        encode_value(buf, v);
    }
    buf.push(b'\n');
}

/// Appends one value as the text PostgreSQL's input function of its column type reads.
fn encode_value(buf: &mut Vec<u8>, v: &Scalar) {
    // Writing to a Vec cannot fail.
    match v {
        Scalar::Null(_) => buf.extend_from_slice(b"\\N"),
        Scalar::Text(s) => escape(buf, s.as_bytes()),
        Scalar::Int(i) => {
            let _ = write!(buf, "{i}");
        }
        Scalar::Float(f) => encode_float(buf, *f),
        Scalar::Bool(b) => buf.push(if *b { b't' } else { b'f' }),
        Scalar::Uuid(u) => {
            let mut tmp = [0u8; uuid::fmt::Hyphenated::LENGTH];
            buf.extend_from_slice(u.hyphenated().encode_lower(&mut tmp).as_bytes());
        }
        Scalar::Date(d) => encode_date(buf, *d),
        Scalar::Time(t) => encode_time(buf, t),
        Scalar::Json(j) => {
            let _ = serde_json::to_writer(Escaped(buf), j);
        }
    }
}

/// Rust prints the shortest text that reads back to the same bits, which PostgreSQL's
/// `float8in` reads exactly; only the non-finite values are spelled differently.
fn encode_float(buf: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        buf.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        buf.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        let _ = write!(buf, "{f}");
    }
}

/// `YYYY-MM-DD`, with PostgreSQL's ` BC` for years before 1 (chrono's year 0 is 1 BC).
fn encode_date(buf: &mut Vec<u8>, d: NaiveDate) {
    let (year, bc) = era(d.year());
    let _ = write!(buf, "{year:04}-{:02}-{:02}", d.month(), d.day());
    if bc {
        buf.extend_from_slice(b" BC");
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff+00`, first cut to whole microseconds the way the binary
/// encoding does (toward 2000-01-01), so both paths store the same instant even for
/// nanosecond or leap-second values.
fn encode_time(buf: &mut Vec<u8>, t: &DateTime<Utc>) {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MIN);
    let t = t.naive_utc();
    // Out of chrono's microsecond range is far out of PostgreSQL's too: it refuses it.
    let t = (t - epoch)
        .num_microseconds()
        .and_then(|us| epoch.checked_add_signed(TimeDelta::microseconds(us)))
        .unwrap_or(t);
    let (year, bc) = era(t.year());
    let _ = write!(
        buf,
        "{year:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00",
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1000,
    );
    if bc {
        buf.extend_from_slice(b" BC");
    }
}

/// A proleptic year as PostgreSQL writes it: the year number and whether it is BC.
fn era(year: i32) -> (i64, bool) {
    if year > 0 {
        (i64::from(year), false)
    } else {
        (1 - i64::from(year), true)
    }
}

/// Appends `bytes` with COPY's text escapes: backslash, tab (the delimiter), newline and
/// carriage return (row ends). Other bytes pass as they are; all four are ASCII, so a
/// UTF-8 sequence is never split.
fn escape(buf: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(esc);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// A writer that escapes what it is given (serialised JSON) straight into the buffer.
struct Escaped<'a>(&'a mut Vec<u8>);

impl std::io::Write for Escaped<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        escape(self.0, data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kith_core::ScalarType;

    fn encoded(row: &[Scalar]) -> String {
        let mut buf = vec![];
        encode_row(&mut buf, row);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn text_escapes_only_what_copy_reads_specially() {
        let row = [
            Scalar::Text("a\tb\nc\rd\\e \\N 'q\" æøå 张伟".into()),
            Scalar::Text(String::new()),
            Scalar::Null(ScalarType::Text),
        ];
        assert_eq!(
            encoded(&row),
            "a\\tb\\nc\\rd\\\\e \\\\N 'q\" æøå 张伟\t\t\\N\n"
        );
    }

    #[test]
    fn json_is_serialised_then_escaped() {
        let row = [Scalar::Json(serde_json::json!({"k": "t\tn\n\\"}))];
        assert_eq!(encoded(&row), "{\"k\":\"t\\\\tn\\\\n\\\\\\\\\"}\n");
    }

    #[test]
    fn times_and_dates_are_whole_microseconds_with_era() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_999))
            .unwrap()
            .and_utc();
        let before = NaiveDate::from_ymd_opt(1999, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 999_999_500))
            .unwrap()
            .and_utc();
        let row = [
            Scalar::Time(leap),
            Scalar::Time(before),
            Scalar::Date(NaiveDate::from_ymd_opt(0, 3, 1).unwrap()),
            Scalar::Float(f64::NEG_INFINITY),
            Scalar::Bool(false),
        ];
        assert_eq!(
            encoded(&row),
            "2017-01-01 00:00:00.500000+00\t2000-01-01 00:00:00.000000+00\t\
             0001-03-01 BC\t-Infinity\tf\n"
        );
    }
}
