//! Files made to be awkward, seeded so a failure replays: CSV with any delimiter, broken
//! quoting, ragged rows, long cells, control characters and bytes of other encodings;
//! vCards with missing ends and folded garbage; workbooks with odd cells and workbooks
//! with a byte flipped. Each import either answers with an error that says why, or
//! accounts for every row it read (created + updated + skipped + refused), stores
//! exactly the refused rows it reports, and adds exactly the contacts it says it created.

use kith_app::import::OnDuplicate;
use kith_core::objects::ObjectKind;
use kith_core::seeded::Rng;
use kith_store::{Exec, Sql};

use crate::harness::{both, tempfile_dir, TestApp};
use crate::import::{count, find, import, req, write};

/// Picks one of `from`.
fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    rng.pick(from).unwrap_or_default()
}

#[rustfmt::skip]
const HEADERS: &[&str] = &[
    "First Name", "Last Name", "Email", "E-mail", "Phone", "Telefon", "手机", "姓名", "邮箱",
    "Company", "Virksomhed", "公司", "Birthday", "Fødselsdag", "Tags", "City", "External ID",
    "Notes", "Beløb", "", "Email", "x\"y", "  ",
];

#[rustfmt::skip]
const CELLS: &[&str] = &[
    "Søren", "Kierkegaard", "张伟", "王", "芳", "Åse", "O'Brien", "", " ", "søren@example.dk",
    "SOREN@EXAMPLE.DK", "not-an-email", "a@b", "+45 20 12 34 56", "20123456",
    "+86 139 1234 5678", "00", "1234", "2026-03-01", "01/03/2026", "2026年3月1日", "1. marts 2026",
    "31/02/1980", "45000", "1.234,56 kr.", "¥1,234.56", "vip, newsletter", "vip;;",
    "=HYPERLINK(\"x\")", "@SUM(A1)", "\u{0}", "\u{feff}", "\u{200b}", "🙂", "line\nbreak",
    "tab\there", "\"", "\"\"", "\"quoted, with comma\"", "back\\slash", "null", "NULL", "\\N",
    "ext-1", "ext-1", "ext-2",
];

fn cell(rng: &mut Rng) -> String {
    match rng.below(40) {
        0 => "x".repeat(1 + rng.below(100_000)),
        1 => (0..rng.below(20))
            .map(|_| rng.next_u64() as u8 as char)
            .collect(),
        _ => pick(rng, CELLS).to_string(),
    }
}

fn csv_file(rng: &mut Rng) -> Vec<u8> {
    let delim = pick(rng, &[",", ";", "\t", "|"]);
    let newline = pick(rng, &["\n", "\r\n", "\r"]);
    let width = 1 + rng.below(8);
    let mut text = String::new();
    if rng.below(3) == 0 {
        text.push('\u{feff}');
    }
    let header: Vec<&str> = (0..width).map(|_| pick(rng, HEADERS)).collect();
    text.push_str(&header.join(delim));
    for _ in 0..rng.below(150) {
        text.push_str(newline);
        // Ragged rows: fewer or more cells than the header.
        let cells: Vec<String> = (0..width + rng.below(3)).map(|_| cell(rng)).collect();
        text.push_str(&cells[..cells.len().saturating_sub(rng.below(3))].join(delim));
    }
    match rng.below(6) {
        // Chinese Excel's encoding, Danish Excel's, or bytes that are neither.
        0 => encoding_rs::GB18030.encode(&text).0.into_owned(),
        1 => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
        2 => {
            let mut b = text.into_bytes();
            for _ in 0..rng.below(20) {
                if !b.is_empty() {
                    let at = rng.below(b.len());
                    b[at] = rng.next_u64() as u8;
                }
            }
            b
        }
        _ => text.into_bytes(),
    }
}

fn vcard_file(rng: &mut Rng) -> Vec<u8> {
    let mut text = String::new();
    for _ in 0..rng.below(40) {
        let line = match rng.below(12) {
            0 => "BEGIN:VCARD".to_string(),
            1 | 2 => "END:VCARD".to_string(),
            3 => format!("FN:{}", cell(rng)),
            4 => format!("N:{};{};;;", cell(rng), cell(rng)),
            5 => format!("EMAIL;TYPE=INTERNET:{}", cell(rng)),
            6 => format!("TEL;TYPE=CELL:{}", cell(rng)),
            7 => format!(
                "PHOTO;ENCODING=b;TYPE=JPEG:{}",
                "QUJD".repeat(rng.below(500))
            ),
            8 => format!(" {}", cell(rng)),
            9 => format!("BDAY:{}", cell(rng)),
            10 => format!("ORG:{};{}", cell(rng), cell(rng)),
            _ => cell(rng),
        };
        text.push_str(&line);
        text.push_str(pick(rng, &["\r\n", "\n"]));
    }
    text.into_bytes()
}

fn xlsx_file(rng: &mut Rng) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let width = 1 + rng.below(6) as u16;
    for c in 0..width {
        sheet.write_string(0, c, pick(rng, HEADERS)).unwrap();
    }
    for r in 1..rng.below(120) as u32 {
        for c in 0..width {
            // Excel refuses cells over 32,767 characters; so does the writer.
            let text: String = cell(rng).chars().take(32_000).collect();
            match rng.below(5) {
                0 => sheet.write_number(r, c, rng.next_u64() as f64 / 1e9 - 9e9),
                1 => sheet.write_boolean(r, c, rng.below(2) == 0),
                _ => sheet.write_string(r, c, &text),
            }
            .unwrap();
        }
    }
    let mut bytes = book.save_to_buffer().unwrap();
    if rng.below(3) == 0 {
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
    }
    bytes
}

async fn rejects_stored(app: &TestApp, import: uuid::Uuid) -> i64 {
    let row = app
        .app
        .db()
        .clone()
        .fetch_optional(
            Sql::new("SELECT COUNT(*) AS n FROM import_rejects WHERE import_id = ")
                .arg(kith_core::Scalar::Uuid(import)),
        )
        .await
        .unwrap()
        .unwrap();
    row.int("n").unwrap().unwrap()
}

both!(
    awkward_files_are_refused_with_why_or_every_row_is_accounted_for,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let mut imported = 0;
        for seed in 1..=36u64 {
            let mut rng = Rng::new(seed);
            let (name, bytes) = match seed % 3 {
                0 => (format!("f{seed}.csv"), csv_file(&mut rng)),
                1 => (format!("f{seed}.vcf"), vcard_file(&mut rng)),
                _ => (format!("f{seed}.xlsx"), xlsx_file(&mut rng)),
            };
            let path = write(&dir, &name, &bytes);
            let mut r = req(ObjectKind::Contact, &name);
            r.on_duplicate =
                [OnDuplicate::Skip, OnDuplicate::Update, OnDuplicate::Merge][rng.below(3)];
            r.create_fields = rng.below(2) == 0;
            let before = count(app, "contacts").await;
            match app.app.import_file(&caller, &path, &r, &|_| {}).await {
                Err(e) => {
                    let why = e.to_string();
                    assert!(
                        why.len() > 10,
                        "seed {seed}: an error that says why: {why:?}"
                    );
                    assert_eq!(count(app, "contacts").await, before, "seed {seed}: {why}");
                }
                Ok(report) => {
                    imported += 1;
                    let i = &report.import;
                    assert_eq!(i.status, "done", "seed {seed}: {i:?}");
                    assert_eq!(
                        i.rows_done,
                        i.created + i.updated + i.skipped + i.failed,
                        "seed {seed}: every row read is accounted for: {i:?}"
                    );
                    assert_eq!(
                        rejects_stored(app, i.id).await,
                        i.failed,
                        "seed {seed}: each refused row is kept for the error file"
                    );
                    assert_eq!(
                        count(app, "contacts").await - before,
                        i.created,
                        "seed {seed}: created is what was added"
                    );
                }
            }
        }
        // The generator must mostly make files that import at all.
        assert!(imported >= 20, "only {imported} of 36 files imported");
    }
);

async fn stored_rejects(app: &TestApp, import: uuid::Uuid) -> Vec<(i64, Vec<String>)> {
    crate::import::refused(app, import)
        .await
        .into_iter()
        .map(|r| (r.line, r.errors.into_iter().map(|(_, m)| m).collect()))
        .collect()
}

both!(
    a_file_with_old_mac_line_breaks_reports_each_bad_row_on_its_own_line,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // Excel for the old Mac OS ends lines with a lone `\r`.
        let csv = "Name,Email\rAne Hansen,ane@example.dk\rBo Berg,not-an-email\r\
                   Cai Dahl,cai@example.dk\rDitte Eg,also-bad\r";
        let path = write(&dir, "mac.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "mac.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (2, 2));
        let lines: Vec<i64> = stored_rejects(app, report.import.id)
            .await
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        assert_eq!(
            lines,
            vec![3, 5],
            "each refused row on its own line, both kept"
        );
    }
);

both!(
    nul_characters_from_old_systems_are_dropped_not_fatal,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // PostgreSQL cannot store NUL: the whole import failed there.
        let csv = "Name,Email,Notes\nAne\0 Hansen,ane@example.dk,padded\0\0\0\nBo\u{1b}Berg,bo@example.dk,\n";
        let path = write(&dir, "nul.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "nul.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (1, 1));
        let ane = find(app, "ane@example.dk").await;
        assert_eq!(ane[0]["first_name"], "Ane");
        // Another control character is refused with the row, which is kept to fix.
        let rejects = stored_rejects(app, report.import.id).await;
        assert_eq!(rejects.len(), 1);
        assert!(rejects[0].1[0].contains("control character"), "{rejects:?}");
    }
);

both!(
    rows_of_one_record_in_one_file_are_counted_and_refused_together,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // Rows 3 and 5 are Ane again and update her; row 4 names an owner who is no
        // user, so Bo is refused, and row 6, Bo again, goes with him.
        let csv = "Name,Email,Phone,Owner\n\
            Ane Hansen,ane@example.dk,,\n\
            Ane Hansen,ane@example.dk,+45 20 12 34 56,\n\
            Bo Berg,bo@example.dk,,nobody@example.dk\n\
            Ane H.,ane@example.dk,,\n\
            Bo Berg,bo@example.dk,+45 30 12 34 56,\n";
        let path = write(&dir, "twice.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "twice.csv");
        r.on_duplicate = OnDuplicate::Update;
        let report = import(app, &path, r).await;
        let i = &report.import;
        assert_eq!(
            (i.rows_done, i.created, i.updated, i.skipped, i.failed),
            (5, 1, 2, 0, 2),
            "every row counted once: {i:?}"
        );
        let ane = find(app, "ane@example.dk").await;
        assert_eq!(ane.len(), 1);
        assert_eq!(ane[0]["phone"], "+4520123456");
        let rejects = stored_rejects(app, i.id).await;
        assert_eq!(rejects.iter().map(|r| r.0).collect::<Vec<_>>(), vec![4, 6]);
        assert!(rejects[1].1[0].contains("line 4"), "{rejects:?}");
        assert!(find(app, "bo@example.dk").await.is_empty());
    }
);
