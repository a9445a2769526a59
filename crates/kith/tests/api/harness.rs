//! `TestApp`: a fresh database, the real router on port 0, a signed-in admin.

use std::sync::atomic::{AtomicU64, Ordering};

use kith_app::{App, Role};
use kith_store::Db;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Runs a test body on SQLite and on PostgreSQL: `both!(name, |app| async move { … });`
macro_rules! both {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let owned = $crate::harness::TestApp::spawn($crate::harness::Backend::Sqlite).await;
                {
                    let $app = &owned;
                    $body.await;
                }
                owned.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let owned =
                    $crate::harness::TestApp::spawn($crate::harness::Backend::Postgres).await;
                {
                    let $app = &owned;
                    $body.await;
                }
                owned.finish().await;
            }
        }
    };
}
pub(crate) use both;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty, migrated database URL for one test.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile_dir::Dir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile_dir::Dir::new();
            (format!("sqlite://{}/kith.db", dir.path()), Some(dir))
        }
        Backend::Postgres => {
            let base = std::env::var("KITH_TEST_PG").expect(
                "KITH_TEST_PG is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL",
            );
            let name = format!(
                "kith_test_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst)
            );
            let admin = sqlx::PgPool::connect(&base)
                .await
                .expect("connect to KITH_TEST_PG");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create test database");
            admin.close().await;
            let url = match base.rfind('/') {
                Some(i)
                    if base[..i].contains("@")
                        || base[..i].ends_with('/')
                        || base[..i].contains(':') =>
                {
                    let (head, tail) = base.split_at(i);
                    let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
                    format!("{head}/{name}{query}")
                }
                _ => panic!("KITH_TEST_PG must look like postgres://user@host:port/db"),
            };
            (url, None)
        }
    }
}

/// A small temp-dir type, removed on drop (no extra crate for it).
pub mod tempfile_dir {
    pub struct Dir(std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("kith-test-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&p).expect("create temp dir");
            Dir(p)
        }
        pub fn path(&self) -> &str {
            self.0.to_str().expect("temp path is UTF-8")
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// An HTTP client speaking as one user.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub token: Option<String>,
    pub csrf: Option<String>,
}

/// A response: status, headers and JSON body (Null when empty or not JSON).
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Res {
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .expect("response has an ETag")
            .to_str()
            .unwrap()
            .to_string()
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(c) = &self.csrf {
            req = req.header("x-csrf-token", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request reaches the server");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            status != StatusCode::INTERNAL_SERVER_ERROR,
            "500 for {path}: {text}"
        );
        Res {
            status,
            headers,
            body,
        }
    }
    pub async fn get(&self, path: &str) -> Res {
        self.send(Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Res {
        self.send(Method::DELETE, path, None, &[]).await
    }
    /// Creates a record and returns its JSON, failing the test with the server's reason if refused.
    pub async fn create(&self, objects: &str, body: Value) -> Value {
        let res = self.post(&format!("/api/v1/{objects}"), body.clone()).await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "create {objects} {body}: {}",
            res.body
        );
        res.body
    }
}

/// The application under test.
pub struct TestApp {
    pub backend: Backend,
    pub app: App,
    /// Speaks as the admin of workspace "acme" with an API token.
    pub api: Api,
    pub db_url: String,
    server: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile_dir::Dir>,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let (db_url, dir) = fresh_database(backend).await;
        let db = Db::connect(&db_url).await.expect("open test database");
        kith_store::migrate::run(&db)
            .await
            .expect("migrate test database");
        let app = App::new(db);
        app.configure_workspace("acme", "DKK", Some("DK"), "Europe/Copenhagen")
            .await
            .expect("workspace");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = kith_web::router(kith_web::State {
            app: app.clone(),
            secure_cookies: false,
        });
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("server runs");
        });
        let client = reqwest::Client::builder()
            .cookie_store(false)
            .build()
            .unwrap();
        let mut t = TestApp {
            backend,
            app,
            api: Api {
                base,
                client,
                token: None,
                csrf: None,
            },
            db_url,
            server,
            _dir: dir,
        };
        t.api = t.user("admin@acme.test", Role::Admin, "acme").await;
        t
    }

    /// A new user of `workspace`, speaking through an API token.
    pub async fn user(&self, email: &str, role: Role, workspace: &str) -> Api {
        self.app
            .add_user(email, role, workspace, PASSWORD)
            .await
            .expect("add user");
        let token = self.app.create_token(email, "test").await.expect("token");
        Api {
            token: Some(token),
            ..self.api.clone()
        }
    }

    /// An anonymous client of the same server.
    pub fn anonymous(&self) -> Api {
        Api {
            token: None,
            csrf: None,
            ..self.api.clone()
        }
    }

    /// A pipeline "Sales" with stages Lead (10), Proposal (50), Won (100, won), Lost (lost).
    pub async fn sales_pipeline(&self) -> (Value, Vec<Value>) {
        let p = self.api.create("pipelines", json!({"name": "Sales"})).await;
        let mut stages = Vec::new();
        for (name, prob, kind) in [
            ("Lead", 10, "open"),
            ("Proposal", 50, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ] {
            stages.push(
                self.api
                    .create("stages", json!({"pipeline_id": p["id"], "name": name, "probability": prob, "kind": kind}))
                    .await,
            );
        }
        (p, stages)
    }

    pub async fn finish(self) {
        self.server.abort();
        self.app.db().close().await;
    }
}
