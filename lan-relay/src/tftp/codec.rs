//! TFTP packets parsed from and encoded to bytes, the netascii transform and option
//! negotiation: pure functions, no I/O, no clock.
//!
//! Packets (RFC 1350 section 5), all numbers big-endian:
//!
//! | opcode | packet | body |
//! |---|---|---|
//! | 1 | RRQ   | file name NUL, mode NUL, then options (RFC 2347): name NUL value NUL ... |
//! | 2 | WRQ   | as RRQ |
//! | 3 | DATA  | block number (u16), 0..=blksize bytes |
//! | 4 | ACK   | block number (u16) |
//! | 5 | ERROR | error code (u16), message NUL |
//! | 6 | OACK  | options (RFC 2347): name NUL value NUL ... |
//!
//! Parsing rules, each with where it comes from:
//! - The mode is case-insensitive `netascii`, `octet` or `mail` (RFC 1350); any other mode is
//!   [`ParseError::UnknownMode`]. `mail` parses (as [`Mode::Mail`]) so the server can refuse it
//!   with its own message; RFC 1350 itself calls it obsolete.
//! - Every string field must end with a NUL ([`ParseError::MissingNul`]); the file name must be
//!   non-empty and UTF-8 (TFTP names are netascii, a subset).
//! - Option names are case-insensitive (RFC 2347). An option name without a value is
//!   [`ParseError::OptionWithoutValue`]; NUL bytes after the last complete option are padding
//!   some clients add and are ignored. More than [`MAX_OPTIONS`] options is
//!   [`ParseError::TooManyOptions`].
//! - A duplicate option: the first occurrence counts, later ones are ignored (RFC 2347 says
//!   nothing; this matches what most servers do). Unknown options are ignored (RFC 2347: the
//!   server "should simply omit" options it does not support from the OACK).
//!
//! Negotiation ([`negotiate`], for read requests):
//! - `blksize` 8..=65464 (RFC 2348), answered with `min(asked, limit)`. The default limit,
//!   [`DEFAULT_MAX_BLKSIZE`] = 1468, is what fits in one Ethernet frame (1500 - 20 IP - 8 UDP -
//!   4 TFTP), so no block is IP-fragmented on a LAN; it allows the 1428 many phones ask for.
//! - `timeout` 1..=255 seconds (RFC 2349), echoed as asked (the server may not change it).
//! - `tsize` (RFC 2349): the client sends 0 on a read request and the server answers the size;
//!   answered only when the size is known (see [`negotiate`]) and not 0: curl 7.88 takes an
//!   OACK with `tsize 0` for an error, so an empty file is sent without announcing its size.
//! - `windowsize` 1..=65535 (RFC 7440), answered with `min(asked, limit)`, default limit
//!   [`DEFAULT_MAX_WINDOWSIZE`].
//! - Out-of-range or non-numeric values: the option is left out of the OACK (RFC 2347 allows
//!   the server to omit an option it does not accept), and the transfer uses the default.
//!
//! Netascii (RFC 1350 via RFC 764): on the wire a line ends with CR LF and a bare CR is sent as
//! CR NUL; [`NetasciiEncoder`] does this as a streaming transform over chunks of a file.

use std::fmt;

/// The most options a request may carry ([`ParseError::TooManyOptions`] past it).
pub const MAX_OPTIONS: usize = 32;
/// The default cap on `blksize`: one Ethernet frame's payload (see the module docs).
pub const DEFAULT_MAX_BLKSIZE: u16 = 1468;
/// The default cap on `windowsize` (RFC 7440).
pub const DEFAULT_MAX_WINDOWSIZE: u16 = 64;
/// The block size without options (RFC 1350).
pub const DEFAULT_BLKSIZE: u16 = 512;
/// The smallest and largest `blksize` a client may ask for (RFC 2348).
pub const BLKSIZE_RANGE: std::ops::RangeInclusive<u16> = 8..=65464;

/// A packet's opcode (RFC 1350, RFC 2347 for OACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Opcode {
    /// Read request.
    Rrq = 1,
    /// Write request.
    Wrq = 2,
    /// A block of data.
    Data = 3,
    /// Acknowledgment.
    Ack = 4,
    /// Error.
    Error = 5,
    /// Option acknowledgment (RFC 2347).
    Oack = 6,
}

/// The transfer mode of a request (RFC 1350).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Text: lines end in CR LF on the wire, a bare CR is CR NUL.
    Netascii,
    /// Raw bytes.
    Octet,
    /// Obsolete mail mode (RFC 1350); parsed so it can be refused.
    Mail,
}

impl Mode {
    fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("octet") {
            Some(Self::Octet)
        } else if s.eq_ignore_ascii_case("netascii") {
            Some(Self::Netascii)
        } else if s.eq_ignore_ascii_case("mail") {
            Some(Self::Mail)
        } else {
            None
        }
    }

    /// The mode's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Netascii => "netascii",
            Self::Octet => "octet",
            Self::Mail => "mail",
        }
    }
}

/// TFTP error codes (RFC 1350, RFC 2347 for 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 0: not defined, see the message.
    NotDefined,
    /// 1: file not found.
    FileNotFound,
    /// 2: access violation.
    AccessViolation,
    /// 3: disk full or allocation exceeded.
    DiskFull,
    /// 4: illegal TFTP operation.
    IllegalOperation,
    /// 5: unknown transfer ID.
    UnknownTid,
    /// 6: file already exists.
    FileExists,
    /// 7: no such user.
    NoSuchUser,
    /// 8: option negotiation refused (RFC 2347).
    OptionRefused,
    /// Any other code a peer sent.
    Other(u16),
}

impl ErrorCode {
    /// The number on the wire.
    pub fn code(self) -> u16 {
        match self {
            Self::NotDefined => 0,
            Self::FileNotFound => 1,
            Self::AccessViolation => 2,
            Self::DiskFull => 3,
            Self::IllegalOperation => 4,
            Self::UnknownTid => 5,
            Self::FileExists => 6,
            Self::NoSuchUser => 7,
            Self::OptionRefused => 8,
            Self::Other(c) => c,
        }
    }

    /// The code for a number on the wire.
    pub fn from_code(code: u16) -> Self {
        match code {
            0 => Self::NotDefined,
            1 => Self::FileNotFound,
            2 => Self::AccessViolation,
            3 => Self::DiskFull,
            4 => Self::IllegalOperation,
            5 => Self::UnknownTid,
            6 => Self::FileExists,
            7 => Self::NoSuchUser,
            8 => Self::OptionRefused,
            c => Self::Other(c),
        }
    }
}

/// A read or write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The file name as sent (never interpreted here).
    pub filename: &'a str,
    /// The transfer mode.
    pub mode: Mode,
    /// The options, names as sent (compare case-insensitively), duplicates kept in order.
    pub options: Vec<(&'a str, &'a str)>,
}

/// A TFTP packet, borrowing from the datagram it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Read request.
    Rrq(Request<'a>),
    /// Write request.
    Wrq(Request<'a>),
    /// A block of data.
    Data {
        /// The block number (wraps past 65535).
        block: u16,
        /// The block's bytes.
        data: &'a [u8],
    },
    /// Acknowledgment of a block (0 acknowledges an OACK).
    Ack {
        /// The block number.
        block: u16,
    },
    /// An error; ends the transfer.
    Error {
        /// The code.
        code: ErrorCode,
        /// The message (lossy: invalid UTF-8 replaced).
        message: String,
    },
    /// Option acknowledgment.
    Oack {
        /// The accepted options.
        options: Vec<(&'a str, &'a str)>,
    },
}

/// Why a datagram is not a valid TFTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Shorter than its opcode and fixed fields.
    TooShort,
    /// An opcode other than 1..=6.
    UnknownOpcode(u16),
    /// A string field without its terminating NUL.
    MissingNul,
    /// An empty file name.
    EmptyFileName,
    /// A file name, mode or option that is not UTF-8.
    NotUtf8,
    /// A mode other than netascii, octet and mail.
    UnknownMode,
    /// An option name with no value after it.
    OptionWithoutValue,
    /// More than [`MAX_OPTIONS`] options.
    TooManyOptions,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => f.write_str("packet too short"),
            Self::UnknownOpcode(op) => write!(f, "unknown opcode {op}"),
            Self::MissingNul => f.write_str("string field without a terminating NUL"),
            Self::EmptyFileName => f.write_str("empty file name"),
            Self::NotUtf8 => f.write_str("text field is not UTF-8"),
            Self::UnknownMode => f.write_str("unknown transfer mode"),
            Self::OptionWithoutValue => f.write_str("option without a value"),
            Self::TooManyOptions => f.write_str("too many options"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one datagram.
pub fn parse(datagram: &[u8]) -> Result<Packet<'_>, ParseError> {
    let (op, rest) = split_u16(datagram).ok_or(ParseError::TooShort)?;
    match op {
        1 => parse_request(rest).map(Packet::Rrq),
        2 => parse_request(rest).map(Packet::Wrq),
        3 => {
            let (block, data) = split_u16(rest).ok_or(ParseError::TooShort)?;
            Ok(Packet::Data { block, data })
        }
        4 => {
            // Trailing bytes after the block number are tolerated (some stacks pad).
            let (block, _) = split_u16(rest).ok_or(ParseError::TooShort)?;
            Ok(Packet::Ack { block })
        }
        5 => {
            let (code, rest) = split_u16(rest).ok_or(ParseError::TooShort)?;
            // A missing NUL on an error message is common and harmless: take what is there.
            let msg = match rest.iter().position(|&b| b == 0) {
                Some(end) => rest.get(..end).unwrap_or_default(),
                None => rest,
            };
            Ok(Packet::Error {
                code: ErrorCode::from_code(code),
                message: String::from_utf8_lossy(msg).into_owned(),
            })
        }
        6 => parse_options(rest).map(|options| Packet::Oack { options }),
        op => Err(ParseError::UnknownOpcode(op)),
    }
}

/// The opcode of a datagram, without parsing the rest.
pub fn opcode(datagram: &[u8]) -> Option<u16> {
    split_u16(datagram).map(|(op, _)| op)
}

fn split_u16(b: &[u8]) -> Option<(u16, &[u8])> {
    let (head, rest) = b.split_first_chunk::<2>()?;
    Some((u16::from_be_bytes(*head), rest))
}

/// Splits off one NUL-terminated UTF-8 string.
fn take_str(b: &[u8]) -> Result<(&str, &[u8]), ParseError> {
    let end = b
        .iter()
        .position(|&c| c == 0)
        .ok_or(ParseError::MissingNul)?;
    let (s, rest) = b.split_at_checked(end).ok_or(ParseError::MissingNul)?;
    let rest = rest.get(1..).unwrap_or_default();
    let s = std::str::from_utf8(s).map_err(|_| ParseError::NotUtf8)?;
    Ok((s, rest))
}

fn parse_request(b: &[u8]) -> Result<Request<'_>, ParseError> {
    let (filename, rest) = take_str(b)?;
    if filename.is_empty() {
        return Err(ParseError::EmptyFileName);
    }
    let (mode, rest) = take_str(rest)?;
    let mode = Mode::parse(mode).ok_or(ParseError::UnknownMode)?;
    let options = parse_options(rest)?;
    Ok(Request {
        filename,
        mode,
        options,
    })
}

fn parse_options(mut b: &[u8]) -> Result<Vec<(&str, &str)>, ParseError> {
    let mut options = Vec::new();
    loop {
        if b.iter().all(|&c| c == 0) {
            return Ok(options);
        }
        let (name, rest) = take_str(b)?;
        if rest.is_empty() {
            return Err(ParseError::OptionWithoutValue);
        }
        let (value, rest) = take_str(rest).map_err(|e| match e {
            ParseError::MissingNul => ParseError::OptionWithoutValue,
            e => e,
        })?;
        if options.len() == MAX_OPTIONS {
            return Err(ParseError::TooManyOptions);
        }
        options.push((name, value));
        b = rest;
    }
}

/// Appends a DATA header (opcode and block number); the caller appends the bytes.
pub fn encode_data_header(block: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(&(Opcode::Data as u16).to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
}

/// A DATA packet's 4-byte header, for writing in place into a reused buffer.
pub fn data_header(block: u16) -> [u8; 4] {
    let [a, b] = (Opcode::Data as u16).to_be_bytes();
    let [c, d] = block.to_be_bytes();
    [a, b, c, d]
}

/// Appends an ACK.
pub fn encode_ack(block: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(&(Opcode::Ack as u16).to_be_bytes());
    out.extend_from_slice(&block.to_be_bytes());
}

/// Appends an ERROR. NUL bytes in `message` are dropped so the packet stays well-formed.
pub fn encode_error(code: ErrorCode, message: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(Opcode::Error as u16).to_be_bytes());
    out.extend_from_slice(&code.code().to_be_bytes());
    out.extend(message.bytes().filter(|&b| b != 0));
    out.push(0);
}

/// Appends an OACK with `options` (names and values without NULs, as from [`negotiate`]).
pub fn encode_oack<N: AsRef<str>, V: AsRef<str>>(options: &[(N, V)], out: &mut Vec<u8>) {
    out.extend_from_slice(&(Opcode::Oack as u16).to_be_bytes());
    for (name, value) in options {
        out.extend(name.as_ref().bytes().filter(|&b| b != 0));
        out.push(0);
        out.extend(value.as_ref().bytes().filter(|&b| b != 0));
        out.push(0);
    }
}

/// Appends a request (RRQ or WRQ); used by tests and clients.
pub fn encode_request(op: Opcode, req: &Request<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(&(op as u16).to_be_bytes());
    for s in [req.filename, req.mode.as_str()] {
        out.extend(s.bytes().filter(|&b| b != 0));
        out.push(0);
    }
    for (name, value) in &req.options {
        for s in [name, value] {
            out.extend(s.bytes().filter(|&b| b != 0));
            out.push(0);
        }
    }
}

/// The server's limits for negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest `blksize` granted (clamped into 8..=65464).
    pub max_blksize: u16,
    /// The largest `windowsize` granted (at least 1).
    pub max_windowsize: u16,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_blksize: DEFAULT_MAX_BLKSIZE,
            max_windowsize: DEFAULT_MAX_WINDOWSIZE,
        }
    }
}

/// The outcome of negotiation: the values the transfer uses and the OACK to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Negotiated {
    /// Bytes per DATA block.
    pub blksize: u16,
    /// Blocks sent before waiting for an ACK (1 = RFC 1350 lock-step).
    pub windowsize: u16,
    /// The retransmission timeout the client asked for, in seconds.
    pub timeout: Option<u8>,
    /// The size announced in the OACK, if any.
    pub tsize: Option<u64>,
    /// The accepted options in the order the client sent them, names in lower case: send an
    /// OACK with these if non-empty; if empty, start with DATA block 1 (RFC 2347).
    pub oack: Vec<(&'static str, String)>,
}

/// Negotiates a read request's options (RFC 2347/2348/2349/7440) against `limits`.
///
/// `size` is the number of bytes that will be sent (the file's size in octet mode, the
/// converted size in netascii when known), used to answer `tsize`; with `None` `tsize` is
/// left out of the OACK.
pub fn negotiate(options: &[(&str, &str)], limits: Limits, size: Option<u64>) -> Negotiated {
    let max_blksize = limits
        .max_blksize
        .clamp(*BLKSIZE_RANGE.start(), *BLKSIZE_RANGE.end());
    let max_windowsize = limits.max_windowsize.max(1);
    let mut n = Negotiated {
        blksize: DEFAULT_BLKSIZE,
        windowsize: 1,
        timeout: None,
        tsize: None,
        oack: Vec::new(),
    };
    let mut seen: [bool; 4] = [false; 4];
    for (name, value) in options {
        let (slot, key) = if name.eq_ignore_ascii_case("blksize") {
            (0, "blksize")
        } else if name.eq_ignore_ascii_case("timeout") {
            (1, "timeout")
        } else if name.eq_ignore_ascii_case("tsize") {
            (2, "tsize")
        } else if name.eq_ignore_ascii_case("windowsize") {
            (3, "windowsize")
        } else {
            continue;
        };
        let Some(seen) = seen.get_mut(slot) else {
            continue;
        };
        if *seen {
            continue;
        }
        *seen = true;
        let Some(v) = parse_number(value) else {
            continue;
        };
        match slot {
            0 => {
                if v < u64::from(*BLKSIZE_RANGE.start()) || v > u64::from(*BLKSIZE_RANGE.end()) {
                    continue;
                }
                let b = u16::try_from(v).unwrap_or(max_blksize).min(max_blksize);
                n.blksize = b;
                n.oack.push((key, b.to_string()));
            }
            1 => {
                let Ok(t) = u8::try_from(v) else { continue };
                if t == 0 {
                    continue;
                }
                n.timeout = Some(t);
                n.oack.push((key, t.to_string()));
            }
            2 => {
                // curl (7.88) aborts on an OACK with tsize 0: an empty file announces none.
                let Some(size) = size.filter(|&s| s > 0) else {
                    continue;
                };
                n.tsize = Some(size);
                n.oack.push((key, size.to_string()));
            }
            _ => {
                let Ok(w) = u16::try_from(v) else { continue };
                if w == 0 {
                    continue;
                }
                let w = w.min(max_windowsize);
                n.windowsize = w;
                n.oack.push((key, w.to_string()));
            }
        }
    }
    n
}

/// A decimal number of at most 20 digits, nothing else (no sign, no spaces).
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Converts bytes to netascii (LF -> CR LF, CR -> CR NUL), chunk by chunk.
///
/// Every byte maps on its own (RFC 764's rule is applied literally, as tftpd-hpa does: a
/// CR LF pair in the file is sent as CR NUL CR LF, which a client decodes back to CR LF), so
/// chunk boundaries never matter and the transform needs no state across chunks.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetasciiEncoder;

impl NetasciiEncoder {
    /// A new encoder.
    pub fn new() -> Self {
        Self
    }

    /// Appends the netascii form of `input` to `out`.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 16 + 2);
        for &b in input {
            match b {
                b'\n' => out.extend_from_slice(b"\r\n"),
                b'\r' => out.extend_from_slice(b"\r\0"),
                b => out.push(b),
            }
        }
    }

    /// The netascii length of `input`, for `tsize` on a netascii transfer.
    pub fn encoded_len(input: &[u8]) -> u64 {
        let extra = input.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
        input.len() as u64 + extra as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rrq(bytes: &[u8]) -> Result<Request<'_>, ParseError> {
        match parse(bytes)? {
            Packet::Rrq(r) => Ok(r),
            other => panic!("not an RRQ: {other:?}"),
        }
    }

    #[test]
    fn every_packet_type_round_trips() {
        let req = Request {
            filename: "001565aabbcc.cfg",
            mode: Mode::Octet,
            options: vec![("blksize", "1428"), ("tsize", "0")],
        };
        for op in [Opcode::Rrq, Opcode::Wrq] {
            let mut b = Vec::new();
            encode_request(op, &req, &mut b);
            let p = parse(&b).unwrap();
            match (op, p) {
                (Opcode::Rrq, Packet::Rrq(r)) | (Opcode::Wrq, Packet::Wrq(r)) => assert_eq!(r, req),
                (op, p) => panic!("{op:?} parsed as {p:?}"),
            }
        }
        let mut b = Vec::new();
        encode_data_header(7, &mut b);
        b.extend_from_slice(b"abc");
        assert_eq!(data_header(7).as_slice(), b.get(..4).unwrap());
        assert_eq!(
            parse(&b).unwrap(),
            Packet::Data {
                block: 7,
                data: b"abc"
            }
        );
        assert_eq!(
            parse(&[0, 3, 0, 1]).unwrap(),
            Packet::Data {
                block: 1,
                data: b""
            }
        );
        let mut b = Vec::new();
        encode_ack(65535, &mut b);
        assert_eq!(b, [0, 4, 255, 255]);
        assert_eq!(parse(&b).unwrap(), Packet::Ack { block: 65535 });
        let mut b = Vec::new();
        encode_error(ErrorCode::FileNotFound, "File not\0 found", &mut b);
        assert_eq!(b, b"\0\x05\0\x01File not found\0");
        assert_eq!(
            parse(&b).unwrap(),
            Packet::Error {
                code: ErrorCode::FileNotFound,
                message: "File not found".into()
            }
        );
        let mut b = Vec::new();
        encode_oack(&[("blksize", "1428"), ("tsize", "3000000")], &mut b);
        assert_eq!(b, b"\0\x06blksize\x001428\0tsize\x003000000\0");
        assert_eq!(
            parse(&b).unwrap(),
            Packet::Oack {
                options: vec![("blksize", "1428"), ("tsize", "3000000")]
            }
        );
        for c in 0..=9 {
            assert_eq!(ErrorCode::from_code(c).code(), c);
        }
    }

    #[test]
    fn modes_are_case_insensitive_and_unknown_ones_refused() {
        assert_eq!(rrq(b"\0\x01f\0OCTET\0").unwrap().mode, Mode::Octet);
        assert_eq!(rrq(b"\0\x01f\0NetAscii\0").unwrap().mode, Mode::Netascii);
        assert_eq!(rrq(b"\0\x01f\0mail\0").unwrap().mode, Mode::Mail);
        assert_eq!(parse(b"\0\x01f\0binary\0"), Err(ParseError::UnknownMode));
        assert_eq!(parse(b"\0\x01f\0\0"), Err(ParseError::UnknownMode));
    }

    #[test]
    fn malformed_packets_are_typed_errors() {
        assert_eq!(parse(b""), Err(ParseError::TooShort));
        assert_eq!(parse(b"\0"), Err(ParseError::TooShort));
        assert_eq!(parse(b"\0\x03\0"), Err(ParseError::TooShort));
        assert_eq!(parse(b"\0\x04"), Err(ParseError::TooShort));
        assert_eq!(parse(b"\0\x05\0"), Err(ParseError::TooShort));
        assert_eq!(parse(b"\0\x07abc"), Err(ParseError::UnknownOpcode(7)));
        assert_eq!(parse(b"\0\0"), Err(ParseError::UnknownOpcode(0)));
        assert_eq!(parse(b"\0\x01"), Err(ParseError::MissingNul));
        assert_eq!(parse(b"\0\x01file"), Err(ParseError::MissingNul));
        assert_eq!(parse(b"\0\x01file\0octet"), Err(ParseError::MissingNul));
        assert_eq!(parse(b"\0\x01\0octet\0"), Err(ParseError::EmptyFileName));
        assert_eq!(parse(b"\0\x01\xff\xfe\0octet\0"), Err(ParseError::NotUtf8));
        assert_eq!(
            parse(b"\0\x01f\0octet\0blksize"),
            Err(ParseError::MissingNul)
        );
        assert_eq!(
            parse(b"\0\x01f\0octet\0blksize\0"),
            Err(ParseError::OptionWithoutValue)
        );
        assert_eq!(
            parse(b"\0\x01f\0octet\0blksize\x001428"),
            Err(ParseError::OptionWithoutValue)
        );
        let mut giant = b"\0\x01f\0octet\0".to_vec();
        for i in 0..=MAX_OPTIONS {
            giant.extend_from_slice(format!("opt{i}\0v\0").as_bytes());
        }
        assert_eq!(parse(&giant), Err(ParseError::TooManyOptions));
        // Error messages without their NUL are tolerated.
        assert_eq!(
            parse(b"\0\x05\0\x08no").unwrap(),
            Packet::Error {
                code: ErrorCode::OptionRefused,
                message: "no".into()
            }
        );
        for e in [
            ParseError::TooShort,
            ParseError::UnknownOpcode(9),
            ParseError::MissingNul,
        ] {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn trailing_nul_padding_is_ignored() {
        let r = rrq(b"\0\x01f\0octet\0\0\0\0").unwrap();
        assert!(r.options.is_empty());
        let r = rrq(b"\0\x01f\0octet\0tsize\x000\0\0").unwrap();
        assert_eq!(r.options, [("tsize", "0")]);
    }

    #[test]
    fn negotiation_follows_the_rfcs() {
        let l = Limits::default();
        let n = negotiate(
            &[
                ("BLKSIZE", "1428"),
                ("tsize", "0"),
                ("timeout", "3"),
                ("WindowSize", "16"),
            ],
            l,
            Some(3_000_000),
        );
        assert_eq!(
            (n.blksize, n.windowsize, n.timeout, n.tsize),
            (1428, 16, Some(3), Some(3_000_000))
        );
        assert_eq!(
            n.oack,
            [
                ("blksize", "1428".to_owned()),
                ("tsize", "3000000".to_owned()),
                ("timeout", "3".to_owned()),
                ("windowsize", "16".to_owned())
            ]
        );
        // Clamped to the limits.
        let n = negotiate(&[("blksize", "65464"), ("windowsize", "65535")], l, None);
        assert_eq!(
            (n.blksize, n.windowsize),
            (DEFAULT_MAX_BLKSIZE, DEFAULT_MAX_WINDOWSIZE)
        );
        // Out of range or not numbers: left out, defaults used.
        for (k, v) in [
            ("blksize", "7"),
            ("blksize", "65465"),
            ("blksize", "-1"),
            ("blksize", " 512"),
            ("blksize", ""),
            ("blksize", "99999999999999999999999"),
            ("timeout", "0"),
            ("timeout", "256"),
            ("windowsize", "0"),
            ("windowsize", "65536"),
            ("tsize", "x"),
        ] {
            let n = negotiate(&[(k, v)], l, Some(5));
            assert!(n.oack.is_empty(), "{k}={v}");
            assert_eq!(
                (n.blksize, n.windowsize, n.timeout, n.tsize),
                (512, 1, None, None)
            );
        }
        // tsize unknown or 0: omitted.
        assert!(negotiate(&[("tsize", "0")], l, None).oack.is_empty());
        assert!(negotiate(&[("tsize", "0")], l, Some(0)).oack.is_empty());
        // Duplicates: the first counts. Unknown options: ignored.
        let n = negotiate(
            &[
                ("blksize", "1024"),
                ("Blksize", "1428"),
                ("multicast", ""),
                ("x", "1"),
            ],
            l,
            None,
        );
        assert_eq!(n.blksize, 1024);
        assert_eq!(n.oack, [("blksize", "1024".to_owned())]);
        // A first duplicate that is invalid still shadows the later one.
        assert!(negotiate(&[("blksize", "1"), ("blksize", "1024")], l, None)
            .oack
            .is_empty());
        // Silly limits are made sane.
        let n = negotiate(
            &[("blksize", "8"), ("windowsize", "4")],
            Limits {
                max_blksize: 0,
                max_windowsize: 0,
            },
            None,
        );
        assert_eq!((n.blksize, n.windowsize), (8, 1));
        // Nothing asked: lock-step 512, no OACK.
        let n = negotiate(&[], l, Some(1));
        assert!(n.oack.is_empty());
        assert_eq!((n.blksize, n.windowsize), (512, 1));
    }

    #[test]
    fn netascii_encodes_line_ends_across_chunks() {
        let input = b"a\nb\rc\r\nd\r";
        let mut whole = Vec::new();
        NetasciiEncoder::new().encode(input, &mut whole);
        assert_eq!(whole, b"a\r\nb\r\0c\r\0\r\nd\r\0");
        assert_eq!(NetasciiEncoder::encoded_len(input), whole.len() as u64);
        for split in 0..=input.len() {
            let (x, y) = input.split_at(split);
            let mut e = NetasciiEncoder::new();
            let mut out = Vec::new();
            e.encode(x, &mut out);
            e.encode(y, &mut out);
            assert_eq!(out, whole, "split at {split}");
        }
    }
}
