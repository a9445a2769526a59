//! Exporting: a filtered list as CSV, XLSX and vCard holds exactly its records with
//! their values (Chinese and Danish names included), private views stay private, long
//! lists export whole. The round trip and the calendar feed have files of their own.

use std::io::Cursor;
use std::path::PathBuf;

use calamine::{Data, Reader, Xlsx};
use kith_app::Role;
use kith_core::objects::ObjectKind;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::export_round_trip::{file, import};
use crate::harness::{both, tempfile_dir, Api, TestApp};

/// A download: status, content type, content disposition and the bytes.
pub(crate) struct File {
    pub status: StatusCode,
    pub content_type: String,
    pub disposition: String,
    pub bytes: Vec<u8>,
}

pub(crate) async fn download(api: &Api, path: &str) -> File {
    let mut req = api.client.get(format!("{}{}", api.base, path));
    if let Some(t) = &api.token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request reaches the server");
    let header = |h: &str| {
        res.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (status, content_type, disposition) = (
        res.status(),
        header("content-type"),
        header("content-disposition"),
    );
    let bytes = res.bytes().await.expect("body").to_vec();
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    File {
        status,
        content_type,
        disposition,
        bytes,
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The rows of a CSV export (after its byte order mark), header first.
pub(crate) fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("CSV starts with a byte order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The first sheet of an XLSX export as text cells, header first.
pub(crate) fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book = Xlsx::new(Cursor::new(bytes.to_vec())).expect("a readable XLSX file");
    let range = book.worksheet_range_at(0).expect("a sheet").unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(dt) => dt
                        .as_datetime()
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .collect()
}

/// Rows as maps from header to cell.
pub(crate) fn by_header(rows: &[Vec<String>]) -> Vec<std::collections::HashMap<String, String>> {
    let head = &rows[0];
    rows[1..]
        .iter()
        .map(|r| head.iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

async fn contacts_for_lists(app: &TestApp) -> (Value, Value, Value) {
    let api = &app.api;
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["gold", "silver"]}),
    )
    .await;
    let company = api
        .create("companies", json!({"name": "Ærø Shipping, A/S"}))
        .await;
    let soren = api
        .create(
            "contacts",
            json!({"first_name": "Søren", "last_name": "Ærø-Ødegård", "email": "soren@aero.dk",
                "phone": "+45 20 12 34 56", "birthday": "1963-05-05", "company_id": company["id"],
                "tags": ["vip", "nordic"], "custom": {"tier": "gold"},
                "identities": [{"kind": "email", "value": "soren@home.dk"}]}),
        )
        .await;
    let zhang = api
        .create(
            "contacts",
            json!({"first_name": "伟", "last_name": "张", "email": "zhang.wei@example.cn",
                "job_title": "总经理", "tags": ["vip"]}),
        )
        .await;
    let formula = api
        .create(
            "contacts",
            json!({"first_name": "=HYPERLINK(\"http://evil.test\",\"x\")", "last_name": "Smith",
                "email": "smith@example.com", "tags": ["vip"]}),
        )
        .await;
    api.create(
        "contacts",
        json!({"first_name": "Not", "last_name": "Exported", "email": "no@example.com"}),
    )
    .await;
    (soren, zhang, formula)
}

both!(
    csv_xlsx_and_vcard_hold_exactly_the_filtered_contacts,
    |app| async move {
        let (soren, zhang, formula) = contacts_for_lists(app).await;
        let filter = enc("tags has vip");
        let csv = download(
            &app.api,
            &format!("/api/v1/contacts/export?format=csv&filter={filter}&sort=email"),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.content_type, "text/csv; charset=utf-8");
        assert!(
            csv.disposition
                .starts_with("attachment; filename=\"contacts-")
                && csv.disposition.ends_with(".csv\""),
            "{}",
            csv.disposition
        );
        let rows = csv_rows(&csv.bytes);
        assert_eq!(rows.len(), 4, "header and the three vip contacts: {rows:?}");
        let head = &rows[0];
        for h in [
            "id",
            "first_name",
            "last_name",
            "email",
            "email2",
            "phone",
            "company",
            "owner",
            "tags",
            "custom.tier",
        ] {
            assert!(head.contains(&h.to_string()), "{h} missing from {head:?}");
        }
        let r = by_header(&rows);
        // Sorted by email: smith, soren, zhang.
        assert_eq!(
            r[0]["first_name"], "'=HYPERLINK(\"http://evil.test\",\"x\")",
            "a formula is neutralised"
        );
        assert_eq!(r[0]["id"], formula["id"].as_str().unwrap());
        assert_eq!(r[1]["id"], soren["id"].as_str().unwrap());
        assert_eq!(r[1]["first_name"], "Søren");
        assert_eq!(r[1]["last_name"], "Ærø-Ødegård");
        assert_eq!(
            r[1]["phone"], "+4520123456",
            "a phone number is not neutralised"
        );
        assert_eq!(r[1]["email2"], "soren@home.dk");
        assert_eq!(r[1]["birthday"], "1963-05-05");
        assert_eq!(r[1]["company"], "Ærø Shipping, A/S");
        assert_eq!(r[1]["owner"], "admin@acme.test");
        assert_eq!(r[1]["tags"], "nordic, vip");
        assert_eq!(r[1]["custom.tier"], "gold");
        assert_eq!(r[2]["id"], zhang["id"].as_str().unwrap());
        assert_eq!(
            (r[2]["first_name"].as_str(), r[2]["last_name"].as_str()),
            ("伟", "张")
        );
        assert_eq!(r[2]["job_title"], "总经理");

        let xlsx = download(
            &app.api,
            &format!("/api/v1/contacts/export?format=xlsx&filter={filter}&sort=email"),
        )
        .await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert_eq!(
            xlsx.content_type,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let rows = xlsx_rows(&xlsx.bytes);
        assert_eq!(rows.len(), 4, "{rows:?}");
        let x = by_header(&rows);
        assert_eq!(
            x[0]["first_name"], "=HYPERLINK(\"http://evil.test\",\"x\")",
            "XLSX text is never a formula"
        );
        assert_eq!(x[1]["last_name"], "Ærø-Ødegård");
        assert_eq!(x[1]["birthday"], "1963-05-05 00:00:00", "a real Excel date");
        assert_eq!(x[1]["company"], "Ærø Shipping, A/S");
        assert_eq!(x[2]["first_name"], "伟");
        assert_eq!(x[2]["last_name"], "张");

        let vcf = download(
            &app.api,
            &format!("/api/v1/contacts/export?format=vcard&filter={filter}&sort=email"),
        )
        .await;
        assert_eq!(vcf.status, StatusCode::OK);
        assert_eq!(vcf.content_type, "text/vcard; charset=utf-8");
        let text = String::from_utf8(vcf.bytes).unwrap();
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        }
        let cards: Vec<_> = kith_core::import::vcard::parse(&text)
            .into_iter()
            .map(|c| c.expect("a readable card"))
            .collect();
        assert_eq!(cards.len(), 3);
        let s = &cards[1];
        assert_eq!(s.full_name.as_deref(), Some("Søren Ærø-Ødegård"));
        assert_eq!(s.first_name.as_deref(), Some("Søren"));
        assert_eq!(s.last_name.as_deref(), Some("Ærø-Ødegård"));
        assert_eq!(s.emails, ["soren@aero.dk", "soren@home.dk"]);
        assert_eq!(s.phones[0].value, "+4520123456");
        assert_eq!(s.org.as_deref(), Some("Ærø Shipping, A/S"));
        assert_eq!(s.birthday.as_deref(), Some("19630505"));
        assert_eq!(s.categories, ["nordic", "vip"]);
        assert_eq!(
            s.uid.as_deref(),
            Some(format!("urn:uuid:{}", soren["id"].as_str().unwrap()).as_str())
        );
        let z = &cards[2];
        assert_eq!(z.full_name.as_deref(), Some("张伟"));
        assert_eq!(z.title.as_deref(), Some("总经理"));

        // vCard is for contacts; an unknown format or filter field is refused before any byte.
        let deals = download(&app.api, "/api/v1/deals/export?format=vcard").await;
        assert_eq!(deals.status, StatusCode::UNPROCESSABLE_ENTITY);
        let bad = download(
            &app.api,
            &format!("/api/v1/contacts/export?filter={}", enc("nope = 1")),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let anon = download(&app.anonymous(), "/api/v1/contacts/export").await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    }
);

both!(
    a_private_view_exports_for_its_owner_only,
    |app| async move {
        contacts_for_lists(app).await;
        let view = app
            .api
            .create(
                "views",
                json!({"name": "Danes", "object": "contact", "filter": "email ~ aero",
                    "sort": "email", "columns": ["last_name", "email", "company_id"]}),
            )
            .await;
        let id = view["id"].as_str().unwrap();
        let mine = download(&app.api, &format!("/api/v1/contacts/export?view={id}")).await;
        assert_eq!(mine.status, StatusCode::OK);
        let rows = csv_rows(&mine.bytes);
        assert_eq!(
            rows[0],
            ["id", "first_name", "last_name", "email", "company"],
            "the view's columns"
        );
        assert_eq!(rows.len(), 2, "only Søren's email matches: {rows:?}");
        assert_eq!(rows[1][3], "soren@aero.dk");
        let colleague = app.user("colleague@acme.test", Role::Member, "acme").await;
        let theirs = download(&colleague, &format!("/api/v1/contacts/export?view={id}")).await;
        assert_eq!(
            theirs.status,
            StatusCode::NOT_FOUND,
            "someone else's private view"
        );
        let wrong_object = download(&app.api, &format!("/api/v1/deals/export?view={id}")).await;
        assert_eq!(wrong_object.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Shared, the colleague sees and exports it.
        let res = app
            .api
            .patch(&format!("/api/v1/views/{id}"), json!({"shared": true}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let shared = download(&colleague, &format!("/api/v1/contacts/export?view={id}")).await;
        assert_eq!(shared.status, StatusCode::OK);
        assert_eq!(csv_rows(&shared.bytes).len(), 2);
    }
);

both!(
    a_list_longer_than_a_page_is_exported_whole,
    |app| async move {
        // 1,234 contacts: three pages of the listing behind the export.
        let dir = tempfile_dir::Dir::new();
        let mut csv = String::from("first_name,last_name,email\n");
        for i in 0..1234 {
            csv.push_str(&format!("Person,Nummer {i},p{i}@example.dk\n"));
        }
        import(
            app,
            &file(&dir, "many.csv", csv.as_bytes()).await,
            ObjectKind::Contact,
        )
        .await;
        let all_csv = download(&app.api, "/api/v1/contacts/export?sort=email").await;
        let rows = csv_rows(&all_csv.bytes);
        assert_eq!(rows.len(), 1235);
        let emails: std::collections::BTreeSet<&str> =
            rows[1..].iter().map(|r| r[3].as_str()).collect();
        assert_eq!(emails.len(), 1234, "no row twice, none missing");
        let xlsx = download(&app.api, "/api/v1/contacts/export?format=xlsx&q=nummer").await;
        assert_eq!(xlsx_rows(&xlsx.bytes).len(), 1235);
    }
);

both!(cli_exports_a_filtered_list_to_a_file, |app| async move {
    contacts_for_lists(app).await;
    let dir = tempfile_dir::Dir::new();
    let out = PathBuf::from(dir.path()).join("vip.xlsx");
    let (db, out2) = (app.db_url.clone(), out.clone());
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
            .args([
                "--db",
                &db,
                "export",
                "contacts",
                "--filter",
                "tags has vip and email ~ aero",
                "--user",
                "admin@acme.test",
                "-o",
            ])
            .arg(&out2)
            .env("KITH_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(String::from_utf8_lossy(&status.stderr).contains("exported 1 contacts as xlsx"));
    let rows = xlsx_rows(&std::fs::read(&out).unwrap());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(by_header(&rows)[0]["email"], "soren@aero.dk");
});

/// The list page's export link carries what the page shows, and the API answers it
/// with the session cookie (UI tests run on SQLite only, in a real browser).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_page_links_to_an_export_of_what_it_shows() {
    let app = TestApp::spawn(crate::harness::Backend::Sqlite).await;
    contacts_for_lists(&app).await;
    let b = crate::browser::Browser::open(&app.api.base, "da-DK", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/contacts?filter=tags%20has%20vip&q=s%C3%B8ren")
        .await;
    assert!(b
        .text("p.export")
        .await
        .starts_with("Eksportér denne liste:"));
    let href = b
        .find("p.export a[href*='format=xlsx']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let cookie = b.client.get_named_cookie("kith_session").await.unwrap();
    let res = app
        .api
        .client
        .get(format!("{}{href}", app.api.base))
        .header("cookie", format!("kith_session={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{href}");
    let rows = xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 2, "{href}: {rows:?}");
    assert_eq!(by_header(&rows)[0]["first_name"], "Søren");
    b.close().await;
    app.finish().await;
}
