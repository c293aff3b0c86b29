//! The admin API under `/api/`: JSON in and out, a bearer token from the `ADMIN_TOKEN` Worker
//! secret compared in constant time. Phones' routes never accept it, and this API never
//! accepts a phone's token.
//!
//! Every refused body gets a 400 naming the field; every write goes through one D1 batch
//! (all statements or none) and leaves an audit-log row.

mod actions;
mod bindings;
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

pub(crate) use edge_shared::api::{
    check_extension, json, json_error, parse_body, respond, ApiError, ApiResult,
};
pub(crate) use edge_shared::ids::{new_id, random_bytes};
use worker::{Env, Method, Request, Response, Result};

/// The admin bearer token's secret name.
pub(crate) const ADMIN_TOKEN: &str = "ADMIN_TOKEN";

/// The Worker variable naming the phone worker's public origin (`https://phones.example.com`).
pub(crate) const PHONE_ORIGIN: &str = "PHONE_ORIGIN";

/// Where phones reach the phone worker: `PHONE_ORIGIN` when it is set to an `http(s)://`
/// origin, else this request's origin (both workers on one origin, as under `wrangler dev`).
/// Every phone URL the API hands out or registers with a vendor starts with it.
fn phone_origin(req: &Request, env: &Env) -> String {
    let configured = env
        .var(PHONE_ORIGIN)
        .map(|v| v.to_string())
        .unwrap_or_default();
    match origin_setting(&configured) {
        Some(o) => o.to_owned(),
        None => {
            if !configured.trim().is_empty() {
                worker::console_error!(
                    "PHONE_ORIGIN is not an http(s)://host origin; using the request's origin"
                );
            }
            edge_shared::origin(req)
        }
    }
}

/// `PHONE_ORIGIN`'s value without a trailing `/`, if it is a bare `http(s)://host[:port]`.
fn origin_setting(v: &str) -> Option<&str> {
    let v = v.trim().trim_end_matches('/');
    let host = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))?;
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(v)
}

/// Answers `/api/...`.
pub(crate) async fn handle(
    mut req: Request,
    env: &Env,
    worker_ctx: &worker::Context,
    path: &str,
) -> Result<Response> {
    if !authorized(&req, env)? {
        return json_error(&ApiError::status(401, "missing or wrong bearer token"));
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
        origin: phone_origin(&req, env),
        worker_ctx,
    };
    // A firmware upload streams its body into R2; every other write is a small JSON body.
    match (&method, segments.as_slice()) {
        (Method::Post, ["sites", site, "firmware"]) => {
            return respond(firmware::upload(&ctx, site, &mut req).await);
        }
        (Method::Put, ["sites", site, "firmware", id]) => {
            return respond(firmware::replace(&ctx, site, id, &mut req).await);
        }
        _ => {}
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
    } else if let Some(r) = bindings::route(&ctx, &r).await {
        r
    } else if let Some(r) = stats::route(&ctx, &r).await {
        r
    } else if let Some(r) = rps::route(&ctx, &r).await {
        r
    } else {
        Err(ApiError::status(404, "no such endpoint"))
    };
    respond(result)
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
    /// `https://host` of the phone worker, for the phone URLs the API hands out (see
    /// [`phone_origin`]).
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
    edge_shared::audit::log(
        &ctx.db,
        ctx.now,
        edge_shared::audit::Actor::Admin,
        &[edge_shared::audit::Entry::new(action, entity, id)],
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::origin_setting;

    #[test]
    fn phone_origin_setting() {
        assert_eq!(
            origin_setting("https://phones.example.com/"),
            Some("https://phones.example.com")
        );
        assert_eq!(
            origin_setting(" http://127.0.0.1:8787 "),
            Some("http://127.0.0.1:8787")
        );
        for bad in [
            "",
            "phones.example.com",
            "https://",
            "https://h/p",
            "ftp://h",
            "https://h?x",
        ] {
            assert_eq!(origin_setting(bad), None, "{bad}");
        }
    }
}
