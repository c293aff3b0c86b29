// The LAN relay against the real edge worker (workerd via miniflare, over HTTP): it syncs its
// site's inventory with the relay token, serves the phones over HTTP, follows changes made
// in the admin API, keeps serving when the edge dies, and comes back from its snapshot on
// disk after a restart with the edge still down.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import dgram from "node:dgram";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { start, ADMIN_TOKEN } from "../edge/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const relayBin = path.join(root, "target/debug/lan-relay");
const dir = mkdtempSync(path.join(tmpdir(), "relay-sync-"));
const children = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const freeUdpPort = () =>
  new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
// A fresh directory of one test's relay, holding the site's relay token.
function relayDir(name, token) {
  const sub = path.join(dir, name);
  rmSync(sub, { recursive: true, force: true });
  mkdirSync(sub);
  writeFileSync(path.join(sub, "token"), token);
  return sub;
}
// The edge's admin API at `edge`: a call that must succeed, its JSON body.
const adminApi = (edge) => async (method, p, body) => {
  const res = await fetch(`${edge}/api${p}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.status < 300, `${method} ${p}: ${res.status} ${await res.clone().text()}`);
  return res.json();
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}: ${last}`);
}

function startRelay(config) {
  const child = spawn(relayBin, ["--config", config], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "info" } });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  children.push(child);
  return { child, log: () => log };
}

const UA = "Yealink SIP-T46S 66.86.0.15 00:15:65:0a:0b:0c";

test("the relay syncs from the edge, follows changes, survives the edge's death and a restart", async () => {
  const { mf } = await start({ port: 0 });
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = adminApi(edge);
  const site = await api("POST", "/sites", { name: "Branch", pbx_host: "pbx.branch.example" });
  await api("POST", `/sites/${site.id}/users`, { extension: "310", sip_password: "First-Vq9-kL2m", display_name: "Lea" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0015650a0b0c", model: "T46S", user_extension: "310" });
  // A firmware image at the edge: the relay caches it (size and SHA-256 checked).
  const image = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 13 + 5) & 0xff));
  const up = await fetch(`${edge}/api/sites/${site.id}/firmware?vendor=yealink&model=T46S&version=66.86.0.20&file_name=T46S-66.86.0.20.rom`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Length": String(image.length) },
    body: image,
  });
  assert.equal(up.status, 201, await up.clone().text());
  const { relay_token } = await api("POST", `/sites/${site.id}/relay-token`);
  writeFileSync(path.join(dir, "token"), relay_token + "\n", { mode: 0o600 });

  const port = await freePort();
  const config = path.join(dir, "relay.toml");
  writeFileSync(
    config,
    `state_dir = "${dir}/state"\n[http]\nlisten = "127.0.0.1:${port}"\n[tftp]\nenabled = false\n[pnp]\nenabled = false\n[starcode]\nenabled = false\n` +
      `[edge]\nurl = "${edge}"\ntoken_file = "${dir}/token"\npoll_secs = 1\n`,
  );
  const cfgUrl = `http://127.0.0.1:${port}/0015650a0b0c.cfg`;
  const get = async () => {
    const res = await fetch(cfgUrl, { headers: { "User-Agent": UA } });
    return res.status === 200 ? res.text() : null;
  };
  let relay = startRelay(config);
  let cfg = await until("the first sync", get);
  assert.match(cfg, /account\.1\.password = First-Vq9-kL2m\n/);
  assert.match(cfg, /account\.1\.sip_server_host = pbx\.branch\.example\n/);
  assert.ok(cfg.includes(`http://127.0.0.1:${port}`), "the config points at the relay");
  assert.ok(!relay.log().includes(relay_token), "the token is never logged");
  const fwUrl = `http://127.0.0.1:${port}/firmware/yealink/T46S-66.86.0.20.rom`;
  assert.ok(cfg.includes(fwUrl), "the config names the image on the relay");
  const fw = await fetch(fwUrl, { headers: { "User-Agent": UA } });
  assert.equal(fw.status, 200);
  assert.ok(Buffer.from(await fw.arrayBuffer()).equals(image), "byte for byte from the cache");

  // A change at the edge reaches the relay with the next poll.
  await api("PATCH", `/sites/${site.id}/users/310`, { sip_password: "Second-Kp3-wQ8y" });
  cfg = await until("the changed password", async () => ((await get()) ?? "").includes("Second-Kp3-wQ8y") && (await get()));
  assert.ok(existsSync(path.join(dir, "state/snapshot.json")));

  // The edge dies: the relay keeps serving what it has.
  await mf.dispose();
  await sleep(2500);
  assert.match(await get(), /Second-Kp3-wQ8y/);
  assert.match(relay.log(), /unreachable/);

  // A restart with the edge still down serves the snapshot from disk.
  relay.child.kill("SIGTERM");
  await new Promise((r) => relay.child.once("exit", r));
  relay = startRelay(config);
  cfg = await until("the relay back from its snapshot", get);
  assert.match(cfg, /Second-Kp3-wQ8y/);
  const cached = await fetch(fwUrl, { headers: { "User-Agent": UA } });
  assert.ok(Buffer.from(await cached.arrayBuffer()).equals(image), "the cache survives the restart");
  relay.child.kill("SIGTERM");
  const code = await new Promise((r) => relay.child.once("exit", r));
  assert.equal(code, 0, "graceful shutdown on SIGTERM");
});

test("PnP: the relay answers a phone's SUBSCRIBE, reports it to the edge, and carries out a reboot request", async () => {
  const dgram = await import("node:dgram");
  const { mf } = await start({ port: 0 });
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = adminApi(edge);
  const site = await api("POST", "/sites", { name: "PnP office", pbx_host: "pbx.pnp.example" });
  await api("POST", `/sites/${site.id}/users`, { extension: "320", sip_password: "Pnp-Vq9-kL2m-Zt7x" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0015650a0b0d", user_extension: "320" });
  const { relay_token } = await api("POST", `/sites/${site.id}/relay-token`);
  const sub = relayDir("pnp", relay_token);

  // The phone: one UDP socket for its SUBSCRIBE and for the NOTIFYs it gets.
  const phone = dgram.createSocket("udp4");
  await new Promise((r) => phone.bind(0, "127.0.0.1", r));
  // Its SUBSCRIBEs go to the PnP group, as a phone's do (the relay takes no unicast ones).
  phone.setMulticastInterface("127.0.0.1");
  const phonePort = phone.address().port;
  const inbox = [];
  phone.on("message", (m, rinfo) => {
    const text = m.toString();
    inbox.push(text);
    if (text.startsWith("NOTIFY")) {
      // Answer 200 OK with the request's Via, From, To, Call-ID, CSeq.
      const head = text.split("\r\n\r\n")[0].split("\r\n");
      const keep = head.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
      phone.send(["SIP/2.0 200 OK", ...keep, "Content-Length: 0", "", ""].join("\r\n"), rinfo.port, rinfo.address);
    }
  });
  const pnpPort = await freeUdpPort();
  const httpPort = await freePort();
  const config = path.join(sub, "relay.toml");
  // The ARP table confirms the bound phone at 127.0.0.1 (the phone's MAC, as the kernel's
  // would after the relay answered it).
  writeFileSync(path.join(sub, "arp"), "IP address HW type Flags HW address Mask Device\n127.0.0.1 0x1 0x2 00:15:65:0a:0b:0d * lo\n");
  writeFileSync(
    config,
    `arp_table = "${sub}/arp"\nstate_dir = "${sub}/state"\n[http]\nlisten = "127.0.0.1:${httpPort}"\n[tftp]\nenabled = false\n[starcode]\nenabled = false\n` +
      `[pnp]\ninterface = "127.0.0.1"\nport = ${pnpPort}\ndebug = true\n` +
      `[edge]\nurl = "${edge}"\ntoken_file = "${sub}/token"\npoll_secs = 1\nphone_sip_port = ${phonePort}\n`,
  );
  const relay = startRelay(config);
  await until("the relay's first sync", async () => (await fetch(`http://127.0.0.1:${httpPort}/0015650a0b0d.cfg`, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:0a:0b:0d" } })).status === 200);

  const subscribe = (mac, callId) =>
    [
      `SUBSCRIBE sip:MAC%3a${mac}@224.0.1.75 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${phonePort};branch=z9hG4bK${callId};rport`,
      `From: <sip:MAC%3a${mac}@224.0.1.75>;tag=${callId}`,
      `To: <sip:MAC%3a${mac}@224.0.1.75>`,
      `Call-ID: ${callId}@127.0.0.1`,
      "CSeq: 1 SUBSCRIBE",
      `Contact: <sip:127.0.0.1:${phonePort}>`,
      'Event: ua-profile;profile-type="device";vendor="Yealink";model="T54W";version="96.86.0.70"',
      "Expires: 0",
      "Max-Forwards: 70",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");
  // Each phone speaks from 127.0.0.1 in turn; the ARP table says which one is there (only a
  // confirmed sighting adds a phone at the edge or updates one).
  const arpSays = (mac) => writeFileSync(path.join(sub, "arp"), `IP address HW type Flags HW address Mask Device\n127.0.0.1 0x1 0x2 ${mac} * lo\n`);
  const notifies = () => inbox.filter((m) => m.startsWith("NOTIFY") && m.includes(`http://127.0.0.1:${httpPort}`)).length;
  // A factory-fresh phone, then the bound one (so the relay learns its LAN address).
  arpSays("00:15:65:77:77:77");
  phone.send(subscribe("001565777777", "fresh1"), pnpPort, "224.0.1.75");
  await until("the fresh phone's NOTIFY", async () => notifies() >= 1);
  arpSays("00:15:65:0a:0b:0d");
  phone.send(subscribe("0015650a0b0d", "bound1"), pnpPort, "224.0.1.75");
  await until("two NOTIFYs with the relay's URL", async () => notifies() >= 2);
  assert.equal(inbox.filter((m) => m.startsWith("SIP/2.0 200 OK")).length, 2);

  // An unknown phone asking the relay for its config by HTTP is reported too.
  arpSays("00:15:65:88:88:88");
  const unknown = await fetch(`http://127.0.0.1:${httpPort}/001565888888.cfg`, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:88:88:88" } });
  assert.equal(unknown.status, 404);
  arpSays("00:15:65:0a:0b:0d");
  // The edge learns of them: the fresh phones as unbound, found by PnP and HTTP.
  const view = await until("the discovered phone at the edge", async () => {
    const list = await api("GET", `/sites/${site.id}/phones`);
    return list.some((p) => p.mac === "001565777777") && list;
  });
  const fresh = view.find((p) => p.mac === "001565777777");
  assert.equal(fresh.found_by, "pnp");
  assert.equal(fresh.extension, null);
  const byHttp = await until("the phone seen by HTTP at the edge", async () =>
    (await api("GET", `/sites/${site.id}/phones`)).find((p) => p.mac === "001565888888"));
  assert.equal(byHttp.found_by, "http");
  assert.equal(byHttp.model, "T46S");

  // A reboot requested at the edge reaches the phone as a NOTIFY check-sync;reboot=true.
  await until("the bound phone's LAN address at the edge", async () => {
    const row = await api("GET", `/sites/${site.id}/phones/0015650a0b0d`);
    return row.ip === "127.0.0.1";
  });
  await api("POST", `/sites/${site.id}/actions`, { action: "reboot", macs: ["0015650a0b0d"] });
  await until("the check-sync NOTIFY", async () => inbox.some((m) => m.startsWith("NOTIFY") && /Event: check-sync;reboot=true/i.test(m)));
  const done = await until("the acknowledgement at the edge", async () => {
    const list = await api("GET", `/sites/${site.id}/actions`);
    const rows = list.actions ?? list;
    return rows.find((a) => a.status === "done");
  });
  assert.match(done.detail, /200/);
  relay.child.kill("SIGTERM");
  phone.close();
  await mf.dispose();
});

test("star code: a fresh phone registers at the relay, dials *123*330, is bound at the edge and gets its real config", async () => {
  const dgram = await import("node:dgram");
  const { createHash } = await import("node:crypto");
  const md5 = (s) => createHash("md5").update(s).digest("hex");
  const { mf } = await start({ port: 0 });
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = adminApi(edge);
  const site = await api("POST", "/sites", { name: "Star office", pbx_host: "pbx.star.example", star_code_pattern: "*123*" });
  await api("POST", `/sites/${site.id}/users`, { extension: "330", sip_password: "Real-Vq9-kL2m-Zt7x", display_name: "Mia", voicemail_pin: "4711" });
  const { relay_token } = await api("POST", `/sites/${site.id}/relay-token`);
  const sub = path.join(dir, "star");
  rmSync(sub, { recursive: true, force: true });
  (await import("node:fs")).mkdirSync(sub);
  writeFileSync(path.join(sub, "token"), relay_token);
  const regPort = await freeUdpPort();
  const httpPort = await freePort();
  const config = path.join(sub, "relay.toml");
  // The ARP table that places the phone (127.0.0.1) on the LAN: binding wants it.
  writeFileSync(
    path.join(sub, "arp"),
    "IP address       HW type     Flags       HW address            Mask     Device\n" +
      "127.0.0.1        0x1         0x2         00:15:65:ab:00:01     *        lo\n",
  );
  writeFileSync(
    config,
    `state_dir = "${sub}/state"\narp_table = "${sub}/arp"\n[http]\nlisten = "127.0.0.1:${httpPort}"\n[tftp]\nenabled = false\n[pnp]\nenabled = false\n` +
      `[starcode]\nlisten = "127.0.0.1:${regPort}"\n[edge]\nurl = "${edge}"\ntoken_file = "${sub}/token"\npoll_secs = 1\n`,
  );
  const relay = startRelay(config);
  const mac = "001565ab0001";
  const ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:ab:00:01";
  const cfgUrl = `http://127.0.0.1:${httpPort}/${mac}.cfg`;
  const fetchCfg = async () => {
    const r = await fetch(cfgUrl, { headers: { "User-Agent": ua } });
    return r.status === 200 ? r.text() : null;
  };
  // Unbound: the provisioning account on the relay's registrar.
  const prov = await until("the provisioning account config", fetchCfg);
  assert.match(prov, new RegExp(`account\\.1\\.user_name = ${mac}\\n`));
  assert.match(prov, new RegExp(`account\\.1\\.sip_server_port = ${regPort}\\n`));
  assert.match(prov, /account\.1\.sip_server_host = 127\.0\.0\.1\n/);
  const password = prov.match(/account\.1\.password = (\S+)\n/)[1];
  assert.match(password, /^[0-9a-f]{32}$/);

  // The phone: REGISTER with digest, then INVITE *123*330.
  const phone = dgram.createSocket("udp4");
  await new Promise((r) => phone.bind(0, "127.0.0.1", r));
  const me = phone.address().port;
  const inbox = [];
  let waiter = null;
  phone.on("message", (m, rinfo) => {
    const text = m.toString();
    inbox.push(text);
    if (/^(BYE|NOTIFY) /.test(text)) {
      const head = text.split("\r\n\r\n")[0].split("\r\n");
      const keep = head.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
      phone.send(["SIP/2.0 200 OK", ...keep, "Content-Length: 0", "", ""].join("\r\n"), rinfo.port, rinfo.address);
    }
    waiter?.();
  });
  const send = (lines) => phone.send(lines.join("\r\n"), regPort, "127.0.0.1");
  const next = async (pred, what) => until(what, async () => inbox.find(pred), 10000);
  const auth = (challenge, method, uri, header = "Authorization") => {
    const realm = challenge.match(/realm="([^"]+)"/)[1];
    const nonce = challenge.match(/nonce="([^"]+)"/)[1];
    const cnonce = "0a4f113b", nc = "00000001";
    const ha1 = md5(`${mac}:${realm}:${password}`), ha2 = md5(`${method}:${uri}`);
    const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    return `${header}: Digest username="${mac}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}", algorithm=MD5`;
  };
  const regUri = `sip:127.0.0.1:${regPort}`;
  const register = (cseq, extra = []) => [
    `REGISTER ${regUri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKreg${cseq};rport`,
    `From: <sip:${mac}@127.0.0.1>;tag=r1`, `To: <sip:${mac}@127.0.0.1>`, "Call-ID: reg-1@127.0.0.1", `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${mac}@127.0.0.1:${me}>`, "Expires: 600", `User-Agent: ${ua}`, ...extra, "Content-Length: 0", "", "",
  ];
  send(register(1));
  const chal = await next((m) => m.startsWith("SIP/2.0 401") && m.includes("CSeq: 1 REGISTER"), "the 401 challenge");
  send(register(2, [auth(chal.match(/WWW-Authenticate: (.*)\r\n/i)[1], "REGISTER", regUri)]));
  await next((m) => m.startsWith("SIP/2.0 200") && m.includes("CSeq: 2 REGISTER"), "the 200 to REGISTER");

  const sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
  let dialUri, callId;
  const invite = (cseq, branch, extra = []) => [
    `INVITE ${dialUri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=${branch};rport`,
    `From: <sip:${mac}@127.0.0.1>;tag=i1`, `To: <${dialUri}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} INVITE`,
    `Contact: <sip:${mac}@127.0.0.1:${me}>`, `User-Agent: ${ua}`, "Content-Type: application/sdp", ...extra,
    `Content-Length: ${sdp.length}`, "", sdp,
  ];
  // The site wants the user's PIN: the extension alone binds nothing (480), and no PIN
  // appears in the relay's log.
  dialUri = `sip:*123*330@127.0.0.1:${regPort}`;
  callId = "call-0@127.0.0.1";
  send(invite(1, "z9hG4bKnopin1"));
  const n407 = await next((m) => m.startsWith("SIP/2.0 407") && m.includes(callId), "the 407 challenge (no PIN)");
  send([`ACK ${dialUri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKnopin1;rport`, `From: <sip:${mac}@127.0.0.1>;tag=i1`,
    `To: ${n407.match(/^To: (.*)$/im)[1]}`, `Call-ID: ${callId}`, "CSeq: 1 ACK", "Content-Length: 0", "", ""]);
  send(invite(2, "z9hG4bKnopin2", [auth(n407.match(/Proxy-Authenticate: (.*)\r\n/i)[1], "INVITE", dialUri, "Proxy-Authorization")]));
  const refusedCall = await next((m) => m.startsWith("SIP/2.0 480") && m.includes(callId), "the 480 without a PIN");
  send([`ACK ${dialUri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKnopin2;rport`, `From: <sip:${mac}@127.0.0.1>;tag=i1`,
    `To: ${refusedCall.match(/^To: (.*)$/im)[1]}`, `Call-ID: ${callId}`, "CSeq: 2 ACK", "Content-Length: 0", "", ""]);
  assert.ok(!(await api("GET", `/sites/${site.id}/phones`)).some((p) => p.mac === mac && p.user_extension), "bound without a PIN");
  assert.match(await fetchCfg(), new RegExp(`account\\.1\\.user_name = ${mac}\\n`), "still the provisioning account");

  dialUri = `sip:*123*330*4711@127.0.0.1:${regPort}`;
  callId = "call-1@127.0.0.1";
  send(invite(1, "z9hG4bKinv1"));
  const c407 = await next((m) => m.startsWith("SIP/2.0 407"), "the 407 challenge");
  const to407 = c407.match(/^To: (.*)$/im)[1];
  send([`ACK ${dialUri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKinv1;rport`, `From: <sip:${mac}@127.0.0.1>;tag=i1`,
    `To: ${to407}`, "Call-ID: call-1@127.0.0.1", "CSeq: 1 ACK", "Content-Length: 0", "", ""]);
  send(invite(2, "z9hG4bKinv2", [auth(c407.match(/Proxy-Authenticate: (.*)\r\n/i)[1], "INVITE", dialUri, "Proxy-Authorization")]));
  const ok = await next((m) => m.startsWith("SIP/2.0 200") && m.includes("CSeq: 2 INVITE"), "the 200 answering the call");
  const to200 = ok.match(/^To: (.*)$/im)[1];
  send([`ACK ${dialUri} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bKack2;rport`, `From: <sip:${mac}@127.0.0.1>;tag=i1`,
    `To: ${to200}`, "Call-ID: call-1@127.0.0.1", "CSeq: 2 ACK", "Content-Length: 0", "", ""]);
  await next((m) => m.startsWith("BYE "), "the relay hanging up");
  await next((m) => m.startsWith("NOTIFY ") && /Event: check-sync;reboot=true/i.test(m), "the reboot NOTIFY");

  // Bound locally at once, and at the edge.
  const real = await until("the real config", async () => {
    const c = await fetchCfg();
    return c?.includes("Real-Vq9-kL2m-Zt7x") && c;
  });
  assert.match(real, /account\.1\.user_name = 330\n/);
  assert.match(real, /account\.1\.sip_server_host = pbx\.star\.example\n/);
  const atEdge = await api("GET", `/sites/${site.id}/phones/${mac}`);
  assert.equal(atEdge.user_extension, "330");
  // The next snapshot agrees: still the real config after a few polls.
  await sleep(2500);
  assert.match(await fetchCfg(), /Real-Vq9-kL2m-Zt7x/);
  assert.ok(!relay.log().includes(password), "the provisioning password is never logged");
  assert.ok(!relay.log().includes("4711"), "the PIN is never logged");
  relay.child.kill("SIGTERM");
  phone.close();
  await mf.dispose();
});

test("PnP URL per site setting: in edge mode a bound phone's NOTIFY carries its edge URL, which serves it; in relay mode the relay's", async () => {
  const dgram = await import("node:dgram");
  const { mf } = await start({ port: 0 });
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = adminApi(edge);
  const site = await api("POST", "/sites", { name: "Edge PnP office", pbx_host: "pbx.edgepnp.example", pnp_url: "edge" });
  await api("POST", `/sites/${site.id}/users`, { extension: "340", sip_password: "EdgePnp-Vq9-kL2m" });
  const bound = "0015650a0b0e";
  await api("POST", `/sites/${site.id}/phones`, { mac: bound, model: "T46S", user_extension: "340" });
  const { relay_token } = await api("POST", `/sites/${site.id}/relay-token`);
  const sub = path.join(dir, "pnpurl");
  rmSync(sub, { recursive: true, force: true });
  (await import("node:fs")).mkdirSync(sub);
  writeFileSync(path.join(sub, "token"), relay_token);

  const phone = dgram.createSocket("udp4");
  await new Promise((r) => phone.bind(0, "127.0.0.1", r));
  // Its SUBSCRIBEs go to the PnP group, as a phone's do (the relay takes no unicast ones).
  phone.setMulticastInterface("127.0.0.1");
  const phonePort = phone.address().port;
  const inbox = [];
  phone.on("message", (m, rinfo) => {
    const text = m.toString();
    inbox.push(text);
    if (text.startsWith("NOTIFY")) {
      const head = text.split("\r\n\r\n")[0].split("\r\n");
      const keep = head.filter((l) => /^(via|from|to|call-id|cseq):/i.test(l));
      phone.send(["SIP/2.0 200 OK", ...keep, "Content-Length: 0", "", ""].join("\r\n"), rinfo.port, rinfo.address);
    }
  });
  const pnpPort = await new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const httpPort = await freePort();
  const relayUrl = `http://127.0.0.1:${httpPort}`;
  const config = path.join(sub, "relay.toml");
  // The ARP table confirms the bound phone at 127.0.0.1 (the phone's MAC, as the kernel's
  // would after the relay answered it).
  writeFileSync(path.join(sub, "arp"), "IP address HW type Flags HW address Mask Device\n127.0.0.1 0x1 0x2 00:15:65:0a:0b:0e * lo\n");
  writeFileSync(
    config,
    `arp_table = "${sub}/arp"\nstate_dir = "${sub}/state"\n[http]\nlisten = "127.0.0.1:${httpPort}"\n[tftp]\nenabled = false\n[starcode]\nenabled = false\n` +
      `[pnp]\ninterface = "127.0.0.1"\nport = ${pnpPort}\ndebug = true\n` +
      `[edge]\nurl = "${edge}"\ntoken_file = "${sub}/token"\npoll_secs = 1\nphone_sip_port = ${phonePort}\n`,
  );
  const relay = startRelay(config);
  const ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:0a:0b:0e";
  await until("the relay's first sync", async () => (await fetch(`${relayUrl}/${bound}.cfg`, { headers: { "User-Agent": ua } })).status === 200);

  const subscribe = (mac, callId) =>
    [
      `SUBSCRIBE sip:MAC%3a${mac}@224.0.1.75 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${phonePort};branch=z9hG4bK${callId};rport`,
      `From: <sip:MAC%3a${mac}@224.0.1.75>;tag=${callId}`,
      `To: <sip:MAC%3a${mac}@224.0.1.75>`,
      `Call-ID: ${callId}@127.0.0.1`,
      "CSeq: 1 SUBSCRIBE",
      `Contact: <sip:127.0.0.1:${phonePort}>`,
      'Event: ua-profile;profile-type="device";vendor="Yealink";model="T46S";version="66.86.0.15"',
      "Expires: 0",
      "Max-Forwards: 70",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");
  const notifyBody = (callId) => {
    const n = inbox.find((m) => m.startsWith("NOTIFY") && m.includes(`Call-ID: ${callId}@127.0.0.1`));
    return n && n.split("\r\n\r\n")[1];
  };

  // Edge mode, bound phone: its steady-state URL on the edge, which serves it its config.
  phone.send(subscribe(bound, "edge1"), pnpPort, "224.0.1.75");
  const edgeUrl = await until("the NOTIFY with the edge URL", async () => notifyBody("edge1"));
  assert.match(edgeUrl, new RegExp(`^${edge.replace(/[.]/g, "\\.")}/p/[0-9a-f]{32}$`), edgeUrl);
  const cfgRes = await fetch(`${edgeUrl}/${bound}.cfg`, { headers: { "User-Agent": ua } });
  assert.equal(cfgRes.status, 200);
  const cfg = await cfgRes.text();
  assert.match(cfg, /account\.1\.password = EdgePnp-Vq9-kL2m\n/);
  assert.ok(cfg.includes(`static.auto_provision.server.url = ${edgeUrl}`), "the phone stays on the edge");
  // Edge mode, a phone the edge does not serve (fresh, unbound): the relay's URL.
  phone.send(subscribe("001565777778", "fresh1"), pnpPort, "224.0.1.75");
  assert.equal(await until("the fresh phone's NOTIFY", async () => notifyBody("fresh1")), relayUrl);
  // The PnP debug log says which and why, never the URL (its token).
  const plainLog = () => relay.log().replace(/\x1b\[[0-9;]*m/g, "");
  await until("the decisions in the PnP debug log", async () =>
    plainLog().includes(`mac=${bound} target="edge" reason="edge mode"`) &&
    plainLog().includes('mac=001565777778 target="relay" reason="edge mode, unknown phone"'));
  const token = edgeUrl.split("/p/")[1];
  assert.ok(!relay.log().includes(token), "the edge URL's token is never logged");

  // Relay mode: the same phone now gets the relay's URL.
  await api("PATCH", `/sites/${site.id}`, { pnp_url: "relay" });
  let n = 0;
  const relayBody = await until("the NOTIFY with the relay's URL", async () => {
    const id = `relay${++n}`;
    phone.send(subscribe(bound, id), pnpPort, "224.0.1.75");
    await sleep(300);
    const body = notifyBody(id);
    return body === relayUrl && body;
  });
  assert.equal(relayBody, relayUrl);
  assert.ok(plainLog().includes(`mac=${bound} target="relay" reason="relay mode"`));
  assert.ok(!relay.log().includes(token));
  relay.child.kill("SIGTERM");
  phone.close();
  await mf.dispose();
});

// A phonebook source on a LAN address (issue 16 item 5): the edge does not fetch it, the
// relay does (from a local HTTP server standing in for another PBX on the LAN) and posts the
// entries to the edge, which serves them in the phones' phonebook; a failed fetch shows its
// error at the edge and keeps the entries; "fetch now" reaches the relay.
test("the relay fetches a LAN phonebook source and the edge serves its entries", async () => {
  let page = { status: 200, body: "" };
  const hits = [];
  const pbx = http.createServer((req, res) => {
    hits.push(req.url);
    res.writeHead(page.status, { "Content-Type": "text/plain" }).end(page.body);
  });
  await new Promise((r) => pbx.listen(0, "127.0.0.1", r));
  after(() => pbx.close());
  const { mf } = await start({ port: 0 });
  after(() => mf.dispose());
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = async (method, p, body) => {
    const res = await fetch(`${edge}/api${p}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const site = (await api("POST", "/sites", { name: "Branch", pbx_host: "pbx.branch.example" })).body;
  await api("POST", `/sites/${site.id}/users`, { extension: "310", sip_password: "First-Vq9-kL2m", display_name: "Lea" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0015650a0b0d", model: "T46S", user_extension: "310" });
  page = { status: 200, body: "name,number\nLan Ann,4001\nLan Bo,4002\n" };
  const src = await api("POST", `/sites/${site.id}/phonebook-sources`, { name: "Old PBX", url: `http://127.0.0.1:${pbx.address().port}/users.csv`, fetch_minutes: 15 });
  assert.equal(src.status, 201);
  assert.equal(src.body.fetched_by, "relay");
  // The edge does not fetch it itself.
  assert.equal((await api("POST", `/sites/${site.id}/phonebook-sources/${src.body.id}/fetch`)).status, 202);
  assert.equal(hits.length, 0);

  const relayToken = (await api("POST", `/sites/${site.id}/relay-token`)).body.relay_token;
  writeFileSync(path.join(dir, "token-pb"), relayToken + "\n", { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, "relay-pb.toml");
  writeFileSync(
    config,
    `state_dir = "${dir}/state-pb"\n[http]\nlisten = "127.0.0.1:${port}"\n[tftp]\nenabled = false\n[pnp]\nenabled = false\n[starcode]\nenabled = false\n` +
      `[edge]\nurl = "${edge}"\ntoken_file = "${dir}/token-pb"\npoll_secs = 1\n`,
  );
  const { child, log } = startRelay(config);

  const source = async () => (await api("GET", `/sites/${site.id}/phonebook-sources/${src.body.id}`)).body;
  let s = await until("the relay's first fetch", async () => ((await source()).last_count === 2 ? source() : null));
  assert.equal(s.last_format, "csv");
  assert.deepEqual(s.entries.map((e) => e.name), ["Lan Ann", "Lan Bo"]);
  // The relay serves the merged phonebook from its next snapshot, as the edge does.
  const book = await until("the entries in the relay's phonebook", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/phonebook/0015650a0b0d.xml`, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:0a:0b:0d" } });
    const t = r.status === 200 ? await r.text() : "";
    return t.includes("Lan Bo") ? t : null;
  });
  assert.match(book, /Lea/);

  // A failing fetch, asked for with "fetch now": the error reaches the edge, the entries stay.
  page = { status: 500, body: "down" };
  const fetchedBefore = hits.length;
  assert.equal((await api("POST", `/sites/${site.id}/phonebook-sources/${src.body.id}/fetch`)).status, 202);
  s = await until("the failed fetch at the edge", async () => ((await source()).last_error ? source() : null));
  assert.ok(hits.length > fetchedBefore);
  assert.match(s.last_error, /HTTP 500/);
  assert.equal(s.entries.length, 2);
  assert.ok(!log().includes(relayToken), "the token is never logged");
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
});

test("the site's switches reach the running relay: [debug] verbose = 1 logs every PnP packet, tftp_enabled opens TFTP, and both turn off again", async () => {
  const { execFile } = await import("node:child_process");
  const { mf } = await start({ port: 0 });
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = adminApi(edge);
  const site = await api("POST", "/sites", { name: "Switches", pbx_host: "pbx.switch.example" });
  assert.equal(site.tftp_enabled, false, "TFTP off by default");
  await api("POST", `/sites/${site.id}/users`, { extension: "340", sip_password: "Tftp-Vq9-kL2m-Zt7x" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0015650a0b0e", user_extension: "340" });
  const { relay_token } = await api("POST", `/sites/${site.id}/relay-token`);
  const sub = relayDir("switches", relay_token);
  writeFileSync(path.join(sub, "arp"), "IP address HW type Flags HW address Mask Device\n");

  const phone = dgram.createSocket("udp4");
  await new Promise((r) => phone.bind(0, "127.0.0.1", r));
  phone.setMulticastInterface("127.0.0.1");
  const phonePort = phone.address().port;
  const inbox = [];
  phone.on("message", (m) => inbox.push(m.toString()));
  const [pnpPort, tftpPort, httpPort] = [await freeUdpPort(), await freeUdpPort(), await freePort()];
  const config = path.join(sub, "relay.toml");
  // No `enabled` under [tftp] and no `debug` under [pnp]: the site decides both.
  writeFileSync(
    config,
    `arp_table = "${sub}/arp"\nstate_dir = "${sub}/state"\n[http]\nlisten = "127.0.0.1:${httpPort}"\n[tftp]\nlisten = "127.0.0.1:${tftpPort}"\n` +
      `[starcode]\nenabled = false\n[pnp]\ninterface = "127.0.0.1"\nport = ${pnpPort}\n` +
      `[edge]\nurl = "${edge}"\ntoken_file = "${sub}/token"\npoll_secs = 1\n`,
  );
  const relay = startRelay(config);
  await until("the relay's first sync", async () => (await fetch(`http://127.0.0.1:${httpPort}/0015650a0b0e.cfg`, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:0a:0b:0e" } })).status === 200);

  // A phone boots: its SUBSCRIBE to the PnP group, answered by a NOTIFY in its dialog.
  const boot = async (callId) => {
    phone.send(
      [
        "SUBSCRIBE sip:MAC%3a0015650a0b0e@224.0.1.75 SIP/2.0",
        `Via: SIP/2.0/UDP 127.0.0.1:${phonePort};branch=z9hG4bK${callId};rport`,
        "From: <sip:MAC%3a0015650a0b0e@224.0.1.75>;tag=1",
        "To: <sip:MAC%3a0015650a0b0e@224.0.1.75>",
        `Call-ID: ${callId}`,
        "CSeq: 1 SUBSCRIBE",
        `Contact: <sip:127.0.0.1:${phonePort}>`,
        'Event: ua-profile;profile-type="device";vendor="Yealink";model="T46S";version="66.86.0.15"',
        "Expires: 0",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n"),
      pnpPort,
      "224.0.1.75",
    );
    await until(`the NOTIFY of ${callId}`, async () => inbox.some((m) => m.startsWith("NOTIFY") && m.includes(`Call-ID: ${callId}\r\n`)));
  };
  // atftp, with its retries 1 s apart: the config's text, or "" when nothing answers. (Run
  // asynchronously: the edge's miniflare lives on this event loop.)
  const tftpGet = async () => {
    const local = path.join(sub, "got");
    rmSync(local, { force: true });
    const ok = await new Promise((resolve) =>
      execFile("atftp", ["--tftp-timeout", "1", "-g", "-r", "0015650a0b0e.cfg", "-l", local, "127.0.0.1", String(tftpPort)], (err) => resolve(!err)));
    return ok && existsSync(local) ? readFileSync(local, "utf8") : "";
  };

  // As created: TFTP is closed and PnP is logged at debug only.
  await boot("quiet-1");
  assert.equal(await tftpGet(), "", "TFTP is off by default");
  assert.ok(!relay.log().includes("call_id=quiet-1"), relay.log());
  assert.ok(!relay.log().includes("TFTP addr="), "nothing listens on TFTP's port");

  // The site turns both on: the running relay follows with its next poll.
  await api("PATCH", `/sites/${site.id}`, { additional_params: "[debug]\nverbose = 1\n", tftp_enabled: true });
  await until("TFTP open", async () => relay.log().includes("TFTP addr="));
  assert.match(relay.log(), /verbose logging on/);
  assert.match(relay.log(), /TFTP on: the site turned it on/);
  assert.match(await tftpGet(), /account\.1\.password = Tftp-Vq9-kL2m-Zt7x/, "served by TFTP");
  await boot("loud-1");
  await until("the verbose PnP lines", async () => /decision="provision"/.test(relay.log().split("\n").filter((l) => l.includes("loud-1")).join("\n")));
  const loud = relay.log().split("\n").filter((l) => l.includes("0015650a0b0e") && !l.includes("quiet-1"));
  assert.ok(loud.some((l) => l.includes("PnP: SUBSCRIBE ua-profile") && l.includes("call_id=loud-1")), loud.join("\n"));
  assert.ok(loud.some((l) => l.includes("PnP: provisioning URL chosen") && l.includes('target="relay"')), loud.join("\n"));

  // And off again.
  await api("PATCH", `/sites/${site.id}`, { additional_params: "", tftp_enabled: false });
  await until("TFTP closed", async () => relay.log().includes("TFTP closed"));
  assert.match(relay.log(), /verbose logging off/);
  assert.equal(await tftpGet(), "", "TFTP is off again");
  await boot("quiet-2");
  assert.ok(!relay.log().includes("call_id=quiet-2"), relay.log());
  assert.ok(!relay.log().includes(relay_token), "the token is never logged");
  assert.ok(!relay.log().includes("Tftp-Vq9-kL2m-Zt7x"), "nor the SIP password");
  relay.child.kill("SIGTERM");
  phone.close();
  await mf.dispose();
});
