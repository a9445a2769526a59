//! The web UI in Chromium: a segment made in the form, a refused filter kept for
//! fixing, and the customer value panel of a contact (in Chinese).

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_is_made_in_the_form_and_shown_on_its_members() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let api = &app.api;
    let wei = api
        .create(
            "contacts",
            json!({"first_name": "伟", "last_name": "张", "source": "朋友推荐"}),
        )
        .await;
    let bo = api.create("contacts", json!({"first_name": "Bo"})).await;
    for (who, total) in [(&wei, 800000), (&wei, 450000), (&bo, 10000)] {
        api.create("orders", json!({"contact_id": who["id"], "total": total}))
            .await;
    }
    let b = Browser::open(&app.api.base, "zh-CN", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    b.goto("/segments").await;
    b.find("input[name=name]")
        .await
        .send_keys("大客户")
        .await
        .unwrap();
    // A filter with a typo is refused with the reason, and what was typed stays.
    b.find("textarea[name=filter]")
        .await
        .send_keys("lifetime_valu >= 1000000")
        .await
        .unwrap();
    b.find("main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('p.error') !== null").await;
    assert!(b.text("p.error").await.contains("lifetime_valu"));
    assert_eq!(
        b.eval("document.querySelector('input[name=name]').value")
            .await,
        json!("大客户")
    );
    b.eval("document.querySelector('textarea[name=filter]').value = ''")
        .await;
    b.find("textarea[name=filter]")
        .await
        .send_keys("lifetime_value >= 1000000")
        .await
        .unwrap();
    b.find("main form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    b.until("document.querySelector('[data-segment-count]') !== null")
        .await;
    assert!(b.text("[data-segment-count]").await.contains('1'));
    assert!(b.text("main table").await.contains("张伟"));
    b.screenshot("segment-members").await;
    b.goto(&format!("/contacts/{}", wei["id"].as_str().unwrap()))
        .await;
    let panel = b.text("section.customer-value").await;
    for want in ["2", "大客户", "推荐", "客户终身价值"] {
        assert!(panel.contains(want), "{want} missing from: {panel}");
    }
    b.screenshot("contact-value").await;
    b.close().await;
    app.finish().await;
}
