//! Importing records other than contacts, and values beyond text: deals with money in
//! either locale, dates, stages, links by name and email, and notes; custom money fields;
//! tasks with their assignee.

use kith_core::objects::ObjectKind;
use serde_json::json;

use crate::harness::{both, tempfile_dir};
use crate::import::{find, import, req, write};

both!(
    deals_import_with_money_dates_and_links_by_name,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        app.sales_pipeline().await;
        app.api
            .create(
                "contacts",
                json!({"first_name": "Ana", "email": "ana@example.com"}),
            )
            .await;
        let csv = "Deal Name;Beløb;Forventet lukning;Fase;Virksomhed;Contact Email;Notes\n\
            Big order;kr. 1.234,50;1. marts 2026;Proposal;Nordlys ApS;Ana <Ana@Example.com>;Ring tilbage i marts\n\
            Bad stage;100;;Nowhere;;;\n\
            Yuan deal;¥12,000;2026年3月1日;Lead;;;首次联系 in Shenzhen\n";
        let path = write(&dir, "deals.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Deal, "deals.csv")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (2, 1),
            "{:?}",
            report.rejects
        );
        let deals = app.api.get("/api/v1/deals?sort=name").await.body["data"].clone();
        let big = &deals[0];
        assert_eq!(big["name"], "Big order");
        assert_eq!(big["amount"], 123450);
        assert_eq!(big["currency"], "DKK");
        assert_eq!(big["expected_close"], "2026-03-01");
        assert!(big["contact_id"].is_string() && big["company_id"].is_string());
        let yuan = &deals[1];
        assert_eq!(
            (yuan["amount"].as_i64(), yuan["currency"].as_str()),
            (Some(1_200_000), Some("CNY"))
        );
        let rejects = crate::import::refused(app, report.import.id).await;
        assert_eq!(rejects[0].line, 3);
        assert_eq!(rejects[0].errors[0].0, "Fase");
        // The message names the stages there are, so the file can be fixed.
        assert_eq!(
            rejects[0].errors[0].1,
            "no stage `Nowhere` (stages: Lead, Proposal, Won, Lost)"
        );
        // Each deal is findable, and so is its note, linked to it: deals are indexed one
        // by one while the notes' entries are written in bulk after them.
        for (q, deal) in [("yuan", yuan), ("big", big)] {
            let found = app.api.get(&format!("/api/v1/deals?q={q}")).await.body["data"].clone();
            assert_eq!(found.as_array().map(Vec::len), Some(1), "{q}: {found}");
            assert_eq!(found[0]["id"], deal["id"]);
        }
        for (q, deal) in [("tilbage", big), ("shenzhen", yuan)] {
            let notes =
                app.api.get(&format!("/api/v1/activities?q={q}")).await.body["data"].clone();
            assert_eq!(notes.as_array().map(Vec::len), Some(1), "{q}: {notes}");
            assert_eq!(notes[0]["deal_id"], deal["id"]);
            assert_eq!(notes[0]["kind"], "note");
        }
    }
);

both!(
    custom_money_fields_and_task_assignees_import,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        app.api
            .create(
                "field_definitions",
                json!({"object": "contact", "key": "budget", "label": "Budget", "kind": "money"}),
            )
            .await;
        let csv = "Email,Budget\nana@example.com,\"kr. 1.250,50\"\nbo@example.com,€99\n";
        let path = write(&dir, "m.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "m.csv");
        r.mapping = vec![("Budget".into(), "custom.budget".into())];
        let report = import(app, &path, r).await;
        assert_eq!((report.import.created, report.import.failed), (2, 0));
        let ana = find(app, "ana@example.com").await;
        assert_eq!(
            ana[0]["custom"]["budget"],
            json!({"amount": 125050, "currency": "DKK"})
        );
        let bo = find(app, "bo@example.com").await;
        assert_eq!(
            bo[0]["custom"]["budget"],
            json!({"amount": 9900, "currency": "EUR"})
        );

        let csv = "Title,Owner,Due\nCall Ana,admin@acme.test,2030-01-02 09:00\n";
        let path = write(&dir, "t.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Task, "t.csv")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (1, 0),
            "{:?}",
            report.rejects
        );
        let tasks = app.api.get("/api/v1/tasks").await.body;
        let me = app
            .app
            .caller_by_email("admin@acme.test")
            .await
            .unwrap()
            .user
            .id
            .to_string();
        assert_eq!(tasks["data"][0]["assignee_id"], me.as_str());
        // 09:00 on the workspace's clock (Copenhagen, winter) is 08:00 UTC.
        assert_eq!(tasks["data"][0]["due_at"], "2030-01-02T08:00:00.000000Z");
    }
);

both!(
    a_pasted_website_address_gives_the_domain,
    |app| async move {
        // Domain columns in old systems hold whatever was pasted: the site's address.
        let dir = tempfile_dir::Dir::new();
        let csv = "Company,Domain\nNordlys A/S,https://www.Nordlys.dk/kontakt\n";
        let path = write(&dir, "co.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Company, "co.csv")).await;
        assert_eq!(report.import.created, 1, "{:?}", report.import);
        let companies = app.api.get("/api/v1/companies").await.body;
        assert_eq!(companies["data"][0]["domain"], "nordlys.dk");
        // A contact's company domain written so links to that company.
        let csv = "Email,Company domain\nane@example.com,http://nordlys.dk/\n";
        let path = write(&dir, "c.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "c.csv")).await;
        assert_eq!(report.import.created, 1, "{:?}", report.import);
        let ane = find(app, "ane@example.com").await;
        assert_eq!(ane[0]["company_id"], companies["data"][0]["id"]);
        let companies = app.api.get("/api/v1/companies").await.body;
        assert_eq!(
            companies["data"].as_array().unwrap().len(),
            1,
            "no second company"
        );
        // A website without a domain gives the domain, imported or made by the API.
        let csv = "Navn;Hjemmeside\nHolm ApS;www.Holm.dk\n";
        let path = write(&dir, "h.csv", csv.as_bytes());
        import(app, &path, req(ObjectKind::Company, "h.csv")).await;
        let made = app
            .api
            .create(
                "companies",
                json!({"name": "Lund", "website": "https://lund.dk/om"}),
            )
            .await;
        assert_eq!(made["domain"], "lund.dk");
        let holm = app.api.get("/api/v1/companies?q=holm").await.body;
        assert_eq!(holm["data"][0]["domain"], "holm.dk");
    }
);

both!(
    times_without_an_offset_are_the_workspace_s_clock_and_xlsx_keeps_them,
    |app| async move {
        // The workspace is in Europe/Copenhagen: 10:00 in July is 08:00 UTC. A time
        // that says its offset keeps it.
        let dir = tempfile_dir::Dir::new();
        let csv = "Type,Subject,Date\n\
                   meeting,Kickoff,2026-07-01 10:00\n\
                   call,Follow-up,2026-07-01T10:00:00Z\n\
                   note,Winter,15.01.2026 kl. 9.30\n";
        let path = write(&dir, "history.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Activity, "history.csv")).await;
        assert_eq!(report.import.created, 3, "{:?}", report.rejects);
        let times = |body: serde_json::Value| {
            let mut t: Vec<(String, String)> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let s = |k: &str| a[k].as_str().unwrap_or_default().to_string();
                    (s("subject"), s("occurred_at"))
                })
                .collect();
            t.sort();
            t
        };
        let before = times(app.api.get("/api/v1/activities").await.body);
        assert_eq!(
            before,
            [
                ("Follow-up".into(), "2026-07-01T10:00:00.000000Z".into()),
                ("Kickoff".into(), "2026-07-01T08:00:00.000000Z".into()),
                ("Winter".into(), "2026-01-15T08:30:00.000000Z".into()),
            ]
        );
        // XLSX has no zones: the export writes the wall clock, the import reads it so.
        let xlsx = crate::export::download(&app.api, "/api/v1/activities/export?format=xlsx").await;
        let fresh = crate::harness::TestApp::spawn(app.backend).await;
        let path = write(&dir, "history.xlsx", &xlsx.bytes);
        let report = import(&fresh, &path, req(ObjectKind::Activity, "history.xlsx")).await;
        assert_eq!(report.import.created, 3, "{:?}", report.rejects);
        assert_eq!(
            times(fresh.api.get("/api/v1/activities").await.body),
            before
        );
    }
);

both!(
    whole_numbers_read_thousands_separators_and_refuse_fractions,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Company;Employees\nA;1.200\nB;12 000\nC;2,5\nD;1.234,00\nE;-\nF;10-19\n";
        let path = write(&dir, "n.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Company, "n.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (3, 3));
        let why = &crate::import::refused(app, report.import.id).await[2].errors[0].1;
        assert!(why.starts_with("`10-19` is a range"), "{why}");
        let list = app.api.get("/api/v1/companies?sort=name").await.body;
        let employees: Vec<&serde_json::Value> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["employees"])
            .collect();
        assert_eq!(employees, [&json!(1200), &json!(12000), &json!(null)]);
    }
);

both!(deals_without_a_pipeline_say_to_make_one, |app| async move {
    let dir = tempfile_dir::Dir::new();
    let refused = |id| async move {
        let r = crate::import::refused(app, id).await;
        assert_eq!(r.len(), 1, "{r:?}");
        r[0].errors[0].clone()
    };
    let csv = "Navn;Fase\nStor ordre;Vundet\n";
    let path = write(&dir, "deals.csv", csv.as_bytes());
    let report = import(app, &path, req(ObjectKind::Deal, "deals.csv")).await;
    let (column, why) = refused(report.import.id).await;
    assert_eq!(column, "Fase");
    assert!(why.contains("no pipeline yet"), "{why}");
    app.sales_pipeline().await;
    let csv = "Navn;Pipeline\nStor ordre;Salg\n";
    let path = write(&dir, "deals.csv", csv.as_bytes());
    let report = import(app, &path, req(ObjectKind::Deal, "deals.csv")).await;
    let (column, why) = refused(report.import.id).await;
    assert_eq!(column, "Pipeline");
    assert_eq!(why, "no pipeline `Salg` (pipelines: Sales)");
});

both!(
    choice_values_are_read_in_danish_and_chinese,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        app.api
            .create(
                "contacts",
                json!({"first_name": "Ane", "email": "ane@x.dk"}),
            )
            .await;
        let csv = "Type,Emne,Kontakt e-mail\n\
                   Møde,Årsmøde,ane@x.dk\n\
                   Opkald,Opfølgning,ane@x.dk\n\
                   电话,回访,ane@x.dk\n\
                   Notat,Kun tekst,ane@x.dk\n\
                   sms,hej,ane@x.dk\n";
        let path = write(&dir, "act.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Activity, "act.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (4, 1));
        let acts = app.api.get("/api/v1/activities").await.body["data"].clone();
        let mut kinds: Vec<(&str, &str)> = acts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["subject"].as_str().unwrap(), a["kind"].as_str().unwrap()))
            .collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                ("Kun tekst", "note"),
                ("Opfølgning", "call"),
                ("Årsmøde", "meeting"),
                ("回访", "call")
            ]
        );
        let csv = "Fornavn,E-mail,Livscyklus\nBo,bo@x.dk,Kunde\nLi,li@x.cn,潜在客户\n";
        let path = write(&dir, "c.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "c.csv")).await;
        assert_eq!(report.import.created, 2, "{:?}", report.rejects);
        assert_eq!(find(app, "bo@x.dk").await[0]["lifecycle_stage"], "customer");
        assert_eq!(find(app, "li@x.cn").await[0]["lifecycle_stage"], "lead");
    }
);

both!(
    a_date_and_its_time_in_two_columns_are_joined,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        app.api
            .create(
                "contacts",
                json!({"first_name": "Ane", "email": "ane@x.dk"}),
            )
            .await;
        // Pipedrive's activities: Due date and Due time. A row with a time and no date,
        // and one whose time is no time, are refused naming the time's column.
        let csv = "Subject,Type,Due date,Due time,Person - Email\n\
                   A,Call,2026-01-05,10:30,ane@x.dk\n\
                   B,Call,05-01-2026,2:15 PM,ane@x.dk\n\
                   C,Call,2026-01-05,,ane@x.dk\n\
                   D,Call,,09:00,ane@x.dk\n\
                   E,Call,2026-01-05,soon,ane@x.dk\n\
                   F,Call,2026-01-05 08:00,11:00,ane@x.dk\n";
        let path = write(&dir, "acts.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Activity, "acts.csv")).await;
        let refused = crate::import::refused(app, report.import.id).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (4, 2),
            "{refused:?}"
        );
        let why: Vec<(i64, &str, &str)> = refused
            .iter()
            .map(|r| (r.line, r.errors[0].0.as_str(), r.errors[0].1.as_str()))
            .collect();
        assert_eq!(
            why,
            [
                (
                    5,
                    "Due time",
                    "`09:00` is a time of day, and the row has no occurred_at date for it"
                ),
                (6, "Due time", "`soon` is not a time of day"),
            ]
        );
        let acts = app.api.get("/api/v1/activities").await.body["data"].clone();
        let mut at: Vec<(String, String)> = acts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["subject"].as_str().unwrap().to_string(),
                    a["occurred_at"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        at.sort();
        // The workspace's clock is Copenhagen's: winter, UTC+1. F's own time wins.
        assert_eq!(
            at,
            [
                ("A".to_string(), "2026-01-05T09:30:00.000000Z".to_string()),
                ("B".to_string(), "2026-01-05T13:15:00.000000Z".to_string()),
                ("C".to_string(), "2026-01-04T23:00:00.000000Z".to_string()),
                ("F".to_string(), "2026-01-05T07:00:00.000000Z".to_string()),
            ]
        );
    }
);

both!(
    a_row_is_told_every_fault_in_the_preview_and_in_the_run,
    |app| async move {
        // A bad amount and an unknown stage in one row: both are named, so one fix of
        // the error file is enough; and the wizard's preview names links that lead
        // nowhere before anything runs.
        app.sales_pipeline().await;
        let csv = "Deal Name;Beløb;Fase;Owner;Contact Email\n\
                   Godt;100;Lead;;\n\
                   Dobbelt;mange;Vundet;;\n\
                   Ejer;100;Lead;nobody@acme.test;\n\
                   Kontakt;kr 5;Lead;;ghost@example.dk\n";
        let faults = |rejects: &[kith_store::imports::Reject]| -> Vec<(i64, Vec<String>)> {
            rejects
                .iter()
                .map(|r| {
                    let e = r.errors.iter().map(|(c, m)| format!("{c}: {m}")).collect();
                    (r.line, e)
                })
                .collect()
        };
        let check = |got: Vec<(i64, Vec<String>)>| {
            assert_eq!(got.len(), 3, "{got:?}");
            assert_eq!(got[0].0, 3);
            assert_eq!(got[0].1.len(), 2, "{got:?}");
            assert!(got[0].1[0].starts_with("Beløb: "), "{got:?}");
            assert_eq!(
                got[0].1[1],
                "Fase: no stage `Vundet` (stages: Lead, Proposal, Won, Lost)"
            );
            assert_eq!(
                got[1],
                (
                    4,
                    vec!["Owner: no user of this workspace has the email nobody@acme.test".into()]
                )
            );
            assert_eq!(
                got[2],
                (
                    5,
                    vec!["Contact Email: no contact has the email ghost@example.dk".into()]
                )
            );
        };
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let draft = app
            .app
            .draft_import(&caller, csv.as_bytes(), &req(ObjectKind::Deal, "deals.csv"))
            .await
            .unwrap();
        let preview = app.app.preview_import(&caller, draft.id).await.unwrap();
        check(faults(&preview.rejects));

        let dir = tempfile_dir::Dir::new();
        let path = write(&dir, "deals.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Deal, "deals.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (1, 3));
        check(faults(&crate::import::refused(app, report.import.id).await));
    }
);

both!(
    owners_are_found_by_email_or_by_the_name_a_user_gives,
    |app| async move {
        // Old systems export the owner as a name (`Ansvarlig: Bo Berg`, `负责人: 王经理`).
        use kith_app::Role;
        for (email, name) in [
            ("bo@acme.test", "Bo  Berg"),
            ("wang@acme.test", "王经理"),
            ("ane1@acme.test", "Ane Hansen"),
            ("ane2@acme.test", "Ane Hansen"),
        ] {
            app.user(email, Role::Member, "acme").await;
            let caller = app.app.caller_by_email(email).await.unwrap();
            app.app.set_name(&caller, name).await.unwrap();
        }
        let id_of = |email: &'static str| async move {
            app.app
                .caller_by_email(email)
                .await
                .unwrap()
                .user
                .id
                .to_string()
        };
        let csv = "Fornavn,E-mail,Ansvarlig\n\
                   Kim,kim@example.dk,bo berg\n\
                   Li,li@example.cn,王经理\n\
                   Mads,mads@example.dk,BO@acme.test\n\
                   Nina,nina@example.dk,Ane Hansen\n\
                   Ole,ole@example.dk,Ukendt Person\n";
        let dir = tempfile_dir::Dir::new();
        let path = write(&dir, "kunder.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "kunder.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (3, 2));
        for (email, owner) in [
            ("kim@example.dk", "bo@acme.test"),
            ("li@example.cn", "wang@acme.test"),
            ("mads@example.dk", "bo@acme.test"),
        ] {
            assert_eq!(
                find(app, email).await[0]["owner_id"],
                id_of(owner).await,
                "{email}"
            );
        }
        let rejects = crate::import::refused(app, report.import.id).await;
        let errors: Vec<(i64, String)> = rejects
            .iter()
            .map(|r| (r.line, format!("{}: {}", r.errors[0].0, r.errors[0].1)))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    5,
                    "Ansvarlig: several users are called ane hansen: give the owner's email".into()
                ),
                (
                    6,
                    "Ansvarlig: no user of this workspace is called ukendt person (an owner is \
                     found by email, or by the name a user gives in their menu)"
                        .into()
                ),
            ]
        );
    }
);
