//! JSON error responses: `{"error":{"code":"...","message":"..."}}`.
//!
//! Bodies are static strings, so producing an error costs no formatting.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

/// `Allow` value of every route (axum answers HEAD wherever GET is routed).
pub const ALLOW: &str = "GET, HEAD";

const JSON: HeaderValue = HeaderValue::from_static("application/json");

macro_rules! error_body {
    ($code:literal, $message:literal) => {
        concat!(
            r#"{"error":{"code":""#,
            $code,
            r#"","message":""#,
            $message,
            r#""}}"#
        )
    };
}

const NOT_FOUND: &str = error_body!("NotFound", "no route matches this path");
const METHOD_NOT_ALLOWED: &str = error_body!(
    "MethodNotAllowed",
    "method not allowed; this route accepts GET and HEAD"
);
const URI_TOO_LONG: &str = error_body!("UriTooLong", "request target longer than 8192 bytes");
const TIMEOUT: &str = error_body!("Timeout", "the request took too long to handle");
const INTERNAL: &str = error_body!("Internal", "internal error");

fn json(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, JSON);
    resp
}

/// 404 for paths no route matches.
pub fn not_found() -> Response<Body> {
    json(StatusCode::NOT_FOUND, NOT_FOUND)
}

/// 405 for a known path with a method it does not serve, with `Allow`.
pub fn method_not_allowed() -> Response<Body> {
    let mut resp = json(StatusCode::METHOD_NOT_ALLOWED, METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    resp
}

/// 414 for request targets longer than [`crate::observe::MAX_URI_BYTES`].
pub fn uri_too_long() -> Response<Body> {
    json(StatusCode::URI_TOO_LONG, URI_TOO_LONG)
}

/// 500, e.g. for a handler that panicked.
pub fn internal() -> Response<Body> {
    json(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
}

/// Give error responses produced by middleware with an empty body (the request timeout, for
/// instance) the JSON error shape. Responses that already have a content type pass through.
#[inline]
pub fn with_json_body(resp: Response<Body>) -> Response<Body> {
    if resp.status().as_u16() < 400 || resp.headers().contains_key(header::CONTENT_TYPE) {
        return resp;
    }
    replace_body(resp)
}

#[cold]
fn replace_body(resp: Response<Body>) -> Response<Body> {
    let (mut parts, _) = resp.into_parts();
    let body = match parts.status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => TIMEOUT,
        StatusCode::NOT_FOUND => NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => METHOD_NOT_ALLOWED,
        _ => INTERNAL,
    };
    parts.headers.insert(header::CONTENT_TYPE, JSON);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_valid_json() {
        for body in [
            NOT_FOUND,
            METHOD_NOT_ALLOWED,
            URI_TOO_LONG,
            TIMEOUT,
            INTERNAL,
        ] {
            let v: serde_json::Value = serde_json::from_str(body).expect(body);
            assert!(v["error"]["code"].is_string(), "{body}");
            assert!(v["error"]["message"].is_string(), "{body}");
        }
    }
}
