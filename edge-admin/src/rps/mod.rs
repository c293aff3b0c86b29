//! The vendors' redirection services (RPS): the outbox that registers phones with them.
//!
//! Every rule (requests, signatures, replies, what is transient, how long to wait) is the
//! engine's ([`engine::rps`]); this module stores, sends and schedules:
//! - A change to a phone (added, token rotated, deleted) replaces its row in `rps_outbox` (one
//!   per MAC, site and vendor account) in
//!   the same D1 batch as the change ([`enqueue`]), when the site has a private account for
//!   the phone's vendor. A new or changed account queues all of that vendor's phones.
//! - [`work`] takes due rows, leases each (so the request's `waitUntil` and the Cron Trigger
//!   never work one row at once), opens the account (sealed under `RPS_KEY`), drives the
//!   engine's op with `fetch`, and records the outcome: done, pending with the next attempt
//!   (backoff, the vendor's `Retry-After`, a paused account), or failed with the vendor's
//!   reason. A row changed while it was being worked keeps the newer wish (`seq`).
//! - The URL registered for a phone is its steady-state URL, `<origin>/p/<steady token>` (the
//!   same base the relay hands out by PnP in edge mode; phones append `/<file>`):
//!   derived from `TOKEN_KEY`, so nothing secret is stored in the outbox, and rotating the
//!   token (a new generation) registers the new URL.
//!
//! Nothing here logs a secret: the engine's errors are scrubbed of every secret the op
//! knew, and the log lines carry the MAC, the vendor and the error's kind and text only.

pub(crate) mod seal;

use std::collections::HashMap;

use engine::rps::{
    Failure, HttpReply, HttpRequest, Op, OpResult, RetryPolicy, RpsAccount, RpsError, RpsPhone,
    ServerSpec, Step,
};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Date, Env, Result};

use seal::SealKey;

/// The most calls to vendors one invocation makes, unless `RPS_CALLS_PER_RUN` says: Workers
/// allow 50 subrequests per invocation on the free plan (D1 queries are not counted); a paid
/// plan allows far more, so an operator there raises it to drain bursts faster.
const CALL_BUDGET: u32 = 40;
const CALL_BUDGET_VAR: &str = "RPS_CALLS_PER_RUN";

/// Rows taken per query.
const BATCH: u32 = 25;

/// A row is started only with at least this many calls left: an op the budget cuts short is
/// redone from its start in a later run, and Fanvil's registration (four calls) passes
/// through "not redirected" on the way. A configured budget below it is raised to it.
const MIN_BUDGET_PER_ROW: u32 = 4;

/// A run stops taking rows after this long (ms): waitUntil ends 30 s after the response.
const RUN_MS: u64 = 20_000;

/// How long a worker holds a row before another may take it (seconds): more than a run can
/// last (its rows start within RUN_MS, each call ends within FETCH_TIMEOUT).
const LEASE_SECS: u64 = 120;

/// The longest a vendor call may take, reply included.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A Worker variable that shortens the first retry (seconds), for tests and impatient
/// operators; the default is the engine's (a minute).
const RETRY_BASE_VAR: &str = "RPS_RETRY_BASE_SECS";

/// What a phone's row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wish {
    Register,
    Remove,
}

impl Wish {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Remove => "remove",
        }
    }
}

const UPSERT_TAIL: &str = "ON CONFLICT (mac, site_id, vendor) DO UPDATE SET \
     op = excluded.op, state = 'pending', result = NULL, origin = excluded.origin, seq = rps_outbox.seq + 1, attempts = 0, next_at = excluded.next_at, \
     error_kind = NULL, error = NULL, updated_at = excluded.updated_at";

/// The statement that queues `wish` for one phone, if its vendor has an API and its site a
/// complete account for it (otherwise it does nothing: an account saved incomplete, marked
/// so in its summary, queues nothing). Goes into the batch of the change itself.
pub(crate) fn enqueue(
    db: &D1Database,
    site: &str,
    mac: &str,
    vendor: engine::Vendor,
    wish: Wish,
    origin: &str,
    now: u64,
) -> Result<D1PreparedStatement> {
    let api = vendor.rps_api();
    let vendor = vendor.as_str();
    if !api.registers() {
        // Htek: registered by hand; its row, if any, is the administrator's mark.
        return Ok(db.prepare("SELECT 0"));
    }
    if wish == Wish::Remove && !api.removes() {
        // GDMS has no delete call: nothing to queue, and the phone's row goes with it (the
        // console says to remove the device in GDMS's own console).
        return db
            .prepare("DELETE FROM rps_outbox WHERE mac = ?1 AND site_id = ?2 AND vendor = ?3")
            .bind(&[mac.into(), site.into(), vendor.into()]);
    }
    db.prepare(format!(
        "INSERT INTO rps_outbox (mac, site_id, vendor, op, state, origin, next_at, updated_at) \
         SELECT ?1, ?2, ?3, ?4, 'pending', ?5, ?6, ?6 \
         WHERE EXISTS (SELECT 1 FROM rps_accounts a WHERE a.site_id = ?2 AND a.vendor = ?3 \
         AND json_extract(a.summary, '$.incomplete') IS NULL) \
         {UPSERT_TAIL}"
    ))
    .bind(&[
        mac.into(),
        site.into(),
        vendor.into(),
        wish.as_str().into(),
        origin.into(),
        (now as f64).into(),
    ])
}

/// The statement that queues a registration for every phone of `vendor` on the site (a new
/// or changed account).
pub(crate) fn enqueue_vendor(
    db: &D1Database,
    site: &str,
    vendor: &str,
    origin: &str,
    now: u64,
) -> Result<D1PreparedStatement> {
    db.prepare(format!(
        "INSERT INTO rps_outbox (mac, site_id, vendor, op, state, origin, next_at, updated_at) \
         SELECT p.mac, p.site_id, p.vendor, 'register', 'pending', ?3, ?4, ?4 FROM phones p \
         WHERE p.site_id = ?1 AND p.vendor = ?2 {UPSERT_TAIL}"
    ))
    .bind(&[
        site.into(),
        vendor.into(),
        origin.into(),
        (now as f64).into(),
    ])
}

/// What one call to [`work`] did.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Summary {
    /// Rows finished successfully.
    pub(crate) done: u32,
    /// Rows that will be tried again.
    pub(crate) retrying: u32,
    /// Rows given up (a person must act).
    pub(crate) failed: u32,
    /// Rows left for the next run (call budget, a paused account, a lease held elsewhere).
    pub(crate) deferred: u32,
    /// HTTP calls made to vendors.
    pub(crate) calls: u32,
}

#[derive(Deserialize)]
struct Due {
    mac: String,
    site_id: String,
    vendor: engine::Vendor,
    op: String,
    origin: String,
    seq: f64,
    attempts: f64,
    known: f64,
}

#[derive(Deserialize)]
struct AccountRow {
    sealed: String,
    server_id: Option<String>,
    paused_until: f64,
    updated_at: f64,
}

#[derive(Deserialize)]
struct PhoneRow {
    id: String,
    token_generation: f64,
    serial_number: String,
    http_user: Option<String>,
    http_password: Option<String>,
}

/// An account opened for this run.
struct Opened {
    account: RpsAccount,
    server_id: Option<String>,
    paused_until: u64,
    /// The stored account's version: what this run learns is written back only to it.
    updated_at: f64,
}

impl Opened {
    /// Drives the op `make` builds from the account; what it established (a GDMS token)
    /// serves the run's later ops of the account.
    async fn run<T: OpResult>(
        &mut self,
        make: impl FnOnce(&RpsAccount) -> Op<T>,
        budget: &mut u32,
    ) -> std::result::Result<T, Stop> {
        let mut op = make(&self.account);
        let r = drive(&mut op, budget).await;
        if let Some(s) = op.session() {
            self.account.resume(s);
        }
        r
    }
}

/// How a row's attempt ended.
enum Outcome {
    Done(&'static str),
    /// The op failed; the engine's policy decides whether and when to retry.
    Failed(Failed),
    /// Refused before any call (no account, bad stored data): a person must act.
    Refused {
        kind: &'static str,
        message: String,
    },
    /// Not attempted (call budget, a paused account): due again at this time, no attempt
    /// counted.
    Defer(u64),
}

/// Works the due rows of the outbox (every site), within one invocation's call budget and
/// time: batch after batch while rows are due.
pub(crate) async fn work(env: &Env) -> Result<Summary> {
    let started = now_ms();
    let mut run = Run {
        db: env.d1(crate::DB)?,
        key: SealKey::from_env(env),
        token_key: env.secret(crate::TOKEN_KEY)?.to_string(),
        policy: retry_policy(env),
        accounts: HashMap::new(),
        budget: env
            .var(CALL_BUDGET_VAR)
            .ok()
            .and_then(|v| v.to_string().trim().parse::<u32>().ok())
            .filter(|b| *b > 0)
            .unwrap_or(CALL_BUDGET)
            .max(MIN_BUDGET_PER_ROW),
        summary: Summary::default(),
    };
    while run.budget >= MIN_BUDGET_PER_ROW && now_ms().saturating_sub(started) < RUN_MS {
        let now = now_secs();
        let due: Vec<Due> = run
            .db
            .prepare(
                "SELECT mac, site_id, vendor, op, origin, seq, attempts, known FROM rps_outbox \
                 WHERE state = 'pending' AND next_at <= ?1 AND lease_until <= ?1 \
                 ORDER BY next_at LIMIT ?2",
            )
            .bind(&[(now as f64).into(), JsValue::from(BATCH)])?
            .all()
            .await?
            .results()?;
        if due.is_empty() {
            break;
        }
        // Accounts are opened afresh for each batch: one pasted meanwhile (new credentials)
        // is what the batch's rows, queued by that paste, must be worked with.
        run.accounts.clear();
        let mut progressed = false;
        for row in due {
            if run.budget < MIN_BUDGET_PER_ROW || now_ms().saturating_sub(started) >= RUN_MS {
                break;
            }
            progressed |= run.work_row(row).await?;
        }
        if !progressed {
            // Every due row was leased elsewhere or deferred: leave them to that run.
            break;
        }
    }
    Ok(run.summary)
}

/// One invocation's work: what it opened, the calls it may still make, what it did.
struct Run {
    db: D1Database,
    key: std::result::Result<SealKey, seal::SealError>,
    token_key: String,
    policy: RetryPolicy,
    /// Each (site, vendor) account opened once per run.
    accounts: HashMap<(String, engine::Vendor), Account>,
    budget: u32,
    summary: Summary,
}

impl Run {
    /// Works one due row; `false` if it was not ours to work (leased elsewhere) or deferred.
    async fn work_row(&mut self, row: Due) -> Result<bool> {
        let Self {
            db,
            key,
            token_key,
            policy,
            accounts,
            budget,
            summary,
        } = self;
        let now = now_secs();
        let lease = (now + LEASE_SECS) as f64;
        // Lease the row; another run may have it. What is worked is the wish the row holds
        // when leased (returned), not what the batch read: the row may have been finished,
        // deleted and created again since, with the same seq.
        let Some(row) = db
            .prepare(
                "UPDATE rps_outbox SET lease_until = ?3 WHERE mac = ?1 AND seq = ?2 \
             AND state = 'pending' AND lease_until <= ?4 AND site_id = ?5 AND vendor = ?6 \
             RETURNING mac, site_id, vendor, op, origin, seq, attempts, known",
            )
            .bind(&[
                row.mac.as_str().into(),
                row.seq.into(),
                lease.into(),
                (now as f64).into(),
                row.site_id.as_str().into(),
                row.vendor.as_str().into(),
            ])?
            .first::<Due>(None)
            .await?
        else {
            summary.deferred += 1;
            return Ok(false);
        };
        let slot = (row.site_id.clone(), row.vendor);
        if !accounts.contains_key(&slot) {
            let opened = open_account(db, key, &row.site_id, row.vendor).await?;
            accounts.insert(slot.clone(), opened);
        }
        let outcome = match accounts.get_mut(&slot) {
            Some(Account::Open(opened)) if opened.paused_until > now_secs() => {
                Outcome::Defer(opened.paused_until)
            }
            Some(Account::Open(opened)) => {
                let before = *budget;
                let o = attempt(db, &row, opened, token_key, budget).await?;
                summary.calls += before - *budget;
                o
            }
            // The edge's secret is missing or not the one the account was sealed under: an
            // operator's mistake, not the phone's. Held (logged at opening), not given up.
            Some(Account::Unusable) => Outcome::Defer(now_secs() + UNUSABLE_RETRY_SECS),
            _ => Outcome::Refused {
                kind: "no_account",
                message: format!("no {} account on the site", row.vendor),
            },
        };
        let attempts = row.attempts as u32 + 1;
        let now = now_secs();
        let (state, result, next_at, kind, message, count) = match outcome {
            Outcome::Done(result) => {
                summary.done += 1;
                worker::console_log!("rps: {} {} {}: {result}", row.vendor, row.op, row.mac);
                ("done", Some(result), now, None, None, true)
            }
            Outcome::Defer(at) => {
                summary.deferred += 1;
                ("pending", None, at, None, None, false)
            }
            Outcome::Refused { kind, message } => {
                summary.failed += 1;
                worker::console_warn!(
                    "rps: {} {} {}: {kind}: {message} (given up)",
                    row.vendor,
                    row.op,
                    row.mac
                );
                (
                    "failed",
                    None,
                    now,
                    Some(kind.to_owned()),
                    Some(message),
                    true,
                )
            }
            Outcome::Failed(failed) => {
                let jitter = edge_shared::ids::random_bytes::<1>()?[0];
                let (kind, message, delay) = match &failed {
                    Failed::Vendor(e) => (
                        e.kind().to_owned(),
                        e.to_string(),
                        policy.delay(Failure::Vendor(e), attempts, jitter),
                    ),
                    Failed::Transport(m) => (
                        "transport".to_owned(),
                        m.clone(),
                        policy.delay(Failure::Transport, attempts, jitter),
                    ),
                };
                worker::console_warn!(
                    "rps: {} {} {}: {kind}: {message} ({})",
                    row.vendor,
                    row.op,
                    row.mac,
                    delay.map_or("given up".to_owned(), |d| format!("retry in {d} s"))
                );
                // A rate limit holds every call to the account, not just this phone's.
                if let (
                    Failed::Vendor(RpsError::RateLimited { .. }),
                    Some(d),
                    Some(Account::Open(opened)),
                ) = (&failed, delay, accounts.get_mut(&slot))
                {
                    opened.paused_until = now + d;
                    db.prepare(
                    "UPDATE rps_accounts SET paused_until = ?3 WHERE site_id = ?1 AND vendor = ?2",
                )
                .bind(&[
                    row.site_id.as_str().into(),
                    row.vendor.as_str().into(),
                    ((now + d) as f64).into(),
                ])?
                .run()
                .await?;
                }
                match delay {
                    Some(d) => {
                        summary.retrying += 1;
                        ("pending", None, now + d, Some(kind), Some(message), true)
                    }
                    None => {
                        summary.failed += 1;
                        ("failed", None, now, Some(kind), Some(message), true)
                    }
                }
            }
        };
        let finished_remove = state == "done" && row.op == "remove";
        let stmt = if finished_remove {
            // The phone is gone from the site: so is its row (a phone still there keeps
            // "removed").
            db.prepare(
                "DELETE FROM rps_outbox WHERE mac = ?1 AND seq = ?2 AND site_id = ?3 AND vendor = ?4 \
             AND NOT EXISTS (SELECT 1 FROM phones WHERE mac = ?1 AND site_id = ?3 AND vendor = ?4)",
            )
            .bind(&[
                row.mac.as_str().into(),
                row.seq.into(),
                row.site_id.as_str().into(),
                row.vendor.as_str().into(),
            ])?
        } else {
            db.prepare("SELECT 1")
        };
        let update = db
        .prepare(
            "UPDATE rps_outbox SET state = ?3, result = ?4, next_at = ?5, lease_until = 0, \
             attempts = attempts + ?6, last_attempt_at = CASE WHEN ?6 = 1 THEN ?7 ELSE last_attempt_at END, \
             error_kind = ?8, error = ?9, updated_at = ?7, \
             known = CASE WHEN ?3 <> 'done' THEN known WHEN op = 'register' THEN 1 ELSE 0 END \
             WHERE mac = ?1 AND seq = ?2 AND site_id = ?10 AND vendor = ?11",
        )
        .bind(&[
            row.mac.as_str().into(),
            row.seq.into(),
            state.into(),
            edge_shared::store::opt(result),
            (next_at as f64).into(),
            JsValue::from(u8::from(count)),
            (now as f64).into(),
            edge_shared::store::opt(kind.as_deref()),
            edge_shared::store::opt(message.as_deref()),
            row.site_id.as_str().into(),
            row.vendor.as_str().into(),
        ])?;
        // A newer wish arrived meanwhile (the update above matched nothing): our call is
        // over, so the lease that keeps other runs off the row goes now, not in two minutes.
        let release = db
            .prepare(
                "UPDATE rps_outbox SET lease_until = 0 WHERE mac = ?1 AND site_id = ?2 AND vendor = ?3 \
                 AND seq != ?4 AND lease_until = ?5",
            )
            .bind(&[
                row.mac.as_str().into(),
                row.site_id.as_str().into(),
                row.vendor.as_str().into(),
                row.seq.into(),
                lease.into(),
            ])?;
        db.batch(vec![update, stmt, release]).await?;
        Ok(count)
    }
}

/// The retry policy: the engine's, with the first delay from `RPS_RETRY_BASE_SECS` if set.
fn retry_policy(env: &Env) -> RetryPolicy {
    let mut p = RetryPolicy::default();
    if let Some(base) = env
        .var(RETRY_BASE_VAR)
        .ok()
        .and_then(|v| v.to_string().trim().parse::<u64>().ok())
        .filter(|b| *b > 0)
    {
        p.base_secs = base;
    }
    p
}

/// A site's account for a vendor, as a run found it.
enum Account {
    Open(Box<Opened>),
    /// No account for the vendor on the site.
    Absent,
    /// There is one, but it does not open here (no `RPS_KEY`, another key, unreadable).
    Unusable,
}

/// How long rows wait for an account that does not open before they are tried again.
const UNUSABLE_RETRY_SECS: u64 = 600;

/// The site's account for `vendor`.
async fn open_account(
    db: &D1Database,
    key: &std::result::Result<SealKey, seal::SealError>,
    site: &str,
    vendor: engine::Vendor,
) -> Result<Account> {
    let Some(row) = db
        .prepare("SELECT sealed, server_id, paused_until, updated_at FROM rps_accounts WHERE site_id = ?1 AND vendor = ?2")
        .bind(&[site.into(), vendor.as_str().into()])?
        .first::<AccountRow>(None)
        .await?
    else {
        return Ok(Account::Absent);
    };
    let Ok(key) = key else {
        worker::console_error!(
            "rps: RPS_KEY is not configured: the {vendor} account of site {site} cannot be opened; its phones wait"
        );
        return Ok(Account::Unusable);
    };
    let account = key
        .open(&seal::account_aad(site, vendor.as_str()), &row.sealed)
        .ok()
        .and_then(|ini| engine::rps::parse_accounts(&ini).ok())
        .and_then(|(mut a, _)| a.pop())
        .filter(|a| a.vendor() == vendor);
    let Some(account) = account else {
        worker::console_error!(
            "rps: the {vendor} account of site {site} does not open under RPS_KEY (another key?); its phones wait"
        );
        return Ok(Account::Unusable);
    };
    Ok(Account::Open(Box::new(Opened {
        account,
        server_id: row.server_id,
        paused_until: row.paused_until as u64,
        updated_at: row.updated_at,
    })))
}

/// The phone as the vendor is told about it through `account`: sent to `own_url` (its URL
/// here), or where the account sends its phones instead (ALE).
pub(crate) fn rps_phone(
    account: &RpsAccount,
    mac: engine::Mac,
    own_url: &str,
    serial: &str,
    http: (Option<&str>, Option<&str>),
    server_id: Option<String>,
) -> std::result::Result<RpsPhone, RpsError> {
    let mut p = RpsPhone::new(mac, account.target_url(own_url)?);
    p.serial = engine::rps::SerialNumber::parse(serial).ok();
    if let (Some(u), Some(pw)) = http {
        p.auth_name = Some(u.to_owned());
        p.auth_password = Some(engine::Secret::new(pw.to_owned()));
    }
    p.server_id = server_id;
    Ok(p)
}

/// The site's server (Yealink, ALE) or group (Fanvil) at the vendor, pointing at this edge
/// (or where the account sends its phones instead: ALE). Yealink's server names are unique
/// across all its customers, so the name carries a digest of this edge's origin and the site.
pub(crate) fn server_spec(
    account: &RpsAccount,
    site: &str,
    origin: &str,
) -> std::result::Result<ServerSpec, RpsError> {
    let digest = engine::token_hash(&format!("{origin}\0{site}"));
    let short: String = site
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    let own = format!("{origin}/p/");
    Ok(ServerSpec::new(
        format!("zt-{short}-{}", digest.get(..10).unwrap_or_default()),
        account.target_url(&own)?,
    ))
}

/// The steady-state URL of phone `id` at `generation`.
pub(crate) fn phone_url(token_key: &str, origin: &str, id: &str, generation: u32) -> String {
    let steady = engine::steady_token(token_key.as_bytes(), id, generation);
    edge_shared::inputs::base_url(origin, &steady)
}

async fn attempt(
    db: &D1Database,
    row: &Due,
    opened: &mut Opened,
    token_key: &str,
    budget: &mut u32,
) -> Result<Outcome> {
    let Ok(mac) = engine::Mac::parse(&row.mac) else {
        return Ok(failed_input("invalid_mac", "the stored MAC does not parse"));
    };
    let result = match row.op.as_str() {
        "remove" => opened
            .run(|a| a.remove(mac), budget)
            .await
            .map(|r| match r {
                engine::rps::Removal::Removed => "removed",
                engine::rps::Removal::AlreadyGone => "already_gone",
            }),
        _ => {
            let Some(phone) = db
                .prepare(
                    "SELECT id, token_generation, serial_number, http_user, http_password FROM phones \
                     WHERE mac = ?1 AND site_id = ?2",
                )
                .bind(&[row.mac.as_str().into(), row.site_id.as_str().into()])?
                .first::<PhoneRow>(None)
                .await?
            else {
                return Ok(failed_input("not_found", "the phone is no longer in the inventory"));
            };
            let url = phone_url(
                token_key,
                &row.origin,
                &phone.id,
                phone.token_generation as u32,
            );
            let mut p = match rps_phone(
                &opened.account,
                mac,
                &url,
                &phone.serial_number,
                (phone.http_user.as_deref(), phone.http_password.as_deref()),
                None,
            ) {
                Ok(p) => p,
                Err(e) => return Ok(Outcome::Failed(Failed::Vendor(e))),
            };
            if opened.account.needs_server() && opened.server_id.is_none() {
                let spec = match server_spec(&opened.account, &row.site_id, &row.origin) {
                    Ok(s) => s,
                    Err(e) => return Ok(Outcome::Failed(Failed::Vendor(e))),
                };
                match opened.run(|a| a.ensure_server(&spec), budget).await {
                    Ok(s) => {
                        opened.server_id = s.id.clone();
                        db.prepare("UPDATE rps_accounts SET server_id = ?3 WHERE site_id = ?1 AND vendor = ?2 AND updated_at = ?4")
                            .bind(&[row.site_id.as_str().into(), row.vendor.as_str().into(), edge_shared::store::opt(s.id.as_deref()), opened.updated_at.into()])?
                            .run()
                            .await?;
                    }
                    Err(f) => return Ok(outcome_of(f)),
                }
            }
            p.server_id = opened.server_id.clone();
            p.known = row.known > 0.0;
            opened
                .run(|a| a.register(&p), budget)
                .await
                .map(|r| match r {
                    engine::rps::Registration::Created => "created",
                    engine::rps::Registration::Updated => "updated",
                    engine::rps::Registration::Set => "set",
                })
        }
    };
    Ok(match result {
        Ok(r) => Outcome::Done(r),
        Err(f) => outcome_of(f),
    })
}

fn failed_input(kind: &'static str, message: &str) -> Outcome {
    Outcome::Refused {
        kind,
        message: message.into(),
    }
}

/// Why driving an op stopped short of a result.
pub(crate) enum Stop {
    /// The op ended with the vendor's (or the inputs') error.
    Vendor(RpsError),
    /// A request got no HTTP reply.
    Transport(String),
    /// This invocation's call budget ran out: try again in the next run.
    Budget,
}

/// An attempt that got an answer it cannot use, or none.
enum Failed {
    Vendor(RpsError),
    Transport(String),
}

fn outcome_of(stop: Stop) -> Outcome {
    match stop {
        Stop::Budget => Outcome::Defer(now_secs()),
        Stop::Vendor(e) => Outcome::Failed(Failed::Vendor(e)),
        Stop::Transport(m) => Outcome::Failed(Failed::Transport(m)),
    }
}

/// Runs an op to its end, sending each request it asks for.
async fn drive<T: OpResult>(op: &mut Op<T>, budget: &mut u32) -> std::result::Result<T, Stop> {
    let mut step = op.start(
        now_ms(),
        &nonce().map_err(|e| Stop::Transport(e.to_string()))?,
    );
    loop {
        match step {
            Step::Done(r) => return r.map_err(Stop::Vendor),
            Step::Send(req) => {
                if *budget == 0 {
                    return Err(Stop::Budget);
                }
                *budget -= 1;
                let reply = send(&req).await.map_err(Stop::Transport)?;
                let n = nonce().map_err(|e| Stop::Transport(e.to_string()))?;
                step = op.on_reply(reply, now_ms(), &n);
            }
        }
    }
}

/// Sends one request. The error text names the host only (the URL may hold a token).
async fn send(req: &HttpRequest) -> std::result::Result<HttpReply, String> {
    let host = req
        .url
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', '?']).next())
        .unwrap_or("?")
        .to_owned();
    let fail = |what: &str| format!("{what} {host}");
    let headers = worker::Headers::new();
    for (k, v) in &req.headers {
        headers
            .append(k, v)
            .map_err(|_| fail("a header could not be set for"))?;
    }
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::from(req.method.to_owned()))
        .with_headers(headers);
    if !req.body.is_empty() {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(req.body.as_slice()).into(),
        ));
    }
    let request =
        worker::Request::new_with_init(&req.url, &init).map_err(|_| fail("bad request for"))?;
    // A vendor that does not answer within FETCH_TIMEOUT is a transport failure (retried
    // with backoff), not a call that holds the run, and the row's lease, until it is killed.
    let signal = crate::abort_after(FETCH_TIMEOUT);
    // What went wrong: the timeout's abort, or `other`.
    let failed = |timed_out: &str, other: &str| {
        if signal.aborted() {
            fail(&format!(
                "{timed_out} within {} s from",
                FETCH_TIMEOUT.as_secs()
            ))
        } else {
            fail(other)
        }
    };
    let mut resp = worker::Fetch::Request(request)
        .send_with_signal(&signal)
        .await
        .map_err(|_| failed("no reply", "no reply from"))?;
    let mut reply = HttpReply::new(resp.status_code(), Vec::new());
    if let Ok(Some(v)) = resp.headers().get("Retry-After") {
        reply = reply.with_header("Retry-After", &v);
    }
    if let Ok(Some(v)) = resp.headers().get("Content-Type") {
        reply = reply.with_header("Content-Type", &v);
    }
    reply.body = resp
        .bytes()
        .await
        .map_err(|_| failed("no whole reply", "a broken reply from"))?;
    Ok(reply)
}

pub(crate) fn now_secs() -> u64 {
    Date::now().as_millis() / 1000
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// A fresh nonce: 16 random bytes as hex.
fn nonce() -> Result<String> {
    Ok(engine::first_access_token(
        edge_shared::ids::random_bytes::<16>()?,
    ))
}
