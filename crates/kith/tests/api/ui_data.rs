//! The web UI in Chromium: the import wizard from upload to undo, and merging a
//! duplicate pair with a chosen value, then undoing it.

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{tempfile_dir, Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_import_wizard_checks_maps_runs_and_undoes_an_import() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let dir = tempfile_dir::Dir::new();
    let path = format!("{}/kunder.csv", dir.path());
    std::fs::write(
        &path,
        "Fornavn;Efternavn;E-mail;Noget andet\nSøren;Kierkegaard;soren@example.dk;x\nÅse;Berg;ikke-en-email;y\nMette;Nielsen;mette@example.dk;z\n",
    )
    .unwrap();
    let b = Browser::open(&app.api.base, "da", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/import").await;
    b.find("#import-file").await.send_keys(&path).await.unwrap();
    b.find("main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('table.mapping') !== null")
        .await;
    assert_eq!(
        b.eval("document.querySelector('#map-2').value").await,
        json!("email"),
        "E-mail guessed as email"
    );
    assert_eq!(
        b.eval("document.querySelector('#map-3').value").await,
        json!("ignore")
    );
    assert_eq!(
        b.eval("document.querySelectorAll('table.preview tr.bad').length")
            .await,
        json!(1),
        "the bad row is shown before anything is stored"
    );
    assert!(b
        .text("table.preview tr.bad")
        .await
        .contains("ikke-en-email"));
    b.screenshot("import-mapping").await;
    b.find("button[value=start]").await.click().await.unwrap();
    // The page reloads itself while the job runs.
    // Counts move with each chunk; "done" comes after the last one.
    b.until("document.querySelector('main').textContent.includes('Færdig')")
        .await;
    assert_eq!(b.text("dd[data-count=created]").await, "2");
    assert_eq!(b.text("dd[data-count=failed]").await, "1");
    b.screenshot("import-done").await;
    let found = app.api.get("/api/v1/contacts?q=soren").await.body;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    b.find("button.danger").await.click().await.unwrap();
    b.until("document.querySelector('main').textContent.includes('Fortrudt')")
        .await;
    let found = app.api.get("/api/v1/contacts?q=soren").await.body;
    assert!(found["data"].as_array().unwrap().is_empty(), "undone");
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_pair_is_merged_with_a_chosen_value_and_undone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let api = &app.api;
    let a = api
        .create("contacts", json!({"first_name": "Søren", "last_name": "Jensen", "phone": "+45 20 12 34 56", "job_title": "CEO"}))
        .await;
    let bb = api
        .create("contacts", json!({"first_name": "Soeren", "last_name": "Jensen", "phone": "20123456", "job_title": "Founder", "email": "soeren@example.dk"}))
        .await;
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/duplicates?object=contacts").await;
    b.find("main form[action^='/duplicates/scan'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('section.pair') !== null")
        .await;
    assert!(b
        .text("section.pair ul.reasons")
        .await
        .to_lowercase()
        .contains("phone"));
    // The pair is shown a → b in id order: pick the other record's job title.
    let (left, right) = if a["id"].as_str() < bb["id"].as_str() {
        (&a, &bb)
    } else {
        (&bb, &a)
    };
    b.find(&format!(
        "input[name='pick.job_title'][value='{}']",
        right["id"].as_str().unwrap()
    ))
    .await
    .click()
    .await
    .unwrap();
    b.screenshot("duplicates-review").await;
    b.find("section.pair button.primary")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('form.notice') !== null")
        .await;
    let merged = api
        .get(&format!(
            "/api/v1/contacts/{}",
            left["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(merged["job_title"], right["job_title"]);
    assert_eq!(merged["email"], "soeren@example.dk", "empty field filled");
    b.find("form.notice button").await.click().await.unwrap();
    b.until("location.pathname.startsWith('/contacts/')").await;
    let back = api
        .get(&format!(
            "/api/v1/contacts/{}",
            left["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(back["job_title"], left["job_title"]);
    let other = api
        .get(&format!(
            "/api/v1/contacts/{}",
            right["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        other.status,
        reqwest::StatusCode::OK,
        "the merged contact is back"
    );
    b.close().await;
    app.finish().await;
}
