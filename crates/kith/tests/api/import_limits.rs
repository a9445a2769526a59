//! What an import refuses that it used to take: values the API would refuse (a note or a
//! company name too long), rows with more values than the header has columns, values in
//! a spreadsheet column without a header, and more new custom fields than a workspace
//! may define. Each refused row stays whole in the error file. And a dry run longer
//! than one chunk says what the run will do.

use kith_app::import::OnDuplicate;
use kith_core::fields::MAX_CUSTOM_FIELDS;
use kith_core::objects::ObjectKind;
use reqwest::StatusCode;
use rust_xlsxwriter::Workbook;
use serde_json::json;

use crate::harness::{both, tempfile_dir, TestApp};
use crate::import::{count, find, import, req, write};

/// A file of one contact with `columns` columns no field matches.
fn wide_csv(columns: usize) -> String {
    let mut head = vec!["Email".to_string()];
    let mut row = vec!["a@example.com".to_string()];
    for c in 0..columns {
        head.push(format!("Extra {c}"));
        row.push(format!("v{c}"));
    }
    format!("{}\n{}\n", head.join(";"), row.join(";"))
}

/// The import's error file as CSV records: header first.
async fn error_file(app: &TestApp, id: uuid::Uuid) -> Vec<Vec<String>> {
    let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
    let bytes = app.app.import_errors_csv(&caller, id).await.unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..])
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

both!(
    values_the_api_would_refuse_are_refused_by_an_import_too,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let long_company = "Z".repeat(201);
        let long_tag = "t".repeat(101);
        let long_note = "n".repeat(100_001);
        let csv = format!(
            "Email,Company,Tags,Notes\n\
             ok@example.com,Acme,vip,Met at the fair\n\
             co@example.com,{long_company},,\n\
             tag@example.com,Acme,{long_tag},\n\
             note@example.com,Acme,,{long_note}\n"
        );
        let path = write(&dir, "long.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "long.csv")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (1, 3), "{i:?}");
        assert_eq!(count(app, "companies").await, 1, "only Acme");
        let rows = error_file(app, i.id).await;
        let reasons: Vec<&str> = rows[1..].iter().map(|r| r[5].as_str()).collect();
        assert_eq!(
            reasons,
            [
                "Company: is longer than 200 characters",
                "Tags: is longer than 100 characters",
                "Notes: is longer than 100000 characters",
            ]
        );
        assert_eq!(rows[3][3].len(), 100_001, "the refused note is kept whole");
        assert_eq!(find(app, "ok@example.com").await.len(), 1);
    }
);

both!(
    a_row_with_more_values_than_columns_is_refused_and_kept_whole,
    |app| async move {
        // Line 3's name holds the delimiter unquoted: stored as it stands, "Hansen"
        // would be the first name and the email would go nowhere.
        let dir = tempfile_dir::Dir::new();
        let csv = "First Name,Email,City\n\
                   Ane,ane@example.com\n\
                   Hansen, Bo,bo@example.com,Aarhus\n\
                   Ida,ida@example.com,Odense,,\n";
        let path = write(&dir, "ragged.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "ragged.csv")).await;
        let i = &report.import;
        assert_eq!(
            (i.created, i.failed),
            (2, 1),
            "short rows and empty extra cells are fine"
        );
        let rows = error_file(app, i.id).await;
        assert_eq!(
            rows[0],
            [
                "First Name",
                "Email",
                "City",
                "Import line",
                "Import errors"
            ]
        );
        assert_eq!(
            rows[1],
            [
                "Hansen",
                " Bo",
                "bo@example.com,Aarhus",
                "3",
                "has 4 values where the header has 3 columns: a value may hold an unquoted `,`; quote it or fix the row"
            ]
        );
        assert!(find(app, "bo@example.com").await.is_empty());
    }
);

both!(
    a_value_in_a_spreadsheet_column_without_a_header_is_refused_and_kept,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["Name", "Email"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(1, 0, "Ane Hansen").unwrap();
        sheet.write_string(1, 1, "ane@example.com").unwrap();
        sheet.write_string(2, 0, "Bo Berg").unwrap();
        sheet.write_string(2, 1, "bo@example.com").unwrap();
        sheet.write_string(2, 3, "call after 5").unwrap();
        let path = write(&dir, "sheet.xlsx", &book.save_to_buffer().unwrap());
        let report = import(app, &path, req(ObjectKind::Contact, "sheet.xlsx")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (1, 1), "{i:?}");
        let rows = error_file(app, i.id).await;
        assert_eq!(
            rows[0],
            [
                "Name",
                "Email",
                "Column 3",
                "Column 4",
                "Import line",
                "Import errors"
            ],
            "the value gets a column of its own, the line and reasons stay in theirs"
        );
        assert_eq!(
            rows[1][..5],
            ["Bo Berg", "bo@example.com", "", "call after 5", "3"]
        );
        assert!(rows[1][5].contains("right of the header row's last column (\"call after 5\")"));
    }
);

both!(
    no_more_custom_fields_than_a_workspace_may_define,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let file = wide_csv;
        // A delimiter gone wrong makes every value a column: refused before anything
        // is written, not 501 new fields.
        let path = write(&dir, "wide.csv", file(MAX_CUSTOM_FIELDS + 1).as_bytes());
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let mut r = req(ObjectKind::Contact, "wide.csv");
        r.create_fields = true;
        let err = app
            .app
            .import_file(&caller, &path, &r, &|_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the file has 501 columns no field matches")
                && err.contains("more than the 500 a workspace may define"),
            "{err}"
        );
        assert_eq!(count(app, "field_definitions").await, 0);
        assert_eq!(count(app, "contacts").await, 0);
        // Up to the limit is fine; one more through the API is refused, naming why.
        let path = write(&dir, "wide.csv", file(MAX_CUSTOM_FIELDS).as_bytes());
        let report = import(app, &path, r).await;
        assert_eq!(report.import.created, 1);
        assert_eq!(count(app, "field_definitions").await, 500);
        let res = app
            .api
            .post(
                "/api/v1/field_definitions",
                json!({"object": "contact", "key": "one_more", "label": "One more", "kind": "text"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert_eq!(
            res.body["error"]["fields"]["object"],
            "contacts already have 500 custom fields, the most a workspace may define; remove unused ones first"
        );
        let res = app
            .api
            .post(
                "/api/v1/field_definitions",
                json!({"object": "company", "key": "one_more", "label": "One more", "kind": "text"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "per object: {}", res.body);
    }
);

both!(
    spelled_out_blanks_are_empty_and_broken_formulas_are_refused,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Name,Email,City,Phone\n\
                   Xa One,x1@example.dk,#N/A,#N/A\n\
                   Xb Two,x2@example.dk,#REF!,\n\
                   Xc Three,x3@example.dk,NULL,\\N\n\
                   Jennifer Null,x4@example.dk,Null,-\n";
        let path = write(&dir, "dump.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "dump.csv")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (3, 1), "{i:?}");
        let one = &find(app, "x1@example.dk").await[0];
        assert_eq!(
            (one["city"].is_null(), one["phone"].is_null()),
            (true, true)
        );
        assert!(find(app, "x3@example.dk").await[0]["city"].is_null());
        let null = &find(app, "x4@example.dk").await[0];
        assert_eq!(
            (&null["last_name"], &null["city"]),
            (&json!("Null"), &json!("Null"))
        );
        let rows = error_file(app, i.id).await;
        assert_eq!(
            rows[1][5],
            "City: `#REF!` is an Excel error from a broken formula, not a value; fix the formula or clear the cell"
        );

        // The same from a workbook, where the error is a cell type of its own.
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in ["Name", "Email", "City"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        sheet.write_string(1, 0, "Yo Berg").unwrap();
        sheet.write_string(1, 1, "yo@example.dk").unwrap();
        let broken = rust_xlsxwriter::Formula::new("=Sheet2!A1").set_result("#REF!");
        sheet.write_formula(1, 2, broken).unwrap();
        let path = write(&dir, "sheet.xlsx", &book.save_to_buffer().unwrap());
        let report = import(app, &path, req(ObjectKind::Contact, "sheet.xlsx")).await;
        assert_eq!(report.import.failed, 1, "{:?}", report.import);
        let rows = error_file(app, report.import.id).await;
        assert_eq!(rows[1][2], "#REF!");
        assert!(
            rows[1][4].starts_with("City: `#REF!` is an Excel error"),
            "{:?}",
            rows[1]
        );
    }
);

both!(
    a_draft_keeps_its_last_good_choices_when_the_file_cannot_take_new_ones,
    |app| async move {
        // In the wizard: ticking "make unknown columns custom fields" on such a file is
        // refused with the reason, and the draft can still be shown and changed.
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let wide = wide_csv(MAX_CUSTOM_FIELDS + 1);
        let draft = app
            .app
            .draft_import(
                &caller,
                wide.as_bytes(),
                &req(ObjectKind::Contact, "wide.csv"),
            )
            .await
            .unwrap();
        let err = app
            .app
            .set_import_mapping(&caller, draft.id, vec![], true, OnDuplicate::Skip)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than the 500"), "{err}");
        let kept = app.app.import_status(&caller, draft.id).await.unwrap();
        assert_eq!(kept.options["create_fields"], false);
        let preview = app.app.preview_import(&caller, draft.id).await.unwrap();
        assert_eq!(preview.rows.len(), 1);
        assert_eq!(count(app, "field_definitions").await, 0);
    }
);

both!(
    a_dry_run_over_several_chunks_counts_what_the_run_stores,
    |app| async move {
        // 12,000 rows are three chunks. Companies named in the first are made (and
        // rolled back) by its check and named again in the next; two later rows repeat
        // earlier ones, one with a new city (an update), one exactly (skipped).
        let dir = tempfile_dir::Dir::new();
        let mut csv = String::from("First Name,Email,Company,City\n");
        for i in 0..12_000 {
            let (email, city) = match i {
                11_000 => ("p10@example.com".to_string(), "Odense"),
                11_500 => ("p20@example.com".to_string(), "Aarhus"),
                _ => (format!("p{i}@example.com"), "Aarhus"),
            };
            let name = if i == 11_500 {
                "P20".to_string()
            } else {
                format!("P{i}")
            };
            let email = if i == 777 {
                "broken".to_string()
            } else {
                email
            };
            csv.push_str(&format!("{name},{email},Company {},{city}\n", i % 7));
        }
        let path = write(&dir, "big.csv", csv.as_bytes());
        let mut dry = req(ObjectKind::Contact, "big.csv");
        dry.dry_run = true;
        dry.on_duplicate = OnDuplicate::Update;
        let checked = import(app, &path, dry).await.import;
        assert_eq!(count(app, "contacts").await, 0);
        assert_eq!(count(app, "companies").await, 0);
        let mut run = req(ObjectKind::Contact, "big.csv");
        run.on_duplicate = OnDuplicate::Update;
        let stored = import(app, &path, run).await.import;
        let counts = |i: &kith_store::imports::Import| (i.created, i.updated, i.skipped, i.failed);
        assert_eq!(counts(&stored), (11_997, 1, 1, 1), "{stored:?}");
        assert_eq!(counts(&checked), counts(&stored));
        assert_eq!(count(app, "companies").await, 7);
    }
);
