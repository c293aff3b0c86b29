// The admin API's full life cycle under real workerd: update and delete for every entity,
// URI mappings and phonebook sources reaching phones, the preview matching what a phone
// gets byte for byte, the credential audit, token rotation, the window reopened, and HTTP
// Basic credentials per phone. Every refused write leaves the database as it was.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { start, ADMIN_TOKEN } from "./harness.mjs";

let mf, db;
before(async () => ({ mf, db } = await start()));
after(async () => mf?.dispose());

const api = async (method, path, body) => {
  const res = await mf.dispatchFetch(`https://edge.example.com/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

const YEALINK_UA = (mac) => `Yealink SIP-T46S 66.86.0.15 ${mac.match(/../g).join(":")}`;
let ip = 0;
const fetchAs = (url, ua, headers = {}) =>
  mf.dispatchFetch(url, { headers: { "User-Agent": ua, "CF-Connecting-IP": `203.0.113.${++ip % 250}`, ...headers } });

// Everything the API can change, to prove a refused write changed nothing.
async function dump() {
  const tables = ["sites", "users", "phones", "blf_keys", "templates", "uri_mappings", "phonebook_sources", "phonebook_entries", "audit_log"];
  const out = {};
  for (const t of tables) out[t] = (await db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()).results;
  return JSON.stringify(out);
}

async function refused(method, path, body, field, status = 400) {
  const before = await dump();
  const res = await api(method, path, body);
  assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
  assert.equal(res.body.field, field, `${method} ${path} ${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`);
  assert.equal(await dump(), before, `${method} ${path}: nothing changed`);
  return res.body;
}

async function newSite(name = "Office") {
  const site = await api("POST", "/sites", { name, pbx_host: "pbx.example.com", timezone: "Europe/Berlin" });
  assert.equal(site.status, 201);
  return site.body.id;
}

test("an unknown vendor is refused where the body is parsed: 400 naming the field in the engine's words, nothing written", async () => {
  const site = await newSite("Vendors");
  await api("POST", `/sites/${site}/users`, { extension: "301", sip_password: "Vq9-kL2m-Zt7x-Pw4r" });
  const words = /^unknown vendor "acme"; expected yealink, snom, fanvil, grandstream, htek or ale$/;
  for (const [method, path, body, field] of [
    ["POST", `/sites/${site}/phones`, { mac: "001565aa0301", vendor: "acme", user_extension: "301" }, "vendor"],
    ["POST", `/sites/${site}/templates`, { name: "desk", vendor: "acme", source: "a = 1\n" }, "vendor"],
    ["POST", `/sites/${site}/preview`, { vendor: "acme" }, "vendor"],
    ["POST", `/sites/${site}/preview`, { vendor: "yealink", template: { vendor: "acme", source: "a = 1\n" } }, "template.vendor"],
  ]) {
    assert.match((await refused(method, path, body, field)).error, words, `${method} ${path}`);
  }
  const query = await api("GET", `/sites/${site}/preview-input?vendor=acme`);
  assert.deepEqual([query.status, query.body.field], [400, "vendor"]);
  assert.match(query.body.error, words);
  // A template saved without a name or vendor, or a preview draft without a vendor, is
  // refused as before: serde's words, the field named.
  assert.equal((await refused("POST", `/sites/${site}/templates`, { vendor: "yealink", source: "" }, "name")).error, "missing field `name`");
  assert.equal((await refused("POST", `/sites/${site}/templates`, { name: "desk", source: "" }, "vendor")).error, "missing field `vendor`");
  assert.equal((await refused("POST", `/sites/${site}/preview`, { vendor: "yealink", template: { source: "" } }, "template.vendor")).error, "missing field `vendor`");
  // Any case names the same vendor, stored as its lowercase name.
  const created = await api("POST", `/sites/${site}/phones`, { mac: "001565aa0302", vendor: "Yealink" });
  assert.equal(created.status, 201);
  assert.equal(created.body.vendor, "yealink");
});

test("sites: list, update settings (validated, merged), delete with everything in it", async () => {
  const id = await newSite("Paris");
  const got = await api("GET", `/sites/${id}`);
  assert.equal(got.body.pbx_port, 5060, "integers come back as integers");
  assert.equal(got.body.star_code_pattern, "");
  const upd = await api("PATCH", `/sites/${id}`, { pbx_port: 5080, star_code_pattern: "*123*", deny_macs: "00:15:65:de:ad:00" });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.equal(upd.body.pbx_port, 5080);
  assert.equal(upd.body.name, "Paris", "fields not given are kept");
  assert.equal(upd.body.timezone, "Europe/Berlin");
  await refused("PATCH", `/sites/${id}`, { star_code_pattern: "123" }, "star_code_pattern");
  await refused("PATCH", `/sites/${id}`, { pbx_port: 0 }, "pbx_port");
  await refused("PATCH", `/sites/${id}`, { nope: 1 }, "nope");
  await refused("PATCH", `/sites/${id}`, { window_secs: 5 }, "window_secs");
  await refused("PATCH", `/sites/${id}`, { additional_params: "[snom]\nx" }, "additional_params");
  await refused("PATCH", `/sites/${id}`, "[1, 2]", "body");
  assert.equal((await api("PATCH", "/sites/site-nope", { name: "x" })).status, 404);
  const list = await api("GET", "/sites");
  assert.ok(list.body.some((s) => s.id === id && s.pbx_port === 5080));

  // Delete: users, phones and firmware rows go with it, and the firmware images in R2 too.
  await api("POST", `/sites/${id}/users`, { extension: "100", sip_password: "Vq9-kL2m-Zt7x-Pw4r" });
  const phone = (await api("POST", `/sites/${id}/phones`, { mac: "001565010203", user_extension: "100" })).body;
  const bucket = await mf.getR2Bucket("FIRMWARE");
  await bucket.put(`${id}/yealink/blob`, "firmware bytes");
  await db
    .prepare("INSERT INTO firmware (id, site_id, vendor, version, file_name, size, r2_key, created_at) VALUES ('fw-del', ?1, 'yealink', '1', 'a.rom', 14, ?2, 0)")
    .bind(id, `${id}/yealink/blob`)
    .run();
  const del = await api("DELETE", `/sites/${id}`);
  assert.equal(del.status, 204);
  assert.equal((await api("GET", `/sites/${id}`)).status, 404);
  const left = await db.prepare("SELECT (SELECT COUNT(*) FROM users WHERE site_id = ?1) + (SELECT COUNT(*) FROM phones WHERE site_id = ?1) + (SELECT COUNT(*) FROM firmware WHERE site_id = ?1) AS n").bind(id).first();
  assert.equal(left.n, 0);
  assert.equal(await bucket.get(`${id}/yealink/blob`), null, "the image is gone from R2");
  const res = await fetchAs(phone.provisioning_url + phone.config_file, YEALINK_UA("001565010203"));
  assert.equal(res.status, 404);
});

test("sites: pnp_url is relay by default, edge or relay on create and PATCH, anything else refused", async () => {
  const id = await newSite("PnP");
  assert.equal((await api("GET", `/sites/${id}`)).body.pnp_url, "relay", "relay by default");
  const edge = await api("PATCH", `/sites/${id}`, { pnp_url: "edge" });
  assert.equal(edge.status, 200, JSON.stringify(edge.body));
  assert.equal(edge.body.pnp_url, "edge");
  assert.equal((await api("GET", `/sites/${id}`)).body.pnp_url, "edge");
  assert.ok((await api("GET", "/sites")).body.some((s) => s.id === id && s.pnp_url === "edge"));
  const row = await db.prepare("SELECT pnp_url FROM sites WHERE id = ?1").bind(id).first();
  assert.equal(row.pnp_url, "edge");
  // Another field's PATCH keeps it.
  assert.equal((await api("PATCH", `/sites/${id}`, { pbx_port: 5070 })).body.pnp_url, "edge");
  for (const bad of ["bogus", "EDGE", "", "https", null, 1, true, ["edge"]]) {
    const err = await refused("PATCH", `/sites/${id}`, { pnp_url: bad }, "pnp_url");
    if (typeof bad === "string") assert.match(err.error, /relay.*edge/, err.error);
  }
  assert.equal((await api("GET", `/sites/${id}`)).body.pnp_url, "edge", "still edge after the refusals");
  const back = await api("PATCH", `/sites/${id}`, { pnp_url: "relay" });
  assert.equal(back.body.pnp_url, "relay");
  // On create: taken, and refused like any other field.
  const created = await api("POST", "/sites", { name: "Edge PnP", pbx_host: "pbx.example.com", pnp_url: "edge" });
  assert.equal(created.status, 201);
  assert.equal(created.body.pnp_url, "edge");
  await refused("POST", "/sites", { name: "Bad PnP", pbx_host: "pbx.example.com", pnp_url: "tftp" }, "pnp_url");
  // The database refuses a value the API would never write.
  await assert.rejects(db.prepare("UPDATE sites SET pnp_url = 'bogus' WHERE id = ?1").bind(id).run());
});

test("sites: tftp_enabled is off by default, a boolean on create and PATCH, anything else refused", async () => {
  const id = await newSite("TFTP");
  assert.equal((await api("GET", `/sites/${id}`)).body.tftp_enabled, false, "off by default");
  const on = await api("PATCH", `/sites/${id}`, { tftp_enabled: true });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  assert.equal(on.body.tftp_enabled, true);
  assert.equal((await db.prepare("SELECT tftp_enabled FROM sites WHERE id = ?1").bind(id).first()).tftp_enabled, 1);
  assert.equal((await api("GET", `/sites/${id}`)).body.tftp_enabled, true, "read back from D1's 1");
  assert.equal((await api("PATCH", `/sites/${id}`, { pbx_port: 5070 })).body.tftp_enabled, true, "kept by another PATCH");
  for (const bad of ["yes", "1", 2, null, [true]]) await refused("PATCH", `/sites/${id}`, { tftp_enabled: bad }, "tftp_enabled");
  assert.equal((await api("GET", `/sites/${id}`)).body.tftp_enabled, true, "still on after the refusals");
  assert.equal((await api("PATCH", `/sites/${id}`, { tftp_enabled: false })).body.tftp_enabled, false);
  const created = await api("POST", "/sites", { name: "TFTP on", pbx_host: "pbx.example.com", tftp_enabled: true });
  assert.equal(created.status, 201);
  assert.equal(created.body.tftp_enabled, true);
  await assert.rejects(db.prepare("UPDATE sites SET tftp_enabled = 2 WHERE id = ?1").bind(id).run());
});

test("sites: star_code_pin, the setting before star_code_mode, is read while no mode is chosen; a boolean, anything else refused", async () => {
  const id = await newSite("Star PIN");
  assert.equal((await api("GET", `/sites/${id}`)).body.star_code_pin, true, "a new site wants the PIN");
  // A site from before the mode: the flag decides.
  await db.prepare("UPDATE sites SET star_code_mode = NULL, star_code_pin = 0 WHERE id = ?1").bind(id).run();
  assert.equal((await api("GET", `/sites/${id}`)).body.star_code_pin, false);
  const on = await api("PATCH", `/sites/${id}`, { star_code_pin: true });
  assert.equal(on.status, 200, JSON.stringify(on.body));
  assert.equal(on.body.star_code_pin, true);
  assert.equal(on.body.star_code_mode, null, "still not chosen");
  assert.equal((await api("GET", `/sites/${id}`)).body.star_code_pin, true, "read back from D1's 1");
  assert.equal((await db.prepare("SELECT star_code_pin FROM sites WHERE id = ?1").bind(id).first()).star_code_pin, 1);
  assert.equal((await api("PATCH", `/sites/${id}`, { pbx_port: 5070 })).body.star_code_pin, true, "kept by another PATCH");
  for (const bad of ["yes", "true", 2, -1, null, [true], {}]) {
    const err = await refused("PATCH", `/sites/${id}`, { star_code_pin: bad }, "star_code_pin");
    assert.match(err.error, /true or false|invalid type/, err.error);
  }
  assert.equal((await api("GET", `/sites/${id}`)).body.star_code_pin, true, "still on after the refusals");
  // Once a mode is chosen, the flag follows it.
  const open = await api("PATCH", `/sites/${id}`, { star_code_mode: "open", star_code_pin: true });
  assert.deepEqual([open.body.star_code_mode, open.body.star_code_pin], ["open", false]);
  const created = await api("POST", "/sites", { name: "Open site", pbx_host: "pbx.example.com", star_code_mode: "open" });
  assert.equal(created.status, 201);
  assert.deepEqual([created.body.star_code_mode, created.body.star_code_pin], ["open", false]);
  await assert.rejects(db.prepare("UPDATE sites SET star_code_pin = 2 WHERE id = ?1").bind(id).run());
  await assert.rejects(db.prepare("UPDATE sites SET star_code_mode = 'maybe' WHERE id = ?1").bind(id).run());
});

test("users: list with audits, update (password, rename keeps the phone), delete unbinds", async () => {
  const site = await newSite("Users");
  const created = await api("POST", `/sites/${site}/users`, { extension: "200", sip_password: "200200", voicemail_pin: "1234", display_name: "Ann" });
  assert.equal(created.status, 201);
  assert.equal(created.body.password.strength, "weak");
  const phone = (await api("POST", `/sites/${site}/phones`, { mac: "001565020304", user_extension: "200" })).body;
  const url = phone.provisioning_url + phone.config_file;
  const ua = YEALINK_UA("001565020304");

  await refused("PATCH", `/sites/${site}/users/200`, { voicemail_pin: "12a4" }, "voicemail_pin");
  await refused("PATCH", `/sites/${site}/users/200`, { sip_password: "" }, "sip_password");
  await refused("PATCH", `/sites/${site}/users/200`, { extension: "2 0" }, "extension");
  await api("POST", `/sites/${site}/users`, { extension: "201", sip_password: "Kp3-wQ8y-Nn5u-Xs7v" });
  await refused("PATCH", `/sites/${site}/users/200`, { extension: "201" }, "extension", 409);

  const upd = await api("PATCH", `/sites/${site}/users/200`, { sip_password: "Hq2-vP9x-Lm4t-Zr8w", extension: "210" });
  assert.equal(upd.status, 200, JSON.stringify(upd.body));
  assert.equal(upd.body.extension, "210");
  assert.equal(upd.body.display_name, "Ann", "fields not given are kept");
  assert.equal(upd.body.password.strength, "strong");
  assert.deepEqual(upd.body.phones, ["001565020304"]);
  assert.ok(!JSON.stringify(upd.body).includes("Hq2-vP9x"), "never returned");
  const cfg = await (await fetchAs(url, ua)).text();
  assert.match(cfg, /account\.1\.password = Hq2-vP9x-Lm4t-Zr8w\n/);
  assert.match(cfg, /account\.1\.user_name = 210\n/);

  const list = await api("GET", `/sites/${site}/users`);
  assert.deepEqual(list.body.map((u) => [u.extension, u.phones]), [["201", []], ["210", ["001565020304"]]]);
  assert.equal((await api("GET", `/sites/${site}/users/200`)).status, 404);
  assert.equal((await api("DELETE", `/sites/${site}/users/210`)).status, 204);
  const after = await api("GET", `/sites/${site}/phones/001565020304`);
  assert.equal(after.body.user_extension, null, "the phone is unbound");
  assert.equal((await fetchAs(url, ua)).status, 404, "an unbound phone has no config");
});

test("phones: get, bind with BLF keys, refusals, delete", async () => {
  const site = await newSite("Phones");
  await api("POST", `/sites/${site}/users`, { extension: "300", sip_password: "Vq9-kL2m-Zt7x-Pw4r", display_name: "Bo" });
  await api("POST", `/sites/${site}/users`, { extension: "301", sip_password: "Kp3-wQ8y-Nn5u-Xs7v" });
  await api("POST", `/sites/${site}/templates`, { name: "snom-desk", vendor: "snom", source: "<settings><phone-settings><language perm=\"\">Deutsch</language></phone-settings></settings>" });
  const created = await api("POST", `/sites/${site}/phones`, { mac: "001565030405", model: "T46S" });
  assert.equal(created.status, 201);
  const path = `/sites/${site}/phones/00:15:65:03:04:05`;
  let got = await api("GET", path);
  assert.equal(got.body.mac, "001565030405");
  assert.equal(got.body.user_extension, null);
  assert.equal(got.body.window_open, true);

  await refused("PATCH", path, { vendor: "snom" }, "vendor");
  await refused("PATCH", path, { mac: "001565030406" }, "mac");
  await refused("PATCH", path, { user_extension: "999" }, "user_extension");
  await refused("PATCH", path, { template: "snom-desk" }, "template");
  await refused("PATCH", path, { blf_keys: [{ extension: "301" }, { extension: "302", line: 0 }] }, "blf_keys[1].line");
  await refused("PATCH", path, { blf_keys: [{ extension: "3 1" }] }, "blf_keys[0].extension");
  await refused("PATCH", path, { blf_keys: [{ extension: "301", pickup_prefix: "ab" }] }, "blf_keys[0].pickup_prefix");
  await refused("PATCH", path, { http_user: "phone" }, "http_password");
  await refused("PATCH", path, { http_user: "phone", http_password: "short" }, "http_password");

  const bound = await api("PATCH", path, {
    user_extension: "300",
    blf_keys: [{ extension: "301", label: "Reception" }, { extension: "302", pickup_prefix: "*8" }],
  });
  assert.equal(bound.status, 200, JSON.stringify(bound.body));
  assert.equal(bound.body.user_extension, "300");
  assert.equal(bound.body.blf_keys.length, 2);
  const cfg = await (await fetchAs(created.body.provisioning_url + created.body.config_file, YEALINK_UA("001565030405"))).text();
  assert.match(cfg, /account\.1\.user_name = 300\n/);
  assert.match(cfg, /linekey\.2\.value = 301\n/);
  assert.match(cfg, /linekey\.2\.label = Reception\n/);
  assert.match(cfg, /linekey\.3\.value = 302\n/);

  // A second PATCH leaves the BLF keys alone unless it names them.
  got = (await api("PATCH", path, { model: "T48S" })).body;
  assert.equal(got.model, "T48S");
  assert.equal(got.blf_keys.length, 2);

  const views = await api("GET", `/sites/${site}/phones`);
  assert.equal(views.body[0].extension, "300");
  assert.equal((await api("GET", `/sites/${site}/phones/001565999999`)).status, 404);
  assert.equal((await api("GET", `/sites/${site}/phones/not-a-mac`)).status, 404);
  assert.equal((await api("DELETE", path)).status, 204);
  assert.equal((await api("GET", path)).status, 404);
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM blf_keys").first()).n, 0, "BLF keys went with it");
});

test("tokens rotate, the window reopens, and HTTP Basic credentials are enforced", async () => {
  const site = await newSite("Access");
  await api("POST", `/sites/${site}/users`, { extension: "400", sip_password: "Vq9-kL2m-Zt7x-Pw4r" });
  const mac = "001565040506";
  const first = (await api("POST", `/sites/${site}/phones`, { mac, user_extension: "400" })).body;
  const ua = YEALINK_UA(mac);
  const oldUrl = first.provisioning_url + first.config_file;
  assert.equal((await fetchAs(oldUrl, ua)).status, 200);

  // Rotation: the old first-access URL and the old steady-state URL both stop working.
  const cfg = await (await fetchAs(oldUrl, ua)).text();
  const steadyUrl = cfg.match(/static\.auto_provision\.server\.url = (\S+)/)[1];
  assert.equal((await fetchAs(`${steadyUrl}/${first.config_file}`, ua)).status, 200);
  const rotated = await api("POST", `/sites/${site}/phones/${mac}/rotate-token`);
  assert.equal(rotated.status, 201);
  assert.notEqual(rotated.body.provisioning_url, first.provisioning_url);
  assert.equal((await fetchAs(oldUrl, ua)).status, 404);
  assert.equal((await fetchAs(`${steadyUrl}/${first.config_file}`, ua)).status, 404);
  const newUrl = rotated.body.provisioning_url + rotated.body.config_file;

  // The window: closed (assigned long ago, never fetched) until reopened.
  await db.prepare("UPDATE phones SET assigned_at = 0 WHERE mac = ?1").bind(mac).run();
  assert.equal((await api("GET", `/sites/${site}/phones/${mac}`)).body.window_open, false);
  assert.equal((await fetchAs(newUrl, ua)).status, 404);
  const reopened = await api("POST", `/sites/${site}/phones/${mac}/reopen`);
  assert.equal(reopened.status, 200);
  assert.equal(reopened.body.window_open, true);
  assert.equal((await fetchAs(newUrl, ua)).status, 200);

  // HTTP Basic: challenged when absent, 404 when wrong, served when right.
  const set = await api("PATCH", `/sites/${site}/phones/${mac}`, { http_user: "desk", http_password: "Zt7x-Pw4r-Vq9k" });
  assert.equal(set.status, 200);
  assert.equal(set.body.http_user, "desk");
  assert.ok(!JSON.stringify(set.body).includes("Zt7x-Pw4r-Vq9k"), "the password is never returned");
  const challenge = await fetchAs(newUrl, ua);
  assert.equal(challenge.status, 401);
  assert.match(challenge.headers.get("WWW-Authenticate"), /^Basic realm="provisioning"/);
  const basic = (u, p) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });
  const wrong = await fetchAs(newUrl, ua, basic("desk", "wrong-password"));
  assert.equal(wrong.status, 404);
  assert.equal(await wrong.text(), "Not Found\n");
  const right = await fetchAs(newUrl, ua, basic("desk", "Zt7x-Pw4r-Vq9k"));
  assert.equal(right.status, 200);
  const misses = await db.prepare("SELECT SUM(count) AS n FROM misses").first();
  assert.ok(misses.n >= 1, "a wrong password counts as a miss");
  // Clearing the user clears the password; the phone is served without credentials again.
  await api("PATCH", `/sites/${site}/phones/${mac}`, { http_user: null });
  assert.equal((await fetchAs(newUrl, ua)).status, 200);
  const row = await db.prepare("SELECT http_user, http_password FROM phones WHERE mac = ?1").bind(mac).first();
  assert.deepEqual(row, { http_user: null, http_password: null });
});

test("templates: list, get with usage, vendor change guarded, delete falls back to the default", async () => {
  const site = await newSite("Templates");
  await api("POST", `/sites/${site}/users`, { extension: "500", sip_password: "Vq9-kL2m-Zt7x-Pw4r" });
  await api("POST", `/sites/${site}/templates`, { name: "desk", vendor: "yealink", source: "features.dnd.enable = 1\n" });
  const phone = (await api("POST", `/sites/${site}/phones`, { mac: "001565050607", user_extension: "500", template: "desk" })).body;
  const url = phone.provisioning_url + phone.config_file;
  const ua = YEALINK_UA("001565050607");
  assert.match(await (await fetchAs(url, ua)).text(), /features\.dnd\.enable = 1/);
  const list = await api("GET", `/sites/${site}/templates`);
  assert.deepEqual(list.body.map((t) => t.name), ["desk"]);
  const one = await api("GET", `/sites/${site}/templates/desk`);
  assert.equal(one.body.phones, 1);
  assert.equal(one.body.source, "features.dnd.enable = 1\n");
  await refused("PUT", `/sites/${site}/templates/desk`, { name: "desk", vendor: "snom", source: "<settings/>" }, "vendor", 409);
  assert.equal((await api("DELETE", `/sites/${site}/templates/desk`)).status, 204);
  assert.equal((await api("GET", `/sites/${site}/templates/desk`)).status, 404);
  const cfg = await (await fetchAs(url, ua)).text();
  assert.ok(!cfg.includes("features.dnd.enable"), "the phone falls back to the vendor default");
  assert.match(cfg, /account\.1\.user_name = 500/);
});

test("templates: Load examples adds one example per vendor that saves as any template and serves a phone; loading twice adds nothing", async () => {
  const site = await newSite("Examples");
  await api("POST", `/sites/${site}/users`, { extension: "510", sip_password: "Vq9-kL2m-Zt7x-Pw4e" });
  // An example the site has already (edited by the administrator) is kept as it is.
  await api("POST", `/sites/${site}/templates`, { name: "Snom (example)", vendor: "snom", source: "<settings/>\n" });
  let r = await api("POST", `/sites/${site}/templates/examples`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, {
    installed: ["Yealink (example)", "Fanvil (example)", "Grandstream (example)", "Htek (example)"],
    skipped: ["Snom (example)"],
  });
  const list = (await api("GET", `/sites/${site}/templates`)).body;
  assert.equal(list.length, 5);
  assert.equal(list.find((t) => t.name === "Snom (example)").source, "<settings/>\n", "not overwritten");
  for (const t of list.filter((x) => x.name !== "Snom (example)")) {
    assert.equal(t.style, "placeholder");
    assert.equal(t.composition, "overlay");
    assert.match(t.source, /\{SIP_NUM\}/);
    // Each saves back unchanged through the ordinary save (the same validation).
    const put = await api("PUT", `/sites/${site}/templates/${encodeURIComponent(t.name)}`, { name: t.name, vendor: t.vendor, style: t.style, composition: t.composition, source: t.source });
    assert.equal(put.status, 200, `${t.name}: ${JSON.stringify(put.body)}`);
  }
  // A phone on the Yealink example gets its own account, and no comment of the template.
  const phone = (await api("POST", `/sites/${site}/phones`, { mac: "001565051000", user_extension: "510", template: "Yealink (example)" })).body;
  const cfg = await (await fetchAs(phone.provisioning_url + phone.config_file, YEALINK_UA("001565051000"))).text();
  assert.match(cfg, /account\.1\.password = Vq9-kL2m-Zt7x-Pw4e/);
  assert.match(cfg, /features\.intercom\.barge = 1/);
  assert.ok(!cfg.includes("example template") && !cfg.includes("{SIP_"), cfg);
  // Twice: nothing added, nothing changed.
  const before = await dump();
  r = await api("POST", `/sites/${site}/templates/examples`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.installed, []);
  assert.equal(r.body.skipped.length, 5);
  assert.equal(await dump(), before);
  const audit = await db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'create example'").first();
  assert.equal(audit.n, 4);
  assert.equal((await api("POST", "/sites/nope/templates/examples")).status, 404);
});

test("URI mappings: a mapped path renders its template for the token's phone", async () => {
  const site = await newSite("Mappings");
  await api("POST", `/sites/${site}/users`, { extension: "600", sip_password: "Vq9-kL2m-Zt7x-Pw4r" });
  await api("POST", `/sites/${site}/templates`, { name: "legacy", vendor: "yealink", style: "jinja", source: "account.1.label = Legacy {{ user.extension }}\n" });
  const phone = (await api("POST", `/sites/${site}/phones`, { mac: "001565060708", user_extension: "600" })).body;
  const ua = YEALINK_UA("001565060708");
  const base = phone.provisioning_url;
  assert.equal((await fetchAs(`${base}legacy/boot.cfg`, ua)).status, 404, "not mapped yet");

  await refused("POST", `/sites/${site}/uri-mappings`, { path: "../etc/passwd", template: "legacy" }, "path");
  await refused("POST", `/sites/${site}/uri-mappings`, { path: "001565060708.cfg", template: "legacy" }, "path");
  await refused("POST", `/sites/${site}/uri-mappings`, { path: "firmware/x.rom", template: "legacy" }, "path");
  await refused("POST", `/sites/${site}/uri-mappings`, { path: "legacy/boot.cfg", template: "nope" }, "template");
  await refused("POST", `/sites/${site}/uri-mappings`, { path: "legacy/boot.cfg" }, "template");
  const created = await api("POST", `/sites/${site}/uri-mappings`, { path: "/legacy//boot.cfg", template: "legacy" });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.path, "legacy/boot.cfg", "normalised");
  await refused("POST", `/sites/${site}/uri-mappings`, { path: "legacy/boot.cfg", template: "legacy" }, "path", 409);

  const res = await fetchAs(`${base}legacy/boot.cfg`, ua);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.match(body, /account\.1\.label = Legacy 600\n/);
  assert.match(body, /account\.1\.password = Vq9-kL2m-Zt7x-Pw4r\n/);
  // An old Yealink's User-Agent carries no MAC (antirek/sip-device-detector's README example):
  // the token names the phone (issue 16, item 2: the edge has no such gap).
  assert.equal((await fetchAs(`${base}legacy/boot.cfg`, "Yealink SIP-T28P 2.71.14.4")).status, 200);
  // Another phone's User-Agent on this token's mapped path: refused like everything else.
  assert.equal((await fetchAs(`${base}legacy/boot.cfg`, YEALINK_UA("001565000001"))).status, 404);

  const moved = await api("PUT", `/sites/${site}/uri-mappings/${created.body.id}`, { path: "legacy/other.cfg", template: "legacy" });
  assert.equal(moved.status, 200);
  assert.equal((await fetchAs(`${base}legacy/boot.cfg`, ua)).status, 404);
  assert.equal((await fetchAs(`${base}legacy/other.cfg`, ua)).status, 200);
  assert.deepEqual((await api("GET", `/sites/${site}/uri-mappings`)).body.map((m) => m.path), ["legacy/other.cfg"]);
  assert.equal((await api("DELETE", `/sites/${site}/uri-mappings/${created.body.id}`)).status, 204);
  assert.equal((await fetchAs(`${base}legacy/other.cfg`, ua)).status, 404);
  assert.equal((await api("DELETE", `/sites/${site}/uri-mappings/${created.body.id}`)).status, 404);
});

test("phonebook sources reach the phones' directory; bad entries are refused whole", async () => {
  const site = await newSite("Phonebook");
  await api("POST", `/sites/${site}/users`, { extension: "700", sip_password: "Vq9-kL2m-Zt7x-Pw4r", display_name: "Desk 700" });
  const phone = (await api("POST", `/sites/${site}/phones`, { mac: "001565070809", user_extension: "700" })).body;
  const ua = YEALINK_UA("001565070809");
  const book = () => fetchAs(`${phone.provisioning_url}phonebook/001565070809.xml`, ua).then((r) => r.text());

  await refused("POST", `/sites/${site}/phonebook-sources`, { name: "HQ", entries: [{ name: "A", number: "1" }, { name: "B", number: "12ab" }] }, "entries[1].number");
  await refused("POST", `/sites/${site}/phonebook-sources`, { name: "", entries: [] }, "name");
  await refused("POST", `/sites/${site}/phonebook-sources`, { name: "HQ", entries: [{ name: "A" }] }, "entries[0].number");
  const many = Array.from({ length: 60 }, (_, i) => ({ name: `Contact ${i}`, number: `+49 30 ${1000 + i}` }));
  const created = await api("POST", `/sites/${site}/phonebook-sources`, { name: "HQ", priority: 5, entries: many });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.entries.length, 60, "more entries than one INSERT holds");
  assert.equal(created.body.entries[59].name, "Contact 59", "order kept");
  let xml = await book();
  assert.ok(xml.includes("Contact 59") && xml.includes("Desk 700"), xml.slice(0, 300));

  const replaced = await api("PUT", `/sites/${site}/phonebook-sources/${created.body.id}`, { name: "HQ", entries: [{ name: "Only <one>", number: "555" }] });
  assert.equal(replaced.status, 200);
  xml = await book();
  assert.ok(!xml.includes("Contact 59"));
  assert.ok(xml.includes("Only &lt;one&gt;"), "escaped by the engine");
  const list = await api("GET", `/sites/${site}/phonebook-sources`);
  assert.deepEqual(list.body.map((s) => [s.name, s.entries]), [["HQ", 1]]);
  assert.equal((await api("DELETE", `/sites/${site}/phonebook-sources/${created.body.id}`)).status, 204);
  assert.ok(!(await book()).includes("Only"));
  const other = await newSite("Other");
  assert.equal((await api("GET", `/sites/${other}/phonebook-sources/${created.body.id}`)).status, 404);
});

test("preview renders byte for byte what the phone gets; drafts are checked; secrets masked by default; the page's wasm renders the same from preview-input", async () => {
  const site = await newSite("Preview");
  await api("PATCH", `/sites/${site}`, { additional_params: "[yealink]\nphone_setting.backlight_time = 60\n" });
  await api("POST", `/sites/${site}/users`, { extension: "800", sip_password: "Vq9-kL2m-Zt7x-Pw4r", display_name: "Eve" });
  await api("POST", `/sites/${site}/templates`, { name: "desk", vendor: "yealink", source: "features.dnd.enable = 1\n" });
  const phone = (await api("POST", `/sites/${site}/phones`, { mac: "001565080910", model: "T46S", user_extension: "800", template: "desk", blf_keys: [{ extension: "801" }] })).body;
  const ua = YEALINK_UA("001565080910");
  const first = await (await fetchAs(phone.provisioning_url + phone.config_file, ua)).text();
  // The phone now uses its steady-state URL; the preview shows that one.
  const steady = first.match(/static\.auto_provision\.server\.url = (\S+)/)[1];
  const served = await (await fetchAs(`${steady}/${phone.config_file}`, ua)).text();

  const full = await api("POST", `/sites/${site}/preview`, { mac: "001565080910", reveal_secrets: true });
  assert.equal(full.status, 200, JSON.stringify(full.body));
  assert.equal(full.body.config, served, "preview == what the phone gets");
  assert.equal(full.body.file, "001565080910.cfg");
  assert.ok(!full.body.default_config.includes("features.dnd.enable"));
  assert.ok(full.body.config.includes("phone_setting.backlight_time = 60"));

  const masked = await api("POST", `/sites/${site}/preview`, { mac: "001565080910" });
  assert.ok(!masked.body.config.includes("Vq9-kL2m-Zt7x-Pw4r"), "the password is masked");
  assert.ok(!masked.body.config.includes(steady.split("/p/")[1]), "the token is masked");
  assert.match(masked.body.config, /account\.1\.password = \*{8}\n/);

  const draft = await api("POST", `/sites/${site}/preview`, { mac: "001565080910", template: { vendor: "yealink", style: "jinja", source: "account.1.label = {{ user.extension }} x\n" } });
  assert.match(draft.body.config, /account\.1\.label = 800 x\n/);
  assert.ok(!draft.body.config.includes("features.dnd.enable"), "the draft replaces the saved template");
  const broken = await refusedPreview({ mac: "001565080910", template: { vendor: "yealink", style: "jinja", source: "a = 1\nb = {{ user.extension }\n" } });
  assert.equal(broken.field, "template.source");
  assert.match(broken.error, /^line 2, column \d+/);
  const wrongVendor = await refusedPreview({ mac: "001565080910", template: { vendor: "snom", source: "<settings/>" } });
  assert.equal(wrongVendor.field, "template.vendor");

  const sample = await api("POST", `/sites/${site}/preview`, { vendor: "snom", model: "D785" });
  assert.equal(sample.status, 200);
  assert.match(sample.body.config, /pbx\.example\.com/, "sample data on the site's PBX");
  assert.equal(sample.body.content_type, "application/xml");
  assert.equal((await refusedPreview({})).field, "vendor");
  assert.equal((await refusedPreview({ mac: "001565999999" })).field, "mac");
  assert.equal((await refusedPreview({ vendor: "snom", user_extension: "999" })).field, "user_extension");

  // What the page renders from, with the engine compiled to wasm: the package as the page
  // loads it (scripts/build-wasm.sh builds it first), fed the edge's preview-input.
  const pkg = await import(new URL("../../console/pkg/engine_wasm.js", import.meta.url));
  pkg.initSync({ module: readFileSync(new URL("../../console/pkg/engine_wasm_bg.wasm", import.meta.url)) });
  const mac = "001565080910";
  const input = await api("GET", `/sites/${site}/phones/${mac}/preview-input?reveal_secrets=true`);
  assert.equal(input.status, 200, JSON.stringify(input.body));
  assert.equal(input.body.user.sip_password, "Vq9-kL2m-Zt7x-Pw4r");
  assert.equal(input.body.template.name, "desk");
  const out = JSON.parse(pkg.preview(JSON.stringify(input.body)));
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.equal(out.preview.config, served, "wasm preview == what the phone gets");
  const edge = await api("POST", `/sites/${site}/preview`, { mac, reveal_secrets: true });
  assert.equal(out.preview.config, edge.body.config, "wasm preview == the edge's preview");
  // A draft typed in the page replaces the saved template, as in the edge's preview.
  const template = { vendor: "yealink", style: "jinja", source: "account.1.label = {{ user.extension }} x\n" };
  const drafted = JSON.parse(pkg.preview(JSON.stringify({ ...input.body, template })));
  const edgeDraft = await api("POST", `/sites/${site}/preview`, { mac, reveal_secrets: true, template });
  assert.equal(drafted.preview.config, edgeDraft.body.config);

  const maskedInput = await api("GET", `/sites/${site}/phones/${mac}/preview-input`);
  const text = JSON.stringify(maskedInput.body);
  assert.ok(!text.includes("Vq9-kL2m-Zt7x-Pw4r"), "no password in the masked input");
  assert.ok(!text.includes(steady.split("/p/")[1]), "no URL token in the masked input");
  assert.equal(maskedInput.body.reveal_secrets, false);
  const maskedOut = JSON.parse(pkg.preview(JSON.stringify(maskedInput.body)));
  const edgeMasked = await api("POST", `/sites/${site}/preview`, { mac });
  assert.equal(maskedOut.preview.config, edgeMasked.body.config);
  const res = await mf.dispatchFetch(`https://edge.example.com/api/sites/${site}/phones/${mac}/preview-input`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.headers.get("Cache-Control"), "no-store");
  await res.text();
  assert.equal((await api("GET", `/sites/${site}/phones/${mac}/preview-input?reveal_secrets=maybe`)).body.field, "reveal_secrets");
  assert.equal((await api("GET", `/sites/${site}/phones/001565999999/preview-input`)).status, 400);
  const anon = await mf.dispatchFetch(`https://edge.example.com/api/sites/${site}/phones/${mac}/preview-input?reveal_secrets=true`);
  assert.equal(anon.status, 401);
  await anon.text();
});

test("the sample phone's preview-input is built from the site: its PBX, Additional Parameters, firmware rows and edge URL; the page's wasm renders the edge's sample preview from it", async () => {
  const site = await newSite("Sample input");
  await api("PATCH", `/sites/${site}`, { pbx_host: "pbx.sample-site.example", pbx_port: 5070, additional_params: "[snom-phone-settings]\nsettings_refresh_timer = 1234\n" });
  await db.prepare("INSERT INTO firmware (id, site_id, vendor, model, version, file_name, size, r2_key, created_at) VALUES ('fw-sample', ?1, 'snom', 'D785', '10.1.99.0', 'snom-D785-10.1.99.0.bin', 14, ?2, 0)")
    .bind(site, `${site}/snom/sample`).run();
  const input = await api("GET", `/sites/${site}/preview-input?vendor=snom&model=D785`);
  assert.equal(input.status, 200, JSON.stringify(input.body));
  assert.equal(input.body.vendor, "snom");
  assert.equal(input.body.model, "D785");
  assert.equal(input.body.site.pbx_host, "pbx.sample-site.example");
  assert.equal(input.body.site.pbx_port, 5070);
  assert.match(input.body.site.additional_params, /settings_refresh_timer = 1234/);
  assert.deepEqual(input.body.firmware.map((f) => f.file_name), ["snom-D785-10.1.99.0.bin"]);
  assert.equal(input.body.base_url, "https://edge.example.com/p/********", "the site's edge, no token for a sample phone");
  assert.equal(input.body.mac, null, "the sample MAC is the engine's");
  assert.equal(input.body.reveal_secrets, false);
  // The page renders from it what the edge's own sample preview renders.
  const pkg = await import(new URL("../../console/pkg/engine_wasm.js", import.meta.url));
  pkg.initSync({ module: readFileSync(new URL("../../console/pkg/engine_wasm_bg.wasm", import.meta.url)) });
  const out = JSON.parse(pkg.preview(JSON.stringify(input.body)));
  assert.equal(out.ok, true, JSON.stringify(out));
  const edge = await api("POST", `/sites/${site}/preview`, { vendor: "snom", model: "D785" });
  assert.equal(edge.status, 200, JSON.stringify(edge.body));
  assert.equal(out.preview.config, edge.body.config, "wasm sample == the edge's sample");
  assert.match(out.preview.config, /pbx\.sample-site\.example/);
  assert.match(out.preview.config, /settings_refresh_timer[^\n]*1234/);
  assert.ok(!out.preview.config.includes("172.16.156.223"), "not the engine's sample PBX");
  // A PBX changed in the settings is in the next answer.
  await api("PATCH", `/sites/${site}`, { pbx_host: "pbx2.sample-site.example" });
  assert.equal((await api("GET", `/sites/${site}/preview-input?vendor=snom`)).body.site.pbx_host, "pbx2.sample-site.example");
  // Refusals name the parameter.
  assert.equal((await api("GET", `/sites/${site}/preview-input`)).body.field, "vendor");
  assert.equal((await api("GET", `/sites/${site}/preview-input?vendor=nokia`)).body.field, "vendor");
  assert.equal((await api("GET", `/sites/${site}/preview-input?vendor=snom&mac=000413000001`)).body.field, "mac");
  assert.equal((await api("GET", `/sites/${site}/preview-input?vendor=snom&reveal_secrets=maybe`)).body.field, "reveal_secrets");
  assert.equal((await api("GET", `/sites/${site}/phones/000413000001/preview-input?vendor=snom`)).body.field, "vendor", "a phone's input takes no vendor");
  assert.equal((await api("GET", "/sites/nope/preview-input?vendor=snom")).status, 404);
  const anon = await mf.dispatchFetch(`https://edge.example.com/api/sites/${site}/preview-input?vendor=snom`);
  assert.equal(anon.status, 401);
  await anon.text();
});

async function refusedPreview(body) {
  const site = (await api("GET", "/sites")).body.find((s) => s.name === "Preview").id;
  const res = await api("POST", `/sites/${site}/preview`, body);
  assert.equal(res.status, 400, JSON.stringify(res.body));
  return res.body;
}

test("the site audit grades every user's password and PIN without revealing them", async () => {
  const site = await newSite("Audit");
  await api("POST", `/sites/${site}/users`, { extension: "900", sip_password: "900900", voicemail_pin: "1111" });
  await api("POST", `/sites/${site}/users`, { extension: "901", sip_password: "Vq9-kL2m-Zt7x-Pw4r", voicemail_pin: "80417" });
  await api("POST", `/sites/${site}/users`, { extension: "902", sip_password: "Kp3-wQ8y-Nn5u-Xs7v" });
  const res = await api("GET", `/sites/${site}/credential-strength`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.users.map((u) => [u.extension, u.password.strength]), [["900", "weak"], ["901", "strong"], ["902", "strong"]]);
  assert.equal(res.body.users[0].strength, "weak");
  assert.ok(res.body.users[0].password.findings.length > 0);
  assert.equal(res.body.users[2].pin, null);
  assert.equal(res.body.summary.weak, 1);
  const text = JSON.stringify(res.body);
  for (const secret of ["900900", "1111", "Vq9-kL2m", "80417"]) assert.ok(!text.includes(secret), secret);
});
