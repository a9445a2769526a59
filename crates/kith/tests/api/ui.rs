//! The web UI in a real headless Chromium. UI tests run on SQLite only: the pages go
//! through the same kith-app calls that the API tests run on both backends.

use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, TestApp};

async fn setup() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_page_follows_the_browser_language_and_sign_out_works() {
    let app = setup().await;
    let b = Browser::open(&app.api.base, "da-DK", 1200, 900).await;
    b.goto("/contacts").await;
    assert_eq!(
        b.text("h1").await,
        "Log ind på Kith",
        "a signed-out visitor gets the Danish sign-in page"
    );
    b.find("#email")
        .await
        .send_keys("admin@acme.test")
        .await
        .unwrap();
    b.find("#password")
        .await
        .send_keys("wrong password!")
        .await
        .unwrap();
    b.find("main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(b.text("p.error").await, "Forkert e-mail eller adgangskode.");
    b.screenshot("signin-failed-da").await;
    b.sign_in("admin@acme.test").await;
    b.until("location.pathname === '/'").await;
    b.find("details.user-menu summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("form[action='/logout'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("location.pathname === '/login'").await;
    b.goto("/contacts").await;
    b.until("location.pathname === '/login'").await;
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_a_contact_and_edit_a_field_in_place() {
    let app = setup().await;
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/contacts").await;
    assert!(b.text("p.empty").await.contains("No contacts yet"));
    b.find("#new-first_name")
        .await
        .send_keys("Mette")
        .await
        .unwrap();
    b.find("#new-last_name")
        .await
        .send_keys("Frederiksen")
        .await
        .unwrap();
    b.find("#new-phone")
        .await
        .send_keys("20 12 34 56")
        .await
        .unwrap();
    b.find("section.create button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("location.pathname.startsWith('/contacts/')").await;
    assert_eq!(b.text("h1").await, "Mette Frederiksen");
    assert_eq!(b.text("button[data-field=phone]").await, "+4520123456");

    b.find("button[data-field=job_title]")
        .await
        .click()
        .await
        .unwrap();
    let input = b.find("input.editor[name=job_title]").await;
    input.send_keys("Statsminister\n").await.unwrap();
    b.until("document.querySelector('#status').textContent === 'Saved'")
        .await;
    // Escape cancels.
    b.find("button[data-field=city]")
        .await
        .click()
        .await
        .unwrap();
    b.find("input.editor[name=city]")
        .await
        .send_keys("Nowhere\u{E00C}")
        .await
        .unwrap();
    b.until("document.querySelector('input.editor') === null")
        .await;
    b.client.refresh().await.unwrap();
    assert_eq!(
        b.text("button[data-field=job_title]").await,
        "Statsminister",
        "kept after reload"
    );
    assert_eq!(
        b.text("button[data-field=city]").await,
        "—",
        "Escape saved nothing"
    );
    let timeline = b.text("ol.timeline").await;
    assert!(timeline.contains("Changed Job title"), "{timeline}");
    b.screenshot("contact-edited").await;
    // A task due at 09:30 in the workspace's time zone (Copenhagen: UTC+1 in March).
    b.find("#task-what")
        .await
        .send_keys("Call about the budget")
        .await
        .unwrap();
    b.eval("(document.querySelector('#task-due').value = '2030-03-01T09:30') && true")
        .await;
    b.find("form[action$='/tasks'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('ol.timeline').textContent.includes('Call about the budget')")
        .await;
    let tasks = app.api.get("/api/v1/tasks").await;
    assert_eq!(
        tasks.body["data"][0]["due_at"],
        "2030-03-01T08:30:00.000000Z"
    );
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_edit_shows_the_newer_value_and_overwrites_nothing() {
    let app = setup().await;
    let c = app
        .api
        .create(
            "contacts",
            json!({"first_name": "Ana", "job_title": "Buyer"}),
        )
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto(&format!("/contacts/{id}")).await;
    b.find("button[data-field=job_title]").await;
    // Someone else saves first.
    let other = app
        .api
        .send(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            Some(json!({"job_title": "Head of Purchasing"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
    b.find("button[data-field=job_title]")
        .await
        .click()
        .await
        .unwrap();
    let input = b.find("input.editor[name=job_title]").await;
    input.clear().await.unwrap();
    input.send_keys("CEO\n").await.unwrap();
    b.until("document.querySelector('#status').classList.contains('bad')")
        .await;
    let msg = b.text("#status").await;
    assert!(
        msg.contains("Someone else changed this record first"),
        "{msg}"
    );
    assert!(msg.contains("Head of Purchasing"), "{msg}");
    assert_eq!(
        b.text("button[data-field=job_title]").await,
        "Head of Purchasing"
    );
    b.screenshot("stale-edit").await;
    let now = app.api.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(
        now.body["job_title"], "Head of Purchasing",
        "the newer edit was not overwritten"
    );
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_a_chinese_character_finds_the_contact() {
    let app = setup().await;
    app.api
        .create(
            "contacts",
            json!({"first_name": "伟", "last_name": "张", "email": "wei@example.cn"}),
        )
        .await;
    app.api
        .create(
            "contacts",
            json!({"first_name": "Søren", "last_name": "Jensen"}),
        )
        .await;
    let b = Browser::open(&app.api.base, "zh-CN", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/contacts").await;
    assert_eq!(b.text("h1").await, "联系人");
    b.find("#list-q").await.send_keys("张").await.unwrap();
    b.until("document.querySelectorAll('#results tbody tr').length === 1")
        .await;
    assert_eq!(b.text("#results tbody tr td a").await, "张伟");
    b.find("#list-q").await.clear().await.unwrap();
    b.find("#list-q").await.send_keys("soeren").await.unwrap();
    b.until("document.querySelector('#results tbody tr td a')?.textContent === 'Søren Jensen'")
        .await;
    b.screenshot("search-chinese").await;
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dragging_a_deal_to_the_next_stage_is_saved() {
    let app = setup().await;
    let (_, stages) = app.sales_pipeline().await;
    let deal = app
        .api
        .create("deals", json!({"name": "Spring order", "amount": 1250000}))
        .await;
    let b = Browser::open(&app.api.base, "en", 1400, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/deals").await;
    let card = b
        .find(&format!(
            "li.card[data-deal='{}']",
            deal["id"].as_str().unwrap()
        ))
        .await;
    let target = b
        .find(&format!(
            "section.column[data-stage='{}'] ol.cards",
            stages[1]["id"].as_str().unwrap()
        ))
        .await;
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: card,
            duration: None,
            x: 0.0,
            y: -10.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveToElement {
            element: target,
            duration: Some(Duration::from_millis(300)),
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(drag).await.unwrap();
    b.until("document.querySelector('#status').textContent.startsWith('Moved to Proposal')")
        .await;
    b.client.refresh().await.unwrap();
    let column = b
        .find(&format!(
            "section.column[data-stage='{}']",
            stages[1]["id"].as_str().unwrap()
        ))
        .await;
    let text = column.text().await.unwrap();
    assert!(text.contains("Spring order"), "{text}");
    assert!(
        text.contains("DKK 12,500.00"),
        "column total in the column: {text}"
    );
    assert!(text.contains("Weighted DKK 6,250.00"), "{text}");
    b.screenshot("deal-dragged").await;
    b.find("a[href='/deals/list']").await.click().await.unwrap();
    b.until("location.pathname === '/deals/list'").await;
    let row = b.text("#results tbody tr").await;
    assert!(
        row.contains("Spring order") && row.contains("Proposal") && row.contains("DKK 12,500.00"),
        "{row}"
    );
    let saved = app
        .api
        .get(&format!("/api/v1/deals/{}", deal["id"].as_str().unwrap()))
        .await;
    assert_eq!(saved.body["stage_id"], stages[1]["id"]);
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_to_dansk_shows_danish_labels_and_is_remembered() {
    let app = setup().await;
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/contacts").await;
    assert_eq!(b.text("h1").await, "Contacts");
    b.find("details.user-menu summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("button[name=lang][value=da]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.documentElement.lang === 'da'").await;
    assert_eq!(b.text("h1").await, "Kontakter");
    assert_eq!(b.text("header nav a[href='/deals']").await, "Salg");
    b.screenshot("dansk").await;
    // The same menu sets the name the user is shown by; typed markup stays text.
    b.find("details.user-menu summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("#my-name")
        .await
        .send_keys("  Søren <b>Admin</b> ")
        .await
        .unwrap();
    b.find("form.my-name button").await.click().await.unwrap();
    b.until(
        "document.querySelector('details.user-menu summary').textContent === 'Søren <b>Admin</b>'",
    )
    .await;
    assert_eq!(
        b.eval("document.querySelectorAll('details.user-menu summary b').length")
            .await,
        serde_json::json!(0)
    );
    assert_eq!(b.text("h1").await, "Kontakter", "back on the same page");
    assert_eq!(
        app.api.get("/api/v1/me").await.body["name"],
        "Søren <b>Admin</b>"
    );
    // Remembered for the user, not the browser.
    let again = Browser::open(&app.api.base, "en", 1200, 900).await;
    again.sign_in("admin@acme.test").await;
    again.goto("/companies").await;
    assert_eq!(again.text("h1").await, "Virksomheder");
    again.close().await;
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_named_like_html_is_shown_as_text() {
    let app = setup().await;
    let evil = "<img src=x onerror=alert(1)>";
    let c = app
        .api
        .create(
            "contacts",
            json!({"first_name": evil, "last_name": "<script>alert(2)</script>"}),
        )
        .await;
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto(&format!("/contacts/{}", c["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        b.text("h1").await,
        format!("{evil} <script>alert(2)</script>")
    );
    assert_eq!(
        b.eval("document.querySelectorAll('main img, main script').length")
            .await,
        json!(0)
    );
    b.goto("/contacts").await;
    assert!(b.text("#results").await.contains(evil));
    assert_eq!(
        b.eval("document.querySelectorAll('#results img').length")
            .await,
        json!(0)
    );
    b.screenshot("xss-as-text").await;
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_sized_screen_shows_the_contact_page_without_sideways_scrolling() {
    let app = setup().await;
    let company = app
        .api
        .create(
            "companies",
            json!({"name": "Lærkehøj Økologiske Grøntsager og Frugt ApS"}),
        )
        .await;
    let c = app
        .api
        .create("contacts", json!({"first_name": "Bjørn", "last_name": "Østergaard-Aagaard", "email": "bjorn.ostergaard-aagaard@laerkehoej-oekologi.example.dk", "company_id": company["id"], "job_title": "Indkøbschef"}))
        .await;
    app.api.create("activities", json!({"kind": "call", "subject": "Ringede om forårssortimentet", "contact_id": c["id"]})).await;
    let b = Browser::open(&app.api.base, "da", 390, 844).await;
    b.sign_in("admin@acme.test").await;
    b.goto(&format!("/contacts/{}", c["id"].as_str().unwrap()))
        .await;
    b.find("ol.timeline").await;
    let inner = b.eval("window.innerWidth").await.as_i64().unwrap();
    assert!(inner <= 420, "the window is phone-sized ({inner})");
    let overflow = b
        .eval("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        .await;
    assert_eq!(overflow, json!(0), "no horizontal scrolling on a phone");
    b.screenshot("contact-phone").await;
    // Labels are tied to inputs, so screen readers and tapping work.
    assert_eq!(b.eval("[...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')].every(e => e.labels.length > 0 || e.getAttribute('aria-labelledby'))").await, json!(true));
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_a_strict_content_security_policy_and_unknown_pages_are_pages() {
    let app = setup().await;
    let res = app
        .api
        .client
        .get(format!("{}/login", app.api.base))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let res = app
        .api
        .client
        .get(format!("{}/no/such/page", app.api.base))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("页面不存在"));
    // A form post without the session's CSRF token changes nothing.
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    let cookie = b.client.get_named_cookie("kith_session").await.unwrap();
    let res = app
        .api
        .client
        .post(format!("{}/contacts", app.api.base))
        .header("cookie", format!("kith_session={}", cookie.value()))
        .form(&[("first_name", "Forged"), ("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.api.get("/api/v1/contacts").await.body["data"],
        json!([])
    );
    let _ = Locator::Css("x");
    b.close().await;
    app.finish().await;
}
