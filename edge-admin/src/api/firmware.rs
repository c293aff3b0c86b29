//! Firmware images, stored in R2 under the engine's extension and quota rules.
//!
//! - `POST /api/sites/<site>/firmware?vendor=&file_name=&version=[&model=][&notes=][&sha256=]`
//!   with the raw image as the body (no multipart, so a browser sending a `File` with
//!   `fetch`/XHR gets upload progress) and a `Content-Length` (411 without one). Vendor, file
//!   name, extension, size and quota (`engine::check_upload`) and the row's fields
//!   (`engine::validate_row`) are checked **before** the body is read; a refusal is a 400
//!   naming the field (`vendor`, `file_name`, `size`, `version`, `model`, `notes`, `sha256`)
//!   with a message that names the accepted extensions or the limits. The body then streams
//!   into R2 without entering the worker's wasm memory (see [`store_blob`]); its SHA-256 is
//!   computed on the way and recorded, and a `sha256` given by the client is verified by R2
//!   itself. A body of the wrong length or hash leaves no row and no object. An upload with
//!   the vendor and file name of a stored image replaces it (its size is not counted twice
//!   against the quota). Answers 201 with the row ([`FirmwareView`]).
//! - `PUT /api/sites/<site>/firmware/<id>?file_name=[&version=][&model=][&notes=][&sha256=]`
//!   with the raw image as the body: replaces the image's file, as MikoPBX's firmware Edit
//!   does (mikopbx/ModuleAutoprovision `Lib/RestAPI/Firmware/Actions/ReplaceAction.php`).
//!   The same checks as an upload, for the row's vendor (a `vendor` must be the row's);
//!   `version`, `model` and `notes` keep the row's values unless given. The row keeps its id
//!   and gets the new file's name, size, SHA-256 and upload time; the new object is stored
//!   first, then the row points at it, then the old object is deleted. A file name another
//!   image of the vendor has is a 409; so is an image deleted, or its file replaced, while
//!   the body was sent (the new object is deleted). 200 with the row; 404 for an id that is
//!   not this site's.
//! - `GET /api/sites/<site>/firmware`: `{firmware: [row...], used_bytes, max_file_bytes,
//!   max_total_bytes, extensions: {vendor: [".rom", ...]}}`.
//! - `PATCH /api/sites/<site>/firmware/<id>` with `{model?, version?, notes?}`: 200 with the
//!   row; 404 for an id that is not this site's.
//! - `DELETE /api/sites/<site>/firmware/<id>`: the row goes first (with its audit row), then
//!   the R2 object; a failure in between leaves an orphan object, never a row pointing at
//!   nothing. 204.
//!
//! Quotas are `engine::Quota::default()` unless the Worker variables `FIRMWARE_MAX_FILE_MB`
//! and `FIRMWARE_MAX_TOTAL_MB` (MB of 1,048,576 bytes; a string or a number) say otherwise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::ReadableStream;
use worker::{Method, Request, Response};

use super::{audit, json, new_id, parse_body, ApiError, ApiResult, Ctx, Route};
use engine::Vendor;

/// Worker variable: the per-file limit in MB.
const MAX_FILE_VAR: &str = "FIRMWARE_MAX_FILE_MB";
/// Worker variable: the site's total quota in MB.
const MAX_TOTAL_VAR: &str = "FIRMWARE_MAX_TOTAL_MB";
/// The engine's MB.
const MB: f64 = 1024.0 * 1024.0;

/// `/api/sites/<site>/firmware...` (but the upload, see [`upload`]).
pub(crate) async fn route(ctx: &Ctx<'_>, r: &Route<'_>) -> Option<ApiResult<Response>> {
    Some(match (r.method, r.segments) {
        (Method::Get, ["sites", site, "firmware"]) => list(ctx, site).await,
        (Method::Patch, ["sites", site, "firmware", id]) => edit(ctx, site, id, r.body).await,
        (Method::Delete, ["sites", site, "firmware", id]) => delete(ctx, site, id).await,
        _ => return None,
    })
}

/// A stored row as D1 returns it: the engine's row, with where it is kept.
#[derive(Deserialize)]
struct Row {
    id: String,
    #[serde(flatten)]
    row: engine::FirmwareRow,
    r2_key: String,
    created_at: f64,
}

/// The columns of [`Row`].
const COLUMNS: &str =
    "id, vendor, model, version, notes, file_name, size, sha256, r2_key, created_at";

/// A firmware row as the API returns it (the R2 key stays inside).
#[derive(Serialize)]
struct FirmwareView {
    id: String,
    #[serde(flatten)]
    row: engine::FirmwareRow,
    created_at: u64,
    /// Where phones fetch it, relative to their base URL (`firmware/<vendor>/<file>`).
    path: String,
}

impl Row {
    fn view(self) -> FirmwareView {
        FirmwareView {
            path: engine::firmware_path(self.row.vendor, &self.row.file_name),
            id: self.id,
            row: self.row,
            created_at: self.created_at as u64,
        }
    }
}

/// An engine refusal as a 400 naming the API's field (the engine says `file` for the file
/// name, which the API calls `file_name`).
fn refused(e: &engine::Error) -> ApiError {
    let field = match e.name() {
        Some("file") => "file_name",
        Some(n) => n,
        None => "body",
    };
    ApiError::engine(field, e)
}

/// The quota: the engine's default, or the Worker variables'.
fn quota(ctx: &Ctx<'_>) -> ApiResult<engine::Quota> {
    let mut q = engine::Quota::default();
    if let Some(b) = env_mb(ctx, MAX_FILE_VAR)? {
        q.max_file_bytes = b;
    }
    if let Some(b) = env_mb(ctx, MAX_TOTAL_VAR)? {
        q.max_total_bytes = b;
    }
    Ok(q)
}

/// A Worker variable in MB (string or number), as bytes; `None` when unset. A value that is
/// not a positive number is a configuration error: logged, and the upload refused with a 500
/// rather than run under a limit nobody chose.
fn env_mb(ctx: &Ctx<'_>, name: &str) -> ApiResult<Option<u64>> {
    let v = js_sys::Reflect::get(ctx.env, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let mb = v
        .as_f64()
        .or_else(|| v.as_string().and_then(|s| s.trim().parse::<f64>().ok()));
    match mb {
        // Up to 8 PB: far beyond R2's object size, and exact as an f64 number of bytes.
        Some(mb) if mb.is_finite() && mb > 0.0 && mb <= 8.0 * 1024.0 * 1024.0 * 1024.0 => {
            Ok(Some((mb * MB) as u64))
        }
        _ => Err(worker::Error::RustError(format!("{name} is not a positive number of MB")).into()),
    }
}

/// What the upload's query string carries.
struct UploadQuery {
    vendor: Vendor,
    file_name: String,
    version: String,
    model: String,
    notes: String,
    sha256: Option<String>,
}

impl UploadQuery {
    /// The query of an upload, or with `replacing` of a replacement: the row's vendor, and
    /// its version, model and notes where the query gives none.
    fn parse(query: &str, replacing: Option<&engine::FirmwareRow>) -> ApiResult<Self> {
        let mut vals: BTreeMap<&'static str, String> = BTreeMap::new();
        const NAMES: [&str; 6] = ["vendor", "file_name", "version", "model", "notes", "sha256"];
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let Some(name) = NAMES.iter().find(|n| **n == k) else {
                let k: String = k.chars().take(40).collect();
                return Err(ApiError::bad(
                    &k,
                    format!("unknown parameter; the upload takes {}", NAMES.join(", ")),
                ));
            };
            if vals.insert(name, v.into_owned()).is_some() {
                return Err(ApiError::bad(name, "given more than once"));
            }
        }
        let mut take = |n: &str| vals.remove(n);
        let required = |v: Option<String>, n: &str| {
            v.ok_or_else(|| ApiError::bad(n, format!("missing: add ?{n}=... to the URL")))
        };
        let vendor = match (take("vendor"), replacing) {
            (Some(v), r) => {
                let v: Vendor = v.parse().map_err(|e| ApiError::engine("vendor", &e))?;
                if let Some(r) = r.filter(|r| r.vendor != v) {
                    return Err(ApiError::bad(
                        "vendor",
                        format!(
                            "the image replaced is a {} image: its file must be one too",
                            r.vendor.display_name()
                        ),
                    ));
                }
                v
            }
            (None, Some(r)) => r.vendor,
            (None, None) => required(None, "vendor")?
                .parse()
                .map_err(|e| ApiError::engine("vendor", &e))?,
        };
        let kept = |v: Option<String>, f: fn(&engine::FirmwareRow) -> &String| {
            v.or_else(|| replacing.map(|r| f(r).clone()))
        };
        Ok(Self {
            vendor,
            file_name: required(take("file_name"), "file_name")?,
            version: required(kept(take("version"), |r| &r.version), "version")?,
            model: kept(take("model"), |r| &r.model).unwrap_or_default(),
            notes: kept(take("notes"), |r| &r.notes).unwrap_or_default(),
            sha256: take("sha256").map(|s| s.to_ascii_lowercase()),
        })
    }
}

/// The declared body length: required, so the quota is checked before the body is read and
/// R2 gets a stream of known length.
fn content_length(req: &Request) -> ApiResult<u64> {
    let Some(v) = req.headers().get("Content-Length")? else {
        return Err(ApiError::status(
            411,
            "Content-Length is required: send the file as the raw body (not chunked)",
        )
        .about("Content-Length"));
    };
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad("Content-Length", "not a byte count"));
    }
    v.parse::<u64>()
        .map_err(|_| ApiError::bad("Content-Length", "not a byte count"))
}

/// `POST /api/sites/<site>/firmware`: checks everything it can, then streams the body into R2.
pub(crate) async fn upload(ctx: &Ctx<'_>, site: &str, req: &mut Request) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let q = UploadQuery::parse(&crate::query(req), None)?;
    receive(ctx, site, req, q, None).await
}

/// `PUT /api/sites/<site>/firmware/<id>`: the upload's checks, then the row `id` gets the
/// new file.
pub(crate) async fn replace(
    ctx: &Ctx<'_>,
    site: &str,
    id: &str,
    req: &mut Request,
) -> ApiResult<Response> {
    let old = load(ctx, site, id).await?;
    let q = UploadQuery::parse(&crate::query(req), Some(&old.row))?;
    receive(ctx, site, req, q, Some(old)).await
}

/// Checks an upload (a new image, or the file of `replacing`), streams its body into R2 and
/// records it; the object it supersedes is deleted once no row points at it.
async fn receive(
    ctx: &Ctx<'_>,
    site: &str,
    req: &mut Request,
    q: UploadQuery,
    replacing: Option<Row>,
) -> ApiResult<Response> {
    let size = content_length(req)?;
    let vendor = q.vendor;
    let quota = quota(ctx)?;

    #[derive(Deserialize)]
    struct Existing {
        id: String,
        r2_key: String,
    }
    let existing = ctx
        .db
        .prepare(
            "SELECT id, r2_key FROM firmware WHERE site_id = ?1 AND vendor = ?2 AND file_name = ?3",
        )
        .bind(&[
            site.into(),
            vendor.as_str().into(),
            q.file_name.as_str().into(),
        ])?
        .first::<Existing>(None)
        .await?;
    let replaced_id = replacing.as_ref().map_or("", |r| r.id.as_str());
    if replacing.is_some() && existing.as_ref().is_some_and(|e| e.id != replaced_id) {
        return Err(ApiError::conflict(
            "file_name",
            "another image of this vendor has this file name: delete it first, or edit that one",
        ));
    }
    // What stays stored if this upload succeeds: the image it replaces does not count.
    let used = ctx
        .db
        .prepare(
            "SELECT COALESCE(SUM(size), 0) AS used FROM firmware \
             WHERE site_id = ?1 AND NOT (vendor = ?2 AND file_name = ?3) AND id != ?4",
        )
        .bind(&[
            site.into(),
            vendor.as_str().into(),
            q.file_name.as_str().into(),
            replaced_id.into(),
        ])?
        .first::<f64>(Some("used"))
        .await?
        .unwrap_or(0.0) as u64;
    engine::check_upload(vendor, &q.file_name, size, used, &quota).map_err(|e| refused(&e))?;
    let row = engine::FirmwareRow {
        vendor,
        model: q.model,
        version: q.version,
        notes: q.notes,
        file_name: q.file_name,
        size,
        sha256: q.sha256,
    };
    engine::validate_row(&row).map_err(|e| refused(&e))?;
    // Checked by `engine::validate_row`: 64 hex digits.
    let expected = row.sha256.as_deref().and_then(engine::encoding::unhex);

    // A replaced row keeps its id; its new file gets an object key of its own, so the old
    // object is still there should the row's update fail.
    let object = new_id("fw")?;
    let id = match &replacing {
        Some(r) => r.id.clone(),
        None => object.clone(),
    };
    let key = format!("{site}/{}/{object}", vendor.as_str());
    let bucket = ctx.env.bucket(crate::FIRMWARE)?;
    let sha256 = match store_blob(&bucket, req, &key, size, expected).await {
        Ok(s) => s,
        Err(e) => {
            // The put failed, so nothing should be there; make sure of it.
            delete_blob(&bucket, &key).await;
            return Err(e);
        }
    };

    // One parameter order for the insert and the update.
    let (sql, action) = match replacing {
        Some(_) => (
            "UPDATE firmware SET model = ?4, version = ?5, notes = ?6, file_name = ?7, size = ?8, \
             sha256 = ?9, r2_key = ?10, created_at = ?11 WHERE id = ?1 AND site_id = ?2 AND vendor = ?3 \
             AND r2_key = ?12",
            "replace file",
        ),
        None => (
            "INSERT INTO firmware (id, site_id, vendor, model, version, notes, file_name, size, sha256, \
             r2_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            "upload",
        ),
    };
    let mut batch = Vec::new();
    let superseded = match (&replacing, existing) {
        (Some(r), _) => Some(r.r2_key.clone()),
        (None, Some(old)) => {
            batch.push(
                ctx.db
                    .prepare("DELETE FROM firmware WHERE id = ?1")
                    .bind(&[old.id.as_str().into()])?,
            );
            batch.push(audit(ctx, "replace", "firmware", &old.id)?);
            Some(old.r2_key)
        }
        (None, None) => None,
    };
    let mut params = vec![
        id.as_str().into(),
        site.into(),
        vendor.as_str().into(),
        row.model.as_str().into(),
        row.version.as_str().into(),
        row.notes.as_str().into(),
        row.file_name.as_str().into(),
        (size as f64).into(),
        sha256.as_str().into(),
        key.as_str().into(),
        (ctx.now as f64).into(),
    ];
    if replacing.is_some() {
        // The update takes only if the row still holds the file this request replaces.
        params.push(superseded.as_deref().unwrap_or_default().into());
    }
    batch.push(ctx.db.prepare(sql).bind(&params)?);
    // A replacement's audit row only when its update took (the row may have been deleted
    // or replaced while the body streamed).
    batch.push(match &replacing {
        Some(_) => edge_shared::audit::log_if_changed(
            &ctx.db,
            ctx.now,
            edge_shared::audit::Actor::Admin,
            &[edge_shared::audit::Entry::new(action, "firmware", &id)],
        )?,
        None => audit(ctx, action, "firmware", &id)?,
    });
    let results = match ctx.db.batch(batch).await {
        Ok(r) => r,
        Err(e) => {
            // No row points at the new object: remove it. (A concurrent upload of the same
            // file name that finished first is the likely cause.)
            delete_blob(&bucket, &key).await;
            return Err(e.into());
        }
    };
    let updated = || {
        results
            .first()
            .and_then(|r| r.meta().ok().flatten())
            .and_then(|m| m.changes)
            .unwrap_or(0)
    };
    if replacing.is_some() && updated() == 0 {
        // Deleted or replaced meanwhile: nothing points at the new object, and the old one
        // is no longer this request's to delete.
        delete_blob(&bucket, &key).await;
        return Err(ApiError::conflict(
            "id",
            "the image was deleted or its file replaced while this one was sent: reload and try again",
        ));
    }
    if let Some(old_key) = superseded {
        // No row points at it any more; an object left behind here is an orphan, not a
        // dangling row.
        delete_blob(&bucket, &old_key).await;
    }
    let view = Row {
        id,
        row: engine::FirmwareRow {
            sha256: Some(sha256),
            ..row
        },
        r2_key: key,
        created_at: ctx.now as f64,
    }
    .view();
    json(if replacing.is_some() { 200 } else { 201 }, &view)
}

/// Streams the request body into R2 under `key` and returns its SHA-256 (hex).
///
/// The bytes never enter wasm memory: the body's `ReadableStream` is teed inside the
/// runtime; one branch goes through a `FixedLengthStream` of the declared size (R2 needs a
/// stream of known length; a body of another length errors the stream and fails the put),
/// the other into `crypto.DigestStream`. A client's `sha256` is passed to R2, which refuses
/// to store an object that does not match it.
async fn store_blob(
    bucket: &worker::Bucket,
    req: &Request,
    key: &str,
    size: u64,
    expected: Option<Vec<u8>>,
) -> ApiResult<String> {
    let Some(body) = req.inner().body() else {
        return Err(ApiError::bad("body", "the request has no body"));
    };
    let branches = body.tee();
    let to_r2: ReadableStream = branches.get(0).unchecked_into();
    let to_hash: ReadableStream = branches.get(1).unchecked_into();
    let fixed = match u32::try_from(size) {
        Ok(n) => worker::worker_sys::FixedLengthStream::new(n),
        Err(_) => worker::worker_sys::FixedLengthStream::new_big_int(js_sys::BigInt::from(size)),
    }
    .map_err(worker::Error::from)?;
    // Both pipes run inside the runtime from here on; the promises only report the outcome.
    let piped = JsFuture::from(to_r2.pipe_to(&fixed.writable()));
    let digest = worker::crypto::DigestStream::new(worker::crypto::DigestStreamAlgorithm::Sha256);
    let hashed = JsFuture::from(to_hash.pipe_to(digest.raw()));

    let mut put = bucket
        .put(key, worker::Data::ReadableStream(fixed.readable()))
        .http_metadata(worker::HttpMetadata {
            content_type: Some("application/octet-stream".into()),
            ..Default::default()
        });
    if let Some(sha) = &expected {
        put = put.sha256(sha.clone());
    }
    let put = put.execute().await;
    let _ = piped.await;
    let sha = match hashed.await {
        Ok(_) => Some(engine::encoding::hex(&digest.digest().await?.to_vec())),
        Err(_) => None,
    };
    let Some(sha) = sha else {
        // The body itself broke: the client went away or sent fewer bytes than announced.
        return Err(ApiError::bad(
            "body",
            format!("the body ended before the {size} bytes of its Content-Length arrived"),
        ));
    };
    let mismatch = expected
        .as_deref()
        .is_some_and(|e| engine::encoding::hex(e) != sha);
    if mismatch {
        return Err(ApiError::bad(
            "sha256",
            format!(
                "the uploaded file's SHA-256 is {sha}, not the sha256 given; nothing was stored"
            ),
        ));
    }
    match put {
        Ok(Some(obj)) if obj.size() == size => Ok(sha),
        Ok(_) => Err(worker::Error::RustError("R2 stored an object of another size".into()).into()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes an R2 object, logging (not failing) when R2 refuses.
async fn delete_blob(bucket: &worker::Bucket, key: &str) {
    if let Err(e) = bucket.delete(key).await {
        let msg: String = e.to_string().chars().take(200).collect();
        worker::console_error!("firmware object not deleted (orphan): {msg}");
    }
}

/// The site's rows, oldest first.
async fn rows(ctx: &Ctx<'_>, site: &str) -> ApiResult<Vec<Row>> {
    Ok(ctx
        .db
        .prepare(format!(
            "SELECT {COLUMNS} FROM firmware WHERE site_id = ?1 ORDER BY vendor, model, file_name"
        ))
        .bind(&[site.into()])?
        .all()
        .await?
        .results()?)
}

/// The site's row `id`, or 404.
async fn load(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Row> {
    super::sites::load(ctx, site).await?;
    ctx.db
        .prepare(format!(
            "SELECT {COLUMNS} FROM firmware WHERE id = ?1 AND site_id = ?2"
        ))
        .bind(&[id.into(), site.into()])?
        .first::<Row>(None)
        .await?
        .ok_or_else(|| ApiError::not_found("firmware"))
}

/// The list with what the console needs for hints.
#[derive(Serialize)]
struct Listing {
    firmware: Vec<FirmwareView>,
    used_bytes: u64,
    max_file_bytes: u64,
    max_total_bytes: u64,
    /// Each provisioned vendor's accepted file extensions.
    extensions: BTreeMap<&'static str, &'static [&'static str]>,
}

async fn list(ctx: &Ctx<'_>, site: &str) -> ApiResult<Response> {
    super::sites::load(ctx, site).await?;
    let quota = quota(ctx)?;
    let rows = rows(ctx, site).await?;
    let used_bytes = rows.iter().map(|r| r.row.size).sum();
    let listing = Listing {
        firmware: rows.into_iter().map(Row::view).collect(),
        used_bytes,
        max_file_bytes: quota.max_file_bytes,
        max_total_bytes: quota.max_total_bytes,
        extensions: Vendor::PROVISIONED
            .iter()
            .map(|v| (v.as_str(), v.firmware_extensions()))
            .collect(),
    };
    json(200, &listing)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

async fn edit(ctx: &Ctx<'_>, site: &str, id: &str, body: Option<&str>) -> ApiResult<Response> {
    let e: Edit = parse_body(body)?;
    let mut row = load(ctx, site, id).await?;
    if e.model.is_none() && e.version.is_none() && e.notes.is_none() {
        return Err(ApiError::bad(
            "body",
            "nothing to change: give model, version or notes",
        ));
    }
    let fw = &mut row.row;
    if let Some(m) = e.model {
        fw.model = m;
    }
    if let Some(v) = e.version {
        fw.version = v;
    }
    if let Some(n) = e.notes {
        fw.notes = n;
    }
    engine::validate_row(fw).map_err(|e| refused(&e))?;
    let update = ctx
        .db
        .prepare("UPDATE firmware SET model = ?2, version = ?3, notes = ?4 WHERE id = ?1")
        .bind(&[
            row.id.as_str().into(),
            row.row.model.as_str().into(),
            row.row.version.as_str().into(),
            row.row.notes.as_str().into(),
        ])?;
    ctx.db
        .batch(vec![update, audit(ctx, "update", "firmware", &row.id)?])
        .await?;
    json(200, &row.view())
}

async fn delete(ctx: &Ctx<'_>, site: &str, id: &str) -> ApiResult<Response> {
    let row = load(ctx, site, id).await?;
    super::delete_row(ctx, "firmware", "firmware", &row.id).await?;
    // Row first: if this fails, the object is an orphan, never a row pointing at nothing.
    delete_blob(&ctx.env.bucket(crate::FIRMWARE)?, &row.r2_key).await;
    Ok(super::sites::no_content()?)
}
