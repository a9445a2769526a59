//! Mail storage: each workspace's SMTP/IMAP settings (with where IMAP fetching stopped),
//! its email templates, and the lookups sending and fetching need.

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::db::{Exec, Row, Sql};
use crate::{Error, WorkspaceId};

/// A workspace's mail settings. Passwords are stored (the server must log in with
/// them) but never shown: `Debug` prints them as `[hidden]`.
#[derive(Clone, Default, PartialEq)]
pub struct MailSettings {
    /// SMTP server host; empty when sending is not set up.
    pub smtp_host: String,
    /// SMTP port (default by security: 25, 587, 465).
    pub smtp_port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub smtp_security: String,
    /// SMTP login; empty for none.
    pub smtp_username: String,
    /// SMTP password (write-only).
    pub smtp_password: String,
    /// Sender's display name.
    pub from_name: String,
    /// Sender's address.
    pub from_email: String,
    /// Reply-To address; empty for none.
    pub reply_to: String,
    /// IMAP server host; empty when fetching is not set up.
    pub imap_host: String,
    /// IMAP port (default by security: 143 or 993).
    pub imap_port: Option<u16>,
    /// `none`, `starttls` or `tls`.
    pub imap_security: String,
    /// IMAP login.
    pub imap_username: String,
    /// IMAP password (write-only).
    pub imap_password: String,
    /// Folder replies arrive in.
    pub imap_folder: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |p: &str| if p.is_empty() { "" } else { "[hidden]" };
        f.debug_struct("MailSettings")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &hidden(&self.smtp_password))
            .field("from_name", &self.from_name)
            .field("from_email", &self.from_email)
            .field("reply_to", &self.reply_to)
            .field("imap_host", &self.imap_host)
            .field("imap_port", &self.imap_port)
            .field("imap_security", &self.imap_security)
            .field("imap_username", &self.imap_username)
            .field("imap_password", &hidden(&self.imap_password))
            .field("imap_folder", &self.imap_folder)
            .finish()
    }
}

const TEXT_COLUMNS: [&str; 12] = [
    "smtp_host",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "from_name",
    "from_email",
    "reply_to",
    "imap_host",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
];

impl MailSettings {
    fn texts(&self) -> [&str; 12] {
        [
            &self.smtp_host,
            &self.smtp_security,
            &self.smtp_username,
            &self.smtp_password,
            &self.from_name,
            &self.from_email,
            &self.reply_to,
            &self.imap_host,
            &self.imap_security,
            &self.imap_username,
            &self.imap_password,
            &self.imap_folder,
        ]
    }

    fn from_row(r: &Row) -> Result<MailSettings, Error> {
        let t = |c: &str| -> Result<String, Error> { Ok(r.text(c)?.unwrap_or_default()) };
        let port = |c: &str| -> Result<Option<u16>, Error> {
            Ok(r.int(c)?.and_then(|p| u16::try_from(p).ok()))
        };
        Ok(MailSettings {
            smtp_host: t("smtp_host")?,
            smtp_port: port("smtp_port")?,
            smtp_security: t("smtp_security")?,
            smtp_username: t("smtp_username")?,
            smtp_password: t("smtp_password")?,
            from_name: t("from_name")?,
            from_email: t("from_email")?,
            reply_to: t("reply_to")?,
            imap_host: t("imap_host")?,
            imap_port: port("imap_port")?,
            imap_security: t("imap_security")?,
            imap_username: t("imap_username")?,
            imap_password: t("imap_password")?,
            imap_folder: t("imap_folder")?,
        })
    }
}

fn ws_arg(ws: WorkspaceId) -> Scalar {
    Scalar::Uuid(ws.0)
}

fn port_arg(p: Option<u16>) -> Scalar {
    p.map_or(Scalar::Null(ScalarType::Int), |p| Scalar::Int(i64::from(p)))
}

/// The workspace's mail settings; None when never saved.
pub async fn settings(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Option<MailSettings>, Error> {
    let row = ex
        .fetch_optional(
            Sql::new("SELECT * FROM mail_settings WHERE workspace_id = ").arg(ws_arg(ws)),
        )
        .await?;
    row.as_ref().map(MailSettings::from_row).transpose()
}

/// Saves the workspace's mail settings. A changed IMAP server or folder starts fetching
/// afresh (the stored UID belongs to the old mailbox).
pub async fn save_settings(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    s: &MailSettings,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let before = settings(ex, ws).await?;
    let same_mailbox = before.as_ref().is_some_and(|b| {
        (&b.imap_host, b.imap_port, &b.imap_username, &b.imap_folder)
            == (&s.imap_host, s.imap_port, &s.imap_username, &s.imap_folder)
    });
    let sql = if before.is_some() {
        let mut sql = Sql::new("UPDATE mail_settings SET updated_at = ");
        sql.bind(Scalar::Time(now));
        for (col, v) in TEXT_COLUMNS.iter().zip(s.texts()) {
            sql.push(", ")
                .push(col)
                .push(" = ")
                .bind(Scalar::Text(v.into()));
        }
        sql.push(", smtp_port = ").bind(port_arg(s.smtp_port));
        sql.push(", imap_port = ").bind(port_arg(s.imap_port));
        if !same_mailbox {
            sql.push(", imap_uid_validity = NULL, imap_last_uid = NULL");
        }
        sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
        sql
    } else {
        let mut sql =
            Sql::new("INSERT INTO mail_settings (workspace_id, updated_at, smtp_port, imap_port");
        for col in TEXT_COLUMNS {
            sql.push(", ").push(col);
        }
        sql.push(") VALUES (")
            .bind(ws_arg(ws))
            .push(", ")
            .bind(Scalar::Time(now));
        sql.push(", ").bind(port_arg(s.smtp_port));
        sql.push(", ").bind(port_arg(s.imap_port));
        for v in s.texts() {
            sql.push(", ").bind(Scalar::Text(v.into()));
        }
        sql.push(")");
        sql
    };
    ex.execute(sql).await?;
    Ok(())
}

/// Where IMAP fetching stopped: (UIDVALIDITY, last UID logged).
pub async fn imap_cursor(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Option<(u32, u32)>, Error> {
    let row = ex
        .fetch_optional(
            Sql::new(
                "SELECT imap_uid_validity, imap_last_uid FROM mail_settings WHERE workspace_id = ",
            )
            .arg(ws_arg(ws)),
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let conv = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Ok(conv(r.int("imap_uid_validity")?).zip(conv(r.int("imap_last_uid")?)))
}

/// Remembers where IMAP fetching stopped.
pub async fn set_imap_cursor(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    uid_validity: u32,
    last_uid: u32,
) -> Result<(), Error> {
    ex.execute(
        Sql::new("UPDATE mail_settings SET imap_uid_validity = ")
            .arg(Scalar::Int(i64::from(uid_validity)))
            .and(", imap_last_uid = ")
            .arg(Scalar::Int(i64::from(last_uid)))
            .and(" WHERE workspace_id = ")
            .arg(ws_arg(ws)),
    )
    .await?;
    Ok(())
}

/// Workspaces with an IMAP server set up, for the fetch schedule.
pub async fn workspaces_with_imap(ex: &mut impl Exec) -> Result<Vec<WorkspaceId>, Error> {
    let rows = ex
        .fetch_all(Sql::new(
            "SELECT workspace_id FROM mail_settings WHERE imap_host <> ''",
        ))
        .await?;
    rows.iter()
        .map(|r| Ok(WorkspaceId(r.uuid("workspace_id")?.unwrap_or_default())))
        .collect()
}

/// The live contact whose main email or one of whose email identities is `email`
/// (already normalised); the oldest wins if several share it.
pub async fn contact_by_email(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    email: &str,
) -> Result<Option<Uuid>, Error> {
    let sql = Sql::new("SELECT c.id FROM contacts c WHERE c.workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND c.deleted_at IS NULL AND (c.email = ")
        .arg(Scalar::Text(email.into()))
        .and(" OR c.id IN (SELECT i.contact_id FROM identities i WHERE i.workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND i.kind = 'email' AND i.value = ")
        .arg(Scalar::Text(email.into()))
        .and(")) ORDER BY c.created_at, c.id LIMIT 1");
    Ok(ex
        .fetch_optional(sql)
        .await?
        .map(|r| r.uuid("id"))
        .transpose()?
        .flatten())
}

/// Whether an email with this Message-ID and direction is on a timeline already (a
/// failed send does not count: trying it again is allowed).
pub async fn email_logged(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    message_id: &str,
    direction: &str,
) -> Result<bool, Error> {
    let sql = Sql::new("SELECT id FROM activities WHERE workspace_id = ")
        .arg(ws_arg(ws))
        .and(" AND message_id = ")
        .arg(Scalar::Text(message_id.into()))
        .and(" AND direction = ")
        .arg(Scalar::Text(direction.into()))
        .and(" AND email_status <> 'failed' AND deleted_at IS NULL LIMIT 1");
    Ok(ex.fetch_optional(sql).await?.is_some())
}

/// A stored email template: subject, HTML and text are each template source.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailTemplate {
    /// Id (UUIDv7).
    pub id: Uuid,
    /// Its name, unique in the workspace.
    pub name: String,
    /// `en`, `da` or `zh-CN`.
    pub language: String,
    /// Subject template.
    pub subject: String,
    /// HTML body template.
    pub html: String,
    /// Plain-text body template.
    pub text: String,
    /// Starts at 1, +1 per change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl EmailTemplate {
    fn from_row(r: &Row) -> Result<EmailTemplate, Error> {
        let t = |c: &str| -> Result<String, Error> { Ok(r.text(c)?.unwrap_or_default()) };
        let corrupt = || Error::Corrupt("email template without id or time".into());
        Ok(EmailTemplate {
            id: r.uuid("id")?.ok_or_else(corrupt)?,
            name: t("name")?,
            language: t("language")?,
            subject: t("subject")?,
            html: t("html")?,
            text: t("text")?,
            version: r.int("version")?.unwrap_or(1),
            created_at: r.time("created_at")?.ok_or_else(corrupt)?,
            updated_at: r.time("updated_at")?.ok_or_else(corrupt)?,
        })
    }
}

/// The workspace's email templates by name.
pub async fn templates(ex: &mut impl Exec, ws: WorkspaceId) -> Result<Vec<EmailTemplate>, Error> {
    let rows = ex
        .fetch_all(
            Sql::new("SELECT * FROM email_templates WHERE workspace_id = ")
                .arg(ws_arg(ws))
                .and(" ORDER BY name, id"),
        )
        .await?;
    rows.iter().map(EmailTemplate::from_row).collect()
}

/// One email template of the workspace.
pub async fn template(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<EmailTemplate>, Error> {
    let row = ex
        .fetch_optional(
            Sql::new("SELECT * FROM email_templates WHERE workspace_id = ")
                .arg(ws_arg(ws))
                .and(" AND id = ")
                .arg(Scalar::Uuid(id)),
        )
        .await?;
    row.as_ref().map(EmailTemplate::from_row).transpose()
}

/// Inserts a template (its `version` and times as given).
pub async fn insert_template(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    t: &EmailTemplate,
) -> Result<(), Error> {
    let mut sql = Sql::new("INSERT INTO email_templates (id, workspace_id, version, name, language, subject, html, text, created_at, updated_at) VALUES (");
    sql.bind(Scalar::Uuid(t.id)).push(", ").bind(ws_arg(ws));
    sql.push(", ").bind(Scalar::Int(t.version));
    for v in [&t.name, &t.language, &t.subject, &t.html, &t.text] {
        sql.push(", ").bind(Scalar::Text(v.clone()));
    }
    sql.push(", ").bind(Scalar::Time(t.created_at));
    sql.push(", ").bind(Scalar::Time(t.updated_at)).push(")");
    ex.execute(sql).await.map_err(|e| e.unique_as("name"))?;
    Ok(())
}

/// Replaces a template's content if it is still at `expected_version` (false if not).
pub async fn update_template(
    ex: &mut impl Exec,
    ws: WorkspaceId,
    t: &EmailTemplate,
    expected_version: i64,
) -> Result<bool, Error> {
    let mut sql = Sql::new("UPDATE email_templates SET version = ");
    sql.bind(Scalar::Int(expected_version + 1));
    for (col, v) in [
        ("name", &t.name),
        ("language", &t.language),
        ("subject", &t.subject),
        ("html", &t.html),
        ("text", &t.text),
    ] {
        sql.push(", ")
            .push(col)
            .push(" = ")
            .bind(Scalar::Text(v.clone()));
    }
    sql.push(", updated_at = ").bind(Scalar::Time(t.updated_at));
    sql.push(" WHERE workspace_id = ").bind(ws_arg(ws));
    sql.push(" AND id = ").bind(Scalar::Uuid(t.id));
    sql.push(" AND version = ")
        .bind(Scalar::Int(expected_version));
    let n = ex.execute(sql).await.map_err(|e| e.unique_as("name"))?;
    Ok(n > 0)
}

/// Deletes a template; false when there was none.
pub async fn delete_template(ex: &mut impl Exec, ws: WorkspaceId, id: Uuid) -> Result<bool, Error> {
    let n = ex
        .execute(
            Sql::new("DELETE FROM email_templates WHERE workspace_id = ")
                .arg(ws_arg(ws))
                .and(" AND id = ")
                .arg(Scalar::Uuid(id)),
        )
        .await?;
    Ok(n > 0)
}
