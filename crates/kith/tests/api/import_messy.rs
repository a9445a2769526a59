//! What exports from old systems hold, read right: an encoding that shows only past the
//! first 64 KiB, vCards by the thousand with photos, a stray legacy byte, home and work
//! columns of the same name, several values in one cell, two-digit birth years, and
//! addresses as mail programs write them.

use kith_core::objects::ObjectKind;
use kith_store::{Exec, Sql};
use serde_json::json;

use crate::harness::{both, tempfile_dir};
use crate::import::{count, find, import, req, write};

/// 3,000 vCards, every 100th with a 2.1 base64 photo block, well past the 64 KiB an
/// encoding is first judged by. Card 0 is named `first` (bytes as given); card 2,500
/// is Søren in windows-1252. Returns the file and the line card 2,500 begins on.
fn phone_vcf(first: &[u8]) -> (Vec<u8>, usize) {
    let mut vcf: Vec<u8> = vec![];
    let (mut line, mut soren_line) = (1, 0);
    for i in 0..3000 {
        let name: &[u8] = match i {
            0 => first,
            2500 => b"Kierkegaard;S\xf8ren",
            _ => b"Hansen;Ane",
        };
        if i == 2500 {
            soren_line = line;
        }
        vcf.extend_from_slice(b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:");
        vcf.extend_from_slice(name);
        vcf.extend_from_slice(
            format!(";;;\r\nEMAIL:p{i}@example.dk\r\nUID:card-{i}\r\n").as_bytes(),
        );
        line += 5;
        if i % 100 == 0 {
            vcf.extend_from_slice(b"PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRg\r\n");
            for _ in 0..20 {
                vcf.extend_from_slice(b"  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n");
            }
            vcf.extend_from_slice(b"\r\n");
            line += 22;
        }
        vcf.extend_from_slice(b"END:VCARD\r\n");
        line += 1;
    }
    assert!(vcf.len() > 256 * 1024, "spans several read buffers");
    (vcf, soren_line)
}

both!(
    a_large_vcard_file_streams_and_finds_its_encoding_past_the_start,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // All ASCII up to Søren: the first bytes that are not decide.
        let (vcf, _) = phone_vcf(b"Hansen;Ane");
        let path = write(&dir, "phone.vcf", &vcf);
        let report = import(app, &path, req(ObjectKind::Contact, "phone.vcf")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (3000, 0), "{i:?}");
        assert_eq!(i.rows_done, 3000);
        assert_eq!(i.options["encoding_used"], "windows-1252");
        assert_eq!(
            report.notes,
            vec!["30 photo(s) or other binary properties were skipped".to_string()]
        );
        let soren = find(app, "p2500@example.dk").await;
        assert_eq!(
            (
                soren[0]["first_name"].as_str(),
                soren[0]["last_name"].as_str()
            ),
            (Some("Søren"), Some("Kierkegaard"))
        );
        assert_eq!(find(app, "p2999@example.dk").await[0]["first_name"], "Ane");
    }
);

both!(
    a_stray_legacy_byte_in_a_utf8_vcard_file_is_one_refused_card,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let (vcf, soren_line) = phone_vcf("Ærø;Åse".as_bytes());
        let path = write(&dir, "phone.vcf", &vcf);
        let report = import(app, &path, req(ObjectKind::Contact, "phone.vcf")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (2999, 1), "{i:?}");
        assert_eq!(i.options["encoding_used"], "UTF-8");
        assert_eq!(find(app, "p0@example.dk").await[0]["first_name"], "Åse");
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let errors =
            String::from_utf8(app.app.import_errors_csv(&caller, i.id).await.unwrap()).unwrap();
        let refused: Vec<&str> = errors.lines().skip(1).collect();
        assert_eq!(refused.len(), 1, "{errors}");
        assert!(
            refused[0].contains(&format!(
                ",{soren_line},holds bytes that are not UTF-8 text; choose the file's encoding"
            )),
            "{errors}"
        );
        // With the encoding chosen, the refused card comes in and nothing else twice.
        let mut again = req(ObjectKind::Contact, "phone.vcf");
        again.encoding = Some("windows-1252".into());
        let report = import(app, &path, again).await;
        let i = &report.import;
        assert_eq!((i.created, i.skipped, i.failed), (1, 2999, 0), "{i:?}");
        let soren = find(app, "p2500@example.dk").await;
        assert_eq!(soren[0]["first_name"], "Søren");
        assert_eq!(count(app, "contacts").await, 3000);
    }
);

both!(
    a_danish_csv_sorted_by_name_is_read_as_windows_1252,
    |app| async move {
        // Æ, Ø and Å sort last in Danish: 64 KiB of plain ASCII names, then Ørsted.
        let dir = tempfile_dir::Dir::new();
        let mut csv = b"Efternavn;Fornavn;E-mail\r\n".to_vec();
        for i in 0..4000 {
            csv.extend_from_slice(format!("Andersen;Anne;a{i}@example.dk\r\n").as_bytes());
        }
        csv.extend_from_slice(b"\xd8rsted;S\xf8ren;orsted@example.dk\r\n");
        assert!(csv.len() > 64 * 1024);
        let path = write(&dir, "kunder.csv", &csv);
        let report = import(app, &path, req(ObjectKind::Contact, "kunder.csv")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (4001, 0), "{i:?}");
        assert_eq!(i.options["encoding_used"], "windows-1252");
        let orsted = find(app, "orsted@example.dk").await;
        assert_eq!(
            (
                orsted[0]["first_name"].as_str(),
                orsted[0]["last_name"].as_str()
            ),
            (Some("Søren"), Some("Ørsted"))
        );
    }
);

both!(
    repeated_email_phone_tags_and_notes_columns_all_come_in,
    |app| async move {
        // Old systems export home and work as two columns of the same name.
        let dir = tempfile_dir::Dir::new();
        let csv = "Name,Email,Email,Phone,Phone,Tags,Tags,Notes,Notes\n\
                   Ane Hansen,ane@example.dk,ane@work.dk,+45 30 11 22 33,+45 70 12 34 56,vip,nordic,Met at the fair,Wants a quote\n";
        let path = write(&dir, "twice.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "twice.csv")).await;
        assert_eq!(report.import.created, 1, "{:?}", report.rejects);
        let targets: Vec<String> = report
            .mapping
            .columns
            .iter()
            .map(|(_, t)| t.as_ref().map(|t| t.name()).unwrap_or_default())
            .collect();
        assert_eq!(
            targets,
            [
                "full_name",
                "email",
                "email2",
                "phone",
                "mobile",
                "tags",
                "tags",
                "notes",
                "notes"
            ]
        );
        let ane = find(app, "ane@work.dk").await;
        assert_eq!(ane.len(), 1, "the second email is found");
        assert_eq!(ane[0]["email"], "ane@example.dk");
        assert_eq!(ane[0]["phone"], "+4530112233");
        let ids = ane[0]["identities"].as_array().unwrap();
        assert!(ids.iter().any(|i| i["value"] == "+4570123456"), "{ids:?}");
        assert_eq!(ane[0]["tags"], json!(["nordic", "vip"]));
        let mut db = app.app.db().clone();
        let notes = db
            .fetch_all(Sql::new("SELECT body FROM activities WHERE kind = 'note'"))
            .await
            .unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(
            notes[0].text("body").unwrap().as_deref(),
            Some("Met at the fair\n\nWants a quote")
        );
    }
);

both!(
    birthdays_with_two_digit_years_are_in_the_past,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Fornavn;E-mail;Fødselsdag\n\
                   Ane;ane@example.dk;1.3.69\n\
                   Bo;bo@example.dk;1. marts 2069\n";
        let path = write(&dir, "born.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "born.csv")).await;
        let i = &report.import;
        assert_eq!((i.created, i.failed), (1, 1), "{i:?}");
        assert_eq!(
            find(app, "ane@example.dk").await[0]["birthday"],
            "1969-03-01"
        );
        let caller = app.app.caller_by_email("admin@acme.test").await.unwrap();
        let errors =
            String::from_utf8(app.app.import_errors_csv(&caller, i.id).await.unwrap()).unwrap();
        assert!(
            errors.contains(",3,Fødselsdag: 2069-03-01 is in the future; a birthday cannot be"),
            "{errors}"
        );
    }
);

both!(
    addresses_as_mail_programs_write_them_and_several_per_cell_come_in,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Name,Email,Phone\n\
                   Ane Hansen,Ane Hansen <Ane@Example.dk>,+45 70 12 34 56\n\
                   Bo Berg,\"bo@example.dk; bo@work.dk\",\"+45 30 11 22 33, +45 40 12 34 56\"\n\
                   Cy Holm,mailto:cy@example.dk,\n\
                   Di Lund,\"\"\"Lund, Di\"\" <di@example.dk>\",\n";
        let path = write(&dir, "outlook.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "outlook.csv")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (4, 0),
            "{:?}",
            report.rejects
        );
        assert_eq!(find(app, "ane hansen").await[0]["email"], "ane@example.dk");
        assert_eq!(find(app, "cy holm").await[0]["email"], "cy@example.dk");
        assert_eq!(find(app, "di lund").await[0]["email"], "di@example.dk");
        let bo = find(app, "bo@work.dk").await;
        assert_eq!(bo.len(), 1, "the second address finds Bo");
        assert_eq!(bo[0]["email"], "bo@example.dk");
        assert_eq!(bo[0]["phone"], "+4530112233");
        let ids = bo[0]["identities"].as_array().unwrap();
        assert!(ids.iter().any(|i| i["value"] == "+4540123456"), "{ids:?}");
    }
);

both!(
    phone_extensions_are_kept_found_and_exported,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        let csv = "Name,Email,Phone\n\
                   Eva Krog,eva@example.dk,+45 70 12 34 56 ext. 12\n\
                   Ib Holm,ib@example.dk,+45 70 12 34 56 x 34\n";
        let path = write(&dir, "switchboard.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "switchboard.csv")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (2, 0),
            "the same switchboard with two extensions is two people: {:?}",
            report.rejects
        );
        let vcf = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Lis Dahl\r\nN:Dahl;Lis;;;\r\n\
                   TEL;VALUE=uri;TYPE=work:tel:+45-33-92-33-00;ext=123\r\nEND:VCARD\r\n";
        let path = write(&dir, "lis.vcf", vcf.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "lis.vcf")).await;
        assert_eq!(report.import.created, 1, "{:?}", report.rejects);

        assert_eq!(
            find(app, "eva krog").await[0]["phone"],
            "+4570123456;ext=12"
        );
        assert_eq!(find(app, "ib holm").await[0]["phone"], "+4570123456;ext=34");
        assert_eq!(
            find(app, "lis dahl").await[0]["phone"],
            "+4533923300;ext=123"
        );
        // Searched by the number people dial first; the extension is no part of it.
        assert_eq!(find(app, "70 12 34 56").await.len(), 2);
        assert_eq!(find(app, "33923300").await[0]["last_name"], "Dahl");

        // The API reads and keeps the same form; an edit resending it is no change.
        let lis = &find(app, "lis dahl").await[0];
        let res = app
            .api
            .patch(
                &format!("/api/v1/contacts/{}", lis["id"].as_str().unwrap()),
                json!({"phone": "+45 33 92 33 00 ext. 124"}),
            )
            .await;
        assert_eq!(res.status, reqwest::StatusCode::OK, "{}", res.body);
        assert_eq!(res.body["phone"], "+4533923300;ext=124");

        let vcard = crate::export::download(&app.api, "/api/v1/contacts/export?format=vcard").await;
        let text = String::from_utf8(vcard.bytes).unwrap();
        assert!(text.contains("tel:+4570123456;ext=12\r\n"), "{text}");
        let cards = kith_core::import::vcard::parse(&text);
        assert!(cards
            .iter()
            .flat_map(|c| c.as_ref().unwrap().phones.iter())
            .any(|p| p.value == "+4533923300;ext=124"));
    }
);

both!(
    a_google_contacts_export_splits_its_values_and_drops_its_system_group,
    |app| async move {
        // Google Contacts writes several values in one cell with ` ::: ` between them,
        // and system groups as `* name`.
        let dir = tempfile_dir::Dir::new();
        let csv = "First Name,Last Name,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value\n\
                   Ane,Hansen,* myContacts ::: * starred ::: Kunder,* Home,ane@x.dk ::: ane@firma.dk,Mobile,+45 20 30 40 50 ::: +45 20 30 40 51\n";
        let path = write(&dir, "google.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "google.csv")).await;
        assert_eq!(report.import.created, 1, "{:?}", report.import);
        let ane = &find(app, "ane@firma.dk").await[0];
        assert_eq!(ane["email"], "ane@x.dk");
        assert_eq!(ane["phone"], "+4520304050");
        assert_eq!(ane["tags"], json!(["Kunder", "starred"]));
        let ids = ane["identities"].as_array().unwrap();
        assert!(ids.iter().any(|i| i["value"] == "+4520304051"), "{ids:?}");
    }
);

both!(
    an_outlook_export_keeps_the_job_title_and_reads_0_0_00_as_no_birthday,
    |app| async move {
        // Outlook's "Title" is the honorific (Dr.); its "Job Title" is the job. A
        // contact without a birthday has 0/0/00.
        let dir = tempfile_dir::Dir::new();
        let csv = "\"Title\",\"First Name\",\"Last Name\",\"Job Title\",\"E-mail Address\",\"Birthday\",\"Categories\"\n\
                   \"Dr.\",\"Ane\",\"Hansen\",\"Direktør\",\"ane@firma.dk\",\"1.3.1980\",\"Kunder;VIP\"\n\
                   \"\",\"Bo\",\"Berg\",\"\",\"bo@x.dk\",\"0/0/00\",\"\"\n";
        let path = write(&dir, "outlook.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "outlook.csv")).await;
        assert_eq!(
            (report.import.created, report.import.failed),
            (2, 0),
            "{:?}",
            report.import
        );
        let ane = &find(app, "ane@firma.dk").await[0];
        assert_eq!(ane["job_title"], "Direktør");
        assert_eq!(ane["birthday"], "1980-03-01");
        assert_eq!(ane["tags"], json!(["Kunder", "VIP"]));
        assert!(find(app, "bo@x.dk").await[0]["birthday"].is_null());
    }
);

both!(a_pipedrive_people_export_maps_whole, |app| async move {
    // Pipedrive names whose value each column is; the organisation's address is its
    // own, not the person's.
    let dir = tempfile_dir::Dir::new();
    let csv = "Person - Name,Person - Organization,Person - Email - Work,Person - Email - Home,\
                   Person - Phone - Work,Person - Phone - Mobile,Person - Add time,Person - Label,\
                   Person - Marketing status,Organization - Address\n\
                   Søren Kierkegaard,Nordlys ApS,soren@nordlys.dk,sk@home.dk,+45 33 12 34 56,\
                   +45 20 12 34 56,2020-04-01 10:00:00,Hot lead,Subscribed,Vestergade 1\n";
    let path = write(&dir, "people.csv", csv.as_bytes());
    let report = import(app, &path, req(ObjectKind::Contact, "people.csv")).await;
    assert_eq!(report.import.created, 1, "{:?}", report.rejects);
    let soren = find(app, "sk@home.dk").await;
    assert_eq!(soren.len(), 1, "found by the home email too");
    let s = &soren[0];
    assert_eq!(
        (s["first_name"].as_str(), s["last_name"].as_str()),
        (Some("Søren"), Some("Kierkegaard"))
    );
    assert_eq!(s["email"], "soren@nordlys.dk");
    assert_eq!(s["phone"], "+4533123456");
    assert!(s["company_id"].is_string());
    assert_eq!(s["address_line1"], serde_json::Value::Null);
    assert_eq!(s["tags"], json!(["Hot lead"]));
    assert_eq!(s["consent"], json!({"email": "granted"}));
    assert_eq!(s["created_at"], "2020-04-01T08:00:00.000000Z");
    let numbers: Vec<&str> = s["identities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["value"].as_str())
        .collect();
    assert!(numbers.contains(&"+4520123456"), "{numbers:?}");
});

both!(
    a_hubspot_activity_export_links_its_contact_and_keeps_its_duration,
    |app| async move {
        // HubSpot names the contact as `Name (email)` and times calls as a clock.
        let mette = app
            .api
            .create(
                "contacts",
                json!({"first_name": "Mette", "email": "mette@lego.example"}),
            )
            .await;
        let dir = tempfile_dir::Dir::new();
        let csv = "Activity ID,Activity type,Activity date,Subject,Body preview,Associated Contact,\
                   Activity assigned to,Call duration (HH:mm:ss)\n\
                   7,Call,2024-02-01 14:00,Opfølgning,Talte om tilbud,Mette Nielsen (mette@lego.example),\
                   admin@acme.test,00:12:30\n\
                   8,Call,2024-02-02 14:00,Igen,,Mette Nielsen (mette@lego.example),,1:75\n";
        let path = write(&dir, "activities.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Activity, "activities.csv")).await;
        assert_eq!((report.import.created, report.import.failed), (1, 1));
        let rejects = crate::import::refused(app, report.import.id).await;
        assert_eq!(rejects[0].errors[0].0, "Call duration (HH:mm:ss)");
        let acts = app.api.get("/api/v1/activities").await.body["data"].clone();
        let call = &acts[0];
        assert_eq!(call["kind"], "call");
        assert_eq!(call["contact_id"], mette["id"]);
        assert_eq!(call["duration_minutes"], 13);
        assert_eq!(call["body"], "Talte om tilbud");
        // Again: the activity id keeps it from coming twice.
        let again = import(app, &path, req(ObjectKind::Activity, "activities.csv")).await;
        assert_eq!(again.import.created, 0);
    }
);

both!(
    dynamics_and_chinese_crm_exports_keep_opt_outs_addresses_and_wechat,
    |app| async move {
        let dir = tempfile_dir::Dir::new();
        // Dynamics 365: `Do Not Allow` under `Do not allow Emails` is an opt-out.
        let csv = "(Do Not Modify) Contact,Full Name,Parent Customer,Email,Address 1: Street 1,\
                   Address 1: ZIP/Postal Code,Address 1: Country/Region,Do not allow Emails\n\
                   8f1c0f1e-1111,Ane Hansen,Nordlys ApS,ane@nordlys.dk,Vestergade 1,8000,Denmark,Allow\n\
                   8f1c0f1e-1112,Bo Berg,,bo@example.dk,,,,Do Not Allow\n";
        let path = write(&dir, "dynamics.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "dynamics.csv")).await;
        assert_eq!(report.import.created, 2, "{:?}", report.rejects);
        let ane = &find(app, "ane@nordlys.dk").await[0];
        assert_eq!(
            (ane["postcode"].as_str(), ane["country"].as_str()),
            (Some("8000"), Some("DK"))
        );
        assert!(ane["company_id"].is_string());
        assert_eq!(ane["consent"], json!({}), "allowed is no consent given");
        assert!(
            ane["identities"].as_array().unwrap().contains(
                &json!({"kind": "external", "channel": "import", "value": "8f1c0f1e-1111"})
            ),
            "the Dynamics id is kept for the next import: {}",
            ane["identities"]
        );
        let bo = &find(app, "bo@example.dk").await[0];
        assert_eq!(bo["consent"], json!({"email": "denied"}));

        // A Chinese CRM: the WeChat ID is kept and finds the person.
        let csv = "姓名,手机号码,微信号,客户状态\n张伟,+86 138 0013 8000,zhangwei_wx,意向客户\n";
        let path = write(&dir, "kehu.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "kehu.csv")).await;
        assert_eq!(report.import.created, 1, "{:?}", report.rejects);
        let zhang = find(app, "zhangwei_wx").await;
        assert_eq!(zhang.len(), 1);
        assert_eq!(zhang[0]["lifecycle_stage"], "lead");
        assert!(
            zhang[0]["identities"].as_array().unwrap().contains(
                &json!({"kind": "external", "channel": "wechat", "value": "zhangwei_wx"})
            ),
            "{}",
            zhang[0]["identities"]
        );
    }
);

both!(
    notes_above_the_header_are_skipped_and_lines_count_blank_ones,
    |app| async move {
        // LinkedIn's Connections.csv starts with lines of notes and a blank line.
        let dir = tempfile_dir::Dir::new();
        let csv = "Notes:\n\
                   \"When exporting your connection data, you may notice that some of the email addresses are missing.\"\n\
                   \n\
                   First Name,Last Name,URL,Email Address,Company,Position,Connected On\n\
                   Ane,Hansen,https://www.linkedin.com/in/anehansen,ane@nordlys.dk,Nordlys ApS,CEO,12 Mar 2023\n\
                   Bo,Berg,https://www.linkedin.com/in/boberg,,Lego A/S,Designer,01 Feb 2021\n";
        let path = write(&dir, "Connections.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "Connections.csv")).await;
        assert_eq!(report.import.created, 2, "{:?}", report.rejects);
        assert_eq!(
            report.notes,
            vec![
                "lines 1–2 above the header line (line 4) read as a title and skipped".to_string()
            ]
        );
        assert_eq!(find(app, "ane@nordlys.dk").await[0]["job_title"], "CEO");

        // A refused row is named by its own line, past blank lines and a value of two
        // lines, in a file whose last line has no line break.
        let csv =
            "First Name,Email,Note\n\nAne,bad1,x\n\n\nBo,ok@example.dk,\"two\nlines\"\nCy,bad2,y";
        let path = write(&dir, "blank.csv", csv.as_bytes());
        let report = import(app, &path, req(ObjectKind::Contact, "blank.csv")).await;
        assert_eq!(report.import.created, 1);
        let lines: Vec<i64> = crate::import::refused(app, report.import.id)
            .await
            .iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, [3, 8]);
    }
);
