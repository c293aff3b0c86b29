//! The provisioning engine: everything the edge worker, the LAN relay and the web page need
//! to answer a desk phone, with **no I/O, no clock and no randomness**.
//!
//! The engine takes bytes and values and returns bytes and values. It never opens a socket,
//! reads a file or the clock, or draws random numbers: time and nonces are parameters, and
//! stored data (users, phones, templates, firmware rows) is passed in by the shell. That is
//! what lets the same code run in a Cloudflare Worker, a tokio daemon, a browser tab and a
//! unit test with byte-for-byte the same output.
//!
//! ```text
//!   phone request ──► detect() ──► Detection { vendor, model, mac, resource }
//!                                        │ (shell looks up the phone, checks policy)
//!   Profile + Template + AdditionalParams ──► render_config() ──► bytes for the phone
//! ```
//!
//! # Features
//! - `template-columns` (default): a template error carries its column as well as its line
//!   (minijinja's debug info). The phone worker builds without it: it never shows a template
//!   error, and it is about 8 KB of its gzipped wasm.
//!
//! # Layout
//!
//! | module | holds |
//! |---|---|
//! | `vendors/` | one folder per vendor, everything about it: `mod.rs` (its facts: OUIs, typical model, Additional Parameters sections, RPS kind, check-sync events; User-Agent, file names, default config, overlay, phonebook, firmware), `account.rs` (its PortSIP RPS section and client calls), `rps.rs` (its redirection-service client); `vendors/mod.rs` is the registry: [`Vendor`] and the only map from a vendor to its home |
//! | `detect` | which phone asks for what: path, User-Agent, PnP |
//! | `inputs` | render inputs: [`Device`], [`Line`], [`BlfKey`], [`Contact`], [`Profile`] |
//! | `inventory` | the shells' stored data ([`Inventory`], [`Site`], [`User`], phones) and the answer to a phone's request |
//! | `template`, `render`, `params`, `xml`, `tz` | templates (placeholder and Jinja), rendering, Additional Parameters, XML, time zones |
//! | `phonebook`, `phonebook_source`, `firmware`, `uri_map`, `range` | phonebooks, fetched phonebook sources (formats, who may fetch a URL), firmware rules and uploads, URI mappings, byte ranges |
//! | `access`, `policy`, `secret` | tokens and the provisioning window, MAC allow/deny lists, redacting wrappers and constant-time compare |
//! | `strength` | credential strength of SIP passwords and PINs |
//! | `preview`, `diff`, `sample` | the template preview the page, the edge and the CLI share; line diff; sample phones |
//! | `rps/` | the vendor-neutral redirection-service machinery: `wire` (requests, replies, redaction), `error` (errors, retry policy), `op` (the op state machine), `client` (the account trait and INI reader), `accounts` (PortSIP `system.ini`), `reply` (reading replies, scrubbing secrets), `xmlrpc` |
//! | `encoding`, `error`, `mac` | hex, percent-encoding, base64, digests; the error type; MAC addresses |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access;
mod detect;
mod diff;
pub mod encoding;
mod error;
mod firmware;
mod inputs;
mod inventory;
mod mac;
mod params;
mod phonebook;
mod phonebook_source;
mod policy;
mod preview;
mod range;
mod render;
pub mod rps;
mod sample;
mod secret;
mod star_code;
mod strength;
mod template;
mod template_bound;
mod tz;
mod uri_map;
mod vendors;
mod xml;

pub use access::{
    basic_auth, client_key, first_access_token, is_token_shaped, provisioning_password, site_token,
    steady_token, token_hash, window_open, BasicAuth, MissCounter, MissPolicy, TOKEN_LEN,
};
pub use detect::{
    detect, device_config_path, firmware_path, is_plain_file_name, Detection, PathMatch,
    PhoneRequest, PnpInfo, Resource, UaInfo, FIRMWARE_DIR, PHONEBOOK_DIR,
};
pub use diff::{diff_lines, unified_diff, DiffKind, DiffRow};
pub use error::{Error, ErrorKind, Result};
pub use firmware::{check_upload, pick_firmware, validate_row, FirmwareRow, Quota};
pub use inputs::{BlfKey, Contact, Device, Language, Line, Profile, Transport};
pub use inventory::PhonebookFetch;
pub use inventory::{
    assign_handsets, config_content_type, content_type_of, directory, firmware_url, profile,
    Answer, BlfEntry, HandsetEntry, HandsetUser, Inventory, PhoneEntry, PhonebookEntry, PnpChoice,
    PnpReason, PnpUrl, Refusal, Site, SiteSettings, StarCode, StarCodeMode, StarCodeRefusal, User,
};
pub use mac::Mac;
pub use params::{AdditionalParams, Param, Section, MAX_PARAMS_BYTES};
pub use phonebook::{merge_contacts, render_phonebook, MAX_ENTRIES as MAX_PHONEBOOK_ENTRIES};
pub use phonebook_source::{
    check_contact, check_fetch_status, classify_ip, parse_source, ContactField, Fetcher,
    ParsedSource, SourceFormat, SourceUrl, DEFAULT_FETCH_MINUTES, MAX_FETCH_MINUTES,
    MAX_SOURCE_BYTES, MIN_FETCH_MINUTES,
};
pub use policy::{Decision, DenyReason, MacPolicy};
pub use preview::{
    check_params, check_template, preview, vendors, Diagnostic, DiagnosticSource, Preview,
    PreviewRequest, TemplateDraft, VendorInfo, SECRET_MASK,
};
pub use range::{answer_range, RangeAnswer};
pub use render::{default_config, render_common};
pub use sample::{reference_profile, sample_mac, sample_profile, sample_profile_with};
pub use secret::{ct_eq, Pii, Secret};
pub use star_code::{provisioning_account, StarCodePattern};
pub use strength::{pin_strength, sip_password_strength, Finding, Strength, StrengthReport};
pub use template::{
    template_examples, validate_template, Composition, Renderer, Template, TemplateStyle,
    MAX_TEMPLATE_BYTES, PLACEHOLDERS,
};
pub use template_bound::{MAX_BLF_KEYS, MAX_LINES};
pub use tz::TimeZone;
pub use uri_map::UriMapping;
pub use vendors::{check_blf_layout, CommonContext, ConfigSyntax, Model, RpsApi, Vendor};
pub use xml::{check_well_formed, escape as xml_escape};
