//! The page shell: head, navigation, user menu with the language switch.

use maud::{html, Markup, DOCTYPE};

use super::i18n::Lang;
use super::Viewer;

fn head(lang: Lang, title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(c) = csrf {
                meta name="csrf-token" content=(c);
            }
            title { (title) " · " (lang.t("app-name")) }
            link rel="stylesheet" href="/assets/app.css";
            script type="module" src="/assets/app.js" {}
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            (head(lang, title, None))
            body { (body) }
        }
    }
}

/// Which navigation entry is current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Home.
    Home,
    /// Contacts.
    Contacts,
    /// Companies.
    Companies,
    /// Deals.
    Deals,
    /// Tasks.
    Tasks,
    /// Segments.
    Segments,
    /// Email templates.
    Email,
    /// Campaigns and sequences.
    Campaigns,
    /// Workflows.
    Workflows,
    /// The signed-in user's notifications.
    Notifications,
    /// Import and duplicates.
    Data,
    /// Settings.
    Settings,
    /// Search results (not in the navigation).
    Search,
}

/// A signed-in page.
pub fn page(v: &Viewer, section: Section, title: &str, body: Markup) -> Markup {
    let nav = [
        (Section::Home, "/", "nav-home"),
        (Section::Contacts, "/contacts", "nav-contacts"),
        (Section::Companies, "/companies", "nav-companies"),
        (Section::Deals, "/deals", "nav-deals"),
        (Section::Tasks, "/tasks", "nav-tasks"),
        (Section::Segments, "/segments", "nav-segments"),
        (Section::Email, "/email-templates", "nav-email"),
        (Section::Campaigns, "/campaigns", "nav-campaigns"),
        (Section::Workflows, "/workflows", "nav-workflows"),
        (Section::Data, "/import", "nav-data"),
        (Section::Settings, "/settings", "nav-settings"),
    ];
    let who = v
        .caller
        .user
        .name
        .clone()
        .unwrap_or_else(|| v.caller.user.email.clone());
    html! {
        (DOCTYPE)
        html lang=(v.lang.tag()) {
            (head(v.lang, title, Some(&v.csrf)))
            body data-msg-saved=(v.t("saved")) data-msg-save=(v.t("save")) data-msg-cancel=(v.t("cancel"))
                data-msg-stale=(v.lang.t_args("stale-edit", &[("value", "{value}".into())]))
                data-msg-failed=(v.lang.t_args("save-failed", &[("reason", "{reason}".into())])) {
                a class="skip" href="#main" { (v.t("skip-to-content")) }
                header class="top" {
                    a class="brand" href="/" { "Kith" }
                    nav aria-label=(v.t("nav-menu")) {
                        @for (s, href, key) in nav {
                            a href=(href) aria-current=[(s == section).then_some("page")] { (v.t(key)) }
                        }
                    }
                    form class="search" method="get" action="/search" role="search" {
                        label class="sr-only" for="global-search" { (v.t("search-label")) }
                        input id="global-search" type="search" name="q" placeholder=(v.t("search-placeholder")) autocomplete="off";
                    }
                    a class="bell" href="/notifications" aria-current=[(section == Section::Notifications).then_some("page")] { "🔔 " (v.t("nav-notifications")) }
                    details class="user-menu" {
                        summary { (who) }
                        form method="post" action="/settings/language" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            fieldset {
                                legend { (v.t("menu-language")) }
                                @for l in Lang::ALL {
                                    button type="submit" name="lang" value=(l.tag()) lang=(l.tag())
                                        aria-pressed=(if l == v.lang { "true" } else { "false" }) { (l.native_name()) }
                                }
                            }
                        }
                        form method="post" action="/settings/name" class="my-name" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            label for="my-name" { (v.t("menu-your-name")) }
                            input id="my-name" name="my_name" type="text" maxlength="100" autocomplete="name"
                                value=(v.caller.user.name.as_deref().unwrap_or(""));
                            button type="submit" { (v.t("save")) }
                        }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            button type="submit" { (v.t("nav-sign-out")) }
                        }
                    }
                }
                main id="main" { (body) }
                p id="status" class="status" role="status" aria-live="polite" {}
            }
        }
    }
}
