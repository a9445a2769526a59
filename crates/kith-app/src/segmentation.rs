//! The built-in segmentations of a workspace: its thresholds, and the recompute that
//! brings every contact's RFM scores, behaviour and value tier up to date and then
//! refreshes every segment.

use chrono::{DateTime, Utc};
use kith_core::segmentation::Thresholds;
use kith_store::customers::{self, Recomputed};
use kith_store::WorkspaceId;
use serde::Serialize;

use crate::{App, Caller, Error, Role};

/// A workspace's thresholds and when they were last applied.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The thresholds in force.
    pub thresholds: Thresholds,
    /// When every contact was last recomputed.
    pub recomputed_at: Option<DateTime<Utc>>,
}

/// What a recompute did.
#[derive(Debug, Clone, Serialize)]
pub struct Recompute {
    /// Contacts whose order figures changed.
    pub contacts_valued: u64,
    /// Companies whose order figures changed.
    pub companies_valued: u64,
    /// Contacts whose RFM scores changed.
    pub scored: u64,
    /// Contacts whose behaviour or value tier changed.
    pub tiered: u64,
    /// Segments refreshed.
    pub segments: usize,
    /// Records that entered or left a segment.
    pub membership_changes: usize,
    /// Segments that could not be refreshed, with why.
    pub segment_errors: Vec<String>,
    /// Seconds taken.
    pub seconds: f64,
}

impl App {
    /// The caller's workspace's segmentation thresholds.
    pub async fn segmentation(&self, caller: &Caller) -> Result<Settings, Error> {
        let (v, recomputed_at) =
            customers::settings(&mut self.db.clone(), caller.workspace.id).await?;
        Ok(Settings {
            thresholds: Thresholds::from_json(&v).unwrap_or_default(),
            recomputed_at,
        })
    }

    /// Changes the thresholds (admins only) and applies them to every contact.
    pub async fn set_segmentation(
        &self,
        caller: &Caller,
        input: &serde_json::Value,
    ) -> Result<Settings, Error> {
        if caller.role() != Role::Admin {
            return Err(Error::Forbidden(
                "only admins change segmentation thresholds",
            ));
        }
        let t = Thresholds::from_json(input)?;
        let v = serde_json::to_value(&t).map_err(|e| {
            Error::Invalid(kith_core::Error::new("segmentation_invalid", e.to_string()))
        })?;
        customers::save_settings(&mut self.db.clone(), caller.workspace.id, Some(&v), None).await?;
        self.recompute_workspace(caller.workspace.id, &caller.workspace.currency)
            .await?;
        self.segmentation(caller).await
    }

    /// Recomputes the caller's workspace (members and admins).
    pub async fn recompute(&self, caller: &Caller) -> Result<Recompute, Error> {
        crate::records::check_import(caller)?;
        self.recompute_workspace(caller.workspace.id, &caller.workspace.currency)
            .await
    }

    /// Recomputes every contact's and company's figures, scores and tiers in one
    /// transaction, then refreshes every segment (each in its own).
    pub async fn recompute_workspace(
        &self,
        ws: WorkspaceId,
        currency: &str,
    ) -> Result<Recompute, Error> {
        let started = std::time::Instant::now();
        let now = Utc::now();
        let mut tx = self.db.begin().await?;
        let t = crate::orders::thresholds(&mut tx, ws).await?;
        let Recomputed {
            contacts_valued,
            companies_valued,
            scored,
            tiered,
        } = customers::recompute(&mut tx, ws, currency, &t, now).await?;
        customers::save_settings(&mut tx, ws, None, Some(now)).await?;
        tx.commit().await?;
        let refreshed = self.refresh_all_segments(ws).await?;
        let mut out = Recompute {
            contacts_valued,
            companies_valued,
            scored,
            tiered,
            segments: refreshed.len(),
            membership_changes: 0,
            segment_errors: vec![],
            seconds: 0.0,
        };
        for r in refreshed {
            match r {
                Ok(r) => out.membership_changes += r.entered + r.left,
                Err((id, e)) => out.segment_errors.push(format!("segment {id}: {e}")),
            }
        }
        out.seconds = started.elapsed().as_secs_f64();
        Ok(out)
    }
}
