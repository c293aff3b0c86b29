// Phone-facing routes under real workerd: each vendor's phone, with its real User-Agent,
// gets its config, common file and phonebook through its token URL; every refusal is the
// same 404; the steady-state token retires the first-access one; MAC guessing locks out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, seedSite, seedPhone, sha256, now } from "./harness.mjs";

const PHONES = [
  { vendor: "yealink", id: "ph-yea", mac: "001565aabbcc", model: "T46S", file: "001565aabbcc.cfg",
    ua: "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc", common: "y000000000066.cfg",
    uaOther: "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01" },
  { vendor: "snom", id: "ph-snom", mac: "000413aabbcc", model: "D785", file: "000413AABBCC.xml",
    ua: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413AABBCC SXM:0 UXM:0)",
    common: "snomD785.htm",
    uaOther: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413000001 SXM:0 UXM:0)" },
  { vendor: "fanvil", id: "ph-fan", mac: "0c383eaabbcc", model: "X4", file: "0c383eaabbcc.cfg",
    ua: "Fanvil X4 2.10.2.6887 0c383eaabbcc", common: "f0X4hw1.100.cfg",
    uaOther: "Fanvil X4 2.10.2.6887 0c383e000001" },
  { vendor: "grandstream", id: "ph-gs", mac: "000b82aabbcc", model: "GXP2170", file: "cfg000b82aabbcc.xml",
    ua: "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b82aabbcc", common: "cfg.xml",
    uaOther: "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b82000001" },
  { vendor: "htek", id: "ph-htek", mac: "001fc1aabbcc", model: "UC926", file: "001fc1aabbcc.cfg",
    ua: "Htek UC926 2.0.4.4.66 00:1f:c1:aa:bb:cc", common: null,
    uaOther: "Htek UC926 2.0.4.4.66 00:1f:c1:00:00:01" },
];

let mf, db;
const tokens = {};
let ipCounter = 0;
const freshIp = () => `198.51.100.${++ipCounter}`;

before(async () => {
  ({ mf, db } = await start());
  await seedSite(db, { deny: "00:15:65:de:ad:00" });
  for (const p of PHONES) tokens[p.id] = await seedPhone(db, { ...p });
  tokens.denied = await seedPhone(db, { id: "ph-denied", mac: "001565dead00", vendor: "yealink" });
  tokens.late = await seedPhone(db, { id: "ph-late", mac: "001565aa0002", vendor: "yealink", assignedAt: now() - 30 * 86400 });
  // A Yealink image in R2 and its row: the T46S-specific one must win over the vendor-wide one.
  await mf.getR2Bucket("FIRMWARE").then((b) => b.put(FW.key, FW.bytes));
  for (const [id, model, file, key] of [["fw1", "T46S", FW.file, FW.key], ["fw2", "", "generic.rom", "fw/generic"]]) {
    await db
      .prepare("INSERT INTO firmware (id, site_id, vendor, model, version, file_name, size, r2_key, created_at) VALUES (?1, 'site1', 'yealink', ?2, '66.86.0.15', ?3, ?4, ?5, ?6)")
      .bind(id, model, file, FW.bytes.length, key, now())
      .run();
  }
});

const FW = {
  file: "T46S-66.86.0.15.rom",
  key: "fw/site1/yealink/T46S-66.86.0.15.rom",
  bytes: Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7 + 3) & 0xff),
};
after(async () => mf?.dispose());

const get = (path, ua, ip = freshIp()) =>
  mf.dispatchFetch(`https://edge.example.com${path}`, { headers: { "User-Agent": ua ?? "", "CF-Connecting-IP": ip } });

async function expectNotFound(res, what) {
  assert.equal(res.status, 404, what);
  assert.equal(await res.text(), "Not Found\n", what);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8", what);
}

for (const p of PHONES) {
  test(`${p.vendor}: config, common file and phonebook through the token URL`, async () => {
    const t = tokens[p.id];
    const res = await get(`/p/${t.token1}/${p.file}`, p.ua);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.ok(body.includes(t.password), `${p.vendor} config carries the SIP password`);
    assert.ok(body.includes(`/p/${t.token2}`), `${p.vendor} config points the phone at its steady-state URL`);
    assert.ok(!body.includes(t.token1), "the first-access token is not written into the config");
    assert.equal(res.headers.get("cache-control"), "no-store");

    if (p.common) {
      const c = await get(`/p/${t.token2}/${p.common}`, p.ua);
      const cb = await c.text();
      assert.equal(c.status, 200, cb);
      assert.ok(!cb.includes(t.password), "common files carry no secrets");
    }
    const pb = await get(`/p/${t.token2}/phonebook/${p.mac}.xml`, p.ua);
    const pbody = await pb.text();
    assert.equal(pb.status, 200, pbody);
    assert.ok(pbody.includes("User 1"), pbody);
    assert.ok(!pbody.includes("-pw"), "phonebooks carry no passwords");

    const row = await db.prepare("SELECT last_user_agent, last_file, last_firmware, first_fetch_at FROM phones WHERE id = ?1").bind(p.id).first();
    assert.equal(row.last_user_agent, p.ua);
    assert.ok(row.first_fetch_at > 0);
  });

  test(`${p.vendor}: every refusal is the same 404`, async () => {
    const t = tokens[p.id];
    await expectNotFound(await get(`/p/${"0".repeat(32)}/${p.file}`, p.ua), "unknown token");
    await expectNotFound(await get(`/p/not-a-token/${p.file}`, p.ua), "malformed token");
    const other = p.file.replace(/aabbcc/i, (m) => (m === "AABBCC" ? "000001" : "000001"));
    await expectNotFound(await get(`/p/${t.token2}/${other}`, p.uaOther), "another phone's MAC with this token");
    await expectNotFound(await get(`/p/${t.token2}/${p.file}`, p.uaOther), "User-Agent MAC differs from the path");
    await expectNotFound(await get(`/p/${t.token2}/index.html`, p.ua), "a file we do not serve");
  });
}

test("firmware: the config points at the model's image, served whole or by byte range", async () => {
  const p = PHONES[0];
  const t = tokens[p.id];
  const cfg = await (await get(`/p/${t.token2}/${p.file}`, p.ua)).text();
  const url = `https://edge.example.com/p/${t.token2}/firmware/yealink/${FW.file}`;
  assert.ok(cfg.includes(`static.firmware.url = ${url}`), cfg);
  const path = `/p/${t.token2}/firmware/yealink/${FW.file}`;
  const whole = await get(path, p.ua);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get("accept-ranges"), "bytes");
  assert.equal(Number(whole.headers.get("content-length")), FW.bytes.length);
  assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), FW.bytes);
  const part = await mf.dispatchFetch(`https://edge.example.com${path}`, { headers: { "User-Agent": p.ua, Range: "bytes=1000-1999" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 1000-1999/${FW.bytes.length}`);
  assert.deepEqual(new Uint8Array(await part.arrayBuffer()), FW.bytes.subarray(1000, 2000));
  const tail = await mf.dispatchFetch(`https://edge.example.com${path}`, { headers: { "User-Agent": p.ua, Range: "bytes=-100" } });
  assert.equal(tail.status, 206);
  assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), FW.bytes.subarray(FW.bytes.length - 100));
  const past = await mf.dispatchFetch(`https://edge.example.com${path}`, { headers: { "User-Agent": p.ua, Range: "bytes=999999-" } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get("content-range"), `bytes */${FW.bytes.length}`);
  await expectNotFound(await get(`/p/${t.token2}/firmware/yealink/missing.rom`, p.ua), "unknown image");
  await expectNotFound(await get(`/p/${tokens["ph-snom"].token2}/firmware/yealink/${FW.file}`, PHONES[1].ua), "another vendor's image");
  await expectNotFound(await get(`/p/${"0".repeat(32)}/firmware/yealink/${FW.file}`, p.ua), "no token");
});

test("a denied MAC and a closed provisioning window get the same 404", async () => {
  const ua = (mac) => `Yealink SIP-T46S 66.86.0.15 ${mac.match(/../g).join(":")}`;
  await expectNotFound(await get(`/p/${tokens.denied.token1}/001565dead00.cfg`, ua("001565dead00")), "denied MAC");
  await expectNotFound(await get(`/p/${tokens.late.token1}/001565aa0002.cfg`, ua("001565aa0002")), "window closed");
  // The admin reopens the window: the same request is served.
  await db.prepare("UPDATE phones SET assigned_at = ?1 WHERE id = 'ph-late'").bind(now()).run();
  const res = await get(`/p/${tokens.late.token1}/001565aa0002.cfg`, ua("001565aa0002"));
  assert.equal(res.status, 200, await res.text());
});

test("attack: a common file or the phonebook fetched with an old URL does not reopen a closed window", async () => {
  // A phone assigned a month ago that never fetched its config: its window is closed. Someone
  // holding its old URLs (the one registered at a redirection service, an old e-mail) fetches
  // what carries no secret first, hoping that counts as the phone's first contact.
  const mac = "001565aa0009";
  const t = await seedPhone(db, { id: "ph-old", mac, vendor: "yealink", model: "T46S", assignedAt: now() - 30 * 86400 });
  const ua = `Yealink SIP-T46S 66.86.0.15 ${mac.match(/../g).join(":")}`;
  for (const token of [t.token1, t.token2]) {
    assert.equal((await get(`/p/${token}/y000000000066.cfg`, ua)).status, 200, "a common file is served");
    assert.equal((await get(`/p/${token}/phonebook/${mac}.xml`, ua)).status, 200, "the phonebook is served");
    await expectNotFound(await get(`/p/${token}/${mac}.cfg`, ua), "the config stays behind the closed window");
  }
  const row = await db.prepare("SELECT first_fetch_at FROM phones WHERE id = 'ph-old'").first();
  assert.equal(row.first_fetch_at, null, "no first contact recorded");
  // The administrator reopens the window: the config itself is the first contact.
  await db.prepare("UPDATE phones SET assigned_at = ?1 WHERE id = 'ph-old'").bind(now()).run();
  const res = await get(`/p/${t.token2}/${mac}.cfg`, ua);
  assert.equal(res.status, 200, await res.text());
  assert.ok((await db.prepare("SELECT first_fetch_at FROM phones WHERE id = 'ph-old'").first()).first_fetch_at > 0);
});

test("the first use of the steady-state token retires the first-access token", async () => {
  const t = await seedPhone(db, { id: "ph-rot", mac: "001565aa0003", vendor: "yealink" });
  const ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:00:03";
  assert.equal((await get(`/p/${t.token1}/001565aa0003.cfg`, ua)).status, 200, "first access");
  assert.equal((await get(`/p/${t.token1}/001565aa0003.cfg`, ua)).status, 200, "first access again, before the switch");
  assert.equal((await get(`/p/${t.token2}/001565aa0003.cfg`, ua)).status, 200, "steady state");
  await expectNotFound(await get(`/p/${t.token1}/001565aa0003.cfg`, ua), "first-access token after the switch");
  const row = await db.prepare("SELECT token1_hash FROM phones WHERE id = 'ph-rot'").first();
  assert.equal(row.token1_hash, null);
  assert.equal((await get(`/p/${t.token2}/001565aa0003.cfg`, ua)).status, 200, "steady state keeps working");
});

test("guessing locks the address out; its own phones are still served; the lock expires", async () => {
  const ip = "203.0.113.7";
  const p = PHONES[0];
  for (let i = 0; i < 19; i++) {
    await expectNotFound(await get(`/p/${sha256(String(i)).slice(0, 32)}/${p.file}`, p.ua, ip), `miss ${i}`);
  }
  const locked = await get(`/p/${"f".repeat(32)}/${p.file}`, p.ua, ip);
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  assert.equal((await get(`/p/${"e".repeat(32)}/${p.file}`, p.ua, ip)).status, 429, "still cooling off");
  // A phone with a valid token behind the same address is served.
  assert.equal((await get(`/p/${tokens[p.id].token2}/${p.file}`, p.ua, ip)).status, 200);
  // Another address is unaffected.
  await expectNotFound(await get(`/p/${"f".repeat(32)}/${p.file}`, p.ua, "203.0.113.8"), "other address");
  // Once the cool-off has passed, misses are 404 again.
  await db.prepare("UPDATE misses SET locked_until = ?1, window_start = ?1 WHERE key = ?2").bind(now() - 1, `ip:${ip}`).run();
  await expectNotFound(await get(`/p/${"f".repeat(32)}/${p.file}`, p.ua, ip), "after the cool-off");
});

test("migrations created every table on the empty database", async () => {
  const rows = await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
  const names = rows.results.map((r) => r.name);
  for (const t of ["audit_log", "blf_keys", "firmware", "misses", "phonebook_entries", "phonebook_sources", "phones", "sites", "templates", "uri_mappings", "users"]) {
    assert.ok(names.includes(t), `${t} in ${names}`);
  }
});

test("a fetch without a User-Agent (or without a model in it) is served and recorded", async () => {
  const t = await seedPhone(db, { id: "ph-noua", mac: "001565ac0009", vendor: "yealink" });
  const res = await get(`/p/${t.token1}/001565ac0009.cfg`, "");
  assert.equal(res.status, 200, await res.clone().text());
  assert.match(await res.text(), /account\.1\.password = Secret-ph-noua-pw/);
  const row = await db.prepare("SELECT model, last_file, first_fetch_at FROM phones WHERE id = 'ph-noua'").first();
  assert.equal(row.model, "", "no model was learnt");
  assert.equal(row.last_file, "001565ac0009.cfg");
  assert.ok(row.first_fetch_at > 0);
  const named = await get(`/p/${t.token1}/001565ac0009.cfg`, "Yealink SIP-T54W 96.86.0.70 00:15:65:ac:00:09");
  assert.equal(named.status, 200);
  assert.equal((await db.prepare("SELECT model FROM phones WHERE id = 'ph-noua'").first()).model, "T54W", "learnt from the User-Agent");
});
