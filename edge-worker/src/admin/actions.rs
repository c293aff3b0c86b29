//! Re-provision and reboot requests, queued for the site's LAN relay.

use worker::Response;

use super::{ApiResult, Ctx, Route};

/// `/api/sites/<site>/actions...`
pub(crate) async fn route(_ctx: &Ctx<'_>, _r: &Route<'_>) -> Option<ApiResult<Response>> {
    None
}
