//! The admin API under `/api/`: JSON in and out, a bearer token from the `ADMIN_TOKEN` Worker
//! secret compared in constant time. Phones' routes never accept it, and this API never
//! accepts a phone's token.
//!
//! Every refused body gets a 400 naming the field; every write goes through one D1 batch
//! (all statements or none) and leaves an audit-log row.

mod actions;
mod firmware;
mod phonebooks;
mod phones;
mod preview;
mod rps;
pub(crate) mod sites;
mod stats;
mod templates;
mod uri_maps;
pub(crate) mod users;

use serde::Serialize;
use worker::{Env, Method, Request, Response, Result};

/// The admin bearer token's secret name.
pub(crate) const ADMIN_TOKEN: &str = "ADMIN_TOKEN";

/// An API failure: HTTP status, message, and the field it is about.
pub(crate) struct ApiError {
    status: u16,
    message: String,
    field: Option<String>,
}

impl ApiError {
    pub(crate) fn bad(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self {
            status: 404,
            message: format!("no such {what}"),
            field: None,
        }
    }

    pub(crate) fn conflict(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: 409,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// An engine error about a field (its text never holds a secret).
    pub(crate) fn engine(field: &str, e: &engine::Error) -> Self {
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
        worker::console_error!("admin api internal error: {msg}");
        Self {
            status: 500,
            message: "internal error".to_owned(),
            field: None,
        }
    }
}

pub(crate) type ApiResult<T> = std::result::Result<T, ApiError>;

/// Answers `/api/...`.
pub(crate) async fn handle(
    mut req: Request,
    env: &Env,
    worker_ctx: &worker::Context,
    path: &str,
) -> Result<Response> {
    if !authorized(&req, env)? {
        return json_error(&ApiError {
            status: 401,
            message: "missing or wrong bearer token".into(),
            field: None,
        });
    }
    // Segments arrive percent-encoded (a template named "Snom desk" is `Snom%20desk`); one
    // with a malformed escape, or that is not UTF-8 once decoded, is taken as it is.
    let decoded: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| engine::encoding::percent_decode(s).unwrap_or_else(|| s.to_owned()))
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let method = req.method();
    let ctx = Ctx {
        env,
        db: env.d1(crate::DB)?,
        now: worker::Date::now().as_millis() / 1000,
        origin: crate::origin(&req),
        worker_ctx,
    };
    // A firmware upload streams its body into R2; every other write is a small JSON body.
    if let (Method::Post, ["sites", site, "firmware"]) = (&method, segments.as_slice()) {
        return respond(firmware::upload(&ctx, site, &mut req).await);
    }
    let body = match method {
        Method::Post | Method::Put | Method::Patch => Some(req.text().await?),
        _ => None,
    };
    let query = crate::query(&req);
    let r = Route {
        method: &method,
        segments: &segments,
        body: body.as_deref(),
        query: &query,
    };
    let result = if let Some(r) = sites::route(&ctx, &r).await {
        r
    } else if let Some(r) = users::route(&ctx, &r).await {
        r
    } else if let Some(r) = phones::route(&ctx, &r).await {
        r
    } else if let Some(r) = templates::route(&ctx, &r).await {
        r
    } else if let Some(r) = uri_maps::route(&ctx, &r).await {
        r
    } else if let Some(r) = phonebooks::route(&ctx, &r).await {
        r
    } else if let Some(r) = preview::route(&ctx, &r).await {
        r
    } else if let Some(r) = firmware::route(&ctx, &r).await {
        r
    } else if let Some(r) = actions::route(&ctx, &r).await {
        r
    } else if let Some(r) = stats::route(&ctx, &r).await {
        r
    } else if let Some(r) = rps::route(&ctx, &r).await {
        r
    } else {
        Err(ApiError {
            status: 404,
            message: "no such endpoint".into(),
            field: None,
        })
    };
    respond(result)
}

pub(crate) fn respond(result: ApiResult<Response>) -> Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => json_error(&e),
    }
}

/// A request as the modules' routers see it.
pub(crate) struct Route<'a> {
    pub(crate) method: &'a Method,
    pub(crate) segments: &'a [&'a str],
    pub(crate) body: Option<&'a str>,
    /// The query string (without `?`), empty if none.
    pub(crate) query: &'a str,
}

/// What a handler needs.
pub(crate) struct Ctx<'a> {
    pub(crate) env: &'a Env,
    pub(crate) db: worker::D1Database,
    pub(crate) now: u64,
    /// `https://host` of the request, for the URLs the API hands out.
    pub(crate) origin: String,
    /// The invocation's context, for work after the response (`waitUntil`).
    pub(crate) worker_ctx: &'a worker::Context,
}

impl Ctx<'_> {
    /// The statement that queues `wish` for a phone in the RPS outbox (see
    /// [`crate::rps::enqueue`]), for the change's own batch.
    pub(crate) fn rps_enqueue(
        &self,
        site: &str,
        mac: &str,
        vendor: engine::Vendor,
        wish: crate::rps::Wish,
    ) -> worker::Result<worker::D1PreparedStatement> {
        crate::rps::enqueue(&self.db, site, mac, vendor, wish, &self.origin, self.now)
    }

    /// Works the RPS outbox after the response is sent (a change just queued something).
    pub(crate) fn work_rps_later(&self) {
        let env = self.env.clone();
        self.worker_ctx.wait_until(async move {
            if let Err(e) = crate::rps::work(&env).await {
                worker::console_error!("rps: {e}");
            }
        });
    }
}

fn authorized(req: &Request, env: &Env) -> Result<bool> {
    let Ok(secret) = env.secret(ADMIN_TOKEN) else {
        // No token configured: the API stays closed.
        return Ok(false);
    };
    let secret = secret.to_string();
    let header = req.headers().get("Authorization")?.unwrap_or_default();
    let Some(given) = header.strip_prefix("Bearer ") else {
        return Ok(false);
    };
    Ok(!secret.is_empty() && engine::ct_eq(given.trim().as_bytes(), secret.as_bytes()))
}

/// A JSON response.
pub(crate) fn json<T: Serialize>(status: u16, value: &T) -> ApiResult<Response> {
    let body = serde_json::to_string(value).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(crate::error::uncached(status, "application/json", body)?)
}

fn json_error(e: &ApiError) -> Result<Response> {
    let body = serde_json::json!({ "error": e.message, "field": e.field });
    crate::error::uncached(e.status, "application/json", body.to_string())
}

/// Parses a JSON body into `T`, naming the offending field on failure.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: Option<&str>) -> ApiResult<T> {
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
        ApiError {
            status: 400,
            message: msg,
            field: Some(field),
        }
    })
}

/// `n` random bytes from the platform's CSPRNG (`crypto.getRandomValues`).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    use wasm_bindgen::JsCast;
    let crypto = worker::js_sys::Reflect::get(&worker::js_sys::global(), &"crypto".into())?;
    let f: worker::js_sys::Function =
        worker::js_sys::Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    let arr = worker::js_sys::Uint8Array::new_with_length(N as u32);
    f.call1(&crypto, &arr)?;
    let mut out = [0u8; N];
    arr.copy_to(&mut out);
    Ok(out)
}

/// A new random id (128 bits, hex).
pub(crate) fn new_id(prefix: &str) -> Result<String> {
    Ok(format!(
        "{prefix}-{}",
        engine::first_access_token(random_bytes::<16>()?)
    ))
}

/// Deletes row `id` of `table` (one of ours, never input) with its audit row, in one
/// batch. Foreign keys cascade to what the row owns.
pub(crate) async fn delete_row(
    ctx: &Ctx<'_>,
    table: &'static str,
    entity: &str,
    id: &str,
) -> ApiResult<()> {
    let delete = ctx
        .db
        .prepare(format!("DELETE FROM {table} WHERE id = ?1"))
        .bind(&[id.into()])?;
    ctx.db
        .batch(vec![delete, audit(ctx, "delete", entity, id)?])
        .await?;
    Ok(())
}

/// The audit-log statement for an admin's write.
pub(crate) fn audit(
    ctx: &Ctx<'_>,
    action: &str,
    entity: &str,
    id: &str,
) -> Result<worker::D1PreparedStatement> {
    crate::audit::log(
        &ctx.db,
        ctx.now,
        crate::audit::Actor::Admin,
        &[crate::audit::Entry::new(action, entity, id)],
        None,
    )
}
