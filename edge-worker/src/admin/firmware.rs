//! Firmware images: uploaded into R2 under the engine's extension and quota rules.

use worker::{Request, Response};

use super::{ApiError, ApiResult, Ctx, Route};

/// `/api/sites/<site>/firmware...` (but the upload, see [`upload`]).
pub(crate) async fn route(_ctx: &Ctx<'_>, _r: &Route<'_>) -> Option<ApiResult<Response>> {
    None
}

/// `POST /api/sites/<site>/firmware`: streams the body into R2.
pub(crate) async fn upload(_ctx: &Ctx<'_>, _site: &str, _req: &mut Request) -> ApiResult<Response> {
    Err(ApiError::not_found("endpoint"))
}
