//! Workspaces, users, sessions, API tokens and login attempts.

use chrono::{DateTime, Utc};
use kith_core::{Scalar, ScalarType};
use uuid::Uuid;

use crate::db::{Db, Exec, Row, Sql};
use crate::{Error, WorkspaceId};

/// A tenant: everything in Kith belongs to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Id.
    pub id: WorkspaceId,
    /// Unique name.
    pub name: String,
    /// Default currency (ISO 4217).
    pub currency: String,
    /// Default region for phone numbers without `+`.
    pub phone_region: Option<String>,
    /// IANA time zone.
    pub time_zone: String,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: Uuid,
    /// Workspace.
    pub workspace_id: WorkspaceId,
    /// Email (lower-case, unique).
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// admin, member or read_only.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: Option<String>,
    /// UI language the user chose (`en`, `zh-CN`, `da`); empty: follow the browser.
    pub locale: String,
    /// Refused at sign-in.
    pub disabled: bool,
}

fn workspace_from(row: &Row) -> Result<Workspace, Error> {
    Ok(Workspace {
        id: WorkspaceId(row.uuid("id")?.unwrap_or_default()),
        name: row.text("name")?.unwrap_or_default(),
        currency: row.text("currency")?.unwrap_or_default(),
        phone_region: row.text("phone_region")?,
        time_zone: row.text("time_zone")?.unwrap_or_default(),
    })
}

const USER_COLUMNS: &str =
    "u.id, u.workspace_id, u.email, u.name, u.role, u.password_hash, u.locale, u.disabled";

fn user_from(row: &Row) -> Result<User, Error> {
    Ok(User {
        id: row.uuid("id")?.unwrap_or_default(),
        workspace_id: WorkspaceId(row.uuid("workspace_id")?.unwrap_or_default()),
        email: row.text("email")?.unwrap_or_default(),
        name: row.text("name")?,
        role: row.text("role")?.unwrap_or_default(),
        password_hash: row.text("password_hash")?,
        locale: row.text("locale")?.unwrap_or_default(),
        disabled: row.bool("disabled")?.unwrap_or(false),
    })
}

/// The workspace called `name`.
pub async fn workspace_by_name(db: &Db, name: &str) -> Result<Option<Workspace>, Error> {
    let sql = Sql::new("SELECT * FROM workspaces WHERE name = ").arg(Scalar::Text(name.into()));
    db.clone()
        .fetch_optional(sql)
        .await?
        .as_ref()
        .map(workspace_from)
        .transpose()
}

/// The workspace with `id`.
pub async fn workspace(db: &Db, id: WorkspaceId) -> Result<Option<Workspace>, Error> {
    let sql = Sql::new("SELECT * FROM workspaces WHERE id = ").arg(Scalar::Uuid(id.0));
    db.clone()
        .fetch_optional(sql)
        .await?
        .as_ref()
        .map(workspace_from)
        .transpose()
}

/// Creates a workspace.
pub async fn create_workspace(
    db: &Db,
    name: &str,
    currency: &str,
    phone_region: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Workspace, Error> {
    let id = Uuid::now_v7();
    let sql = Sql::new(
        "INSERT INTO workspaces (id, name, currency, phone_region, time_zone, created_at) VALUES (",
    )
    .arg(Scalar::Uuid(id))
    .and(", ")
    .arg(Scalar::Text(name.into()))
    .and(", ")
    .arg(Scalar::Text(currency.into()))
    .and(", ")
    .arg(
        phone_region
            .map(|r| Scalar::Text(r.into()))
            .unwrap_or(Scalar::Null(ScalarType::Text)),
    )
    .and(", 'UTC', ")
    .arg(Scalar::Time(now))
    .and(")");
    db.clone()
        .execute(sql)
        .await
        .map_err(|e| e.unique_as("workspace name"))?;
    Ok(Workspace {
        id: WorkspaceId(id),
        name: name.into(),
        currency: currency.into(),
        phone_region: phone_region.map(String::from),
        time_zone: "UTC".into(),
    })
}

/// The user with `email` (lower-cased by the caller).
pub async fn user_by_email(db: &Db, email: &str) -> Result<Option<User>, Error> {
    let sql = Sql::new(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.email = "
    ))
    .arg(Scalar::Text(email.into()));
    db.clone()
        .fetch_optional(sql)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// The first admin, when the database holds one workspace only (the CLI's default user).
pub async fn sole_admin(db: &Db) -> Result<Option<User>, Error> {
    let mut db = db.clone();
    let n = db
        .fetch_optional(Sql::new("SELECT COUNT(*) AS n FROM workspaces"))
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0);
    if n != 1 {
        return Ok(None);
    }
    let sql = Sql::new(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.role = 'admin' AND u.disabled = "
    ))
    .arg(Scalar::Bool(false))
    .and(" ORDER BY u.created_at, u.id LIMIT 1");
    db.fetch_optional(sql)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// Every workspace, for jobs that visit them all.
pub async fn workspace_ids(db: &Db) -> Result<Vec<WorkspaceId>, Error> {
    let mut out = vec![];
    for r in db
        .clone()
        .fetch_all(Sql::new("SELECT id FROM workspaces ORDER BY id"))
        .await?
    {
        out.extend(r.uuid("id")?.map(WorkspaceId));
    }
    Ok(out)
}

/// The user with id `id`.
pub async fn user_by_id(db: &Db, id: Uuid) -> Result<Option<User>, Error> {
    let sql = Sql::new(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = "))
        .arg(Scalar::Uuid(id));
    db.clone()
        .fetch_optional(sql)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// Creates a user.
pub async fn create_user(
    db: &Db,
    ws: WorkspaceId,
    email: &str,
    role: &str,
    password_hash: Option<&str>,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    let id = Uuid::now_v7();
    let sql = Sql::new(
        "INSERT INTO users (id, workspace_id, email, role, password_hash, created_at) VALUES (",
    )
    .arg(Scalar::Uuid(id))
    .and(", ")
    .arg(Scalar::Uuid(ws.0))
    .and(", ")
    .arg(Scalar::Text(email.into()))
    .and(", ")
    .arg(Scalar::Text(role.into()))
    .and(", ")
    .arg(
        password_hash
            .map(|h| Scalar::Text(h.into()))
            .unwrap_or(Scalar::Null(ScalarType::Text)),
    )
    .and(", ")
    .arg(Scalar::Time(now))
    .and(")");
    db.clone()
        .execute(sql)
        .await
        .map_err(|e| e.unique_as("email"))?;
    Ok(User {
        id,
        workspace_id: ws,
        email: email.into(),
        name: None,
        role: role.into(),
        password_hash: password_hash.map(String::from),
        locale: String::new(),
        disabled: false,
    })
}

/// Replaces a user's role and password hash (re-running `user add`).
pub async fn update_user(db: &Db, id: Uuid, role: &str, password_hash: &str) -> Result<(), Error> {
    let sql = Sql::new("UPDATE users SET role = ")
        .arg(Scalar::Text(role.into()))
        .and(", password_hash = ")
        .arg(Scalar::Text(password_hash.into()))
        .and(" WHERE id = ")
        .arg(Scalar::Uuid(id));
    db.clone().execute(sql).await?;
    Ok(())
}

/// Stores a new session.
pub async fn create_session(
    db: &Db,
    token_hash: &str,
    user: &User,
    csrf: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), Error> {
    let sql = Sql::new("INSERT INTO sessions (token_hash, user_id, workspace_id, csrf_token, created_at, expires_at) VALUES (")
        .arg(Scalar::Text(token_hash.into()))
        .and(", ")
        .arg(Scalar::Uuid(user.id))
        .and(", ")
        .arg(Scalar::Uuid(user.workspace_id.0))
        .and(", ")
        .arg(Scalar::Text(csrf.into()))
        .and(", ")
        .arg(Scalar::Time(now))
        .and(", ")
        .arg(Scalar::Time(expires))
        .and(")");
    db.clone().execute(sql).await?;
    Ok(())
}

/// The live session's user and CSRF token.
pub async fn session(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(User, String)>, Error> {
    let sql = Sql::new(&format!(
        "SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = "
    ))
    .arg(Scalar::Text(token_hash.into()))
    .and(" AND s.expires_at > ")
    .arg(Scalar::Time(now));
    match db.clone().fetch_optional(sql).await? {
        Some(row) => Ok(Some((
            user_from(&row)?,
            row.text("csrf_token")?.unwrap_or_default(),
        ))),
        None => Ok(None),
    }
}

/// Ends a session.
pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), Error> {
    db.clone()
        .execute(
            Sql::new("DELETE FROM sessions WHERE token_hash = ")
                .arg(Scalar::Text(token_hash.into())),
        )
        .await?;
    Ok(())
}

/// Stores a new API token's hash.
pub async fn create_token(
    db: &Db,
    user: &User,
    token_hash: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    let sql = Sql::new(
        "INSERT INTO api_tokens (id, workspace_id, user_id, token_hash, name, created_at) VALUES (",
    )
    .arg(Scalar::Uuid(id))
    .and(", ")
    .arg(Scalar::Uuid(user.workspace_id.0))
    .and(", ")
    .arg(Scalar::Uuid(user.id))
    .and(", ")
    .arg(Scalar::Text(token_hash.into()))
    .and(", ")
    .arg(Scalar::Text(name.into()))
    .and(", ")
    .arg(Scalar::Time(now))
    .and(")");
    db.clone().execute(sql).await?;
    Ok(id)
}

/// The user an unrevoked API token belongs to.
pub async fn user_by_token(db: &Db, token_hash: &str) -> Result<Option<User>, Error> {
    let sql = Sql::new(&format!(
        "SELECT {USER_COLUMNS} FROM api_tokens k JOIN users u ON u.id = k.user_id WHERE k.revoked_at IS NULL AND k.token_hash = "
    ))
    .arg(Scalar::Text(token_hash.into()));
    db.clone()
        .fetch_optional(sql)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// Notes a sign-in attempt for rate limiting.
pub async fn record_login_attempt(
    db: &Db,
    email: &str,
    now: DateTime<Utc>,
    succeeded: bool,
) -> Result<(), Error> {
    let sql = Sql::new("INSERT INTO login_attempts (email, at, succeeded) VALUES (")
        .arg(Scalar::Text(email.into()))
        .and(", ")
        .arg(Scalar::Time(now))
        .and(", ")
        .arg(Scalar::Bool(succeeded))
        .and(")");
    db.clone().execute(sql).await?;
    Ok(())
}

/// Failed sign-ins for `email` since `since`.
pub async fn failed_logins_since(db: &Db, email: &str, since: DateTime<Utc>) -> Result<i64, Error> {
    let sql = Sql::new("SELECT COUNT(*) AS n FROM login_attempts WHERE email = ")
        .arg(Scalar::Text(email.into()))
        .and(" AND succeeded = ")
        .arg(Scalar::Bool(false))
        .and(" AND at > ")
        .arg(Scalar::Time(since));
    Ok(db
        .clone()
        .fetch_optional(sql)
        .await?
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0))
}

/// Sets a workspace's defaults.
pub async fn update_workspace(
    db: &Db,
    id: WorkspaceId,
    currency: &str,
    phone_region: Option<&str>,
    time_zone: &str,
) -> Result<(), Error> {
    let sql = Sql::new("UPDATE workspaces SET currency = ")
        .arg(Scalar::Text(currency.into()))
        .and(", phone_region = ")
        .arg(
            phone_region
                .map(|r| Scalar::Text(r.into()))
                .unwrap_or(Scalar::Null(ScalarType::Text)),
        )
        .and(", time_zone = ")
        .arg(Scalar::Text(time_zone.into()))
        .and(" WHERE id = ")
        .arg(Scalar::Uuid(id.0));
    db.clone().execute(sql).await?;
    Ok(())
}

/// Sets a user's interface language.
pub async fn set_locale(db: &Db, user: Uuid, locale: &str) -> Result<(), Error> {
    let sql = Sql::new("UPDATE users SET locale = ")
        .arg(Scalar::Text(locale.into()))
        .and(" WHERE id = ")
        .arg(Scalar::Uuid(user));
    db.clone().execute(sql).await?;
    Ok(())
}

/// Sets the name a user is shown by (`None`: shown by email).
pub async fn set_name(db: &Db, user: Uuid, name: Option<&str>) -> Result<(), Error> {
    let name = match name {
        Some(n) => Scalar::Text(n.into()),
        None => Scalar::Null(ScalarType::Text),
    };
    let sql = Sql::new("UPDATE users SET name = ")
        .arg(name)
        .and(" WHERE id = ")
        .arg(Scalar::Uuid(user));
    db.clone().execute(sql).await?;
    Ok(())
}

/// The users of a workspace, by email.
pub async fn users(db: &Db, ws: WorkspaceId) -> Result<Vec<User>, Error> {
    let sql = Sql::new(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.workspace_id = "
    ))
    .arg(Scalar::Uuid(ws.0))
    .and(" ORDER BY u.email");
    db.clone()
        .fetch_all(sql)
        .await?
        .iter()
        .map(user_from)
        .collect()
}

/// Changes a user's role.
pub async fn set_role(db: &Db, ws: WorkspaceId, user: Uuid, role: &str) -> Result<bool, Error> {
    let sql = Sql::new("UPDATE users SET role = ")
        .arg(Scalar::Text(role.into()))
        .and(" WHERE workspace_id = ")
        .arg(Scalar::Uuid(ws.0))
        .and(" AND id = ")
        .arg(Scalar::Uuid(user));
    Ok(db.clone().execute(sql).await? == 1)
}

/// An invitation to join a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// Workspace to join.
    pub workspace_id: WorkspaceId,
    /// Email the account will have.
    pub email: String,
    /// Role it will have.
    pub role: String,
}

/// Stores an invitation under the hash of its secret.
pub async fn create_invite(
    db: &Db,
    token_hash: &str,
    invite: &Invite,
    by: Uuid,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), Error> {
    let sql = Sql::new("INSERT INTO invites (token_hash, workspace_id, email, role, invited_by, created_at, expires_at) VALUES (")
        .arg(Scalar::Text(token_hash.into()))
        .and(", ")
        .arg(Scalar::Uuid(invite.workspace_id.0))
        .and(", ")
        .arg(Scalar::Text(invite.email.clone()))
        .and(", ")
        .arg(Scalar::Text(invite.role.clone()))
        .and(", ")
        .arg(Scalar::Uuid(by))
        .and(", ")
        .arg(Scalar::Time(now))
        .and(", ")
        .arg(Scalar::Time(expires))
        .and(")");
    db.clone().execute(sql).await?;
    Ok(())
}

/// Marks an unused, unexpired invitation used and returns it (once).
pub async fn take_invite(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, Error> {
    let mut tx = db.begin().await?;
    let sql = Sql::new("SELECT workspace_id, email, role FROM invites WHERE token_hash = ")
        .arg(Scalar::Text(token_hash.into()))
        .and(" AND used_at IS NULL AND expires_at > ")
        .arg(Scalar::Time(now));
    let Some(row) = tx.fetch_optional(sql).await? else {
        return Ok(None);
    };
    let invite = Invite {
        workspace_id: WorkspaceId(row.uuid("workspace_id")?.unwrap_or_default()),
        email: row.text("email")?.unwrap_or_default(),
        role: row.text("role")?.unwrap_or_default(),
    };
    let used = Sql::new("UPDATE invites SET used_at = ")
        .arg(Scalar::Time(now))
        .and(" WHERE used_at IS NULL AND token_hash = ")
        .arg(Scalar::Text(token_hash.into()));
    if tx.execute(used).await? != 1 {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(invite))
}

/// The invitation behind a secret, if it can still be used (without using it).
pub async fn peek_invite(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invite>, Error> {
    let sql = Sql::new("SELECT workspace_id, email, role FROM invites WHERE token_hash = ")
        .arg(Scalar::Text(token_hash.into()))
        .and(" AND used_at IS NULL AND expires_at > ")
        .arg(Scalar::Time(now));
    let Some(row) = db.clone().fetch_optional(sql).await? else {
        return Ok(None);
    };
    Ok(Some(Invite {
        workspace_id: WorkspaceId(row.uuid("workspace_id")?.unwrap_or_default()),
        email: row.text("email")?.unwrap_or_default(),
        role: row.text("role")?.unwrap_or_default(),
    }))
}
