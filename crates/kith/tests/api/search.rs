//! The global search as a salesperson uses it: Chinese and Danish names however typed,
//! phone digits, email parts, prefixes, one typo; notes and tasks; ranking and groups;
//! never another workspace's records, never deleted ones; the CLI and the page.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::harness::{both, Api, Backend, TestApp};

async fn search(api: &Api, q: &str) -> Value {
    let res = api.get(&format!("/api/v1/search?q={}", urlencode(q))).await;
    assert_eq!(res.status, StatusCode::OK, "{q}: {}", res.body);
    res.body
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The titles of one group, best first.
fn titles(body: &Value, group: &str) -> Vec<String> {
    body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["type"] == group)
        .flat_map(|g| g["hits"].as_array().unwrap().clone())
        .map(|h| h["title"]["text"].as_str().unwrap().to_string())
        .collect()
}

/// The marked parts of the first hit's title.
fn first_marks(body: &Value) -> Vec<String> {
    let hit = &body["groups"][0]["hits"][0];
    let text: Vec<char> = hit["title"]["text"].as_str().unwrap().chars().collect();
    hit["title"]["marks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (s, e) = (
                m[0].as_u64().unwrap() as usize,
                m[1].as_u64().unwrap() as usize,
            );
            text[s..e].iter().collect()
        })
        .collect()
}

async fn people(app: &TestApp) {
    let co = app
        .api
        .create(
            "companies",
            json!({"name": "Fjordkraft ApS", "domain": "fjordkraft.dk"}),
        )
        .await;
    for c in [
        json!({"first_name": "伟", "last_name": "张", "email": "wei@example.cn"}),
        json!({"first_name": "三丰", "last_name": "张"}),
        json!({"first_name": "Søren", "last_name": "Jensen", "email": "soeren.jensen@fjordkraft.dk",
               "phone": "+45 20 12 34 56", "company_id": co["id"]}),
        json!({"first_name": "Åse", "last_name": "Andersen"}),
        json!({"first_name": "Ole", "last_name": "Hansen", "phone": "+45 31 41 59 26"}),
    ] {
        app.api.create("contacts", c).await;
    }
}

both!(
    finds_chinese_danish_phones_emails_and_prefixes,
    |app| async move {
        people(app).await;
        let cases: &[(&str, &str)] = &[
            ("张伟", "张伟"),
            ("三丰", "张三丰"),
            ("张三", "张三丰"),
            ("Søren", "Søren Jensen"),
            ("Soeren", "Søren Jensen"),
            ("soren", "Søren Jensen"),
            ("SØR", "Søren Jensen"),
            ("Åse", "Åse Andersen"),
            ("Aase", "Åse Andersen"),
            ("ase", "Åse Andersen"),
            ("jen", "Søren Jensen"),
            ("s j", "Søren Jensen"),
            ("2012 3456", "Søren Jensen"),
            ("+45 20 12", "Søren Jensen"),
            ("0045 3141", "Ole Hansen"),
            ("soeren.jensen@fj", "Søren Jensen"),
            ("fjordkraft", "Søren Jensen"),
        ];
        for (q, want) in cases {
            let body = search(&app.api, q).await;
            let contacts = titles(&body, "contacts");
            assert_eq!(
                contacts.first().map(String::as_str),
                Some(*want),
                "{q}: {body}"
            );
            assert_eq!(body["corrected"], false, "{q}");
        }
        let body = search(&app.api, "张").await;
        assert_eq!(titles(&body, "contacts").len(), 2, "both 张 found: {body}");
        let body = search(&app.api, "张伟").await;
        assert_eq!(titles(&body, "contacts"), ["张伟"], "张伟 is not 张三丰");
        assert_eq!(first_marks(&body), ["张伟"]);
        assert_eq!(first_marks(&search(&app.api, "jen").await), ["Jen"]);
        assert_eq!(first_marks(&search(&app.api, "soren").await), ["Søren"]);
        // The company is found by its name, and the email part is marked in context.
        let body = search(&app.api, "fjordkraft").await;
        assert_eq!(titles(&body, "companies"), ["Fjordkraft ApS"]);
        let soeren = &body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["type"] == "contacts")
            .unwrap()["hits"][0];
        assert_eq!(soeren["context"]["field"], "email");
        assert_eq!(
            soeren["url"],
            format!("/contacts/{}", soeren["id"].as_str().unwrap())
        );
        // Phones mark the digits typed.
        let body = search(&app.api, "2012 3456").await;
        let ctx = &body["groups"][0]["hits"][0]["context"];
        assert_eq!(ctx["field"], "phone");
        assert_eq!(ctx["marks"], json!([[3, 11]]), "{ctx}");
    }
);

both!(
    one_typo_in_a_long_word_still_finds_the_name,
    |app| async move {
        people(app).await;
        for q in ["Jensne", "Jnesen", "Jensn", "jensem", "Soeren Jensne"] {
            let body = search(&app.api, q).await;
            assert_eq!(titles(&body, "contacts"), ["Søren Jensen"], "{q}: {body}");
            assert_eq!(body["corrected"], true, "{q}");
            assert_eq!(body["groups"][0]["hits"][0]["typo"], true);
        }
        assert_eq!(first_marks(&search(&app.api, "Jnesen").await), ["Jensen"]);
        assert_eq!(
            titles(&search(&app.api, "Andersn").await, "contacts"),
            ["Åse Andersen"]
        );
        // Two typos, or a typo in a short word, find nothing.
        for q in ["Jnesne", "Jnes", "Zzzzzzz"] {
            assert_eq!(search(&app.api, q).await["groups"], json!([]), "{q}");
        }
    }
);

both!(
    notes_tasks_and_deals_are_grouped_and_ranked,
    |app| async move {
        let (_, stages) = app.sales_pipeline().await;
        let jens = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Jens", "last_name": "Jensen"}),
            )
            .await;
        app.api
            .create(
                "contacts",
                json!({"first_name": "Peter", "last_name": "Jensenius"}),
            )
            .await;
        app.api
            .create(
                "contacts",
                json!({"first_name": "Ana", "last_name": "Lund", "email": "jensen@lund.dk"}),
            )
            .await;
        app.api
            .create("deals", json!({"name": "Jensen roof renovation", "stage_id": stages[0]["id"], "contact_id": jens["id"]}))
            .await;
        app.api
            .create(
                "deals",
                json!({"name": "Jensen old roof", "stage_id": stages[3]["id"]}),
            )
            .await;
        let note = app
            .api
            .create("activities", json!({"kind": "note", "body": "Called Mr Jensen about the roof; he wants a new offer before Christmas.", "contact_id": jens["id"]}))
            .await;
        app.api
            .create("activities", json!({"kind": "meeting", "subject": "Site visit", "body": "Measured the roof", "contact_id": jens["id"]}))
            .await;
        app.api
            .create("tasks", json!({"title": "Send the offer", "notes": "Jensen wants it by Friday", "contact_id": jens["id"]}))
            .await;
        let body = search(&app.api, "jensen").await;
        // Whole word in the name, then a longer name, then the email.
        assert_eq!(
            titles(&body, "contacts"),
            ["Jens Jensen", "Peter Jensenius", "Ana Lund"],
            "{body}"
        );
        // The open deal before the lost one.
        assert_eq!(
            titles(&body, "deals"),
            ["Jensen roof renovation", "Jensen old roof"]
        );
        let groups: Vec<&str> = body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["type"].as_str().unwrap())
            .collect();
        assert_eq!(groups[0], "contacts", "the best hit's group comes first");
        for g in ["activities", "tasks"] {
            assert!(groups.contains(&g), "{g} missing: {groups:?}");
        }
        let activity = body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["type"] == "activities")
            .unwrap();
        let hit = &activity["hits"][0];
        assert_eq!(hit["id"], note["id"]);
        assert_eq!(hit["context"]["field"], "body");
        assert_eq!(
            hit["url"],
            format!("/contacts/{}", jens["id"].as_str().unwrap())
        );
        // Words from a meeting's body and a task's notes; types and limit narrow it.
        let body = search(&app.api, "measured roof").await;
        assert_eq!(titles(&body, "activities"), ["Site visit"]);
        let body = app
            .api
            .get("/api/v1/search?q=jensen&types=contacts,tasks&limit=1")
            .await
            .body;
        let groups = body["groups"].as_array().unwrap();
        assert_eq!(groups.len(), 2, "{body}");
        assert_eq!(groups[0]["hits"].as_array().unwrap().len(), 1);
        assert_eq!(groups[0]["more"], true);
        let body = app
            .api
            .get("/api/v1/search?q=friday&types=notes")
            .await
            .body;
        assert_eq!(
            body["groups"],
            json!([]),
            "notes means activities, not tasks"
        );
        // Lists take q= on activities and tasks too now.
        let list = app.api.get("/api/v1/tasks?q=friday").await;
        assert_eq!(
            list.body["data"].as_array().unwrap().len(),
            1,
            "{}",
            list.body
        );
    }
);

both!(
    a_longer_name_outranks_the_whole_word_in_other_fields,
    |app| async move {
        // More whole-word hits than the limit, all in a field that is not the name: the
        // longer name (a prefix in the title) still ranks first.
        for first in ["Ane", "Bo", "Cai", "Dan"] {
            app.api
                .create(
                    "contacts",
                    json!({"first_name": first, "last_name": "Lund", "city": "Berg"}),
                )
                .await;
        }
        app.api
            .create(
                "contacts",
                json!({"first_name": "Ana", "last_name": "Bergström"}),
            )
            .await;
        let body = app.api.get("/api/v1/search?q=berg&limit=2").await.body;
        let contacts = titles(&body, "contacts");
        assert_eq!(contacts.len(), 2, "{body}");
        assert_eq!(contacts[0], "Ana Bergström", "{body}");
        // Whole names that rank above any longer name fill the group; more are there.
        for first in ["Eva", "Finn", "Gry"] {
            app.api
                .create(
                    "contacts",
                    json!({"first_name": first, "last_name": "Berg"}),
                )
                .await;
        }
        let body = app.api.get("/api/v1/search?q=berg&limit=2").await.body;
        let contacts = titles(&body, "contacts");
        assert_eq!(contacts, ["Gry Berg", "Finn Berg"], "newest first: {body}");
        assert_eq!(body["groups"][0]["more"], true);
        let body = app.api.get("/api/v1/search?q=berg&limit=4").await.body;
        assert_eq!(
            titles(&body, "contacts"),
            ["Gry Berg", "Finn Berg", "Eva Berg", "Ana Bergström"],
            "{body}"
        );
    }
);

both!(
    records_are_findable_when_saved_and_gone_when_deleted,
    |app| async move {
        let c = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Mette", "last_name": "Kierkegaard"}),
            )
            .await;
        let id = c["id"].as_str().unwrap();
        assert_eq!(
            titles(&search(&app.api, "kierke").await, "contacts"),
            ["Mette Kierkegaard"]
        );
        let res = app
            .api
            .patch(
                &format!("/api/v1/contacts/{id}"),
                json!({"last_name": "Nørgaard"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(search(&app.api, "kierke").await["groups"], json!([]));
        assert_eq!(
            titles(&search(&app.api, "norgaard").await, "contacts"),
            ["Mette Nørgaard"]
        );
        // A new word is in the typo vocabulary at once.
        assert_eq!(
            titles(&search(&app.api, "Nørgarrd").await, "contacts"),
            ["Mette Nørgaard"]
        );
        let res = app.api.delete(&format!("/api/v1/contacts/{id}")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(search(&app.api, "nørgaard").await["groups"], json!([]));
        assert_eq!(search(&app.api, "mette nørg").await["groups"], json!([]));
        let res = app
            .api
            .post(&format!("/api/v1/contacts/{id}/restore"), json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            titles(&search(&app.api, "nørgaard").await, "contacts"),
            ["Mette Nørgaard"]
        );
        assert_eq!(
            titles(&search(&app.api, "mette nørg").await, "contacts"),
            ["Mette Nørgaard"]
        );
    }
);

both!(another_workspace_is_never_searched, |app| async move {
    people(app).await;
    let other = app
        .user("boss@globex.test", kith_app::Role::Admin, "globex")
        .await;
    other
        .create(
            "contacts",
            json!({"first_name": "Søren", "last_name": "Jensen", "email": "sj@globex.test"}),
        )
        .await;
    other
        .create(
            "contacts",
            json!({"first_name": "Zacharias", "last_name": "Zylberstein"}),
        )
        .await;
    let mine = search(&app.api, "søren jensen").await;
    assert_eq!(mine["groups"][0]["hits"].as_array().unwrap().len(), 1);
    assert_ne!(
        mine["groups"][0]["hits"][0]["record"]["email"],
        "sj@globex.test"
    );
    assert_eq!(search(&app.api, "zylberstein").await["groups"], json!([]));
    // Nor is its typo vocabulary.
    assert_eq!(search(&app.api, "Zylbersten").await["groups"], json!([]));
    assert_eq!(
        titles(&search(&other, "Zylbersten").await, "contacts"),
        ["Zacharias Zylberstein"]
    );
    let read_only = app
        .user("viewer@acme.test", kith_app::Role::ReadOnly, "acme")
        .await;
    assert_eq!(
        titles(&search(&read_only, "Åse").await, "contacts"),
        ["Åse Andersen"]
    );
});

both!(
    odd_queries_find_nothing_or_get_a_clear_422,
    |app| async move {
        people(app).await;
        for q in [
            "",
            "   ",
            "!!!",
            "'; DROP TABLE contacts; --",
            "🎉🎉",
            "%_\\",
            "\u{0}",
        ] {
            let body = search(&app.api, q).await;
            assert_eq!(body["groups"], json!([]), "{q:?}: {body}");
        }
        let long = "a".repeat(10_000);
        let res = app.api.get(&format!("/api/v1/search?q={long}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.body["error"]["fields"]["q"].is_string(), "{}", res.body);
        for bad in ["limit=0", "limit=51", "limit=ten", "types=invoices"] {
            let res = app.api.get(&format!("/api/v1/search?q=ole&{bad}")).await;
            assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
        let res = app.anonymous().get("/api/v1/search?q=ole").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
);

fn kith(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("KITH_LOG", "warn")
        .env("KITH_USER", "admin@acme.test")
        .output()
        .expect("run kith");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

both!(the_cli_searches_as_text_and_json, |app| async move {
    people(app).await;
    let db = app.db_url.clone();
    let (ok, out, err) = tokio::task::spawn_blocking({
        let db = db.clone();
        move || kith(&db, &["search", "soeren"])
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    assert!(out.contains("contacts\n  [Søren] Jensen"), "{out}");
    let (ok, out, err) = tokio::task::spawn_blocking({
        let db = db.clone();
        move || kith(&db, &["search", "Jnesen", "--type", "contacts", "--json"])
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["corrected"], true);
    assert_eq!(titles(&body, "contacts"), ["Søren Jensen"]);
    let (ok, _, err) =
        tokio::task::spawn_blocking(move || kith(&db, &["search", "x", "--type", "invoices"]))
            .await
            .unwrap();
    assert!(!ok);
    assert!(err.contains("types"), "{err}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_groups_and_marks_and_answers_as_you_type() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    people(&app).await;
    app.api
        .create("tasks", json!({"title": "Ring til Søren om <b>tilbud</b>"}))
        .await;
    let b = crate::browser::Browser::open(&app.api.base, "da-DK", 1200, 900).await;
    b.sign_in("admin@acme.test").await;
    // The header's box leads to the search page.
    b.find("#global-search")
        .await
        .send_keys("soren\n")
        .await
        .unwrap();
    b.until("location.pathname === '/search'").await;
    assert_eq!(b.text("h1").await, "Søg");
    assert_eq!(b.text("#search-contacts").await, "Kontakter");
    assert_eq!(b.text("#results mark").await, "Søren");
    // Escaped, not parsed: the task title's tags are text.
    assert!(b.text("#results").await.contains("<b>tilbud</b>"));
    // Typing in the page's box swaps the results in without a reload.
    b.eval("window.stayed = true").await;
    let input = b.find("#search-q").await;
    input.clear().await.unwrap();
    input.send_keys("张伟").await.unwrap();
    b.until("document.querySelector('#results mark')?.textContent === '张伟'")
        .await;
    assert_eq!(b.eval("window.stayed === true").await, Value::Bool(true));
    b.screenshot("search-page-da").await;
    input.clear().await.unwrap();
    input.send_keys("Jnesen").await.unwrap();
    b.until("document.querySelector('#results .badge')?.textContent === 'næsten'")
        .await;
    b.close().await;
    app.finish().await;
}
