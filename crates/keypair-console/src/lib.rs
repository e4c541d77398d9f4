//! keypaird's web console: one self-contained page under `/console/`, whose assets are
//! compiled into the binary (`include_bytes!`: three files need no embedding crate, and
//! nothing is read from disk or another origin at run time).
//!
//! The console is no new way in. Its script signs the public Tencent Cloud API 3.0 with
//! TC3-HMAC-SHA256 in the browser (WebCrypto), with credentials the person types and
//! keeps in `sessionStorage`, and it shows every answer as the API gives it. With the
//! admin token typed too, it calls the admin API (`/_keypaird/…`). This crate only
//! serves the files, with the headers that keep the page to its own origin:
//!
//! - a strict `Content-Security-Policy` ([`CONTENT_SECURITY_POLICY`]): scripts, styles
//!   and connections from this origin only, no inline script, no frames;
//! - `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`;
//! - assets named by their content hash (`console-<hash>.js`), cacheable for a year and
//!   immutable, while the page itself is revalidated on every load.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The page's policy: nothing from another origin, no inline script or style, no
/// framing, no form submission and no base URL (the script sends every request). The
/// private-key download is a `blob:` link the person follows, which no fetch directive
/// governs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Where the console is served.
pub const PATH: &str = "/console/";

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &[u8] = include_bytes!("../assets/console.js");
const STYLE: &[u8] = include_bytes!("../assets/console.css");

/// A year: assets are named by their content, so a name never changes meaning.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How a server shows the console.
#[derive(Clone, Debug, Default)]
pub struct ConsoleOptions {
    /// A SecretId to offer in the sign-in form: in test-credentials mode, where any
    /// well-formed SecretId is its own SecretKey, the form can be prefilled with it.
    pub prefill_secret_id: Option<String>,
}

/// One asset: its hashed name, type and bytes.
struct Asset {
    name: String,
    content_type: &'static str,
    bytes: &'static [u8],
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let digest = Sha256::digest(bytes);
        let name = format!("{stem}-{}.{ext}", hex::encode(&digest[..8]));
        Asset {
            name,
            content_type,
            bytes,
        }
    }
}

/// The page and its assets, rendered once per server.
struct Console {
    index: String,
    assets: [Asset; 2],
}

impl Console {
    fn new(options: &ConsoleOptions) -> Self {
        let assets = [
            Asset::new("console", "js", "text/javascript; charset=utf-8", SCRIPT),
            Asset::new("console", "css", "text/css; charset=utf-8", STYLE),
        ];
        let prefill = options
            .prefill_secret_id
            .as_deref()
            .map(html_attribute)
            .unwrap_or_default();
        let index = INDEX
            .replace("@SCRIPT@", &assets[0].name)
            .replace("@STYLE@", &assets[1].name)
            .replace("@PREFILL@", &prefill);
        Console { index, assets }
    }

    fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.name == name)
    }
}

/// `text` as an HTML attribute value: the five characters HTML gives meaning escaped.
fn html_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The routes to merge into a server's router: `GET /console` (a redirect),
/// `GET /console/` and `GET /console/assets/{name}`.
pub fn routes(options: &ConsoleOptions) -> Router {
    let console = Arc::new(Console::new(options));
    let page = console.clone();
    Router::new()
        .route("/console", get(|| async { Redirect::permanent(PATH) }))
        .route(
            PATH,
            get(move || async move {
                respond("text/html; charset=utf-8", "no-cache", page.index.clone())
            }),
        )
        .route(
            "/console/assets/{name}",
            get(move |Path(name): Path<String>| async move {
                match console.asset(&name) {
                    Some(a) => respond(a.content_type, IMMUTABLE, a.bytes),
                    None => not_found(),
                }
            }),
        )
}

/// The routes of a server whose console is off: `/console` and everything under it
/// answer `404` with how to turn it on, instead of the API's wrong-path envelope.
pub fn off() -> Router {
    async fn off() -> Response {
        let why = "the console is off on this server: start keypaird with --console true, \
                   KEYPAIRD_CONSOLE=1 or [console] enabled = true (it is on by default with \
                   --ephemeral or --test-credentials)\n";
        secure((StatusCode::NOT_FOUND, why).into_response())
    }
    Router::new()
        .route("/console", get(off))
        .route("/console/", get(off))
        .route("/console/{*rest}", get(off))
}

/// The names the page refers to its assets by (for tests and docs).
pub fn asset_names() -> Vec<String> {
    Console::new(&ConsoleOptions::default())
        .assets
        .iter()
        .map(|a| format!("/console/assets/{}", a.name))
        .collect()
}

fn respond(content_type: &'static str, cache: &'static str, body: impl IntoResponse) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    secure(r)
}

fn not_found() -> Response {
    let r = (StatusCode::NOT_FOUND, "no such console asset\n").into_response();
    secure(r)
}

/// The headers every console answer carries.
fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_its_assets_by_their_hash_and_escapes_the_prefill() {
        let console = Console::new(&ConsoleOptions {
            prefill_secret_id: Some("AKID\"<x>".into()),
        });
        for asset in &console.assets {
            assert!(console.index.contains(&asset.name), "{}", asset.name);
        }
        assert!(!console.index.contains('@'), "every placeholder is filled");
        assert!(console.index.contains("AKID&quot;&lt;x&gt;"));
    }
}
