//! Grandstream: STUB, being written.

use crate::detect::{PathMatch, UaInfo};
use crate::error::{Error, ErrorKind, Result};
use crate::mac::Mac;
use crate::model::{Contact, Profile};
use crate::params::Param;
use crate::vendor::{CommonContext, ConfigSyntax, Vendor, VendorModule};

/// Grandstream's module.
pub(crate) struct Grandstream;

impl VendorModule for Grandstream {
    fn vendor(&self) -> Vendor {
        Vendor::Grandstream
    }
    fn syntax(&self) -> ConfigSyntax {
        ConfigSyntax::Xml
    }
    fn parse_user_agent(&self, _ua: &str) -> Option<UaInfo> {
        None
    }
    fn classify_file(&self, _file: &str) -> Option<PathMatch> {
        None
    }
    fn device_file_name(&self, mac: &Mac) -> String {
        format!("{mac}.cfg")
    }
    fn write_config(&self, _profile: &Profile, _out: &mut String) {}
    fn write_common(&self, _file: &str, _common: &CommonContext<'_>, _out: &mut String) {}
    fn overlay(&self, _config: &str, _overlay: &str) -> Result<String> {
        Err(Error::new(ErrorKind::Unsupported, "not yet"))
    }
    fn apply_params(&self, _config: &str, _params: &[&Param]) -> Result<String> {
        Err(Error::new(ErrorKind::Unsupported, "not yet"))
    }
    fn write_phonebook(&self, _title: &str, _contacts: &[Contact], _out: &mut String) {}
    fn firmware_extensions(&self) -> &'static [&'static str] {
        &[]
    }
}
