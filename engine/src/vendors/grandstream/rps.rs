//! Grandstream GDMS: an OAuth password-grant token first, then calls signed with a plain
//! SHA-256 over the sorted parameters (the client secret inside, never sent).
//!
//! GDMS attaches a phone to the customer's organisation and site; the serial number proves
//! ownership. There is no per-phone URL: the phone gets the site's provisioning URL, and
//! the edge identifies it by MAC, User-Agent and HTTP credentials instead.
//!
//! `device/add` is a batch call, which RPS.md does not say: `retCode` 0 means only that the
//! request was well formed, and each device succeeds or fails on its own inside `data`. A
//! live reply to a one-device add whose serial number was another handset's, quoted by a
//! public GDMS client (izzwgg-arch/connect-platform, `CLAUDE.md` "Round 9 (2026-09-15)" and
//! `apps/api/src/deskPhoneSetup/gdmsClient.ts` at 3040f2bc, `addDevice`):
//!
//! ```text
//! {"retCode":0, "data":{"total":1,"success":0,"failure":1,"errorDeviceList":[{"orgId":null,
//!  "deviceName":null,"siteId":675285,"mac":"C074AD8C654E","errorMsg":"30010","sn":"20ZE115N308C605F"}]}}
//! ```
//!
//! So the add is read by [`read_added`]: a device in `errorDeviceList` or a `failure` count
//! above 0 is a refusal, with the item's `errorMsg` (there a code; GDMS does not document
//! its codes) as the reason; a `data` this client cannot read is an unexpected reply, never a
//! registration. Unsure: the reply to a successful add (that client reads no failure as
//! success, so `null`, `{}` and counts without failures are read so too), whether GDMS
//! answers an owned or already added device per device or in `retCode` (both are read), and
//! what `errorMsg` says for those.

use serde_json::{json, Value};

use crate::encoding::{form_encode, percent_encode, sha256_hex};
use crate::rps::{
    json, json_items, json_text, lower, sanitize, status_error, to_json, unexpected, Cx, Detail,
    GdmsAccount, HttpReply, HttpRequest, Machine, Next, Outcome, PhoneStatus, Registration,
    RpsError, RpsPhone, ServerRef, Session,
};
use crate::secret::Secret;

const V: &str = "grandstream";
const LIST_KEYS: &[&str] = &["result", "list", "records", "data", "rows"];

/// The string GDMS hashes: `&` + the sorted `k=v` pairs joined by `&` + `&`, then, with a
/// JSON body, its lower-hex SHA-256 and a last `&`.
pub(crate) fn string_to_sign(params: &[(&str, &str)], body: Option<&[u8]>) -> String {
    let mut p: Vec<&(&str, &str)> = params.iter().collect();
    p.sort_by(|a, b| a.0.cmp(b.0));
    let joined: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut s = format!("&{}&", joined.join("&"));
    if let Some(b) = body {
        s.push_str(&sha256_hex(b));
        s.push('&');
    }
    s
}

pub(crate) fn remove_unsupported() -> RpsError {
    RpsError::Unsupported(
        "grandstream: GDMS has no public call to remove a device; remove it in the GDMS console"
            .into(),
    )
}

#[derive(Clone)]
enum Goal {
    EnsureSite,
    Register(Box<RpsPhone>),
    Status,
}

enum State {
    Token,
    Orgs,
    Sites { orgs: Vec<String>, next: usize },
    Adding,
    Detail { after_exists: Option<Detail> },
}

/// A token is not reused in its last minute.
const TOKEN_MARGIN_MS: u64 = 60_000;
/// The token's lifetime when the reply gives none (RPS.md: about an hour).
const TOKEN_DEFAULT_SECS: u64 = 3_600;

/// One GDMS operation.
pub(crate) struct Flow {
    acct: GdmsAccount,
    goal: Goal,
    mac: Option<crate::mac::Mac>,
    token: Option<Secret<String>>,
    /// When `token` stops being valid (Unix ms).
    token_expires_ms: u64,
    /// `token` came from an earlier op's session: refused, it is fetched once more.
    reused: bool,
    org: Option<String>,
    state: State,
}

impl Flow {
    fn new(acct: &GdmsAccount, goal: Goal, mac: Option<crate::mac::Mac>) -> Self {
        let session = acct.session.as_ref();
        Self {
            acct: acct.clone(),
            goal,
            mac,
            token: session.map(|s| s.token.clone()),
            token_expires_ms: session.map_or(0, |s| s.expires_at_ms),
            reused: session.is_some(),
            org: acct
                .org_id
                .clone()
                .or_else(|| session.and_then(|s| s.org.clone())),
            state: State::Token,
        }
    }

    /// Asks for a new token (the first, or instead of a refused or expiring one).
    fn fetch_token(&mut self) -> Next {
        self.token = None;
        self.reused = false;
        self.state = State::Token;
        Next::Send(self.token_request())
    }

    pub(crate) fn ensure_site(acct: &GdmsAccount) -> Self {
        Self::new(acct, Goal::EnsureSite, None)
    }

    pub(crate) fn register(acct: &GdmsAccount, phone: &RpsPhone) -> Result<Self, RpsError> {
        if phone.serial.is_none() {
            return Err(RpsError::InvalidInput(
                "grandstream: GDMS needs the phone's serial number to prove ownership".into(),
            ));
        }
        Ok(Self::new(
            acct,
            Goal::Register(Box::new(phone.clone())),
            Some(phone.mac),
        ))
    }

    pub(crate) fn status(acct: &GdmsAccount, phone: &RpsPhone) -> Self {
        Self::new(acct, Goal::Status, Some(phone.mac))
    }

    fn secrets(&self) -> Vec<String> {
        let mut s = vec![
            self.acct.password_hash.expose().clone(),
            self.acct.client_secret.expose().clone(),
        ];
        if let Some(t) = &self.token {
            s.push(t.expose().clone());
        }
        s
    }

    fn mac_text(&self) -> String {
        match self.mac {
            Some(m) if self.acct.mac_colons => m.to_colon_upper(),
            Some(m) => m.to_upper_hex(),
            None => String::new(),
        }
    }

    fn token_request(&self) -> HttpRequest {
        let a = &self.acct;
        let form = [
            ("grant_type", "password"),
            ("username", a.username.as_str()),
            ("password", a.password_hash.expose().as_str()),
            ("client_id", a.client_id.as_str()),
            ("client_secret", a.client_secret.expose().as_str()),
        ];
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect();
        HttpRequest::new("POST", crate::rps::join(&a.base_url, "oauth/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body.join("&").into_bytes())
            .secrets(&self.secrets())
    }

    /// A signed call of `path` (under the base, e.g. `v1.0.0/org/list`).
    fn call(
        &self,
        method: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        cx: &Cx<'_>,
    ) -> HttpRequest {
        let a = &self.acct;
        let token = self
            .token
            .as_ref()
            .map(|t| t.expose().as_str())
            .unwrap_or("");
        let ts = cx.now_ms.to_string();
        let body = body.map(to_json);
        let mut params: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        params.push(("access_token", token));
        params.push(("client_id", &a.client_id));
        params.push(("client_secret", a.client_secret.expose()));
        params.push(("timestamp", &ts));
        // Values are hashed as they are, not URL-encoded (RPS.md's reading of the GDMS API
        // guide: sorted `k=v` pairs joined by `&`). Every value signed here (ids, MAC, token,
        // digits, client id and secret) is plain ASCII with no character that encoding
        // would change, so the two readings agree for them; a value that needs encoding
        // is where they would part, and none is sent.
        let signature = sha256_hex(string_to_sign(&params, body.as_deref()).as_bytes());
        let mut q: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        q.push(format!("access_token={}", percent_encode(token)));
        q.push(format!("timestamp={ts}"));
        q.push(format!("signature={signature}"));
        let url = format!("{}?{}", crate::rps::join(&a.base_url, path), q.join("&"));
        let mut req = HttpRequest::new(method, url).header("Accept", "application/json");
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        req.secrets(&self.secrets())
    }

    /// After the token (and the organisation): the call the goal is about.
    fn proceed(&mut self, cx: &Cx<'_>) -> Next {
        let Some(org) = self.org.clone() else {
            self.state = State::Orgs;
            return Next::Send(self.call("GET", "v1.0.0/org/list", &[], None, cx));
        };
        match &self.goal {
            Goal::EnsureSite => {
                self.state = State::Sites {
                    orgs: vec![org.clone()],
                    next: 1,
                };
                Next::Send(self.call("GET", "v1.0.0/site/list", &[("orgId", org)], None, cx))
            }
            Goal::Register(phone) => {
                let sn = phone
                    .serial
                    .as_ref()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default();
                let body = json!([{
                    "orgId": id_value(&org),
                    "siteId": id_value(&self.acct.site_id),
                    "mac": self.mac_text(),
                    "sn": sn,
                }]);
                self.state = State::Adding;
                Next::Send(self.call("POST", "v1.0.0/device/add", &[], Some(&body), cx))
            }
            Goal::Status => self.detail(cx, None),
        }
    }

    fn detail(&mut self, cx: &Cx<'_>, after_exists: Option<Detail>) -> Next {
        self.state = State::Detail { after_exists };
        let q = [("mac", self.mac_text()), ("isFirst", "0".to_owned())];
        Next::Send(self.call("POST", "v1.0.0/device/detail", &q, None, cx))
    }
}

/// Ids are numbers in GDMS's replies (`"siteId":675285` in a live `device/add` reply that
/// public GDMS clients quote); a numeric id is sent as a number, anything else as the
/// string it is (whether GDMS takes ids as strings too is not documented: numbers are
/// what it returns, so numbers are what this sends).
fn id_value(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::String(id.to_owned()), Value::from)
}

/// A failed GDMS reply: its `retCode` and message, and the classified error.
pub(crate) struct Fail {
    message: String,
    err: RpsError,
}

/// Reads a reply: `Ok(data)` for `retCode` 0.
pub(crate) fn check(reply: &HttpReply, secrets: &[String]) -> Result<Value, Fail> {
    let parsed = json(&reply.body);
    let code = parsed
        .as_ref()
        .and_then(|v| v.get("retCode"))
        .and_then(json_text);
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("msg").or_else(|| v.get("retMsg")))
        .and_then(json_text)
        .unwrap_or_default();
    let fail = |err| Fail {
        message: message.clone(),
        err,
    };
    if let Some(e) = status_error(V, reply, secrets) {
        let e = match (e, &code) {
            (RpsError::NotFound(_), Some(_)) | (RpsError::UnexpectedReply(_), Some(_)) => {
                classified(reply, code.as_deref(), &message, secrets)
            }
            (e, _) => e,
        };
        return Err(fail(e));
    }
    let Some(v) = parsed else {
        return Err(fail(unexpected(V, reply, "not JSON", secrets)));
    };
    match code.as_deref() {
        Some("0") => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        Some(_) => Err(fail(classified(reply, code.as_deref(), &message, secrets))),
        None => Err(fail(unexpected(V, reply, "no `retCode` field", secrets))),
    }
}

fn classified(
    reply: &HttpReply,
    code: Option<&str>,
    message: &str,
    secrets: &[String],
) -> RpsError {
    crate::rps::classify(
        V,
        Some(reply.status),
        code,
        (!message.is_empty()).then_some(message),
        reply,
        secrets,
    )
}

/// What `device/add`'s `data` says about the one device sent (see the module docs).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Added {
    /// No failure reported.
    Yes,
    /// GDMS refused the device; its `errorMsg`, if it gave one.
    Refused(Option<String>),
}

/// Reads `device/add`'s `data` for the device `mac` (as sent). `Err` says why `data` cannot be
/// read; a `data` that says nothing (`null`, `{}`) is no failure.
pub(crate) fn read_added(data: &Value, mac: &str) -> Result<Added, &'static str> {
    let obj = match data {
        Value::Null => return Ok(Added::Yes),
        Value::Object(o) => o,
        _ => return Err("`data` is not an object"),
    };
    let count = |key: &str| -> Result<Option<u64>, &'static str> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()))
                .map(Some)
                .ok_or("a count in `data` is not a whole number"),
        }
    };
    let failure = count("failure")?;
    let success = count("success")?;
    let items: &[Value] = match obj.get("errorDeviceList") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err("`errorDeviceList` is not a list"),
    };
    let key = |m: &str| -> String {
        m.chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let ours = key(mac);
    let mut reason = None;
    let mut listed = false;
    for item in items {
        let Some(item) = item.as_object() else {
            return Err("an `errorDeviceList` item is not an object");
        };
        // One device was sent: an item naming another MAC is not an answer to this call.
        if let Some(m) = item.get("mac").and_then(Value::as_str) {
            if key(m) != ours {
                return Err("`errorDeviceList` names a device that was not sent");
            }
        }
        listed = true;
        reason = reason.or_else(|| {
            item.get("errorMsg")
                .and_then(json_text)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        });
    }
    if listed || failure.is_some_and(|n| n > 0) {
        return Ok(Added::Refused(reason));
    }
    if success == Some(0) {
        return Err("`success` is 0, yet no failure is reported");
    }
    Ok(Added::Yes)
}

/// A per-device refusal's reason, from GDMS's `errorMsg`: what a known code means (seen, not
/// documented), else the vendor's words as they are.
fn refusal_text(reason: Option<&str>) -> String {
    match reason {
        // The one code seen (module docs): the serial number was another handset's.
        Some("30010") => "GDMS refused the device; it gave this code for a serial number \
                          that is not the phone's: check the serial on the phone's label"
            .into(),
        // The code itself goes in the error's `code`.
        Some(r) if r.bytes().all(|b| b.is_ascii_digit()) => {
            "GDMS refused the device with a code it does not document: check the phone's \
             serial number, and whether another GDMS account holds the device"
                .into()
        }
        Some(r) => format!("GDMS refused the device: {r}"),
        None => "GDMS refused the device without saying why".into(),
    }
}

/// `device/add`'s per-device result as a [`Fail`]: refused devices are classified by their
/// words (an owned or invalid MAC, a rate limit), and what fits no kind is
/// [`RpsError::Refused`]: GDMS has decided about this device, so it is not retried.
fn per_device(reply: &HttpReply, data: &Value, mac: &str, secrets: &[String]) -> Result<(), Fail> {
    let reason = match read_added(data, mac) {
        Ok(Added::Yes) => return Ok(()),
        Ok(Added::Refused(r)) => r,
        Err(why) => {
            return Err(Fail {
                message: String::new(),
                err: unexpected(V, reply, &format!("device/add: {why}"), secrets),
            })
        }
    };
    let code = reason
        .as_deref()
        .filter(|r| r.bytes().all(|b| b.is_ascii_digit()));
    let words = reason.as_deref().filter(|_| code.is_none());
    let message = refusal_text(reason.as_deref());
    let err = match words {
        // Words: the kind they name, if any (an owned or invalid MAC, a rate limit).
        Some(_) => {
            match crate::rps::classify(V, Some(reply.status), None, Some(&message), reply, secrets)
            {
                RpsError::UnexpectedReply(d) => RpsError::Refused(d),
                e => e,
            }
        }
        // A code (or nothing): GDMS documents no codes, so no kind is guessed from one.
        None => {
            let mut d = Detail::new(V);
            d.status = Some(reply.status);
            d.code = code.map(|c| sanitize(c, secrets));
            d.message = Some(sanitize(&message, secrets));
            RpsError::Refused(d)
        }
    };
    Err(Fail {
        message: words.unwrap_or_default().to_owned(),
        err,
    })
}

fn is_exists(f: &Fail) -> bool {
    let m = lower(&f.message);
    (m.contains("exist") && !m.contains("not exist")) || m.contains("already")
}

fn is_absent(f: &Fail) -> bool {
    let m = lower(&f.message);
    m.contains("not exist") || m.contains("not found") || m.contains("no device")
}

/// Reads the token reply: `access_token` (and `expires_in`, seconds) at the top or under
/// `data`; OAuth errors (`error`, `error_description`) are bad credentials.
fn read_token(reply: &HttpReply, secrets: &[String]) -> Result<(String, u64), RpsError> {
    let v = json(&reply.body);
    let ttl = v
        .as_ref()
        .and_then(|v| {
            v.get("expires_in")
                .or_else(|| v.get("data").and_then(|d| d.get("expires_in")))
        })
        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
        .unwrap_or(TOKEN_DEFAULT_SECS);
    let token = v.as_ref().and_then(|v| {
        v.get("access_token")
            .or_else(|| v.get("data").and_then(|d| d.get("access_token")))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    });
    let mut secrets = secrets.to_vec();
    if let Some(r) = v
        .as_ref()
        .and_then(|v| v.get("refresh_token"))
        .and_then(Value::as_str)
    {
        secrets.push(r.to_owned());
    }
    match token {
        Some(t) if (200..300).contains(&reply.status) => return Ok((t, ttl)),
        // A token in a failed reply is still never shown.
        Some(t) => secrets.push(t),
        None => {}
    }
    let secrets = &secrets[..];
    if let Some(err) = v.as_ref().and_then(|v| v.get("error")).and_then(json_text) {
        let desc = v
            .as_ref()
            .and_then(|v| v.get("error_description"))
            .and_then(json_text);
        let mut d = Detail::new(V);
        d.status = Some(reply.status);
        d.code = Some(sanitize(&err, secrets));
        d.message = desc.map(|m| sanitize(&m, secrets));
        return Err(match reply.status {
            429 => RpsError::RateLimited {
                detail: d,
                retry_after: reply.retry_after(),
            },
            500..=599 => RpsError::ServerError(d),
            _ => RpsError::BadCredentials(d),
        });
    }
    match check(reply, secrets) {
        Err(f) => Err(f.err),
        Ok(_) => Err(unexpected(V, reply, "no access_token", secrets)),
    }
}

impl Machine for Flow {
    fn start(&mut self, cx: &Cx<'_>) -> Next {
        if self.token.is_some() && cx.now_ms.saturating_add(TOKEN_MARGIN_MS) < self.token_expires_ms
        {
            return self.proceed(cx);
        }
        self.fetch_token()
    }

    fn session(&self) -> Option<Session> {
        Some(Session {
            token: self.token.clone()?,
            org: self.org.clone(),
            expires_at_ms: self.token_expires_ms,
        })
    }

    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        // RPS.md: 401/403 for a bad token. A reused one may have been revoked or expired
        // early (said by the status or in the body): fetched once more, then the goal's
        // calls start again.
        if self.reused && !matches!(self.state, State::Token) {
            let refused = matches!(reply.status, 401 | 403)
                || matches!(
                    check(reply, &self.secrets()),
                    Err(Fail {
                        err: RpsError::BadCredentials(_),
                        ..
                    })
                );
            if refused {
                return self.fetch_token();
            }
        }
        let next = self.step(reply, cx);
        if let Next::Done(Err(RpsError::BadCredentials(_))) = &next {
            // A refused token is handed to no later op.
            self.token = None;
        }
        next
    }
}

impl Flow {
    fn step(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        let secrets = self.secrets();
        match std::mem::replace(&mut self.state, State::Token) {
            State::Token => match read_token(reply, &secrets) {
                Ok((t, ttl)) => {
                    self.token = Some(Secret::new(t));
                    self.token_expires_ms = cx.now_ms.saturating_add(ttl.saturating_mul(1000));
                    self.proceed(cx)
                }
                Err(e) => Next::Done(Err(e)),
            },
            State::Orgs => {
                let data = match check(reply, &secrets) {
                    Ok(d) => d,
                    Err(f) => return Next::Done(Err(f.err)),
                };
                let orgs: Vec<String> = json_items(&data, LIST_KEYS)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|o| o.get("id").and_then(json_text))
                            .take(crate::rps::MAX_STEPS as usize)
                            .collect()
                    })
                    .unwrap_or_default();
                let Some(first) = orgs.first().cloned() else {
                    return Next::Done(Err(unexpected(V, reply, "no organisation", &secrets)));
                };
                self.state = State::Sites { orgs, next: 1 };
                Next::Send(self.call("GET", "v1.0.0/site/list", &[("orgId", first)], None, cx))
            }
            State::Sites { orgs, next } => {
                let data = match check(reply, &secrets) {
                    Ok(d) => d,
                    Err(f) => return Next::Done(Err(f.err)),
                };
                let site = &self.acct.site_id;
                let found = json_items(&data, LIST_KEYS).is_some_and(|items| {
                    items.iter().any(|s| {
                        s.get("id")
                            .or_else(|| s.get("siteId"))
                            .and_then(json_text)
                            .as_deref()
                            == Some(site.as_str())
                    })
                });
                if found {
                    self.org = orgs.get(next - 1).cloned();
                    if matches!(self.goal, Goal::EnsureSite) {
                        return Next::Done(Ok(Outcome::Server(ServerRef {
                            id: Some(site.clone()),
                            created: false,
                        })));
                    }
                    return self.proceed(cx);
                }
                match orgs.get(next).cloned() {
                    Some(org) => {
                        self.state = State::Sites {
                            orgs,
                            next: next + 1,
                        };
                        Next::Send(self.call(
                            "GET",
                            "v1.0.0/site/list",
                            &[("orgId", org)],
                            None,
                            cx,
                        ))
                    }
                    None => {
                        let mut d = Detail::new(V);
                        d.status = Some(reply.status);
                        d.message =
                            Some("the account's site_id is in none of its organisations".into());
                        Next::Done(Err(RpsError::NotFound(d)))
                    }
                }
            }
            State::Adding => match check(reply, &secrets)
                .and_then(|data| per_device(reply, &data, &self.mac_text(), &secrets))
            {
                Ok(()) => Next::Done(Ok(Outcome::Registration(Registration::Created))),
                Err(f) if is_exists(&f) => {
                    let d = f.err.detail().cloned().unwrap_or_else(|| Detail::new(V));
                    self.detail(cx, Some(d))
                }
                Err(f) => Next::Done(Err(f.err)),
            },
            State::Detail { after_exists } => {
                let r = check(reply, &secrets);
                Next::Done(match (after_exists, r) {
                    // Registered before, and visible to this account: nothing to change.
                    // GDMS publishes no call to move a device between sites (RPS.md, the
                    // calls seen): a phone this account already sees stays where it is.
                    (Some(_), Ok(_)) => Ok(Outcome::Registration(Registration::Updated)),
                    (Some(mut d), Err(f))
                        if is_absent(&f) || matches!(f.err, RpsError::NotFound(_)) =>
                    {
                        d.message =
                            Some("the device exists in GDMS, but not in this account".into());
                        Err(RpsError::OwnedByAnotherAccount(d))
                    }
                    (Some(_), Err(f)) => Err(f.err),
                    (None, Ok(_)) => Ok(Outcome::Status(PhoneStatus {
                        registered: true,
                        url_matches: None,
                    })),
                    (None, Err(f)) if is_absent(&f) || matches!(f.err, RpsError::NotFound(_)) => {
                        Ok(Outcome::Status(PhoneStatus {
                            registered: false,
                            url_matches: None,
                        }))
                    }
                    (None, Err(f)) => Err(f.err),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mac::Mac;
    use crate::rps::test_steps::{done, send};
    use crate::rps::PasswordForm;
    use crate::rps::{Op, RpsAccount, SerialNumber};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const NOW: u64 = 1_700_000_000_123;

    fn acct(org: Option<&str>) -> GdmsAccount {
        GdmsAccount {
            username: "gs-admin".into(),
            password_hash: Secret::new(
                "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8".into(),
            ),
            password_form: PasswordForm::Hashed,
            client_id: "1001".into(),
            client_secret: Secret::new("cs-secret-xyz".into()),
            site_id: "678".into(),
            org_id: org.map(str::to_owned),
            base_url: "https://www.gdms.cloud/oapi".into(),
            mac_colons: false,
            session: None,
        }
    }

    fn phone() -> RpsPhone {
        let mut p = RpsPhone::new(
            Mac::parse("000b82aabbcc").unwrap(),
            "https://edge.example.net/s/acme/",
        );
        p.serial = Some(SerialNumber::parse("20EZ12345678").unwrap());
        p
    }

    fn ok(data: &str) -> HttpReply {
        HttpReply::new(
            200,
            format!(r#"{{"retCode":0,"msg":"success","data":{data}}}"#),
        )
    }

    fn fail(code: u32, msg: &str) -> HttpReply {
        HttpReply::new(200, format!(r#"{{"retCode":{code},"msg":"{msg}"}}"#))
    }

    fn token() -> HttpReply {
        HttpReply::new(
            200,
            r#"{"access_token":"at-0001-secret","token_type":"bearer","refresh_token":"rt","expires_in":3599}"#,
        )
    }

    #[test]
    fn string_to_sign_is_pinned() {
        let body = br#"[{"mac":"000B82AABBCC","orgId":11,"siteId":678,"sn":"20EZ12345678"}]"#;
        let s = string_to_sign(
            &[
                ("timestamp", "1700000000123"),
                ("access_token", "at-0001-secret"),
                ("client_secret", "cs-secret-xyz"),
                ("client_id", "1001"),
            ],
            Some(body),
        );
        // printf '%s' '[{"mac":"000B82AABBCC","orgId":11,"siteId":678,"sn":"20EZ12345678"}]' | sha256sum
        assert_eq!(
            s,
            "&access_token=at-0001-secret&client_id=1001&client_secret=cs-secret-xyz&timestamp=1700000000123&d2aa98fa7d5f71610b608891642ea57736c1f3cbb1fe85efdd0e27db731d11cd&"
        );
        let s = string_to_sign(&[("orgId", "11"), ("access_token", "t")], None);
        assert_eq!(s, "&access_token=t&orgId=11&");
    }

    #[test]
    fn token_then_signed_add() {
        let mut op: Op<Registration> =
            Op::new(V, Flow::register(&acct(Some("11")), &phone()).unwrap());
        let t = send(op.start(NOW, "n1"));
        assert_eq!(t.url, "https://www.gdms.cloud/oapi/oauth/token");
        assert_eq!(
            String::from_utf8(t.body.clone()).unwrap(),
            "grant_type=password&username=gs-admin&password=5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8&client_id=1001&client_secret=cs-secret-xyz"
        );
        let red = format!("{t:?}");
        assert!(
            !red.contains("cs-secret-xyz") && !red.contains("5e884898"),
            "{red}"
        );

        let add = send(op.on_reply(token(), NOW, "n2"));
        assert_eq!(
            String::from_utf8(add.body.clone()).unwrap(),
            r#"[{"mac":"000B82AABBCC","orgId":11,"siteId":678,"sn":"20EZ12345678"}]"#
        );
        // The string to sign is the one pinned above; its SHA-256:
        // printf '%s' '&access_token=at-0001-secret&client_id=1001&client_secret=cs-secret-xyz&timestamp=1700000000123&d2aa98fa7d5f71610b608891642ea57736c1f3cbb1fe85efdd0e27db731d11cd&' | sha256sum
        assert_eq!(
            add.url,
            "https://www.gdms.cloud/oapi/v1.0.0/device/add?access_token=at-0001-secret&timestamp=1700000000123&signature=c7ce9dfa487c2f7deed0c93be58d0d19c3720992e54ef389298ea8310a5bdd93"
        );
        assert!(!add.url.contains("client_secret") && !add.url.contains("client_id"));
        assert!(!format!("{add:?}").contains("at-0001-secret"));
        assert_eq!(
            done(op.on_reply(ok("null"), NOW, "n3")),
            Ok(Registration::Created)
        );
    }

    #[test]
    fn a_session_saves_the_token_and_org_until_it_expires_or_is_refused() {
        // The first op looks up the token and the organisation...
        let mut first: Op<Registration> =
            Op::new(V, Flow::register(&acct(None), &phone()).unwrap());
        assert!(first.session().is_none(), "nothing before a token");
        let _ = send(first.start(NOW, "n1"));
        let orgs = send(first.on_reply(token(), NOW, "n2"));
        assert!(orgs.url.contains("/org/list"));
        let sites = send(first.on_reply(ok(r#"[{"id":11}]"#), NOW, "n3"));
        let _add = send(first.on_reply(ok(r#"[{"id":678}]"#), NOW, "n4"));
        assert_eq!(
            done(first.on_reply(ok("null"), NOW, "n5")),
            Ok(Registration::Created)
        );
        assert!(sites.url.contains("orgId=11"));
        let session = first.session().expect("a session");
        assert!(!format!("{session:?}").contains("at-0001-secret"));
        let mut account = RpsAccount::Grandstream(acct(None));
        account.resume(session.clone());
        assert!(!format!("{account:?}").contains("at-0001-secret"));

        // ... the next goes straight to its call, with that token and organisation.
        let mut next = account.register(&phone());
        let add = send(next.start(NOW + 1_000, "n1"));
        assert!(
            add.url.contains("/device/add?access_token=at-0001-secret&"),
            "{}",
            add.url
        );
        assert!(String::from_utf8(add.body.clone())
            .unwrap()
            .contains(r#""orgId":11"#));
        assert_eq!(
            done(next.on_reply(ok("null"), NOW + 1_000, "n2")),
            Ok(Registration::Created)
        );

        // Refused mid-op (revoked, expired early): one new token, then the call again.
        let mut op = account.register(&phone());
        let _ = send(op.start(NOW + 2_000, "n1"));
        let t = send(op.on_reply(
            HttpReply::new(401, r#"{"retCode":40001,"msg":"invalid token"}"#),
            NOW + 2_000,
            "n2",
        ));
        assert!(t.url.ends_with("/oauth/token"));
        let add = send(op.on_reply(token(), NOW + 2_000, "n3"));
        assert!(add.url.contains("/device/add?"));
        // A fresh token refused too: bad credentials, no loop, and no session handed on.
        let r = done(op.on_reply(
            HttpReply::new(401, r#"{"retCode":40001,"msg":"invalid token"}"#),
            NOW + 2_000,
            "n4",
        ));
        assert!(matches!(r, Err(RpsError::BadCredentials(_))), "{r:?}");
        assert!(op.session().is_none());

        // Refused in the body (HTTP 200, an error envelope that reads as bad credentials):
        // the same one retry.
        let mut op = account.register(&phone());
        let _ = send(op.start(NOW + 2_000, "n1"));
        let t = send(op.on_reply(
            HttpReply::new(200, r#"{"retCode":40001,"msg":"invalid access token"}"#),
            NOW + 2_000,
            "n2",
        ));
        assert!(t.url.ends_with("/oauth/token"), "{}", t.url);

        // In its last minute (3,599 s from the token reply) a session is not used.
        let mut late = account.register(&phone());
        let t = send(late.start(NOW + 3_540_000, "n1"));
        assert!(t.url.ends_with("/oauth/token"), "{}", t.url);
        let mut early = account.register(&phone());
        assert!(send(early.start(NOW + 3_530_000, "n1"))
            .url
            .contains("/device/add?"));
    }

    #[test]
    fn org_and_site_are_looked_up() {
        let mut op: Op<ServerRef> = Op::new(V, Flow::ensure_site(&acct(None)));
        let _ = send(op.start(NOW, "n1"));
        let orgs = send(op.on_reply(token(), NOW, "n2"));
        assert!(orgs.url.contains("/v1.0.0/org/list?access_token="));
        let s1 = send(op.on_reply(ok(r#"{"result":[{"id":11},{"id":12}]}"#), NOW, "n3"));
        assert!(s1.url.contains("/v1.0.0/site/list?orgId=11&"), "{}", s1.url);
        let s2 = send(op.on_reply(ok(r#"{"result":[{"id":5}]}"#), NOW, "n4"));
        assert!(s2.url.contains("orgId=12&"));
        assert_eq!(
            done(op.on_reply(ok(r#"[{"id":678,"siteName":"HQ"}]"#), NOW, "n5")),
            Ok(ServerRef {
                id: Some("678".into()),
                created: false
            })
        );
        // A site in none of the organisations.
        let mut op: Op<ServerRef> = Op::new(V, Flow::ensure_site(&acct(Some("11"))));
        let _ = send(op.start(NOW, "n1"));
        let _ = send(op.on_reply(token(), NOW, "n2"));
        assert!(matches!(
            done(op.on_reply(ok("[]"), NOW, "n3")),
            Err(RpsError::NotFound(_))
        ));
    }

    #[test]
    fn existing_device_is_checked_for_ownership() {
        let run = |detail: HttpReply| {
            let mut op: Op<Registration> =
                Op::new(V, Flow::register(&acct(Some("11")), &phone()).unwrap());
            let _ = send(op.start(NOW, "n1"));
            let _ = send(op.on_reply(token(), NOW, "n2"));
            let d = send(op.on_reply(fail(40005, "Device already exists"), NOW, "n3"));
            assert!(
                d.url
                    .contains("/v1.0.0/device/detail?mac=000B82AABBCC&isFirst=0&"),
                "{}",
                d.url
            );
            done(op.on_reply(detail, NOW, "n4"))
        };
        assert_eq!(
            run(ok(r#"{"mac":"000B82AABBCC"}"#)),
            Ok(Registration::Updated)
        );
        assert!(matches!(
            run(fail(40004, "Device does not exist")),
            Err(RpsError::OwnedByAnotherAccount(_))
        ));
    }

    /// Runs a registration up to `device/add` and answers it with `reply`; `then` answers
    /// a following `device/detail`, if one is sent.
    fn add_answered(
        acct: &GdmsAccount,
        reply: HttpReply,
        then: Option<HttpReply>,
    ) -> Result<Registration, RpsError> {
        use crate::rps::Step;
        let mut op: Op<Registration> = Op::new(V, Flow::register(acct, &phone()).unwrap());
        let _ = send(op.start(NOW, "n1"));
        let add = send(op.on_reply(token(), NOW, "n2"));
        assert!(add.url.contains("/v1.0.0/device/add?"), "{}", add.url);
        match (op.on_reply(reply, NOW, "n3"), then) {
            (Step::Send(d), Some(then)) => {
                assert!(d.url.contains("/v1.0.0/device/detail?"), "{}", d.url);
                done(op.on_reply(then, NOW, "n4"))
            }
            (Step::Send(d), None) => panic!("unexpected request {}", d.url),
            (Step::Done(r), None) => r,
            (Step::Done(r), Some(_)) => panic!("no detail asked: {r:?}"),
        }
    }

    /// The live reply quoted in the module docs, for this test's phone.
    const LIVE_REFUSAL: &str = r#"{"total":1,"success":0,"failure":1,"errorDeviceList":[{"orgId":null,"deviceName":null,"siteId":678,"mac":"000B82AABBCC","errorMsg":"30010","sn":"20EZ12345678"}]}"#;

    #[test]
    fn a_device_refused_inside_a_successful_batch_reply_is_not_registered() {
        let a = acct(Some("11"));
        let r = add_answered(&a, ok(LIVE_REFUSAL), None);
        let Err(RpsError::Refused(d)) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(d.code.as_deref(), Some("30010"));
        assert_eq!(d.status, Some(200));
        assert!(d.message.as_deref().unwrap().contains("serial"), "{d:?}");
        let e = r.unwrap_err();
        assert_eq!(e.kind(), "refused");
        assert!(!e.is_transient(), "GDMS has decided: not retried");
        assert!(e.to_string().contains("code 30010"), "{e}");

        // A code this client has not seen: still refused, the code kept.
        let other = LIVE_REFUSAL.replace("30010", "30077");
        let Err(RpsError::Refused(d)) = add_answered(&a, ok(&other), None) else {
            panic!()
        };
        assert_eq!(d.code.as_deref(), Some("30077"));
        // A failure counted but not listed: refused, without a reason to show.
        let r = add_answered(&a, ok(r#"{"total":1,"success":0,"failure":1}"#), None);
        assert!(
            matches!(&r, Err(RpsError::Refused(d)) if d.message.as_deref().unwrap().contains("without saying why")),
            "{r:?}"
        );
        // Listed, its counts missing or as strings, its MAC with colons (a `mac_colons`
        // account) or in lower case: the same.
        for data in [
            r#"{"errorDeviceList":[{"mac":"00:0B:82:AA:BB:CC","errorMsg":"30010"}]}"#,
            r#"{"failure":"1","errorDeviceList":[{"mac":"000b82aabbcc","errorMsg":30010}]}"#,
        ] {
            let mut colons = acct(Some("11"));
            colons.mac_colons = true;
            for a in [&a, &colons] {
                let r = add_answered(a, ok(data), None);
                assert!(
                    matches!(&r, Err(RpsError::Refused(d)) if d.code.as_deref() == Some("30010")),
                    "{data}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn a_per_device_reason_in_words_is_classified() {
        let a = acct(Some("11"));
        let item = |msg: &str| {
            ok(&format!(
                r#"{{"total":1,"success":0,"failure":1,"errorDeviceList":[{{"mac":"000B82AABBCC","errorMsg":"{msg}"}}]}}"#
            ))
        };
        let r = add_answered(&a, item("device has been bound by another user"), None);
        let Err(RpsError::OwnedByAnotherAccount(d)) = &r else {
            panic!("{r:?}")
        };
        assert!(d
            .message
            .as_deref()
            .unwrap()
            .contains("bound by another user"));
        assert!(matches!(
            add_answered(&a, item("mac format error"), None),
            Err(RpsError::InvalidMac(_))
        ));
        // Words no kind fits: refused with them, not retried.
        let r = add_answered(&a, item("sn and mac do not match"), None);
        let Err(RpsError::Refused(d)) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(d.code, None);
        assert!(d
            .message
            .as_deref()
            .unwrap()
            .contains("sn and mac do not match"));
        // Already added: looked up like the `retCode` refusal; visible here, it stays.
        assert_eq!(
            add_answered(
                &a,
                item("Device already exists"),
                Some(ok(r#"{"mac":"000B82AABBCC"}"#))
            ),
            Ok(Registration::Updated)
        );
        assert!(matches!(
            add_answered(
                &a,
                item("Device already exists"),
                Some(fail(40004, "Device does not exist"))
            ),
            Err(RpsError::OwnedByAnotherAccount(_))
        ));
    }

    #[test]
    fn documented_success_shapes_register() {
        for data in [
            "null",
            "{}",
            r#"{"total":1,"success":1,"failure":0,"errorDeviceList":[]}"#,
            r#"{"total":"1","success":"1","failure":"0","errorDeviceList":null}"#,
        ] {
            assert_eq!(
                add_answered(&acct(Some("11")), ok(data), None),
                Ok(Registration::Created),
                "{data}"
            );
        }
    }

    #[test]
    fn unreadable_add_data_is_an_unexpected_reply_never_a_registration() {
        for (data, why) in [
            (r#""success""#, "`data` is not an object"),
            ("[]", "`data` is not an object"),
            ("1", "`data` is not an object"),
            (
                r#"{"errorDeviceList":"30010"}"#,
                "`errorDeviceList` is not a list",
            ),
            (
                r#"{"errorDeviceList":{"mac":"x"}}"#,
                "`errorDeviceList` is not a list",
            ),
            (r#"{"errorDeviceList":[5]}"#, "item is not an object"),
            (r#"{"failure":"many"}"#, "not a whole number"),
            (r#"{"failure":-1}"#, "not a whole number"),
            (r#"{"failure":1.5}"#, "not a whole number"),
            (r#"{"success":true}"#, "not a whole number"),
            (r#"{"total":1,"success":0,"failure":0}"#, "`success` is 0"),
            (
                r#"{"failure":1,"errorDeviceList":[{"mac":"C074AD8C654E","errorMsg":"30010"}]}"#,
                "names a device that was not sent",
            ),
        ] {
            let r = add_answered(&acct(Some("11")), ok(data), None);
            let Err(RpsError::UnexpectedReply(d)) = &r else {
                panic!("{data}: {r:?}")
            };
            let m = d.message.as_deref().unwrap();
            assert!(
                m.starts_with("device/add: ") && m.contains(why),
                "{data}: {m}"
            );
        }
        // Nothing this client can be given panics, however odd.
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        for data in [
            r#"{"errorDeviceList":[{"mac":null,"errorMsg":{"a":1}}]}"#.to_owned(),
            r#"{"errorDeviceList":[{"mac":5,"errorMsg":[]}],"failure":18446744073709551615}"#
                .to_owned(),
            r#"{"failure":"","success":"","total":{}}"#.to_owned(),
            format!(
                r#"{{"errorDeviceList":[{{"errorMsg":"{}"}}]}}"#,
                "9".repeat(5000)
            ),
            format!(r#"{{"errorDeviceList":{deep}}}"#),
        ] {
            let v: Value = serde_json::from_str(&data).unwrap();
            let _ = read_added(&v, "000B82AABBCC");
            let _ = add_answered(&acct(Some("11")), ok(&data), None);
        }
    }

    #[test]
    fn a_per_device_reason_is_scrubbed() {
        // A reason echoing the client secret, the token or a URL token is kept without them.
        let data = r#"{"failure":1,"errorDeviceList":[{"errorMsg":"no: cs-secret-xyz at-0001-secret 0123456789abcdef0123456789abcdef"}]}"#;
        let r = add_answered(&acct(Some("11")), ok(data), None);
        let Err(e @ RpsError::Refused(_)) = &r else {
            panic!("{r:?}")
        };
        let shown = format!("{e} {e:?}");
        for secret in [
            "cs-secret-xyz",
            "at-0001-secret",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("***"), "{shown}");
        // A long reason is clipped.
        let long = format!(
            r#"{{"failure":1,"errorDeviceList":[{{"errorMsg":"{}"}}]}}"#,
            "x ".repeat(1000)
        );
        let Err(e) = add_answered(&acct(Some("11")), ok(&long), None) else {
            panic!()
        };
        assert!(
            e.detail()
                .unwrap()
                .message
                .as_ref()
                .unwrap()
                .chars()
                .count()
                <= 201
        );
    }

    #[test]
    fn serial_is_required_and_remove_is_unsupported() {
        let mut p = phone();
        p.serial = None;
        assert!(matches!(
            Flow::register(&acct(None), &p),
            Err(RpsError::InvalidInput(_))
        ));
        assert!(matches!(remove_unsupported(), RpsError::Unsupported(_)));
    }

    #[test]
    fn token_errors_and_reply_errors() {
        let mut op: Op<PhoneStatus> = Op::new(V, Flow::status(&acct(Some("11")), &phone()));
        let _ = send(op.start(NOW, "n1"));
        let r = done(op.on_reply(
            HttpReply::new(
                400,
                r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
            ),
            NOW,
            "n2",
        ));
        assert!(matches!(r, Err(RpsError::BadCredentials(_))), "{r:?}");

        let k = |r: HttpReply| check(&r, &[]).map_err(|f| f.err);
        assert!(matches!(
            k(HttpReply::new(401, "")),
            Err(RpsError::BadCredentials(_))
        ));
        assert!(matches!(
            k(HttpReply::new(500, "")),
            Err(RpsError::ServerError(_))
        ));
        assert!(matches!(
            k(fail(1, "invalid MAC format")),
            Err(RpsError::InvalidMac(_))
        ));
        assert!(matches!(
            k(fail(2, "Request too frequent")),
            Err(RpsError::RateLimited { .. })
        ));
        assert!(matches!(
            k(fail(3, "Token expired")),
            Err(RpsError::BadCredentials(_))
        ));
        assert!(matches!(
            k(HttpReply::new(200, "{}")),
            Err(RpsError::UnexpectedReply(_))
        ));
        assert_eq!(k(ok("[1]")).ok(), Some(json!([1])));
    }

    #[test]
    fn status_of_absent_and_present_device() {
        for (reply, registered) in [
            (ok("{}"), true),
            (fail(40004, "Device does not exist"), false),
        ] {
            let mut op: Op<PhoneStatus> = Op::new(V, Flow::status(&acct(Some("11")), &phone()));
            let _ = send(op.start(NOW, "n1"));
            let _ = send(op.on_reply(token(), NOW, "n2"));
            assert_eq!(
                done(op.on_reply(reply, NOW, "n3")),
                Ok(PhoneStatus {
                    registered,
                    url_matches: None
                })
            );
        }
    }
}
