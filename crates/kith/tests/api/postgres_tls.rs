//! PostgreSQL over TLS, against a throwaway cluster of its own with `ssl = on` and a
//! certificate from a throwaway CA (the `openssl` CLI, as for webhooks and mail): with
//! `sslmode=verify-full&sslrootcert=…` Kith migrates and backs up over an encrypted
//! session; a server certified by another CA is refused with the reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use kith_store::{Db, Exec, Sql};

use crate::harness::tempfile_dir::Dir;
use crate::mail_servers::free_port;
use crate::workflows_https::certificates;

/// A PostgreSQL cluster in a temp directory, with TLS by the certificate `{name}.pem` of
/// the directory; stopped on drop.
struct TlsPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl TlsPostgres {
    fn run(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if self.as_postgres {
            // initdb refuses root (as scripts/test does, run as the postgres user).
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn start(dir: &Path, name: &str) -> TlsPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .flatten()
                    .map(|v| v.path().join("bin"))
                    .filter(|b| b.join("initdb").exists())
                    .max()
            })
            .expect("PostgreSQL's binaries under /usr/lib/postgresql (scripts/test installs them)");
        let as_postgres = crate::mail_servers::is_root();
        let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
        std::fs::copy(dir.join(format!("{name}.pem")), &cert).unwrap();
        std::fs::copy(dir.join(format!("{name}.key")), &key).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        if as_postgres {
            let owned = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir)
                .status()
                .unwrap();
            assert!(owned.success());
        }
        let pg = TlsPostgres {
            bin,
            data: dir.join("data"),
            port: free_port(),
            as_postgres,
        };
        let out = pg
            .run("initdb")
            .arg("-D")
            .arg(&pg.data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            pg.port,
            dir.display(),
            cert.display(),
            key.display()
        );
        let out = pg
            .run("pg_ctl")
            .arg("-D")
            .arg(&pg.data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {} {}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        pg
    }

    fn url(&self, params: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?{params}",
            self.port
        )
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = self
            .run("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

#[tokio::test]
async fn postgres_over_tls_checks_the_servers_certificate() {
    let dir = Dir::new();
    let d = Path::new(dir.path());
    certificates(d, "internal");
    certificates(d, "stranger");
    let pg = TlsPostgres::start(d, "internal");
    let ca = |name: &str| d.join(format!("{name}-ca.pem")).display().to_string();

    let db = Db::connect(&pg.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca("internal")
    )))
    .await
    .expect("connects over TLS, the certificate checked against the given CA");
    kith_store::migrate::run(&db)
        .await
        .expect("migrates over TLS");
    let row = db
        .clone()
        .fetch_optional(Sql::new(
            "SELECT ssl AS encrypted FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .expect("a row for this session");
    assert_eq!(row.bool("encrypted").unwrap(), Some(true));
    db.close().await;

    // `kith backup` hands the same URL to pg_dump, which reads the same parameters.
    let verified = pg.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca("internal")
    ));
    let backup = d.join("kith.dump");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(["--db", &verified, "backup"])
        .arg(&backup)
        .env("KITH_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "kith backup over TLS: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);

    // The same server, checked against a CA that did not sign its certificate.
    let refused = Db::connect(&pg.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca("stranger")
    )))
    .await
    .expect_err("an untrusted certificate is refused");
    let message = refused.to_string();
    assert!(
        message.contains("cannot connect to PostgreSQL")
            && message.contains("UnknownIssuer")
            && message.contains("sslrootcert"),
        "{message}"
    );
}
