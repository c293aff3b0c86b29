// The edge is two Workers (issue 13): the phone worker (edge-worker: phones and relays) holds
// only TOKEN_KEY and serves no admin route; the admin worker (edge-admin: console, /api/, the
// RPS outbox) hands the phone routes to it through the PHONES service binding, so one origin
// serves both. These tests fail if the phone worker could read ADMIN_TOKEN or RPS_KEY, if it
// answered /api/, or if the admin worker stopped forwarding a phone route unchanged.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { start, seedSite, seedPhone, adminRequest, ADMIN, PHONES, ADMIN_TOKEN, TOKEN_KEY } from "./harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ORIGIN = "https://edge.example.com";
const UA = "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:00:01";
const ADMIN_ONLY = ["ADMIN_TOKEN", "RPS_KEY"];
let mf, db, phones;

before(async () => {
  ({ mf, db } = await start());
  phones = await mf.getWorker(PHONES);
  await seedSite(db);
});
after(async () => mf?.dispose());

test("the phone worker is given only TOKEN_KEY, and its built code never names an admin secret", async () => {
  const env = await mf.getBindings(PHONES);
  for (const name of ADMIN_ONLY) assert.ok(!(name in env), `the phone worker's env holds ${name}`);
  assert.equal(env.TOKEN_KEY, TOKEN_KEY);
  // A Worker reads a secret by its name: a name absent from its wasm and JS glue cannot be read.
  for (const file of ["edge-worker/build/index_bg.wasm", "edge-worker/build/index.js"]) {
    const bytes = readFileSync(path.join(root, file));
    for (const name of ADMIN_ONLY) assert.equal(bytes.indexOf(name), -1, `${file} names ${name}`);
  }
  // The admin worker does read them (so the check above would see them if they were linked in).
  const adminWasm = readFileSync(path.join(root, "edge-admin/build/index_bg.wasm"));
  for (const name of ADMIN_ONLY) assert.notEqual(adminWasm.indexOf(name), -1, `the admin wasm lacks ${name}`);
  // Its wrangler config declares no admin variable either (its secrets come from edge-worker/.dev.vars).
  const toml = readFileSync(path.join(root, "edge-worker/wrangler.toml"), "utf8").replace(/#.*$/gm, "");
  for (const name of [...ADMIN_ONLY, "[assets]", "[triggers]", "[[services]]"]) assert.ok(!toml.includes(name), `edge-worker/wrangler.toml has ${name}`);
});

test("the phone worker's sources (its crate and edge-shared) never read an admin secret nor use the admin crate", () => {
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir)) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".rs")) files.push(p);
    }
  };
  walk(path.join(root, "edge-worker/src"));
  walk(path.join(root, "edge-shared/src"));
  for (const f of files) {
    const code = readFileSync(f, "utf8").replace(/\/\/.*$/gm, "");
    for (const name of [...ADMIN_ONLY, "edge_admin"]) assert.ok(!code.includes(name), `${path.relative(root, f)} names ${name}`);
  }
  for (const manifest of ["edge-worker/Cargo.toml", "edge-shared/Cargo.toml"]) {
    assert.doesNotMatch(readFileSync(path.join(root, manifest), "utf8"), /^edge-admin\s*=/m, `${manifest} depends on edge-admin`);
  }
});

test("the phone worker answers /api/ with the same 404 as any unknown path, even with the admin token", async () => {
  for (const p of ["/api/sites", "/api/sites/site1/phones", "/", "/index.html"]) {
    for (const method of ["GET", "POST"]) {
      const res = await phones.fetch(`${ORIGIN}${p}`, {
        method,
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: method === "POST" ? JSON.stringify({ name: "x", pbx_host: "pbx.example.com" }) : undefined,
      });
      assert.equal(res.status, 404, `${method} ${p}`);
      assert.equal(await res.text(), "Not Found\n");
    }
  }
  // Nothing was created through it; the admin worker does serve the API.
  const sites = await adminRequest(mf, "GET", "/sites");
  assert.equal(sites.status, 200);
  assert.deepEqual((await sites.json()).map((s) => s.id), ["site1"]);
});

test("the admin worker hands phone routes to the phone worker unchanged: same status, headers and body as direct", async () => {
  const { token2 } = await seedPhone(db, { id: "p-split", mac: "001565aa0001", vendor: "yealink", model: "T46S" });
  const url = `${ORIGIN}/p/${token2}/001565aa0001.cfg`;
  const viaAdmin = await mf.dispatchFetch(url, { headers: { "User-Agent": UA } });
  const body = await viaAdmin.text();
  assert.equal(viaAdmin.status, 200);
  assert.equal(viaAdmin.headers.get("cache-control"), "no-store");
  // The phone worker saw the admin's origin: the config points the phone back at it.
  assert.ok(body.includes(`${ORIGIN}/p/${token2}`), "the config's URLs name the request's origin");
  const direct = await phones.fetch(url, { headers: { "User-Agent": UA } });
  assert.equal(direct.status, 200);
  assert.equal(await direct.text(), body);
  // /healthz, a refusal, and the relay API (no token) take the same way.
  const health = await mf.dispatchFetch(`${ORIGIN}/healthz`);
  assert.equal(await health.text(), "ok\n");
  const miss = await mf.dispatchFetch(`${ORIGIN}/p/${"0".repeat(32)}/001565aa0001.cfg`, { headers: { "User-Agent": UA } });
  assert.equal(miss.status, 404);
  assert.equal(await miss.text(), "Not Found\n");
  const relay = await mf.dispatchFetch(`${ORIGIN}/relay/v1/snapshot`);
  assert.equal(relay.status, 401);
  // The fetch was recorded in the one D1 both workers share.
  const seen = await db.prepare("SELECT last_user_agent FROM phones WHERE id = 'p-split'").first();
  assert.equal(seen.last_user_agent, UA);
});

test("the scheduled handler (the RPS cron) is the admin worker's; the phone worker has none", async () => {
  const admin = await mf.getWorker(ADMIN);
  const ran = await admin.scheduled({ cron: "* * * * *" });
  assert.equal(ran.outcome, "ok");
  // The phone worker exports no scheduled handler: a cron pointed at it fails.
  const none = await phones.scheduled({ cron: "* * * * *" });
  assert.equal(none.outcome, "exception");
});

test("PHONE_ORIGIN names the phone worker's own hostname in the URLs the admin API hands out", async () => {
  const split = await start({ bindings: { PHONE_ORIGIN: "https://phones.example.net/" } });
  try {
    await seedSite(split.db);
    const res = await adminRequest(split.mf, "POST", "/sites/site1/phones", { mac: "00:15:65:aa:00:02", vendor: "yealink", model: "T46S" }, "https://admin.example.com");
    assert.equal(res.status, 201);
    const phone = await res.json();
    assert.ok(phone.provisioning_url.startsWith("https://phones.example.net/p/"), phone.provisioning_url);
  } finally {
    await split.mf.dispose();
  }
});
