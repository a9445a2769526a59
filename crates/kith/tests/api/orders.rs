//! Orders: line items and totals, what they change about their customer (value figures,
//! lifecycle stage), the errors a bad order gets, and importing orders.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use kith_core::objects::ObjectKind;

use crate::harness::{both, tempfile_dir, Api};
use crate::import::{count, import, refused, req, write};

async fn get(api: &Api, objects: &str, id: &Value) -> Value {
    let res = api
        .get(&format!("/api/v1/{objects}/{}", id.as_str().unwrap()))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body
}

both!(orders_keep_customer_value_current, |app| async move {
    let api = &app.api;
    let shop = api
        .create("companies", json!({"name": "Lille Butik ApS"}))
        .await;
    let ana = api
        .create(
            "contacts",
            json!({"first_name": "Ana", "email": "ana@example.dk", "company_id": shop["id"]}),
        )
        .await;
    assert_eq!(ana["lifecycle_stage"], "lead");
    assert_eq!(ana["order_count"], Value::Null);
    let v1 = ana["version"].as_i64().unwrap();

    // Totals come from the lines; the company from the contact; status, currency default.
    let o1 = api
        .create(
            "orders",
            json!({"number": "WEB-1001", "contact_id": ana["id"], "channel": "online", "lines": [
                {"name": "Kaffe, 1 kg", "sku": "KAF-1", "quantity": 2, "unit_price": 14950},
                {"name": "Filter", "quantity": 1, "unit_price": 3000}
            ]}),
        )
        .await;
    assert_eq!(o1["total"], 32900);
    assert_eq!(o1["lines"][0]["total"], 29900);
    assert_eq!(o1["company_id"], shop["id"]);
    assert_eq!(o1["status"], "paid");
    assert_eq!(o1["currency"], "DKK");

    let a = get(api, "contacts", &ana["id"]).await;
    assert_eq!(a["order_count"], 1);
    assert_eq!(a["lifetime_value"], 32900);
    assert_eq!(a["average_order_value"], 32900);
    assert_eq!(a["first_order_at"], o1["ordered_at"]);
    // The first order makes a lead a customer, as a new version.
    assert_eq!(a["lifecycle_stage"], "customer");
    assert!(a["version"].as_i64().unwrap() > v1);

    let earlier = (Utc::now() - Duration::days(40)).to_rfc3339();
    let o2 = api
        .create(
            "orders",
            json!({"contact_id": ana["id"], "total": 10000, "ordered_at": earlier, "channel": "store"}),
        )
        .await;
    // Cancelled orders are no revenue.
    api.create(
        "orders",
        json!({"contact_id": ana["id"], "total": 999900, "status": "cancelled"}),
    )
    .await;
    let a = get(api, "contacts", &ana["id"]).await;
    assert_eq!(a["order_count"], 2);
    assert_eq!(a["lifetime_value"], 42900);
    assert_eq!(a["average_order_value"], 21450);
    assert_eq!(a["first_order_at"], o2["ordered_at"]);
    assert_eq!(a["last_order_at"], o1["ordered_at"]);
    let c = get(api, "companies", &shop["id"]).await;
    assert_eq!(c["order_count"], 2);
    assert_eq!(c["lifetime_value"], 42900);

    // Deleting an order takes it out; restoring puts it back.
    let del = api
        .delete(&format!("/api/v1/orders/{}", o1["id"].as_str().unwrap()))
        .await;
    assert!(del.status.is_success(), "{}", del.body);
    let a = get(api, "contacts", &ana["id"]).await;
    assert_eq!(
        (a["order_count"].clone(), a["lifetime_value"].clone()),
        (json!(1), json!(10000))
    );
    api.post(
        &format!("/api/v1/orders/{}/restore", o1["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(
        get(api, "contacts", &ana["id"]).await["lifetime_value"],
        42900
    );

    // Moving an order to another customer updates both.
    let bo = api
        .create(
            "contacts",
            json!({"first_name": "Bo", "lifecycle_stage": "advocate"}),
        )
        .await;
    let res = api
        .patch(
            &format!("/api/v1/orders/{}", o2["id"].as_str().unwrap()),
            json!({"contact_id": bo["id"]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        get(api, "contacts", &ana["id"]).await["lifetime_value"],
        32900
    );
    let b = get(api, "contacts", &bo["id"]).await;
    assert_eq!(b["lifetime_value"], 10000);
    // An advocate stays an advocate.
    assert_eq!(b["lifecycle_stage"], "advocate");

    // Orders filter like any list.
    let res = api
        .get("/api/v1/orders?filter=channel%20%3D%20online%20and%20total%20%3E%3D%2030000")
        .await;
    assert_eq!(
        res.body["data"].as_array().unwrap().len(),
        1,
        "{}",
        res.body
    );
});

both!(bad_orders_are_refused_by_field, |app| async move {
    let api = &app.api;
    let ana = api.create("contacts", json!({"first_name": "Ana"})).await;
    let res = api
        .post("/api/v1/orders", json!({"contact_id": ana["id"]}))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body["error"]["fields"]["total"].is_string(),
        "{}",
        res.body
    );

    let res = api
        .post(
            "/api/v1/orders",
            json!({"contact_id": ana["id"], "lines": [
                {"name": "ok", "total": 100}, {"name": "bad", "quantity": 0, "unit_price": 5}
            ]}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = res.body["error"]["fields"]["lines"].as_str().unwrap_or("");
    assert!(
        msg.contains("line 2") && msg.contains("quantity"),
        "{}",
        res.body
    );

    api.create("orders", json!({"number": "A-1", "total": 100}))
        .await;
    let res = api
        .post("/api/v1/orders", json!({"number": "A-1", "total": 200}))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body["error"]["fields"]["number"]
            .as_str()
            .unwrap_or("")
            .contains("already used"),
        "{}",
        res.body
    );
    // Figures are the server's: a client cannot write them.
    let res = api
        .patch(
            &format!("/api/v1/contacts/{}", ana["id"].as_str().unwrap()),
            json!({"lifetime_value": 1}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    // Nothing was stored by the refused requests.
    let res = api.get("/api/v1/orders").await;
    assert_eq!(res.body["data"].as_array().unwrap().len(), 1);
});

both!(
    orders_import_links_customers_and_reverts_their_value,
    |app| async move {
        let api = &app.api;
        let ana = api
            .create(
                "contacts",
                json!({"first_name": "Ana", "email": "ana@example.dk"}),
            )
            .await;
        let dir = tempfile_dir::Dir::new();
        let csv = "Ordrenummer;E-mail;Ordredato;Beløb;Kanal;Status\n\
               1001;ana@example.dk;01-03-2026;kr. 1.234,50;online;paid\n\
               1002;ANA@example.dk;2. marts 2026;500;store;paid\n\
               1003;ingen@example.dk;03-03-2026;99;online;paid\n\
               1004;ana@example.dk;04-03-2026;ti kroner;online;paid\n";
        let path = write(&dir, "ordrer.csv", csv.as_bytes());
        let r = import(app, &path, req(ObjectKind::Order, "ordrer.csv")).await;
        assert_eq!(r.import.created, 3, "{:?}", r.rejects);
        assert_eq!(r.import.failed, 1);
        // No contact had ingen@example.dk: the order's customer is made with it.
        assert_eq!(
            r.notes,
            vec!["1 customers were made from their orders: no contact had their email".to_string()]
        );
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let why = String::from_utf8(
            app.app
                .import_errors_csv(&caller, r.import.id)
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(!why.contains("1003"), "{why}");
        assert!(why.contains("1004") && why.contains("Beløb"), "{why}");
        let guest = api.get("/api/v1/contacts?q=ingen%40example.dk").await.body["data"][0].clone();
        assert_eq!(guest["lifecycle_stage"], "customer");
        assert_eq!(guest["order_count"], 1);
        let a = api
            .get(&format!("/api/v1/contacts/{}", ana["id"].as_str().unwrap()))
            .await
            .body;
        assert_eq!(a["order_count"], 2);
        assert_eq!(a["lifetime_value"], 173450);
        assert_eq!(a["lifecycle_stage"], "customer");
        // The same file again creates nothing twice.
        let again = import(app, &path, req(ObjectKind::Order, "ordrer.csv")).await;
        assert_eq!(again.import.created, 0);
        assert!(again.notes.is_empty(), "{:?}", again.notes);
        assert_eq!(count(app, "orders").await, 3);
        assert_eq!(count(app, "contacts").await, 2);
        // Revert takes the orders, the customer it made and the figures back.
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let reverted = app.app.revert_import(&caller, r.import.id).await.unwrap();
        assert_eq!(count(app, "orders").await, 0);
        assert_eq!(count(app, "contacts").await, 1, "{:?}", reverted.message);
        let a = api
            .get(&format!("/api/v1/contacts/{}", ana["id"].as_str().unwrap()))
            .await
            .body;
        assert_eq!(a["order_count"], Value::Null);
        assert_eq!(a["lifetime_value"], Value::Null);
    }
);

both!(
    imported_amounts_are_in_their_rows_currency,
    |app| async move {
        let api = &app.api;
        api.create(
            "contacts",
            json!({"first_name": "Ane", "email": "ane@x.dk"}),
        )
        .await;
        let dir = tempfile_dir::Dir::new();
        // A Danish shop's export: the customer column says "Kunde e-mail", statuses are
        // Danish, and the currency column is filled only where the shop set it.
        let csv = "Ordrenummer;Kunde e-mail;Beløb;Valuta;Status\n\
                   A-1;ane@x.dk;¥1,234;JPY;Betalt\n\
                   A-2;ane@x.dk;¥ 8.888,00;;Leveret\n\
                   A-3;ane@x.dk;100 kr.;SEK;Annulleret\n\
                   A-4;ane@x.dk;€12;DKK;Betalt\n";
        let path = write(&dir, "ordrer.csv", csv.as_bytes());
        let r = import(app, &path, req(ObjectKind::Order, "ordrer.csv")).await;
        assert_eq!(
            (r.import.created, r.import.failed),
            (3, 1),
            "{:?}",
            r.rejects
        );
        let rejects = refused(app, r.import.id).await;
        assert_eq!(rejects[0].line, 5);
        assert_eq!(
            rejects[0].errors,
            [(
                "Beløb".to_string(),
                "is written in EUR but the row's currency is DKK".to_string()
            )]
        );
        let orders = api.get("/api/v1/orders?sort=number").await.body["data"].clone();
        let got: Vec<(&str, i64, &str, &str, bool)> = orders
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["number"].as_str().unwrap(),
                    o["total"].as_i64().unwrap(),
                    o["currency"].as_str().unwrap(),
                    o["status"].as_str().unwrap(),
                    o["contact_id"].is_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A-1", 1234, "JPY", "paid", true),
                ("A-2", 888_800, "CNY", "fulfilled", true),
                ("A-3", 10_000, "SEK", "cancelled", true),
            ]
        );
    }
);

both!(
    a_shopify_export_with_a_row_per_line_imports_whole_orders,
    |app| async move {
        let api = &app.api;
        let ane = api
            .create(
                "contacts",
                json!({"first_name": "Ane", "email": "ane@example.dk"}),
            )
            .await;
        // Shopify: the order's first row holds its totals, the next rows only their line.
        // The order is placed when it was created, not when it was paid.
        let dir = tempfile_dir::Dir::new();
        let csv = "Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Created at,\
                   Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n\
                   #1001,ane@example.dk,paid,2024-03-02 10:05:00 +0100,DKK,450.00,489.00,\
                   2024-03-01 10:04:00 +0100,2,Kaffe 500g,150.00,KAF-500\n\
                   #1001,ane@example.dk,,,,,,2024-03-01 10:04:00 +0100,1,Krus,150.00,KRUS-1\n\
                   #1002,ane@example.dk,voided,,DKK,99.00,99.00,2024-03-05 11:59:00 +0100,1,Te,99.00,TE\n";
        let path = write(&dir, "orders_export.csv", csv.as_bytes());
        let r = import(app, &path, req(ObjectKind::Order, "orders_export.csv")).await;
        assert_eq!(
            (r.import.created, r.import.failed),
            (2, 0),
            "{:?}",
            r.rejects
        );
        assert_eq!(
            r.notes,
            vec![
                "1 rows were further lines of an order on an earlier row (the same order \
                 number) and count as its updates"
                    .to_string()
            ]
        );
        let orders = api.get("/api/v1/orders?sort=number").await.body["data"].clone();
        let first = &orders[0];
        assert_eq!(first["number"], "#1001");
        assert_eq!(first["total"], 48900, "Total, not Subtotal");
        assert_eq!(first["status"], "paid");
        assert_eq!(first["ordered_at"], "2024-03-01T09:04:00.000000Z");
        let lines: Vec<(&str, i64)> = first["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["sku"].as_str().unwrap(), l["total"].as_i64().unwrap()))
            .collect();
        assert_eq!(lines, [("KAF-500", 30000), ("KRUS-1", 15000)]);
        assert_eq!(orders[1]["status"], "cancelled", "voided");
        let a = get(api, "contacts", &ane["id"]).await;
        assert_eq!(a["order_count"], 1, "the cancelled order is no purchase");
        // Again: nothing twice.
        let again = import(app, &path, req(ObjectKind::Order, "orders_export.csv")).await;
        assert_eq!((again.import.created, again.import.skipped), (0, 3));

        // A guest's order makes its customer, named by the billing name, and findable.
        let csv = "Name,Email,Total,Billing Name\n#2001,Guest@Example.dk,100,Carl Nielsen\n";
        let path = write(&dir, "guest.csv", csv.as_bytes());
        let r = import(app, &path, req(ObjectKind::Order, "guest.csv")).await;
        assert_eq!(r.import.created, 1, "{:?}", r.rejects);
        let carl = api.get("/api/v1/contacts?q=carl%20nielsen").await.body["data"].clone();
        assert_eq!(carl[0]["email"], "guest@example.dk");
        assert_eq!(carl[0]["last_name"], "Nielsen");
        assert_eq!(carl[0]["order_count"], 1);

        // An order whose lines cross the 5,000 rows a chunk holds stays one order.
        let mut csv = String::from("Name,Lineitem name,Lineitem price\n");
        for i in 0..4_998 {
            csv.push_str(&format!("#A{i},Vare {i},10\n"));
        }
        for l in 0..4 {
            csv.push_str(&format!("#B,Del {l},5\n"));
        }
        let path = write(&dir, "big.csv", csv.as_bytes());
        let r = import(app, &path, req(ObjectKind::Order, "big.csv")).await;
        assert_eq!((r.import.created, r.import.failed), (4_999, 0));
        let b = api
            .get("/api/v1/orders?filter=number%20%3D%20%23B")
            .await
            .body["data"]
            .clone();
        assert_eq!(b.as_array().map(Vec::len), Some(1));
        assert_eq!(b[0]["lines"].as_array().map(Vec::len), Some(4));
        assert_eq!(b[0]["total"], 2000);
    }
);
