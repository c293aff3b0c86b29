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
//! Each vendor lives in its own module (`vendor/yealink.rs`, ...), which knows its file
//! names, User-Agent, default config, parameter merge, phonebook and firmware formats.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access;
mod audit;
mod detect;
mod diff;
pub mod encoding;
mod error;
mod firmware;
mod inventory;
mod mac;
mod model;
mod params;
mod phonebook;
mod policy;
mod preview;
mod range;
mod render;
pub mod rps;
mod sample;
mod secret;
mod template;
mod tz;
mod uri_map;
mod vendors;
mod xml;

pub use access::{
    basic_auth, first_access_token, is_token_shaped, provisioning_password, site_token,
    steady_token, token_hash, window_open, BasicAuth, MissCounter, MissPolicy, TOKEN_LEN,
};
pub use audit::{audit_pin, audit_sip_password, Audit, Finding, Strength};
pub use detect::{
    detect, device_config_path, firmware_path, is_plain_file_name, phonebook_path, Detection,
    PathMatch, PhoneRequest, PnpInfo, Resource, UaInfo, FIRMWARE_DIR, PHONEBOOK_DIR,
};
pub use diff::{diff_lines, unified_diff, DiffKind, DiffRow};
pub use error::{Error, ErrorKind, Result};
pub use firmware::{check_upload, pick_firmware, validate_row, FirmwareRow, Quota};
pub use inventory::{
    config_content_type, directory, firmware_url, profile, Answer, BlfEntry, Inventory, PhoneEntry,
    PhonebookEntry, PnpChoice, PnpReason, PnpUrl, Refusal, Site, SiteSettings, StarCode,
    StarCodeRefusal, User,
};
pub use mac::Mac;
pub use model::{BlfKey, Contact, Device, Language, Line, Profile, Transport};
pub use params::{AdditionalParams, Param, Section, MAX_PARAMS_BYTES};
pub use phonebook::{merge_contacts, render_phonebook, MAX_ENTRIES as MAX_PHONEBOOK_ENTRIES};
pub use policy::{Decision, DenyReason, MacPolicy};
pub use preview::{
    check_params, check_template, preview, vendors, Diagnostic, DiagnosticSource, Preview,
    PreviewRequest, TemplateDraft, VendorInfo, SECRET_MASK,
};
pub use range::{answer_range, RangeAnswer};
pub use render::{default_config, render_common};
pub use sample::{
    default_model, reference_profile, sample_mac, sample_profile, sample_profile_with,
};
pub use secret::{ct_eq, Pii, Secret};
pub use template::{
    validate_template, Composition, Renderer, Template, TemplateStyle, MAX_TEMPLATE_BYTES,
    PLACEHOLDERS,
};
pub use tz::TimeZone;
pub use uri_map::UriMapping;
pub use vendors::{CommonContext, ConfigSyntax, RpsApi, Vendor};
pub use xml::{check_well_formed, escape as xml_escape};
