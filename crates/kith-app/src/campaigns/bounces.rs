//! Bounces that arrive later, as delivery status notifications (RFC 3464) in the
//! mailbox IMAP reads: a permanent failure (`Action: failed`, `Status: 5.x.x`) of a
//! campaign or sequence message marks its send bounced and suppresses the address.

use chrono::Utc;
use kith_store::email_sends::{self as sends, Outcome};
use kith_store::{Tx, WorkspaceId};

use crate::Error;

/// The header values named `name` anywhere in a message (its own headers, the
/// delivery-status part, the returned original's headers), unfolded.
fn values<'a>(raw: &'a str, name: &str) -> Vec<&'a str> {
    raw.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}

/// Records a delivery status notification; false if the message is none, or reports
/// no permanent failure of a message Kith sent.
pub(crate) async fn record(tx: &mut Tx, ws: WorkspaceId, raw: &[u8]) -> Result<bool, Error> {
    let raw = String::from_utf8_lossy(raw);
    let lower = raw.to_ascii_lowercase();
    if !lower.contains("report-type=delivery-status")
        && !lower.contains("report-type=\"delivery-status\"")
    {
        return Ok(false);
    }
    let failed = values(&raw, "Action")
        .iter()
        .any(|a| a.eq_ignore_ascii_case("failed"));
    let status = values(&raw, "Status")
        .into_iter()
        .find(|s| s.starts_with('5'));
    let (true, Some(status)) = (failed, status) else {
        return Ok(false);
    };
    let diagnostic = values(&raw, "Diagnostic-Code")
        .first()
        .copied()
        .unwrap_or("")
        .to_string();
    for id in values(&raw, "Message-ID") {
        let id = format!("<{}>", id.trim_matches(['<', '>', ' ']));
        if let Some(send) = sends::by_message_id(tx, ws, &id).await? {
            let reason = format!("bounced {status} {diagnostic}").trim().to_string();
            sends::finish(tx, send.id, &Outcome::Bounced(reason), Utc::now()).await?;
            kith_store::campaigns::suppress(tx, ws, &send.email, "bounced", Utc::now()).await?;
            return Ok(true);
        }
    }
    Ok(false)
}
