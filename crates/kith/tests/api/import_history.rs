//! What an old system knew about when: the creation dates of the records it exports
//! ("customer since") are kept, read in the workspace's zone, never in the future, and
//! date the notes and calls that carry no other date.

use kith_app::import::OnDuplicate;
use kith_core::objects::ObjectKind;
use serde_json::Value;

use crate::harness::{both, tempfile_dir, TestApp};
use crate::import::{import, refused, req, write};

async fn contacts(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.api.get(&format!("/api/v1/contacts?{query}")).await;
    assert_eq!(res.status, reqwest::StatusCode::OK, "{}", res.body);
    res.body["data"].as_array().unwrap().clone()
}

fn created(rec: &Value) -> chrono::DateTime<chrono::Utc> {
    rec["created_at"].as_str().unwrap().parse().unwrap()
}

both!(
    an_old_systems_creation_dates_are_kept_for_the_records_an_import_creates,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let started = chrono::Utc::now();
        // The workspace is in Europe/Copenhagen.
        let csv = "Fornavn,E-mail,Oprettet\n\
                   Ane,ane@example.dk,1. marts 2019\n\
                   Bo,bo@example.dk,2019-03-01 14:30\n\
                   Cai,cai@example.dk,\n\
                   Dan,dan@example.dk,2099-01-01\n\
                   Eva,eva@example.dk,2019年3月2日\n";
        let path = write(&dir, "kunder.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "kunder.csv")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (4, 1), "{:?}", report.rejects);
        let targets: Vec<(&str, Option<String>)> = report
            .mapping
            .columns
            .iter()
            .map(|(h, t)| (h.as_str(), t.as_ref().map(|t| t.name())))
            .collect();
        assert_eq!(
            targets[2],
            ("Oprettet", Some("created_at".to_string())),
            "{targets:?}"
        );
        let rejects = refused(app, i.id).await;
        assert_eq!(rejects[0].line, 5);
        assert_eq!(rejects[0].errors[0].0, "Oprettet");
        assert!(
            rejects[0].errors[0]
                .1
                .contains("`2099-01-01` is in the future"),
            "{:?}",
            rejects[0].errors
        );

        let all = contacts(app, "sort=created_at&limit=10").await;
        let names: Vec<&str> = all
            .iter()
            .map(|c| c["first_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Ane", "Bo", "Eva", "Cai"], "oldest first");
        assert_eq!(created(&all[0]).to_rfc3339(), "2019-02-28T23:00:00+00:00");
        assert_eq!(created(&all[1]).to_rfc3339(), "2019-03-01T13:30:00+00:00");
        assert_eq!(created(&all[2]).to_rfc3339(), "2019-03-01T23:00:00+00:00");
        assert!(created(&all[3]) >= started, "no date: made now");
        // Filters and segments see it as any record's creation.
        let filter = "filter=created_at%20%3C%202020-01-01&sort=created_at";
        let old: Vec<String> = contacts(app, filter)
            .await
            .iter()
            .map(|c| c["first_name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(old, ["Ane", "Bo", "Eva"]);

        // An update import does not move an existing record's creation, and says so.
        let csv = "E-mail,Oprettet,Stilling\nane@example.dk,1. januar 2015,Direktør\n";
        let path = write(&dir, "igen.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "igen.csv");
        r.on_duplicate = OnDuplicate::Update;
        let report = import(app, &path, r).await;
        assert_eq!(report.import.updated, 1, "{:?}", report.import);
        let ane = &contacts(app, "q=ane%40example.dk").await[0];
        assert_eq!(ane["job_title"], "Direktør");
        assert_eq!(created(ane).to_rfc3339(), "2019-02-28T23:00:00+00:00");
        let note = "1 records that already existed kept their own creation date: `Oprettet` \
                    sets it only for the records an import creates";
        assert_eq!(report.notes, vec![note.to_string()]);
        assert_eq!(report.import.message.as_deref(), Some(note));
    }
);

both!(
    a_note_without_a_date_of_its_own_happened_when_the_old_system_logged_it,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Type,Subject,Add time\n\
                   note,Ringede om tilbud,2018-05-04 09:00\n\
                   call,Ny aftale,\n";
        let path = write(&dir, "historik.csv", csv.as_bytes());
        let started = chrono::Utc::now();
        let report = import(app, &path, req(ObjectKind::Activity, "historik.csv")).await;
        assert_eq!(report.import.created, 2, "{:?}", report.rejects);
        let res = app.api.get("/api/v1/activities?sort=created_at").await;
        let acts = res.body["data"].as_array().unwrap().clone();
        assert_eq!(acts[0]["subject"], "Ringede om tilbud");
        assert_eq!(acts[0]["occurred_at"], "2018-05-04T07:00:00.000000Z");
        assert_eq!(created(&acts[0]).to_rfc3339(), "2018-05-04T07:00:00+00:00");
        assert!(created(&acts[1]) >= started);
    }
);

both!(
    a_files_own_dates_say_whether_it_writes_the_month_first,
    |app| async move {
        // A US export in a Danish workspace: 5/14/1980 can only be month first, so
        // 3/1/2019 is the first of March, not the third of January.
        let dir = tempfile_dir::Dir::new();
        let csv = "First Name,Email,Birthdate,Created Date\n\
                   John,john@example.com,5/14/1980,3/1/2019\n\
                   Jane,jane@example.com,3/4/1985,12/2/2020\n";
        let path = write(&dir, "sf.csv", csv.as_bytes());
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let draft = app
            .app
            .draft_import(&caller, csv.as_bytes(), &req(ObjectKind::Contact, "sf.csv"))
            .await
            .unwrap();
        let note = "dates are read month first (01/03/2026 is 3 January), as `5/14/1980` \
                    (Birthdate) shows";
        let preview = app.app.preview_import(&caller, draft.id).await.unwrap();
        assert_eq!(
            preview.notes,
            vec![note.to_string()],
            "the wizard says it too"
        );
        let report = import(app, &path, req(ObjectKind::Contact, "sf.csv")).await;
        assert_eq!(report.import.created, 2, "{:?}", report.rejects);
        assert_eq!(report.notes, vec![note.to_string()]);
        let john = &contacts(app, "q=john%40example.com").await[0];
        assert_eq!(john["birthday"], "1980-05-14");
        assert_eq!(created(john).to_rfc3339(), "2019-02-28T23:00:00+00:00");
        let jane = &contacts(app, "q=jane%40example.com").await[0];
        assert_eq!(jane["birthday"], "1985-03-04");
        assert_eq!(created(jane).to_rfc3339(), "2020-12-01T23:00:00+00:00");

        // Said outright, the order is the user's: dates that fit both read day first.
        let csv = "First Name,Email,Birthdate\nKim,kim@example.com,3/4/1985\n";
        let path = write(&dir, "kim.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "kim.csv");
        r.date_order = Some(kith_core::import::values::DateOrder::DayFirst);
        let report = import(app, &path, r).await;
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        assert_eq!(
            contacts(app, "q=kim%40example.com").await[0]["birthday"],
            "1985-04-03"
        );

        // Nothing shown: the region's way; --region US reads the month first.
        let csv = "First Name,Email,Birthdate\nLee,lee@example.com,3/4/1985\n";
        let path = write(&dir, "lee.csv", csv.as_bytes());
        let mut r = req(ObjectKind::Contact, "lee.csv");
        r.region = Some("US".into());
        import(app, &path, r).await;
        assert_eq!(
            contacts(app, "q=lee%40example.com").await[0]["birthday"],
            "1985-03-04"
        );

        // A file that writes both ways is read the default way, and says so.
        let csv = "First Name,Email,Birthdate\n\
                   Mo,mo@example.com,14/05/1980\n\
                   Ny,ny@example.com,5/14/1980\n\
                   Ox,ox@example.com,3/4/1985\n";
        let path = write(&dir, "mixed.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "mixed.csv")).await;
        assert_eq!(
            report.notes,
            vec![
                "the file writes dates day first (`14/05/1980` (Birthdate)) and month first \
                 (`5/14/1980` (Birthdate)); dates that fit both are read day first \
                 (01/03/2026 is 1 March): check them"
                    .to_string()
            ]
        );
        assert_eq!(
            contacts(app, "q=ox%40example.com").await[0]["birthday"],
            "1985-04-03"
        );
    }
);
