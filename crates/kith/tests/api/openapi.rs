//! The API describes itself, and the committed reference matches the code.

use reqwest::StatusCode;

use crate::harness::both;

both!(openapi_document_and_health_are_served, |app| async move {
    let anon = app.anonymous();
    let health = anon.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let spec = app.api.get("/api/v1/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
    for path in [
        "/api/v1/contacts",
        "/api/v1/contacts/{id}",
        "/api/v1/deals/{id}/timeline",
        "/api/v1/field_definitions",
    ] {
        assert!(spec.body["paths"][path].is_object(), "{path} missing");
    }
    let contact = &spec.body["components"]["schemas"]["Contact"]["properties"];
    for f in ["first_name", "email", "phone", "custom", "tags", "version"] {
        assert!(contact[f].is_object(), "{f} missing");
    }
    let unknown = app.api.get("/api/v1/nothing/here/at/all").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
});

#[test]
fn docs_api_md_is_generated_from_the_current_spec() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md"))
            .expect("docs/API.md exists");
    assert!(
        committed == kith_web::api_reference(),
        "docs/API.md is stale: run `cargo run -- openapi --markdown > docs/API.md`"
    );
}
