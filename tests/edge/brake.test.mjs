// The edge's guessing brake under real workerd (issue 15, finding 3), each test performing
// the attack: HTTP Basic guesses under a site URL (`/s/<site>/<token>/`) braked per client
// address and per phone whatever the outcome, one answer for "no such phone" and "wrong
// credentials", one atomic count per miss (parallel misses are not lost), IPv6 counted per
// /64, expired rows pruned by the admin worker's cron, and a site token that rotates.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, ADMIN, ADMIN_TOKEN, steadyToken } from "./harness.mjs";

const ORIGIN = "https://edge.example.com";
let mf, db, site, siteUrl;
// Grandstream phones (GDMS sends them to the site URL): two with credentials, one without.
const GS = { mac: "000b82440001", user: "gs-one", password: "Gs-Basic-Pass-4401" };
const GS2 = { mac: "000b82440002", user: "gs-two", password: "Gs-Basic-Pass-4402" };
const BARE = "000b82440003";
const UNKNOWN = "000b82449999";
const SIP = { [GS.mac]: "Sip-Secret-4401-x", [GS2.mac]: "Sip-Secret-4402-x", [BARE]: "Sip-Secret-4403-x" };

const api = async (method, path, body) => {
  const res = await mf.dispatchFetch(`${ORIGIN}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

before(async () => {
  ({ mf, db } = await start());
  const s = await api("POST", "/sites", { name: "Brake", pbx_host: "pbx.example.com" });
  assert.equal(s.status, 201);
  site = s.body.id;
  for (const [i, mac] of [GS.mac, GS2.mac, BARE].entries()) {
    assert.equal((await api("POST", `/sites/${site}/users`, { extension: `44${i}`, sip_password: SIP[mac] })).status, 201);
  }
  for (const [p, ext] of [[GS, "440"], [GS2, "441"]]) {
    const r = await api("POST", `/sites/${site}/phones`, { mac: p.mac, user_extension: ext, http_user: p.user, http_password: p.password });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  assert.equal((await api("POST", `/sites/${site}/phones`, { mac: BARE, user_extension: "442" })).status, 201);
  siteUrl = (await api("GET", `/sites/${site}/rps`)).body.per_site[0].site_url;
});
after(async () => mf?.dispose());

const ua = (mac) => `Grandstream Model HW GXP2170 SW 1.0.11.23 DevId ${mac}`;
const basic = (u, p) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
let n = 0;
/** A fresh IPv4 address in its own /24 (every test's addresses are its own). */
const freshIp = () => `10.${(++n >> 8) & 255}.${n & 255}.1`;
const get = (url, mac, ip, auth) =>
  mf.dispatchFetch(url, {
    headers: { "User-Agent": ua(mac), "CF-Connecting-IP": ip, ...(auth ? { Authorization: auth } : {}) },
  });
const cfg = (mac, url = siteUrl) => `${url}/cfg${mac}.xml`;
/** A refusal: no config, no SIP password. */
async function refused(res, what) {
  const body = await res.text();
  assert.ok(res.status === 404 || res.status === 429, `${what}: ${res.status} ${body}`);
  assert.ok(!Object.values(SIP).some((s) => body.includes(s)), `${what}: a SIP password was served`);
  return res.status;
}
async function served(res, mac, what) {
  const body = await res.text();
  assert.equal(res.status, 200, `${what}: ${body}`);
  assert.ok(body.includes(SIP[mac]), `${what}: the phone's config`);
}

test("attack: Basic guesses from one address, then the right password from it: no config", async () => {
  const ip = freshIp();
  const statuses = [];
  for (let i = 0; i < 25; i++) statuses.push(await refused(await get(cfg(GS.mac), GS.mac, ip, basic(GS.user, `wrong-guess-${i}`)), `guess ${i}`));
  assert.ok(statuses.includes(429), "the address is braked");
  // The right password now gets the same refusal as a wrong one.
  const right = await get(cfg(GS.mac), GS.mac, ip, basic(GS.user, GS.password));
  assert.equal(await refused(right, "the right password from the braked address"), 429);
  // Another phone's right password from that address too: the brake is the address's.
  assert.equal(await refused(await get(cfg(GS2.mac), GS2.mac, ip, basic(GS2.user, GS2.password)), "another phone"), 429);
  // A phone behind the same address (one office NAT) with its own token URL is still served.
  const id = (await db.prepare("SELECT id FROM phones WHERE mac = ?1").bind(GS2.mac).first()).id;
  await served(await get(`${ORIGIN}/p/${steadyToken(id)}/cfg${GS2.mac}.xml`, GS2.mac, ip, basic(GS2.user, GS2.password)), GS2.mac, "token URL from the braked address");
  // Another address is not braked.
  await served(await get(cfg(GS2.mac), GS2.mac, freshIp(), basic(GS2.user, GS2.password)), GS2.mac, "another address");
});

test("attack: Basic guesses for one phone spread over many addresses brake that phone", async () => {
  const statuses = [];
  for (let i = 0; i < 25; i++) statuses.push(await refused(await get(cfg(GS.mac), GS.mac, freshIp(), basic(GS.user, `spread-guess-${i}`)), `guess ${i}`));
  assert.ok(statuses.includes(429), "the phone is braked");
  // The right password from an address that never guessed: refused all the same.
  assert.equal(await refused(await get(cfg(GS.mac), GS.mac, freshIp(), basic(GS.user, GS.password)), "the right password"), 429);
  // Another phone of the site is not braked.
  await served(await get(cfg(GS2.mac), GS2.mac, freshIp(), basic(GS2.user, GS2.password)), GS2.mac, "another phone");
});

test("attack: a MAC with credentials, one without and an unknown one answer alike under the site URL", async () => {
  const answer = async (mac, auth) => {
    const res = await get(cfg(mac), mac, freshIp(), auth);
    const headers = [...res.headers].filter(([k]) => k !== "date");
    return { status: res.status, headers, body: await res.text() };
  };
  for (const auth of [undefined, basic("gs-one", "a-wrong-password"), basic("nobody", "a-wrong-password"), "Basic !!!"]) {
    const withCreds = await answer(GS2.mac, auth);
    assert.ok(!withCreds.body.includes(SIP[GS2.mac]));
    assert.deepEqual(await answer(BARE, auth), withCreds, `a phone without credentials, ${auth}`);
    assert.deepEqual(await answer(UNKNOWN, auth), withCreds, `no such phone, ${auth}`);
  }
});

test("attack: parallel misses from one address are all counted", async () => {
  const ip = freshIp();
  const guesses = Array.from({ length: 40 }, (_, i) =>
    get(`${ORIGIN}/p/${i.toString(16).padStart(32, "7")}/001565aabbcc.cfg`, "001565aabbcc", ip).then((r) => r.text().then(() => r.status)),
  );
  const statuses = await Promise.all(guesses);
  assert.ok(statuses.every((s) => s === 404 || s === 429), statuses.join());
  assert.equal((await get(`${ORIGIN}/p/${"7".repeat(32)}/001565aabbcc.cfg`, "001565aabbcc", ip)).status, 429, "the address is braked");
});

test("attack: misses from 40 addresses of one IPv6 /64 brake the /64", async () => {
  for (let i = 1; i <= 40; i++) {
    const ip = `2001:db8:44:1:${i.toString(16)}::${((i * 7919) & 0xffff).toString(16)}`;
    await refused(await get(cfg(GS.mac, `${ORIGIN}/p/${"6".repeat(32)}`), GS.mac, ip), `miss ${i}`);
  }
  const next = await get(`${ORIGIN}/p/${"6".repeat(32)}/x.cfg`, GS.mac, "2001:db8:44:1:ffff:ffff:ffff:ffff");
  assert.equal(next.status, 429, "another address of the /64 is braked");
  // The next /64, and an IPv4 address, are not.
  assert.equal((await get(`${ORIGIN}/p/${"6".repeat(32)}/x.cfg`, GS.mac, "2001:db8:44:2::1")).status, 404);
  // The right password under the site URL from the braked /64: refused.
  assert.equal(await refused(await get(cfg(GS2.mac), GS2.mac, "2001:db8:44:1::abcd", basic(GS2.user, GS2.password)), "from the /64"), 429);
});

test("the admin worker's cron deletes expired miss rows, and keeps live ones", async () => {
  const stale = freshIp();
  const live = freshIp();
  for (const ip of [stale, live]) await get(`${ORIGIN}/p/${"5".repeat(32)}/x.cfg`, GS.mac, ip);
  const rows = async () => (await db.prepare("SELECT key FROM misses").all()).results.map((r) => r.key);
  assert.ok((await rows()).includes(`ip:${stale}`), await rows());
  // The stale row's window and cool-off ended an hour ago.
  const hourAgo = Math.floor(Date.now() / 1000) - 3600;
  await db.prepare("UPDATE misses SET window_start = ?1, locked_until = 0, expires_at = ?1 WHERE key = ?2").bind(hourAgo, `ip:${stale}`).run();
  const ran = await (await mf.getWorker(ADMIN)).scheduled({ cron: "* * * * *" });
  assert.equal(ran.outcome, "ok");
  const left = await rows();
  assert.ok(!left.includes(`ip:${stale}`), "the expired row is gone");
  assert.ok(left.includes(`ip:${live}`), "a live row stays");
});

test("rotating the site token: the old site URL misses, the new one serves", async () => {
  const old = siteUrl;
  await served(await get(cfg(GS2.mac, old), GS2.mac, freshIp(), basic(GS2.user, GS2.password)), GS2.mac, "before");
  const r = await api("POST", `/sites/${site}/site-token`);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const fresh = r.body.site_url;
  assert.match(fresh, new RegExp(`^${ORIGIN}/s/${site}/[0-9a-f]{32}$`));
  assert.notEqual(fresh, old);
  assert.match(r.body.note, /GDMS/, "says where the new URL must be set");
  await refused(await get(cfg(GS2.mac, old), GS2.mac, freshIp(), basic(GS2.user, GS2.password)), "the old URL");
  await served(await get(cfg(GS2.mac, fresh), GS2.mac, freshIp(), basic(GS2.user, GS2.password)), GS2.mac, "the new URL");
  // Every place that shows the site URL shows the new one.
  assert.equal((await api("GET", `/sites/${site}/rps`)).body.per_site[0].site_url, fresh);
  assert.equal((await api("GET", `/sites/${site}/phones/${GS2.mac}/rps`)).body.per_site.site_url, fresh);
  const audit = await db.prepare("SELECT action FROM audit_log WHERE entity = 'site' AND entity_id = ?1 ORDER BY id DESC").bind(site).first();
  assert.equal(audit.action, "rotate site token");
  assert.ok(!JSON.stringify(await db.prepare("SELECT * FROM audit_log").all()).includes(fresh.split("/").pop()), "the token is not logged");
});
