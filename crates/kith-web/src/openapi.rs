//! The OpenAPI 3.1 description of the API, generated from the object specs in kith-core,
//! so that it cannot drift from what the server accepts.

use kith_core::fields::Kind;
use kith_core::objects::{FieldSpec, ObjectKind};
use serde_json::{json, Map, Value};

fn field_schema(f: &FieldSpec) -> Value {
    let mut s = match f.kind {
        Kind::Text(max) => json!({"type": "string", "maxLength": max}),
        Kind::LongText => json!({"type": "string", "maxLength": 100_000}),
        Kind::Key => json!({"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}),
        Kind::Email => json!({"type": "string", "format": "email"}),
        Kind::Phone => {
            json!({"type": "string", "description": "E.164 on output, an extension after `;ext=`; national formats and extensions (`ext. 12`, `x12`) accepted on input"})
        }
        Kind::Url => json!({"type": "string", "format": "uri"}),
        Kind::Domain => json!({"type": "string", "format": "hostname"}),
        Kind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::Date => json!({"type": "string", "format": "date"}),
        Kind::DateTime => json!({"type": "string", "format": "date-time"}),
        Kind::Currency => json!({"type": "string", "pattern": "^[A-Z]{3}$"}),
        Kind::Country => json!({"type": "string", "pattern": "^[A-Z]{2}$"}),
        Kind::Choice(options) => json!({"type": "string", "enum": options}),
        Kind::Ref(_) | Kind::UserRef => json!({"type": "string", "format": "uuid"}),
        Kind::Consent => json!({
            "type": "object",
            "additionalProperties": {"type": "string", "enum": ["granted", "denied", "unknown"]},
            "propertyNames": {"enum": kith_core::fields::CONSENT_CHANNELS},
        }),
        Kind::Identities => json!({"type": "array", "items": {
            "type": "object",
            "required": ["kind", "value"],
            "properties": {
                "kind": {"type": "string", "enum": ["email", "phone", "external"]},
                "channel": {"type": "string"},
                "value": {"type": "string"}
            }
        }}),
        Kind::Options => json!({"type": "array", "items": {"type": "string"}}),
        Kind::LineItems => json!({"type": "array", "maxItems": 1000, "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 300},
                "sku": {"type": "string", "maxLength": 100},
                "quantity": {"type": "number", "exclusiveMinimum": 0, "description": "Defaults to 1."},
                "unit_price": {"type": "integer", "minimum": 0, "description": "Minor units."},
                "total": {"type": "integer", "minimum": 0, "description": "Minor units; defaults to quantity × unit_price."}
            }
        }}),
    };
    s["description"] = Value::String(f.doc.to_string());
    if !f.required {
        // 3.1: nullable is a union with "null".
        let ty = s["type"].clone();
        s["type"] = json!([ty, "null"]);
    }
    if f.read_only {
        s["readOnly"] = Value::Bool(true);
    }
    s
}

fn object_schema(object: ObjectKind) -> Value {
    let mut props = Map::new();
    props.insert(
        "id".into(),
        json!({"type": "string", "format": "uuid", "readOnly": true}),
    );
    props.insert("version".into(), json!({"type": "integer", "readOnly": true, "description": "Bumped by each change; also the ETag."}));
    for f in object.fields() {
        props.insert(f.name.into(), field_schema(f));
    }
    if object.is_customisable() {
        props.insert("tags".into(), json!({"type": "array", "items": {"type": "string"}, "description": "Tag names; unknown ones are created."}));
        props.insert("custom".into(), json!({"type": "object", "description": "Custom field values by key (see field_definitions)."}));
    }
    for t in ["created_at", "updated_at"] {
        props.insert(
            t.into(),
            json!({"type": "string", "format": "date-time", "readOnly": true}),
        );
    }
    props.insert(
        "deleted_at".into(),
        json!({"type": ["string", "null"], "format": "date-time", "readOnly": true}),
    );
    let required: Vec<&str> = object
        .fields()
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

fn schema_name(object: ObjectKind) -> String {
    object
        .singular()
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

pub(crate) fn err(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn paths_for(object: ObjectKind, paths: &mut Map<String, Value>) {
    let name = schema_name(object);
    let r = json!({"$ref": format!("#/components/schemas/{name}")});
    let one = json!({"description": "The record", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": r}}});
    let tag = object.plural();
    let id_param = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}});
    let if_match = json!({"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "ETag of the version the change is based on; a stale one gets 412."});
    let page = json!({"description": "A page", "content": {"application/json": {"schema": {
        "type": "object",
        "properties": {"data": {"type": "array", "items": r}, "next_cursor": {"type": ["string", "null"]}}
    }}}});
    let list_params = json!([
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
        {"name": "sort", "in": "query", "schema": {"type": "string"}, "description": "Field to sort by, `-field` for descending; custom fields as `custom.KEY`."},
        {"name": "filter", "in": "query", "schema": {"type": "string"}, "description": "Filter in text form (`city = Aarhus and employees >= 50`) or JSON form."},
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Quick search over names, emails, phones and company."},
        {"name": "deleted", "in": "query", "schema": {"type": "boolean"}, "description": "List the recycle bin."}
    ]);
    let errors = |m: &mut Map<String, Value>| {
        m.insert("400".into(), err("Malformed request"));
        m.insert("401".into(), err("Not signed in"));
        m.insert("403".into(), err("Not allowed"));
        m.insert("404".into(), err("Not found"));
        m.insert("422".into(), err("Invalid fields"));
    };
    let mut list_resp = Map::new();
    list_resp.insert("200".into(), page.clone());
    errors(&mut list_resp);
    let mut create_resp = Map::new();
    create_resp.insert("201".into(), one.clone());
    errors(&mut create_resp);
    let mut one_resp = Map::new();
    one_resp.insert("200".into(), one.clone());
    errors(&mut one_resp);
    one_resp.insert(
        "409".into(),
        err("Changed by someone else at the same moment"),
    );
    one_resp.insert(
        "412".into(),
        err("If-Match is stale; `current` holds the record as it is now"),
    );
    let body = json!({"required": true, "content": {"application/json": {"schema": r}}});
    paths.insert(format!("/api/v1/{tag}"), json!({
        "get": {"tags": [tag], "summary": format!("List {tag}"), "operationId": format!("list_{tag}"), "parameters": list_params, "responses": list_resp},
        "post": {"tags": [tag], "summary": format!("Create a {}", object.singular()), "operationId": format!("create_{}", object.singular()), "requestBody": body, "responses": create_resp},
    }));
    paths.insert(format!("/api/v1/{tag}/query"), json!({
        "post": {"tags": [tag], "summary": format!("List {tag} with the request as JSON"), "operationId": format!("query_{tag}"),
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
                "filter": {"description": "Filter in JSON form: {\"and\": [{\"field\": \"city\", \"op\": \"eq\", \"value\": \"Aarhus\"}]}"},
                "q": {"type": "string"}, "sort": {"type": "string"}, "cursor": {"type": "string"},
                "limit": {"type": "integer"}, "deleted": {"type": "boolean"}}}}}},
            "responses": list_resp}
    }));
    paths.insert(format!("/api/v1/{tag}/{{id}}"), json!({
        "parameters": [id_param],
        "get": {"tags": [tag], "summary": format!("Get a {}", object.singular()), "operationId": format!("get_{}", object.singular()), "responses": one_resp},
        "patch": {"tags": [tag], "summary": format!("Change a {}", object.singular()), "operationId": format!("update_{}", object.singular()), "parameters": [if_match], "requestBody": body, "responses": one_resp},
        "delete": {"tags": [tag], "summary": format!("Move a {} to the recycle bin", object.singular()), "operationId": format!("delete_{}", object.singular()), "parameters": [if_match], "responses": one_resp},
    }));
    paths.insert(format!("/api/v1/{tag}/{{id}}/restore"), json!({
        "parameters": [id_param],
        "post": {"tags": [tag], "summary": format!("Restore a {} from the recycle bin", object.singular()), "operationId": format!("restore_{}", object.singular()), "parameters": [if_match], "responses": one_resp},
    }));
    if object.is_customisable() {
        paths.insert(format!("/api/v1/{tag}/{{id}}/timeline"), json!({
            "parameters": [id_param],
            "get": {"tags": [tag], "summary": "Timeline: activities, tasks, stage and field changes, newest first",
                "operationId": format!("timeline_{}", object.singular()),
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "before", "in": "query", "schema": {"type": "string", "format": "date-time"}}
                ],
                "responses": {"200": {"description": "Entries", "content": {"application/json": {"schema": {"type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/TimelineEntry"}}}}}}}, "404": err("Not found")}}
        }));
    }
}

/// The OpenAPI 3.1 document.
pub fn spec() -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert("Error".into(), json!({"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "Stable machine code: validation_failed, filter_invalid, cursor_invalid, json_invalid, not_found, unauthorized, forbidden, csrf_failed, version_conflict, duplicate, rate_limited, body_too_large …"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Why each bad field is wrong"},
            "current": {"type": "object", "description": "With 412: the record as it is now"}
        }}}}));
    schemas.insert("TimelineEntry".into(), json!({"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"},
        "type": {"type": "string", "enum": ["activity", "task", "email_send", "stage_change", "created", "field_change", "deleted", "restored", "workflow_run"]},
        "data": {"type": "object"}}}));
    for object in ObjectKind::ALL {
        schemas.insert(schema_name(object), object_schema(object));
        paths_for(object, &mut paths);
    }
    paths.insert("/api/v1/auth/login".into(), json!({"post": {"tags": ["auth"], "summary": "Sign in; sets the session cookie and returns the CSRF token for writes", "operationId": "login", "security": [],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string"}, "password": {"type": "string"}}}}}},
        "responses": {"200": {"description": "Signed in"}, "401": err("Wrong email or password"), "429": err("Too many failed attempts")}}}));
    paths.insert("/api/v1/auth/logout".into(), json!({"post": {"tags": ["auth"], "summary": "Sign out", "operationId": "logout", "responses": {"204": {"description": "Signed out"}}}}));
    paths.insert("/api/v1/me".into(), json!({
        "get": {"tags": ["auth"], "summary": "The caller and their workspace", "operationId": "me", "responses": {"200": {"description": "The caller"}, "401": err("Not signed in")}},
        "patch": {"tags": ["auth"], "summary": "Set the name the caller is shown by, and an import may name them by as an owner (null or empty: shown by email)", "operationId": "update_me",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                "name": {"type": ["string", "null"], "maxLength": 100}}}}}},
            "responses": {"200": {"description": "The caller"}, "401": err("Not signed in"), "422": err("A name of more than 100 characters or more than one line")}}}));
    paths.insert("/api/v1/users".into(), json!({"get": {"tags": ["auth"], "summary": "The people of the caller's workspace by email (id, email, name, role, disabled): who an owner_id or assignee_id is", "operationId": "list_users", "responses": {"200": {"description": "The users, as `data`"}, "401": err("Not signed in")}}}));
    paths.insert("/api/v1/workspace".into(), json!({
        "get": {"tags": ["workspace"], "summary": "The caller's workspace and its defaults", "operationId": "get_workspace", "responses": {"200": {"description": "The workspace"}}},
        "patch": {"tags": ["workspace"], "summary": "Change the default currency, phone region and time zone (admins)", "operationId": "update_workspace",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "properties": {
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "phone_region": {"type": ["string", "null"], "description": "ISO country whose numbering reads phones written without +"},
                "time_zone": {"type": "string", "description": "IANA zone, e.g. Europe/Copenhagen"}}}}}},
            "responses": {"200": {"description": "The workspace"}, "403": err("Not an admin"), "422": err("Invalid settings")}}
    }));
    imports(&mut paths, &mut schemas);
    duplicates(&mut paths);
    segments(&mut paths);
    exports(&mut paths);
    crate::search::openapi(&mut paths, &mut schemas);
    jobs(&mut paths, &mut schemas);
    crate::mail::openapi(&mut paths, &mut schemas);
    crate::campaigns::openapi(&mut paths, &mut schemas);
    crate::workflows::openapi(&mut paths, &mut schemas);
    paths.insert("/healthz".into(), json!({"get": {"tags": ["operations"], "summary": "Health check", "operationId": "healthz", "security": [], "responses": {"200": {"description": "Up"}, "503": {"description": "Database unreachable"}}}}));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Kith CRM API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every object has the same endpoints. Writes with a session cookie need the X-CSRF-Token header; API tokens need none. Errors are {\"error\": {\"code\", \"message\", \"fields\"}}."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "API token from `kith token create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "kith_session"}
            },
            "schemas": schemas
        },
        "paths": paths
    })
}

fn imports(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let import = json!({"$ref": "#/components/schemas/Import"});
    schemas.insert("Import".into(), json!({"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"},
        "object": {"type": "string", "enum": ["contact", "company", "deal", "activity", "order"]},
        "file_name": {"type": "string"}, "format": {"type": "string", "enum": ["csv", "xlsx", "vcard", ""]},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed", "reverting", "reverted"]},
        "rows_done": {"type": "integer", "description": "Data rows handled: the resume point"},
        "created": {"type": "integer"}, "updated": {"type": "integer"},
        "skipped": {"type": "integer", "description": "Rows already present (same row imported before, or a duplicate with on_duplicate=skip)"},
        "failed": {"type": "integer", "description": "Rows refused; see errors_url"},
        "progress": {"type": "number", "description": "0..1 by bytes read"},
        "mapping": {"type": "array", "items": {"type": "object", "properties": {"column": {"type": "string"}, "target": {"type": ["string", "null"]}}}},
        "message": {"type": ["string", "null"]}, "errors_url": {"type": "string"}}}));
    let q = |name: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": desc});
    paths.insert("/api/v1/imports".into(), json!({
        "get": {"tags": ["imports"], "summary": "Recent imports of the workspace", "operationId": "list_imports",
            "responses": {"200": {"description": "Imports, newest first", "content": {"application/json": {"schema": {"type": "object", "properties": {"data": {"type": "array", "items": import}}}}}}}},
        "post": {"tags": ["imports"], "summary": "Upload a CSV, XLSX or vCard file (the body) and import it in the background; poll the answer's Location", "operationId": "create_import",
            "parameters": [
                {"name": "object", "in": "query", "required": true, "schema": {"type": "string", "enum": ["contacts", "companies", "deals", "activities", "orders"]}},
                q("file_name", "Shown in the history; its extension helps detect the format"),
                q("format", "csv, xlsx or vcard (detected when absent)"),
                q("encoding", "utf-8, gbk, gb18030, windows-1252 … (detected when absent)"),
                q("delimiter", "CSV delimiter (detected when absent)"),
                q("map", "COLUMN=FIELD, repeatable; overrides the mapping guessed from the headers (FIELD may be custom.KEY or ignore)"),
                q("on_duplicate", "skip (default), update or merge: what a row matching an existing record by email, phone or external id does"),
                q("region", "Phone region for numbers without +, instead of the workspace's"),
                q("month_first", "true: read 01/02/2026 as January 2nd; false: as 1 February; absent: as the file's own dates show (5/14/1980 is month first), else month first for region US and day first elsewhere"),
                q("create_fields", "true: unknown columns become custom text fields")],
            "requestBody": {"required": true, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"202": {"description": "Queued", "content": {"application/json": {"schema": import}}}, "413": err("Larger than 256 MiB"), "422": err("Bad options")}}
    }));
    paths.insert("/api/v1/imports/{id}".into(), json!({"get": {"tags": ["imports"], "summary": "Status and counts of an import", "operationId": "get_import",
        "responses": {"200": {"description": "The import", "content": {"application/json": {"schema": import}}}, "404": err("No such import")}}}));
    paths.insert("/api/v1/imports/{id}/errors".into(), json!({"get": {"tags": ["imports"], "summary": "Refused rows as CSV: the file's columns, then Import line and Import errors; fix and upload again", "operationId": "import_errors",
        "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}}}}));
    paths.insert("/api/v1/imports/{id}/revert".into(), json!({"post": {"tags": ["imports"], "summary": "Take the import back: remove what it created, restore what it changed (records edited since are kept)", "operationId": "revert_import",
        "responses": {"200": {"description": "The reverted import; message says what was kept", "content": {"application/json": {"schema": import}}}, "409": err("Still running")}}}));
}

fn duplicates(paths: &mut Map<String, Value>) {
    let object = json!({"name": "object", "in": "query", "required": true, "schema": {"type": "string", "enum": ["contacts", "companies"]}});
    let id = |d: &str| json!({"type": "string", "format": "uuid", "description": d});
    paths.insert("/api/v1/duplicates".into(), json!({"get": {"tags": ["duplicates"], "summary": "Likely duplicate pairs, best first, with both records, a score (0..1) and the reasons", "operationId": "list_duplicates",
        "parameters": [object, {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
        "responses": {"200": {"description": "Pairs: {a, b, score, reasons: [{field, weight, detail}]}"}}}}));
    paths.insert("/api/v1/duplicates/scan".into(), json!({"post": {"tags": ["duplicates"], "summary": "Scan the workspace for duplicates now (the server also does it every KITH_DEDUP_EVERY_HOURS)", "operationId": "scan_duplicates",
        "parameters": [object], "responses": {"200": {"description": "{pairs: N}"}}}}));
    paths.insert("/api/v1/duplicates/dismiss".into(), json!({"post": {"tags": ["duplicates"], "summary": "Mark a pair as not duplicates; later scans keep it dismissed", "operationId": "dismiss_duplicate",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["object", "a", "b"], "properties": {"object": {"type": "string"}, "a": id("One record"), "b": id("The other")}}}}},
        "responses": {"204": {"description": "Dismissed"}, "404": err("No such pair")}}}));
    paths.insert("/api/v1/merges".into(), json!({"post": {"tags": ["duplicates"], "summary": "Merge records into a survivor: picked values win, empty fields are filled, tags, emails, phones and identities are united, deals, activities and tasks move to the survivor, the merged records go to the recycle bin", "operationId": "merge",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["object", "survivor", "merged"], "properties": {
            "object": {"type": "string", "enum": ["contacts", "companies"]}, "survivor": id("The record that stays"),
            "merged": {"type": "array", "items": id("A record merged into the survivor")},
            "pick": {"type": "object", "additionalProperties": id("Record whose value of this field (or custom.KEY) wins")}}}}}},
        "responses": {"201": {"description": "{merge_id, merged, record, undo_url}"}, "404": err("A record is missing"), "409": err("Changed at the same moment")}}}));
    paths.insert("/api/v1/merges/{id}/undo".into(), json!({"post": {"tags": ["duplicates"], "summary": "Undo a merge: the survivor's values, the merged records and every moved link come back", "operationId": "undo_merge",
        "responses": {"200": {"description": "The survivor as before"}, "409": err("Undone already, or the survivor changed since")}}}));
}

fn segments(paths: &mut Map<String, Value>) {
    let seg = || json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
    paths.insert("/api/v1/segments/{id}/count".into(), json!({"get": {"tags": ["segments"], "summary": "How many records pass the segment's filter now, beside the member count of its last refresh", "operationId": "count_segment",
        "parameters": seg(), "responses": {"200": {"description": "{count, members, refreshed_at}"}, "404": err("No such segment")}}}));
    paths.insert("/api/v1/segments/{id}/members".into(), json!({"get": {"tags": ["segments"], "summary": "A page of the segment's members (whoever passes its filter now); takes the list parameters filter, q, sort, cursor, limit to narrow further", "operationId": "segment_members",
        "parameters": seg(), "responses": {"200": {"description": "{data: [records], next_cursor}"}, "404": err("No such segment")}}}));
    paths.insert("/api/v1/segments/{id}/refresh".into(), json!({"post": {"tags": ["segments"], "summary": "Recompute the stored membership now; each record that entered or left becomes a segment.entered / segment.left event (the server also refreshes every segment periodically, and re-checks a record whenever it, its orders or activities change)", "operationId": "refresh_segment",
        "parameters": seg(), "responses": {"200": {"description": "{segment_id, entered, left, members}"}}}}));
    paths.insert("/api/v1/{objects}/{id}/segments".into(), json!({"get": {"tags": ["segments"], "summary": "The segments a contact or company is in, and since when", "operationId": "record_segments",
        "parameters": [{"name": "objects", "in": "path", "required": true, "schema": {"type": "string", "enum": ["contacts", "companies"]}},
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "responses": {"200": {"description": "{data: [{segment_id, name, entered_at}]}"}}}}));
    let t = json!({"type": "object", "additionalProperties": false, "properties": {
        "active_days": {"type": "integer", "description": "Ordered or had an activity within this many days: active (default 90)"},
        "at_risk_days": {"type": "integer", "description": "… within this many: at_risk (180)"},
        "dormant_days": {"type": "integer", "description": "… within this many: dormant; longer: churned (365)"},
        "new_customer_days": {"type": "integer", "description": "First order within this many days: value tier new (90)"},
        "high_value_min": {"type": ["integer", "null"], "description": "Lifetime value (minor units) from which a customer is high_value; null: the top fifth by revenue"}}});
    paths.insert("/api/v1/segmentation".into(), json!({
        "get": {"tags": ["segments"], "summary": "The thresholds of behaviour (active, at_risk, dormant, churned) and value tiers (high_value, standard, new)", "operationId": "get_segmentation",
            "responses": {"200": {"description": "{thresholds, recomputed_at}"}}},
        "put": {"tags": ["segments"], "summary": "Change the thresholds (admins) and apply them to every contact", "operationId": "set_segmentation",
            "requestBody": {"required": true, "content": {"application/json": {"schema": t}}},
            "responses": {"200": {"description": "{thresholds, recomputed_at}"}, "403": err("Not an admin"), "422": err("Invalid thresholds, by field")}}}));
    paths.insert("/api/v1/segmentation/recompute".into(), json!({"post": {"tags": ["segments"], "summary": "Recompute every contact's and company's order figures, RFM scores and groups, behaviour and value tier, then refresh every segment (the server does it daily)", "operationId": "recompute_segmentation",
        "responses": {"200": {"description": "{contacts_valued, companies_valued, scored, tiered, segments, membership_changes, segment_errors, seconds}"}}}}));
}

fn exports(paths: &mut Map<String, Value>) {
    let q = |name: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}, "description": desc});
    for object in [
        ObjectKind::Contact,
        ObjectKind::Company,
        ObjectKind::Deal,
        ObjectKind::Activity,
        ObjectKind::Task,
    ] {
        let tag = object.plural();
        let formats: &[&str] = if object == ObjectKind::Contact {
            &["csv", "xlsx", "vcard"]
        } else {
            &["csv", "xlsx"]
        };
        let mut content = Map::new();
        content.insert("text/csv".into(), json!({"schema": {"type": "string"}}));
        content.insert(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
            json!({"schema": {"type": "string", "format": "binary"}}),
        );
        if object == ObjectKind::Contact {
            content.insert("text/vcard".into(), json!({"schema": {"type": "string"}}));
        }
        paths.insert(format!("/api/v1/{tag}/export"), json!({"get": {"tags": [tag],
            "summary": format!("Download {tag} as {}: the whole list, a filter, a search or a saved view; the file imports back as it is", formats.join(", ")),
            "operationId": format!("export_{tag}"),
            "parameters": [
                {"name": "format", "in": "query", "schema": {"type": "string", "enum": formats, "default": "csv"}},
                q("filter", "Filter in text or JSON form, as the list takes it; a view's filter when absent"),
                q("q", "Quick search"),
                q("sort", "`field` or `-field`; a view's sort when absent"),
                q("view", "Id of a saved view (shared, or the caller's own)"),
                q("columns", "Comma-separated fields as views name them (`last_name,email,company_id,custom.tier`); default: every field that imports back")],
            "responses": {"200": {"description": "The file, streamed; CSV is UTF-8 with a byte order mark, times are UTC, money is in major units beside its currency", "content": content},
                "400": err("Malformed request"), "401": err("Not signed in"), "404": err("No such view"), "422": err("Invalid filter, sort, format or columns")}}}));
    }
    let calendar = json!({"description": "iCalendar (RFC 5545): open tasks with a due time and meetings, times in UTC", "content": {"text/calendar": {"schema": {"type": "string"}}}});
    paths.insert("/api/v1/calendar.ics".into(), json!({"get": {"tags": ["calendar"], "summary": "The caller's open tasks and meetings as iCalendar", "operationId": "calendar",
        "responses": {"200": calendar, "401": err("Not signed in")}}}));
    paths.insert("/api/v1/me/calendar-feed".into(), json!({
        "post": {"tags": ["calendar"], "summary": "Create or rotate the caller's secret calendar feed URL (shown once; the previous one stops working)", "operationId": "create_calendar_feed",
            "responses": {"201": {"description": "`url`: the feed's path, `/calendar/{secret}.ics`, to give a calendar app", "content": {"application/json": {"schema": {"type": "object", "properties": {"url": {"type": "string"}}}}}}, "401": err("Not signed in")}},
        "delete": {"tags": ["calendar"], "summary": "Revoke the caller's calendar feed URL", "operationId": "revoke_calendar_feed",
            "responses": {"204": {"description": "Revoked (or there was none)"}, "401": err("Not signed in")}}
    }));
    paths.insert("/calendar/{secret}.ics".into(), json!({"get": {"tags": ["calendar"], "summary": "A calendar feed for calendar apps: no session, the secret in the URL is the credential", "operationId": "calendar_feed", "security": [],
        "parameters": [{"name": "secret", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": calendar, "404": err("Unknown or revoked feed")}}}));
}

fn jobs(paths: &mut Map<String, Value>, schemas: &mut Map<String, Value>) {
    let time =
        |d: &str| json!({"type": ["string", "null"], "format": "date-time", "description": d});
    schemas.insert("Job".into(), json!({"type": "object", "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "description": "What the job does, e.g. dedup.scan"},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed", "dead"], "description": "failed: waiting for its next attempt at run_at; dead: gave up, retry by hand"},
        "payload": {"type": "object", "description": "The job's input; values under secret-looking keys show as [hidden]"},
        "run_at": {"type": "string", "format": "date-time", "description": "Not before (the next attempt's time when failed)"},
        "attempts": {"type": "integer"}, "max_attempts": {"type": "integer"},
        "last_error": {"type": ["string", "null"]},
        "idempotency_key": {"type": ["string", "null"]},
        "locked_by": {"type": ["string", "null"], "description": "Worker running it"},
        "locked_until": time("End of the running worker's lease"),
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"},
        "finished_at": time("Done or dead")}}));
    schemas.insert("Schedule".into(), json!({"type": "object", "properties": {
        "name": {"type": "string"}, "kind": {"type": "string"}, "payload": {"type": "object"},
        "every_secs": {"type": ["integer", "null"], "description": "Interval, or null for a daily schedule"},
        "daily_at": {"type": ["string", "null"], "description": "HH:MM in the workspace's time zone, or null"},
        "enabled": {"type": "boolean"},
        "next_run_at": {"type": "string", "format": "date-time"},
        "last_run_at": time("Last tick enqueued"),
        "last_job_id": {"type": ["string", "null"], "format": "uuid"}}}));
    let job = json!({"$ref": "#/components/schemas/Job"});
    paths.insert("/api/v1/jobs".into(), json!({"get": {"tags": ["jobs"], "summary": "Background jobs of the workspace, most recently changed first (admins)", "operationId": "list_jobs",
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["queued", "running", "done", "failed", "dead"]}, "description": "dead: the dead letters"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
        "responses": {"200": {"description": "Jobs", "content": {"application/json": {"schema": {"type": "object", "properties": {"data": {"type": "array", "items": job}}}}}},
            "403": err("Not an admin"), "422": err("Unknown status")}}}));
    paths.insert("/api/v1/jobs/{id}/retry".into(), json!({"post": {"tags": ["jobs"], "summary": "Run a dead or failed job again now, its attempts starting over (admins)", "operationId": "retry_job",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "responses": {"200": {"description": "The job, queued", "content": {"application/json": {"schema": job}}}, "403": err("Not an admin"), "404": err("No such job"), "422": err("Not dead or failed")}}}));
    paths.insert("/api/v1/schedules".into(), json!({"get": {"tags": ["jobs"], "summary": "Recurring schedules of the workspace (admins)", "operationId": "list_schedules",
        "responses": {"200": {"description": "Schedules", "content": {"application/json": {"schema": {"type": "object", "properties": {"data": {"type": "array", "items": {"$ref": "#/components/schemas/Schedule"}}}}}}}, "403": err("Not an admin")}}}));
}

/// The API reference as Markdown, rendered from [`spec`] (docs/API.md is this output).
pub fn markdown() -> String {
    let spec = spec();
    let mut out = String::new();
    out.push_str("# Kith API reference\n\n");
    out.push_str("Generated from the OpenAPI 3.1 document (`kith openapi`, or `GET /api/v1/openapi.json` on a running server) by `kith openapi --markdown`. Do not edit by hand.\n\n");
    out.push_str(spec["info"]["description"].as_str().unwrap_or(""));
    out.push_str("\n\n## Lists\n\nEvery list takes `limit` (1–500, default 50), `cursor` (the `next_cursor` of the previous page), `sort` (`field` or `-field`, custom fields as `custom.KEY`), `filter` and `q`, and answers `{\"data\": [...], \"next_cursor\": ...}`.\n\nFilter text form: `field op value` joined with `and`, `or`, `not` and parentheses. Operators: `=`, `!=`, `<`, `<=`, `>`, `>=`, `~` (contains), `^=` (starts with), `in (a, b)`, `not in (a, b)`, `is empty`, `is not empty`, `has` / `has not` (tags, multi-select). Relative dates: `today`, `now`, `-90d`, `+2w`, `-3m`, `-1y`. Example: `lifecycle_stage = customer and (city = \"Århus\" or tags has vip) and created_at > -90d`.\n\nThe same filter in JSON form: `{\"and\": [{\"field\": \"lifecycle_stage\", \"op\": \"eq\", \"value\": \"customer\"}, ...]}` with ops `eq ne lt lte gt gte contains starts_with in not_in is_empty is_not_empty has has_not`.\n\n");
    out.push_str("## Exports and the calendar feed\n\n`GET /api/v1/{objects}/export?format=csv|xlsx|vcard` takes the list parameters (`filter`, `q`, `sort`) and `view` (a saved view's filter, sort and columns) and streams the whole list, a page at a time. CSV is UTF-8 with a byte order mark and commas; vCard 4.0 is for contacts. The header row uses names the importer maps back (`first_name`, `custom.KEY`, `tags`, `company`, `owner`, `stage`, `pipeline`, `contact_email`, `email2`, `mobile`, `consent.email` and the other channels, `created_at`: an import keeps it as the creation of the records it makes), links are written as the company's name, the owner's email and the stage's name, money in major units beside its currency, times in UTC (CSV, with `Z`) or as the workspace's wall clock (XLSX, which has no zones; the importer reads times without an offset in the workspace's zone); so an export imports into another workspace as it is. CSV cells that start with `=`, `+`, `-` or `@` (and are not plain numbers) get a leading `'` so spreadsheets do not run them as formulas.\n\n`GET /api/v1/calendar.ics` is the caller's open tasks with a due time and meetings as iCalendar. `POST /api/v1/me/calendar-feed` answers, once, a secret URL `/calendar/{secret}.ics` that calendar apps poll without signing in; posting again replaces it and `DELETE` revokes it.\n\n");
    out.push_str("## Endpoints\n\n| Method | Path | Summary |\n|---|---|---|\n");
    if let Some(paths) = spec["paths"].as_object() {
        for (path, ops) in paths {
            for method in ["get", "post", "patch", "delete"] {
                if let Some(op) = ops.get(method) {
                    out.push_str(&format!(
                        "| {} | `{}` | {} |\n",
                        method.to_uppercase(),
                        path,
                        op["summary"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    out.push_str("\n## Objects\n\n");
    if let Some(schemas) = spec["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let Some(props) = schema["properties"].as_object() else {
                continue;
            };
            out.push_str(&format!(
                "### {name}\n\n| Field | Type | Notes |\n|---|---|---|\n"
            ));
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (field, p) in props {
                let ty = match &p["type"] {
                    Value::Array(a) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" \\| "),
                    Value::String(s) => s.clone(),
                    _ => "object".into(),
                };
                let ty = match (p["format"].as_str(), p["enum"].as_array()) {
                    (_, Some(e)) => format!(
                        "{ty}: {}",
                        e.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    (Some(f), _) => format!("{ty} ({f})"),
                    _ => ty,
                };
                let mut notes = p["description"].as_str().unwrap_or("").to_string();
                if required.contains(&field.as_str()) {
                    notes = format!("**required**. {notes}");
                }
                if p["readOnly"].as_bool() == Some(true) {
                    notes = format!("read-only. {notes}");
                }
                out.push_str(&format!("| `{field}` | {ty} | {} |\n", notes.trim()));
            }
            out.push('\n');
        }
    }
    out
}
