//! The calendar feed serves a user's own tasks and meetings to whoever holds its secret
//! URL, and nothing once it is revoked.

use kith_app::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::export::download;
use crate::harness::both;

both!(
    the_calendar_feed_serves_own_tasks_and_meetings_to_its_secret_url,
    |app| async move {
        let api = &app.api;
        let other = app.user("other@acme.test", Role::Member, "acme").await;
        let task = api
            .create("tasks", json!({"title": "Ring Søren, re: tilbud; snart", "due_at": "2026-03-01T09:30:00+01:00",
                "notes": "Line one\nline two"}))
            .await;
        api.create(
            "tasks",
            json!({"title": "Done already", "due_at": "2026-03-02T10:00:00Z", "done": true}),
        )
        .await;
        api.create("tasks", json!({"title": "No due date"})).await;
        other
            .create(
                "tasks",
                json!({"title": "Someone else's task", "due_at": "2026-03-03T10:00:00Z"}),
            )
            .await;
        let meeting = api
            .create(
                "activities",
                json!({"kind": "meeting", "subject": "会议 with 张伟",
                "occurred_at": "2026-03-04T13:00:00Z", "duration_minutes": 45}),
            )
            .await;
        api.create(
            "activities",
            json!({"kind": "note", "subject": "A note", "occurred_at": "2026-03-04T13:00:00Z"}),
        )
        .await;
        other.create("activities", json!({"kind": "meeting", "subject": "Their meeting", "occurred_at": "2026-03-05T13:00:00Z"})).await;

        let res = api.post("/api/v1/me/calendar-feed", json!({})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let url = res.body["url"].as_str().unwrap().to_string();
        assert!(
            url.starts_with("/calendar/") && url.ends_with(".ics"),
            "{url}"
        );
        let feed = download(&app.anonymous(), &url).await;
        assert_eq!(feed.status, StatusCode::OK);
        assert_eq!(feed.content_type, "text/calendar; charset=utf-8");
        let text = String::from_utf8(feed.bytes).unwrap();
        assert!(
            text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{text}"
        );
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "every line ends in CRLF"
        );
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        }
        let unfolded = text.replace("\r\n ", "");
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2, "{unfolded}");
        let t = task["id"].as_str().unwrap();
        assert!(
            unfolded.contains(&format!("UID:{t}@kith\r\n")),
            "{unfolded}"
        );
        assert!(
            unfolded.contains("DTSTART:20260301T083000Z\r\n"),
            "the due time in UTC: {unfolded}"
        );
        assert!(
            unfolded.contains("SUMMARY:Ring Søren\\, re: tilbud\\; snart\r\n"),
            "{unfolded}"
        );
        assert!(
            unfolded.contains("DESCRIPTION:Line one\\nline two\r\n"),
            "{unfolded}"
        );
        let m = meeting["id"].as_str().unwrap();
        assert!(unfolded.contains(&format!("UID:{m}@kith\r\n")));
        assert!(
            unfolded.contains("DTSTART:20260304T130000Z\r\nDTEND:20260304T134500Z\r\n"),
            "{unfolded}"
        );
        assert!(unfolded.contains("SUMMARY:会议 with 张伟\r\n"));
        for absent in [
            "Done already",
            "No due date",
            "Someone else",
            "A note",
            "Their meeting",
        ] {
            assert!(!unfolded.contains(absent), "{absent} in {unfolded}");
        }
        assert!(unfolded.contains("DTSTAMP:"));

        // The same calendar with a token; the feed's secret works only as issued.
        let mine = download(api, "/api/v1/calendar.ics").await;
        assert_eq!(String::from_utf8(mine.bytes).unwrap(), text);
        let wrong = download(&app.anonymous(), "/calendar/not-the-secret.ics").await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND);
        let other_feed = other.post("/api/v1/me/calendar-feed", json!({})).await;
        let theirs = download(&app.anonymous(), other_feed.body["url"].as_str().unwrap()).await;
        let theirs = String::from_utf8(theirs.bytes).unwrap();
        assert!(theirs.contains("Someone else's task") && !theirs.contains("Ring Søren"));

        // Rotating retires the old URL; revoking retires the new one.
        let rotated = api.post("/api/v1/me/calendar-feed", json!({})).await;
        let new_url = rotated.body["url"].as_str().unwrap().to_string();
        assert_ne!(new_url, url);
        assert_eq!(
            download(&app.anonymous(), &url).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            download(&app.anonymous(), &new_url).await.status,
            StatusCode::OK
        );
        let res = api.delete("/api/v1/me/calendar-feed").await;
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        assert_eq!(
            download(&app.anonymous(), &new_url).await.status,
            StatusCode::NOT_FOUND
        );
    }
);
