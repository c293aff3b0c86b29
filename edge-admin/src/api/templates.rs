//! Templates: validated by the engine on save; a refused save changes nothing, so the
//! previous version keeps serving.
//!
//! - `POST /api/sites/<site>/templates` `{name, vendor, style?, composition?, source}` -> 201.
//! - `GET /api/sites/<site>/templates` -> every template (with source), by name.
//! - `GET /api/sites/<site>/templates/<name>` -> the template, and how many phones and URI
//!   mappings use it.
//! - `PUT /api/sites/<site>/templates/<name>` the same body as `POST` -> 200.
//! - `DELETE /api/sites/<site>/templates/<name>` -> 204; phones using it fall back to the
//!   vendor default, URI mappings to it are removed.
//! - `POST /api/sites/<site>/templates/examples` -> 200 `{installed: [name], skipped: [name]}`:
//!   adds the engine's example template of each configured vendor (`Yealink (example)`, ...),
//!   each checked as a save is. Like MikoPBX's "load examples" (mikopbx/ModuleAutoprovision
//!   `Lib/TemplateSeeder.php`), a name the site already has is skipped, never overwritten or
//!   duplicated: loading twice adds nothing, and an example the administrator edited stays as
//!   edited (delete or rename it to load the original again).

use serde::{Deserialize, Serialize};
use worker::Response;

use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};
use worker::Method;

/// `/api/sites/<site>/templates...`
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Post, ["sites", site, "templates"]) => create(ctx, site, r.body).await,
        (Method::Post, ["sites", site, "templates", "examples"]) => examples(ctx, site).await,
        (Method::Get, ["sites", site, "templates"]) => list(ctx, site).await,
        (Method::Get, ["sites", site, "templates", name]) => get(ctx, site, name).await,
        (Method::Put, ["sites", site, "templates", name]) => update(ctx, site, name, r.body).await,
        (Method::Delete, ["sites", site, "templates", name]) => delete(ctx, site, name).await,
        _ => return None,
    })
}

/// A save's body (`{name, vendor, style?, composition?, source}`), validated.
fn validated(body: Option<&str>) -> ApiResult<engine::Template> {
    checked(parse_body(body)?, None, "")
}

/// The template a draft describes, if the engine accepts it (the rule of a save, also
/// applied to the preview's drafts): a draft without a name is named `default_name`, one
/// without a vendor is refused; errors name the field after `prefix`.
pub(crate) fn checked(
    draft: engine::TemplateDraft,
    default_name: Option<&str>,
    prefix: &str,
) -> ApiResult<engine::Template> {
    let field = |e: &engine::Error| format!("{prefix}{}", e.name().unwrap_or("source"));
    let t = draft
        .into_template(default_name, None)
        .map_err(|e| ApiError::engine(&field(&e), &e))?;
    engine::validate_template(&t).map_err(|e| ApiError::engine(&field(&e), &e))?;
    Ok(t)
}

/// `POST /api/sites/<site>/templates`.
pub(crate) async fn create(ctx: &Ctx<'_>, site: &str, body: Option<&str>) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let t = validated(body)?;
    if find(ctx, site, &t.name).await?.is_some() {
        return Err(ApiError::conflict(
            "name",
            "the site already has a template with this name",
        ));
    }
    let id = new_id("tpl")?;
    let sql = "INSERT INTO templates (id, name, vendor, style, composition, source, updated_at, site_id) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
    write(ctx, sql, "create", &id, site, &t, 201).await
}

/// `POST /api/sites/<site>/templates/examples`: the examples the site does not have yet.
async fn examples(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let mut installed = Vec::new();
    let mut skipped = Vec::new();
    let mut batch = Vec::new();
    let sql = "INSERT INTO templates (id, name, vendor, style, composition, source, updated_at, site_id) \
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (site_id, name) DO NOTHING";
    for t in engine::template_examples() {
        // The rule of every save; an example that failed it would be a bug, said as a 500.
        engine::validate_template(&t).map_err(|e| {
            worker::Error::RustError(format!("example {} is not valid: {}", t.name, e.detail()))
        })?;
        if find(ctx, site, &t.name).await?.is_some() {
            skipped.push(t.name);
            continue;
        }
        let id = new_id("tpl")?;
        batch.push(bind_template(ctx, sql, &id, site, &t)?);
        batch.push(audit(ctx, "create example", "template", &id)?);
        installed.push(t.name);
    }
    if !batch.is_empty() {
        ctx.db.batch(batch).await?;
    }
    json(
        200,
        &serde_json::json!({ "installed": installed, "skipped": skipped }),
    )
}

/// `PUT /api/sites/<site>/templates/<name>`: replaces the template if the new one is valid.
pub(crate) async fn update(
    ctx: &Ctx<'_>,
    site: &str,
    name: &str,
    body: Option<&str>,
) -> ApiResult<Response> {
    let id = find(ctx, site, name)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    let t = validated(body)?;
    let other_vendor = ctx
        .db
        .prepare("SELECT COUNT(*) AS n FROM phones WHERE template_id = ?1 AND vendor != ?2")
        .bind(&[id.as_str().into(), t.vendor.as_str().into()])?
        .first::<f64>(Some("n"))
        .await?
        .unwrap_or_default();
    if other_vendor > 0.0 {
        return Err(ApiError::conflict(
            "vendor",
            format!("{other_vendor} phone(s) of another vendor use this template"),
        ));
    }
    if t.name != name && find(ctx, site, &t.name).await?.is_some() {
        return Err(ApiError::conflict(
            "name",
            "the site already has a template with this name",
        ));
    }
    let sql =
        "UPDATE templates SET name = ?2, vendor = ?3, style = ?4, composition = ?5, source = ?6, \
               updated_at = ?7 WHERE id = ?1 AND site_id = ?8";
    write(ctx, sql, "update", &id, site, &t, 200).await
}

/// Runs the insert or update `sql` (parameters in one order for both) with its audit row,
/// in one batch.
async fn write(
    ctx: &Ctx<'_>,
    sql: &str,
    action: &str,
    id: &str,
    site: &str,
    t: &engine::Template,
    status: u16,
) -> ApiResult<Response> {
    let statement = bind_template(ctx, sql, id, site, t)?;
    ctx.db
        .batch(vec![statement, audit(ctx, action, "template", id)?])
        .await?;
    json(
        status,
        &serde_json::json!({ "id": id, "name": t.name, "vendor": t.vendor }),
    )
}

/// The insert or update `sql` bound to `t` (parameters in one order for both).
fn bind_template(
    ctx: &Ctx<'_>,
    sql: &str,
    id: &str,
    site: &str,
    t: &engine::Template,
) -> ApiResult<worker::D1PreparedStatement> {
    Ok(ctx.db.prepare(sql).bind(&[
        id.into(),
        t.name.as_str().into(),
        t.vendor.as_str().into(),
        style(t.style).into(),
        composition(t.composition).into(),
        t.source.as_str().into(),
        (ctx.now as f64).into(),
        site.into(),
    ])?)
}

/// A template as the API shows it.
#[derive(Serialize, Deserialize)]
struct View {
    id: String,
    name: String,
    vendor: engine::Vendor,
    style: String,
    composition: String,
    source: String,
    updated_at: f64,
}

const VIEW_COLUMNS: &str = "id, name, vendor, style, composition, source, updated_at";

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let rows: Vec<View> = ctx
        .db
        .prepare(format!(
            "SELECT {VIEW_COLUMNS} FROM templates WHERE site_id = ?1 ORDER BY name"
        ))
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?;
    json(200, &rows)
}

async fn get(ctx: &Ctx<'_>, site: &str, name: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    #[derive(Serialize, Deserialize)]
    struct WithUse {
        #[serde(flatten)]
        view: View,
        phones: f64,
        uri_mappings: f64,
    }
    let row = ctx
        .db
        .prepare(format!(
            "SELECT {VIEW_COLUMNS}, (SELECT COUNT(*) FROM phones p WHERE p.template_id = t.id) AS phones, \
             (SELECT COUNT(*) FROM uri_mappings m WHERE m.template_id = t.id) AS uri_mappings \
             FROM templates t WHERE site_id = ?1 AND name = ?2"
        ))
        .bind(&[site.into(), name.into()])?
        .first::<WithUse>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    json(200, &row)
}

async fn delete(ctx: &Ctx<'_>, site: &str, name: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let id = find(ctx, site, name)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    super::delete_row(ctx, "templates", "template", &id).await?;
    Ok(super::sites::no_content()?)
}

/// The id and vendor of the site's template `name`.
pub(crate) async fn find_with_vendor(
    ctx: &Ctx<'_>,
    site: &str,
    name: &str,
) -> ApiResult<Option<(String, engine::Vendor)>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
        vendor: engine::Vendor,
    }
    Ok(ctx
        .db
        .prepare("SELECT id, vendor FROM templates WHERE site_id = ?1 AND name = ?2")
        .bind(&[site.into(), name.into()])?
        .first::<Row>(None)
        .await?
        .map(|r| (r.id, r.vendor)))
}

/// The id of the site's template `name`.
pub(crate) async fn find(ctx: &Ctx<'_>, site: &str, name: &str) -> ApiResult<Option<String>> {
    Ok(ctx
        .db
        .prepare("SELECT id FROM templates WHERE site_id = ?1 AND name = ?2")
        .bind(&[site.into(), name.into()])?
        .first::<String>(Some("id"))
        .await?)
}

pub(crate) fn style(s: engine::TemplateStyle) -> &'static str {
    match s {
        engine::TemplateStyle::Placeholder => "placeholder",
        engine::TemplateStyle::Jinja => "jinja",
    }
}

pub(crate) fn composition(c: engine::Composition) -> &'static str {
    match c {
        engine::Composition::Overlay => "overlay",
        engine::Composition::Replace => "replace",
    }
}
