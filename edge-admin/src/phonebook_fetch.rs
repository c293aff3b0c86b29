//! The edge's fetches of phonebook sources with a public URL: the cron fetches those that
//! are due, `POST .../phonebook-sources/<id>/fetch` one at once. Sources on a LAN host are
//! the relay's (`engine::Fetcher::Relay`): the edge never fetches them.
//!
//! Only the saved URL is fetched: a redirect is not followed (it is the fetch's error, naming
//! the status), nothing in a document is fetched, and the URL's host is classified again
//! before each fetch, by the engine's one rule. A body is read to at most
//! `engine::MAX_SOURCE_BYTES`, within [`FETCH_TIMEOUT`]. Errors name the host, never the
//! URL's path or query.
//!
//! `PHONEBOOK_TEST_ALLOW_HOST` (a variable only the tests' Miniflare sets; production's
//! `wrangler.toml` never does): one `host:port` the edge fetches although it is a LAN
//! address, so that a test can serve a directory from 127.0.0.1.

use std::time::Duration;

use futures_util::StreamExt as _;
use worker::{D1Database, Env, Result};

use edge_shared::phonebook::{record_fetch, Outcome};

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(20);
/// The most sources one cron run fetches (the rest wait for the next minute).
const PER_RUN: u32 = 3;
/// The test-only variable (see the module docs).
const TEST_ALLOW_HOST: &str = "PHONEBOOK_TEST_ALLOW_HOST";

/// Who fetches `url` here: the engine's answer, except for the one host the tests allow.
pub(crate) fn fetcher(env: &Env, url: &engine::SourceUrl) -> engine::Fetcher {
    let allowed = env
        .var(TEST_ALLOW_HOST)
        .map(|v| v.to_string())
        .unwrap_or_default();
    if !allowed.is_empty() && allowed == url.authority() {
        engine::Fetcher::Edge
    } else {
        url.fetcher
    }
}

/// Fetches the sources the edge fetches whose time has come; how many were fetched.
pub(crate) async fn work(env: &Env) -> Result<u32> {
    #[derive(serde::Deserialize)]
    struct Due {
        id: String,
        url: String,
        fetch_minutes: f64,
    }
    let db = env.d1(crate::DB)?;
    let now = crate::rps::now_secs();
    let due: Vec<Due> = db
        .prepare(
            "SELECT id, url, fetch_minutes FROM phonebook_sources WHERE fetched_by = 'edge' \
             AND url IS NOT NULL AND next_fetch_at <= ?1 ORDER BY next_fetch_at, id LIMIT ?2",
        )
        .bind(&[edge_shared::store::num(now), PER_RUN.into()])?
        .all()
        .await?
        .results()?;
    for d in &due {
        // The next time first, so that a fetch that fails or hangs is not retried every minute.
        db.prepare("UPDATE phonebook_sources SET next_fetch_at = ?2 WHERE id = ?1")
            .bind(&[
                d.id.as_str().into(),
                edge_shared::store::num(now + d.fetch_minutes as u64 * 60),
            ])?
            .run()
            .await?;
        fetch_and_record(env, &db, &d.id, &d.url).await?;
    }
    Ok(due.len() as u32)
}

/// Fetches source `id` from `url` now and records the outcome.
pub(crate) async fn fetch_and_record(
    env: &Env,
    db: &D1Database,
    id: &str,
    url: &str,
) -> Result<()> {
    let now = crate::rps::now_secs();
    match fetch(env, url).await {
        Ok(parsed) => record_fetch(db, id, now, Outcome::Entries(&parsed)).await,
        Err(e) => {
            worker::console_warn!("phonebook source {id}: {e}");
            record_fetch(db, id, now, Outcome::Failed(&e)).await
        }
    }
}

/// The document at `url`, parsed; or what went wrong, for the administrator.
async fn fetch(env: &Env, url: &str) -> std::result::Result<engine::ParsedSource, String> {
    let parsed = engine::SourceUrl::parse(url).map_err(|e| e.detail().to_owned())?;
    let host = parsed.host.clone();
    if fetcher(env, &parsed) != engine::Fetcher::Edge {
        return Err(format!(
            "{host} is a LAN address: only the site's relay fetches it"
        ));
    }
    // The platform's URL parser must read the same host the engine checked.
    let same_host = worker::Url::parse(&parsed.url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
        .is_some_and(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&host));
    if !same_host {
        return Err(format!("the URL's host is not read as {host}"));
    }
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Get)
        .with_redirect(worker::RequestRedirect::Manual);
    let request = worker::Request::new_with_init(&parsed.url, &init)
        .map_err(|_| format!("the URL for {host} is not valid"))?;
    let signal = crate::abort_after(FETCH_TIMEOUT);
    let timed_out = || format!("{host} did not answer within {} s", FETCH_TIMEOUT.as_secs());
    let mut resp = worker::Fetch::Request(request)
        .send_with_signal(&signal)
        .await
        .map_err(|_| {
            if signal.aborted() {
                timed_out()
            } else {
                format!("no answer from {host}")
            }
        })?;
    engine::check_fetch_status(&host, resp.status_code())?;
    let mut body = Vec::new();
    let mut stream = resp.stream().map_err(|_| format!("no body from {host}"))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            if signal.aborted() {
                timed_out()
            } else {
                format!("a broken answer from {host}")
            }
        })?;
        if body.len() + chunk.len() > engine::MAX_SOURCE_BYTES {
            return Err(format!(
                "{host}'s document is larger than {} KiB",
                engine::MAX_SOURCE_BYTES / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    engine::parse_source(&body).map_err(|e| e.detail().to_owned())
}
