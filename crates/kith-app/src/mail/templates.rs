//! Stored email templates: subject, HTML and text are each checked by the template
//! parser on save, and previewed against a real contact.

use chrono::Utc;
use kith_core::templates::{html_to_text, Template};
use kith_core::FieldErrors;
use kith_store::mail::{self as store, EmailTemplate};
use kith_store::WorkspaceId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{App, Caller, Error, Role};

/// Languages a template can be written in (the UI's languages).
pub const LANGUAGES: &[&str] = &["en", "da", "zh-CN"];

/// A template as a client sends it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmailTemplateInput {
    /// Name, unique in the workspace.
    #[serde(default)]
    pub name: String,
    /// en, da or zh-CN (default en).
    #[serde(default)]
    pub language: String,
    /// Subject template.
    #[serde(default)]
    pub subject: String,
    /// HTML body template.
    #[serde(default)]
    pub html: String,
    /// Plain-text body template; empty: derived from the HTML.
    #[serde(default)]
    pub text: String,
}

/// A template rendered for one contact.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Preview {
    /// Subject.
    pub subject: String,
    /// HTML body (values escaped).
    pub html: String,
    /// Plain-text body.
    pub text: String,
    /// Variables the template reads that the contact has no value for.
    pub missing: Vec<String>,
}

/// The three parts of a template, parsed.
pub(crate) struct Parsed {
    pub subject: Template,
    pub html: Option<Template>,
    pub text: Template,
}

/// Parses subject, HTML and text; each error names its part with line and column.
pub(crate) fn parse_parts(subject: &str, html: &str, text: &str) -> Result<Parsed, Error> {
    let mut errors = FieldErrors::default();
    let mut part = |name: &str, src: &str| match Template::parse(src) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.add(name, e.to_string());
            None
        }
    };
    let subject_t = part("subject", subject);
    let html_t = part("html", html);
    let text_t = part("text", text);
    // The HTML part is optional: an empty source means "text only".
    let has_html = !html.trim().is_empty();
    match (subject_t, html_t, text_t) {
        (Some(subject), Some(html_t), Some(text)) if errors.is_empty() => Ok(Parsed {
            subject,
            html: has_html.then_some(html_t),
            text,
        }),
        _ => Err(kith_core::Error::fields(errors).into()),
    }
}

impl Parsed {
    /// Renders all parts for one context.
    pub(crate) fn render(&self, ctx: &serde_json::Value) -> (String, Option<String>, String) {
        (
            self.subject.render_text(ctx).replace(['\r', '\n'], " "),
            self.html.as_ref().map(|h| h.render_html(ctx)),
            self.text.render_text(ctx),
        )
    }
}

fn check(input: EmailTemplateInput) -> Result<EmailTemplateInput, Error> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.add("name", "must be 1-200 characters");
    }
    let language = if input.language.trim().is_empty() {
        "en".to_string()
    } else {
        input.language.trim().to_string()
    };
    if !LANGUAGES.contains(&language.as_str()) {
        errors.add("language", "must be en, da or zh-CN");
    }
    if input.subject.trim().is_empty() {
        errors.add("subject", "is required");
    }
    if input.html.trim().is_empty() && input.text.trim().is_empty() {
        errors.add("html", "an HTML or a text body is required");
    }
    let text = if input.text.trim().is_empty() {
        html_to_text(&input.html)
    } else {
        input.text
    };
    if let Err(Error::Invalid(e)) = parse_parts(&input.subject, &input.html, &text) {
        for (k, v) in e.fields.0 {
            errors.add(k, v);
        }
    }
    if !errors.is_empty() {
        return Err(kith_core::Error::fields(errors).into());
    }
    Ok(EmailTemplateInput {
        name,
        language,
        subject: input.subject,
        html: input.html,
        text,
    })
}

fn writer(caller: &Caller) -> Result<(), Error> {
    match caller.role() {
        Role::ReadOnly => Err(Error::Forbidden(
            "read-only users cannot change email templates",
        )),
        _ => Ok(()),
    }
}

impl App {
    /// The workspace's email templates by name.
    pub async fn email_templates(&self, caller: &Caller) -> Result<Vec<EmailTemplate>, Error> {
        Ok(store::templates(&mut self.db.clone(), caller.workspace.id).await?)
    }

    /// One email template.
    pub async fn email_template(&self, caller: &Caller, id: Uuid) -> Result<EmailTemplate, Error> {
        self.template_in(caller.workspace.id, id).await
    }

    pub(crate) async fn template_in(
        &self,
        ws: WorkspaceId,
        id: Uuid,
    ) -> Result<EmailTemplate, Error> {
        store::template(&mut self.db.clone(), ws, id)
            .await?
            .ok_or(Error::NotFound("email template"))
    }

    /// Creates an email template after checking every part parses.
    pub async fn create_email_template(
        &self,
        caller: &Caller,
        input: EmailTemplateInput,
    ) -> Result<EmailTemplate, Error> {
        writer(caller)?;
        let i = check(input)?;
        let now = Utc::now();
        let t = EmailTemplate {
            id: Uuid::now_v7(),
            name: i.name,
            language: i.language,
            subject: i.subject,
            html: i.html,
            text: i.text,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store::insert_template(&mut self.db.clone(), caller.workspace.id, &t).await?;
        Ok(t)
    }

    /// Replaces an email template's content; `if_version` refuses a stale write.
    pub async fn update_email_template(
        &self,
        caller: &Caller,
        id: Uuid,
        input: EmailTemplateInput,
        if_version: Option<i64>,
    ) -> Result<EmailTemplate, Error> {
        writer(caller)?;
        let i = check(input)?;
        let ws = caller.workspace.id;
        let mut tx = self.db.begin().await?;
        let before = store::template(&mut tx, ws, id)
            .await?
            .ok_or(Error::NotFound("email template"))?;
        if if_version.is_some_and(|v| v != before.version) {
            return Err(Error::Conflict);
        }
        let t = EmailTemplate {
            name: i.name,
            language: i.language,
            subject: i.subject,
            html: i.html,
            text: i.text,
            version: before.version + 1,
            updated_at: Utc::now(),
            ..before.clone()
        };
        if !store::update_template(&mut tx, ws, &t, before.version).await? {
            return Err(Error::Conflict);
        }
        tx.commit().await?;
        Ok(t)
    }

    /// Deletes an email template.
    pub async fn delete_email_template(&self, caller: &Caller, id: Uuid) -> Result<(), Error> {
        writer(caller)?;
        if store::delete_template(&mut self.db.clone(), caller.workspace.id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("email template"))
        }
    }

    /// Renders a stored template for one contact of the caller's workspace.
    pub async fn preview_email_template(
        &self,
        caller: &Caller,
        id: Uuid,
        contact_id: Uuid,
    ) -> Result<Preview, Error> {
        let t = self.email_template(caller, id).await?;
        let parsed = parse_parts(&t.subject, &t.html, &t.text)?;
        let ctx = self
            .template_context(caller.workspace.id, contact_id)
            .await?;
        let (subject, html, text) = parsed.render(&ctx);
        let mut missing = Vec::new();
        for t in [
            Some(&parsed.subject),
            parsed.html.as_ref(),
            Some(&parsed.text),
        ]
        .into_iter()
        .flatten()
        {
            for v in t.variables() {
                if !has_value(&ctx, &v) && !missing.contains(&v) {
                    missing.push(v);
                }
            }
        }
        Ok(Preview {
            subject,
            html: html.unwrap_or_default(),
            text,
            missing,
        })
    }
}

fn has_value(ctx: &serde_json::Value, path: &str) -> bool {
    let mut v = ctx;
    for seg in path.split('.') {
        match v.get(seg) {
            Some(next) => v = next,
            None => return false,
        }
    }
    !(v.is_null() || v.as_str().is_some_and(|s| s.is_empty()))
}
