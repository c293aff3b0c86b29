//! Fanvil FDPS: XML-RPC with HTTP Basic auth (the password as MD5 of MD5). A per-phone URL
//! is made by giving each phone its own "server" group, named after its MAC.

use crate::mac::Mac;
use crate::rps::xmlrpc::{self, Param};
use crate::rps::{
    classify, lower, same_url, status_error, Cx, Detail, FanvilAccount, HttpReply, Machine, Next,
    Outcome, PhoneStatus, Registration, Removal, RpsError, RpsPhone, ServerRef, ServerSpec, Url,
};
use crate::secret::Secret;

const V: &str = "fanvil";

/// The `redirect.addMaterialServer` settings of a group that sends phones to `url`.
pub(crate) fn server_configs(group: &str, url: &str) -> Result<Vec<String>, RpsError> {
    let u = Url::parse(url).ok_or_else(|| {
        RpsError::InvalidInput("fanvil: the provisioning URL is not an http(s) URL".into())
    })?;
    Ok(vec![
        format!("cfgName={group}"),
        "cfgPfMode=1".into(),
        "cfgDhcpOpt=false".into(),
        "cfgPnpEnable=false".into(),
        format!("cfgPfSrv={}", u.authority()),
        // nethesis/falconieri `providers/fanvil.go` sends `cfgPfSrv=<host>`,
        // `cfgPfName=<path>` (Go's `URL.Path`: no query) and `cfgPfProt` 4 http / 5 https.
        // Whether FDPS keeps a query in cfgPfName is shown by no source, so none is relied on:
        // the URLs registered here are path-only tokens and a query never reaches FDPS.
        format!("cfgPfName={}", u.path_query.trim_start_matches('/')),
        format!("cfgPfProt={}", if u.https { 5 } else { 4 }),
    ])
}

type Rpc = xmlrpc::Endpoint;

fn rpc(a: &FanvilAccount, extra: Option<&Secret<String>>) -> Rpc {
    let pass = a.password_hash.expose();
    Rpc::new(V, a.url.clone(), (&a.username, pass), extra, refused)
}

/// A refusal (`false`, text) as an error.
fn refused(rpc: &Rpc, reply: &HttpReply, text: &str) -> RpsError {
    let t = lower(text);
    if t.contains("device_had_existed") {
        let mut d = Detail::new(V);
        d.status = Some(reply.status);
        d.code = Some(crate::rps::sanitize(text, &rpc.secrets));
        return RpsError::OwnedByAnotherAccount(d);
    }
    classify(V, Some(reply.status), Some(text), None, reply, &rpc.secrets)
}

fn is_no_server(text: &str) -> bool {
    lower(text).replace(' ', "").contains("server_not_exist")
}

fn is_no_device(text: &str) -> bool {
    let t = lower(text);
    t.contains("not_exist") || t.contains("not exist") || t.contains("not_found")
}

// ---- ensure a named group (a site-wide URL) ----

pub(crate) fn ensure_group(a: &FanvilAccount, spec: &ServerSpec) -> Result<EnsureGroup, RpsError> {
    Ok(EnsureGroup {
        rpc: rpc(a, Some(&spec.url)),
        configs: server_configs(&spec.name, spec.url.expose())?,
        name: spec.name.clone(),
    })
}

pub(crate) struct EnsureGroup {
    rpc: Rpc,
    configs: Vec<String>,
    name: String,
}

impl Machine for EnsureGroup {
    fn start(&mut self, _: &Cx<'_>) -> Next {
        self.rpc
            .call("redirect.addMaterialServer", &[Param::Strs(&self.configs)])
    }

    fn on_reply(&mut self, reply: &HttpReply, _: &Cx<'_>) -> Next {
        Next::Done(match self.rpc.read(reply) {
            Ok((true, _)) => Ok(Outcome::Server(ServerRef {
                id: Some(self.name.clone()),
                created: true,
            })),
            // FDPS's wording for a group that already exists is shown by no source
            // (falconieri deletes the group first and tolerates only `Error:server_not_exist`);
            // any refusal naming "exist" other than that one is read as "already there" and
            // the group is kept as is; `register` rewrites a phone's own group anyway.
            Ok((false, t)) if lower(&t).contains("exist") && !is_no_server(&t) => {
                Ok(Outcome::Server(ServerRef {
                    id: Some(self.name.clone()),
                    created: false,
                }))
            }
            Ok((false, t)) => Err(self.rpc.refused(reply, &t)),
            Err(e) => Err(e),
        })
    }
}

// ---- register: delete the phone's group, add it, deregister, register ----

pub(crate) fn register(a: &FanvilAccount, phone: &RpsPhone) -> Result<Register, RpsError> {
    let group = phone.mac.to_lower_hex();
    Ok(Register {
        rpc: rpc(a, Some(&phone.url)),
        configs: server_configs(&group, phone.url.expose())?,
        group,
        state: RegState::DeleteGroup,
    })
}

pub(crate) struct Register {
    rpc: Rpc,
    configs: Vec<String>,
    group: String,
    state: RegState,
}

#[derive(Clone, Copy)]
enum RegState {
    DeleteGroup,
    AddGroup,
    Deregister,
    Register,
}

impl Machine for Register {
    fn start(&mut self, _: &Cx<'_>) -> Next {
        self.state = RegState::DeleteGroup;
        self.rpc
            .call("redirect.deleteServer", &[Param::Str(&self.group)])
    }

    fn on_reply(&mut self, reply: &HttpReply, _: &Cx<'_>) -> Next {
        let g = self.group.clone();
        match self.state {
            RegState::DeleteGroup => match self.rpc.read(reply) {
                Ok((true, _)) => {}
                Ok((false, t)) if is_no_server(&t) => {}
                Ok((false, t)) => return Next::Done(Err(self.rpc.refused(reply, &t))),
                Err(e) => return Next::Done(Err(e)),
            },
            RegState::AddGroup => match self.rpc.read(reply) {
                Ok((true, _)) => {}
                Ok((false, t)) => return Next::Done(Err(self.rpc.refused(reply, &t))),
                Err(e) => return Next::Done(Err(e)),
            },
            // The result is ignored: the phone may well not have been registered.
            RegState::Deregister => {
                if let Some(e) = status_error(V, reply, &self.rpc.secrets) {
                    return Next::Done(Err(e));
                }
            }
            RegState::Register => {
                return Next::Done(match self.rpc.read(reply) {
                    Ok((true, _)) => Ok(Outcome::Registration(Registration::Set)),
                    Ok((false, t)) => Err(self.rpc.refused(reply, &t)),
                    Err(e) => Err(e),
                })
            }
        }
        let mac = g.clone();
        match self.state {
            RegState::DeleteGroup => {
                self.state = RegState::AddGroup;
                self.rpc
                    .call("redirect.addMaterialServer", &[Param::Strs(&self.configs)])
            }
            RegState::AddGroup => {
                self.state = RegState::Deregister;
                self.rpc
                    .call("redirect.deRegisterDevice", &[Param::Str(&mac)])
            }
            RegState::Deregister | RegState::Register => {
                self.state = RegState::Register;
                self.rpc.call(
                    "redirect.registerDevice",
                    &[Param::Str(&mac), Param::Str(&g)],
                )
            }
        }
    }
}

// ---- remove: deregister, then delete the phone's group ----

pub(crate) fn remove(a: &FanvilAccount, mac: Mac) -> Remove {
    Remove {
        rpc: rpc(a, None),
        mac: mac.to_lower_hex(),
        outcome: None,
    }
}

pub(crate) struct Remove {
    rpc: Rpc,
    mac: String,
    outcome: Option<Removal>,
}

impl Machine for Remove {
    fn start(&mut self, _: &Cx<'_>) -> Next {
        self.outcome = None;
        self.rpc
            .call("redirect.deRegisterDevice", &[Param::Str(&self.mac)])
    }

    fn on_reply(&mut self, reply: &HttpReply, _: &Cx<'_>) -> Next {
        let r = self.rpc.read(reply);
        match self.outcome {
            None => {
                self.outcome = Some(match r {
                    Ok((true, _)) => Removal::Removed,
                    Ok((false, t)) if is_no_device(&t) => Removal::AlreadyGone,
                    Ok((false, t)) => return Next::Done(Err(self.rpc.refused(reply, &t))),
                    Err(e) => return Next::Done(Err(e)),
                });
                self.rpc
                    .call("redirect.deleteServer", &[Param::Str(&self.mac)])
            }
            Some(o) => Next::Done(match r {
                Ok((true, _)) => Ok(Outcome::Removal(o)),
                Ok((false, t)) if is_no_server(&t) => Ok(Outcome::Removal(o)),
                Ok((false, t)) => Err(self.rpc.refused(reply, &t)),
                Err(e) => Err(e),
            }),
        }
    }
}

// ---- status ----

pub(crate) fn status(a: &FanvilAccount, phone: &RpsPhone) -> Status {
    Status {
        rpc: rpc(a, Some(&phone.url)),
        mac: phone.mac.to_lower_hex(),
        url: phone.url.clone(),
    }
}

pub(crate) struct Status {
    rpc: Rpc,
    mac: String,
    url: Secret<String>,
}

impl Machine for Status {
    // `redirect.checkDevice(mac)` is used by no public client read (falconieri only
    // registers); its `[bool, text]` answer is assumed from the replies of the calls
    // falconieri makes (`fanvilParseResponse`: a boolean then a string). An answer of
    // another shape is reported as an error, never as a status.
    fn start(&mut self, _: &Cx<'_>) -> Next {
        self.rpc
            .call("redirect.checkDevice", &[Param::Str(&self.mac)])
    }

    fn on_reply(&mut self, reply: &HttpReply, _: &Cx<'_>) -> Next {
        Next::Done(match self.rpc.read(reply) {
            Ok((true, t)) => Ok(Outcome::Status(PhoneStatus {
                registered: true,
                url_matches: Url::parse(&t).map(|_| same_url(&t, &self.url)),
            })),
            Ok((false, t)) if is_no_device(&t) => Ok(Outcome::Status(PhoneStatus {
                registered: false,
                url_matches: None,
            })),
            Ok((false, t)) => Err(self.rpc.refused(reply, &t)),
            Err(e) => Err(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rps::test_steps::{done, send};
    use crate::rps::{HttpRequest, Op, PasswordForm};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn acct() -> FanvilAccount {
        FanvilAccount {
            username: "fv-user".into(),
            password_hash: Secret::new("9f0e3a1c2b4d5e6f708192a3b4c5d6e7".into()),
            password_form: PasswordForm::Hashed,
            url: super::super::account::FDPS_URL.into(),
        }
    }

    fn phone() -> RpsPhone {
        RpsPhone::new(
            Mac::parse("0c:38:3e:aa:bb:cc").unwrap(),
            "https://edge.example.net:8443/p/0123456789abcdef0123456789abcdef/",
        )
    }

    fn pair(ok: bool, text: &str) -> HttpReply {
        HttpReply::new(
            200,
            format!(
                "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data>\
                 <value><boolean>{}</boolean></value><value><string>{text}</string></value>\
                 </data></array></value></param></params></methodResponse>",
                u8::from(ok)
            ),
        )
    }

    fn method(r: &HttpRequest) -> String {
        let b = String::from_utf8(r.body.clone()).unwrap();
        let s = b.split("<methodName>").nth(1).unwrap();
        s.split('<').next().unwrap().to_owned()
    }

    #[test]
    fn register_runs_the_four_calls() {
        let mut op: Op<Registration> = Op::new(V, register(&acct(), &phone()).unwrap());
        let r1 = send(op.start(0, "n"));
        assert_eq!(r1.url, "https://fdps.fanvil.com/xmlrpc.php");
        assert_eq!(r1.header_value("Content-Type"), Some("text/xml"));
        // printf 'fv-user:9f0e3a1c2b4d5e6f708192a3b4c5d6e7' | base64
        assert_eq!(
            r1.header_value("Authorization"),
            Some("Basic ZnYtdXNlcjo5ZjBlM2ExYzJiNGQ1ZTZmNzA4MTkyYTNiNGM1ZDZlNw==")
        );
        assert_eq!(method(&r1), "redirect.deleteServer");
        let r2 = send(op.on_reply(pair(false, "Error:server_not_exist"), 0, "n"));
        assert_eq!(method(&r2), "redirect.addMaterialServer");
        let body = String::from_utf8(r2.body.clone()).unwrap();
        for s in [
            "cfgName=0c383eaabbcc",
            "cfgPfMode=1",
            "cfgDhcpOpt=false",
            "cfgPnpEnable=false",
            "cfgPfSrv=edge.example.net:8443",
            "cfgPfName=p/0123456789abcdef0123456789abcdef/",
            "cfgPfProt=5",
        ] {
            assert!(
                body.contains(&format!("<value><string>{s}</string></value>")),
                "{s}"
            );
        }
        let dbg = format!("{r2:?}");
        assert!(
            !dbg.contains("0123456789abcdef0123") && !dbg.contains("9f0e3a1c"),
            "{dbg}"
        );
        let r3 = send(op.on_reply(pair(true, "ok"), 0, "n"));
        assert_eq!(method(&r3), "redirect.deRegisterDevice");
        let r4 = send(op.on_reply(pair(false, "Error: device_not_exist"), 0, "n"));
        assert_eq!(method(&r4), "redirect.registerDevice");
        assert!(String::from_utf8(r4.body.clone()).unwrap().contains(
            "<param><value><string>0c383eaabbcc</string></value></param><param><value><string>0c383eaabbcc</string></value></param>"
        ));
        assert_eq!(
            done(op.on_reply(pair(true, "ok"), 0, "n")),
            Ok(Registration::Set)
        );
    }

    #[test]
    fn known_errors_are_typed() {
        let run = |last: HttpReply| {
            let mut op: Op<Registration> = Op::new(V, register(&acct(), &phone()).unwrap());
            let _ = send(op.start(0, "n"));
            let _ = send(op.on_reply(pair(true, ""), 0, "n"));
            let _ = send(op.on_reply(pair(true, ""), 0, "n"));
            let _ = send(op.on_reply(pair(true, ""), 0, "n"));
            done(op.on_reply(last, 0, "n"))
        };
        assert!(matches!(
            run(pair(false, "Error: device_had_existed")),
            Err(RpsError::OwnedByAnotherAccount(_))
        ));
        assert!(matches!(
            run(pair(false, "Error: mac_format_error")),
            Err(RpsError::InvalidMac(_))
        ));
        assert!(matches!(
            run(pair(false, "Error: url_format_error")),
            Err(RpsError::InvalidUrl(_))
        ));
        assert!(matches!(
            run(HttpReply::new(401, "")),
            Err(RpsError::BadCredentials(_))
        ));
        assert!(matches!(
            run(HttpReply::new(200, "<html/>")),
            Err(RpsError::UnexpectedReply(_))
        ));
        // A delete that fails for another reason than "no such server" stops the sequence.
        let mut op: Op<Registration> = Op::new(V, register(&acct(), &phone()).unwrap());
        let _ = send(op.start(0, "n"));
        assert!(done(op.on_reply(pair(false, "Error: permission denied"), 0, "n")).is_err());
    }

    #[test]
    fn remove_is_idempotent() {
        let mut op: Op<Removal> = Op::new(V, remove(&acct(), phone().mac));
        let r = send(op.start(0, "n"));
        assert_eq!(method(&r), "redirect.deRegisterDevice");
        let r = send(op.on_reply(pair(false, "Error: device_not_exist"), 0, "n"));
        assert_eq!(method(&r), "redirect.deleteServer");
        assert_eq!(
            done(op.on_reply(pair(false, "Error:server_not_exist"), 0, "n")),
            Ok(Removal::AlreadyGone)
        );
        let mut op: Op<Removal> = Op::new(V, remove(&acct(), phone().mac));
        let _ = send(op.start(0, "n"));
        let _ = send(op.on_reply(pair(true, "ok"), 0, "n"));
        assert_eq!(
            done(op.on_reply(pair(true, "ok"), 0, "n")),
            Ok(Removal::Removed)
        );
    }

    #[test]
    fn status_and_group() {
        let mut op: Op<PhoneStatus> = Op::new(V, status(&acct(), &phone()));
        let r = send(op.start(0, "n"));
        assert_eq!(method(&r), "redirect.checkDevice");
        assert_eq!(
            done(op.on_reply(pair(false, "Error: device_not_exist"), 0, "n")),
            Ok(PhoneStatus {
                registered: false,
                url_matches: None
            })
        );
        let spec = ServerSpec::new("acme", "http://prov.example.com/cfg/");
        let mut op: Op<ServerRef> = Op::new(V, ensure_group(&acct(), &spec).unwrap());
        let r = send(op.start(0, "n"));
        let b = String::from_utf8(r.body.clone()).unwrap();
        assert!(
            b.contains("cfgPfProt=4") && b.contains("cfgPfSrv=prov.example.com<"),
            "{b}"
        );
        assert_eq!(
            done(op.on_reply(pair(true, "ok"), 0, "n")),
            Ok(ServerRef {
                id: Some("acme".into()),
                created: true
            })
        );
        assert!(matches!(
            register(&acct(), &RpsPhone::new(phone().mac, "tftp://x/")),
            Err(RpsError::InvalidInput(_))
        ));
    }

    #[test]
    fn faults_are_errors() {
        let f = HttpReply::new(
            200,
            "<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>401</int></value></member>\
             <member><name>faultString</name><value><string>Authentication failed</string></value></member>\
             </struct></value></fault></methodResponse>",
        );
        let mut op: Op<PhoneStatus> = Op::new(V, status(&acct(), &phone()));
        let _ = send(op.start(0, "n"));
        assert!(matches!(
            done(op.on_reply(f, 0, "n")),
            Err(RpsError::BadCredentials(_))
        ));
    }
}
