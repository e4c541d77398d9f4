//! The admin calls of a steerable server, under `/_keypaird/` beside `keypair-http`'s, and
//! behind the same token ([`keypair_http::admin::guard`]). Outside test mode every one of
//! them answers `403`, saying how to start a server that takes them.
//!
//! - `POST /_keypaird/faults` adds a rule ([`crate::faults::RuleSpec`]): `{"Id": n}`, or
//!   `400` saying what is wrong (a code the product does not define among them);
//!   `GET` lists the rules; `DELETE` removes them all; `DELETE /_keypaird/faults/{id}`
//!   one. `POST /_keypaird/reset` clears them too.
//! - `GET /_keypaird/clock`; `POST` with `{"SetMs": ms}`, `{"AdvanceMs": ms}`,
//!   `{"Follow": true}` and/or `{"PinSignatures": bool}`.
//! - `POST /_keypaird/seed` with `{"Seed": n}`: the deterministic mode starts over from
//!   `n` (a server started with `--seed` only).
//! - `POST /_keypaird/journal/start` and `…/stop`; `GET /_keypaird/journal` downloads it
//!   (JSON lines); `PUT` uploads one (at most [`crate::journal::MAX_HELD_BYTES`]);
//!   `POST /_keypaird/journal/replay` replays the held journal into this server and
//!   answers the report.

use crate::faults::RuleSpec;
use crate::Steer;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use keypair_core::Timestamp;
use keypair_http::admin::{answer, guard, AdminToken, PREFIX};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The most bytes of a rule, clock or seed body.
pub const MAX_CALL_BYTES: usize = 64 << 10;

/// The routes, behind `token`, to merge into the server's router.
pub fn routes(steer: Arc<Steer>, token: AdminToken) -> Router {
    let test_mode = steer.test_mode();
    let routes = Router::new()
        .route(
            &format!("{PREFIX}/faults"),
            post(add_rule).get(list_rules).delete(clear_rules),
        )
        .route(&format!("{PREFIX}/faults/{{id}}"), delete(delete_rule))
        .route(&format!("{PREFIX}/clock"), get(clock).post(set_clock))
        .route(&format!("{PREFIX}/seed"), post(seed))
        .route(&format!("{PREFIX}/journal/start"), post(journal_start))
        .route(&format!("{PREFIX}/journal/stop"), post(journal_stop))
        .route(
            &format!("{PREFIX}/journal"),
            get(journal_download).put(journal_upload),
        )
        .route(&format!("{PREFIX}/journal/replay"), post(journal_replay))
        .route_layer(middleware::from_fn(
            move |req: Request, next: Next| async move {
                if test_mode {
                    next.run(req).await
                } else {
                    refused(req.uri().path())
                }
            },
        ));
    guard(routes, token).with_state(steer)
}

fn refused(path: &str) -> Response {
    let why = "faults, seeds, the clock and the journal are test-mode powers: start keypaird \
               with --test-credentials (or --ephemeral --test-credentials) to use them";
    answer(
        path.to_owned(),
        StatusCode::FORBIDDEN,
        json!({"Error": why}),
    )
}

fn bad(route: &str, why: impl std::fmt::Display) -> Response {
    answer(
        route,
        StatusCode::BAD_REQUEST,
        json!({"Error": why.to_string()}),
    )
}

/// A JSON body of at most [`MAX_CALL_BYTES`], or the `400` that says why not.
async fn json_body<T: for<'de> Deserialize<'de>>(route: &str, body: Body) -> Result<T, Response> {
    let bytes = to_bytes(body, MAX_CALL_BYTES)
        .await
        .map_err(|_| bad(route, format!("the body is over {MAX_CALL_BYTES} bytes")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| bad(route, format!("not the JSON this call takes: {e}")))
}

async fn add_rule(State(steer): State<Arc<Steer>>, body: Body) -> Response {
    const ROUTE: &str = "faults";
    let spec: RuleSpec = match json_body(ROUTE, body).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match steer.faults.add(spec) {
        Ok(id) => answer(ROUTE, StatusCode::OK, json!({"Id": id})),
        Err(e) => bad(ROUTE, e),
    }
}

async fn list_rules(State(steer): State<Arc<Steer>>) -> Response {
    answer(
        "faults",
        StatusCode::OK,
        json!({"Rules": steer.faults.list()}),
    )
}

async fn clear_rules(State(steer): State<Arc<Steer>>) -> Response {
    answer(
        "faults",
        StatusCode::OK,
        json!({"Deleted": steer.faults.clear()}),
    )
}

async fn delete_rule(State(steer): State<Arc<Steer>>, Path(id): Path<u64>) -> Response {
    if steer.faults.delete(id) {
        answer("faults", StatusCode::OK, json!({"Deleted": 1}))
    } else {
        answer(
            "faults",
            StatusCode::NOT_FOUND,
            json!({"Error": format!("no rule {id}")}),
        )
    }
}

/// `POST /_keypaird/clock`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ClockChange {
    set_ms: Option<i64>,
    advance_ms: Option<i64>,
    follow: Option<bool>,
    pin_signatures: Option<bool>,
}

async fn clock(State(steer): State<Arc<Steer>>) -> Response {
    answer("clock", StatusCode::OK, steer.clock.describe())
}

async fn set_clock(State(steer): State<Arc<Steer>>, body: Body) -> Response {
    const ROUTE: &str = "clock";
    let change: ClockChange = match json_body(ROUTE, body).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if change.follow == Some(true) {
        steer.clock.follow();
    }
    if let Some(ms) = change.set_ms {
        steer.clock.set(Timestamp::from_millis(ms));
    }
    if let Some(ms) = change.advance_ms {
        steer.clock.advance(ms);
    }
    if let Some(pin) = change.pin_signatures {
        steer.clock.pin_signatures(pin);
    }
    answer(ROUTE, StatusCode::OK, steer.clock.describe())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SeedChange {
    seed: u64,
}

async fn seed(State(steer): State<Arc<Steer>>, body: Body) -> Response {
    const ROUTE: &str = "seed";
    let change: SeedChange = match json_body(ROUTE, body).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if steer.reseed(change.seed) {
        answer(ROUTE, StatusCode::OK, json!({"Seed": change.seed}))
    } else {
        let why = "this server was started without --seed, so its ids and keys are random; \
                   start it with --seed N to seed it again here";
        answer(ROUTE, StatusCode::CONFLICT, json!({"Error": why}))
    }
}

async fn journal_start(State(steer): State<Arc<Steer>>) -> Response {
    steer.journal.start();
    answer("journal", StatusCode::OK, json!({"Recording": true}))
}

async fn journal_stop(State(steer): State<Arc<Steer>>) -> Response {
    steer.journal.stop();
    answer("journal", StatusCode::OK, json!({"Recording": false}))
}

async fn journal_download(State(steer): State<Arc<Steer>>) -> Response {
    let (text, left_out) = steer.journal.download();
    let mut r = (StatusCode::OK, text).into_response();
    let headers = r.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert("x-keypaird-left-out", HeaderValue::from(left_out));
    r
}

async fn journal_upload(State(steer): State<Arc<Steer>>, body: Body) -> Response {
    const ROUTE: &str = "journal";
    let Ok(bytes) = to_bytes(body, crate::journal::MAX_HELD_BYTES).await else {
        return bad(
            ROUTE,
            format!(
                "a journal is at most {} bytes",
                crate::journal::MAX_HELD_BYTES
            ),
        );
    };
    match text(&bytes).and_then(|t| steer.journal.upload(t).map_err(|e| e.to_string())) {
        Ok(n) => answer(ROUTE, StatusCode::OK, json!({"Entries": n})),
        Err(e) => bad(ROUTE, e),
    }
}

fn text(bytes: &Bytes) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("the journal is not UTF-8: {e}"))
}

async fn journal_replay(State(steer): State<Arc<Steer>>) -> Response {
    const ROUTE: &str = "journal/replay";
    let Some(endpoint) = steer.endpoint.get().cloned() else {
        return answer(
            ROUTE,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"Error": "the server has no endpoint yet"}),
        );
    };
    let (held, _) = steer.journal.download();
    let entries = match crate::journal::parse(&held) {
        Ok(e) => e,
        Err(e) => return bad(ROUTE, e),
    };
    match crate::replay::replay(&entries, &crate::replay::Endpoint(endpoint)).await {
        Ok(report) => answer(ROUTE, StatusCode::OK, report_json(&report)),
        Err(e) => answer(
            ROUTE,
            StatusCode::BAD_GATEWAY,
            json!({"Error": e.to_string()}),
        ),
    }
}

/// A replay report as JSON.
pub fn report_json(report: &crate::replay::Report) -> Value {
    use crate::replay::Kind;
    let shown: Vec<Value> = report
        .differences
        .iter()
        .take(crate::replay::SHOWN)
        .map(|d| json!({"Entry": d.entry, "Action": d.action, "Path": d.path, "Kind": format!("{:?}", d.kind), "Was": d.was, "Now": d.now}))
        .collect();
    json!({
        "Entries": report.entries,
        "Mapped": report.mapped,
        "Differences": report.differences.len(),
        "Ids": report.count(Kind::Id),
        "Times": report.count(Kind::Time),
        "Keys": report.count(Kind::Key),
        "Other": report.count(Kind::Other),
        "Shown": shown,
    })
}
