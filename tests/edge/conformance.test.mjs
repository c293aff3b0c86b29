// Conformance under real workerd: every vendor's cases in tests/conformance/<vendor>.json
// (see its README) replayed against the phone worker at /p/<token>/<file> with the
// phone's User-Agent. The same files drive the engine's and the relay's runners; here the
// site, users, phone and BLF keys of tests/conformance/_site.json are written into D1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { start, sha256, steadyToken, now } from "./harness.mjs";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../conformance");
const CASES = readdirSync(dir)
  .filter((f) => f.endsWith(".json") && !f.startsWith("_"))
  .sort()
  .map((f) => ({ file: f, ...JSON.parse(readFileSync(path.join(dir, f), "utf8")) }));
const SITE = readFileSync(path.join(dir, "_site.json"), "utf8");
const PASSWORD = "s3cret-Pass-201";
/** The base URL the cases' expected bodies are written for (the engine runner's). */
const CASE_BASE = "http://192.0.2.10:8480";

let mf, db;
before(async () => {
  ({ mf, db } = await start());
});
after(async () => mf?.dispose());

/** Writes the conformance site for `c` (one site per vendor) and returns the phone's token. */
async function seed(c, n) {
  const inv = JSON.parse(
    SITE.replaceAll("{mac}", c.mac).replaceAll("{vendor}", c.vendor).replaceAll("{model}", c.model),
  );
  const site = `conf${n}`;
  const s = inv.site;
  await db
    .prepare(
      "INSERT INTO sites (id, name, pbx_host, pbx_port, ntp_server, timezone, language, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )
    .bind(site, s.name, s.pbx_host, s.pbx_port, s.ntp_server, s.timezone, s.language, now())
    .run();
  for (const u of inv.users) {
    await db
      .prepare(
        "INSERT INTO users (id, site_id, extension, auth_name, sip_password, display_name) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      )
      .bind(`${site}-u${u.extension}`, site, u.extension, u.auth_name, u.sip_password, u.display_name)
      .run();
  }
  const [p] = inv.phones;
  const id = `${site}-phone`;
  await db
    .prepare(
      "INSERT INTO phones (id, site_id, mac, vendor, model, user_id, token2_hash, assigned_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(id, site, p.mac, p.vendor, p.model, `${site}-u${p.user_extension}`, sha256(steadyToken(id)), now())
    .run();
  for (const k of inv.blf_keys) {
    await db
      .prepare("INSERT INTO blf_keys (phone_id, position, extension, label) VALUES (?1, ?2, ?3, ?4)")
      .bind(id, k.position, k.extension, k.label)
      .run();
  }
  return steadyToken(id);
}

let ip = 0;
const get = (p, ua) =>
  mf.dispatchFetch(`https://edge.example.com${p}`, {
    headers: { "User-Agent": ua ?? "", "CF-Connecting-IP": `198.51.100.${(++ip % 250) + 1}` },
  });

test("the conformance cases cover every configured vendor", () => {
  const vendors = new Set(CASES.map((c) => c.vendor));
  for (const v of ["yealink", "snom", "fanvil", "grandstream", "htek"]) {
    assert.ok(vendors.has(v), `tests/conformance/${v}.json`);
  }
});

CASES.forEach((c, n) => {
  test(`${c.file}: each firmware generation's requests, in order, through the token URL`, async () => {
    const token = await seed(c, n);
    for (const s of c.sequences) {
      for (const r of s.requests) {
        const what = `${c.file}: ${s.name} -> ${r.file}`;
        const res = await get(`/p/${token}/${r.file.replace(/^\//, "")}`, s.ua);
        const body = await res.text();
        if (r.expect === "absent") {
          assert.equal(res.status, 404, `${what}: ${body.slice(0, 200)}`);
          continue;
        }
        assert.equal(res.status, 200, `${what}: ${body.slice(0, 200)}`);
        assert.equal(body.includes(PASSWORD), r.expect === "device", `${what}: the SIP password`);
        if (r.body_starts) assert.ok(body.startsWith(r.body_starts), `${what}: starts ${body.slice(0, 80)}`);
        // The cases write URLs under the engine's test base; here the base is the token URL.
        const base = `https://edge.example.com/p/${token}`;
        for (const want of r.body_contains ?? []) {
          const w = want.replaceAll(CASE_BASE, base);
          assert.ok(body.includes(w), `${what}: lacks ${w}`);
        }
        for (const no of r.body_lacks ?? []) assert.ok(!body.includes(no), `${what}: has ${no}`);
      }
    }
  });
});
