//! Yealink RPS: the signed JSON open API (`X-Ca-*` headers, HMAC-SHA256), plus the phone
//! serial number and the "RPS ing" code derived from it. ALE reuses this client on its own
//! host.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

use crate::encoding::{base64, hmac_sha256, md5, percent_encode};
use crate::error::{Error, ErrorKind};
use crate::mac::Mac;
use crate::rps::{
    classify, join, json, json_items, json_text, lower, same_url, status_error, to_json,
    unexpected, Cx, Detail, HttpReply, HttpRequest, Machine, Next, Outcome, PhoneStatus,
    Registration, Removal, RpsError, RpsPhone, ServerRef, ServerSpec, Url,
};
use crate::secret::Secret;

/// Yealink's API base when the account names no `rps_host`.
pub(crate) const DEFAULT_BASE: &str = "https://api-dm.yealink.com:8443";
/// The port kept when `rps_host` names a host without one.
// Uncertain, a documented setting: whether a bare `rps_host` keeps 8443 (the documented
// base's port) is not stated by Yealink; an account that needs another port names it.
pub(crate) const DEFAULT_PORT: u16 = 8443;

const CONTENT_TYPE: &str = "application/json;charset=UTF-8";
const LIST_KEYS: &[&str] = &["data", "list", "items", "rows", "records"];

/// What a signed call needs: who signs, with what, where.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) vendor: &'static str,
    pub(crate) key_id: String,
    pub(crate) secret: Secret<String>,
    pub(crate) base: String,
}

/// The string Yealink signs: method, `Content-MD5` (with a body), the three `X-Ca-*`
/// headers, the path without its leading `/`, and the query (sorted; a key with an empty
/// value is written alone), joined by `\n` with nothing after the last line.
pub(crate) fn string_to_sign(
    method: &str,
    content_md5: Option<&str>,
    key_id: &str,
    nonce: &str,
    timestamp_ms: &str,
    path: &str,
    query: &[(&str, String)],
) -> String {
    let mut lines = vec![method.to_owned()];
    if let Some(m) = content_md5 {
        lines.push(format!("Content-MD5:{m}"));
    }
    lines.push(format!("X-Ca-Key:{key_id}"));
    lines.push(format!("X-Ca-Nonce:{nonce}"));
    lines.push(format!("X-Ca-Timestamp:{timestamp_ms}"));
    lines.push(path.trim_start_matches('/').to_owned());
    if !query.is_empty() {
        // Sorted by key (uncertain, documented: every documented call has one parameter, so
        // the order of several is not shown by Yealink).
        let mut q: Vec<&(&str, String)> = query.iter().collect();
        q.sort_by(|a, b| a.0.cmp(b.0));
        let joined: Vec<String> = q
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    (*k).to_owned()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        lines.push(joined.join("&"));
    }
    lines.join("\n")
}

impl Api {
    fn secrets(&self) -> Vec<String> {
        vec![self.secret.expose().clone()]
    }

    /// A signed call of `path` (under the base) with `query` and an optional JSON body.
    /// `extra` are secrets of the call (the phone's URL and password) to hide in logs.
    pub(crate) fn call(
        &self,
        method: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        cx: &Cx<'_>,
        extra: &[String],
    ) -> Result<HttpRequest, RpsError> {
        let mut url = join(&self.base, path);
        let parsed = Url::parse(&url).ok_or_else(|| {
            RpsError::InvalidInput(format!(
                "{}: the API base is not an http(s) URL",
                self.vendor
            ))
        })?;
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", percent_encode(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        let body = body.map(to_json);
        let md5 = body.as_ref().map(|b| base64(&md5(b)));
        let ts = cx.now_ms.to_string();
        let sts = string_to_sign(
            method,
            md5.as_deref(),
            &self.key_id,
            cx.nonce,
            &ts,
            parsed.path(),
            query,
        );
        let sig = base64(&hmac_sha256(
            self.secret.expose().as_bytes(),
            sts.as_bytes(),
        ));
        let mut req = HttpRequest::new(method, url)
            .header("X-Ca-Key", self.key_id.clone())
            .header("X-Ca-Timestamp", ts)
            .header("X-Ca-Nonce", cx.nonce);
        if let Some(m) = md5 {
            req = req.header("Content-MD5", m);
        }
        req = req
            .header("Content-Type", CONTENT_TYPE)
            .header("X-Ca-Signature", sig);
        if let Some(b) = body {
            req = req.body(b);
        }
        let mut secrets = self.secrets();
        secrets.extend_from_slice(extra);
        Ok(req.secrets(&secrets))
    }

    fn post(&self, path: &str, body: &Value, cx: &Cx<'_>, extra: &[String]) -> Next {
        match self.call("POST", path, &[], Some(body), cx, extra) {
            Ok(r) => Next::Send(r),
            Err(e) => Next::Done(Err(e)),
        }
    }
}

/// A failed Yealink reply: the vendor's error code (for the flows to act on) and the
/// classified error.
pub(crate) struct Fail {
    pub(crate) code: Option<String>,
    pub(crate) err: RpsError,
}

/// Reads a reply: `Ok(data)` for `ret >= 0` without an error, else the failure.
pub(crate) fn check(
    vendor: &'static str,
    reply: &HttpReply,
    secrets: &[String],
) -> Result<Value, Fail> {
    let parsed = json(&reply.body);
    let error = parsed.as_ref().and_then(|v| {
        ["error", "errors"]
            .iter()
            .filter_map(|k| v.get(*k))
            .find(|e| !e.is_null())
            .cloned()
    });
    let ret = parsed
        .as_ref()
        .and_then(|v| v.get("ret"))
        .and_then(Value::as_i64);
    if let Some(err) = error
        .as_ref()
        .filter(|_| (200..300).contains(&reply.status) || ret.is_some())
    {
        let code = err
            .get("msg")
            .and_then(json_text)
            .or_else(|| err.get("code").and_then(json_text))
            .or_else(|| json_text(err));
        let message = err
            .get("fieldErrors")
            .filter(|f| !f.is_null())
            .map(|f| f.to_string());
        let e = classify(
            vendor,
            Some(reply.status),
            code.as_deref(),
            message.as_deref(),
            reply,
            secrets,
        );
        return Err(Fail { code, err: e });
    }
    if let Some(e) = status_error(vendor, reply, secrets) {
        return Err(Fail { code: None, err: e });
    }
    let Some(v) = parsed else {
        return Err(Fail {
            code: None,
            err: unexpected(vendor, reply, "not JSON", secrets),
        });
    };
    match ret {
        Some(r) if r >= 0 => Ok(v.get("data").cloned().unwrap_or(Value::Null)),
        Some(r) => {
            let code = Some(r.to_string());
            let e = classify(
                vendor,
                Some(reply.status),
                code.as_deref(),
                None,
                reply,
                secrets,
            );
            Err(Fail { code, err: e })
        }
        None => Err(Fail {
            code: None,
            err: unexpected(vendor, reply, "no `ret` field", secrets),
        }),
    }
}

fn same_mac(item: &Value, mac: Mac) -> bool {
    item.get("mac")
        .and_then(Value::as_str)
        .and_then(|m| Mac::parse(m).ok())
        == Some(mac)
}

fn item_id(item: &Value) -> Option<String> {
    item.get("id").and_then(json_text)
}

fn list_body(key: &str) -> Value {
    json!({"skip": 0, "limit": 10, "autoCount": true, "key": key})
}

// ---- ensure server ----

pub(crate) fn ensure_server(api: Api, spec: &ServerSpec) -> EnsureServer {
    EnsureServer {
        api,
        name: spec.name.clone(),
        url: spec.url.clone(),
        state: EsState::Listing(false),
    }
}

pub(crate) struct EnsureServer {
    api: Api,
    name: String,
    url: Secret<String>,
    state: EsState,
}

enum EsState {
    /// Looking the name up; `true` the second time, after an add said "exists".
    Listing(bool),
    Editing(String),
    Adding,
}

impl EnsureServer {
    fn secrets(&self) -> Vec<String> {
        let mut s = self.api.secrets();
        s.extend(crate::rps::url_secrets(self.url.expose()));
        s
    }

    fn server_body(&self, id: Option<&str>) -> Value {
        let mut v = json!({"serverName": self.name, "url": self.url.expose()});
        if let (Some(id), Some(o)) = (id, v.as_object_mut()) {
            o.insert("id".into(), Value::String(id.to_owned()));
        }
        v
    }
}

impl EnsureServer {
    fn list(&mut self, again: bool, cx: &Cx<'_>) -> Next {
        self.state = EsState::Listing(again);
        self.api.post(
            "/api/open/v1/server/list",
            &list_body(&self.name),
            cx,
            &self.secrets(),
        )
    }
}

impl Machine for EnsureServer {
    fn start(&mut self, cx: &Cx<'_>) -> Next {
        self.list(false, cx)
    }

    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        let secrets = self.secrets();
        let v = self.api.vendor;
        let data = check(v, reply, &secrets);
        match &self.state {
            EsState::Listing(again) => {
                let again = *again;
                let data = match data {
                    Ok(d) => d,
                    Err(f) => return Next::Done(Err(f.err)),
                };
                let Some(items) = json_items(&data, LIST_KEYS) else {
                    return Next::Done(Err(unexpected(v, reply, "no list of servers", &secrets)));
                };
                let found = items.iter().find(|i| {
                    i.get("serverName")
                        .or_else(|| i.get("name"))
                        .and_then(Value::as_str)
                        == Some(self.name.as_str())
                });
                match found {
                    Some(item) => {
                        let Some(id) = item_id(item) else {
                            return Next::Done(Err(unexpected(
                                v,
                                reply,
                                "server without id",
                                &secrets,
                            )));
                        };
                        let url = item.get("url").and_then(Value::as_str);
                        if url.is_some_and(|u| same_url(u, &self.url)) {
                            return Next::Done(Ok(Outcome::Server(ServerRef {
                                id: Some(id),
                                created: false,
                            })));
                        }
                        let body = self.server_body(Some(&id));
                        self.state = EsState::Editing(id);
                        self.api
                            .post("/api/open/v1/server/edit", &body, cx, &secrets)
                    }
                    // Still not ours after an add said "exists": the name is another
                    // customer's (names are unique across all customers).
                    None if again => {
                        let mut d = Detail::new(v);
                        d.message = Some(format!(
                            "the server name {} is taken by another account",
                            self.name
                        ));
                        Next::Done(Err(RpsError::OwnedByAnotherAccount(d)))
                    }
                    None => {
                        self.state = EsState::Adding;
                        let body = self.server_body(None);
                        self.api
                            .post("/api/open/v1/server/add", &body, cx, &secrets)
                    }
                }
            }
            EsState::Editing(id) => Next::Done(match data {
                Ok(_) => Ok(Outcome::Server(ServerRef {
                    id: Some(id.clone()),
                    created: false,
                })),
                Err(f) => Err(f.err),
            }),
            EsState::Adding => Next::Done(match data {
                Ok(d) => {
                    let id = d.get("id").and_then(json_text).or_else(|| json_text(&d));
                    Ok(Outcome::Server(ServerRef { id, created: true }))
                }
                // Our list did not have the name a moment ago: either another run of ours
                // added it since (concurrent workers), or it is another customer's. Look
                // again to tell.
                Err(Fail { code: Some(c), .. }) if is_exists(&c) => return self.list(true, cx),
                Err(f) => Err(f.err),
            }),
        }
    }
}

fn is_exists(code: &str) -> bool {
    let c = lower(code);
    c.contains("exist") || c.contains("repeat") || c.contains("duplicate")
}

fn detail_of(e: RpsError, vendor: &'static str) -> Detail {
    e.detail().cloned().unwrap_or_else(|| Detail::new(vendor))
}

// ---- register ----

pub(crate) fn register(api: Api, phone: &RpsPhone) -> Register {
    Register {
        api,
        phone: phone.clone(),
        state: RegState::Adding,
    }
}

pub(crate) struct Register {
    api: Api,
    phone: RpsPhone,
    state: RegState,
}

enum RegState {
    /// A phone registered before: looked up first (list, edit: two calls).
    Looking,
    Adding,
    /// After an add said the MAC exists: one of ours, or another account's.
    Listing(Detail),
    Editing,
}

impl Register {
    fn secrets(&self) -> Vec<String> {
        let mut s = self.api.secrets();
        s.extend(self.phone.secrets());
        s
    }

    fn device_fields(&self, v: &mut serde_json::Map<String, Value>) {
        let p = &self.phone;
        v.insert(
            "uniqueServerUrl".into(),
            Value::String(p.url.expose().clone()),
        );
        if let Some(id) = &p.server_id {
            v.insert("serverId".into(), Value::String(id.clone()));
        }
        if let Some(r) = &p.remark {
            v.insert("remark".into(), Value::String(r.clone()));
        }
        if let Some(a) = &p.auth_name {
            v.insert("authName".into(), Value::String(a.clone()));
        }
        if let Some(pw) = &p.auth_password {
            v.insert("password".into(), Value::String(pw.expose().clone()));
        }
    }

    fn add(&mut self, cx: &Cx<'_>) -> Next {
        self.state = RegState::Adding;
        let mut m = serde_json::Map::new();
        m.insert("macs".into(), json!([self.phone.mac.to_lower_hex()]));
        self.device_fields(&mut m);
        self.api.post(
            "/api/open/v1/device/add",
            &Value::Object(m),
            cx,
            &self.secrets(),
        )
    }

    fn edit(&mut self, id: String, cx: &Cx<'_>) -> Next {
        let mut m = serde_json::Map::new();
        m.insert("id".into(), Value::String(id));
        m.insert("mac".into(), Value::String(self.phone.mac.to_lower_hex()));
        self.device_fields(&mut m);
        self.state = RegState::Editing;
        self.api.post(
            "/api/open/v1/device/edit",
            &Value::Object(m),
            cx,
            &self.secrets(),
        )
    }
}

impl Machine for Register {
    fn start(&mut self, cx: &Cx<'_>) -> Next {
        if self.phone.known {
            self.state = RegState::Looking;
            let body = list_body(&self.phone.mac.to_lower_hex());
            return self
                .api
                .post("/api/open/v1/device/list", &body, cx, &self.secrets());
        }
        self.add(cx)
    }

    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        let secrets = self.secrets();
        let v = self.api.vendor;
        let data = check(v, reply, &secrets);
        match &self.state {
            RegState::Looking => {
                let data = match data {
                    Ok(d) => d,
                    Err(f) => return Next::Done(Err(f.err)),
                };
                let Some(items) = json_items(&data, LIST_KEYS) else {
                    return Next::Done(Err(unexpected(v, reply, "no list of devices", &secrets)));
                };
                match items.iter().find(|i| same_mac(i, self.phone.mac)) {
                    Some(item) => match item_id(item) {
                        Some(id) => self.edit(id, cx),
                        None => {
                            Next::Done(Err(unexpected(v, reply, "device without id", &secrets)))
                        }
                    },
                    // Gone since (removed at the vendor): added again.
                    None => self.add(cx),
                }
            }
            RegState::Adding => match data {
                Ok(_) => Next::Done(Ok(Outcome::Registration(Registration::Created))),
                Err(Fail { code: Some(c), err }) if c == "device.mac.existed" => {
                    self.state = RegState::Listing(detail_of(err, v));
                    let body = list_body(&self.phone.mac.to_lower_hex());
                    self.api
                        .post("/api/open/v1/device/list", &body, cx, &secrets)
                }
                Err(f) => Next::Done(Err(f.err)),
            },
            RegState::Listing(exists) => {
                let data = match data {
                    Ok(d) => d,
                    Err(f) => return Next::Done(Err(f.err)),
                };
                let Some(items) = json_items(&data, LIST_KEYS) else {
                    return Next::Done(Err(unexpected(v, reply, "no list of devices", &secrets)));
                };
                let Some(item) = items.iter().find(|i| same_mac(i, self.phone.mac)) else {
                    // The vendor says the MAC exists, and it is not in this account's list.
                    let mut d = exists.clone();
                    d.message = Some("the MAC is registered, but not in this account".into());
                    return Next::Done(Err(RpsError::OwnedByAnotherAccount(d)));
                };
                let Some(id) = item_id(item) else {
                    return Next::Done(Err(unexpected(v, reply, "device without id", &secrets)));
                };
                self.edit(id, cx)
            }
            RegState::Editing => Next::Done(match data {
                Ok(_) => Ok(Outcome::Registration(Registration::Updated)),
                Err(f) => Err(f.err),
            }),
        }
    }
}

// ---- remove and status: both look the MAC up first ----

pub(crate) fn remove(api: Api, mac: Mac) -> Lookup {
    Lookup {
        api,
        mac,
        url: None,
        purpose: Purpose::Remove,
        deleting: false,
    }
}

pub(crate) fn status(api: Api, phone: &RpsPhone) -> Lookup {
    Lookup {
        api,
        mac: phone.mac,
        url: Some(phone.url.clone()),
        purpose: Purpose::Status,
        deleting: false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Remove,
    Status,
}

pub(crate) struct Lookup {
    api: Api,
    mac: Mac,
    url: Option<Secret<String>>,
    purpose: Purpose,
    deleting: bool,
}

impl Lookup {
    fn secrets(&self) -> Vec<String> {
        let mut s = self.api.secrets();
        if let Some(u) = &self.url {
            s.extend(crate::rps::url_secrets(u.expose()));
        }
        s
    }
}

impl Machine for Lookup {
    fn start(&mut self, cx: &Cx<'_>) -> Next {
        let body = list_body(&self.mac.to_lower_hex());
        self.api
            .post("/api/open/v1/device/list", &body, cx, &self.secrets())
    }

    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        let secrets = self.secrets();
        let v = self.api.vendor;
        let data = check(v, reply, &secrets);
        if self.deleting {
            return Next::Done(match data {
                Ok(_) => Ok(Outcome::Removal(Removal::Removed)),
                Err(Fail { code: Some(c), .. }) if c == "device.not.found" => {
                    Ok(Outcome::Removal(Removal::AlreadyGone))
                }
                Err(f) => Err(f.err),
            });
        }
        let data = match data {
            Ok(d) => d,
            Err(f) => return Next::Done(Err(f.err)),
        };
        let Some(items) = json_items(&data, LIST_KEYS) else {
            return Next::Done(Err(unexpected(v, reply, "no list of devices", &secrets)));
        };
        let item = items.iter().find(|i| same_mac(i, self.mac));
        match (self.purpose, item) {
            (Purpose::Status, None) => Next::Done(Ok(Outcome::Status(PhoneStatus {
                registered: false,
                url_matches: None,
            }))),
            (Purpose::Status, Some(i)) => {
                let url_matches =
                    match (&self.url, i.get("uniqueServerUrl").and_then(Value::as_str)) {
                        (Some(want), Some(got)) => Some(same_url(got, want)),
                        _ => None,
                    };
                Next::Done(Ok(Outcome::Status(PhoneStatus {
                    registered: true,
                    url_matches,
                })))
            }
            (Purpose::Remove, None) => Next::Done(Ok(Outcome::Removal(Removal::AlreadyGone))),
            (Purpose::Remove, Some(i)) => {
                let Some(id) = item_id(i) else {
                    return Next::Done(Err(unexpected(v, reply, "device without id", &secrets)));
                };
                self.deleting = true;
                // The documented body is `ids` (public clients also send `macs`; not needed).
                self.api.post(
                    "/api/open/v1/device/delete",
                    &json!({"ids": [id]}),
                    cx,
                    &secrets,
                )
            }
        }
    }
}

// ---- serial numbers and the RPS ing code ----

/// A phone's serial number, as printed on its label: 6 to 32 letters and digits, kept in
/// upper case (spaces and dashes people type are dropped).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialNumber(String);

impl SerialNumber {
    /// Parses a serial number, or says what is wrong with it (without echoing it).
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s: String = input
            .trim()
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .collect();
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a serial number has only letters and digits",
            )
            .with_name("serial"));
        }
        if !(6..=32).contains(&s.len()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("a serial number has 6 to 32 characters, not {}", s.len()),
            )
            .with_name("serial"));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    /// The serial number (upper case).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SerialNumber({})", self.0)
    }
}

impl FromStr for SerialNumber {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl Serialize for SerialNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SerialNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The "RPS ing" code a Yealink phone may ask for at first boot: the last five digits of
/// its serial number. `None` when the serial does not end in five digits (then the code
/// cannot be shown; an "RPS pin" is never derivable and comes from the vendor, quoting the
/// MAC).
pub fn rps_ing(serial: &SerialNumber) -> Option<String> {
    let s = serial.as_str();
    let tail = s.get(s.len().checked_sub(5)?..)?;
    tail.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| tail.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rps::test_steps::{done, send};
    use crate::rps::Op;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn api() -> Api {
        Api {
            vendor: "yealink",
            key_id: "ak-test-0001".into(),
            secret: Secret::new("sk-secret-0001".into()),
            base: DEFAULT_BASE.into(),
        }
    }

    const NOW: u64 = 1_700_000_000_123;
    const NONCE: &str = "6f1c5b8e-0d4a-4a57-9b7e-2f0f3c1a9d11";

    fn cx() -> Cx<'static> {
        Cx {
            now_ms: NOW,
            nonce: NONCE,
        }
    }

    fn ok(data: &str) -> HttpReply {
        HttpReply::new(200, format!(r#"{{"ret":0,"data":{data},"error":null}}"#))
    }

    fn err(msg: &str) -> HttpReply {
        HttpReply::new(
            200,
            format!(r#"{{"ret":-1,"data":null,"error":{{"msg":"{msg}","fieldErrors":[]}}}}"#),
        )
    }

    fn phone() -> RpsPhone {
        let mut p = RpsPhone::new(
            Mac::parse("00:15:65:aa:bb:cc").unwrap(),
            "https://edge.example.net/p/0123456789abcdef0123456789abcdef/",
        );
        p.server_id = Some("srv-1".into());
        p
    }

    #[test]
    fn string_to_sign_with_body_is_pinned() {
        let s = string_to_sign(
            "POST",
            Some("h5bQ6F0J5xJt1rnX3wDTMw=="),
            "ak-test-0001",
            NONCE,
            "1700000000123",
            "/api/open/v1/device/add",
            &[],
        );
        assert_eq!(
            s,
            "POST\nContent-MD5:h5bQ6F0J5xJt1rnX3wDTMw==\nX-Ca-Key:ak-test-0001\n\
             X-Ca-Nonce:6f1c5b8e-0d4a-4a57-9b7e-2f0f3c1a9d11\nX-Ca-Timestamp:1700000000123\n\
             api/open/v1/device/add"
        );
    }

    #[test]
    fn string_to_sign_with_query_is_pinned() {
        let s = string_to_sign(
            "GET",
            None,
            "ak-test-0001",
            NONCE,
            "1700000000123",
            "/api/open/v1/device/checkDevice",
            &[("mac", "001565aabbcc".into()), ("flag", String::new())],
        );
        assert_eq!(
            s,
            "GET\nX-Ca-Key:ak-test-0001\nX-Ca-Nonce:6f1c5b8e-0d4a-4a57-9b7e-2f0f3c1a9d11\n\
             X-Ca-Timestamp:1700000000123\napi/open/v1/device/checkDevice\nflag&mac=001565aabbcc"
        );
    }

    #[test]
    fn signed_request_matches_an_independent_computation() {
        let body =
            json!({"macs": ["001565aabbcc"], "uniqueServerUrl": "https://edge.example.net/p/t/"});
        let req = api()
            .call(
                "POST",
                "/api/open/v1/device/add",
                &[],
                Some(&body),
                &cx(),
                &[],
            )
            .unwrap();
        assert_eq!(
            req.url,
            "https://api-dm.yealink.com:8443/api/open/v1/device/add"
        );
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"macs":["001565aabbcc"],"uniqueServerUrl":"https://edge.example.net/p/t/"}"#
        );
        // printf '%s' '{"macs":["001565aabbcc"],"uniqueServerUrl":"https://edge.example.net/p/t/"}' \
        //   | openssl dgst -md5 -binary | base64
        assert_eq!(
            req.header_value("Content-MD5"),
            Some("x1fyVgnV2ARnVXVVpSHfjQ==")
        );
        // printf 'POST\nContent-MD5:<that>\nX-Ca-Key:ak-test-0001\nX-Ca-Nonce:6f1c5b8e-0d4a-4a57-9b7e-2f0f3c1a9d11\nX-Ca-Timestamp:1700000000123\napi/open/v1/device/add' \
        //   | openssl dgst -sha256 -hmac sk-secret-0001 -binary | base64
        assert_eq!(
            req.header_value("X-Ca-Signature"),
            Some("whYihJAXwbbZWugiREuCRQ9jzpJ4RMfSEk5UMteWNi4=")
        );
        assert_eq!(req.header_value("X-Ca-Timestamp"), Some("1700000000123"));
        assert_eq!(req.header_value("X-Ca-Nonce"), Some(NONCE));
        assert_eq!(req.header_value("X-Ca-Key"), Some("ak-test-0001"));
        assert_eq!(
            req.header_value("Content-Type"),
            Some("application/json;charset=UTF-8")
        );
        assert!(!format!("{req:?}").contains("sk-secret-0001"));
    }

    #[test]
    fn get_with_query_is_signed_without_content_md5() {
        let req = api()
            .call(
                "GET",
                "/api/open/v1/server/checkServerName",
                &[("serverName", "Acme PBX".into())],
                None,
                &cx(),
                &[],
            )
            .unwrap();
        assert_eq!(
            req.url,
            "https://api-dm.yealink.com:8443/api/open/v1/server/checkServerName?serverName=Acme%20PBX"
        );
        assert!(req.header_value("Content-MD5").is_none());
        // printf 'GET\nX-Ca-Key:ak-test-0001\nX-Ca-Nonce:6f1c5b8e-0d4a-4a57-9b7e-2f0f3c1a9d11\nX-Ca-Timestamp:1700000000123\napi/open/v1/server/checkServerName\nserverName=Acme PBX' \
        //   | openssl dgst -sha256 -hmac sk-secret-0001 -binary | base64
        assert_eq!(
            req.header_value("X-Ca-Signature"),
            Some("I/oeSuFZEFsC3rEP38awHEzqCK3SV8JTmqEQUOK8GyI=")
        );
    }

    #[test]
    fn register_new_phone() {
        let mut op: Op<Registration> = Op::new("yealink", register(api(), &phone()));
        let req = send(op.start(NOW, NONCE));
        assert!(req.url.ends_with("/api/open/v1/device/add"));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["macs"], json!(["001565aabbcc"]));
        assert_eq!(body["serverId"], "srv-1");
        assert!(!format!("{req:?}").contains("0123456789abcdef"));
        assert_eq!(
            done(op.on_reply(ok("null"), NOW, NONCE)),
            Ok(Registration::Created)
        );
    }

    #[test]
    fn register_existing_phone_looks_up_and_edits() {
        let mut op: Op<Registration> = Op::new("yealink", register(api(), &phone()));
        let _ = send(op.start(NOW, NONCE));
        let list = send(op.on_reply(err("device.mac.existed"), NOW, "n2"));
        assert!(list.url.ends_with("/device/list"));
        assert_eq!(
            serde_json::from_slice::<Value>(&list.body).unwrap()["key"],
            "001565aabbcc"
        );
        let edit = send(op.on_reply(
            ok(r#"{"total":1,"data":[{"id":"dev-9","mac":"001565AABBCC","uniqueServerUrl":"https://old/"}]}"#),
            NOW,
            "n3",
        ));
        assert!(edit.url.ends_with("/device/edit"));
        let body: Value = serde_json::from_slice(&edit.body).unwrap();
        assert_eq!(body["id"], "dev-9");
        assert_eq!(
            body["uniqueServerUrl"],
            "https://edge.example.net/p/0123456789abcdef0123456789abcdef/"
        );
        assert_eq!(
            done(op.on_reply(ok("null"), NOW, "n4")),
            Ok(Registration::Updated)
        );
    }

    #[test]
    fn a_known_phone_is_looked_up_first_two_calls() {
        let mut known = phone();
        known.known = true;
        let mut op: Op<Registration> = Op::new("yealink", register(api(), &known));
        let list = send(op.start(NOW, NONCE));
        assert!(list.url.ends_with("/device/list"), "{}", list.url);
        let edit = send(op.on_reply(
            ok(r#"{"total":1,"data":[{"id":"dev-9","mac":"001565AABBCC"}]}"#),
            NOW,
            "n2",
        ));
        assert!(edit.url.ends_with("/device/edit"));
        let body: Value = serde_json::from_slice(&edit.body).unwrap();
        assert_eq!(
            (body["id"].as_str(), body["serverId"].as_str()),
            (Some("dev-9"), Some("srv-1"))
        );
        assert_eq!(
            done(op.on_reply(ok("null"), NOW, "n3")),
            Ok(Registration::Updated)
        );

        // Gone at the vendor since: added again; an add that then says "exists" is looked up
        // once more before another account is blamed.
        let mut op: Op<Registration> = Op::new("yealink", register(api(), &known));
        let _ = send(op.start(NOW, NONCE));
        let add = send(op.on_reply(ok(r#"{"total":0,"data":[]}"#), NOW, "n2"));
        assert!(add.url.ends_with("/device/add"));
        assert_eq!(
            done(op.on_reply(ok("null"), NOW, "n3")),
            Ok(Registration::Created)
        );
        let mut op: Op<Registration> = Op::new("yealink", register(api(), &known));
        let _ = send(op.start(NOW, NONCE));
        let _ = send(op.on_reply(ok(r#"{"data":[]}"#), NOW, "n2"));
        let relist = send(op.on_reply(err("device.mac.existed"), NOW, "n3"));
        assert!(relist.url.ends_with("/device/list"));
        let r = done(op.on_reply(ok(r#"{"data":[]}"#), NOW, "n4"));
        assert!(
            matches!(r, Err(RpsError::OwnedByAnotherAccount(_))),
            "{r:?}"
        );
    }

    #[test]
    fn existing_mac_missing_from_our_list_is_owned_elsewhere() {
        let mut op: Op<Registration> = Op::new("yealink", register(api(), &phone()));
        let _ = send(op.start(NOW, NONCE));
        let _ = send(op.on_reply(err("device.mac.existed"), NOW, "n2"));
        let r = done(op.on_reply(ok(r#"{"data":[]}"#), NOW, "n3"));
        assert!(
            matches!(r, Err(RpsError::OwnedByAnotherAccount(_))),
            "{r:?}"
        );
    }

    #[test]
    fn remove_finds_the_id_then_deletes() {
        let mut op: Op<Removal> = Op::new("yealink", remove(api(), phone().mac));
        let _ = send(op.start(NOW, NONCE));
        let del = send(op.on_reply(ok(r#"[{"id":7,"mac":"001565aabbcc"}]"#), NOW, "n2"));
        assert!(del.url.ends_with("/device/delete"));
        assert_eq!(
            serde_json::from_slice::<Value>(&del.body).unwrap(),
            json!({"ids": ["7"]})
        );
        assert_eq!(
            done(op.on_reply(ok("null"), NOW, "n3")),
            Ok(Removal::Removed)
        );
    }

    #[test]
    fn remove_is_idempotent() {
        let mut op: Op<Removal> = Op::new("yealink", remove(api(), phone().mac));
        let _ = send(op.start(NOW, NONCE));
        assert_eq!(
            done(op.on_reply(ok(r#"{"data":[]}"#), NOW, "n2")),
            Ok(Removal::AlreadyGone)
        );
        let mut op: Op<Removal> = Op::new("yealink", remove(api(), phone().mac));
        let _ = send(op.start(NOW, NONCE));
        let _ = send(op.on_reply(ok(r#"[{"id":"7","mac":"001565aabbcc"}]"#), NOW, "n2"));
        assert_eq!(
            done(op.on_reply(err("device.not.found"), NOW, "n3")),
            Ok(Removal::AlreadyGone)
        );
    }

    #[test]
    fn status_reports_registration_and_url() {
        let p = phone();
        let mut op: Op<PhoneStatus> = Op::new("yealink", status(api(), &p));
        let _ = send(op.start(NOW, NONCE));
        let item = format!(
            r#"[{{"id":"1","mac":"001565aabbcc","uniqueServerUrl":"{}"}}]"#,
            p.url.expose()
        );
        assert_eq!(
            done(op.on_reply(ok(&item), NOW, "n")),
            Ok(PhoneStatus {
                registered: true,
                url_matches: Some(true)
            })
        );
    }

    #[test]
    fn ensure_server_adds_edits_or_keeps() {
        let spec = ServerSpec::new("acme-pbx", "https://edge.example.net/s/acme/");
        // Absent: added, id from the reply.
        let mut op: Op<ServerRef> = Op::new("yealink", ensure_server(api(), &spec));
        let _ = send(op.start(NOW, NONCE));
        let add = send(op.on_reply(ok("[]"), NOW, "n2"));
        assert!(add.url.ends_with("/server/add"));
        assert_eq!(
            done(op.on_reply(ok(r#"{"id":"s1"}"#), NOW, "n3")),
            Ok(ServerRef {
                id: Some("s1".into()),
                created: true
            })
        );
        // Present with the same URL: nothing to do.
        let mut op: Op<ServerRef> = Op::new("yealink", ensure_server(api(), &spec));
        let _ = send(op.start(NOW, NONCE));
        let same =
            r#"[{"id":"s1","serverName":"acme-pbx","url":"https://edge.example.net/s/acme/"}]"#;
        assert_eq!(
            done(op.on_reply(ok(same), NOW, "n2")),
            Ok(ServerRef {
                id: Some("s1".into()),
                created: false
            })
        );
        // Present with another URL: edited.
        let mut op: Op<ServerRef> = Op::new("yealink", ensure_server(api(), &spec));
        let _ = send(op.start(NOW, NONCE));
        let other = r#"[{"id":"s1","serverName":"acme-pbx","url":"https://old/"}]"#;
        let edit = send(op.on_reply(ok(other), NOW, "n2"));
        assert!(edit.url.ends_with("/server/edit"));
        assert!(done(op.on_reply(ok("null"), NOW, "n3")).is_ok());
        // Name taken by another customer: "exists" on add, and still not in our list.
        let mut op: Op<ServerRef> = Op::new("yealink", ensure_server(api(), &spec));
        let _ = send(op.start(NOW, NONCE));
        let _ = send(op.on_reply(ok("[]"), NOW, "n2"));
        let again = send(op.on_reply(err("server.name.existed"), NOW, "n3"));
        assert!(again.url.ends_with("/server/list"));
        let r = done(op.on_reply(ok("[]"), NOW, "n4"));
        assert!(
            matches!(r, Err(RpsError::OwnedByAnotherAccount(_))),
            "{r:?}"
        );
        // Added meanwhile by another run of ours (found by the 1,000-phone burst): "exists" on
        // add, then our list has it: kept.
        let mut op: Op<ServerRef> = Op::new("yealink", ensure_server(api(), &spec));
        let _ = send(op.start(NOW, NONCE));
        let _ = send(op.on_reply(ok("[]"), NOW, "n2"));
        let _ = send(op.on_reply(err("server.name.existed"), NOW, "n3"));
        assert_eq!(
            done(op.on_reply(ok(same), NOW, "n4")),
            Ok(ServerRef {
                id: Some("s1".into()),
                created: false
            })
        );
    }

    #[test]
    fn reply_errors_are_typed() {
        let k = |r: HttpReply| check("yealink", &r, &["sk-secret-0001".into()]).map_err(|f| f.err);
        assert!(matches!(
            k(HttpReply::new(401, "")),
            Err(RpsError::BadCredentials(_))
        ));
        assert!(matches!(
            k(HttpReply::new(429, "").with_header("retry-after", "12")),
            Err(RpsError::RateLimited {
                retry_after: Some(12),
                ..
            })
        ));
        assert!(matches!(
            k(HttpReply::new(503, "busy")),
            Err(RpsError::ServerError(_))
        ));
        assert!(matches!(
            k(HttpReply::new(200, "<html>")),
            Err(RpsError::UnexpectedReply(_))
        ));
        assert!(matches!(
            k(err("signature.invalid")),
            Err(RpsError::BadCredentials(_))
        ));
        assert!(matches!(
            k(err("device.mac.invalid")),
            Err(RpsError::InvalidMac(_))
        ));
        assert!(matches!(
            k(err("device.url.format.error")),
            Err(RpsError::InvalidUrl(_))
        ));
        // `errors` instead of `error`, and a secret echoed back is scrubbed.
        let r = HttpReply::new(
            400,
            r#"{"ret":-1,"errors":{"msg":"bad key sk-secret-0001"}}"#,
        );
        let e = k(r).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("sk-secret-0001"), "{e}");
        assert_eq!(k(ok(r#"{"a":1}"#)).ok(), Some(json!({"a": 1})));
    }

    #[test]
    fn serial_numbers_and_ing() {
        let s = SerialNumber::parse(" 8010-2012 34567890 ").unwrap();
        assert_eq!(s.as_str(), "8010201234567890");
        assert_eq!(rps_ing(&s).as_deref(), Some("67890"));
        let s = SerialNumber::parse("ab12c3d4e5").unwrap();
        assert_eq!(s.as_str(), "AB12C3D4E5");
        assert_eq!(rps_ing(&s), None);
        for bad in ["", "12345", "abc!defg", &"1".repeat(33), "12345\u{e9}6"] {
            let e = SerialNumber::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
        let j: SerialNumber = serde_json::from_str("\"sn123456\"").unwrap();
        assert_eq!(serde_json::to_string(&j).unwrap(), "\"SN123456\"");
    }
}
