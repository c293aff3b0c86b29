//! A small XML tree for the vendors whose configs and phonebooks are XML: parse (with
//! quick-xml), merge, and write back in one canonical layout; plus escaping and the
//! well-formedness check that templates with XML output must pass.
//!
//! Canonical layout (generators write exactly this, so parse + write is the identity on
//! their output): an optional declaration line; each element on its own line, indented two
//! spaces per level; an element with only text is written on one line
//! (`<a x="1">text</a>`); an element with neither text nor children is `<a x="1"/>`;
//! lines end with `\n`.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use crate::error::{Error, ErrorKind, Result};

/// The deepest nesting accepted. Vendor files nest three or four levels; the limit keeps
/// the recursive walks (normalising, writing, dropping) far from the stack's end, even on
/// wasm32.
const MAX_DEPTH: usize = 32;

/// A node in an element's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
    Comment(String),
}

/// An element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
}

/// A document: the declaration (as written) and the root element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    pub(crate) decl: Option<String>,
    pub(crate) root: Element,
}

impl Element {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The concatenated text children.
    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            if let Node::Text(t) = c {
                s.push_str(t);
            }
        }
        s
    }

    /// Replaces all text children with `text` (keeps element children).
    pub(crate) fn set_text(&mut self, text: &str) {
        self.children.retain(|c| !matches!(c, Node::Text(_)));
        if !text.is_empty() {
            self.children.insert(0, Node::Text(text.to_owned()));
        }
    }

    pub(crate) fn has_element_children(&self) -> bool {
        self.children.iter().any(|c| matches!(c, Node::Element(_)))
    }

    pub(crate) fn elements(&self) -> impl Iterator<Item = &Self> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element named `name` (tests read generated documents with it).
    #[cfg(test)]
    pub(crate) fn child(&self, name: &str) -> Option<&Self> {
        self.elements().find(|e| e.name == name)
    }

    /// The first child named `name`, created at the end if missing.
    pub(crate) fn child_or_insert(&mut self, name: &str) -> &mut Self {
        let pos = self
            .children
            .iter()
            .position(|c| matches!(c, Node::Element(e) if e.name == name));
        let idx = match pos {
            Some(i) => i,
            None => {
                self.children.push(Node::Element(Self::new(name)));
                self.children.len() - 1
            }
        };
        match &mut self.children[idx] {
            Node::Element(e) => e,
            // invariant: idx points at an element, found or pushed just above.
            _ => unreachable!("child_or_insert index is an element"),
        }
    }

    /// Replaces the first child element for which `same` is true with `new` (in place), or
    /// appends `new` if there is none.
    pub(crate) fn upsert(&mut self, new: Self, same: impl Fn(&Self) -> bool) {
        for c in &mut self.children {
            if let Node::Element(e) = c {
                if same(e) {
                    *e = new;
                    return;
                }
            }
        }
        self.children.push(Node::Element(new));
    }

    /// Parses a string holding exactly one element (with optional surrounding whitespace).
    pub(crate) fn parse_fragment_one(s: &str) -> Result<Self> {
        let mut els = parse_fragment(s)?;
        if els.len() != 1 {
            return Err(Error::new(
                ErrorKind::InvalidXml,
                format!("expected one element, found {}", els.len()),
            ));
        }
        Ok(els.remove(0))
    }

    fn write(&self, depth: usize, out: &mut String) {
        for _ in 0..depth {
            out.push_str("  ");
        }
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape_into(v, out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>\n");
            return;
        }
        let only_text = self.children.iter().all(|c| matches!(c, Node::Text(_)));
        if only_text {
            out.push('>');
            escape_into(&self.text(), out);
            push_close(&self.name, out);
            return;
        }
        out.push_str(">\n");
        for c in &self.children {
            match c {
                Node::Element(e) => e.write(depth + 1, out),
                Node::Text(t) => {
                    indent(depth + 1, out);
                    escape_into(t, out);
                    out.push('\n');
                }
                Node::Comment(t) => {
                    indent(depth + 1, out);
                    out.push_str("<!--");
                    out.push_str(t);
                    out.push_str("-->\n");
                }
            }
        }
        indent(depth, out);
        push_close(&self.name, out);
    }
}

fn indent(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn push_close(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

impl Document {
    /// Parses a whole document: optional declaration, comments, exactly one root element.
    pub(crate) fn parse(s: &str) -> Result<Self> {
        let mut reader = Reader::from_str(s);
        let mut decl = None;
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let pos = reader.buffer_position();
            let ev = reader
                .read_event()
                .map_err(|e| xml_err(s, pos, &e.to_string()))?;
            match ev {
                Event::Decl(d) => {
                    if root.is_some() || !stack.is_empty() {
                        return Err(xml_err(s, pos, "XML declaration after the root element"));
                    }
                    decl = Some(format!("<?{}?>", String::from_utf8_lossy(&d)));
                }
                Event::Start(b) => {
                    if root.is_some() && stack.is_empty() {
                        return Err(xml_err(s, pos, "more than one root element"));
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(xml_err(
                            s,
                            pos,
                            &format!("elements nested deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    stack.push(start_element(&b, s, pos)?);
                }
                Event::Empty(b) => {
                    let el = start_element(&b, s, pos)?;
                    close(el, &mut stack, &mut root, s, pos)?;
                }
                Event::End(_) => {
                    // quick-xml checks that end names match their start.
                    let Some(el) = stack.pop() else {
                        return Err(xml_err(s, pos, "closing tag without an opening tag"));
                    };
                    close(el, &mut stack, &mut root, s, pos)?;
                }
                Event::Text(t) => {
                    let text = t
                        .decode()
                        .map_err(|e| xml_err(s, pos, &e.to_string()))?
                        .into_owned();
                    push_text(&mut stack, &text, s, pos)?;
                }
                Event::GeneralRef(r) => {
                    let text = resolve_ref(&r)
                        .ok_or_else(|| xml_err(s, pos, "undefined entity reference"))?;
                    push_text(&mut stack, &text, s, pos)?;
                }
                Event::CData(c) => {
                    let text = String::from_utf8_lossy(&c).into_owned();
                    push_text(&mut stack, &text, s, pos)?;
                }
                Event::Comment(c) => {
                    if let Some(top) = stack.last_mut() {
                        top.children
                            .push(Node::Comment(String::from_utf8_lossy(&c).into_owned()));
                    }
                }
                Event::PI(_) => {}
                Event::DocType(_) => {
                    return Err(xml_err(s, pos, "DOCTYPE is not accepted"));
                }
                Event::Eof => break,
            }
        }
        if let Some(open) = stack.last() {
            return Err(xml_err(
                s,
                s.len() as u64,
                &format!("<{}> is not closed", open.name),
            ));
        }
        let mut root = root.ok_or_else(|| xml_err(s, s.len() as u64, "no root element"))?;
        normalize_text(&mut root);
        Ok(Self { decl, root })
    }

    /// Writes the document in the canonical layout.
    pub(crate) fn write(&self, out: &mut String) {
        if let Some(d) = &self.decl {
            out.push_str(d);
            out.push('\n');
        }
        self.root.write(0, out);
    }

    pub(crate) fn to_xml(&self) -> String {
        let mut s = String::with_capacity(4096);
        self.write(&mut s);
        s
    }
}

/// Parses a sequence of sibling elements (a fragment), e.g. an Additional Parameters line
/// or a template overlay without a root.
pub(crate) fn parse_fragment(s: &str) -> Result<Vec<Element>> {
    const OPEN: &str = "<fragment-root>";
    let wrapped = format!("{OPEN}{s}</fragment-root>");
    let doc = Document::parse(&wrapped).map_err(|e| {
        // Report the position in the caller's text: the wrapper adds columns to line 1 only.
        let mut out = Error::new(ErrorKind::InvalidXml, e.detail().to_owned());
        if let Some(line) = e.line() {
            let col = e.col().map(|c| {
                if line == 1 {
                    c.saturating_sub(OPEN.len()).max(1)
                } else {
                    c
                }
            });
            out = out.at(line, col);
        }
        out
    })?;
    Ok(doc
        .root
        .children
        .into_iter()
        .filter_map(|c| match c {
            Node::Element(e) => Some(e),
            _ => None,
        })
        .collect())
}

/// Checks that `s` is a well-formed XML document; the error carries line and column.
pub fn check_well_formed(s: &str) -> Result<()> {
    Document::parse(s).map(|_| ())
}

fn close(
    el: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
    s: &str,
    pos: u64,
) -> Result<()> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None => {
            if root.is_some() {
                return Err(xml_err(s, pos, "more than one root element"));
            }
            *root = Some(el);
        }
    }
    Ok(())
}

fn push_text(stack: &mut [Element], text: &str, s: &str, pos: u64) -> Result<()> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        // quick-xml does not check characters; XML 1.0 forbids these, and strict phone
        // parsers reject the file.
        return Err(xml_err(
            s,
            pos,
            "a control character that XML does not allow",
        ));
    }
    match stack.last_mut() {
        Some(top) => {
            if let Some(Node::Text(prev)) = top.children.last_mut() {
                prev.push_str(text);
            } else {
                top.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(xml_err(s, pos, "text outside the root element")),
    }
}

/// Drops whitespace-only text between elements and trims text in mixed content, so that
/// layout is not content.
fn normalize_text(el: &mut Element) {
    let has_elements = el.has_element_children();
    el.children.retain_mut(|c| match c {
        Node::Text(t) => {
            // Whitespace with a line break is layout, not content.
            if !has_elements && t.contains('\n') && t.trim().is_empty() {
                return false;
            }
            if has_elements {
                let trimmed = t.trim();
                if trimmed.is_empty() {
                    return false;
                }
                *t = trimmed.to_owned();
            }
            true
        }
        Node::Element(e) => {
            normalize_text(e);
            true
        }
        Node::Comment(_) => true,
    });
}

fn resolve_ref(r: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    let s = match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    };
    Some(s.to_owned())
}

fn start_element(b: &BytesStart<'_>, s: &str, pos: u64) -> Result<Element> {
    let name = String::from_utf8_lossy(b.name().as_ref()).into_owned();
    if !is_name(&name) {
        return Err(xml_err(
            s,
            pos,
            &format!("{name:?} is not a valid element name"),
        ));
    }
    let mut el = Element::new(&name);
    for a in b.attributes().with_checks(true) {
        let a = a.map_err(|e| xml_err(s, pos, &e.to_string()))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|e| xml_err(s, pos, &e.to_string()))?
            .into_owned();
        el.attrs.push((key, value));
    }
    Ok(el)
}

fn xml_err(s: &str, pos: u64, msg: &str) -> Error {
    let (line, col) = line_col(s, usize::try_from(pos).unwrap_or(usize::MAX));
    Error::new(ErrorKind::InvalidXml, msg.to_owned()).at(line, Some(col))
}

/// 1-based line and column of byte offset `pos` in `s`.
pub(crate) fn line_col(s: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(s.len());
    let before = s.as_bytes().get(..pos).unwrap_or_default();
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// `true` if `s` is an acceptable XML element or attribute name (ASCII subset: a letter or
/// `_` first, then letters, digits, `_`, `-`, `.`, `:`).
pub(crate) fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':'))
}

/// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out);
    out
}

/// `true` if [`escape_into`] would change `s` (markup characters or control characters).
pub(crate) fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| {
        matches!(
            b,
            b'&' | b'<' | b'>' | b'"' | b'\'' | 0..=0x1f | 0x7f | 0xc2
        )
    })
}

/// Appends `s` to `out`, XML-escaped, in one pass; each control character (C0, DEL, C1,
/// the ones [`crate::vendors::line_safe`] replaces) becomes a space. So no value can inject
/// an element or a line, and the output is valid XML 1.0 text and a fixed point of parse +
/// write.
pub(crate) fn escape_into(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut last = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let (rep, len) = match c {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            0..=0x1f | 0x7f => (" ", 1),
            // U+0080..U+009F are encoded as C2 80..C2 9F.
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => (" ", 2),
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(s.get(last..i).unwrap_or_default());
        out.push_str(rep);
        i += len;
        last = i;
    }
    out.push_str(s.get(last..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn canonical_round_trip() {
        let src = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<settings>\n  <phone-settings>\n    <user_name idx=\"1\" perm=\"RW\">204</user_name>\n    <user_pass idx=\"1\" perm=\"RW\">a&amp;b&lt;</user_pass>\n    <empty/>\n  </phone-settings>\n</settings>\n";
        let doc = Document::parse(src).unwrap();
        assert_eq!(doc.to_xml(), src);
        let ps = doc
            .root
            .elements()
            .find(|e| e.name == "phone-settings")
            .unwrap();
        assert_eq!(
            ps.elements()
                .find(|e| e.name == "user_pass")
                .unwrap()
                .text(),
            "a&b<"
        );
    }

    #[test]
    fn malformed_is_refused_with_position() {
        for (s, line) in [
            ("<a>\n<b>\n</a>", 3),
            ("<a></a><b/>", 1),
            ("<a>&bogus;</a>", 1),
            ("text", 1),
            ("<a x=\"1\" x=\"2\"/>", 1),
            ("<a>\n\n", 3),
            ("", 1),
            ("<!DOCTYPE a><a/>", 1),
        ] {
            let e = check_well_formed(s).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidXml, "{s}");
            assert_eq!(e.line(), Some(line), "{s}: {e}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("x\ny\u{1}\u{85}é"), "x y  é");
        for v in [
            "",
            "c1 \u{80}\u{9f} nbsp \u{a0} é € 😀",
            "\u{c2}",
            "tail\u{9f}",
            "a\u{7f}",
        ] {
            let mut want = String::new();
            for ch in crate::vendors::line_safe(v).chars() {
                let mut b = [0; 4];
                match ch {
                    '&' | '<' | '>' | '"' | '\'' => want.push_str(&escape(ch.encode_utf8(&mut b))),
                    c => want.push(c),
                }
            }
            assert_eq!(escape(v), want, "{v:?}");
        }
    }

    #[test]
    fn deep_nesting_and_control_characters_are_refused() {
        let deep = "<a>".repeat(40_000) + &"</a>".repeat(40_000);
        let e = check_well_formed(&deep).unwrap_err();
        assert!(e.detail().contains("nested deeper"), "{e}");
        let ok = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        check_well_formed(&ok).unwrap();
        let e = check_well_formed("<a>x\u{1}y</a>").unwrap_err();
        assert!(e.detail().contains("control character"), "{e}");
        check_well_formed("<a>tab\tand\nnewline</a>").unwrap();
    }

    #[test]
    fn upsert_and_fragment() {
        let mut doc = Document::parse("<r><a idx=\"1\">x</a><a idx=\"2\">y</a></r>").unwrap();
        let new = Element::parse_fragment_one("<a idx=\"2\">z</a>").unwrap();
        doc.root
            .upsert(new, |e| e.name == "a" && e.attr("idx") == Some("2"));
        doc.root
            .upsert(Element::parse_fragment_one("<b>q</b>").unwrap(), |e| {
                e.name == "b"
            });
        assert_eq!(
            doc.to_xml(),
            "<r>\n  <a idx=\"1\">x</a>\n  <a idx=\"2\">z</a>\n  <b>q</b>\n</r>\n"
        );
        assert!(Element::parse_fragment_one("<a/><b/>").is_err());
        let e = parse_fragment("<a/>\n<b>\n</c>").unwrap_err();
        assert_eq!(e.line(), Some(3));
        let e = parse_fragment("<a></b>").unwrap_err();
        assert_eq!((e.line(), e.col()), (Some(1), Some(4)));
    }
}
