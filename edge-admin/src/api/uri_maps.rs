//! URI mappings: a request path (e.g. the fixed name an old firmware asks for) served with
//! one of the site's templates, rendered for the phone whose token is in the URL. The
//! engine normalises and checks the path.
//!
//! - `POST /api/sites/<site>/uri-mappings` `{path, template}` -> 201 `{id, path, template}`.
//! - `GET /api/sites/<site>/uri-mappings` -> every mapping, by path.
//! - `PUT /api/sites/<site>/uri-mappings/<id>` `{path, template}` -> 200.
//! - `DELETE /api/sites/<site>/uri-mappings/<id>` -> 204.

use serde::{Deserialize, Serialize};
use worker::{Method, Response};

use super::sites::{load as load_site, no_content};
use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};

/// `/api/sites/<site>/uri-mappings...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "uri-mappings"]) => write(ctx, site, None, r.body).await,
        (Method::Get, ["sites", site, "uri-mappings"]) => list(ctx, site).await,
        (Method::Put, ["sites", site, "uri-mappings", id]) => {
            write(ctx, site, Some(id), r.body).await
        }
        (Method::Delete, ["sites", site, "uri-mappings", id]) => delete(ctx, site, id).await,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    path: String,
    template: String,
}

#[derive(Serialize, Deserialize)]
struct View {
    id: String,
    path: String,
    template: String,
}

/// Creates (`id` `None`) or replaces a mapping.
async fn write(
    ctx: &Ctx<'_>,
    site: &str,
    id: Option<&str>,
    body: Option<&str>,
) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    if let Some(id) = id {
        find(ctx, site, id).await?;
    }
    let b: Body = parse_body(body)?;
    let m = engine::UriMapping::new(&b.path, &b.template)
        .map_err(|e| ApiError::engine(e.name().unwrap_or("path"), &e))?;
    // The mapping must not shadow a file the engine serves by itself.
    let shadowed = engine::detect(
        &engine::PhoneRequest {
            path: m.path(),
            user_agent: None,
            pnp: None,
            lan_mac: None,
        },
        &[],
    );
    if !matches!(shadowed.resource, engine::Resource::NotServed) {
        return Err(ApiError::bad(
            "path",
            "phones already get a file at this path; map another one",
        ));
    }
    let template_id = super::templates::find(ctx, site, m.template())
        .await?
        .ok_or_else(|| ApiError::bad("template", "no template with this name on the site"))?;
    let clash = ctx
        .db
        .prepare("SELECT id FROM uri_mappings WHERE site_id = ?1 AND path = ?2")
        .bind(&[site.into(), m.path().into()])?
        .first::<String>(Some("id"))
        .await?;
    if clash.is_some_and(|c| Some(c.as_str()) != id) {
        return Err(ApiError::conflict("path", "this path is already mapped"));
    }
    let (id, sql, action, status) = match id {
        Some(id) => (
            id.to_owned(),
            "UPDATE uri_mappings SET path = ?3, template_id = ?4 WHERE id = ?1 AND site_id = ?2",
            "update",
            200,
        ),
        None => (
            new_id("map")?,
            "INSERT INTO uri_mappings (id, site_id, path, template_id) VALUES (?1, ?2, ?3, ?4)",
            "create",
            201,
        ),
    };
    let statement = ctx.db.prepare(sql).bind(&[
        id.as_str().into(),
        site.into(),
        m.path().into(),
        template_id.as_str().into(),
    ])?;
    ctx.db
        .batch(vec![statement, audit(ctx, action, "uri mapping", &id)?])
        .await?;
    json(
        status,
        &View {
            id,
            path: m.path().to_owned(),
            template: m.template().to_owned(),
        },
    )
}

async fn find(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<View> {
    ctx.db
        .prepare(
            "SELECT m.id, m.path, t.name AS template FROM uri_mappings m JOIN templates t ON t.id = m.template_id \
             WHERE m.site_id = ?1 AND m.id = ?2",
        )
        .bind(&[site.into(), id.into()])?
        .first::<View>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("URI mapping"))
}

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let rows: Vec<View> = ctx
        .db
        .prepare(
            "SELECT m.id, m.path, t.name AS template FROM uri_mappings m JOIN templates t ON t.id = m.template_id \
             WHERE m.site_id = ?1 ORDER BY m.path",
        )
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    json(200, &rows)
}

async fn delete(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Response> {
    load_site(ctx, site).await?;
    let m = find(ctx, site, id).await?;
    super::delete_row(ctx, "uri_mappings", "uri mapping", &m.id).await?;
    Ok(no_content()?)
}
