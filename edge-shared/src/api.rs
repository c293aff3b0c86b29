//! The JSON APIs' errors and bodies (the admin API and the relay sync API): a refusal is a
//! status, a message and the field it is about, answered as `{"error", "field"}`; an
//! internal failure is logged and answered as a bare "internal error".

use serde::Serialize;
use worker::{Response, Result};

/// An API failure: HTTP status, message, and the field it is about.
pub struct ApiError {
    status: u16,
    message: String,
    field: Option<String>,
}

impl ApiError {
    /// A failure of `status` about no field in particular (e.g. 401, or 404 for a path).
    pub fn status(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
        }
    }

    /// The same failure, about `field`.
    #[must_use]
    pub fn about(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// A 400 about `field`.
    pub fn bad(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// A 404 for the missing `what` ("no such site").
    pub fn not_found(what: &str) -> Self {
        Self::status(404, format!("no such {what}"))
    }

    /// A 409 about `field`.
    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: 409,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// An engine error about a field (its text never holds a secret).
    pub fn engine(field: &str, e: &engine::Error) -> Self {
        let mut msg = e.detail().to_owned();
        if let Some(l) = e.line() {
            msg = match e.col() {
                Some(c) => format!("line {l}, column {c}: {msg}"),
                None => format!("line {l}: {msg}"),
            };
        }
        Self::bad(field, msg)
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        let msg: String = e.to_string().chars().take(200).collect();
        worker::console_error!("api internal error: {msg}");
        Self::status(500, "internal error")
    }
}

/// What an API handler returns.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

/// The handler's answer, or its error as `{"error", "field"}`.
pub fn respond(result: ApiResult<Response>) -> Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => json_error(&e),
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> ApiResult<Response> {
    let body = serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(crate::http::uncached(status, "application/json", body)?)
}

/// `e` as its JSON answer.
pub fn json_error(e: &ApiError) -> Result<Response> {
    let body = serde_json::json!({ "error": e.message, "field": e.field });
    crate::http::uncached(e.status, "application/json", body.to_string())
}

/// Parses a JSON body into `T`, naming the offending field on failure.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: Option<&str>) -> ApiResult<T> {
    let body = body.unwrap_or_default();
    if body.len() > 256 * 1024 {
        return Err(ApiError::bad("body", "the body is larger than 256 KiB"));
    }
    let de = &mut serde_json::Deserializer::from_str(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        let msg = msg.split(" at line").next().unwrap_or(&msg).to_owned();
        // A missing field is named inside the message ("missing field `x`"), not in the path.
        let missing = msg
            .strip_prefix("missing field `")
            .and_then(|m| m.split('`').next())
            .filter(|f| !f.is_empty());
        let field = match (path.as_str(), missing) {
            ("" | ".", Some(f)) => f.to_owned(),
            ("" | ".", None) => "body".to_owned(),
            (p, Some(f)) => format!("{p}.{f}"),
            (p, None) => p.to_owned(),
        };
        ApiError::bad(&field, msg)
    })
}

/// The rule for an extension number (a user's, and what a phone's `user_extension` or a
/// star-code bind names), as the API's refusal of `field`.
pub fn check_extension(field: &str, ext: &str) -> ApiResult<()> {
    engine::User::check_extension(ext).map_err(|e| ApiError::engine(field, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Item>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u8,
    }

    fn refusal(body: &str) -> (u16, String, Option<String>) {
        match parse_body::<Body>(Some(body)) {
            Ok(b) => panic!("accepted {b:?}"),
            Err(e) => (e.status, e.message, e.field),
        }
    }

    #[test]
    fn parse_body_names_the_field() {
        assert_eq!(refusal("{}").2.as_deref(), Some("name"));
        assert_eq!(
            refusal(r#"{"name":"x","items":[{"n":1},{"n":300}]}"#)
                .2
                .as_deref(),
            Some("items[1].n")
        );
        assert_eq!(refusal("not json").2.as_deref(), Some("body"));
        let (status, msg, _) = refusal(&" ".repeat(256 * 1024 + 1));
        assert_eq!(
            (status, msg.as_str()),
            (400, "the body is larger than 256 KiB")
        );
    }

    #[test]
    fn extensions() {
        assert!(check_extension("extension", "200").is_ok());
        let e = check_extension("extension", "").err().map(|e| e.field);
        assert_eq!(e, Some(Some("extension".to_owned())));
    }
}
