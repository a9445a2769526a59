//! What several benchmarks share: a scratch directory and an empty database per run,
//! on SQLite or on the PostgreSQL server `KITH_TEST_PG` names.

use std::path::{Path, PathBuf};

/// An emptied directory under the target dir for one benchmark's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The URL of a fresh database for benchmark `name` on `backend`: a file in `dir` on
/// SQLite, a new database (named after the process) on PostgreSQL.
pub fn fresh_database(
    rt: &tokio::runtime::Runtime,
    backend: &str,
    dir: &Path,
    name: &str,
) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
        "postgres" => {
            let base = std::env::var("KITH_TEST_PG").expect("KITH_TEST_PG for the PostgreSQL run");
            let (head, _) = base.rsplit_once('/').unwrap();
            let db = format!("kith_bench_{name}_{}", std::process::id());
            rt.block_on(async {
                let admin = sqlx::PgPool::connect(&base).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(&admin)
                    .await
                    .unwrap();
            });
            format!("{head}/{db}")
        }
        other => panic!("unknown backend {other}"),
    }
}
