//! The console's answers over a router, as a browser gets them: the page, its
//! content-hashed assets, the security headers on each, and 404 for anything else.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use keypair_console::{asset_names, routes, ConsoleOptions, CONTENT_SECURITY_POLICY};
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let app = routes(&ConsoleOptions {
        prefill_secret_id: Some("AKIDtest".into()),
    });
    let req = Request::get(path).body(Body::empty()).unwrap();
    let res = app.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn assert_secure(headers: &axum::http::HeaderMap) {
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        CONTENT_SECURITY_POLICY
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    let csp = CONTENT_SECURITY_POLICY;
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self';"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("http"));
}

#[tokio::test]
async fn the_page_is_revalidated_and_names_hashed_assets_from_its_own_origin() {
    let (status, headers, page) = get("/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert_secure(&headers);
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    for name in asset_names() {
        let relative = name.trim_start_matches("/console/");
        assert!(
            page.contains(&format!("\"{relative}\"")),
            "{relative} in the page"
        );
    }
    assert!(!page.contains("://"), "no other origin is named");
    assert!(!page.contains("<script>"), "no inline script");
    assert!(
        page.contains("content=\"AKIDtest\""),
        "the test credential is offered"
    );
}

#[tokio::test]
async fn assets_are_immutable_under_their_hash_and_nothing_else_is_served() {
    for name in asset_names() {
        let (status, headers, body) = get(&name).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_secure(&headers);
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(!body.is_empty());
    }
    for path in [
        "/console/assets/console.js",
        "/console/assets/console-0000000000000000.js",
        "/console/x",
    ] {
        let (status, headers, _) = get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        if path.starts_with("/console/assets/") {
            assert_secure(&headers);
        }
    }
    let (status, headers, _) = get("/console").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/console/");
}

#[tokio::test]
async fn a_server_with_the_console_off_answers_404_and_says_how_to_turn_it_on() {
    for path in ["/console", "/console/", "/console/assets/x.js"] {
        let req = Request::get(path).body(Body::empty()).unwrap();
        let res = keypair_console::off().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("[console] enabled = true"));
    }
}
