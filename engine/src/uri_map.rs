//! URI mappings: an administrator maps an arbitrary request path (e.g. the fixed file name
//! an old Yealink firmware asks for) to a template.

use serde::{Deserialize, Serialize};

use crate::detect::normalize;
use crate::error::{Error, ErrorKind, Result};

/// A request path mapped to a template. Deserialising validates and normalises like
/// [`UriMapping::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMapping")]
pub struct UriMapping {
    path: String,
    template: String,
}

impl UriMapping {
    /// Creates a mapping, normalising the path (leading `/`, `.` and empty segments, query
    /// string removed). Fails for a path that is empty or tries to leave the tree.
    pub fn new(path: &str, template: &str) -> Result<Self> {
        let segments = normalize(path).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "the path contains '..', a backslash, a control character or a bad %-escape",
            )
            .with_name("path")
        })?;
        if segments.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "the path is empty").with_name("path"));
        }
        if segments
            .first()
            .is_some_and(|s| s == crate::detect::PHONEBOOK_DIR || s == crate::detect::FIRMWARE_DIR)
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "paths under phonebook/ and firmware/ are served by the system and cannot be mapped",
            )
            .with_name("path"));
        }
        if template.trim().is_empty() {
            return Err(
                Error::new(ErrorKind::InvalidInput, "no template given").with_name("template")
            );
        }
        Ok(Self {
            path: segments.join("/"),
            template: template.trim().to_owned(),
        })
    }

    /// The normalised path, without a leading `/` (e.g. `y000000000028.cfg`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The template the path is mapped to.
    pub fn template(&self) -> &str {
        &self.template
    }
}

#[derive(Deserialize)]
struct RawMapping {
    path: String,
    template: String,
}

impl TryFrom<RawMapping> for UriMapping {
    type Error = Error;
    fn try_from(r: RawMapping) -> Result<Self> {
        Self::new(&r.path, &r.template)
    }
}

/// The mapping for the normalised `path`, if any. Paths compare exactly (case-sensitive,
/// as web servers and TFTP servers compare file names).
pub(crate) fn find<'a>(mappings: &'a [UriMapping], path: &str) -> Option<&'a UriMapping> {
    mappings.iter().find(|m| m.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{detect, PhoneRequest, Resource};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn mapped_path_wins_over_vendor_rules() {
        let maps = [UriMapping::new("/y000000000028.cfg", "old-yealink").unwrap()];
        let d = detect(
            &PhoneRequest {
                path: "y000000000028.cfg",
                ..Default::default()
            },
            &maps,
        );
        assert_eq!(
            d.resource,
            Resource::Mapped {
                path: "y000000000028.cfg".into(),
                template: "old-yealink".into()
            }
        );
        let d = detect(
            &PhoneRequest {
                path: "/Y000000000028.cfg",
                ..Default::default()
            },
            &maps,
        );
        assert!(!matches!(d.resource, Resource::Mapped { .. }));
    }

    #[test]
    fn bad_mappings_are_refused() {
        assert!(UriMapping::new("/../x", "t").is_err());
        assert!(UriMapping::new("/", "t").is_err());
        assert!(UriMapping::new("/a.cfg", " ").is_err());
        assert_eq!(
            UriMapping::new("//a/./b.cfg?x", "t").unwrap().path(),
            "a/b.cfg"
        );
    }
}
