//! The answer: `{"Response": {…, "RequestId"}}` with HTTP 200 and `Content-Type:
//! application/json` exactly, an error as `{"Error": {"Code", "Message"}}` in the
//! caller's language, and the request's id.

use crate::actions::Answer;
use crate::encode;
use crate::error::{ApiError, Language};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map};

/// A fresh random (version 4) UUID, lower case.
pub(crate) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn envelope(
    result: Result<Answer, ApiError>,
    lang: Language,
    request_id: &str,
) -> Response {
    let mut response = match result {
        Ok(Answer::Page(page)) => {
            let body = serde_json::to_string(&encode::PageJson {
                page: &page,
                request_id,
            });
            // Strings and numbers only: encoding cannot fail.
            return json_response(body.unwrap_or_default());
        }
        Ok(Answer::Fields(fields)) => fields,
        Err(e) => {
            let mut m = Map::new();
            m.insert(
                "Error".into(),
                json!({"Code": e.code, "Message": e.message(lang)}),
            );
            m
        }
    };
    response.insert("RequestId".into(), json!(request_id));
    json_response(json!({ "Response": response }).to_string())
}

/// Status 200 and `Content-Type: application/json` exactly: the Python SDK treats any
/// other status as a network error and ignores errors under a charset suffix.
pub(crate) fn json_response(body: String) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
