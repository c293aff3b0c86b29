//! RPS: the accounts INI parser and every vendor's reply parsers never panic, whatever the
//! bytes, every op ends within its step limit, and no error ever shows an account secret.
#![no_main]
use engine::rps::{parse_accounts, HttpReply, Op, OpResult, RpsAccount, RpsPhone, ServerSpec, SnomApi, Step};
use libfuzzer_sys::fuzz_target;

const INI: &str = "[yealink]\naccesskey_id=yk\naccesskey_secret=yl-fuzz-secret\n\
[ale]\naccesskey_id=ak\naccesskey_secret=ale-fuzz-secret\nrps_host=rps.ale.example\n\
[grandstream]\nusername=u\npassword=gs-fuzz-secret\napi_id=1\napi_secret=gs-api-fuzz-secret\nsite_id=2\n\
[fanvil]\nusername=u\npassword=fv-fuzz-secret\n\
[htek]\nusername=u\npassword=ht-fuzz-secret\n\
[snom]\nusername=u\npassword=sn-fuzz-secret\n";

const SNOM_REST: &str = "[snom]\naccesskey_id=kid\naccesskey_secret=hawk-fuzz-secret\n";

/// The phone's and the site's URL tokens (with their paths, as the ops know them: a part
/// of one, written by the fuzzer into a reply, is not a leak).
const URL_SECRETS: &[&str] = &[
    "p/0123456789abcdef0123456789abcdef/",
    "s/0123456789abcdef0123456789abcdef/",
];

/// The secrets of one account, whole (another account's secret echoed in a reply is not
/// this op's to hide).
fn own_secrets(a: &RpsAccount) -> Vec<&'static str> {
    let mut v = URL_SECRETS.to_vec();
    v.push(match a {
        RpsAccount::Yealink(_) => "yl-fuzz-secret",
        RpsAccount::Ale(_) => "ale-fuzz-secret",
        RpsAccount::Grandstream(_) => "gs-api-fuzz-secret",
        RpsAccount::Snom(s) if s.api() == SnomApi::Rest => "hawk-fuzz-secret",
        RpsAccount::Snom(_) => "sn-fuzz-secret",
        _ => "ht-fuzz-secret",
    });
    v
}

const STATUSES: [u16; 10] = [200, 201, 204, 400, 401, 403, 404, 429, 500, 302];

/// Drives `op` on `replies`; returns what it established for later ops (a GDMS session).
fn drive<T: OpResult + std::fmt::Debug>(
    mut op: Op<T>,
    replies: &[HttpReply],
    secrets: &[&str],
) -> Option<engine::rps::Session> {
    let mut step = op.start(1_700_000_000_000, "n0");
    let mut i = 0;
    loop {
        match step {
            Step::Send(req) => {
                let shown = format!("{req:?}");
                for s in secrets {
                    assert!(!shown.contains(s), "request shows a secret: {shown}");
                }
                let reply = replies
                    .get(i % replies.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| HttpReply::new(200, Vec::new()));
                i += 1;
                assert!(i <= 64, "an op did not end");
                step = op.on_reply(reply, 1_700_000_000_000 + i as u64, "n1");
            }
            Step::Done(r) => {
                if let Err(e) = r {
                    let shown = format!("{e} {e:?}");
                    for s in secrets {
                        assert!(!shown.contains(s), "error shows a secret: {shown}");
                    }
                }
                return op.session();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((accounts, notices)) = parse_accounts(text) {
            let _ = format!("{accounts:?} {notices:?}");
            // What the edge seals and opens again must come back the same.
            for a in &accounts {
                let ini = a.to_ini();
                let (back, _) = parse_accounts(ini.expose()).expect("to_ini output parses");
                assert_eq!(back.len(), 1);
                assert_eq!(back[0].to_ini().expose(), ini.expose(), "to_ini round trip");
            }
        }
    }
    let replies: Vec<HttpReply> = data
        .split(|b| *b == 0xff)
        .take(16)
        .map(|chunk| {
            let (sel, body) = chunk.split_first().map_or((0, &[][..]), |(s, b)| (*s, b));
            let mut r = HttpReply::new(STATUSES[usize::from(sel) % STATUSES.len()], body.to_vec());
            if sel & 0x80 != 0 {
                r = r.with_header("Link", "<https://api.sraps.snom.com/api/v1/settings/?page=2>; rel=\"next\"");
            }
            if sel & 0x40 != 0 {
                r = r.with_header("Retry-After", "5");
            }
            r
        })
        .collect();
    let Ok((mut accounts, _)) = parse_accounts(INI) else { return };
    if let Ok((rest, _)) = parse_accounts(SNOM_REST) {
        accounts.extend(rest);
    }
    let mac = engine::Mac::parse("001565aabbcc").expect("valid MAC");
    let mut phone = RpsPhone::new(mac, "https://edge.example.net/p/0123456789abcdef0123456789abcdef/");
    phone.serial = engine::rps::SerialNumber::parse("SN12345678").ok();
    let spec = ServerSpec::new("site", "https://edge.example.net/s/0123456789abcdef0123456789abcdef/");
    for a in &mut accounts {
        let own = own_secrets(a);
        drive(a.ensure_server(&spec), &replies, &own);
        let session = drive(a.register(&phone), &replies, &own);
        // Later ops start from what the first established (GDMS: its token).
        if let Some(s) = session {
            let shown = format!("{s:?}");
            for x in &own {
                assert!(!shown.contains(x), "a session shows a secret: {shown}");
            }
            a.resume(s);
        }
        let mut known = phone.clone();
        known.known = true;
        drive(a.register(&known), &replies, &own);
        drive(a.remove(mac), &replies, &own);
        drive(a.status(&phone), &replies, &own);
    }
});
