//! Workflow webhooks over HTTPS, against a real TLS endpoint whose certificate comes from
//! a throwaway CA made with the `openssl` CLI at test time: trusted through the extra CA
//! (what `KITH_EXTRA_CA` sets), the webhook arrives signed; from a CA nobody trusts, the
//! run fails after its retries with the certificate problem named. A CA file that cannot
//! be used stops `kith worker` with its path.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use kith_app::ExtraCa;

use crate::harness::{both, tempfile_dir::Dir, TestApp};
use crate::workflows::{assert_signed, read_request, runs_of, settle_with, workflow};

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run the openssl CLI (scripts/test installs it)");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// In `dir`: a throwaway CA `{name}-ca.pem` and, signed by it, a certificate for
/// 127.0.0.1 and localhost, `{name}.pem` with its key `{name}.key`.
pub(crate) fn certificates(dir: &Path, name: &str) {
    let (ca_key, ca, key, csr, cert, ext) = (
        format!("{name}-ca.key"),
        format!("{name}-ca.pem"),
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let subject = format!("/CN=Kith test CA {name}");
    #[rustfmt::skip]
    let ca_args = [&["req", "-x509"], &ec[..], &[
        "-keyout", &ca_key, "-out", &ca, "-days", "2", "-subj", &subject,
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]].concat();
    openssl(dir, &ca_args);
    #[rustfmt::skip]
    let csr_args = [&["req"], &ec[..], &["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]].concat();
    openssl(dir, &csr_args);
    std::fs::write(
        dir.join(&ext),
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n\
         basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    #[rustfmt::skip]
    let sign_args = [
        "x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-set_serial", "2",
        "-days", "2", "-extfile", &ext, "-out", &cert,
    ];
    openssl(dir, &sign_args);
}

/// Requests an endpoint received over TLS: head and body.
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// An HTTPS endpoint on 127.0.0.1 with the certificate `{name}.pem` of `dir`: answers
/// 200 to each request and keeps it. Also counts the connections it accepted.
async fn https_endpoint(dir: &Path, name: &str) -> (String, Requests, Arc<AtomicUsize>) {
    let certs = CertificateDer::pem_file_iter(dir.join(format!("{name}.pem")))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/hook", listener.local_addr().unwrap());
    let seen: Requests = Default::default();
    let connections = Arc::new(AtomicUsize::new(0));
    let (s, n) = (seen.clone(), connections.clone());
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            n.fetch_add(1, Ordering::SeqCst);
            let (acceptor, s) = (acceptor.clone(), s.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let request = read_request(&mut tls).await;
                s.lock().await.push(request);
                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, seen, connections)
}

both!(
    a_webhook_reaches_an_https_endpoint_certified_by_the_extra_ca,
    |app| async move {
        let dir = Dir::new();
        let d = Path::new(dir.path());
        certificates(d, "internal");
        certificates(d, "stranger");
        let (url, seen, _) = https_endpoint(d, "internal").await;
        let (stranger_url, stranger_seen, stranger_connections) =
            https_endpoint(d, "stranger").await;
        // What KITH_EXTRA_CA does in the binary, set on this test's App alone.
        let ca = ExtraCa::from_pem_file(&d.join("internal-ca.pem")).expect("the test CA is usable");
        let runner = app.app.clone().with_extra_ca(Some(ca));

        let wf = workflow(app, json!({"name": "Tell the ERP", "trigger": {"type": "record_created", "object": "company"},
            "actions": [{"type": "webhook", "url": url}]})).await;
        let co = app
            .api
            .create("companies", json!({"name": "Sikker A/S"}))
            .await;
        settle_with(app, runner.clone()).await;
        {
            let seen = seen.lock().await;
            assert_eq!(seen.len(), 1, "the webhook arrived once, over TLS");
            let (head, body) = &seen[0];
            assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
            assert_signed(wf["webhook_secret"].as_str().unwrap(), head, body);
            let v: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(v["record_id"], co["id"]);
            assert_eq!(v["record"]["name"], "Sikker A/S");
            assert_eq!(v["workflow_id"], wf["id"]);
        }
        let runs = runs_of(app, "companies", &co["id"]).await;
        assert_eq!(runs[0]["status"], "succeeded", "{}", runs[0]);
        assert_eq!(runs[0]["steps"][0]["attempts"], 1, "{}", runs[0]);
        assert_eq!(runs[0]["steps"][0]["output"]["status"], 200, "{}", runs[0]);

        // A certificate from a CA nobody trusts: retried as any unreachable endpoint,
        // then the run fails with the reason, and nothing was sent.
        workflow(app, json!({"name": "Tell a stranger", "trigger": {"type": "record_created", "object": "contact"},
            "actions": [{"type": "webhook", "url": stranger_url}]})).await;
        let c = app
            .api
            .create("contacts", json!({"first_name": "Eve"}))
            .await;
        settle_with(app, runner).await;
        let runs = runs_of(app, "contacts", &c["id"]).await;
        let step = &runs[0]["steps"][0];
        assert_eq!(runs[0]["status"], "failed", "{}", runs[0]);
        assert_eq!(step["status"], "failed", "{step}");
        assert_eq!(step["attempts"], 5, "{step}");
        let error = step["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(stranger_url.as_str())
                && error.contains("invalid peer certificate")
                && error.contains("UnknownIssuer")
                && error.contains("KITH_EXTRA_CA"),
            "the run names the endpoint and the certificate problem: {error}"
        );
        assert!(stranger_seen.lock().await.is_empty());
        assert!(stranger_connections.load(Ordering::SeqCst) >= 1);

        // https is accepted when saving; other schemes still are not.
        let res = app
            .api
            .post(
                "/api/v1/workflows",
                json!({"name": "FTP", "trigger": {"type": "record_created", "object": "contact"},
            "actions": [{"type": "webhook", "url": "ftp://files.example/hook"}]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
        assert!(
            res.body["error"]["fields"]["actions[0].url"].is_string(),
            "{}",
            res.body
        );
    }
);

/// `kith worker` with `KITH_EXTRA_CA` set: its exit status and stderr.
async fn worker_with_extra_ca(app: &TestApp, path: &Path) -> (bool, String) {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kith"))
        .args(["--db", &app.db_url, "worker"])
        .env("KITH_LOG", "warn")
        .env("KITH_EXTRA_CA", path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run kith");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the worker stops at once on a bad KITH_EXTRA_CA")
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

both!(
    a_bad_extra_ca_file_stops_the_worker_naming_it,
    |app| async move {
        let dir = Dir::new();
        let d = Path::new(dir.path());
        let missing = d.join("missing.pem");
        let (ok, err) = worker_with_extra_ca(app, &missing).await;
        assert!(!ok);
        assert!(
            err.contains("KITH_EXTRA_CA") && err.contains(missing.to_str().unwrap()),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");

        let no_cert = d.join("key-only.pem");
        std::fs::write(
            &no_cert,
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let (ok, err) = worker_with_extra_ca(app, &no_cert).await;
        assert!(!ok);
        assert!(
            err.contains(no_cert.to_str().unwrap()) && err.contains("no certificate"),
            "{err}"
        );

        // A certificate block that is not a certificate is refused when starting too.
        let garbage = d.join("garbage.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let (ok, err) = worker_with_extra_ca(app, &garbage).await;
        assert!(!ok);
        assert!(err.contains(garbage.to_str().unwrap()), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
);
