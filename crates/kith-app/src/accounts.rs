//! Signing in: passwords (argon2id), sessions, API tokens, and the rate limit on attempts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{Duration, Utc};
use kith_core::normalise_email;
use kith_store::accounts::{self as store, User, Workspace};
use sha2::{Digest, Sha256};

use uuid::Uuid;

use crate::{App, Caller, Error, Role};

/// Failed attempts allowed per email in [`LOCKOUT_WINDOW_MINUTES`].
pub const MAX_FAILED_LOGINS: i64 = 10;
/// Window of the sign-in rate limit.
pub const LOCKOUT_WINDOW_MINUTES: i64 = 15;
/// How long a session lives.
pub const SESSION_DAYS: i64 = 14;
/// Shortest password `user add` accepts.
pub const MIN_PASSWORD_LEN: usize = 10;

/// A fresh random secret, URL-safe.
pub(crate) fn secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the OS random source works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Hash under which a session or API token is stored: the token itself never is.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

async fn hash_password(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(secret(16).as_bytes())
            .map_err(|_| Error::Unauthorized("salt"))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| Error::Unauthorized("password could not be hashed"))
    })
    .await
    .map_err(|_| Error::Unauthorized("password hashing failed"))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A new session: the cookie value and the CSRF token that must accompany writes.
#[derive(Debug, Clone)]
pub struct Session {
    /// Secret cookie value.
    pub token: String,
    /// Token for the `X-CSRF-Token` header.
    pub csrf: String,
    /// Who signed in.
    pub caller: Caller,
}

impl App {
    async fn caller_for(&self, user: User) -> Result<Caller, Error> {
        if user.disabled {
            return Err(Error::Unauthorized("this user is disabled"));
        }
        let workspace = store::workspace(&self.db, user.workspace_id)
            .await?
            .ok_or(Error::Unauthorized("the user's workspace is gone"))?;
        Ok(Caller { user, workspace })
    }

    /// The workspace called `name`, created (with defaults) when missing.
    pub async fn ensure_workspace(&self, name: &str) -> Result<Workspace, Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(kith_core::Error::field("workspace", "must be 1 to 100 characters").into());
        }
        if let Some(w) = store::workspace_by_name(&self.db, name).await? {
            return Ok(w);
        }
        match store::create_workspace(&self.db, name, "EUR", None, Utc::now()).await {
            Ok(w) => Ok(w),
            // Another process created it at the same moment.
            Err(kith_store::Error::Duplicate(_)) => store::workspace_by_name(&self.db, name)
                .await?
                .ok_or(Error::NotFound("workspace")),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a workspace's default currency, phone region and time zone.
    pub async fn configure_workspace(
        &self,
        name: &str,
        currency: &str,
        phone_region: Option<&str>,
        time_zone: &str,
    ) -> Result<Workspace, Error> {
        let mut errors = kith_core::FieldErrors::default();
        let currency = match kith_core::fields::parse(
            kith_core::fields::Kind::Currency,
            &currency.into(),
            &Default::default(),
        ) {
            Ok(kith_core::Scalar::Text(c)) => c,
            _ => {
                errors.add("currency", "must be an ISO 4217 code such as DKK");
                String::new()
            }
        };
        let region = match phone_region.map(kith_core::PhoneRegion::parse).transpose() {
            Ok(r) => r.map(|r| r.code().to_string()),
            Err(e) => {
                errors.add("phone_region", e);
                None
            }
        };
        if !errors.is_empty() {
            return Err(kith_core::Error::fields(errors).into());
        }
        let ws = self.ensure_workspace(name).await?;
        store::update_workspace(&self.db, ws.id, &currency, region.as_deref(), time_zone).await?;
        store::workspace(&self.db, ws.id)
            .await?
            .ok_or(Error::NotFound("workspace"))
    }

    /// The user with `email`, as a caller (for the CLI and the demo).
    pub async fn caller_by_email(&self, email: &str) -> Result<Caller, Error> {
        let user = store::user_by_email(&self.db, &email.trim().to_lowercase())
            .await?
            .ok_or(Error::NotFound("user"))?;
        self.caller_for(user).await
    }

    /// The caller a command-line import acts as when no user is named: the first admin
    /// of the only workspace.
    pub async fn default_caller(&self) -> Result<Caller, Error> {
        let user = store::sole_admin(&self.db)
            .await?
            .ok_or(Error::NotFound("single admin (name one with --user EMAIL)"))?;
        self.caller_for(user).await
    }

    /// The caller a background job acts as: the user who started it.
    pub async fn caller_by_id(&self, id: Uuid) -> Result<Caller, Error> {
        let user = store::user_by_id(&self.db, id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        self.caller_for(user).await
    }

    /// Creates a user in workspace `workspace` (created if missing).
    pub async fn add_user(
        &self,
        email: &str,
        role: Role,
        workspace: &str,
        password: &str,
    ) -> Result<User, Error> {
        let email = normalise_email(email).map_err(|e| kith_core::Error::field("email", e))?;
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(kith_core::Error::field(
                "password",
                format!("must be at least {MIN_PASSWORD_LEN} characters"),
            )
            .into());
        }
        if store::user_by_email(&self.db, &email).await?.is_some() {
            return Err(Error::Duplicate(format!(
                "a user with email {email} exists already"
            )));
        }
        let ws = self.ensure_workspace(workspace).await?;
        let hash = hash_password(password.to_string()).await?;
        Ok(store::create_user(
            &self.db,
            ws.id,
            &email,
            role.as_str(),
            Some(&hash),
            Utc::now(),
        )
        .await?)
    }

    /// Checks email and password and opens a session; refuses after too many failures.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session, Error> {
        let email = email.trim().to_lowercase();
        let now = Utc::now();
        let since = now - Duration::minutes(LOCKOUT_WINDOW_MINUTES);
        if store::failed_logins_since(&self.db, &email, since).await? >= MAX_FAILED_LOGINS {
            return Err(Error::RateLimited {
                retry_after_secs: (LOCKOUT_WINDOW_MINUTES * 60) as u64,
            });
        }
        let user = store::user_by_email(&self.db, &email).await?;
        let ok = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(hash) => verify_password(password.to_string(), hash).await,
            None => {
                // Spend the same time on unknown emails, so timing does not tell who exists.
                let _ = hash_password(password.to_string()).await;
                false
            }
        };
        store::record_login_attempt(&self.db, &email, now, ok).await?;
        let (true, Some(user)) = (ok, user) else {
            return Err(Error::Unauthorized("wrong email or password"));
        };
        let caller = self.caller_for(user).await?;
        let token = secret(32);
        let csrf = secret(24);
        store::create_session(
            &self.db,
            &token_hash(&token),
            &caller.user,
            &csrf,
            now,
            now + Duration::days(SESSION_DAYS),
        )
        .await?;
        Ok(Session {
            token,
            csrf,
            caller,
        })
    }

    /// The caller behind a session cookie, with the session's CSRF token.
    pub async fn session(&self, token: &str) -> Result<(Caller, String), Error> {
        let (user, csrf) = store::session(&self.db, &token_hash(token), Utc::now())
            .await?
            .ok_or(Error::Unauthorized(
                "session expired or unknown; sign in again",
            ))?;
        Ok((self.caller_for(user).await?, csrf))
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), Error> {
        Ok(store::delete_session(&self.db, &token_hash(token)).await?)
    }

    /// Creates an API token for the user with `email`; the token is shown only now.
    pub async fn create_token(&self, email: &str, name: &str) -> Result<String, Error> {
        let email = email.trim().to_lowercase();
        let user = store::user_by_email(&self.db, &email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let token = format!("kith_{}", secret(32));
        store::create_token(&self.db, &user, &token_hash(&token), name, Utc::now()).await?;
        Ok(token)
    }

    /// The caller behind an API token.
    pub async fn token_caller(&self, token: &str) -> Result<Caller, Error> {
        let user = store::user_by_token(&self.db, &token_hash(token))
            .await?
            .ok_or(Error::Unauthorized("unknown or revoked API token"))?;
        self.caller_for(user).await
    }
}

impl App {
    /// Changes the caller's workspace defaults (admins only): `currency`, `phone_region`, `time_zone`.
    pub async fn update_workspace_settings(
        &self,
        caller: &Caller,
        input: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Workspace, Error> {
        if caller.role() != Role::Admin {
            return Err(Error::Forbidden("only admins change workspace settings"));
        }
        let ws = &caller.workspace;
        let mut errors = kith_core::FieldErrors::default();
        let mut currency = ws.currency.clone();
        let mut region = ws.phone_region.clone();
        let mut time_zone = ws.time_zone.clone();
        for (k, v) in input {
            match k.as_str() {
                "currency" => match v.as_str().map(|s| s.trim().to_ascii_uppercase()) {
                    Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {
                        currency = c
                    }
                    _ => errors.add(k, "must be an ISO 4217 code such as DKK"),
                },
                "phone_region" => match v {
                    serde_json::Value::Null => region = None,
                    serde_json::Value::String(s) => match kith_core::PhoneRegion::parse(s) {
                        Ok(r) => region = Some(r.code().to_string()),
                        Err(e) => errors.add(k, e),
                    },
                    _ => errors.add(k, "must be a country code such as DK, or null"),
                },
                "time_zone" => match v.as_str() {
                    Some(tz) if is_time_zone_name(tz) => time_zone = tz.to_string(),
                    _ => errors.add(k, "must be an IANA time zone such as Europe/Copenhagen"),
                },
                "id" | "name" => errors.add(k, "is read-only"),
                _ => errors.add(k, "unknown workspace setting"),
            }
        }
        if !errors.is_empty() {
            return Err(kith_core::Error::fields(errors).into());
        }
        store::update_workspace(&self.db, ws.id, &currency, region.as_deref(), &time_zone).await?;
        store::workspace(&self.db, ws.id)
            .await?
            .ok_or(Error::NotFound("workspace"))
    }
}

/// Whether `s` names a zone of the IANA database (`UTC`, `Europe/Copenhagen`).
fn is_time_zone_name(s: &str) -> bool {
    s.parse::<chrono_tz::Tz>().is_ok()
}

impl App {
    /// Remembers the caller's interface language (`en`, `zh-CN`, `da`).
    pub async fn set_locale(&self, caller: &Caller, locale: &str) -> Result<(), Error> {
        if !["en", "zh-CN", "da"].contains(&locale) {
            return Err(kith_core::Error::field("locale", "must be en, zh-CN or da").into());
        }
        Ok(store::set_locale(&self.db, caller.user.id, locale).await?)
    }

    /// Sets the name the caller is shown by (owner lists, the user menu) and an import
    /// may name them by; an empty name clears it, so they are shown by email.
    pub async fn set_name(&self, caller: &Caller, name: &str) -> Result<Option<String>, Error> {
        let name = user_name(name).map_err(|e| kith_core::Error::field("name", e))?;
        store::set_name(&self.db, caller.user.id, name.as_deref()).await?;
        Ok(name)
    }

    /// The users of the caller's workspace.
    pub async fn users(&self, caller: &Caller) -> Result<Vec<User>, Error> {
        Ok(store::users(&self.db, caller.workspace.id).await?)
    }

    /// Deal count and value per stage of a pipeline.
    pub async fn stage_totals(
        &self,
        caller: &Caller,
        pipeline: uuid::Uuid,
    ) -> Result<Vec<kith_store::records::StageTotal>, Error> {
        Ok(
            kith_store::records::stage_totals(&mut self.db.clone(), caller.workspace.id, pipeline)
                .await?,
        )
    }
}

/// How long an invitation link works.
pub const INVITE_DAYS: i64 = 7;

impl App {
    /// Changes the role of a user of the caller's workspace (admins only; the last
    /// admin cannot demote themselves, or nobody could manage the workspace).
    pub async fn set_role(
        &self,
        caller: &Caller,
        user: uuid::Uuid,
        role: Role,
    ) -> Result<(), Error> {
        if caller.role() != Role::Admin {
            return Err(Error::Forbidden("only admins change roles"));
        }
        let users = store::users(&self.db, caller.workspace.id).await?;
        let target = users
            .iter()
            .find(|u| u.id == user)
            .ok_or(Error::NotFound("user"))?;
        let admins = users.iter().filter(|u| u.role == "admin").count();
        if target.role == "admin" && role != Role::Admin && admins <= 1 {
            return Err(
                kith_core::Error::field("role", "the workspace needs at least one admin").into(),
            );
        }
        store::set_role(&self.db, caller.workspace.id, user, role.as_str()).await?;
        Ok(())
    }

    /// Creates an invitation link secret for `email` with `role` (admins only); shown once.
    pub async fn invite(&self, caller: &Caller, email: &str, role: Role) -> Result<String, Error> {
        if caller.role() != Role::Admin {
            return Err(Error::Forbidden("only admins invite people"));
        }
        let email = normalise_email(email).map_err(|e| kith_core::Error::field("email", e))?;
        if store::user_by_email(&self.db, &email).await?.is_some() {
            return Err(Error::Duplicate(format!(
                "a user with email {email} exists already"
            )));
        }
        let token = secret(32);
        let now = Utc::now();
        let invite = store::Invite {
            workspace_id: caller.workspace.id,
            email,
            role: role.as_str().into(),
        };
        store::create_invite(
            &self.db,
            &token_hash(&token),
            &invite,
            caller.user.id,
            now,
            now + Duration::days(INVITE_DAYS),
        )
        .await?;
        Ok(token)
    }

    /// The email an invitation is for, if the link still works.
    pub async fn invite_email(&self, token: &str) -> Result<String, Error> {
        store::peek_invite(&self.db, &token_hash(token), Utc::now())
            .await?
            .map(|i| i.email)
            .ok_or(Error::NotFound("invitation"))
    }

    /// Uses an invitation: creates the user with `password` and the `name` they give
    /// (may be empty) and signs them in.
    pub async fn accept_invite(
        &self,
        token: &str,
        password: &str,
        name: &str,
    ) -> Result<Session, Error> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(kith_core::Error::field(
                "password",
                format!("must be at least {MIN_PASSWORD_LEN} characters"),
            )
            .into());
        }
        let name = user_name(name).map_err(|e| kith_core::Error::field("name", e))?;
        let hash = hash_password(password.to_string()).await?;
        let invite = store::take_invite(&self.db, &token_hash(token), Utc::now())
            .await?
            .ok_or(Error::NotFound("invitation"))?;
        let user = store::create_user(
            &self.db,
            invite.workspace_id,
            &invite.email,
            &invite.role,
            Some(&hash),
            Utc::now(),
        )
        .await?;
        if name.is_some() {
            store::set_name(&self.db, user.id, name.as_deref()).await?;
        }
        self.login(&invite.email, password).await
    }
}

/// Longest name a user may be shown by, in characters.
const MAX_USER_NAME: usize = 100;

/// A user's name as typed, trimmed with runs of spaces made one; `None` when empty.
pub fn user_name(typed: &str) -> Result<Option<String>, String> {
    if typed.chars().any(char::is_control) {
        return Err("must be one line of text".into());
    }
    let name = typed.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > MAX_USER_NAME {
        return Err(format!("must be at most {MAX_USER_NAME} characters"));
    }
    Ok((!name.is_empty()).then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hashes_are_stable_and_hide_the_token() {
        let h = token_hash("kith_abc");
        assert_eq!(h.len(), 64);
        assert_eq!(h, token_hash("kith_abc"));
        assert!(!h.contains("abc"));
    }

    #[test]
    fn a_users_name_is_one_tidy_line() {
        assert_eq!(user_name("  Bo   Berg "), Ok(Some("Bo Berg".into())));
        assert_eq!(user_name("王经理"), Ok(Some("王经理".into())));
        assert_eq!(user_name("   "), Ok(None));
        assert!(user_name("Bo\nBerg").is_err());
        assert!(user_name(&"å".repeat(101)).unwrap_err().contains("100"));
        assert_eq!(user_name(&"å".repeat(100)).unwrap().unwrap().len(), 200);
    }

    #[tokio::test]
    async fn passwords_verify_only_with_the_right_password() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), h.clone()).await);
        assert!(!verify_password("wrong".into(), h).await);
    }
}
