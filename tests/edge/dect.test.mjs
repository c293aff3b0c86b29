// DECT bases under real workerd: users bound to a base's handset slots through the admin
// API, the base's config carrying one account per handset, the phones view showing the
// base with its handsets, the relay's snapshot carrying them, and every refused binding
// (a desk model, a slot the base does not have, a slot twice, an unknown user, more
// accounts than the base holds) answered at its field with nothing changed. Also: a BLF
// layout longer than the model's keys is refused at blf_keys, naming the model's limit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, ADMIN_TOKEN } from "./harness.mjs";

let mf, db;
after(async () => mf?.dispose());

const api = async (method, path, body) => {
  const res = await mf.dispatchFetch(`https://edge.example.com/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

async function dump() {
  const out = {};
  for (const t of ["phones", "phone_handsets", "blf_keys", "users"]) {
    out[t] = (await db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()).results;
  }
  return JSON.stringify(out);
}

async function refused(method, path, body, field) {
  const before = await dump();
  const res = await api(method, path, body);
  assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
  assert.equal(res.body.field, field, JSON.stringify(res.body));
  assert.equal(await dump(), before, "nothing changed");
  return res.body.error;
}

const PASSWORDS = { 401: "Hs1-Pass-aa-401", 402: "Hs2-Pass-bb-402", 403: "Hs3-Pass-cc-403" };
let site;

before(async () => {
  ({ mf, db } = await start());
  const s = await api("POST", "/sites", { name: "DECT office", pbx_host: "pbx.example.com" });
  assert.equal(s.status, 201, JSON.stringify(s.body));
  site = s.body.id;
  for (const [ext, pw] of Object.entries(PASSWORDS)) {
    const u = await api("POST", `/sites/${site}/users`, { extension: ext, sip_password: pw, display_name: `Handset ${ext}` });
    assert.equal(u.status, 201, JSON.stringify(u.body));
  }
});

/** A model of `vendor`'s table that is a DECT base (from the engine, via the vendors API). */
async function baseModel(vendor) {
  const res = await api("GET", "/vendors");
  assert.equal(res.status, 200);
  const v = res.body.find((x) => x.vendor === vendor);
  return v.model_table.find((m) => m.dect_handsets >= 3);
}

test("a DECT base's handsets each get their user's account; the view and the snapshot show them", async () => {
  const base = await baseModel("yealink");
  assert.ok(base, "Yealink's model table has a DECT base");
  const mac = "001565dec001";
  const res = await api("POST", `/sites/${site}/phones`, {
    mac, vendor: "yealink", model: base.name, user_extension: "401",
    handsets: [{ slot: 3, user_extension: "403" }, { slot: 2, user_extension: "402" }],
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const got = await api("GET", `/sites/${site}/phones/${mac}`);
  assert.deepEqual(got.body.handsets, [
    { slot: 2, user_extension: "402" },
    { slot: 3, user_extension: "403" },
  ]);
  assert.equal(got.body.dect_handsets, base.dect_handsets);

  const url = res.body.provisioning_url + res.body.config_file;
  const ua = `Yealink ${base.name} 77.85.0.20 ${mac.match(/../g).join(":")}`;
  const cfg = await mf.dispatchFetch(url, { headers: { "User-Agent": ua, "CF-Connecting-IP": "203.0.113.7" } });
  const body = await cfg.text();
  assert.equal(cfg.status, 200, body);
  for (const pw of Object.values(PASSWORDS)) assert.ok(body.includes(pw), `the base's config holds every handset's account`);

  const view = await api("GET", `/sites/${site}/phones`);
  const row = view.body.find((p) => p.mac === mac);
  assert.deepEqual(row.handsets, [
    { slot: 2, extension: "402", display_name: "Handset 402" },
    { slot: 3, extension: "403", display_name: "Handset 403" },
  ]);
  for (const p of view.body) assert.ok(!JSON.stringify(p).includes("Pass-"), "the view has no password");

  // The relay's snapshot carries the slots, so the LAN serves the base the same accounts.
  const token = await api("POST", `/sites/${site}/relay-token`);
  assert.ok(token.status < 300, JSON.stringify(token.body));
  const snap = await mf.dispatchFetch("https://edge.example.com/relay/v1/snapshot", {
    headers: { Authorization: `Bearer ${token.body.relay_token}` },
  });
  assert.equal(snap.status, 200);
  const inv = await snap.json();
  const entry = inv.phones.find((p) => p.mac === mac);
  assert.deepEqual(entry.handsets, [
    { slot: 2, user_extension: "402" },
    { slot: 3, user_extension: "403" },
  ]);
  const desk = inv.phones.find((p) => p.mac !== mac);
  assert.ok(!desk || !("handsets" in desk), "a phone without handsets has no handsets field");

  // Unbinding a handset: a PATCH with fewer slots.
  const patched = await api("PATCH", `/sites/${site}/phones/${mac}`, { handsets: [{ slot: 2, user_extension: "402" }] });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(patched.body.handsets, [{ slot: 2, user_extension: "402" }]);
  const rows = (await db.prepare("SELECT slot FROM phone_handsets").all()).results;
  assert.deepEqual(rows, [{ slot: 2 }]);
});

test("handset bindings a base cannot take are refused at their field, nothing changed", async () => {
  const base = await baseModel("yealink");
  const mac = "001565dec001";
  const path = `/sites/${site}/phones/${mac}`;
  let msg = await refused("PATCH", path, { handsets: [{ slot: 1, user_extension: "403" }] }, "handsets[0].slot");
  assert.match(msg, new RegExp(`^2-${base.dect_handsets}: the ${base.name} serves ${base.dect_handsets} handsets`));
  await refused("PATCH", path, { handsets: [{ slot: base.dect_handsets + 1, user_extension: "403" }] }, "handsets[0].slot");
  await refused("PATCH", path, { handsets: [{ slot: 2, user_extension: "402" }, { slot: 2, user_extension: "403" }] }, "handsets[1].slot");
  await refused("PATCH", path, { handsets: [{ slot: 2, user_extension: "999" }] }, "handsets[0].user_extension");
  // One user on two handsets, or on a handset and the base's own slot.
  msg = await refused("PATCH", path, { handsets: [{ slot: 2, user_extension: "402" }, { slot: 3, user_extension: "402" }] }, "handsets[1].user_extension");
  assert.match(msg, /on another handset/);
  await refused("PATCH", path, { handsets: [{ slot: 2, user_extension: "401" }] }, "handsets[0].user_extension");
  // A user of another site is no user here.
  const other = (await api("POST", "/sites", { name: "Other office", pbx_host: "pbx2.example.com" })).body.id;
  assert.equal((await api("POST", `/sites/${other}/users`, { extension: "777", sip_password: "Other-Pass-777-x" })).status, 201);
  await refused("PATCH", path, { handsets: [{ slot: 2, user_extension: "777" }] }, "handsets[0].user_extension");
  await refused("PATCH", path, { user_extension: null }, "user_extension");
  msg = await refused("POST", `/sites/${site}/phones`, {
    mac: "001565dec002", vendor: "yealink", model: "T46S", user_extension: "403",
    handsets: [{ slot: 2, user_extension: "402" }],
  }, "handsets");
  assert.match(msg, /^handsets need a DECT base model \(Yealink DECT bases: /);
});

test("a BLF layout longer than the model's keys is refused at blf_keys, naming the limit", async () => {
  const res = await api("GET", "/vendors");
  const yealink = res.body.find((x) => x.vendor === "yealink");
  const cap = (m) => m.line_keys + m.expansion_keys * m.expansion_modules;
  const desk = yealink.model_table.find((m) => m.name === "T46S");
  const capacity = cap(desk);
  assert.ok(capacity > 10 && capacity < 400, `T46S: ${capacity} keys`);
  const keys = (n) => Array.from({ length: n }, (_, i) => ({ extension: String(500 + i) }));
  const body = (n) => ({ mac: "001565dec003", vendor: "yealink", model: "T46S", user_extension: "403", blf_keys: keys(n) });
  const msg = await refused("POST", `/sites/${site}/phones`, body(capacity), "blf_keys");
  assert.match(msg, new RegExp(`^the Yealink T46S has ${desk.line_keys} line keys.* at most ${capacity - 1} BLF keys, less 1 for its account; this layout has ${capacity}$`));
  const ok = await api("POST", `/sites/${site}/phones`, body(capacity - 1));
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
});
