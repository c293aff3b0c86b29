//! Snom SRAPS: the REST API signed with Hawk (an access key id and secret), and the legacy
//! XML-RPC API with HTTP Basic auth (PortSIP's username and password). An account with an
//! access key uses REST; otherwise the legacy API.

use serde_json::{json, Value};

use crate::encoding::{base64, hmac_sha256};
use crate::mac::Mac;
use crate::rps::xmlrpc::{self, Param};
use crate::rps::{
    classify, json, json_items, json_text, lower, same_url, sanitize, status_error, to_json,
    unexpected, Cx, Detail, HttpReply, HttpRequest, Immediate, Machine, Next, Outcome, PhoneStatus,
    Registration, Removal, RpsError, RpsPhone, ServerRef, SnomAccount, SnomApi, Url,
};
use crate::secret::Secret;

const V: &str = "snom";
/// Pages of settings followed at most.
const MAX_PAGES: u32 = 10;

/// The parts of a request that a Hawk 1 header signs.
#[derive(Debug, Clone, Copy)]
pub struct HawkRequest<'a> {
    /// Upper-case method.
    pub method: &'a str,
    /// Path and query, as sent.
    pub uri: &'a str,
    /// Host, lower case.
    pub host: &'a str,
    /// Port (443 for https unless the URL says otherwise).
    pub port: u16,
    /// Unix time in seconds.
    pub ts: u64,
    /// The nonce.
    pub nonce: &'a str,
    /// The payload hash ([`hawk_payload_hash`]), if the request has a body.
    pub hash: Option<&'a str>,
    /// Application data, if any (SRAPS uses none).
    pub ext: Option<&'a str>,
}

/// Hawk's payload hash: base64 of SHA-256 over `hawk.1.payload\n`, the content type (lower
/// case, parameters dropped), `\n`, the body and `\n`.
pub fn hawk_payload_hash(content_type: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut h = Sha256::new();
    h.update(b"hawk.1.payload\n");
    h.update(ct.as_bytes());
    h.update(b"\n");
    h.update(body);
    h.update(b"\n");
    base64(&h.finalize())
}

/// The normalized string a Hawk 1 header MAC covers, every line ending in `\n`.
pub(crate) fn hawk_normalized(r: &HawkRequest<'_>) -> String {
    format!(
        "hawk.1.header\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        r.ts,
        r.nonce,
        r.method.to_ascii_uppercase(),
        r.uri,
        r.host.to_ascii_lowercase(),
        r.port,
        r.hash.unwrap_or(""),
        r.ext.unwrap_or(""),
    )
}

/// The Hawk MAC: base64 of HMAC-SHA256 under `key` over the normalized string.
pub fn hawk_mac(key: &[u8], r: &HawkRequest<'_>) -> String {
    base64(&hmac_sha256(key, hawk_normalized(r).as_bytes()))
}

/// The `Authorization` header value for `r`, signed with key `id` / `key`.
pub fn hawk_header(id: &str, key: &[u8], r: &HawkRequest<'_>) -> String {
    let mut h = format!("Hawk id=\"{id}\", ts=\"{}\", nonce=\"{}\"", r.ts, r.nonce);
    if let Some(hash) = r.hash {
        h.push_str(&format!(", hash=\"{hash}\""));
    }
    if let Some(ext) = r.ext {
        h.push_str(&format!(", ext=\"{ext}\""));
    }
    h.push_str(&format!(", mac=\"{}\"", hawk_mac(key, r)));
    h
}

// ---- REST ----

#[derive(Clone)]
struct Rest {
    key_id: String,
    key: Secret<String>,
    base: String,
    origin: String,
    secrets: Vec<String>,
}

impl Rest {
    fn new(a: &SnomAccount, extra: Option<&Secret<String>>) -> Result<Self, RpsError> {
        let (Some(key_id), Some(key)) = (&a.access_key_id, &a.access_key_secret) else {
            return Err(RpsError::InvalidInput(
                "snom: no access key for the REST API".into(),
            ));
        };
        if key_id.contains(['"', '\\', '/', '?', '#']) || key_id.chars().any(char::is_control) {
            return Err(RpsError::InvalidInput(
                "snom: the access key id has characters a key id cannot have".into(),
            ));
        }
        let base_url = Url::parse(&a.rest_base).ok_or_else(|| {
            RpsError::InvalidInput("snom: the REST base is not an http(s) URL".into())
        })?;
        let mut secrets = vec![key.expose().clone()];
        if let Some(e) = extra {
            secrets.extend(crate::rps::url_secrets(e.expose()));
        }
        let base = if a.rest_base.ends_with('/') {
            a.rest_base.clone()
        } else {
            format!("{}/", a.rest_base)
        };
        Ok(Self {
            key_id: key_id.clone(),
            key: key.clone(),
            base,
            origin: base_url.origin(),
            secrets,
        })
    }

    /// A link from a reply as an absolute URL on the API's origin; links elsewhere are
    /// refused (we sign only for SRAPS).
    fn resolve(&self, link: &str) -> Option<String> {
        let abs = if link.starts_with("http://") || link.starts_with("https://") {
            link.to_owned()
        } else if link.starts_with('/') {
            format!("{}{link}", self.origin)
        } else {
            format!("{}{link}", self.base)
        };
        let u = Url::parse(&abs)?;
        (u.origin() == self.origin).then_some(abs)
    }

    fn request(&self, method: &'static str, url: &str, body: Option<&Value>, cx: &Cx<'_>) -> Next {
        let Some(u) = Url::parse(url) else {
            return Next::Done(Err(RpsError::InvalidInput(
                "snom: not an http(s) URL".into(),
            )));
        };
        let body = body.map(to_json);
        let hash = body
            .as_ref()
            .map(|b| hawk_payload_hash("application/json", b));
        let hr = HawkRequest {
            method,
            uri: &u.path_query,
            host: &u.host,
            port: u.effective_port(),
            ts: cx.now_ms / 1000,
            nonce: cx.nonce,
            hash: hash.as_deref(),
            ext: None,
        };
        let auth = hawk_header(&self.key_id, self.key.expose().as_bytes(), &hr);
        let mut req = HttpRequest::new(method, url.to_owned())
            .header("Authorization", auth)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        Next::Send(req.secrets(&self.secrets))
    }

    /// An error for a non-2xx reply; `None` for 2xx.
    fn error(&self, reply: &HttpReply) -> Option<RpsError> {
        if (200..300).contains(&reply.status) {
            return None;
        }
        let v = json(&reply.body);
        let text = v
            .as_ref()
            .and_then(|v| {
                ["detail", "code", "message", "error"]
                    .iter()
                    .find_map(|k| v.get(*k).and_then(json_text))
            })
            .or_else(|| v.as_ref().map(Value::to_string));
        let lowered = lower(text.as_deref().unwrap_or(""));
        let detail = || {
            let mut d = Detail::new(V);
            d.status = Some(reply.status);
            d.message = text.as_deref().map(|t| sanitize(t, &self.secrets));
            d
        };
        if lowered.contains("taken_mac") {
            return Some(RpsError::OwnedByAnotherAccount(detail()));
        }
        if reply.status == 400 {
            if let Some(t) = &text {
                return Some(classify(V, Some(400), None, Some(t), reply, &self.secrets));
            }
        }
        status_error(V, reply, &self.secrets).map(|e| match e {
            RpsError::BadCredentials(_) => RpsError::BadCredentials(detail()),
            RpsError::NotFound(_) => RpsError::NotFound(detail()),
            other => other,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    Ensure,
    Register,
    Remove,
    Status,
}

enum State {
    Settings { pages: u32 },
    Token,
    Company,
    Final,
}

/// One REST operation: settings (to register), token → company → endpoints, then the call.
pub(crate) struct RestFlow {
    rest: Rest,
    goal: Goal,
    mac: Mac,
    url: Option<Secret<String>>,
    setting: Option<String>,
    endpoints: Option<String>,
    state: State,
}

impl RestFlow {
    fn next_token(&mut self, cx: &Cx<'_>) -> Next {
        self.state = State::Token;
        let url = format!("{}tokens/{}", self.rest.base, self.rest.key_id);
        self.rest.request("GET", &url, None, cx)
    }

    fn final_call(&mut self, cx: &Cx<'_>) -> Next {
        let Some(eps) = &self.endpoints else {
            return Next::Done(Err(RpsError::InvalidInput(
                "snom: no endpoints link".into(),
            )));
        };
        let url = format!("{eps}{}", self.mac.to_lower_hex());
        self.state = State::Final;
        match self.goal {
            Goal::Register => {
                let (Some(uuid), Some(u)) = (&self.setting, &self.url) else {
                    return Next::Done(Err(RpsError::InvalidInput("snom: no setting".into())));
                };
                let mut manager = serde_json::Map::new();
                manager.insert(
                    uuid.clone(),
                    json!({"value": u.expose(), "attrs": {"perm": "RW"}}),
                );
                let body = json!({
                    "mac": self.mac.to_lower_hex(),
                    "autoprovisioning_enabled": true,
                    "settings_manager": Value::Object(manager),
                });
                self.rest.request("PUT", &url, Some(&body), cx)
            }
            Goal::Remove => self.rest.request("DELETE", &url, None, cx),
            Goal::Status => self.rest.request("GET", &url, None, cx),
            Goal::Ensure => Next::Done(Ok(Outcome::Server(ServerRef {
                id: Some(eps.clone()),
                created: false,
            }))),
        }
    }

    fn link(&self, reply: &HttpReply, name: &str) -> Result<String, RpsError> {
        let v = json(&reply.body)
            .ok_or_else(|| unexpected(V, reply, "not JSON", &self.rest.secrets))?;
        let link = v
            .get("links")
            .and_then(|l| l.get(name))
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected(V, reply, &format!("no links.{name}"), &self.rest.secrets))?;
        self.rest.resolve(link).ok_or_else(|| {
            unexpected(
                V,
                reply,
                &format!("links.{name} is not on the API's host"),
                &self.rest.secrets,
            )
        })
    }
}

fn next_link(reply: &HttpReply) -> Option<&str> {
    let h = reply.header_value("link")?;
    h.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>'))
    })
}

impl Machine for RestFlow {
    fn start(&mut self, cx: &Cx<'_>) -> Next {
        if self.goal == Goal::Register {
            self.state = State::Settings { pages: 1 };
            let url = format!("{}settings/?page_size=1000", self.rest.base);
            return self.rest.request("GET", &url, None, cx);
        }
        self.next_token(cx)
    }

    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        let s = &self.rest.secrets;
        match self.state {
            State::Settings { pages } => {
                if let Some(e) = self.rest.error(reply) {
                    return Next::Done(Err(e));
                }
                let Some(v) = json(&reply.body) else {
                    return Next::Done(Err(unexpected(V, reply, "not JSON", s)));
                };
                let uuid = json_items(&v, &["results", "data", "items"]).and_then(|items| {
                    items.iter().find_map(|i| {
                        (i.get("param_name").and_then(Value::as_str) == Some("setting_server"))
                            .then(|| i.get("uuid").and_then(json_text))
                            .flatten()
                    })
                });
                if let Some(u) = uuid {
                    self.setting = Some(u);
                    return self.next_token(cx);
                }
                let next = next_link(reply)
                    .or_else(|| v.get("next").and_then(Value::as_str))
                    .and_then(|l| self.rest.resolve(l));
                match next {
                    Some(url) if pages < MAX_PAGES => {
                        self.state = State::Settings { pages: pages + 1 };
                        self.rest.request("GET", &url, None, cx)
                    }
                    _ => {
                        let mut d = Detail::new(V);
                        d.status = Some(reply.status);
                        d.message = Some("no setting named setting_server".into());
                        Next::Done(Err(RpsError::NotFound(d)))
                    }
                }
            }
            State::Token | State::Company => {
                if let Some(e) = self.rest.error(reply) {
                    return Next::Done(Err(e));
                }
                let is_token = matches!(self.state, State::Token);
                match self.link(reply, if is_token { "company" } else { "endpoints" }) {
                    Ok(l) if is_token => {
                        self.state = State::Company;
                        self.rest.request("GET", &l, None, cx)
                    }
                    Ok(l) => {
                        let l = if l.ends_with('/') { l } else { format!("{l}/") };
                        self.endpoints = Some(l);
                        self.final_call(cx)
                    }
                    Err(e) => Next::Done(Err(e)),
                }
            }
            State::Final => {
                let err = self.rest.error(reply);
                Next::Done(match (self.goal, err) {
                    (Goal::Remove, Some(RpsError::NotFound(_))) => {
                        Ok(Outcome::Removal(Removal::AlreadyGone))
                    }
                    (Goal::Status, Some(RpsError::NotFound(_))) => {
                        Ok(Outcome::Status(PhoneStatus {
                            registered: false,
                            url_matches: None,
                        }))
                    }
                    (_, Some(e)) => Err(e),
                    (Goal::Register, None) => Ok(Outcome::Registration(if reply.status == 201 {
                        Registration::Created
                    } else {
                        Registration::Updated
                    })),
                    (Goal::Remove, None) => Ok(Outcome::Removal(Removal::Removed)),
                    (Goal::Status, None) => {
                        let v = json(&reply.body);
                        let url_matches = match (
                            &self.url,
                            v.as_ref()
                                .and_then(|v| v.get("settings_manager"))
                                .and_then(Value::as_object),
                        ) {
                            (Some(want), Some(m)) => Some(m.values().any(|s| {
                                s.get("value")
                                    .and_then(Value::as_str)
                                    .is_some_and(|got| same_url(got, want))
                            })),
                            _ => None,
                        };
                        Ok(Outcome::Status(PhoneStatus {
                            registered: true,
                            url_matches,
                        }))
                    }
                    (Goal::Ensure, None) => Err(unexpected(V, reply, "no call expected", s)),
                })
            }
        }
    }
}

// ---- legacy XML-RPC ----

type Legacy = xmlrpc::Endpoint;

fn legacy(a: &SnomAccount, extra: Option<&Secret<String>>) -> Result<Legacy, RpsError> {
    let (Some(user), Some(pass)) = (&a.username, &a.password) else {
        return Err(RpsError::InvalidInput(
            "snom: no username and password for the XML-RPC API".into(),
        ));
    };
    Ok(Legacy::new(
        V,
        a.xmlrpc_url.clone(),
        (user, pass.expose()),
        extra,
        legacy_refused,
    ))
}

fn legacy_refused(rpc: &Legacy, reply: &HttpReply, text: &str) -> RpsError {
    classify(V, Some(reply.status), Some(text), None, reply, &rpc.secrets)
}

// The legacy API's MAC spelling: upper-case hex, as on Snom's labels and in the phone's own
// file names (`snom<model>-<MAC>.htm`), and as another public client of
// `redirect.registerPhone` sends it (azrtydxb/hello `internal/redirect/snom.go`, `snomMAC`:
// "uppercase for XML-RPC (the case of each service's examples)"). No Snom document at hand
// states it; a refusal would come back as the call's own error, shown to the administrator.
fn legacy_mac(mac: Mac) -> String {
    mac.to_upper_hex()
}

fn is_not_registered(text: &str) -> bool {
    let t = lower(text);
    t.contains("not_found")
        || t.contains("not found")
        || t.contains("not_registered")
        || t.contains("not registered")
        || t.contains("unknown")
        || t.contains("no_redirection")
}

pub(crate) struct LegacyFlow {
    rpc: Legacy,
    goal: Goal,
    mac: Mac,
    url: Option<Secret<String>>,
}

impl Machine for LegacyFlow {
    fn start(&mut self, _: &Cx<'_>) -> Next {
        let mac = legacy_mac(self.mac);
        match (self.goal, &self.url) {
            (Goal::Register, Some(u)) => self.rpc.call(
                "redirect.registerPhone",
                &[Param::Str(&mac), Param::Str(u.expose())],
            ),
            (Goal::Remove, _) => self
                .rpc
                .call("redirect.deregisterPhone", &[Param::Str(&mac)]),
            (Goal::Status, _) => self
                .rpc
                .call("redirect.getPhoneRedirection", &[Param::Str(&mac)]),
            _ => Next::Done(Err(RpsError::InvalidInput("snom: nothing to call".into()))),
        }
    }

    fn on_reply(&mut self, reply: &HttpReply, _: &Cx<'_>) -> Next {
        let r = self.rpc.read(reply);
        Next::Done(match (self.goal, r) {
            (_, Err(e)) => Err(e),
            (Goal::Register, Ok((true, _))) => Ok(Outcome::Registration(Registration::Set)),
            (Goal::Remove, Ok((true, _))) => Ok(Outcome::Removal(Removal::Removed)),
            (Goal::Remove, Ok((false, t))) if is_not_registered(&t) => {
                Ok(Outcome::Removal(Removal::AlreadyGone))
            }
            (Goal::Status, Ok((true, t))) => Ok(Outcome::Status(PhoneStatus {
                registered: true,
                url_matches: self
                    .url
                    .as_ref()
                    .filter(|_| Url::parse(&t).is_some())
                    .map(|want| same_url(&t, want)),
            })),
            (Goal::Status, Ok((false, t))) if is_not_registered(&t) => {
                Ok(Outcome::Status(PhoneStatus {
                    registered: false,
                    url_matches: None,
                }))
            }
            (_, Ok((_, t))) => Err(self.rpc.refused(reply, &t)),
        })
    }
}

// ---- entry points ----

enum Either {
    Rest(RestFlow),
    Legacy(LegacyFlow),
    Now(Immediate),
}

pub(crate) struct Flow(Either);

impl Machine for Flow {
    fn start(&mut self, cx: &Cx<'_>) -> Next {
        match &mut self.0 {
            Either::Rest(f) => f.start(cx),
            Either::Legacy(f) => f.start(cx),
            Either::Now(f) => f.start(cx),
        }
    }
    fn on_reply(&mut self, reply: &HttpReply, cx: &Cx<'_>) -> Next {
        match &mut self.0 {
            Either::Rest(f) => f.on_reply(reply, cx),
            Either::Legacy(f) => f.on_reply(reply, cx),
            Either::Now(f) => f.on_reply(reply, cx),
        }
    }
}

fn build(a: &SnomAccount, goal: Goal, mac: Mac, url: Option<&Secret<String>>) -> Flow {
    let r = match a.api() {
        SnomApi::Rest => Rest::new(a, url).map(|rest| {
            Either::Rest(RestFlow {
                rest,
                goal,
                mac,
                url: url.cloned(),
                setting: None,
                endpoints: None,
                state: State::Token,
            })
        }),
        SnomApi::XmlRpc if goal == Goal::Ensure => Ok(Either::Now(Immediate(Some(Ok(
            Outcome::Server(ServerRef {
                id: None,
                created: false,
            }),
        ))))),
        SnomApi::XmlRpc => legacy(a, url).map(|rpc| {
            Either::Legacy(LegacyFlow {
                rpc,
                goal,
                mac,
                url: url.cloned(),
            })
        }),
    };
    Flow(r.unwrap_or_else(|e| Either::Now(Immediate(Some(Err(e))))))
}

pub(crate) fn ensure_server(a: &SnomAccount) -> Flow {
    build(a, Goal::Ensure, Mac::from_octets([0; 6]), None)
}

pub(crate) fn register(a: &SnomAccount, phone: &RpsPhone) -> Flow {
    build(a, Goal::Register, phone.mac, Some(&phone.url))
}

pub(crate) fn remove(a: &SnomAccount, mac: Mac) -> Flow {
    build(a, Goal::Remove, mac, None)
}

pub(crate) fn status(a: &SnomAccount, phone: &RpsPhone) -> Flow {
    build(a, Goal::Status, phone.mac, Some(&phone.url))
}

#[cfg(test)]
mod tests {
    use super::super::account::{SNOM_XMLRPC, SRAPS_BASE};
    use super::*;
    use crate::rps::test_steps::{done, send};
    use crate::rps::Op;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const KEY: &str = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";

    #[test]
    fn hawk_vector_get() {
        let r = HawkRequest {
            method: "GET",
            uri: "/resource/1?b=1&a=2",
            host: "example.com",
            port: 8000,
            ts: 1_353_832_234,
            nonce: "j4h3g2",
            hash: None,
            ext: Some("some-app-ext-data"),
        };
        assert_eq!(
            hawk_normalized(&r),
            "hawk.1.header\n1353832234\nj4h3g2\nGET\n/resource/1?b=1&a=2\nexample.com\n8000\n\nsome-app-ext-data\n"
        );
        assert_eq!(
            hawk_mac(KEY.as_bytes(), &r),
            "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="
        );
        assert_eq!(
            hawk_header("dh37fgj492je", KEY.as_bytes(), &r),
            "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", ext=\"some-app-ext-data\", mac=\"6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=\""
        );
    }

    #[test]
    fn hawk_vector_post_with_payload() {
        let hash = hawk_payload_hash("text/plain", b"Thank you for flying Hawk");
        assert_eq!(hash, "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=");
        assert_eq!(
            hawk_payload_hash("Text/Plain; charset=utf-8", b"Thank you for flying Hawk"),
            hash
        );
        let r = HawkRequest {
            method: "POST",
            uri: "/resource/1?b=1&a=2",
            host: "example.com",
            port: 8000,
            ts: 1_353_832_234,
            nonce: "j4h3g2",
            hash: Some(&hash),
            ext: Some("some-app-ext-data"),
        };
        assert_eq!(
            hawk_mac(KEY.as_bytes(), &r),
            "aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw="
        );
    }

    fn rest_acct() -> SnomAccount {
        SnomAccount {
            username: None,
            password: None,
            access_key_id: Some("kid-123".into()),
            access_key_secret: Some(Secret::new("hawk-secret-456".into())),
            rest_base: SRAPS_BASE.into(),
            xmlrpc_url: SNOM_XMLRPC.into(),
        }
    }

    fn legacy_acct() -> SnomAccount {
        SnomAccount {
            username: Some("snom-user".into()),
            password: Some(Secret::new("snom-pass".into())),
            access_key_id: None,
            access_key_secret: None,
            rest_base: SRAPS_BASE.into(),
            xmlrpc_url: SNOM_XMLRPC.into(),
        }
    }

    fn phone() -> RpsPhone {
        RpsPhone::new(
            Mac::parse("000413aabbcc").unwrap(),
            "https://edge.example.net/p/0123456789abcdef0123456789abcdef/",
        )
    }

    const NOW: u64 = 1_700_000_000_999;

    fn token_reply() -> HttpReply {
        HttpReply::new(
            200,
            r#"{"links":{"company":"https://api.sraps.snom.com/api/v1/companies/c-1/"}}"#,
        )
    }

    fn company_reply() -> HttpReply {
        HttpReply::new(
            200,
            r#"{"links":{"endpoints":"https://api.sraps.snom.com/api/v1/companies/c-1/endpoints/"}}"#,
        )
    }

    #[test]
    fn rest_register_walks_settings_token_company() {
        let mut op: Op<Registration> = Op::new(V, register(&rest_acct(), &phone()));
        let r = send(op.start(NOW, "nonce1"));
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.url,
            "https://api.sraps.snom.com/api/v1/settings/?page_size=1000"
        );
        let auth = r.header_value("Authorization").unwrap();
        let expected_mac = hawk_mac(
            b"hawk-secret-456",
            &HawkRequest {
                method: "GET",
                uri: "/api/v1/settings/?page_size=1000",
                host: "api.sraps.snom.com",
                port: 443,
                ts: 1_700_000_000,
                nonce: "nonce1",
                hash: None,
                ext: None,
            },
        );
        assert_eq!(
            auth,
            format!(
                "Hawk id=\"kid-123\", ts=\"1700000000\", nonce=\"nonce1\", mac=\"{expected_mac}\""
            )
        );
        // First page without the setting, a Link to the next page.
        let page1 = HttpReply::new(200, r#"{"results":[{"param_name":"other","uuid":"u0"}]}"#)
            .with_header(
                "Link",
                "<https://api.sraps.snom.com/api/v1/settings/?page=2&page_size=1000>; rel=\"next\"",
            );
        let r = send(op.on_reply(page1, NOW, "nonce2"));
        assert!(r.url.ends_with("settings/?page=2&page_size=1000"));
        let page2 = HttpReply::new(200, r#"[{"param_name":"setting_server","uuid":"u-42"}]"#);
        let r = send(op.on_reply(page2, NOW, "nonce3"));
        assert_eq!(r.url, "https://api.sraps.snom.com/api/v1/tokens/kid-123");
        let r = send(op.on_reply(token_reply(), NOW, "nonce4"));
        assert_eq!(r.url, "https://api.sraps.snom.com/api/v1/companies/c-1/");
        let put = send(op.on_reply(company_reply(), NOW, "nonce5"));
        assert_eq!(put.method, "PUT");
        assert_eq!(
            put.url,
            "https://api.sraps.snom.com/api/v1/companies/c-1/endpoints/000413aabbcc"
        );
        let body: Value = serde_json::from_slice(&put.body).unwrap();
        assert_eq!(
            body,
            json!({"mac":"000413aabbcc","autoprovisioning_enabled":true,
                   "settings_manager":{"u-42":{"value":"https://edge.example.net/p/0123456789abcdef0123456789abcdef/","attrs":{"perm":"RW"}}}})
        );
        let hash = hawk_payload_hash("application/json", &put.body);
        assert!(put
            .header_value("Authorization")
            .unwrap()
            .contains(&format!("hash=\"{hash}\"")));
        assert!(!format!("{put:?}").contains("0123456789abcdef0123"));
        assert_eq!(
            done(op.on_reply(HttpReply::new(201, "{}"), NOW, "n6")),
            Ok(Registration::Created)
        );
    }

    fn to_final<T: crate::rps::OpResult>(op: &mut Op<T>) -> HttpRequest {
        let _ = send(op.start(NOW, "n1"));
        let _ = send(op.on_reply(token_reply(), NOW, "n2"));
        send(op.on_reply(company_reply(), NOW, "n3"))
    }

    #[test]
    fn rest_remove_and_status() {
        let mut op: Op<Removal> = Op::new(V, remove(&rest_acct(), phone().mac));
        let del = to_final(&mut op);
        assert_eq!(del.method, "DELETE");
        assert_eq!(
            done(op.on_reply(HttpReply::new(404, r#"{"detail":"Not found."}"#), NOW, "n")),
            Ok(Removal::AlreadyGone)
        );
        let mut op: Op<Removal> = Op::new(V, remove(&rest_acct(), phone().mac));
        let _ = to_final(&mut op);
        assert_eq!(
            done(op.on_reply(HttpReply::new(204, ""), NOW, "n")),
            Ok(Removal::Removed)
        );

        let p = phone();
        let mut op: Op<PhoneStatus> = Op::new(V, status(&rest_acct(), &p));
        let get = to_final(&mut op);
        assert_eq!(get.method, "GET");
        let body = format!(
            r#"{{"mac":"000413aabbcc","settings_manager":{{"u-42":{{"value":"{}"}}}}}}"#,
            p.url.expose()
        );
        assert_eq!(
            done(op.on_reply(HttpReply::new(200, body), NOW, "n")),
            Ok(PhoneStatus {
                registered: true,
                url_matches: Some(true)
            })
        );
    }

    #[test]
    fn rest_errors() {
        let run = |reply: HttpReply| {
            let mut op: Op<Registration> = Op::new(V, register(&rest_acct(), &phone()));
            let _ = send(op.start(NOW, "n1"));
            done(op.on_reply(reply, NOW, "n2"))
        };
        assert!(matches!(
            run(HttpReply::new(
                401,
                r#"{"detail":"Hawk authentication failed"}"#
            )),
            Err(RpsError::BadCredentials(_))
        ));
        assert!(matches!(
            run(HttpReply::new(403, r#"{"code":"taken_mac_or_forbidden"}"#)),
            Err(RpsError::OwnedByAnotherAccount(_))
        ));
        assert!(matches!(
            run(HttpReply::new(429, "").with_header("Retry-After", "7")),
            Err(RpsError::RateLimited {
                retry_after: Some(7),
                ..
            })
        ));
        assert!(matches!(
            run(HttpReply::new(500, "")),
            Err(RpsError::ServerError(_))
        ));
        assert!(matches!(
            run(HttpReply::new(200, "[]")),
            Err(RpsError::NotFound(_))
        ));
        // A link to another host is refused rather than signed.
        let mut op: Op<Removal> = Op::new(V, remove(&rest_acct(), phone().mac));
        let _ = send(op.start(NOW, "n1"));
        let evil = HttpReply::new(200, r#"{"links":{"company":"https://evil.example/"}}"#);
        assert!(matches!(
            done(op.on_reply(evil, NOW, "n2")),
            Err(RpsError::UnexpectedReply(_))
        ));
    }

    fn pair(ok: bool, text: &str) -> HttpReply {
        HttpReply::new(
            200,
            format!(
                "<methodResponse><params><param><value><array><data><value><boolean>{}</boolean></value>\
                 <value><string>{text}</string></value></data></array></value></param></params></methodResponse>",
                u8::from(ok)
            ),
        )
    }

    #[test]
    fn legacy_calls() {
        let mut op: Op<Registration> = Op::new(V, register(&legacy_acct(), &phone()));
        let r = send(op.start(NOW, "n"));
        assert_eq!(r.url, "https://secure-provisioning.snom.com:8083/xmlrpc/");
        assert_eq!(r.header_value("Content-Type"), Some("text/xml"));
        // printf 'snom-user:snom-pass' | base64
        assert_eq!(
            r.header_value("Authorization"),
            Some("Basic c25vbS11c2VyOnNub20tcGFzcw==")
        );
        let body = String::from_utf8(r.body.clone()).unwrap();
        assert!(body.contains("<methodName>redirect.registerPhone</methodName>"));
        assert!(body.contains("<string>000413AABBCC</string>"));
        let red = r.redacted();
        assert_eq!(red.headers[1].1, "Basic ***");
        assert!(!red.body.contains("0123456789abcdef0123"));
        assert_eq!(
            done(op.on_reply(pair(true, "Ok"), NOW, "n")),
            Ok(Registration::Set)
        );

        for (text, check) in [
            ("Error:owned_by_other_user", "owned"),
            ("Error:malformed_url", "url"),
            ("Error:malformed_mac", "mac"),
        ] {
            let mut op: Op<Registration> = Op::new(V, register(&legacy_acct(), &phone()));
            let _ = send(op.start(NOW, "n"));
            let e = done(op.on_reply(pair(false, text), NOW, "n")).unwrap_err();
            let ok = match check {
                "owned" => matches!(e, RpsError::OwnedByAnotherAccount(_)),
                "url" => matches!(e, RpsError::InvalidUrl(_)),
                _ => matches!(e, RpsError::InvalidMac(_)),
            };
            assert!(ok, "{text}: {e:?}");
        }

        let p = phone();
        let mut op: Op<PhoneStatus> = Op::new(V, status(&legacy_acct(), &p));
        let r = send(op.start(NOW, "n"));
        assert!(String::from_utf8(r.body.clone())
            .unwrap()
            .contains("redirect.getPhoneRedirection"));
        assert_eq!(
            done(op.on_reply(pair(true, p.url.expose()), NOW, "n")),
            Ok(PhoneStatus {
                registered: true,
                url_matches: Some(true)
            })
        );
        let mut op: Op<Removal> = Op::new(V, remove(&legacy_acct(), p.mac));
        let _ = send(op.start(NOW, "n"));
        assert_eq!(
            done(op.on_reply(pair(true, "Ok"), NOW, "n")),
            Ok(Removal::Removed)
        );

        let mut op: Op<ServerRef> = Op::new(V, ensure_server(&legacy_acct()));
        assert_eq!(
            done(op.start(NOW, "n")),
            Ok(ServerRef {
                id: None,
                created: false
            })
        );
    }
}
