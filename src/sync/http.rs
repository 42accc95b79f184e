//! HTTP requests and responses as the simulation carries them, path templates and value
//! templates.

use crate::resilience::Outcome;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// An HTTP method (RFC 9110). JSON: `"GET"`, `"POST"`, `"PUT"`, `"PATCH"`, `"DELETE"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// Read a resource (safe, idempotent).
    Get,
    /// Create a resource or run an action.
    Post,
    /// Replace a resource (idempotent).
    Put,
    /// Change part of a resource.
    Patch,
    /// Remove a resource (idempotent).
    Delete,
}

impl Method {
    /// The method's name, `"GET"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP request: method, path (with an optional `?query`) and a JSON body (`null` for none).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Path and query, e.g. `/orders/17?expand=consumer`.
    pub path: String,
    /// JSON body; `null` when there is none.
    pub body: Value,
}

impl HttpRequest {
    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }

    /// The query parameters in order, `expand=consumer&x=1` as `[("expand","consumer"),
    /// ("x","1")]`. No percent-decoding.
    pub fn query(&self) -> Vec<(&str, &str)> {
        match self.path.split_once('?') {
            None => Vec::new(),
            Some((_, q)) => q
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').unwrap_or((p, "")))
                .collect(),
        }
    }
}

impl fmt::Display for HttpRequest {
    /// The request line without the version: `GET /orders/17`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// An HTTP response: status code and JSON body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HttpResponse {
    /// Status code (100–599).
    pub status: u16,
    /// JSON body; `null` when there is none.
    pub body: Value,
}

impl HttpResponse {
    /// A response with `{"error": <reason phrase>, "message": message}` as its body.
    pub fn error(status: u16, message: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            body: serde_json::json!({ "error": reason_phrase(status), "message": message.into() }),
        }
    }
}

impl fmt::Display for HttpResponse {
    /// The status line without the version: `201 Created`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, reason_phrase(self.status))
    }
}

/// The reason phrase of a status code (RFC 9110), `"Unknown"` for codes it does not name.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

/// How a client classifies a response: 1xx–3xx succeed; 4xx and 5xx fail with Spring
/// `RestTemplate`'s nested exception of the status ([`super::error_kinds::for_status`]:
/// `HttpClientErrorException.Conflict` for a 409), which a policy listing the parent
/// (`HttpClientErrorException`) also matches.
pub fn outcome_of_status(status: u16) -> Outcome {
    match super::error_kinds::for_status(status) {
        Some(kind) => Outcome::failure(kind),
        None => Outcome::Success,
    }
}

/// Matches a path against a template such as `/orders/{id}/cancel`: literal segments must be
/// equal, `{name}` takes one non-empty segment. Returns the parameters, or `None`. The query
/// (after `?`) of `path` is ignored.
pub fn match_path(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let path = path.split('?').next().unwrap_or("");
    let mut t = template.split('/');
    let mut p = path.split('/');
    let mut params = BTreeMap::new();
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) => {
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    params.insert(name.to_string(), ps.to_string());
                } else if ts != ps {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Replaces `{name}` placeholders in a JSON value with `vars`: a string that is exactly
/// `"{name}"` becomes the variable's JSON value (a number stays a number); inside a longer string
/// the variable's text is spliced in (a string variable without quotes). Unknown names are left
/// as they are. Object keys are not substituted.
pub fn substitute(v: &Value, vars: &BTreeMap<String, Value>) -> Value {
    match v {
        Value::String(s) if s.contains('{') => {
            if let Some(name) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                if let Some(val) = vars.get(name) {
                    return val.clone();
                }
            }
            Value::String(substitute_str(s, vars))
        }
        Value::Array(a) => a.iter().map(|x| substitute(x, vars)).collect(),
        Value::Object(o) => o
            .iter()
            .map(|(k, x)| (k.clone(), substitute(x, vars)))
            .collect(),
        other => other.clone(),
    }
}

/// Replaces `{name}` placeholders inside a string with the variables' text (strings without
/// quotes, other values as JSON). Unknown names are left as they are.
pub fn substitute_str(s: &str, vars: &BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match vars.get(name) {
                    Some(Value::String(x)) => out.push_str(x),
                    Some(x) => out.push_str(&x.to_string()),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether every field of `pattern` is present in `body` with an equal value.
pub fn body_matches(pattern: &serde_json::Map<String, Value>, body: &Value) -> bool {
    pattern.iter().all(|(k, v)| body.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_templates() {
        let p = match_path("/orders/{id}/cancel", "/orders/17/cancel?x=1").unwrap();
        assert_eq!(p.get("id").map(String::as_str), Some("17"));
        assert!(match_path("/orders/{id}", "/orders/17/cancel").is_none());
        assert!(match_path("/orders/{id}", "/orders/").is_none());
        assert!(match_path("/orders", "/orders").unwrap().is_empty());
        assert!(match_path("/api", "/orders").is_none());
    }

    #[test]
    fn query_and_lines() {
        let r = HttpRequest {
            method: Method::Get,
            path: "/orders/17?expand=consumer&flag".into(),
            body: Value::Null,
        };
        assert_eq!(r.path_only(), "/orders/17");
        assert_eq!(r.query(), vec![("expand", "consumer"), ("flag", "")]);
        assert_eq!(r.to_string(), "GET /orders/17?expand=consumer&flag");
        assert_eq!(
            HttpResponse {
                status: 201,
                body: Value::Null
            }
            .to_string(),
            "201 Created"
        );
    }

    #[test]
    fn substitution_keeps_types() {
        let vars: BTreeMap<String, Value> =
            [("id".to_string(), json!(17)), ("n".to_string(), json!("x"))].into();
        let v = substitute(
            &json!({"orderId": "{id}", "path": "/orders/{id}/{n}", "k": "{zz}"}),
            &vars,
        );
        assert_eq!(
            v,
            json!({"orderId": 17, "path": "/orders/17/x", "k": "{zz}"})
        );
        assert_eq!(substitute_str("a{b", &vars), "a{b");
    }

    #[test]
    fn statuses_classify() {
        assert_eq!(outcome_of_status(204), Outcome::Success);
        assert_eq!(
            outcome_of_status(409),
            Outcome::failure("HttpClientErrorException.Conflict")
        );
        assert_eq!(
            outcome_of_status(503),
            Outcome::failure("HttpServerErrorException.ServiceUnavailable")
        );
    }
}
