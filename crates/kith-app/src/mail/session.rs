//! One SMTP connection driven command by command, for mail that must go out once.
//!
//! SMTP has no idempotency: a message whose `250` answer is lost, or that is sent
//! again after a crash, arrives twice. A campaign marks a send as done in the database
//! after the server said `354 go ahead` and before the message's final dot: a crash
//! before the mark leaves the server with an unfinished message it discards (the send is
//! taken again), a crash after it loses at most the one message in flight, in the
//! microseconds it takes to write it. Nobody gets a step twice.

use std::future::Future;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::SendError;

/// How a [`SendError::Rejected`] for a refused recipient address (a bounce) begins.
pub const RECIPIENT_REFUSED: &str = "recipient refused";

/// Where and how to reach a workspace's SMTP server.
#[derive(Clone)]
pub struct Endpoint {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) security: String,
    pub(super) credentials: Option<Credentials>,
    /// For `tls` and `starttls`: whom the server's certificate must chain to.
    pub(super) tls: Option<TlsParameters>,
}

/// An open SMTP connection; drop it after an error (its state is unknown).
pub struct Session {
    conn: AsyncSmtpConnection,
}

fn transient(e: impl std::fmt::Display) -> SendError {
    SendError::Transient(crate::trust::with_hint(e.to_string()))
}

fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Rejected(e.to_string())
    } else {
        transient(e)
    }
}

impl Session {
    /// Connects, says EHLO, upgrades to TLS and logs in as the endpoint says.
    pub async fn open(ep: &Endpoint) -> Result<Session, SendError> {
        let hello = ClientId::default();
        let tls = || {
            ep.tls
                .clone()
                .ok_or_else(|| transient("no TLS parameters for a TLS connection"))
        };
        let mut conn = if ep.security == "tls" {
            AsyncSmtpConnection::connect_tokio1(
                (ep.host.as_str(), ep.port),
                Some(Duration::from_secs(30)),
                &hello,
                Some(tls()?),
                None,
            )
            .await
            .map_err(transient)?
        } else {
            // Without TCP_NODELAY, the message's final dot (written apart from its content)
            // waits for the server's delayed ACK: 40 ms per message on Linux.
            let connect = tokio::net::TcpStream::connect((ep.host.as_str(), ep.port));
            let stream = tokio::time::timeout(Duration::from_secs(30), connect)
                .await
                .map_err(|_| transient("timed out connecting to the SMTP server"))?
                .map_err(|e| transient(format!("cannot connect to the SMTP server: {e}")))?;
            stream.set_nodelay(true).map_err(transient)?;
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
                .await
                .map_err(transient)?
        };
        if ep.security == "starttls" {
            conn.starttls(tls()?, &hello).await.map_err(classify)?;
        }
        if let Some(c) = &ep.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], c)
                .await
                .map_err(classify)?;
        }
        Ok(Session { conn })
    }

    /// Sends one message. `handed_over` runs once the server is ready for the content,
    /// before the content's final dot: if it fails, the message is abandoned unsent.
    /// After it ran, an error says what the server answered to the content.
    pub async fn send<F, Fut>(
        &mut self,
        envelope: &Envelope,
        email: &[u8],
        handed_over: F,
    ) -> Result<(), SendError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let info = self.conn.server_info();
        let mut options = vec![];
        let non_ascii = envelope
            .to()
            .iter()
            .chain(envelope.from())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(SendError::Rejected(
                    "the address has non-ASCII characters and the server does not take SMTPUTF8"
                        .into(),
                ));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !email.is_ascii() && info.supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.conn
            .command(Mail::new(envelope.from().cloned(), options))
            .await
            .map_err(classify)?;
        for to in envelope.to() {
            self.conn
                .command(Rcpt::new(to.clone(), vec![]))
                .await
                .map_err(|e| match classify(e) {
                    SendError::Rejected(m) => {
                        SendError::Rejected(format!("{RECIPIENT_REFUSED}: {m}"))
                    }
                    other => other,
                })?;
        }
        self.conn.command(Data).await.map_err(classify)?;
        if let Err(e) = handed_over().await {
            self.conn.abort().await;
            return Err(SendError::Transient(e));
        }
        match self.conn.message(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.status().is_some() => Err(classify(e)),
            // The connection broke after the content went out: the server may have the
            // message. It stays counted as sent rather than risk a second copy.
            Err(e) => {
                tracing::warn!(error = %e, "SMTP connection lost at the end of a message; counted as sent");
                Ok(())
            }
        }
    }

    /// Says goodbye (errors do not matter any more).
    pub async fn close(mut self) {
        let _ = self.conn.quit().await;
    }
}
