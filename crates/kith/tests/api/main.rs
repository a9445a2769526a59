//! Integration tests: the real application on a random port, each test against a fresh
//! database, every test on SQLite and on PostgreSQL (see `both!`).

mod browser;
mod harness;

mod auth;
mod bad_input;
mod bulk;
mod calendar;
mod campaigns;
mod campaigns_kill;
mod cli;
mod dedup;
mod events;
mod export;
mod export_round_trip;
mod import;
mod import_awkward;
mod import_objects;
mod import_xlsx;
mod jobs;
mod jobs_admin;
mod jobs_processes;
mod lists;
mod mail;
mod mail_replies;
mod mail_servers;
mod mail_tls;
mod openapi;
mod orders;
mod postgres_tls;
mod records;
mod schema;
mod search;
mod segments;
mod sequences;
mod ui;
mod ui_campaigns;
mod ui_data;
mod ui_mail;
mod ui_segments;
mod ui_work;
mod ui_workflows;
mod workflows;
mod workflows_https;
mod workflows_triggers;
mod workspace;
