//! Importing: encodings and formats from fixture files written here, bad rows reported
//! by line and column, re-runs that create nothing twice, duplicates updated or merged,
//! reverts, the API's background job.

use std::path::{Path, PathBuf};

use kith_app::import::{ImportRequest, OnDuplicate, Report};
use kith_core::objects::ObjectKind;
use kith_store::{Exec, Sql};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, tempfile_dir, TestApp};

pub(crate) fn write(dir: &tempfile_dir::Dir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = PathBuf::from(dir.path()).join(name);
    std::fs::write(&p, bytes).expect("write fixture");
    p
}

pub(crate) async fn import(app: &TestApp, path: &Path, req: ImportRequest) -> Report {
    let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
    app.app
        .import_file(&caller, path, &req, &|_| {})
        .await
        .expect("import runs")
}

/// The rows an import refused, as stored (a run's report lists only a dry run's).
pub(crate) async fn refused(app: &TestApp, import: uuid::Uuid) -> Vec<kith_store::imports::Reject> {
    kith_store::imports::rejects(&mut app.app.db().clone(), import, 0, 100)
        .await
        .unwrap()
}

pub(crate) fn req(object: ObjectKind, name: &str) -> ImportRequest {
    ImportRequest::new(object, name)
}

pub(crate) async fn count(app: &TestApp, table: &str) -> i64 {
    let mut db = app.app.db().clone();
    let row = db
        .fetch_optional(Sql::new(&format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE deleted_at IS NULL"
        )))
        .await
        .unwrap()
        .unwrap();
    row.int("n").unwrap().unwrap()
}

/// Contacts the list's search finds for `q`.
pub(crate) async fn find(app: &TestApp, q: &str) -> Vec<Value> {
    let res = app
        .api
        .get(&format!("/api/v1/contacts?q={}", urlencode(q)))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["data"].as_array().unwrap().clone()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

both!(
    import_stores_good_rows_and_reports_bad_ones_by_line_and_column,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // UTF-8 with BOM and semicolons, as Danish Excel saves "CSV UTF-8".
        let csv = "\u{feff}Fornavn;Efternavn;E-mail;Telefon;Virksomhed;Fødselsdag;Beløb\n\
            Søren;Kierkegaard;SOREN@Example.dk;20 12 34 56;Regnecentralen A/S;5. maj 1963;1\n\
            Anna;Jensen;not-an-email;;;;\n\
            Mette;Nielsen;mette@example.dk;+45 30 11 22 33;Regnecentralen A/S;31/02/1980;\n\
            ;;;;;;\n\
            Lars;Hansen;lars@example.dk;1234;;01.03.1975;\n\
            Ida;Berg;ida@example.dk;+45 40 12 34 56;Lego;1975-04-30;\n";
        let path = write(&dir, "kontakter.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "kontakter.csv");
        r.create_fields = false;
        let report = import(app, &path, r).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed, i.skipped), (2, 3, 0), "{i:?}");
        assert_eq!(i.status, "done");
        assert_eq!(i.rows_done, 5, "the blank line is no row");
        let soren = find(app, "søren").await;
        assert_eq!(soren.len(), 1);
        assert_eq!(soren[0]["email"], "soren@example.dk");
        assert_eq!(soren[0]["phone"], "+4520123456");
        assert_eq!(soren[0]["birthday"], "1963-05-05");
        assert!(soren[0]["company_id"].is_string(), "company linked by name");
        // The company was created once for both rows that name it.
        assert_eq!(count(app, "companies").await, 2);
        let errors = String::from_utf8(
            app.app
                .import_errors_csv(
                    &app.app.caller_by_email("admin@acme.test").await.unwrap(),
                    i.id,
                )
                .await
                .unwrap(),
        )
        .unwrap();
        let lines: Vec<&str> = errors.lines().collect();
        assert_eq!(lines.len(), 4, "{errors}");
        assert!(lines[0].ends_with("Import line,Import errors"), "{errors}");
        assert!(
            lines[1].contains(",3,E-mail: `not-an-email` is not a valid email"),
            "{errors}"
        );
        assert!(lines[2].contains(",4,Fødselsdag:"), "{errors}");
        assert!(lines[3].contains(",6,Telefon:"), "{errors}");
        // Fix the file of refused rows and import it: exactly those rows come in.
        let fixed = errors
            .replace("not-an-email", "anna@example.dk")
            .replace("31/02/1980", "28/02/1980")
            .replace(";1234;", ";+45 22 12 34 56;")
            .replace(",1234,", ",+45 22 12 34 56,");
        let path = write(&dir, "fixed.csv", fixed.as_bytes());
        let again = import(app, &path, req(ObjectKind::Contact, "fixed.csv")).await;
        assert_eq!(
            (again.import.created, again.import.failed),
            (3, 0),
            "{:?}",
            again.rejects
        );
        assert_eq!(count(app, "contacts").await, 5);
    }
);

both!(reimporting_a_file_creates_nothing_twice, |app| async move {
    let dir = tempfile_dir::Dir::new();
    let csv = "First Name,Last Name,Email,Tags\n\
            Ana,Silva,ana@example.com,\"vip, nordic\"\n\
            Ana,Silva,ANA@example.com,vip\n\
            Bo,Ek,bo@example.com,\n\
            Cy,Lu,,\n";
    let path = write(&dir, "c.csv", csv.as_bytes());
    let first = import(app, &path, req(ObjectKind::Contact, "c.csv")).await;
    assert_eq!(
        (first.import.created, first.import.skipped),
        (3, 1),
        "the second Ana row matches the first by email"
    );
    let second = import(app, &path, req(ObjectKind::Contact, "c.csv")).await;
    assert_eq!((second.import.created, second.import.skipped), (0, 4));
    assert_eq!(count(app, "contacts").await, 3);
    let ana = find(app, "ana@example.com").await;
    assert_eq!(ana[0]["tags"], json!(["nordic", "vip"]));
});

both!(
    chinese_gbk_and_danish_windows_1252_files_are_read_right,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let zh = "姓名,手机,邮箱,公司,生日\n张伟,13812345678,zhangwei@example.cn,华为技术有限公司,1990年3月1日\n欧阳娜娜,+86 139 1234 5678,,,\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(zh);
        let path = write(&dir, "客户.csv", &gbk);
        let mut r = req(ObjectKind::Contact, "客户.csv");
        r.region = Some("CN".into());
        let report = import(app, &path, r).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (2, 0),
            "{:?}",
            report.rejects
        );
        assert_eq!(report.import.options["encoding_used"], "gb18030");
        let zw = find(app, "张伟").await;
        assert_eq!(zw.len(), 1);
        assert_eq!(
            (zw[0]["last_name"].as_str(), zw[0]["first_name"].as_str()),
            (Some("张"), Some("伟"))
        );
        assert_eq!(zw[0]["phone"], "+8613812345678");
        assert_eq!(zw[0]["birthday"], "1990-03-01");
        let ouyang = find(app, "欧阳").await;
        assert_eq!(ouyang[0]["last_name"], "欧阳");

        let da = "Fornavn;Efternavn;Telefon;By;Postnr\nSøren;Ærø;20123456;Århus;8000\nÅse;Østergård;30123456;Næstved;4700\n";
        let (cp, _, _) = encoding_rs::WINDOWS_1252.encode(da);
        let path = write(&dir, "dk.csv", &cp);
        let report = import(app, &path, req(ObjectKind::Contact, "dk.csv")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (2, 0),
            "{:?}",
            report.rejects
        );
        assert_eq!(report.import.options["encoding_used"], "windows-1252");
        let aase = find(app, "aase").await;
        assert_eq!(aase[0]["first_name"], "Åse");
        assert_eq!(aase[0]["city"], "Næstved");
        assert_eq!(aase[0]["phone"], "+4530123456", "workspace region DK");
    }
);

both!(vcard_and_xlsx_files_import_like_csv, |app| async move {
    let dir = tempfile_dir::Dir::new();
    let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Nielsen;Mette;;;\r\nFN:Mette Nielsen\r\nEMAIL;TYPE=INTERNET;TYPE=HOME:mette@example.dk\r\nEMAIL;TYPE=INTERNET;TYPE=WORK:mette@work.dk\r\nTEL;TYPE=CELL:+45 30 11 22 33\r\nTEL;TYPE=WORK:+45 70 12 34 56\r\nORG:Lego A/S\r\nBDAY:1980-03-01\r\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n 2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:王芳\r\nN:王;芳;;;\r\nTEL;VALUE=uri;TYPE=cell:tel:+86-139-1234-5678\r\nEND:VCARD\r\n";
    let path = write(&dir, "contacts.vcf", vcf.as_bytes());
    let report = import(app, &path, req(ObjectKind::Contact, "contacts.vcf")).await;
    assert_eq!(
        (report.import.created, report.import.failed),
        (2, 0),
        "{:?}",
        report.rejects
    );
    assert_eq!(report.import.format, "vcard");
    assert!(
        report.notes.iter().any(|n| n.contains("photo")),
        "{:?}",
        report.notes
    );
    let mette = find(app, "mette@work.dk").await;
    assert_eq!(
        mette.len(),
        1,
        "a second email is an identity, found by search"
    );
    assert_eq!(
        mette[0]["phone"], "+4530112233",
        "the mobile is the main phone"
    );
    let ids = mette[0]["identities"].as_array().unwrap();
    assert!(ids.iter().any(|i| i["value"] == "+4570123456"), "{ids:?}");
    assert_eq!(find(app, "王芳").await.len(), 1);

    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Name", "Email", "Company", "Date of Birth"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "Hans Christian Andersen").unwrap();
    sheet.write_string(1, 1, "hca@example.dk").unwrap();
    sheet.write_string(1, 2, "Odense Kommune").unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1955, 4, 2).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_datetime_with_format(1, 3, &date, &fmt).unwrap();
    sheet.write_string(2, 0, "Karen Blixen").unwrap();
    sheet.write_string(2, 1, "karen@").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let path = write(&dir, "people.xlsx", &bytes);
    let report = import(app, &path, req(ObjectKind::Contact, "people.xlsx")).await;
    assert_eq!(
        (report.import.created, report.import.failed),
        (1, 1),
        "{:?}",
        report.rejects
    );
    let hca = find(app, "hca@example.dk").await;
    assert_eq!(hca[0]["first_name"], "Hans Christian");
    assert_eq!(hca[0]["last_name"], "Andersen");
    assert_eq!(hca[0]["birthday"], "1955-04-02");
    let rejects = refused(app, report.import.id).await;
    assert_eq!(rejects[0].line, 3, "row 3 of the sheet");
    assert_eq!(rejects[0].errors[0].0, "Email");
});

both!(
    duplicates_are_updated_or_merged_and_a_revert_restores_them,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let ana = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Ana", "email": "ana@example.com", "job_title": "CEO"}),
            )
            .await;
        let csv = "Email,First Name,Last Name,Job Title,City\nana@example.com,Ana,Silva,CTO,Aarhus\nnew@example.com,New,Person,,\n";
        let path = write(&dir, "a.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "a.csv");
        r.on_duplicate = OnDuplicate::Merge;
        let merged = import(app, &path, r).await;
        assert_eq!((merged.import.created, merged.import.updated), (1, 1));
        let now = app
            .api
            .get(&format!("/api/v1/contacts/{}", ana["id"].as_str().unwrap()))
            .await
            .body;
        assert_eq!(now["job_title"], "CEO", "merge keeps what was there");
        assert_eq!(
            (now["last_name"].as_str(), now["city"].as_str()),
            (Some("Silva"), Some("Aarhus"))
        );

        let csv2 = "Email,Job Title\nana@example.com,CTO\n";
        let path = write(&dir, "b.csv", csv2.as_bytes());
        let mut r = req(ObjectKind::Contact, "b.csv");
        r.on_duplicate = OnDuplicate::Update;
        let updated = import(app, &path, r).await;
        assert_eq!(updated.import.updated, 1);
        let id = ana["id"].as_str().unwrap();
        assert_eq!(
            app.api.get(&format!("/api/v1/contacts/{id}")).await.body["job_title"],
            "CTO"
        );

        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        app.app
            .revert_import(&caller, updated.import.id)
            .await
            .unwrap();
        assert_eq!(
            app.api.get(&format!("/api/v1/contacts/{id}")).await.body["job_title"],
            "CEO"
        );
        // The merge import: its new contact goes, Ana's filled fields empty again.
        let reverted = app
            .app
            .revert_import(&caller, merged.import.id)
            .await
            .unwrap();
        assert_eq!(reverted.status, "reverted");
        let back = app.api.get(&format!("/api/v1/contacts/{id}")).await.body;
        assert_eq!(
            (back["last_name"].clone(), back["city"].clone()),
            (Value::Null, Value::Null)
        );
        assert!(find(app, "new@example.com").await.is_empty());
        assert_eq!(count(app, "contacts").await, 1);
    }
);

both!(
    a_row_merged_into_another_of_its_file_is_found_by_its_values,
    |app| async move {
        // Row 3 shares only the phone that row 2 gave to row 1's new contact: it is the
        // same person, in one chunk as across chunks.
        let dir = tempfile_dir::Dir::new();
        let csv = "Email,First Name,Phone,Job Title\nana@example.com,Ana,,\nana@example.com,Ana,+45 20 12 34 56,\n,,+45 20 12 34 56,CTO\n";
        let path = write(&dir, "a.csv", csv.as_bytes());
        let merge = || {
            let mut r = req(ObjectKind::Contact, "a.csv");
            r.on_duplicate = OnDuplicate::Merge;
            r
        };
        let report = import(app, &path, merge()).await;
        assert_eq!(report.import.created, 1, "{:?}", report.import);
        assert_eq!(count(app, "contacts").await, 1);
        let found = find(app, "ana@example.com").await;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["job_title"], "CTO");
        import(app, &path, merge()).await;
        assert_eq!(count(app, "contacts").await, 1, "a re-run adds nobody");
    }
);

both!(
    the_api_takes_an_upload_and_runs_it_as_a_job,
    |app| async move {
        let csv = "Name,Email,Mobile,Member level\nAna Silva,ana@example.com,+4520123456,gold\nBad,bad@,,\n";
        let res = app
            .api
            .client
            .post(format!(
                "{}/api/v1/imports?object=contacts&file_name=a.csv&create_fields=true&map=Mobile%3Dphone",
                app.api.base
            ))
            .bearer_auth(app.api.token.as_deref().unwrap())
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut status = Value::Null;
        for _ in 0..200 {
            status = app.api.get(&format!("/api/v1/imports/{id}")).await.body;
            if status["status"] == "done" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(status["status"], "done", "{status}");
        assert_eq!(
            (status["created"].as_i64(), status["failed"].as_i64()),
            (Some(1), Some(1))
        );
        let ana = find(app, "ana@example.com").await;
        assert_eq!(
            ana[0]["custom"]["member_level"], "gold",
            "unknown column became a custom field"
        );
        assert_eq!(ana[0]["phone"], "+4520123456");
        let errors = app
            .api
            .client
            .get(format!("{}/api/v1/imports/{id}/errors", app.api.base))
            .bearer_auth(app.api.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(errors.headers()["content-type"], "text/csv; charset=utf-8");
        let text = errors.text().await.unwrap();
        assert!(text.contains("Bad,bad@,,,3,Email:"), "{text}");
        let list = app.api.get("/api/v1/imports").await.body;
        assert_eq!(list["data"][0]["id"], id.as_str());
        // Bad options are refused before anything is stored.
        let res = app
            .api
            .client
            .post(format!("{}/api/v1/imports?object=planets", app.api.base))
            .bearer_auth(app.api.token.as_deref().unwrap())
            .body("a,b\n1,2\n")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = app
            .api
            .client
            .post(format!(
                "{}/api/v1/imports?object=contacts&map=Nope%3Demail",
                app.api.base
            ))
            .bearer_auth(app.api.token.as_deref().unwrap())
            .body("Email\na@b.dk\n")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::ACCEPTED,
            "the mapping is checked when the job reads the file"
        );
    }
);

both!(
    a_dry_run_checks_everything_and_stores_nothing,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Email,First Name\na@example.com,A\nbroken,B\n";
        let path = write(&dir, "d.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "d.csv");
        r.dry_run = true;
        let report = import(app, &path, r).await;
        assert_eq!((report.import.created, report.import.failed), (1, 1));
        assert_eq!(report.rejects[0].line, 3);
        assert_eq!(count(app, "contacts").await, 0);
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        assert!(app.app.imports(&caller).await.unwrap().is_empty());
        // A column the user maps by hand must exist, and the message lists the columns.
        let mut r = req(ObjectKind::Contact, "d.csv");
        r.mapping = vec![("Mail".into(), "email".into())];
        let err = app
            .app
            .import_file(&caller, &path, &r, &|_| {})
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("no column `Mail` (columns: Email, First Name)"),
            "{err}"
        );
    }
);

both!(
    an_import_killed_mid_way_resumes_to_exactly_one_clean_run,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let rows = 30_000;
        let mut csv = String::from("First Name,Last Name,Email,Phone,Company\n");
        for i in 0..rows {
            if i == 777 {
                csv.push_str("Bad,Row,not-an-email,,\n");
            } else {
                csv.push_str(&format!(
                    "Person{i},Family{},p{i}@example.com,+45 {},Company {}\n",
                    i % 97,
                    21_210_000 + i,
                    i % 50
                ));
            }
        }
        let path = write(&dir, "big.csv", csv.as_bytes());
        let run = |db: String, path: PathBuf| {
            std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
                .args(["--db", &db, "import", "contacts"])
                .arg(&path)
                .args(["--user", "admin@acme.test"])
                .env("KITH_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start kith import")
        };
        let mut child = run(app.db_url.clone(), path.clone());
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        // Kill it once some chunks are stored and before it is done.
        let mut killed_at = 0;
        // Generous: the whole suite runs beside it on two cores.
        for _ in 0..12_000 {
            if let Some(i) = app.app.imports(&caller).await.unwrap().first() {
                if i.rows_done > 0 {
                    killed_at = i.rows_done;
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        child.kill().expect("kill -9");
        let out = child.wait_with_output().unwrap();
        assert!(
            killed_at > 0,
            "the import never stored a chunk: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let partial = app.app.imports(&caller).await.unwrap()[0].clone();
        assert!(
            partial.rows_done < rows as i64,
            "killed too late to prove anything: {partial:?}"
        );
        assert_eq!(partial.status, "running");
        let url = app.db_url.clone();
        let out = tokio::task::spawn_blocking(move || run(url, path).wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("resuming an unfinished import"), "{stdout}");
        let all = app.app.imports(&caller).await.unwrap();
        assert_eq!(all.len(), 1, "the same import went on");
        let i = &all[0];
        assert_eq!(i.status, "done");
        assert_eq!(
            (i.rows_done, i.created, i.failed),
            (rows as i64, rows as i64 - 1, 1)
        );
        assert_eq!(count(app, "contacts").await, rows as i64 - 1);
        assert_eq!(count(app, "companies").await, 50);
        let mut db = app.app.db().clone();
        let terms = db
            .fetch_optional(Sql::new(
                "SELECT COUNT(DISTINCT s.doc) AS n FROM search_terms s JOIN search_scopes sc ON sc.scope = s.scope WHERE sc.object = 'contact'",
            ))
            .await
            .unwrap()
            .unwrap()
            .int("n")
            .unwrap()
            .unwrap();
        assert_eq!(terms, rows as i64 - 1, "every contact indexed once");
        assert_eq!(find(app, "p29999@example.com").await.len(), 1);
    }
);
