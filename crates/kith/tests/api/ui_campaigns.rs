//! Campaigns in Chromium, in Danish: a draft refused without a name keeps the choices,
//! is made, refuses a schedule time it cannot read, and is sent from its page; its
//! report shows the message that arrived; a sequence is made from the form and a contact enrolled by email.

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, TestApp};
use crate::mail::{configure, worker};
use crate::mail_servers::SmtpSink;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_is_made_sent_and_reported_and_a_sequence_enrols_in_danish() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sink = SmtpSink::start().await;
    configure(&app, sink.port, None).await;
    let api = &app.api;
    api.post("/api/v1/email-templates", json!({"name": "Julehilsen", "language": "da", "subject": "Glædelig jul, {{ contact.first_name }}", "html": "<p>Hej</p>", "text": ""}))
        .await;
    api.create(
        "segments",
        json!({"name": "Aarhus-kunder", "object": "contact", "filter": "city = Aarhus"}),
    )
    .await;
    api.create("contacts", json!({"first_name": "Åse", "email": "aase@kunde.dk", "city": "Aarhus", "consent": {"email": "granted"}})).await;

    let b = Browser::open(&api.base, "da", 1200, 1000).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/campaigns").await;
    assert!(
        b.text("p.error").await.contains("offentlige adresse"),
        "the missing public address is said first"
    );
    b.eval(&format!(
        "document.querySelector('input[name=public_url]').value = '{}'",
        api.base
    ))
    .await;
    b.find("form[action='/settings/campaigns'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('form[action=\"/campaigns\"]') !== null && document.querySelector('p.error') === null").await;
    // No name: refused, the choices stay.
    b.eval("document.querySelector('input[name=name]').removeAttribute('required')")
        .await;
    b.eval("document.querySelector('input[name=rate_per_minute]').value = '600'")
        .await;
    b.find("form[action='/campaigns'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('p.error') !== null").await;
    assert!(
        b.text("p.error").await.contains("name"),
        "{}",
        b.text("p.error").await
    );
    assert_eq!(
        b.eval("document.querySelector('input[name=rate_per_minute]').value")
            .await,
        json!("600")
    );
    b.find("input[name=name]")
        .await
        .send_keys("Jul 2026")
        .await
        .unwrap();
    b.find("form[action='/campaigns'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('#campaign-send') !== null")
        .await;
    assert!(b.text("h1").await.contains("Kladde"));
    // A schedule time that does not read is refused; it must not send the campaign now.
    b.eval("(() => { const at = document.querySelector('input[name=at]'); at.type = 'text'; at.removeAttribute('required'); at.value = '29.03.2026 kl 2:30'; at.form.submit(); })()").await;
    b.until("document.querySelector('p.error') !== null").await;
    assert!(
        b.text("p.error").await.contains("at:"),
        "{}",
        b.text("p.error").await
    );
    assert!(b.text("h1").await.contains("Kladde"));
    b.find("#campaign-send").await.click().await.unwrap();
    b.until("document.querySelector('h1') && document.querySelector('h1').textContent.includes('Planlagt')").await;
    worker(&app).run_until_idle().await.unwrap();
    let msgs = sink.wait_for(1).await;
    assert_eq!(msgs[0].subject, "Glædelig jul, Åse");
    let here = b.eval("location.pathname").await;
    b.goto(here.as_str().unwrap()).await;
    assert!(b.text("h1").await.contains("Sendt"));
    assert_eq!(b.text("[data-figure=camp-fig-sent]").await, "1");
    assert!(b.text("#campaign-figures").await.contains("Åbnet"));
    b.screenshot("campaign-report-da").await;

    b.goto("/sequences").await;
    b.find("input[name=name]")
        .await
        .send_keys("Velkomst")
        .await
        .unwrap();
    b.eval("document.querySelector('select[name=template0]').selectedIndex = 1")
        .await;
    b.find("form[action='/sequences'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('#enrol') !== null").await;
    assert!(b.text("ol").await.contains("Julehilsen"));
    b.find("input[name=email]")
        .await
        .send_keys("aase@kunde.dk")
        .await
        .unwrap();
    b.find("#enrol").await.click().await.unwrap();
    b.until("document.querySelector('table.list') !== null")
        .await;
    assert!(b.text("table.list").await.contains("Aktiv"));
    b.screenshot("sequence-da").await;
    b.close().await;
    app.finish().await;
}
