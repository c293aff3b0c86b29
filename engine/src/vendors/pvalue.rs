//! P-value XML, shared by the vendors whose configs are `<root version="1"><config
//! version="1"><Pnnn>value</Pnnn>...` (Grandstream's `<gs_provision>`, Htek's
//! `<hl_provision>`): merging a template's output over a config, and placing Additional
//! Parameters. Each vendor keeps its own writer and its own P-codes; only the merge rules
//! live here, so both vendors merge the same way.
//!
//! Rules: an element of the overlay replaces, in place, the element of `<config>` with the
//! same name (and, for Grandstream's version-2 `<item name=..>`, the same `name`
//! attribute), or is appended; a whole document overlay (its root is the vendor's root) may
//! also carry elements beside `<config>` (Grandstream's `<mac>`). A parameter becomes
//! `<Pnnn>value</Pnnn>` (or the raw element written in `<..>` form) and must be a P-code.

use std::fmt::Write as _;

use super::snom::{elements, parse_overlay};
use crate::error::{Error, ErrorKind, Result};
use crate::params::{Param, Section};
use crate::vendors::is_pcode;
use crate::xml::{Document, Element};

/// The element holding the P-values.
pub(crate) const CONFIG: &str = "config";

/// Parses a P-value config whose root must be `root` (`vendor` names it in the error).
pub(crate) fn parse_config(config: &str, root: &str, vendor: &str) -> Result<Document> {
    let doc = Document::parse(config)?;
    if doc.root.name != root {
        return Err(Error::new(
            ErrorKind::InvalidXml,
            format!(
                "a {vendor} config must have <{root}> as its root, not <{}>",
                doc.root.name
            ),
        ));
    }
    Ok(doc)
}

/// Merges `overlay` (a whole `<root>` document, or bare elements) over `config`.
pub(crate) fn overlay(config: &str, overlay: &str, root: &str, vendor: &str) -> Result<String> {
    let mut doc = parse_config(config, root, vendor)?;
    let (items, is_doc) = parse_overlay(overlay, root)?;
    for el in items {
        if el.name == CONFIG {
            let target = doc.root.child_or_insert(CONFIG);
            for c in elements(el) {
                upsert_keyed(target, c);
            }
        } else if is_doc {
            upsert_keyed(&mut doc.root, el);
        } else {
            upsert_keyed(doc.root.child_or_insert(CONFIG), el);
        }
    }
    Ok(doc.to_xml())
}

/// Places the parameters of `section` into `config`'s `<config>`; the others are skipped.
/// Fails, changing nothing, on a parameter that is not a P-code.
pub(crate) fn apply_params(
    config: &str,
    params: &[&Param],
    section: Section,
    root: &str,
    vendor: &str,
) -> Result<String> {
    let mut doc = parse_config(config, root, vendor)?;
    for p in params {
        if p.section != section {
            continue;
        }
        let el = param_element(p, vendor)?;
        upsert_keyed(doc.root.child_or_insert(CONFIG), el);
    }
    Ok(doc.to_xml())
}

/// Replaces the element with the same name (and the same `name` attribute, if any) in
/// place, or appends it.
pub(crate) fn upsert_keyed(parent: &mut Element, el: Element) {
    let name = el.name.clone();
    let key = el.attr("name").map(str::to_owned);
    parent.upsert(el, |e| e.name == name && e.attr("name") == key.as_deref());
}

/// The element a parameter stands for; an error at its line unless it is a P-code.
pub(crate) fn param_element(p: &Param, vendor: &str) -> Result<Element> {
    let bad = |msg: String| Error::new(ErrorKind::InvalidParams, msg).at(p.line, None);
    let el = super::param_element(p, &[])?;
    if !is_pcode(&el.name) {
        let mut msg = String::new();
        let _ = write!(
            msg,
            "{:?} is not a {vendor} P-code such as P3",
            crate::error::clip(&el.name)
        );
        return Err(bad(msg));
    }
    Ok(el)
}
