//! SIP messages (RFC 3261) as bytes in, bytes out: no sockets, no clock, no randomness.
//!
//! What is parsed: one UDP datagram holding one request or response: the start line, the
//! header fields (case-insensitive names, the compact forms of RFC 3261 §7.3.3 and RFC 6665
//! `o`/`u` expanded to their full names, folded continuation lines joined, §7.3.1), and the
//! body, cut to `Content-Length` (§18.3: extra bytes after it in a datagram are discarded).
//!
//! What is refused, each with its own [`ParseError`]:
//! - datagrams over [`MAX_MESSAGE`] bytes (a PnP SUBSCRIBE is ~500 bytes), more than
//!   [`MAX_HEADERS`] header fields, or a header line over [`MAX_LINE`] bytes;
//! - no empty line ending the header section; a start line that is neither
//!   `METHOD uri SIP/2.0` nor `SIP/2.0 NNN reason`; header bytes that are not UTF-8 or hold
//!   control characters (so nothing echoed from a request can inject a header);
//! - a `Content-Length` that is not a number, disagrees with another one, or is larger than
//!   the bytes that follow;
//! - a message without the headers every request and response carries (§8.1.1: Via, From,
//!   To, Call-ID, CSeq; Max-Forwards is not required: Snom's PnP SUBSCRIBE has none), or a
//!   CSeq whose method differs from the request's.
//!
//! Lines may end in CRLF or a bare LF (the robustness of §7.5; some PnP simulators end the
//! header section with `\r\n\n`). Empty lines before the start line (keep-alives) are
//! skipped; a datagram of nothing else is [`ParseError::Empty`], which servers drop silently.
//!
//! Built here: responses to a request ([`response`]: the Vias, From, To with our tag,
//! Call-ID and CSeq echoed, §8.2.6), `400` for a datagram that failed to parse but can be
//! addressed ([`bad_request`]), the PnP `NOTIFY` carrying the provisioning URL
//! ([`pnp_notify`], RFC 6080 with the shape phones accept, see `pnp`), and the re-provision
//! `NOTIFY` `Event: check-sync` ([`check_sync`], per vendor, see [`check_sync_event`]), and
//! for the star-code registrar: the in-dialog `BYE`, a response with a body, the `inactive`
//! SDP answer, and what a Request-URI dials ([`dialled_code`]). URIs are read here too:
//! where a phone's Contact points (only ever at the datagram's source IP), MACs in URI users.
//! Fresh branch, tag and Call-ID come from [`Ids::from_random`], fed by the caller's random
//! bytes.

use std::fmt;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use engine::encoding::{hex, percent_decode};
use engine::{Mac, PnpInfo, Vendor};

/// The largest datagram accepted, in bytes.
pub const MAX_MESSAGE: usize = 8 * 1024;
/// The most header fields accepted in one message.
pub const MAX_HEADERS: usize = 64;
/// The longest header line (after joining folded lines) accepted, in bytes.
pub const MAX_LINE: usize = 2048;
/// The longest provisioning URL put in a PnP NOTIFY, in bytes.
pub const MAX_URL: usize = 1024;

/// Why bytes are not a SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Larger than [`MAX_MESSAGE`].
    TooLarge {
        /// The datagram's length.
        len: usize,
    },
    /// Nothing but line breaks (a keep-alive) or nothing at all.
    Empty,
    /// No empty line ends the header section.
    NoHeaderEnd,
    /// The start line or a header is not UTF-8.
    NotUtf8,
    /// The first line is neither a request line nor a status line.
    BadStartLine,
    /// The version is not `SIP/2.0`.
    BadVersion,
    /// A header line without a name and a colon, a bad name, a continuation line with no
    /// header before it, or a control character in a value.
    BadHeader,
    /// A header line longer than [`MAX_LINE`].
    HeaderTooLong,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// `Content-Length` is not a number, or two of them disagree.
    BadContentLength,
    /// `Content-Length` says more bytes than the datagram holds.
    BodyTruncated {
        /// What `Content-Length` says.
        declared: usize,
        /// What follows the header section.
        available: usize,
    },
    /// A header every message must carry is missing.
    MissingHeader(&'static str),
    /// `CSeq` is not `<number> <method>`, or its method is not the request's.
    BadCSeq,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len } => write!(f, "message of {len} bytes exceeds {MAX_MESSAGE}"),
            Self::Empty => f.write_str("empty datagram"),
            Self::NoHeaderEnd => f.write_str("no empty line ends the headers"),
            Self::NotUtf8 => f.write_str("headers are not UTF-8"),
            Self::BadStartLine => f.write_str("malformed start line"),
            Self::BadVersion => f.write_str("version is not SIP/2.0"),
            Self::BadHeader => f.write_str("malformed header line"),
            Self::HeaderTooLong => write!(f, "header line longer than {MAX_LINE} bytes"),
            Self::TooManyHeaders => write!(f, "more than {MAX_HEADERS} headers"),
            Self::BadContentLength => f.write_str("invalid Content-Length"),
            Self::BodyTruncated {
                declared,
                available,
            } => write!(
                f,
                "Content-Length {declared} but only {available} body bytes"
            ),
            Self::MissingHeader(h) => write!(f, "missing {h} header"),
            Self::BadCSeq => f.write_str("invalid CSeq"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Why a message could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The provisioning URL is empty, longer than [`MAX_URL`], or holds whitespace or control
    /// characters (it goes verbatim into the body).
    BadUrl,
    /// A value for a header holds characters that would break the message (CR, LF, controls,
    /// or for a URI user part, anything but unreserved characters).
    BadValue,
    /// The vendor has no re-provisioning NOTIFY (ALE phones are redirected, not provisioned
    /// here).
    Unsupported(Vendor),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadUrl => {
                f.write_str("provisioning URL is empty, too long or has spaces/controls")
            }
            Self::BadValue => f.write_str("header value would break the message"),
            Self::Unsupported(v) => write!(f, "no check-sync NOTIFY for {}", v.as_str()),
        }
    }
}

impl std::error::Error for BuildError {}

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD uri SIP/2.0`.
    Request {
        /// The method, as sent (methods are case-sensitive, RFC 3261 §7.1).
        method: String,
        /// The Request-URI.
        uri: String,
    },
    /// `SIP/2.0 code reason`.
    Response {
        /// The status code (100..=699).
        code: u16,
        /// The reason phrase.
        reason: String,
    },
}

/// One header field; `name` is the full name (compact forms expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name: the canonical full name for known compact forms, else as sent.
    pub name: String,
    /// The value, trimmed, folded lines joined by one space.
    pub value: String,
}

/// A parsed SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    start: StartLine,
    headers: Vec<Header>,
    body: Vec<u8>,
}

/// The compact forms of RFC 3261 §7.3.3 (and §20), RFC 3265/6665 (`o`, `u`), RFC 3515 (`r`),
/// RFC 3892 (`b`), RFC 4028 (`x`), RFC 3841 (`a`, `j`, `d`).
const COMPACT: &[(&str, &str)] = &[
    ("a", "Accept-Contact"),
    ("b", "Referred-By"),
    ("c", "Content-Type"),
    ("d", "Request-Disposition"),
    ("e", "Content-Encoding"),
    ("f", "From"),
    ("i", "Call-ID"),
    ("j", "Reject-Contact"),
    ("k", "Supported"),
    ("l", "Content-Length"),
    ("m", "Contact"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("s", "Subject"),
    ("t", "To"),
    ("u", "Allow-Events"),
    ("v", "Via"),
    ("x", "Session-Expires"),
];

fn expand(name: &str) -> String {
    COMPACT
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(name))
        .map_or_else(|| name.to_owned(), |(_, full)| (*full).to_owned())
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// `true` when `s` may go into a header value: no control character but tab.
fn clean_value(s: &str) -> bool {
    !s.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

/// The start line and headers, before the body and the checks of a whole message.
struct Head {
    start: StartLine,
    headers: Vec<Header>,
}

/// Splits off one line at `\n`, without its `\r\n` or `\n`; `None` when no `\n` is left.
fn next_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let nl = bytes.iter().position(|&b| b == b'\n')?;
    let (line, rest) = bytes.split_at_checked(nl)?;
    let rest = rest.get(1..)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, rest))
}

fn parse_start(line: &str) -> Result<StartLine, ParseError> {
    let mut parts = line.splitn(3, ' ');
    let (Some(a), Some(b), Some(c)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ParseError::BadStartLine);
    };
    if a.eq_ignore_ascii_case("SIP/2.0") {
        if b.len() != 3 || !b.bytes().all(|d| d.is_ascii_digit()) {
            return Err(ParseError::BadStartLine);
        }
        let code: u16 = b.parse().map_err(|_| ParseError::BadStartLine)?;
        if !(100..=699).contains(&code) || !clean_value(c) {
            return Err(ParseError::BadStartLine);
        }
        return Ok(StartLine::Response {
            code,
            reason: c.to_owned(),
        });
    }
    if a.len() >= 4 && a.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        return Err(ParseError::BadVersion);
    }
    if !is_token(a) || b.is_empty() || !b.bytes().all(|x| x.is_ascii_graphic()) {
        return Err(ParseError::BadStartLine);
    }
    if !c.eq_ignore_ascii_case("SIP/2.0") {
        return Err(if c.contains('/') {
            ParseError::BadVersion
        } else {
            ParseError::BadStartLine
        });
    }
    Ok(StartLine::Request {
        method: a.to_owned(),
        uri: b.to_owned(),
    })
}

/// Parses the start line and headers; returns them and the bytes after the empty line.
fn parse_head(bytes: &[u8]) -> Result<(Head, &[u8]), ParseError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(ParseError::TooLarge { len: bytes.len() });
    }
    let mut rest = bytes;
    // §7.5: CRLFs before the start line are ignored.
    while let Some(r) = rest
        .strip_prefix(b"\r\n")
        .or_else(|| rest.strip_prefix(b"\n"))
    {
        rest = r;
    }
    if rest.is_empty() {
        return Err(ParseError::Empty);
    }
    let (first, r) = next_line(rest).ok_or(ParseError::NoHeaderEnd)?;
    rest = r;
    let first = std::str::from_utf8(first).map_err(|_| ParseError::NotUtf8)?;
    if first.len() > MAX_LINE {
        return Err(ParseError::HeaderTooLong);
    }
    let start = parse_start(first)?;
    let mut headers: Vec<Header> = Vec::new();
    loop {
        let (line, r) = next_line(rest).ok_or(ParseError::NoHeaderEnd)?;
        rest = r;
        if line.is_empty() {
            break;
        }
        let line = std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8)?;
        if !clean_value(line) {
            return Err(ParseError::BadHeader);
        }
        if line.starts_with([' ', '\t']) {
            // §7.3.1: a continuation of the previous header's value.
            let last = headers.last_mut().ok_or(ParseError::BadHeader)?;
            let more = line.trim();
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            if last.name.len() + last.value.len() + 2 > MAX_LINE {
                return Err(ParseError::HeaderTooLong);
            }
            continue;
        }
        if line.len() > MAX_LINE {
            return Err(ParseError::HeaderTooLong);
        }
        let (name, value) = line.split_once(':').ok_or(ParseError::BadHeader)?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(ParseError::BadHeader);
        }
        if headers.len() == MAX_HEADERS {
            return Err(ParseError::TooManyHeaders);
        }
        headers.push(Header {
            name: expand(name),
            value: value.trim().to_owned(),
        });
    }
    Ok((Head { start, headers }, rest))
}

/// Parses one datagram as a SIP message. Never panics; every refusal is a [`ParseError`].
pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
    let (head, rest) = parse_head(bytes)?;
    let mut declared: Option<usize> = None;
    for h in head
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Content-Length"))
    {
        let v = h.value.as_str();
        if v.is_empty() || v.len() > 9 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::BadContentLength);
        }
        let n: usize = v.parse().map_err(|_| ParseError::BadContentLength)?;
        if declared.is_some_and(|d| d != n) {
            return Err(ParseError::BadContentLength);
        }
        declared = Some(n);
    }
    let body = match declared {
        Some(n) => rest.get(..n).ok_or(ParseError::BodyTruncated {
            declared: n,
            available: rest.len(),
        })?,
        // §18.3: over UDP the body runs to the end of the datagram.
        None => rest,
    };
    let msg = Message {
        start: head.start,
        headers: head.headers,
        body: body.to_vec(),
    };
    for required in ["Via", "From", "To", "Call-ID", "CSeq"] {
        if msg.header(required).is_none_or(str::is_empty) {
            return Err(ParseError::MissingHeader(required));
        }
    }
    let (_, cseq_method) = msg.cseq().ok_or(ParseError::BadCSeq)?;
    if let StartLine::Request { method, .. } = &msg.start {
        if method != cseq_method {
            return Err(ParseError::BadCSeq);
        }
    }
    Ok(msg)
}

impl Message {
    /// The start line.
    pub fn start(&self) -> &StartLine {
        &self.start
    }

    /// The method, for a request.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI, for a request.
    pub fn uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, for a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// All header fields, in order.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The first value of the header `name` (full name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Every value of the header `name` (full name, any case), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// The body (cut to `Content-Length`).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> Option<(u32, &str)> {
        cseq_of(self.header("CSeq")?)
    }

    /// The `branch` parameter of the topmost Via.
    pub fn top_branch(&self) -> Option<&str> {
        let via = self.header("Via")?;
        let first = split_outside_quotes(via, ',').next()?;
        param(first, "branch")
    }

    /// The event package of the `Event` header (`ua-profile`, `check-sync`), lowercased.
    pub fn event_package(&self) -> Option<String> {
        let ev = self.header("Event")?;
        let pkg = split_outside_quotes(ev, ';').next()?.trim();
        (!pkg.is_empty()).then(|| pkg.to_ascii_lowercase())
    }

    /// The PnP parameters of a `SUBSCRIBE` with `Event: ua-profile` (RFC 6080), or `None` for
    /// any other message.
    ///
    /// vendor, model and version are the Event parameters, unquoted. The MAC is taken from
    /// the first of: the Request-URI user, the From user, the To user (Snom, Gigaset,
    /// Grandstream, Yealink: `MAC%3a<mac>`, older Yealink `MAC<mac>`, others `MAC=<mac>`), an
    /// Event `mac` parameter, the last word of the User-Agent (Yealink, Fanvil and Htek put
    /// the MAC there in HTTP; some firmwares in SIP too).
    pub fn pnp_info(&self) -> Option<PnpInfo> {
        if self.method() != Some("SUBSCRIBE") || self.event_package()? != "ua-profile" {
            return None;
        }
        let ev = self.header("Event").unwrap_or_default();
        let get = |k: &str| param(ev, k).map(unquote).unwrap_or_default();
        let mac = [self.uri(), self.header("From"), self.header("To")]
            .into_iter()
            .flatten()
            .find_map(|v| mac_of_user(uri_user(uri_of(v))?))
            .or_else(|| param(ev, "mac").and_then(|m| Mac::parse(&unquote(m)).ok()))
            .or_else(|| {
                let ua = self.header("User-Agent")?;
                Mac::parse(ua.split_whitespace().last()?).ok()
            });
        Some(PnpInfo {
            vendor: get("vendor"),
            model: get("model"),
            version: get("version"),
            mac,
        })
    }
}

fn cseq_of(v: &str) -> Option<(u32, &str)> {
    let mut it = v.split_whitespace();
    let n = it.next()?;
    let m = it.next()?;
    if it.next().is_some() || n.len() > 10 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // §8.1.1.5: the number must be below 2^31.
    let n: u32 = n.parse().ok().filter(|n| *n < 1 << 31)?;
    is_token(m).then_some((n, m))
}

/// Splits on `sep` where it is not inside a quoted string or `<...>`.
fn split_outside_quotes(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    let mut from = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            c if c == sep && !quoted && !angle => {
                parts.push(s.get(from..i).unwrap_or_default());
                from = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(s.get(from..).unwrap_or_default());
    parts.into_iter()
}

/// The value of parameter `name` (any case) among the `;` parameters of a header value
/// (after the angle-bracketed URI of a name-addr), quotes kept.
fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    split_outside_quotes(value, ';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn unquote(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    let mut out = String::with_capacity(inner.len());
    let mut esc = false;
    for c in inner.chars() {
        if esc || c != '\\' {
            out.push(c);
            esc = false;
        } else {
            esc = true;
        }
    }
    out
}

/// The URI of a name-addr (`"x" <sip:a@b>;tag=1`) or addr-spec (`sip:a@b;tag=1`) or a bare
/// Request-URI.
pub(crate) fn uri_of(v: &str) -> &str {
    if let Some((_, rest)) = v.split_once('<') {
        return rest.split_once('>').map_or(rest, |(u, _)| u).trim();
    }
    split_outside_quotes(v, ';')
        .next()
        .unwrap_or_default()
        .trim()
}

/// The user part of a `sip:`/`sips:` URI.
fn uri_user(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
        return None;
    }
    rest.split_once('@').map(|(u, _)| u)
}

/// A MAC from a URI user part `MAC%3a0004132a3b4c`, `MAC:...`, `MAC=...`, `MAC...`.
fn mac_of_user(user: &str) -> Option<Mac> {
    // A user part that does not decode is read as it is (the MAC then rarely parses).
    let user = percent_decode(user).unwrap_or_else(|| user.to_owned());
    let rest = user
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("MAC"))
        .and(user.get(3..))?;
    let rest = rest
        .strip_prefix(':')
        .or_else(|| rest.strip_prefix('='))
        .unwrap_or(rest);
    Mac::parse(rest).ok()
}

/// The tag parameter of a From/To value.
pub fn tag_of(v: &str) -> Option<&str> {
    let params = match v.rsplit_once('>') {
        Some((_, p)) => p,
        None => v.split_once(';').map_or("", |(_, p)| p),
    };
    split_outside_quotes(params, ';').find_map(|p| {
        let (k, val) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("tag").then(|| val.trim())
    })
}

/// The user part of a `sip:`/`sips:` Request-URI (before any `;` user parameters),
/// percent-decoded; `None` for another scheme, no user, or an escape that does not decode.
pub(crate) fn dialled(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let (user, _) = rest.split_once('@')?;
    let user = user.split(';').next().unwrap_or_default();
    percent_decode(user)
}

/// The star code a Request-URI `uri` dials after the site's `pattern` (the URI user,
/// percent-decoded: `pattern`, the extension, and `*PIN` when dialled; see
/// [`engine::StarCode::parse`]); `None` for anything else.
pub fn dialled_code(uri: &str, pattern: &str) -> Option<engine::StarCode> {
    engine::StarCode::parse(&dialled(uri)?, pattern)
}

/// The address a Contact `sip:[user@]ip[:port]` names (port 5060 when it has none), with
/// its URI; `None` for a host name, another scheme, port 0 or a URI with spaces or controls.
fn contact_addr(contact: &str) -> Option<(&str, SocketAddr)> {
    let uri = uri_of(contact);
    let rest = uri.strip_prefix("sip:")?;
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostport.split(';').next().unwrap_or_default();
    let addr = hostport.parse::<SocketAddr>().ok().or_else(|| {
        hostport
            .parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 5060))
    })?;
    (addr.port() != 0 && uri.bytes().all(|b| b.is_ascii_graphic())).then_some((uri, addr))
}

/// Where requests to the phone that sent `contact` from `peer` go, and the Request-URI to
/// address them by: the Contact when it is on the source IP (so a forged Contact cannot
/// aim our requests elsewhere); else `sip:<peer>`, sent to `peer`.
pub(crate) fn contact_target(contact: Option<&str>, peer: SocketAddr) -> (String, SocketAddr) {
    match contact.and_then(contact_addr) {
        Some((uri, a)) if a.ip() == peer.ip() => (uri.to_owned(), a),
        _ => (format!("sip:{}", host_port(peer)), peer),
    }
}

/// Fresh identifiers for one transaction or dialog, from caller-supplied random bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// A Via branch, with the RFC 3261 magic cookie `z9hG4bK` (64 random bits).
    pub branch: String,
    /// A From/To tag (48 random bits; §19.3 asks for at least 32).
    pub tag: String,
    /// A Call-ID (80 random bits).
    pub call_id: String,
}

impl Ids {
    /// Identifiers from 24 random bytes: 8 for the branch, 6 for the tag, 10 for the Call-ID.
    pub fn from_random(random: &[u8; 24]) -> Self {
        let (b, rest) = random.split_at(8);
        let (t, c) = rest.split_at(6);
        Self {
            branch: format!("z9hG4bK{}", hex(b)),
            tag: hex(t),
            call_id: hex(c),
        }
    }
}

/// `ip:port` as it goes into a SIP URI or Via (IPv6 in brackets).
pub(crate) fn host_port(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    }
}

/// A response to `req` (§8.2.6): every Via in order, From, To (with `to_tag` added when it
/// has none and the code is above 100), Call-ID, CSeq, then `extra` headers and
/// `Content-Length: 0`. `extra` values must be clean (no CR/LF); unclean ones are skipped.
pub fn response(
    req: &Message,
    code: u16,
    reason: &str,
    to_tag: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let reason = if clean_value(reason) { reason } else { "Error" };
    let _ = write!(out, "SIP/2.0 {code} {reason}\r\n");
    echo_dialog_headers(&mut out, &req.headers, code, to_tag);
    for (k, v) in extra {
        if is_token(k) && clean_value(v) {
            let _ = write!(out, "{k}: {v}\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

fn echo_dialog_headers(out: &mut String, headers: &[Header], code: u16, to_tag: &str) {
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("Via"))
    {
        let _ = write!(out, "Via: {}\r\n", h.value);
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        let Some(h) = headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)) else {
            continue;
        };
        if name == "To" && code > 100 && tag_of(&h.value).is_none() && is_token(to_tag) {
            let _ = write!(out, "To: {};tag={to_tag}\r\n", h.value);
        } else {
            let _ = write!(out, "{name}: {}\r\n", h.value);
        }
    }
}

/// A `400 Bad Request` for a datagram that failed [`parse`], if it can be addressed: its
/// start line and headers parse, it is a request other than ACK (§17.2: never answer an
/// ACK) and it has a Via. The reason phrase and a `Warning: 399` say what was wrong (our
/// own text, never the input). `None` means: drop it silently.
pub fn bad_request(bytes: &[u8], err: &ParseError, to_tag: &str) -> Option<Vec<u8>> {
    let (head, _) = parse_head(bytes).ok()?;
    let StartLine::Request { method, .. } = &head.start else {
        return None;
    };
    if method == "ACK"
        || !head
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("Via"))
    {
        return None;
    }
    let mut out = String::with_capacity(512);
    out.push_str("SIP/2.0 400 Bad Request\r\n");
    echo_dialog_headers(&mut out, &head.headers, 400, to_tag);
    let _ = write!(out, "Warning: 399 lan-relay \"{err}\"\r\n");
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

/// `resp` (built by [`response`], ending in `Content-Length: 0` and the empty line) with a
/// body of `content_type`.
pub(crate) fn with_body(resp: Vec<u8>, content_type: &str, body: &str) -> Vec<u8> {
    let end = b"Content-Length: 0\r\n\r\n";
    let Some(head) = resp.strip_suffix(end.as_slice()) else {
        return resp;
    };
    let mut out = head.to_vec();
    out.extend_from_slice(
        format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    out
}

/// The SDP answer (RFC 3264 §6) to `offer` that accepts the call and sends nothing: one
/// audio stream, `inactive`, with the offer's first static payload type (0, PCMU, when the
/// offer has none); `session` is the `o=` session id (e.g. the time).
pub(crate) fn sdp_answer(offer: &[u8], local: IpAddr, session: u64) -> String {
    let pt = std::str::from_utf8(offer)
        .ok()
        .and_then(|o| {
            o.lines()
                .find_map(|l| l.trim().strip_prefix("m=audio "))
                .and_then(|m| {
                    m.split_whitespace()
                        .skip(2)
                        .find(|p| p.parse::<u8>().is_ok_and(|n| n < 35))
                })
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "0".to_owned());
    let (net, ip) = match local {
        IpAddr::V4(ip) => ("IP4", ip.to_string()),
        IpAddr::V6(ip) => ("IP6", ip.to_string()),
    };
    format!(
        "v=0\r\no=lan-relay {session} 1 IN {net} {ip}\r\ns=star-code\r\nc=IN {net} {ip}\r\n\
         t=0 0\r\nm=audio 9 RTP/AVP {pt}\r\na=inactive\r\n"
    )
}

/// What a `BYE` ending a dialog we answered needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bye<'a> {
    /// The Request-URI: the remote Contact URI.
    pub(crate) target: &'a str,
    /// Our address as the phone reaches it (Via).
    pub(crate) local: SocketAddr,
    /// A fresh Via branch (`z9hG4bK...`).
    pub(crate) branch: &'a str,
    /// Our From: the INVITE's To, with our tag.
    pub(crate) from: &'a str,
    /// Our To: the INVITE's From.
    pub(crate) to: &'a str,
    /// The dialog's Call-ID.
    pub(crate) call_id: &'a str,
}

/// The in-dialog `BYE` (RFC 3261 §15.1.1) that hangs up a call we answered.
pub(crate) fn bye(b: &Bye<'_>) -> Vec<u8> {
    let mut out = String::with_capacity(512);
    let _ = write!(out, "BYE {} SIP/2.0\r\n", b.target);
    let _ = write!(
        out,
        "Via: SIP/2.0/UDP {};branch={};rport\r\n",
        host_port(b.local),
        b.branch
    );
    out.push_str("Max-Forwards: 70\r\n");
    let _ = write!(out, "From: {}\r\n", b.from);
    let _ = write!(out, "To: {}\r\n", b.to);
    let _ = write!(out, "Call-ID: {}\r\n", b.call_id);
    out.push_str("CSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// What a PnP NOTIFY (RFC 6080 §5) needs beyond the SUBSCRIBE it answers.
#[derive(Debug, Clone, Copy)]
pub struct PnpNotify<'a> {
    /// The SUBSCRIBE being answered.
    pub subscribe: &'a Message,
    /// Our address as the phone reaches it (Via sent-by, Contact).
    pub local: SocketAddr,
    /// The Request-URI: the phone's Contact URI, or `sip:<source ip:port>`.
    pub target: &'a str,
    /// Our dialog tag: the To tag of the 200 OK we sent.
    pub tag: &'a str,
    /// A fresh Via branch (`z9hG4bK...`).
    pub branch: &'a str,
    /// Our CSeq number in this dialog.
    pub cseq: u32,
    /// The provisioning URL, sent as the body.
    pub url: &'a str,
}

/// The `NOTIFY` that hands a phone its provisioning URL, in the dialog its SUBSCRIBE opened:
/// From = the SUBSCRIBE's To with our tag, To = its From, same Call-ID; `Event` echoes the
/// phone's own `ua-profile` header (AudioCodes' and MikoPBX's servers do so, and every phone
/// accepts its own parameters back); `Subscription-State: terminated;reason=timeout` (the
/// SUBSCRIBE had `Expires: 0`); `Content-Type: application/url`; the URL as the body.
pub fn pnp_notify(p: &PnpNotify<'_>) -> Result<Vec<u8>, BuildError> {
    let url = p.url;
    if url.is_empty()
        || url.len() > MAX_URL
        || url
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(BuildError::BadUrl);
    }
    for v in [p.target, p.tag, p.branch] {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BuildError::BadValue);
        }
    }
    let sub = p.subscribe;
    let (Some(from), Some(to), Some(call_id)) =
        (sub.header("From"), sub.header("To"), sub.call_id())
    else {
        return Err(BuildError::BadValue);
    };
    let event = sub.header("Event").unwrap_or("ua-profile");
    let local = host_port(p.local);
    let mut out = String::with_capacity(768);
    let _ = write!(out, "NOTIFY {} SIP/2.0\r\n", p.target);
    let _ = write!(
        out,
        "Via: SIP/2.0/UDP {local};branch={};rport\r\n",
        p.branch
    );
    out.push_str("Max-Forwards: 70\r\n");
    match tag_of(to) {
        Some(_) => {
            let _ = write!(out, "From: {to}\r\n");
        }
        None => {
            let _ = write!(out, "From: {to};tag={}\r\n", p.tag);
        }
    }
    let _ = write!(out, "To: {from}\r\n");
    let _ = write!(out, "Call-ID: {call_id}\r\n");
    let _ = write!(out, "CSeq: {} NOTIFY\r\n", p.cseq);
    let _ = write!(out, "Contact: <sip:{local}>\r\n");
    let _ = write!(out, "Event: {event}\r\n");
    out.push_str("Subscription-State: terminated;reason=timeout\r\n");
    out.push_str("Content-Type: application/url\r\n");
    let _ = write!(out, "Content-Length: {}\r\n\r\n{url}", url.len());
    Ok(out.into_bytes())
}

/// The `Event` header value of the re-provisioning NOTIFY for `vendor`; `reboot` asks the
/// phone to restart as well. The values and their sources live in each vendor's home in
/// the engine ([`Vendor::check_sync_event`]), so the LAN NOTIFY and any other path agree.
pub fn check_sync_event(vendor: Vendor, reboot: bool) -> Result<&'static str, BuildError> {
    vendor
        .check_sync_event(reboot)
        .ok_or(BuildError::Unsupported(vendor))
}

/// What a re-provisioning NOTIFY needs.
#[derive(Debug, Clone, Copy)]
pub struct CheckSync<'a> {
    /// The phone's vendor (picks the Event, see [`check_sync_event`]).
    pub vendor: Vendor,
    /// Ask for a restart too.
    pub reboot: bool,
    /// Where the phone listens.
    pub phone: SocketAddr,
    /// The phone's SIP user (its account), for the Request-URI and To; `None` sends to
    /// `sip:<ip:port>` (wazo-provd uses `anonymous@<ip>` for phones without an account).
    pub user: Option<&'a str>,
    /// Our address as the phone reaches it (Via, From, Contact).
    pub local: SocketAddr,
    /// Fresh identifiers.
    pub ids: &'a Ids,
}

/// The out-of-dialog `NOTIFY` `Event: check-sync` that makes a phone re-provision (and, for
/// `reboot`, restart). `Subscription-State: terminated` is included because RFC 6665 NOTIFYs
/// carry one and some firmwares check for it.
pub fn check_sync(c: &CheckSync<'_>) -> Result<Vec<u8>, BuildError> {
    let event = check_sync_event(c.vendor, c.reboot)?;
    if let Some(u) = c.user {
        if u.is_empty()
            || !u
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'+".contains(&b))
        {
            return Err(BuildError::BadValue);
        }
    }
    let phone = host_port(c.phone);
    let local = host_port(c.local);
    let target = match c.user {
        Some(u) => format!("sip:{u}@{phone}"),
        None => format!("sip:{phone}"),
    };
    let local_host = match c.local.ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let mut out = String::with_capacity(512);
    let _ = write!(out, "NOTIFY {target} SIP/2.0\r\n");
    let _ = write!(
        out,
        "Via: SIP/2.0/UDP {local};branch={};rport\r\n",
        c.ids.branch
    );
    out.push_str("Max-Forwards: 70\r\n");
    let _ = write!(
        out,
        "From: <sip:provisioning@{local_host}>;tag={}\r\n",
        c.ids.tag
    );
    let _ = write!(out, "To: <{target}>\r\n");
    let _ = write!(out, "Call-ID: {}@{local_host}\r\n", c.ids.call_id);
    out.push_str("CSeq: 1 NOTIFY\r\n");
    let _ = write!(out, "Contact: <sip:provisioning@{local}>\r\n");
    let _ = write!(out, "Event: {event}\r\n");
    out.push_str("Subscription-State: terminated\r\n");
    out.push_str("Content-Length: 0\r\n\r\n");
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SUBSCRIBEs shaped like each vendor's boot-time PnP request (from the vendors' manuals
    /// and public captures; see `sip::pnp` for the sources).
    pub(crate) const YEALINK: &str = "SUBSCRIBE sip:MAC%3a805e0c4d796d@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.0.121:5060;branch=z9hG4bK1234;rport\r\n\
From: <sip:MAC%3a805e0c4d796d@224.0.1.75>;tag=77aa\r\n\
To: <sip:MAC%3a805e0c4d796d@224.0.1.75>\r\n\
Call-ID: 1536537630@192.168.0.121\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:192.168.0.121:5060>\r\n\
Max-Forwards: 70\r\n\
User-Agent: Yealink SIP-T53W 96.87.0.16 80:5e:0c:4d:79:6d\r\n\
Expires: 0\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Yealink\";model=\"T53W\";version=\"96.87.0.16\"\r\n\
Accept: application/url\r\n\
Content-Length: 0\r\n\r\n";

    const YEALINK_OLD: &str = "SUBSCRIBE sip:MAC001565f4f9e1@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.1.3.239:5059;branch=z9hG4bK1536537630\r\n\
From: <sip:MAC001565f4f9e1@224.0.1.75>;tag=1536537630\r\n\
To: <sip:MAC001565f4f9e1@224.0.1.75>\r\n\
Call-ID: 1536537630@10.1.3.239\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:MAC001565f4f9e1@10.1.3.239:5059>\r\n\
User-Agent: Yealink W52P 25.81.0.10\r\n\
Expires: 0\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"yealink\";model=\"W52P\";version=\"25.81.0.10\"\r\n\
Accept: application/url\r\n\
Content-Length: 0\r\n\r\n";

    pub(crate) const SNOM: &str = "SUBSCRIBE sip:MAC%3a000413A1B2C3@intern.snom.de SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.10.67:5060;rport\r\n\
From: <sip:MAC%3a000413A1B2C3@intern.snom.de>;tag=658512961\r\n\
To: <sip:MAC%3a000413A1B2C3@intern.snom.de>\r\n\
Call-ID: 1930770594@192.168.10.67\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"OEM\";model=\"OEM\";version=\"10.1.39.11\"\r\n\
Expires: 0\r\n\
Accept: application/url\r\n\
Contact: <sip:192.168.10.67:5060>\r\n\
Content-Length: 0\r\n\r\n";

    pub(crate) const GRANDSTREAM: &str = "SUBSCRIBE sip:MAC%3AC074AD112233@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.2:5080;branch=z9hG4bK1611133778;rport\r\n\
From: <sip:MAC%3AC074AD112233@224.0.1.75>;tag=395400190\r\n\
To: <sip:MAC%3AC074AD112233@224.0.1.75>\r\n\
Call-ID: 490431573-5080-1@BJC.BGI.IG.DA\r\n\
CSeq: 20000 SUBSCRIBE\r\n\
Contact: <sip:192.168.1.2:5080>\r\n\
Max-Forwards: 70\r\n\
User-Agent: Grandstream GRP2612W 1.0.5.67\r\n\
Expires: 0\r\n\
Supported: replaces, path\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GRP2612W\";version=\"1.0.5.67\"\r\n\
Accept: application/url\r\n\
Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE\r\n\
Content-Length: 0\r\n\r\n";

    // Not a capture: no public capture of a Fanvil SUBSCRIBE was found (issue 14's search;
    // `tests/conformance/fanvil.json` has `pnp: null` for that reason). Built from the
    // standard shape (PROTOCOLS.md section 3), with the generic model "VOIP PHONE" several
    // X-series firmwares report (PBX vendors' notes); the codec must read it either way.
    pub(crate) const FANVIL: &str = "SUBSCRIBE sip:MAC%3a0c383e0a0b0c@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.50:5060;branch=z9hG4bK2216497193;rport\r\n\
From: <sip:MAC%3a0c383e0a0b0c@224.0.1.75>;tag=1428369125\r\n\
To: <sip:MAC%3a0c383e0a0b0c@224.0.1.75>\r\n\
Call-ID: 1773218813@192.168.1.50\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:192.168.1.50:5060>\r\n\
Max-Forwards: 70\r\n\
User-Agent: Fanvil X4U 2.12.1.3 0c383e0a0b0c\r\n\
Expires: 0\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Fanvil\";model=\"VOIP PHONE\";version=\"2.12.1.3\"\r\n\
Accept: application/url\r\n\
Content-Length: 0\r\n\r\n";

    // Not a capture: no public capture of an Htek SUBSCRIBE was found (issue 14's search;
    // `tests/conformance/htek.json` says so). Built from the standard shape, with compact
    // headers here to exercise them.
    pub(crate) const HTEK: &str = "SUBSCRIBE sip:MAC%3a001fc1123456@224.0.1.75 SIP/2.0\r\n\
v: SIP/2.0/UDP 192.168.1.60:5060;branch=z9hG4bK889900;rport\r\n\
f: <sip:MAC%3a001fc1123456@224.0.1.75>;tag=5151\r\n\
t: <sip:MAC%3a001fc1123456@224.0.1.75>\r\n\
i: 4242@192.168.1.60\r\n\
CSeq: 1 SUBSCRIBE\r\n\
m: <sip:192.168.1.60:5060>\r\n\
User-Agent: Htek UC926 2.0.4.6.41 00:1f:c1:12:34:56\r\n\
Expires: 0\r\n\
o: ua-profile;profile-type=\"device\";vendor=\"Htek\";\r\n \
model=\"UC926\";version=\"2.0.4.6.41\"\r\n\
Accept: application/url\r\n\
l: 0\r\n\r\n";

    fn mac(s: &str) -> Option<Mac> {
        Some(Mac::parse(s).unwrap())
    }

    #[test]
    fn every_vendor_subscribe_yields_pnp_info() {
        let cases = [
            (YEALINK, "Yealink", "T53W", "96.87.0.16", "805e0c4d796d"),
            (YEALINK_OLD, "yealink", "W52P", "25.81.0.10", "001565f4f9e1"),
            (SNOM, "OEM", "OEM", "10.1.39.11", "000413a1b2c3"),
            (
                GRANDSTREAM,
                "Grandstream",
                "GRP2612W",
                "1.0.5.67",
                "c074ad112233",
            ),
            (FANVIL, "Fanvil", "VOIP PHONE", "2.12.1.3", "0c383e0a0b0c"),
            (HTEK, "Htek", "UC926", "2.0.4.6.41", "001fc1123456"),
        ];
        for (raw, vendor, model, version, m) in cases {
            let msg = parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{e}: {raw}"));
            let info = msg.pnp_info().expect("ua-profile SUBSCRIBE");
            assert_eq!(info.vendor, vendor);
            assert_eq!(info.model, model);
            assert_eq!(info.version, version);
            assert_eq!(info.mac, mac(m), "{raw}");
        }
    }

    #[test]
    fn compact_and_folded_headers_are_expanded() {
        let m = parse(HTEK.as_bytes()).unwrap();
        assert_eq!(m.call_id(), Some("4242@192.168.1.60"));
        assert_eq!(m.header("via"), m.header("Via"));
        assert_eq!(m.top_branch(), Some("z9hG4bK889900"));
        assert_eq!(m.header("contact"), Some("<sip:192.168.1.60:5060>"));
        assert!(m
            .header("Event")
            .unwrap()
            .contains(";\u{20}model=\"UC926\""));
        assert_eq!(m.cseq(), Some((1, "SUBSCRIBE")));
        assert_eq!(m.event_package().as_deref(), Some("ua-profile"));
    }

    #[test]
    fn mac_from_other_places() {
        // No MAC in the URIs: the Event `mac` parameter, then the User-Agent's last word.
        let base = "SUBSCRIBE sip:224.0.1.75 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\
From: <sip:1.2.3.4>;tag=1\r\nTo: <sip:224.0.1.75>\r\nCall-ID: x\r\nCSeq: 1 SUBSCRIBE\r\n";
        let a = format!("{base}Event: ua-profile;mac=\"00:04:13:aa:bb:cc\"\r\n\r\n");
        assert_eq!(
            parse(a.as_bytes()).unwrap().pnp_info().unwrap().mac,
            mac("000413aabbcc")
        );
        let b = format!("{base}User-Agent: Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc\r\nEvent: ua-profile\r\n\r\n");
        assert_eq!(
            parse(b.as_bytes()).unwrap().pnp_info().unwrap().mac,
            mac("001565aabbcc")
        );
        let c = format!("{base}Event: ua-profile\r\n\r\n");
        let info = parse(c.as_bytes()).unwrap().pnp_info().unwrap();
        assert_eq!((info.mac, info.vendor.as_str()), (None, ""));
        let d = format!("{base}Event: dialog\r\n\r\n");
        assert!(parse(d.as_bytes()).unwrap().pnp_info().is_none());
        // `MAC=` (Planet and other OEMs).
        let e = base.replace("sip:1.2.3.4>", "sip:MAC=00304fa99948@224.0.1.75>");
        let e = format!("{e}Event: ua-profile\r\n\r\n");
        assert_eq!(
            parse(e.as_bytes()).unwrap().pnp_info().unwrap().mac,
            mac("00304fa99948")
        );
    }

    #[test]
    fn body_cut_to_content_length_and_lf_only_tolerated() {
        let raw = "NOTIFY sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a>;tag=1\nTo: <sip:b>\n\
Call-ID: c\nCSeq: 2 NOTIFY\nContent-Length: 4\n\nabcdEXTRA";
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.body(), b"abcd");
        // Leading keep-alive CRLFs are skipped; only them is Empty.
        assert!(parse(format!("\r\n\r\n{raw}").as_bytes()).is_ok());
        assert_eq!(parse(b"\r\n\r\n"), Err(ParseError::Empty));
        assert_eq!(parse(b""), Err(ParseError::Empty));
    }

    #[test]
    fn responses_parse() {
        let raw =
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nFrom: <sip:a>;tag=1\r\n\
To: <sip:b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n";
        let m = parse(raw.as_bytes()).unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.top_branch(), Some("z9hG4bKx"));
        assert_eq!(m.cseq(), Some((1, "NOTIFY")));
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        let ok = YEALINK;
        let cases: Vec<(Vec<u8>, ParseError)> = vec![
            (b"SUBSCRIBE sip:x SIP/2.0".to_vec(), ParseError::NoHeaderEnd),
            (
                ok.replace("\r\n\r\n", "\r\n").into_bytes(),
                ParseError::NoHeaderEnd,
            ),
            (b"HELLO\r\n\r\n".to_vec(), ParseError::BadStartLine),
            (
                b"SUBSCRIBE  SIP/2.0\r\n\r\n".to_vec(),
                ParseError::BadStartLine,
            ),
            (
                b"SUBSCRIBE sip:x SIP/3.0\r\n\r\n".to_vec(),
                ParseError::BadVersion,
            ),
            (b"SIP/2.0 99 Low\r\n\r\n".to_vec(), ParseError::BadStartLine),
            (
                b"SIP/2.0 2000 OK\r\n\r\n".to_vec(),
                ParseError::BadStartLine,
            ),
            (
                ok.replacen("Expires: 0", "Expires 0", 1).into_bytes(),
                ParseError::BadHeader,
            ),
            (
                ok.replacen("Expires: 0", "Exp ires: 0", 1).into_bytes(),
                ParseError::BadHeader,
            ),
            (
                ok.replacen("Expires: 0", "Expires: \u{1}0", 1).into_bytes(),
                ParseError::BadHeader,
            ),
            (
                ok.replacen("Via:", " Via:", 1).into_bytes(),
                ParseError::BadHeader,
            ),
            (
                ok.replacen("Content-Length: 0", "Content-Length: 10", 1)
                    .into_bytes(),
                ParseError::BodyTruncated {
                    declared: 10,
                    available: 0,
                },
            ),
            (
                ok.replacen("Content-Length: 0", "Content-Length: -1", 1)
                    .into_bytes(),
                ParseError::BadContentLength,
            ),
            (
                ok.replacen("Content-Length: 0", "Content-Length: 0\r\nl: 3", 1)
                    .into_bytes(),
                ParseError::BadContentLength,
            ),
            (
                ok.replacen("Call-ID: 1536537630@192.168.0.121\r\n", "", 1)
                    .into_bytes(),
                ParseError::MissingHeader("Call-ID"),
            ),
            (
                ok.replacen("CSeq: 1 SUBSCRIBE\r\n", "", 1).into_bytes(),
                ParseError::MissingHeader("CSeq"),
            ),
            (
                ok.replacen(
                    "Via: SIP/2.0/UDP 192.168.0.121:5060;branch=z9hG4bK1234;rport\r\n",
                    "",
                    1,
                )
                .into_bytes(),
                ParseError::MissingHeader("Via"),
            ),
            (
                ok.replacen("CSeq: 1 SUBSCRIBE", "CSeq: 1 NOTIFY", 1)
                    .into_bytes(),
                ParseError::BadCSeq,
            ),
            (
                ok.replacen("CSeq: 1 SUBSCRIBE", "CSeq: x SUBSCRIBE", 1)
                    .into_bytes(),
                ParseError::BadCSeq,
            ),
            (
                ok.replacen("CSeq: 1 SUBSCRIBE", "CSeq: 4294967296 SUBSCRIBE", 1)
                    .into_bytes(),
                ParseError::BadCSeq,
            ),
            (
                ok.replacen("Expires: 0", &format!("X-Big: {}", "a".repeat(3000)), 1)
                    .into_bytes(),
                ParseError::HeaderTooLong,
            ),
            (
                ok.replacen("Expires: 0", &"X: y\r\n".repeat(70), 1)
                    .into_bytes(),
                ParseError::TooManyHeaders,
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(
                parse(&raw),
                Err(want.clone()),
                "{}",
                String::from_utf8_lossy(&raw)
            );
            assert!(!want.to_string().is_empty());
        }
        let mut non_utf8 = ok.as_bytes().to_vec();
        non_utf8[60] = 0xff;
        assert_eq!(parse(&non_utf8), Err(ParseError::NotUtf8));
        let huge = format!("{ok}{}", "x".repeat(MAX_MESSAGE));
        assert!(matches!(
            parse(huge.as_bytes()),
            Err(ParseError::TooLarge { .. })
        ));
        // A non-UTF-8 body is fine: only headers must be text.
        let with_body = ok.replacen("Content-Length: 0", "Content-Length: 2", 1);
        let mut b = with_body.into_bytes();
        b.extend_from_slice(&[0xff, 0xfe]);
        assert_eq!(parse(&b).unwrap().body(), &[0xff, 0xfe]);
    }

    #[test]
    fn every_prefix_and_byte_flip_is_handled() {
        for raw in [YEALINK, SNOM, GRANDSTREAM, FANVIL, HTEK] {
            let b = raw.as_bytes();
            for i in 0..b.len() {
                let _ = parse(&b[..i]);
                let mut m = b.to_vec();
                m[i] ^= 0x80;
                let _ = parse(&m);
                m[i] = b'\n';
                if let Err(e) = parse(&m) {
                    let _ = bad_request(&m, &e, "t");
                }
            }
        }
    }

    #[test]
    fn ok_response_echoes_and_tags() {
        let m = parse(GRANDSTREAM.as_bytes()).unwrap();
        let r = response(
            &m,
            200,
            "OK",
            "abc123",
            &[
                ("Expires", "0"),
                ("Contact", "<sip:10.0.0.1:5060>"),
                ("Bad", "x\r\ny: z"),
            ],
        );
        let r = parse(&r).unwrap();
        assert_eq!(r.status(), Some(200));
        assert_eq!(r.header("Via"), m.header("Via"));
        assert_eq!(r.header("From"), m.header("From"));
        assert_eq!(tag_of(r.header("To").unwrap()), Some("abc123"));
        assert_eq!(r.call_id(), m.call_id());
        assert_eq!(r.cseq(), Some((20000, "SUBSCRIBE")));
        assert_eq!(r.header("Expires"), Some("0"));
        assert_eq!(r.header("Bad"), None);
        // Two Vias, in order.
        let two = YEALINK.replacen(
            "Via:",
            "Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKtop\r\nVia:",
            1,
        );
        let r = parse(&response(
            &parse(two.as_bytes()).unwrap(),
            489,
            "Bad Event",
            "t",
            &[],
        ))
        .unwrap();
        let vias: Vec<_> = r.headers_named("Via").collect();
        assert_eq!(vias.len(), 2);
        assert!(vias[0].contains("z9hG4bKtop"));
    }

    #[test]
    fn bad_request_only_when_addressable() {
        let missing = YEALINK.replacen("Call-ID: 1536537630@192.168.0.121\r\n", "", 1);
        let e = parse(missing.as_bytes()).unwrap_err();
        let r = bad_request(missing.as_bytes(), &e, "t1").unwrap();
        let r = String::from_utf8(r).unwrap();
        assert!(r.starts_with("SIP/2.0 400 Bad Request\r\n"));
        assert!(r.contains("Warning: 399 lan-relay \"missing Call-ID header\""));
        assert!(r.contains("To: <sip:MAC%3a805e0c4d796d@224.0.1.75>;tag=t1"));
        // No Via, an ACK, a response, garbage: silence.
        for raw in [
            YEALINK.replacen(
                "Via: SIP/2.0/UDP 192.168.0.121:5060;branch=z9hG4bK1234;rport\r\n",
                "",
                1,
            ),
            "ACK sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n".to_owned(),
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n".to_owned(),
            "\u{1}\u{2}garbage".to_owned(),
        ] {
            let e = parse(raw.as_bytes()).unwrap_err();
            assert!(bad_request(raw.as_bytes(), &e, "t").is_none(), "{raw}");
        }
    }

    #[test]
    fn pnp_notify_is_in_the_subscribe_dialog() {
        let sub = parse(SNOM.as_bytes()).unwrap();
        let ids = Ids::from_random(&[7; 24]);
        let bytes = pnp_notify(&PnpNotify {
            subscribe: &sub,
            local: "192.168.10.1:5060".parse().unwrap(),
            target: "sip:192.168.10.67:5060",
            tag: &ids.tag,
            branch: &ids.branch,
            cseq: 1,
            url: "http://192.168.10.1:8480/snom/{mac}.xml",
        })
        .unwrap();
        let n = parse(&bytes).unwrap();
        assert_eq!(n.method(), Some("NOTIFY"));
        assert_eq!(n.uri(), Some("sip:192.168.10.67:5060"));
        assert_eq!(n.call_id(), sub.call_id());
        assert_eq!(n.header("To"), sub.header("From"));
        assert_eq!(tag_of(n.header("From").unwrap()), Some(ids.tag.as_str()));
        assert_eq!(n.header("Event"), sub.header("Event"));
        assert_eq!(n.header("Content-Type"), Some("application/url"));
        assert_eq!(
            n.header("Subscription-State"),
            Some("terminated;reason=timeout")
        );
        assert_eq!(n.body(), b"http://192.168.10.1:8480/snom/{mac}.xml");
        assert_eq!(n.top_branch(), Some(ids.branch.as_str()));
        assert!(ids.branch.starts_with("z9hG4bK") && ids.branch.len() == 23);
        for bad in [
            "",
            "http://a b",
            "http://a\r\nX: y",
            &"h".repeat(MAX_URL + 1),
        ] {
            let p = PnpNotify {
                subscribe: &sub,
                local: "1.2.3.4:5060".parse().unwrap(),
                target: "sip:x",
                tag: "t",
                branch: "z9hG4bKb",
                cseq: 1,
                url: bad,
            };
            assert_eq!(pnp_notify(&p), Err(BuildError::BadUrl));
        }
    }

    #[test]
    fn check_sync_per_vendor() {
        let ids = Ids::from_random(&[1; 24]);
        let want = [
            (Vendor::Snom, false, "check-sync;reboot=false"),
            (Vendor::Snom, true, "check-sync;reboot=true"),
            (Vendor::Yealink, false, "check-sync;reboot=false"),
            (Vendor::Yealink, true, "check-sync;reboot=true"),
            (Vendor::Htek, false, "check-sync;reboot=false"),
            (Vendor::Fanvil, false, "check-sync"),
            (Vendor::Grandstream, false, "check-sync"),
            (Vendor::Grandstream, true, "check-sync;reboot=true"),
        ];
        for (vendor, reboot, event) in want {
            let c = CheckSync {
                vendor,
                reboot,
                phone: "10.0.0.9:5062".parse().unwrap(),
                user: Some("201"),
                local: "10.0.0.1:5060".parse().unwrap(),
                ids: &ids,
            };
            let m = parse(&check_sync(&c).unwrap()).unwrap();
            assert_eq!(m.header("Event"), Some(event));
            assert_eq!(m.uri(), Some("sip:201@10.0.0.9:5062"));
            assert_eq!(m.cseq(), Some((1, "NOTIFY")));
            assert_eq!(m.top_branch(), Some(ids.branch.as_str()));
            assert_eq!(m.body(), b"");
        }
        let c = CheckSync {
            vendor: Vendor::Ale,
            reboot: false,
            phone: "10.0.0.9:5060".parse().unwrap(),
            user: None,
            local: "10.0.0.1:5060".parse().unwrap(),
            ids: &ids,
        };
        assert_eq!(check_sync(&c), Err(BuildError::Unsupported(Vendor::Ale)));
        let c = CheckSync {
            vendor: Vendor::Snom,
            user: Some("a\r\nb"),
            ..c
        };
        assert_eq!(check_sync(&c), Err(BuildError::BadValue));
    }

    #[test]
    fn dialled_numbers() {
        assert_eq!(
            dialled("sip:*123*200@10.0.0.1").as_deref(),
            Some("*123*200")
        );
        assert_eq!(
            dialled("sip:%2A123%2a200@10.0.0.1:5060;user=phone").as_deref(),
            Some("*123*200")
        );
        assert_eq!(dialled("sip:%2@x"), None);
        assert_eq!(dialled("tel:123"), None);
        // The code's own rules are the engine's (StarCode::parse); here the URI part.
        let ext = |uri: &str| dialled_code(uri, "*123*").map(|c| c.extension);
        assert_eq!(ext("sip:%2A123%2A200@10.0.0.1").as_deref(), Some("200"));
        assert_eq!(ext("sip:*123*200*4711@10.0.0.1").as_deref(), Some("200"));
        assert_eq!(ext("sip:*123*@10.0.0.1"), None);
        assert_eq!(ext("sip:555@10.0.0.1"), None);
        assert_eq!(dialled_code("sip:555@10.0.0.1", ""), None);
    }

    #[test]
    fn contacts_are_followed_only_to_the_source_ip() {
        let peer: SocketAddr = "10.0.0.5:40000".parse().unwrap();
        let target = |c: &str| contact_target(Some(c), peer);
        assert_eq!(
            target("\"Phone\" <sip:001565aabbcc@10.0.0.5:5062;transport=udp>;expires=60"),
            (
                "sip:001565aabbcc@10.0.0.5:5062;transport=udp".to_owned(),
                "10.0.0.5:5062".parse().unwrap()
            )
        );
        assert_eq!(
            target("sip:10.0.0.5;expires=60"),
            ("sip:10.0.0.5".to_owned(), "10.0.0.5:5060".parse().unwrap()),
            "outside <>, parameters are the header's, not the URI's"
        );
        let fallback = ("sip:10.0.0.5:40000".to_owned(), peer);
        assert_eq!(target("<sip:10.0.0.99:5060>"), fallback, "another IP");
        assert_eq!(target("<sip:phone.example:5060>"), fallback, "a host name");
        assert_eq!(target("<sip:10.0.0.5:0>"), fallback, "port 0");
        assert_eq!(target("<sips:10.0.0.5:5061>"), fallback);
        assert_eq!(contact_target(None, peer), fallback);
        let v6: SocketAddr = "[2001:db8::5]:5060".parse().unwrap();
        assert_eq!(
            contact_target(None, v6),
            ("sip:[2001:db8::5]:5060".to_owned(), v6)
        );
    }

    #[test]
    fn sdp_answer_is_inactive_with_the_offered_codec() {
        let offer = b"v=0\r\nm=audio 4000 RTP/AVP 8 0 101\r\n";
        let a = sdp_answer(offer, "10.0.0.1".parse().unwrap(), 1);
        assert!(a.contains("c=IN IP4 10.0.0.1\r\n"));
        assert!(a.contains("m=audio 9 RTP/AVP 8\r\n"));
        assert!(a.contains("a=inactive"));
        assert!(sdp_answer(b"", "::1".parse().unwrap(), 1).contains("m=audio 9 RTP/AVP 0"));
    }

    #[test]
    fn a_response_with_a_body_and_a_bye_parse_back() {
        let invite =
            "INVITE sip:*123*200@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKi\r\n\
                      From: <sip:001565aabbcc@r>;tag=p\r\nTo: <sip:*123*200@r>\r\nCall-ID: i1\r\n\
                      CSeq: 1 INVITE\r\n\r\n";
        let invite = parse(invite.as_bytes()).unwrap();
        let ok = with_body(
            response(&invite, 200, "OK", "us", &[]),
            "application/sdp",
            "v=0\r\n",
        );
        let m = parse(&ok).unwrap();
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.header("Content-Type"), Some("application/sdp"));
        assert_eq!(m.body(), b"v=0\r\n");
        let bye = bye(&Bye {
            target: "sip:001565aabbcc@10.0.0.5:5062",
            local: "10.0.0.1:5070".parse().unwrap(),
            branch: "z9hG4bKb",
            from: "<sip:*123*200@r>;tag=us",
            to: "<sip:001565aabbcc@r>;tag=p",
            call_id: "i1",
        });
        let m = parse(&bye).unwrap();
        assert_eq!(m.method(), Some("BYE"));
        assert_eq!(m.uri(), Some("sip:001565aabbcc@10.0.0.5:5062"));
        assert_eq!(m.top_branch(), Some("z9hG4bKb"));
        assert_eq!(
            m.header("Via"),
            Some("SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKb;rport")
        );
        assert_eq!(m.cseq(), Some((1, "BYE")));
        assert_eq!(m.call_id(), Some("i1"));
    }

    #[test]
    fn hostile_uris_and_bodies_never_panic() {
        let peer: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        for raw in [
            "sip:%2A123%2A200@127.0.0.1:5060;user=phone",
            "\"x\" <sip:001565aabbcc@[::1]:5062;transport=udp>;expires=60",
            "v=0\r\nm=audio 4000 RTP/AVP 8 0 101\r\n",
        ] {
            for m in crate::testing::mutations(raw.as_bytes()) {
                let s = String::from_utf8_lossy(&m);
                let _ = dialled(&s).map(|d| engine::StarCode::parse(&d, "*123*"));
                let _ = sdp_answer(&m, IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);
                let _ = contact_target(Some(&s), peer);
                let _ = mac_of_user(&s);
            }
        }
    }
}
