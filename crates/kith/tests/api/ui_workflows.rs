//! The workflow pages in Chromium (in Danish): a workflow built in the form, a refused
//! condition kept for fixing, its run listed, and the notification list.

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, TestApp};
use crate::workflows::settle;

async fn submit(b: &Browser) {
    b.find("main form button.primary")
        .await
        .click()
        .await
        .unwrap();
}

async fn value(b: &Browser, css: &str) -> serde_json::Value {
    b.eval(&format!("document.querySelector('{css}').value"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_is_built_in_the_form_and_its_runs_are_shown() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let t = app.api.post("/api/v1/email-templates", json!({"name": "Hej", "language": "da", "subject": "Hej", "html": "<p>Hej</p>", "text": ""})).await.body;
    let seq = app.api.post("/api/v1/sequences", json!({"name": "Velkomstforløb", "steps": [{"wait_minutes": 60, "template_id": t["id"]}]})).await.body;
    let b = Browser::open(&app.api.base, "da", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/workflows").await;
    assert!(b.text("header nav").await.contains("Arbejdsgange"));
    b.find("input[name=name]")
        .await
        .send_keys("Velkomst")
        .await
        .unwrap();
    b.eval("document.querySelector('select[name=trigger]').value = 'record_created'")
        .await;
    b.find("textarea[name=conditions]")
        .await
        .send_keys("countr = DK")
        .await
        .unwrap();
    b.eval("document.querySelector('select[name=a0_type]').value = 'create_task'")
        .await;
    b.find("input[name=a0_main]")
        .await
        .send_keys("Ring <b>op</b>")
        .await
        .unwrap();
    b.find("input[name=a0_more]")
        .await
        .send_keys("2")
        .await
        .unwrap();
    b.eval("document.querySelector('select[name=a1_type]').value = 'notify'")
        .await;
    b.find("input[name=a1_main]")
        .await
        .send_keys("Ny kontakt")
        .await
        .unwrap();
    // A sequence by its name, as the hint lists them.
    assert!(b.text("main").await.contains("Velkomstforløb"));
    b.eval("document.querySelector('select[name=a2_type]').value = 'enrol_sequence'")
        .await;
    b.find("input[name=a2_main]")
        .await
        .send_keys("Velkomstforløb")
        .await
        .unwrap();
    submit(&b).await;
    b.until("document.querySelector('p.error') !== null").await;
    assert!(b.text("p.error").await.contains("countr"));
    assert_eq!(
        value(&b, "input[name=a0_main]").await,
        json!("Ring <b>op</b>")
    );
    b.eval("document.querySelector('textarea[name=conditions]').value = 'country = DK'")
        .await;
    submit(&b).await;
    b.until(
        "document.querySelector('h1') && document.querySelector('h1').textContent === 'Velkomst'",
    )
    .await;
    assert!(b.text("main").await.contains("Til"));
    let c = app
        .api
        .create("contacts", json!({"first_name": "Mette", "country": "DK"}))
        .await;
    settle(&app).await;
    let enrolled = app
        .api
        .get(&format!(
            "/api/v1/sequences/{}/enrolments",
            seq["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        enrolled.body["data"][0]["contact_id"], c["id"],
        "{}",
        enrolled.body
    );
    b.eval("location.reload()").await;
    b.until("document.querySelector('tr.run-succeeded') !== null")
        .await;
    assert!(b.text("tr.run-succeeded").await.contains("lykkedes"));
    b.screenshot("workflow-runs").await;
    // Edit: the form comes filled with the saved version; saving makes version 2.
    let path = b
        .eval("location.pathname")
        .await
        .as_str()
        .unwrap()
        .to_string();
    b.goto(&format!("{path}/edit")).await;
    assert_eq!(
        value(&b, "input[name=a0_main]").await,
        json!("Ring <b>op</b>")
    );
    assert_eq!(
        value(&b, "textarea[name=conditions]").await,
        json!("country = DK")
    );
    b.eval("document.querySelector('input[name=a1_main]').value = 'Ny dansk kontakt'")
        .await;
    submit(&b).await;
    b.until("document.querySelectorAll('main ul li').length === 2")
        .await;
    assert!(b.text("main pre").await.contains("Ny dansk kontakt"));
    b.goto(&format!("/contacts/{}", c["id"].as_str().unwrap()))
        .await;
    let tl = b.text("ol.timeline").await;
    assert!(tl.contains("Ring <b>op</b>"), "escaped, not markup: {tl}");
    assert!(tl.contains("Velkomst"), "{tl}");
    b.goto("/notifications").await;
    assert!(b.text("main").await.contains("Ny kontakt"));
    b.find("main form button").await.click().await.unwrap();
    b.until("document.querySelector('li.unread') === null")
        .await;
    b.close().await;
    app.finish().await;
}
