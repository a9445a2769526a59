//! Real mail servers for tests: [`SmtpSink`] (Python's aiosmtpd, from the venv that
//! scripts/test installs under target/mail-venv) delivering every message into a
//! Maildir, and [`ImapServer`] (Debian's Dovecot) serving that same Maildir, so "a
//! customer replies" is: send an SMTP message to the sink, then fetch it by IMAP.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The repository's root (two levels above this crate).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The python with aiosmtpd: `$KITH_TEST_AIOSMTPD`, else target/mail-venv of the repository.
fn python() -> PathBuf {
    let p = std::env::var_os("KITH_TEST_AIOSMTPD")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/mail-venv/bin/python"));
    assert!(
        p.exists(),
        "no Python with aiosmtpd at {}: run scripts/test once (it installs the test mail servers)",
        p.display()
    );
    p
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until `port` takes connections; an error (with the server's log) if `child`
/// exited first, as it does when another test took the port, or after 10 s.
async fn wait_for_port(port: u16, what: &str, log: &Path, child: &mut Child) -> Result<(), String> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "{what} did not start on port {port}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

/// A fresh temp directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&p).expect("temp dir");
        set_mode(&p, 0o755);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// One message the sink received, parsed.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub message_id: String,
    /// Every header, name as written, value raw (unfolded).
    pub headers: Vec<(String, String)>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An SMTP server on a random port that keeps every message in a Maildir.
pub struct SmtpSink {
    pub port: u16,
    /// Killed on drop.
    _child: Child,
    dir: TempDir,
}

impl SmtpSink {
    /// Starts the sink on a free port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_anywhere(&[]).await
    }

    /// Starts the sink on `port` (to bring a server "back up" where a test expects it).
    pub async fn start_on(port: u16) -> SmtpSink {
        SmtpSink::start_with(port, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts the sink on a free port: another test may take a port between our check
    /// and the sink's bind, so a sink that cannot bind tries another.
    async fn start_anywhere(args: &[&std::ffi::OsStr]) -> SmtpSink {
        let mut last = String::new();
        for _ in 0..5 {
            match SmtpSink::start_with(free_port(), args).await {
                Ok(sink) => return sink,
                Err(e) => last = e,
            }
        }
        panic!("{last}")
    }

    /// Starts a sink speaking TLS with the certificate `cert` (PEM, key in `key`): from
    /// the first byte when `implicit`, else after STARTTLS, which it then requires. With
    /// `login` (user, password) it takes mail only after AUTH as that user.
    pub async fn start_tls(
        implicit: bool,
        cert: &Path,
        key: &Path,
        login: Option<(&str, &str)>,
    ) -> SmtpSink {
        let mode = if implicit { "--tls" } else { "--starttls" };
        let mut args = vec![std::ffi::OsString::from(mode), cert.into(), key.into()];
        if let Some((user, password)) = login {
            args.push("--auth".into());
            args.push(format!("{user}:{password}").into());
        }
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        SmtpSink::start_anywhere(&args).await
    }

    async fn start_with(port: u16, args: &[&std::ffi::OsStr]) -> Result<SmtpSink, String> {
        let dir = TempDir::new("kith-smtp");
        let maildir = dir.0.join("Maildir");
        for sub in ["", "cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
            // Dovecot may serve it as another user.
            set_mode(&maildir.join(sub), 0o777);
        }
        let log = dir.0.join("smtp.log");
        let mut child = Command::new(python())
            .arg(workspace_root().join("scripts/smtp_sink.py"))
            .arg(port.to_string())
            .arg(&dir.0)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink (run scripts/test once)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        if !matches!(ready, Ok(Ok(Some(ref l))) if l == "READY") {
            return Err(format!(
                "SMTP sink did not start on port {port}: {ready:?} {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        Ok(SmtpSink {
            port,
            _child: child,
            dir,
        })
    }

    /// A mailer delivering straight to this sink (plain SMTP): how a test's customer
    /// writes to the workspace's mailbox.
    pub fn mailer(&self) -> kith_app::mail::Mailer {
        kith_app::mail::Mailer::from_settings(&kith_store::mail::MailSettings {
            smtp_host: "127.0.0.1".into(),
            smtp_port: Some(self.port),
            smtp_security: "none".into(),
            ..Default::default()
        })
        .expect("a mailer for the sink")
    }

    /// The Maildir messages land in.
    pub fn maildir(&self) -> PathBuf {
        self.dir.0.join("Maildir")
    }

    /// Answers `550` to this recipient from now on.
    pub fn reject(&self, addr: &str) {
        self.append("reject", addr);
    }

    /// Answers `451` (try later) to this recipient from now on.
    pub fn defer(&self, addr: &str) {
        self.append("defer", addr);
    }

    fn append(&self, file: &str, addr: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.0.join(file))
            .expect("control file");
        writeln!(f, "{addr}").expect("write control file");
    }

    /// Every message received so far (also those an IMAP client has moved to cur/),
    /// oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir().join(sub)) {
                files.extend(rd.flatten().map(|e| e.path()));
            }
        }
        // Maildir names start with the delivery time in seconds, then a counter.
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|raw| parse(&raw))
            .collect()
    }

    /// Waits until at least `n` messages arrived (the sender may still be at work).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} messages, got {}", self.messages().len());
    }
}

fn parse(raw: &[u8]) -> Received {
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parsable message");
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string()
    };
    Received {
        from: addr(m.from()),
        to: addr(m.to()),
        subject: m.subject().unwrap_or_default().to_string(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.into_owned()),
        message_id: m.message_id().unwrap_or_default().to_string(),
        headers: m
            .headers_raw()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    v.replace("\r\n", "").replace('\n', "").trim().to_string(),
                )
            })
            .collect(),
    }
}

/// Dovecot serving one Maildir to one user on loopback: plain IMAP, or with a
/// certificate IMAP offering STARTTLS and IMAPS on `tls_port`.
pub struct ImapServer {
    pub port: u16,
    /// IMAPS (TLS from the first byte), when started with a certificate.
    pub tls_port: Option<u16>,
    pub user: String,
    pub password: String,
    child: Child,
    _dir: TempDir,
}

/// Whether the tests run as root (as CI does), where servers that refuse root run as
/// another user.
pub fn is_root() -> bool {
    id("-u") == "0"
}

fn id(flag: &str) -> String {
    let out = std::process::Command::new("id")
        .arg(flag)
        .output()
        .expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl ImapServer {
    /// Starts Dovecot serving `maildir` (e.g. [`SmtpSink::maildir`]) as `user`/`password`.
    pub async fn start(maildir: &Path, user: &str, password: &str) -> ImapServer {
        ImapServer::start_with(maildir, user, password, None).await
    }

    /// Like [`ImapServer::start`], with TLS by the certificate `cert` and its `key` (PEM).
    pub async fn start_tls(
        maildir: &Path,
        user: &str,
        password: &str,
        cert: &Path,
        key: &Path,
    ) -> ImapServer {
        ImapServer::start_with(maildir, user, password, Some((cert, key))).await
    }

    /// Starts Dovecot on free ports, trying others if another test took them first.
    async fn start_with(
        maildir: &Path,
        user: &str,
        password: &str,
        tls: Option<(&Path, &Path)>,
    ) -> ImapServer {
        let mut last = String::new();
        for _ in 0..5 {
            match ImapServer::try_start(maildir, user, password, tls).await {
                Ok(server) => return server,
                Err(e) => last = e,
            }
        }
        panic!("{last}")
    }

    async fn try_start(
        maildir: &Path,
        user: &str,
        password: &str,
        tls: Option<(&Path, &Path)>,
    ) -> Result<ImapServer, String> {
        let dovecot = Path::new("/usr/sbin/dovecot");
        assert!(
            dovecot.exists(),
            "Dovecot is not installed: run scripts/test once (it installs dovecot-imapd)"
        );
        let dir = TempDir::new("kith-imap");
        let d = dir.0.display();
        let port = free_port();
        let tls_port = tls.map(|_| free_port());
        let ssl = match tls {
            // Plaintext logins stay allowed: STARTTLS is the client's choice, as it is
            // against a server that offers it without requiring it.
            Some((cert, key)) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                cert.display(),
                key.display()
            ),
            None => "ssl = no\n".to_string(),
        };
        // Dovecot will not run mail processes as root: as root they run as nobody (the
        // Maildir is world-writable); as a normal user everything runs as that user.
        let root = is_root();
        let (uid, gid) = if root {
            ("65534".to_string(), "65534".to_string())
        } else {
            (id("-u"), id("-g"))
        };
        let users = if root {
            String::new()
        } else {
            // Checked by hand as `nobody`: without the group, Dovecot cannot hand its
            // internal sockets to the `dovecot` group and refuses to start.
            let (me, group) = (id("-un"), id("-gn"));
            format!(
                "default_login_user = {me}\ndefault_internal_user = {me}\ndefault_internal_group = {group}\n"
            )
        };
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {d}/run\nstate_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n{ssl}disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\nmail_location = maildir:{maildir}\n\
             mail_uid = {uid}\nmail_gid = {gid}\nfirst_valid_uid = 1\n{users}\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={d}/home\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n  }}\n  chroot =\n}}\n\
             service anvil {{\n  chroot =\n}}\n",
            maildir = maildir.display(),
            imaps = tls_port.unwrap_or(0),
        );
        std::fs::write(dir.0.join("dovecot.conf"), conf).expect("dovecot.conf");
        std::fs::write(
            dir.0.join("passwd"),
            format!("{user}:{{PLAIN}}{password}\n"),
        )
        .expect("passwd");
        let log = dir.0.join("dovecot.log");
        let child = Command::new(dovecot)
            .arg("-F")
            .arg("-c")
            .arg(dir.0.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.0.join("stderr.log")).expect("log"))
            .kill_on_drop(true)
            .spawn()
            .expect("start dovecot");
        // Dropped on an error, it stops whatever of Dovecot did start.
        let mut server = ImapServer {
            port,
            tls_port,
            user: user.to_string(),
            password: password.to_string(),
            child,
            _dir: dir,
        };
        wait_for_port(port, "Dovecot", &log, &mut server.child).await?;
        if let Some(p) = tls_port {
            wait_for_port(p, "Dovecot (IMAPS)", &log, &mut server.child).await?;
        }
        Ok(server)
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its login and auth processes too.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
    }
}
