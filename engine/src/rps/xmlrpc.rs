//! The small part of XML-RPC that Fanvil's FDPS and Snom's legacy API use: a call with
//! string and string-array parameters (written with quick-xml's writer), and a response of
//! values or a fault (read with quick-xml through the engine's XML tree, which refuses
//! DOCTYPEs and deep nesting).

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{classify, status_error, unexpected, HttpReply, HttpRequest, Next, RpsError};
use crate::secret::Secret;
use crate::xml::{Document, Element};

/// A call parameter.
pub(crate) enum Param<'a> {
    Str(&'a str),
    Strs(&'a [String]),
}

/// The body of a `methodCall`.
pub(crate) fn call(method: &str, params: &[Param<'_>]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    // Writing into a Vec cannot fail; an error would only leave a shorter body.
    let _ = write_call(&mut w, method, params);
    w.into_inner()
}

fn write_call(w: &mut Writer<Vec<u8>>, method: &str, params: &[Param<'_>]) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("methodCall").write_inner_content(|w| {
        w.create_element("methodName")
            .write_text_content(BytesText::new(method))?;
        w.create_element("params").write_inner_content(|w| {
            for p in params {
                w.create_element("param").write_inner_content(|w| match p {
                    Param::Str(s) => write_string(w, s),
                    Param::Strs(list) => w
                        .create_element("value")
                        .write_inner_content(|w| {
                            w.create_element("array").write_inner_content(|w| {
                                w.create_element("data").write_inner_content(|w| {
                                    for s in list.iter() {
                                        write_string(w, s)?;
                                    }
                                    Ok(())
                                })?;
                                Ok(())
                            })?;
                            Ok(())
                        })
                        .map(|_| ()),
                })?;
            }
            Ok(())
        })?;
        Ok(())
    })?;
    Ok(())
}

fn write_string(w: &mut Writer<Vec<u8>>, s: &str) -> io::Result<()> {
    w.create_element("value").write_inner_content(|w| {
        w.create_element("string")
            .write_text_content(BytesText::new(s))?;
        Ok(())
    })?;
    Ok(())
}

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Self>),
    Struct(Vec<(String, Self)>),
    /// A type this client has no use for (double, dateTime, base64, nil).
    Other,
}

/// A `methodResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Response {
    Params(Vec<Value>),
    Fault { code: Option<i64>, message: String },
}

/// Parses a `methodResponse`, or `None` when the body is not one.
pub(crate) fn parse(body: &[u8]) -> Option<Response> {
    let text = std::str::from_utf8(body).ok()?;
    let doc = Document::parse(text).ok()?;
    if doc.root.name != "methodResponse" {
        return None;
    }
    if let Some(fault) = doc.root.elements().find(|e| e.name == "fault") {
        let v = fault.elements().find(|e| e.name == "value").map(value)?;
        let Value::Struct(members) = v else {
            return Some(Response::Fault {
                code: None,
                message: String::new(),
            });
        };
        let get = |n: &str| members.iter().find(|(k, _)| k == n).map(|(_, v)| v);
        let code = match get("faultCode") {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        };
        let message = match get("faultString") {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        return Some(Response::Fault { code, message });
    }
    let params = doc.root.elements().find(|e| e.name == "params")?;
    Some(Response::Params(
        params
            .elements()
            .filter(|p| p.name == "param")
            .filter_map(|p| p.elements().find(|e| e.name == "value").map(value))
            .collect(),
    ))
}

/// Reads a `<value>` element (the tree's depth limit bounds the recursion).
fn value(v: &Element) -> Value {
    let Some(typed) = v.elements().next() else {
        // An untyped value is a string.
        return Value::Str(v.text());
    };
    let t = typed.text();
    match typed.name.as_str() {
        "string" => Value::Str(t),
        "boolean" => match t.trim() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => Value::Other,
        },
        "int" | "i4" | "i8" => t.trim().parse().map_or(Value::Other, Value::Int),
        "array" => Value::Array(
            typed
                .elements()
                .find(|e| e.name == "data")
                .map(|d| {
                    d.elements()
                        .filter(|e| e.name == "value")
                        .map(value)
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "struct" => Value::Struct(
            typed
                .elements()
                .filter(|m| m.name == "member")
                .filter_map(|m| {
                    let name = m.elements().find(|e| e.name == "name")?.text();
                    let val = m.elements().find(|e| e.name == "value").map(value)?;
                    Some((name, val))
                })
                .collect(),
        ),
        _ => Value::Other,
    }
}

/// The `[boolean, string]` pair FDPS and SRAPS answer with, as (ok, text). A lone boolean or
/// string is accepted too.
pub(crate) fn bool_and_text(r: &Response) -> Option<(bool, String)> {
    let Response::Params(p) = r else {
        return None;
    };
    match p.first()? {
        Value::Array(items) => match (items.first(), items.get(1)) {
            (Some(Value::Bool(b)), Some(Value::Str(s))) => Some((*b, s.clone())),
            (Some(Value::Bool(b)), _) => Some((*b, String::new())),
            _ => None,
        },
        Value::Bool(b) => Some((*b, String::new())),
        _ => None,
    }
}

/// An XML-RPC endpoint behind HTTP Basic auth (Fanvil's FDPS, Snom's legacy API): how a
/// call is sent and how its `[boolean, text]` answer is read, the same for both; what a
/// refusal means is the vendor's (`refusal`).
pub(crate) struct Endpoint {
    vendor: &'static str,
    url: String,
    auth: String,
    /// Every secret a request or a reply of this endpoint may carry (scrubbed from errors).
    pub(crate) secrets: Vec<String>,
    refusal: fn(&Self, &HttpReply, &str) -> RpsError,
}

impl Endpoint {
    /// `url` with Basic `user`/`password`; `extra`: the phone's URL, whose token is a secret
    /// too.
    pub(crate) fn new(
        vendor: &'static str,
        url: String,
        (user, password): (&str, &str),
        extra: Option<&Secret<String>>,
        refusal: fn(&Self, &HttpReply, &str) -> RpsError,
    ) -> Self {
        let mut secrets = vec![password.to_owned()];
        if let Some(e) = extra {
            secrets.extend(super::url_secrets(e.expose()));
        }
        Self {
            vendor,
            url,
            auth: super::basic_auth_header(user, password),
            secrets,
            refusal,
        }
    }

    /// The request calling `method` with `params`.
    pub(crate) fn call(&self, method: &str, params: &[Param<'_>]) -> Next {
        Next::Send(
            HttpRequest::new("POST", self.url.clone())
                .header("Content-Type", "text/xml")
                .header("Authorization", self.auth.clone())
                .body(call(method, params))
                .secrets(&self.secrets),
        )
    }

    /// Reads a `[bool, text]` reply: `Ok((ok, text))`, or an error for HTTP failures,
    /// faults and replies that are not XML-RPC.
    pub(crate) fn read(&self, reply: &HttpReply) -> Result<(bool, String), RpsError> {
        let v = self.vendor;
        if let Some(e) = status_error(v, reply, &self.secrets) {
            return Err(e);
        }
        match parse(&reply.body) {
            Some(Response::Fault { code, message }) => Err(classify(
                v,
                Some(reply.status),
                code.map(|c| c.to_string()).as_deref(),
                Some(&message),
                reply,
                &self.secrets,
            )),
            Some(r) => bool_and_text(&r).ok_or_else(|| {
                unexpected(v, reply, "not a [boolean, string] reply", &self.secrets)
            }),
            None => Err(unexpected(
                v,
                reply,
                "not an XML-RPC response",
                &self.secrets,
            )),
        }
    }

    /// A refusal (`false`, text) as the vendor's error.
    pub(crate) fn refused(&self, reply: &HttpReply, text: &str) -> RpsError {
        (self.refusal)(self, reply, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn call_is_written_and_escaped() {
        let body = call(
            "redirect.registerPhone",
            &[
                Param::Str("000413AABBCC"),
                Param::Str("https://e/p?a=1&b=<2>"),
            ],
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodCall><methodName>redirect.registerPhone</methodName>\
             <params><param><value><string>000413AABBCC</string></value></param>\
             <param><value><string>https://e/p?a=1&amp;b=&lt;2&gt;</string></value></param></params></methodCall>"
        );
        let body = call("m", &[Param::Strs(&["a".into(), "b".into()])]);
        assert!(String::from_utf8(body).unwrap().contains(
            "<param><value><array><data><value><string>a</string></value><value><string>b</string></value></data></array></value></param>"
        ));
    }

    #[test]
    fn responses_parse() {
        let r = parse(
            b"<?xml version=\"1.0\"?>\n<methodResponse><params><param><value><array><data>\
              <value><boolean>0</boolean></value><value><string>Error: mac_format_error</string></value>\
              </data></array></value></param></params></methodResponse>",
        )
        .unwrap();
        assert_eq!(
            bool_and_text(&r),
            Some((false, "Error: mac_format_error".into()))
        );
        let r = parse(
            b"<methodResponse><params><param><value><array><data><value><boolean>1</boolean></value>\
              <value>Ok</value></data></array></value></param></params></methodResponse>",
        )
        .unwrap();
        assert_eq!(bool_and_text(&r), Some((true, "Ok".into())));
        let f = parse(
            b"<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member>\
              <member><name>faultString</name><value><string>Too many parameters.</string></value></member>\
              </struct></value></fault></methodResponse>",
        )
        .unwrap();
        assert_eq!(
            f,
            Response::Fault {
                code: Some(4),
                message: "Too many parameters.".into()
            }
        );
        for junk in [
            &b""[..],
            b"<html/>",
            b"<methodResponse>",
            b"\xff",
            b"<!DOCTYPE x><methodResponse/>",
        ] {
            assert!(parse(junk).is_none_or(|r| bool_and_text(&r).is_none()));
        }
    }
}
