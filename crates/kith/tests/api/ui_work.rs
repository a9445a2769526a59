//! The web UI in Chromium, the rest of a working day: custom fields and owners, tasks,
//! settings and invitations, filters, columns, saved views and bulk actions.

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, TestApp};

async fn setup() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_fields_edit_in_place_and_tasks_complete_with_one_click() {
    let app = setup().await;
    let api = &app.api;
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "size", "label": "Shoe size", "kind": "number"}),
    )
    .await;
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "vip", "label": "VIP", "kind": "boolean"}),
    )
    .await;
    api.create(
        "field_definitions",
        json!({"object": "contact", "key": "budget", "label": "Budget", "kind": "money"}),
    )
    .await;
    let c = api
        .create("contacts", json!({"first_name": "Ida", "custom": {"size": 38, "budget": {"amount": 1250000, "currency": "DKK"}}}))
        .await;
    let id = c["id"].as_str().unwrap().to_string();
    api.create(
        "tasks",
        json!({"title": "Send the catalogue", "contact_id": id, "due_at": "2030-01-02T08:00:00Z"}),
    )
    .await;
    app.user("mette@acme.test", kith_app::Role::Member, "acme")
        .await;
    let mette = app
        .app
        .caller_by_email("mette@acme.test")
        .await
        .unwrap()
        .user
        .id;
    let b = Browser::open(&app.api.base, "en", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto(&format!("/contacts/{id}")).await;
    assert_eq!(b.text("button[data-field='custom.size']").await, "38");
    assert_eq!(
        b.text("button[data-field=owner_id]").await,
        "admin@acme.test"
    );
    b.find("button[data-field=owner_id]")
        .await
        .click()
        .await
        .unwrap();
    b.find("select.editor")
        .await
        .select_by_value(&mette.to_string())
        .await
        .unwrap();
    b.find(".editing button").await.click().await.unwrap();
    b.until(
        "document.querySelector('button[data-field=owner_id]').textContent === 'mette@acme.test'",
    )
    .await;
    assert!(
        b.text("main").await.contains("DKK 12,500.00"),
        "money custom field shown"
    );
    b.find("button[data-field='custom.size']")
        .await
        .click()
        .await
        .unwrap();
    let input = b.find("input.editor").await;
    input.clear().await.unwrap();
    input.send_keys("44\n").await.unwrap();
    b.until("document.querySelector('#status').textContent === 'Saved'")
        .await;
    b.find("button[data-field='custom.vip']")
        .await
        .click()
        .await
        .unwrap();
    b.find("select.editor")
        .await
        .select_by_value("true")
        .await
        .unwrap();
    b.find(".editing button").await.click().await.unwrap();
    b.until("document.querySelector('button[data-field=\"custom.vip\"]').textContent === 'Yes'")
        .await;
    b.client.refresh().await.unwrap();
    assert_eq!(b.text("button[data-field='custom.size']").await, "44");
    assert_eq!(b.text("button[data-field='custom.vip']").await, "Yes");
    let saved = api.get(&format!("/api/v1/contacts/{id}")).await;
    assert_eq!(saved.body["custom"]["size"], 44);
    assert_eq!(saved.body["custom"]["vip"], true);

    b.goto("/tasks").await;
    assert!(b.text("ul.tasks").await.contains("Send the catalogue"));
    assert!(
        b.text("ul.tasks").await.contains("2 Jan 2030"),
        "due date shown in the workspace's time zone"
    );
    b.screenshot("tasks").await;
    b.find("ul.tasks button.done").await.click().await.unwrap();
    b.until("document.querySelector('p.empty') !== null").await;
    let tasks = api.get("/api/v1/tasks").await;
    assert_eq!(tasks.body["data"][0]["done"], true);
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_set_up_the_workspace_and_invite_a_colleague_by_link() {
    let app = setup().await;
    let b = Browser::open(&app.api.base, "en", 1200, 1000).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/settings").await;
    let currency = b.find("#ws-currency").await;
    currency.clear().await.unwrap();
    currency.send_keys("eur").await.unwrap();
    b.find("form[action='/settings/workspace'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("location.hash === '#workspace'").await;
    assert_eq!(
        app.api.get("/api/v1/workspace").await.body["currency"],
        "EUR"
    );
    b.find("#pipeline-name")
        .await
        .send_keys("Sales")
        .await
        .unwrap();
    b.find("form[action='/settings/pipelines'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('form[action=\"/settings/stages\"]') !== null")
        .await;
    b.find("form[action='/settings/stages'] input[name=name]")
        .await
        .send_keys("Qualified")
        .await
        .unwrap();
    b.find("form[action='/settings/stages'] input[name=probability]")
        .await
        .send_keys("30")
        .await
        .unwrap();
    b.find("form[action='/settings/stages'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('ol.stages')?.textContent.includes('Qualified')")
        .await;
    // Fix a typo in place.
    b.find("ol.stages button[data-field=name]")
        .await
        .click()
        .await
        .unwrap();
    let input = b.find("ol.stages input.editor").await;
    input.clear().await.unwrap();
    input.send_keys("Kvalificeret\n").await.unwrap();
    b.until("document.querySelector('#status').textContent === 'Saved'")
        .await;
    let stages = app.api.get("/api/v1/stages").await;
    assert_eq!(stages.body["data"][0]["name"], "Kvalificeret");
    b.find("#tag-name")
        .await
        .send_keys("temporary")
        .await
        .unwrap();
    b.find("form[action='/settings/tags'] button")
        .await
        .click()
        .await
        .unwrap();
    b.find(".tag-list form.remove button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('.tag-list li') === null")
        .await;
    assert_eq!(app.api.get("/api/v1/tags").await.body["data"], json!([]));
    b.find("#field-label")
        .await
        .send_keys("Tier")
        .await
        .unwrap();
    b.find("#field-key").await.send_keys("tier").await.unwrap();
    b.find("#field-kind")
        .await
        .select_by_value("select")
        .await
        .unwrap();
    b.find("#field-options")
        .await
        .send_keys("gold, silver")
        .await
        .unwrap();
    b.find("form[action='/settings/field_definitions'] button")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('#fields li')?.textContent.includes('tier')")
        .await;
    let defs = app.api.get("/api/v1/field_definitions").await;
    assert_eq!(defs.body["data"][0]["options"], json!(["gold", "silver"]));
    // A bad key is refused with its reason, and nothing else is lost.
    b.find("#field-label").await.send_keys("Bad").await.unwrap();
    b.find("#field-key")
        .await
        .send_keys("Bad Key")
        .await
        .unwrap();
    b.find("form[action='/settings/field_definitions'] button")
        .await
        .click()
        .await
        .unwrap();
    assert!(b.text(".notice .error").await.contains("key"));

    b.find("#invite-email")
        .await
        .send_keys("Ny.Kollega@acme.test")
        .await
        .unwrap();
    b.find("form[action='/settings/invites'] button")
        .await
        .click()
        .await
        .unwrap();
    let link = b
        .find("input.invite-link")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(link.contains("/invite/"), "{link}");
    b.screenshot("settings").await;
    let path = link
        .split_once("/invite/")
        .map(|(_, t)| format!("/invite/{t}"))
        .unwrap();
    let guest = Browser::open(&app.api.base, "da", 1200, 900).await;
    guest.goto(&path).await;
    assert!(guest.text("main").await.contains("ny.kollega@acme.test"));
    guest
        .find("#name")
        .await
        .send_keys("Ny Kollega")
        .await
        .unwrap();
    guest
        .find("#password")
        .await
        .send_keys("a good long password")
        .await
        .unwrap();
    guest.find("main form button").await.click().await.unwrap();
    guest.until("location.pathname === '/'").await;
    assert_eq!(
        guest.text("details.user-menu summary").await,
        "Ny Kollega",
        "shown by the name given"
    );
    assert_eq!(
        guest.text("header nav a[href='/']").await,
        "Forside",
        "signed in, in the browser's language"
    );
    guest.goto("/settings").await;
    assert_eq!(
        guest.text("p.error").await,
        "Kun administratorer kan ændre indstillinger."
    );
    guest.goto(&path).await;
    assert!(
        guest.text("main").await.contains("brugt eller udløbet"),
        "an invitation works once"
    );
    guest.close().await;
    b.close().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_choose_columns_save_a_view_and_tag_in_bulk() {
    let app = setup().await;
    let api = &app.api;
    api.create("field_definitions", json!({"object": "contact", "key": "tier", "label": "Tier", "kind": "select", "options": ["gold", "silver"]})).await;
    let a = api.create("contacts", json!({"first_name": "Anne", "last_name": "Aarhusianer", "city": "Aarhus", "custom": {"tier": "gold"}})).await;
    let o = api.create("contacts", json!({"first_name": "Ole", "last_name": "Odenseaner", "city": "Odense", "custom": {"tier": "silver"}})).await;
    api.create(
        "contacts",
        json!({"first_name": "Kim", "last_name": "Københavner", "city": "København"}),
    )
    .await;
    let b = Browser::open(&app.api.base, "en", 1300, 1000).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/contacts").await;
    b.find("details.filter summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("#fb-field")
        .await
        .select_by_value("city")
        .await
        .unwrap();
    b.find("#fb-value").await.send_keys("Aarhus").await.unwrap();
    b.find("[data-add-condition]").await.click().await.unwrap();
    assert_eq!(
        b.find("#filter-text")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap(),
        "city = \"Aarhus\""
    );
    b.find("form[data-filter-builder] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelectorAll('#results tbody tr').length === 1")
        .await;
    assert!(b.text("#results tbody").await.contains("Anne Aarhusianer"));
    // Columns, including a custom field.
    b.find("details.columns summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("details.columns input[value='custom.tier']")
        .await
        .click()
        .await
        .unwrap();
    b.find("details.columns button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('#results thead').textContent.includes('Tier')")
        .await;
    // The column form keeps nothing else; filter again by typing the text form.
    b.find("details.filter summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("#filter-text")
        .await
        .send_keys("custom.tier = gold")
        .await
        .unwrap();
    b.find("form[data-filter-builder] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelectorAll('#results tbody tr').length === 1")
        .await;
    assert!(b.text("#results tbody").await.contains("gold"));
    b.find("details.save-view summary")
        .await
        .click()
        .await
        .unwrap();
    b.find("#view-name")
        .await
        .send_keys("Gold customers")
        .await
        .unwrap();
    b.find("details.save-view button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("location.search.includes('view=')").await;
    assert!(b.text("nav.views").await.contains("Gold customers"));
    b.goto("/contacts").await;
    b.find("nav.views a:last-child")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelectorAll('#results tbody tr').length === 1")
        .await;
    assert!(
        b.text("#results thead").await.contains("Tier"),
        "the view keeps its columns"
    );
    b.screenshot("saved-view").await;
    // A filter on an unknown field says why and shows the rest.
    b.goto("/contacts?filter=shoe%20%3D%201").await;
    assert!(b.text("details.filter .error").await.contains("shoe"));
    // Bulk: tag two contacts.
    b.goto("/contacts").await;
    for c in [&a, &o] {
        b.find(&format!("#sel-{}", c["id"].as_str().unwrap()))
            .await
            .click()
            .await
            .unwrap();
    }
    b.find("#bulk-tag").await.send_keys("vip").await.unwrap();
    b.find("form.bulk button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    // The page was /contacts before too: wait for the redirect back, which carries the sort.
    b.until("location.search.includes('sort=')").await;
    let tagged = api
        .get("/api/v1/contacts?filter=tags%20has%20vip&sort=last_name")
        .await;
    let names: Vec<&str> = tagged.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anne", "Ole"]);
    b.close().await;
    app.finish().await;
}
