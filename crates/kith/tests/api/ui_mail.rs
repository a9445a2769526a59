//! Email in Chromium: a Danish template refused for a bad filter (input kept), fixed,
//! previewed for a contact; then a one-off email sent from the contact's page arrives
//! at the SMTP server and shows on the timeline.

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, TestApp};
use crate::mail::{configure, worker};
use crate::mail_servers::SmtpSink;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_danish_template_is_previewed_and_an_email_is_sent_from_the_contact_page() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let sink = SmtpSink::start().await;
    configure(&app, sink.port, None).await;
    let c = app
        .api
        .create(
            "contacts",
            json!({"first_name": "Søren", "last_name": "Æbelø", "email": "soren@kunde.dk"}),
        )
        .await;
    let b = Browser::open(&app.api.base, "da", 1200, 1000).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/email-templates/new").await;
    b.find("#tpl-name")
        .await
        .send_keys("Velkomst")
        .await
        .unwrap();
    b.find("#tpl-subject")
        .await
        .send_keys("Hej {{ contact.first_name | shout }}")
        .await
        .unwrap();
    b.find("#tpl-html")
        .await
        .send_keys("<p>Kære {{ contact.first_name }} {{ contact.last_name }}</p>")
        .await
        .unwrap();
    b.find("#template-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('p.error') !== null").await;
    let error = b.text("p.error").await;
    assert!(
        error.contains("Ikke gemt") && error.contains("shout") && error.contains("line 1, column"),
        "{error}"
    );
    assert_eq!(
        b.eval("document.querySelector('#tpl-html').value").await,
        json!("<p>Kære {{ contact.first_name }} {{ contact.last_name }}</p>"),
        "the refused input stays in the form"
    );
    b.eval("document.querySelector('#tpl-subject').value = ''")
        .await;
    b.find("#tpl-subject")
        .await
        .send_keys("Hej {{ contact.first_name | upcase }}")
        .await
        .unwrap();
    b.find("#template-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('#preview-button') !== null")
        .await;
    b.find("#preview-button").await.click().await.unwrap();
    b.until("document.querySelector('#preview-subject') !== null")
        .await;
    assert_eq!(b.text("#preview-subject").await, "Hej SØREN");
    assert_eq!(b.text("#preview-text").await.trim(), "Kære Søren Æbelø");
    assert!(b.text("h2#preview-title").await.contains("Forhåndsvisning"));
    b.screenshot("mail-template-preview-da").await;

    // From the contact's page, with the template.
    b.goto(&format!("/contacts/{}", c["id"].as_str().unwrap()))
        .await;
    assert_eq!(b.text("#email-title").await, "Send e-mail");
    b.eval("document.querySelector('#email-template').selectedIndex = 1")
        .await;
    b.find("#send-email button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("location.search.includes('email=queued')").await;
    worker(&app).run_until_idle().await.unwrap();
    let m = sink.wait_for(1).await;
    assert_eq!(m[0].subject, "Hej SØREN");
    assert_eq!(m[0].to, "soren@kunde.dk");
    b.goto(&format!("/contacts/{}", c["id"].as_str().unwrap()))
        .await;
    b.until("document.querySelector('.email-status.sent') !== null")
        .await;
    assert_eq!(b.text(".email-status.sent").await, "sendt");
    b.screenshot("mail-contact-sent-da").await;
    b.close().await;
    app.finish().await;
}
