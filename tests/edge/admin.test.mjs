// The admin API under real workerd: bearer token required (and a phone's token refused),
// bad bodies get a 400 naming the field and write nothing, and a phone created through the
// API fetches its config through the URL the API returned.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, ADMIN_TOKEN } from "./harness.mjs";

let mf, db;
before(async () => ({ mf, db } = await start()));
after(async () => mf?.dispose());

const api = (method, path, body, token = ADMIN_TOKEN) =>
  mf.dispatchFetch(`https://edge.example.com/api${path}`, {
    method,
    headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

const SITE = { name: "Berlin office", pbx_host: "pbx.example.com", timezone: "Europe/Berlin", language: "de", ntp_server: "pool.ntp.org" };

test("every endpoint refuses a missing or wrong bearer token", async () => {
  const calls = [
    ["POST", "/sites", SITE], ["GET", "/sites"], ["GET", "/sites/x"], ["PATCH", "/sites/x", {}], ["DELETE", "/sites/x"],
    ["POST", "/sites/x/users", {}], ["GET", "/sites/x/users"], ["GET", "/sites/x/users/1"], ["PATCH", "/sites/x/users/1", {}], ["DELETE", "/sites/x/users/1"],
    ["POST", "/sites/x/phones", {}], ["GET", "/sites/x/phones"], ["GET", "/sites/x/phones/001565aabbcc"], ["PATCH", "/sites/x/phones/001565aabbcc", {}],
    ["DELETE", "/sites/x/phones/001565aabbcc"], ["POST", "/sites/x/phones/001565aabbcc/rotate-token"], ["POST", "/sites/x/phones/001565aabbcc/reopen"],
    ["POST", "/sites/x/templates", {}], ["GET", "/sites/x/templates"], ["GET", "/sites/x/templates/t"], ["PUT", "/sites/x/templates/t", {}], ["DELETE", "/sites/x/templates/t"],
    ["POST", "/sites/x/uri-mappings", {}], ["GET", "/sites/x/uri-mappings"], ["PUT", "/sites/x/uri-mappings/m", {}], ["DELETE", "/sites/x/uri-mappings/m"],
    ["POST", "/sites/x/phonebook-sources", {}], ["GET", "/sites/x/phonebook-sources"], ["GET", "/sites/x/phonebook-sources/s"],
    ["PUT", "/sites/x/phonebook-sources/s", {}], ["DELETE", "/sites/x/phonebook-sources/s"], ["POST", "/sites/x/phonebook-sources/s/fetch"],
    ["POST", "/sites/x/preview", {}], ["GET", "/sites/x/credential-strength"], ["POST", "/sites/x/relay-token"], ["GET", "/nope"],
  ];
  for (const [m, p, b] of calls) {
    for (const token of [null, "", "wrong", ADMIN_TOKEN.slice(0, -1), ADMIN_TOKEN + "x", "0".repeat(32)]) {
      const res = await api(m, p, b, token);
      assert.equal(res.status, 401, `${m} ${p} with ${JSON.stringify(token)}`);
      assert.equal((await res.json()).error, "missing or wrong bearer token");
    }
  }
  const rows = await db.prepare("SELECT COUNT(*) AS n FROM sites").first();
  assert.equal(rows.n, 0, "nothing was written");
});

test("bad bodies are refused with the field named, and nothing is written", async () => {
  const cases = [
    ["not json", "body"],
    [{ pbx_host: "pbx" }, "name"],
    [{ ...SITE, extra: 1 }, "extra"],
    [{ ...SITE, pbx_host: "bad host!" }, "pbx_host"],
    [{ ...SITE, pbx_port: 70000 }, "pbx_port"],
    [{ ...SITE, timezone: "Mars/Base" }, "timezone"],
    [{ ...SITE, language: "xx" }, "language"],
    [{ ...SITE, deny_macs: "00:15:65:zz:00:00" }, "deny_macs"],
    [{ ...SITE, additional_params: "[yealink]\nno separator" }, "additional_params"],
  ];
  for (const [body, field] of cases) {
    const res = await api("POST", "/sites", body);
    const j = await res.json();
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(j.field, field, `${JSON.stringify(body)} -> ${JSON.stringify(j)}`);
  }
  const params = await (await api("POST", "/sites", { ...SITE, additional_params: "[yealink]\na = 1\nno separator" })).json();
  assert.match(params.error, /^line 3: /, "INI errors carry the line");
  const rows = await db.prepare("SELECT (SELECT COUNT(*) FROM sites) + (SELECT COUNT(*) FROM audit_log) AS n").first();
  assert.equal(rows.n, 0, "nothing was written");
});

test("create a site, a user and a phone; the phone fetches its config through the returned URL", async () => {
  const site = await api("POST", "/sites", SITE);
  assert.equal(site.status, 201);
  const { id: siteId } = await site.json();

  const weak = await api("POST", `/sites/${siteId}/users`, { extension: "204", sip_password: "204204", display_name: "Irina", voicemail_pin: "1234" });
  assert.equal(weak.status, 201);
  const user = await weak.json();
  assert.equal(user.password.strength, "weak");
  assert.ok(!JSON.stringify(user).includes("204204"), "the password is never returned");
  const dup = await api("POST", `/sites/${siteId}/users`, { extension: "204", sip_password: "x" });
  assert.equal(dup.status, 409);
  assert.equal((await dup.json()).field, "extension");
  assert.equal((await api("POST", `/sites/${siteId}/users`, { extension: "2 4", sip_password: "x" })).status, 400);

  const bad = await api("POST", `/sites/${siteId}/phones`, { mac: "00:15:65:zz:bb:cc" });
  assert.equal((await bad.json()).field, "mac");
  const noUser = await api("POST", `/sites/${siteId}/phones`, { mac: "001565aabbcc", user_extension: "999" });
  assert.equal((await noUser.json()).field, "user_extension");
  const unknownMaker = await api("POST", `/sites/${siteId}/phones`, { mac: "52:54:00:12:34:56" });
  assert.equal((await unknownMaker.json()).field, "vendor");

  const created = await api("POST", `/sites/${siteId}/phones`, { mac: "00-15-65-AA-BB-CC", model: "T46S", user_extension: "204" });
  assert.equal(created.status, 201);
  const phone = await created.json();
  assert.equal(phone.vendor, "yealink");
  assert.equal(phone.mac, "001565aabbcc");
  assert.equal(phone.config_file, "001565aabbcc.cfg");
  const again = await api("POST", `/sites/${siteId}/phones`, { mac: "001565aabbcc" });
  assert.equal(again.status, 409);

  // The phone fetches its config where the API said (as a redirected phone would).
  const url = new URL(phone.provisioning_url + phone.config_file);
  const cfg = await mf.dispatchFetch(url, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc" } });
  const body = await cfg.text();
  assert.equal(cfg.status, 200, body);
  assert.ok(body.includes("account.1.password = 204204"));
  assert.ok(body.includes("local_time.time_zone_name"), "site settings reach the config");

  // The admin token is not a phone token, and a phone token is not an admin token.
  const token1 = url.pathname.split("/")[2];
  assert.equal((await api("GET", `/sites/${siteId}/phones`, undefined, token1)).status, 401);
  const viaAdmin = await mf.dispatchFetch(`https://edge.example.com/p/${ADMIN_TOKEN}/${phone.config_file}`);
  assert.equal(viaAdmin.status, 404);

  // The phones view shows what the phone told us, and the weak credentials with reasons.
  const list = await (await api("GET", `/sites/${siteId}/phones`)).json();
  assert.equal(list.length, 1);
  assert.equal(list[0].firmware, "66.86.0.15");
  assert.equal(list[0].extension, "204");
  assert.equal(list[0].credential_strength, "weak");
  assert.ok(list[0].credential_findings.length > 0);
  assert.ok(!JSON.stringify(list).includes("204204"));
  const audit = await db.prepare("SELECT action, entity FROM audit_log ORDER BY id").all();
  assert.deepEqual(audit.results.map((r) => `${r.action} ${r.entity}`), ["create site", "create user", "create phone"]);
});

test("templates are validated on save; a refused update leaves the previous version serving", async () => {
  const site = await (await api("POST", "/sites", { ...SITE, name: "Template office" })).json();
  await api("POST", `/sites/${site.id}/users`, { extension: "301", sip_password: "Vq9-kL2m-Zt7x-Pw4r" });
  const broken = await api("POST", `/sites/${site.id}/templates`, {
    name: "desk", vendor: "yealink", style: "jinja", source: "#!version:1.0.0.1\naccount.1.label = {{ user.extension }\n",
  });
  const b = await broken.json();
  assert.equal(broken.status, 400);
  assert.equal(b.field, "source");
  assert.match(b.error, /^line 2, column \d+: /, b.error);
  const typo = await (await api("POST", `/sites/${site.id}/templates`, {
    name: "desk", vendor: "yealink", source: "account.1.password = {SIP_PASSWORD}\n",
  })).json();
  assert.equal(typo.field, "source");
  assert.match(typo.error, /unknown placeholder \{SIP_PASSWORD\}/);
  const snomBad = await (await api("POST", `/sites/${site.id}/templates`, {
    name: "desk", vendor: "snom", style: "jinja", composition: "replace", source: "<settings>\n<a>{{ user.extension }}</b>\n</settings>",
  })).json();
  assert.equal(snomBad.field, "source");
  assert.match(snomBad.error, /^line 2/);

  const ok = await api("POST", `/sites/${site.id}/templates`, {
    name: "desk", vendor: "yealink", source: "#!version:1.0.0.1\naccount.1.label = Desk {SIP_NUM}\nfeatures.dnd.enable = 1\n",
  });
  assert.equal(ok.status, 201, JSON.stringify(await ok.clone().json()));
  const phone = await (await api("POST", `/sites/${site.id}/phones`, { mac: "001565bbccdd", user_extension: "301", template: "desk" })).json();
  const fetchCfg = async () => {
    const res = await mf.dispatchFetch(phone.provisioning_url + phone.config_file, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:bb:cc:dd" } });
    assert.equal(res.status, 200);
    return res.text();
  };
  let cfg = await fetchCfg();
  assert.ok(cfg.includes("account.1.label = Desk 301\n"), cfg);
  assert.ok(cfg.includes("features.dnd.enable = 1\n"), cfg);

  const refused = await api("PUT", `/sites/${site.id}/templates/desk`, {
    name: "desk", vendor: "yealink", style: "jinja", source: "account.1.label = {{ user.nope }}\n",
  });
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).field, "source");
  cfg = await fetchCfg();
  assert.ok(cfg.includes("account.1.label = Desk 301\n"), "the previous version keeps serving");

  const updated = await api("PUT", `/sites/${site.id}/templates/desk`, {
    name: "desk", vendor: "yealink", style: "jinja", source: "account.1.label = Room {{ user.extension }}\n",
  });
  assert.equal(updated.status, 200);
  cfg = await fetchCfg();
  assert.ok(cfg.includes("account.1.label = Room 301\n"), cfg);
  assert.ok(!cfg.includes("features.dnd.enable"), "the new version replaced the old one");
});
