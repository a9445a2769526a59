//! XLSX imports read the table's sheet as it streams: where the data starts, blank rows
//! and cells, numbers and booleans, row numbers in the report past the read-ahead, a
//! cover sheet and title rows passed over, and a file that is not a workbook.

use kith_core::objects::ObjectKind;
use rust_xlsxwriter::Workbook;

use crate::harness::{both, tempfile_dir};
use crate::import::{find, import, req, write};

both!(
    a_sheet_starting_at_b3_with_blank_rows_imports_every_row_by_its_sheet_row,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        // Header at B3 (rows and columns 0-based here), a blank row, a row of spaces.
        for (c, h) in [
            "First name",
            "Last name",
            "Email",
            "Score",
            "Member",
            "Newsletter",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(2, 1 + c as u16, *h).unwrap();
        }
        let rows = 3_000u32;
        for i in 0..rows {
            // Sheet rows 4.. (1-based); row 6 stays blank, row 7 holds only spaces.
            let r = 3 + i + u32::from(i >= 2) * 2;
            sheet.write_string(r, 1, format!("Person{i}")).unwrap();
            sheet.write_string(r, 2, "Østergård").unwrap();
            let email = if i == rows - 2 {
                "broken@".to_string()
            } else {
                format!("p{i}@example.dk")
            };
            sheet.write_string(r, 3, &email).unwrap();
            sheet.write_number(r, 4, f64::from(i) + 0.5).unwrap();
            sheet.write_boolean(r, 5, i % 2 == 0).unwrap();
            sheet.write_boolean(r, 6, i % 3 == 0).unwrap();
        }
        sheet.write_string(6, 2, "   ").unwrap();
        let path = write(&dir, "people.xlsx", &book.save_to_buffer().unwrap());
        let mut r = req(ObjectKind::Contact, "people.xlsx");
        r.create_fields = true;
        let report = import(app, &path, r).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (rows as i64 - 1, 1),
            "{:?}",
            report.rejects
        );
        let rejects = crate::import::refused(app, report.import.id).await;
        // Data row rows-2 sits at 0-based sheet row 3 + (rows-2) + 2: its 1-based number is one more.
        assert_eq!(
            rejects[0].line,
            i64::from(3 + rows - 2 + 2 + 1),
            "{rejects:?}"
        );
        assert_eq!(rejects[0].errors[0].0, "Email");

        let first = find(app, "p0@example.dk").await;
        assert_eq!(first.len(), 1);
        assert_eq!(first[0]["first_name"], "Person0");
        assert_eq!(first[0]["last_name"], "Østergård");
        // Unknown columns become text fields holding what the sheet shows.
        assert_eq!(first[0]["custom"]["score"], "0.5", "{:?}", first[0]);
        assert_eq!(first[0]["custom"]["member"], "true", "{:?}", first[0]);
        // A spreadsheet's TRUE and FALSE under Newsletter are email consent.
        assert_eq!(first[0]["consent"]["email"], "granted");
        let second = find(app, "p1@example.dk").await;
        assert_eq!(second[0]["consent"]["email"], "denied");
        let last = find(app, &format!("p{}@example.dk", rows - 1)).await;
        assert_eq!(last[0]["first_name"], format!("Person{}", rows - 1));
    }
);

both!(
    a_file_that_is_not_a_workbook_is_refused_with_why,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let mut book = Workbook::new();
        book.add_worksheet().write_string(0, 0, "Email").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        // Cut short, as an interrupted download leaves it.
        let path = write(&dir, "cut.xlsx", &bytes[..bytes.len() / 2]);
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let err = app
            .app
            .import_file(
                &caller,
                &path,
                &req(ObjectKind::Contact, "cut.xlsx"),
                &|_| {},
            )
            .await
            .expect_err("a cut workbook is refused");
        assert!(
            err.to_string().contains("not a readable XLSX file"),
            "{err}"
        );
    }
);

both!(
    a_cover_sheet_and_title_rows_are_passed_over_and_said,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let mut book = Workbook::new();
        let cover = book.add_worksheet().set_name("Forside").unwrap();
        cover
            .write_string(0, 0, "Kundeliste eksporteret 2026-03-01")
            .unwrap();
        let hidden = book.add_worksheet().set_name("Skjult").unwrap();
        hidden.set_hidden(true);
        hidden.write_string(0, 0, "Navn").unwrap();
        hidden.write_string(0, 1, "E-mail").unwrap();
        hidden.write_string(1, 0, "Ikke mig").unwrap();
        hidden.write_string(1, 1, "skjult@x.dk").unwrap();
        let sheet = book.add_worksheet().set_name("Kunder").unwrap();
        sheet.write_string(0, 0, "Kunder pr. 1. marts").unwrap();
        sheet.write_string(1, 0, "Fortroligt").unwrap();
        for (c, h) in ["Fornavn", "E-mail"].iter().enumerate() {
            sheet.write_string(3, c as u16, *h).unwrap();
        }
        for (r, (name, email)) in [("Åse", "aase@x.dk"), ("Bo", "bo@x.dk")].iter().enumerate() {
            sheet.write_string(4 + r as u32, 0, *name).unwrap();
            sheet.write_string(4 + r as u32, 1, *email).unwrap();
        }
        // A row of one value below the header is data, not a title.
        sheet.write_string(6, 1, "cy@x.dk").unwrap();
        let path = write(&dir, "kunder.xlsx", &book.save_to_buffer().unwrap());
        let report = import(app, &path, req(ObjectKind::Contact, "kunder.xlsx")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (3, 0),
            "{:?}",
            report.notes
        );
        assert_eq!(
            report.notes,
            [
                "read the sheet \"Kunder\"; the workbook's other sheets (Forside, Skjult) were not read",
                "rows 1–2 above the header row (row 4) read as a title and skipped",
            ]
        );
        assert_eq!(find(app, "aase@x.dk").await[0]["first_name"], "Åse");
        assert!(find(app, "skjult@x.dk").await.is_empty());
        assert_eq!(find(app, "cy@x.dk").await.len(), 1);
    }
);

both!(
    a_spreadsheet_time_cell_completes_its_date_cell,
    |app| async move {
        // Excel keeps a time-only cell as a fraction of a day formatted as a time.
        use rust_xlsxwriter::{ExcelDateTime, Format};
        let dir = tempfile_dir::Dir::new();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["Subject", "Start Date", "Start Time", "Type"]
            .iter()
            .enumerate()
        {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(1, 0, "Kickoff").unwrap();
        sheet.write_string(1, 3, "Møde").unwrap();
        let day = ExcelDateTime::from_ymd(2026, 1, 5).unwrap();
        let time = ExcelDateTime::from_hms(10, 30, 0).unwrap();
        sheet
            .write_datetime_with_format(1, 1, &day, &Format::new().set_num_format("dd-mm-yyyy"))
            .unwrap();
        sheet
            .write_datetime_with_format(1, 2, &time, &Format::new().set_num_format("hh:mm"))
            .unwrap();
        let path = write(&dir, "moeder.xlsx", &book.save_to_buffer().unwrap());
        let report = import(app, &path, req(ObjectKind::Activity, "moeder.xlsx")).await;
        let refused = crate::import::refused(app, report.import.id).await;
        assert_eq!(report.import.created, 1, "{refused:?}");
        let acts = app.api.get("/api/v1/activities").await.body["data"].clone();
        // 10:30 in Copenhagen in winter.
        assert_eq!(acts[0]["occurred_at"], "2026-01-05T09:30:00.000000Z");
    }
);
