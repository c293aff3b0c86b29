// The relay sync API under real workerd: only the site's relay token reads the snapshot;
// an unchanged site answers 304 to its ETag; any change gives a new ETag. The relay reports
// the phones it discovers and collects/acknowledges the admin's re-provision and reboot
// requests, for its own site only.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, ADMIN_TOKEN, sha256, steadyToken } from "./harness.mjs";

let mf, db;
before(async () => ({ mf, db } = await start()));
after(async () => mf?.dispose());

const api = (method, path, body) =>
  mf.dispatchFetch(`https://edge.example.com/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const snapshot = (token, etag) =>
  mf.dispatchFetch("https://edge.example.com/relay/v1/snapshot", {
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(etag ? { "If-None-Match": etag } : {}) },
  });

test("snapshot with ETag and 304, for the site's relay token only", async () => {
  const site = await (await api("POST", "/sites", { name: "Relay office", pbx_host: "pbx.example.com" })).json();
  const other = await (await api("POST", "/sites", { name: "Other office", pbx_host: "pbx2.example.com" })).json();
  await api("POST", `/sites/${site.id}/users`, { extension: "401", sip_password: "Hq2-vP9x-Lm4t-Zr8w" });
  await api("POST", `/sites/${other.id}/users`, { extension: "501", sip_password: "Other-site-secret-1" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0c383e112233", user_extension: "401" });

  for (const t of [null, "", "wrong", "0".repeat(32), ADMIN_TOKEN]) {
    assert.equal((await snapshot(t)).status, 401, `token ${JSON.stringify(t)}`);
  }
  const { relay_token } = await (await api("POST", `/sites/${site.id}/relay-token`)).json();
  const first = await snapshot(relay_token);
  assert.equal(first.status, 200);
  const etag = first.headers.get("etag");
  assert.match(etag, /^"[0-9a-f]{64}"$/);
  const snap = await first.json();
  assert.equal(snap.site.name, "Relay office");
  assert.deepEqual(snap.users.map((u) => u.extension), ["401"]);
  assert.equal(snap.users[0].sip_password, "Hq2-vP9x-Lm4t-Zr8w", "the relay renders configs, so it gets the secrets");
  assert.ok(!JSON.stringify(snap).includes("Other-site-secret-1"), "another site's data never appears");
  assert.deepEqual(snap.phones.map((p) => [p.mac, p.vendor, p.user_extension]), [["0c383e112233", "fanvil", "401"]]);

  const same = await snapshot(relay_token, etag);
  assert.equal(same.status, 304);
  assert.equal(await same.text(), "");

  await api("POST", `/sites/${site.id}/users`, { extension: "402", sip_password: "Kp3-wQ8y-Nn5u-Xs7v" });
  const changed = await snapshot(relay_token, etag);
  assert.equal(changed.status, 200);
  assert.notEqual(changed.headers.get("etag"), etag);
  assert.deepEqual((await changed.json()).users.map((u) => u.extension), ["401", "402"]);

  // A new relay token retires the old one.
  const { relay_token: rotated } = await (await api("POST", `/sites/${site.id}/relay-token`)).json();
  assert.equal((await snapshot(relay_token)).status, 401);
  assert.equal((await snapshot(rotated)).status, 200);
});

// ---- helpers for the endpoints below ----

const relay = (token, method, path, body) =>
  mf.dispatchFetch(`https://edge.example.com/relay/v1/${path}`, {
    method,
    headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
const adminAs = (token, method, path, body) =>
  mf.dispatchFetch(`https://edge.example.com/api${path}`, {
    method,
    headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
const count = async (sql, ...args) => (await db.prepare(sql).bind(...args).first()).n;
// Everything a refused request could have written.
const writes = () =>
  count("SELECT (SELECT COUNT(*) FROM phones) + (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM relay_actions) + (SELECT COUNT(*) FROM phones WHERE last_seen_at IS NOT NULL) + (SELECT COUNT(*) FROM relay_actions WHERE status != 'pending') AS n");

// A site with a relay token, made through the admin API.
async function newSite(name) {
  const site = await (await api("POST", "/sites", { name, pbx_host: "pbx.example.com" })).json();
  const { relay_token } = await (await api("POST", `/sites/${site.id}/relay-token`)).json();
  return { id: site.id, token: relay_token };
}
const phonesOf = async (siteId) => Object.fromEntries((await (await api("GET", `/sites/${siteId}/phones`)).json()).map((p) => [p.mac, p]));
const actionsOf = async (siteId) => Object.fromEntries((await (await api("GET", `/sites/${siteId}/actions`)).json()).map((a) => [a.id, a]));

test("every relay endpoint wants the site's relay token; other paths and methods are refused", async () => {
  const site = await newSite("Token office");
  const before = await writes();
  const calls = [["GET", "snapshot"], ["POST", "discovered", { phones: [{ mac: "001565aa0101", via: "pnp", confirmed: true }] }], ["GET", "actions"], ["POST", "actions/ack", { results: [] }], ["GET", "nowhere"]];
  for (const [m, p, b] of calls) {
    for (const t of [null, "", "wrong", "0".repeat(32), site.token.slice(0, -1) + "x", ADMIN_TOKEN, `${site.token} `.repeat(2)]) {
      const res = await relay(t, m, p, b);
      assert.equal(res.status, 401, `${m} ${p} with ${JSON.stringify(t)}`);
      assert.equal(await res.text(), "Unauthorized\n");
    }
  }
  // A relay token is no admin token.
  assert.equal((await adminAs(site.token, "GET", `/sites/${site.id}/actions`)).status, 401);
  assert.equal(await writes(), before, "nothing was written");

  assert.equal((await relay(site.token, "GET", "nowhere")).status, 404);
  const wrong = await relay(site.token, "POST", "snapshot", {});
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET");
  assert.equal((await relay(site.token, "GET", "discovered")).status, 405);
  assert.equal((await relay(site.token, "GET", "actions/ack")).status, 405);
  assert.equal((await relay(site.token, "DELETE", "actions")).status, 405);
});

test("discovered phones: new ones are added unbound, known ones get last-seen only, another site's are untouched and unrevealed", async () => {
  const a = await newSite("Discovery office");
  const b = await newSite("Neighbour office");
  await api("POST", `/sites/${a.id}/users`, { extension: "401", sip_password: "Hq2-vP9x-Lm4t-Zr8w" });
  await api("POST", `/sites/${b.id}/users`, { extension: "501", sip_password: "Kp3-wQ8y-Nn5u-Xs7v" });
  // A bound phone of this site, without a model yet, and one of the other site.
  const bound = await (await api("POST", `/sites/${a.id}/phones`, { mac: "0c383e112244", user_extension: "401" })).json();
  await api("POST", `/sites/${b.id}/phones`, { mac: "001565000b0b", model: "T48S", user_extension: "501" });
  const neighbourBefore = await phonesOf(b.id);

  const first = await relay(a.token, "GET", "snapshot");
  const etag = first.headers.get("etag");

  const report = {
    phones: [
      { mac: "00:15:65:AA:00:01", model: "T46S", firmware: "66.86.0.15", ip: "192.0.2.11", user_agent: "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:00:01", via: "pnp", confirmed: true },
      { mac: "0004.13aa.bbcc", ip: "2001:db8::12", via: "tftp", confirmed: true },
      { mac: "0c-38-3e-11-22-44", model: "X5U", firmware: "2.4.1", ip: "192.0.2.20", user_agent: "Fanvil X5U 2.4.1", via: "http", confirmed: true },
      { mac: "001565000b0b", ip: "192.0.2.99", firmware: "1.0", via: "pnp", confirmed: true },
      { mac: "00:80:9f:11:22:33", via: "pnp", confirmed: true },
      { mac: "52:54:00:12:34:56", via: "http", confirmed: true },
      { mac: "000000000000", via: "tftp", confirmed: true },
      { mac: "0c383e998877", vendor: "ale", via: "pnp", confirmed: true },
    ],
  };
  const res = await relay(a.token, "POST", "discovered", report);
  assert.equal(res.status, 200);
  const counts = await res.json();
  assert.deepEqual(counts, { added: 2, updated: 1, ignored: 5 }, "another site's MAC is just one of the ignored");

  const phones = await phonesOf(a.id);
  assert.deepEqual(Object.keys(phones).sort(), ["000413aabbcc", "001565aa0001", "0c383e112244"]);
  const yealink = phones["001565aa0001"];
  assert.equal(yealink.found_by, "pnp");
  assert.equal(yealink.extension, null, "unbound");
  assert.deepEqual([yealink.vendor, yealink.model, yealink.firmware, yealink.ip, yealink.user_agent], ["yealink", "T46S", "66.86.0.15", "192.0.2.11", "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:00:01"]);
  assert.ok(yealink.last_seen_at > 0);
  const snom = phones["000413aabbcc"];
  assert.deepEqual([snom.vendor, snom.found_by, snom.extension, snom.ip], ["snom", "tftp", null, "2001:db8::12"], "vendor from the OUI");

  const known = phones["0c383e112244"];
  assert.equal(known.extension, "401", "the binding is untouched");
  assert.equal(known.found_by, "admin");
  assert.deepEqual([known.ip, known.firmware, known.user_agent, known.model], ["192.0.2.20", "2.4.1", "Fanvil X5U 2.4.1", "X5U"]);
  assert.ok(known.last_seen_at > 0);
  const row = await db.prepare("SELECT user_id, token1_hash, token2_hash, vendor, lan_ip, lan_seen_at FROM phones WHERE mac = '0c383e112244'").first();
  assert.ok(row.user_id && row.token1_hash, "user and first-access token kept");
  assert.equal(row.lan_ip, "192.0.2.20");
  assert.ok(row.lan_seen_at > 0);
  assert.equal(row.vendor, "fanvil");

  assert.deepEqual(await phonesOf(b.id), neighbourBefore, "the other site's phone is untouched");
  assert.equal(await count("SELECT COUNT(*) AS n FROM phones WHERE mac = '001565000b0b' AND site_id = ?1 AND last_ip IS NULL", b.id), 1);
  assert.equal(await count("SELECT COUNT(*) AS n FROM phones WHERE mac IN ('00809f112233', '525400123456', '000000000000', '0c383e998877')"), 0, "refused makers are not added");

  // Added phones carry tokens as the admin create makes them: no first-access token, the
  // steady-state token derived from the phone's id; the audit log names them.
  const added = await db.prepare("SELECT id, token1_hash, token2_hash, user_id, template_id, assigned_at FROM phones WHERE mac = '001565aa0001'").first();
  assert.equal(added.token1_hash, null);
  assert.equal(added.token2_hash, sha256(steadyToken(added.id)));
  assert.equal(added.user_id, null);
  assert.equal(added.template_id, null);
  assert.ok(added.assigned_at > 0);
  assert.equal(await count("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'relay' AND action = 'discover' AND entity_id = ?1", added.id), 1);

  // The snapshot lists the new phones, unbound, under a new ETag.
  const after = await relay(a.token, "GET", "snapshot", undefined);
  const changed = await mf.dispatchFetch("https://edge.example.com/relay/v1/snapshot", { headers: { Authorization: `Bearer ${a.token}`, "If-None-Match": etag } });
  assert.equal(changed.status, 200);
  const etag2 = changed.headers.get("etag");
  assert.notEqual(etag2, etag);
  const snap = await after.json();
  assert.deepEqual(snap.phones.map((p) => [p.mac, p.user_extension]), [["000413aabbcc", null], ["001565aa0001", null], ["0c383e112244", "401"]]);
  assert.ok(!JSON.stringify(snap).includes("001565000b0b"), "the other site's phone is not in the snapshot");

  // Reporting the same phones again only refreshes last-seen: the snapshot stays the same.
  report.phones[0].ip = "192.0.2.111";
  assert.deepEqual(await (await relay(a.token, "POST", "discovered", report)).json(), { added: 0, updated: 3, ignored: 5 });
  assert.equal((await phonesOf(a.id))["001565aa0001"].ip, "192.0.2.111");
  const same = await mf.dispatchFetch("https://edge.example.com/relay/v1/snapshot", { headers: { Authorization: `Bearer ${a.token}`, "If-None-Match": etag2 } });
  assert.equal(same.status, 304);

  // The other site's relay reporting this site's phone does not move or touch it.
  assert.deepEqual(await (await relay(b.token, "POST", "discovered", { phones: [{ mac: "001565aa0001", ip: "198.51.100.1", via: "http", confirmed: true }] })).json(), { added: 0, updated: 0, ignored: 1 });
  assert.equal((await phonesOf(a.id))["001565aa0001"].ip, "192.0.2.111");

  // An unbound phone gets no config from the edge, though its token is good: a bound phone
  // of the same make and the same request shape does.
  const control = await (await api("POST", `/sites/${a.id}/phones`, { mac: "001565aa0002", model: "T46S", user_extension: "401" })).json();
  const ua = (mac) => ({ headers: { "User-Agent": `Yealink SIP-T46S 66.86.0.15 ${mac}` } });
  const ok = await mf.dispatchFetch(`https://edge.example.com/p/${steadyToken(control.id)}/${control.config_file}`, ua("00:15:65:aa:00:02"));
  assert.equal(ok.status, 200);
  const unbound = await mf.dispatchFetch(`https://edge.example.com/p/${steadyToken(added.id)}/001565aa0001.cfg`, ua("00:15:65:aa:00:01"));
  assert.equal(unbound.status, 404);
  assert.equal(await unbound.text(), "Not Found\n");
  assert.equal((await db.prepare("SELECT first_fetch_at FROM phones WHERE id = ?1").bind(added.id).first()).first_fetch_at, null);
});

test("a bad discovery report is refused whole, naming the field", async () => {
  const site = await newSite("Strict office");
  const good = { mac: "001565aa0301", via: "pnp", confirmed: true };
  const many = Array.from({ length: 501 }, (_, i) => ({ mac: `0015650${i.toString(16).padStart(5, "0")}`, via: "pnp", confirmed: true }));
  const cases = [
    ["not json", "body"],
    [{}, "phones"],
    [{ phones: [good], extra: 1 }, "extra"],
    [{ phones: [good, { mac: "00:15:65:zz:00:01", via: "pnp", confirmed: true }] }, "phones[1].mac"],
    [{ phones: [good, { mac: "001565aa0302", via: "ssh" }] }, "phones[1].via"],
    [{ phones: [good, { mac: "001565aa0302" }] }, "phones[1].via"],
    [{ phones: [good, { via: "pnp", confirmed: true }] }, "phones[1].mac"],
    [{ phones: [good, { mac: "001565aa0302", via: "pnp", confirmed: true, serial: "x" }] }, "phones[1].serial"],
    [{ phones: [good, { mac: "001565aa0302", via: "pnp", confirmed: true, ip: "999.1.1.1" }] }, "phones[1].ip"],
    [{ phones: [good, { mac: "001565aa0302", via: "pnp", confirmed: true, model: "x".repeat(41) }] }, "phones[1].model"],
    [{ phones: [good, { mac: "001565aa0302", via: "pnp", confirmed: true, firmware: "x".repeat(65) }] }, "phones[1].firmware"],
    [{ phones: [good, { mac: "001565aa0302", via: "pnp", confirmed: true, user_agent: "Yealink\r\nX-Injected: 1" }] }, "phones[1].user_agent"],
    [{ phones: [good, { mac: "001565aa0302", via: "pnp", confirmed: true, vendor: "nokia" }] }, "phones[1].vendor"],
    [{ phones: [good, { mac: "00-15-65-AA-03-01", via: "tftp", confirmed: true }] }, "phones[1].mac"],
    [{ phones: many }, "phones"],
  ];
  const before = await writes();
  for (const [body, field] of cases) {
    const res = await relay(site.token, "POST", "discovered", body);
    const j = await res.json();
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
    assert.equal(j.field, field, `${JSON.stringify(body).slice(0, 200)} -> ${JSON.stringify(j)}`);
    assert.equal(typeof j.error, "string");
  }
  assert.equal(await writes(), before, "nothing was written");
  // 500 entries are a valid report; the site takes MAX_UNBOUND of them.
  const res = await relay(site.token, "POST", "discovered", { phones: many.slice(0, 500) });
  assert.deepEqual(await res.json(), { added: MAX_UNBOUND, updated: 0, ignored: 500 - MAX_UNBOUND, refused: 500 - MAX_UNBOUND });
});

// edge-worker/src/relay/discovered.rs: the unbound phones a site's relays may add.
const MAX_UNBOUND = 300;

test("a spoofed sighting does not rewrite a known phone, and made-up MACs stop at the site's cap", async () => {
  const site = await newSite("Spoofed office");
  await api("POST", `/sites/${site.id}/users`, { extension: "601", sip_password: "Sp0of-Vq9-kL2m-Zt7x" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0c383e116601", user_extension: "601" });
  // The phone itself, confirmed by the relay's ARP table.
  const real = { mac: "0c383e116601", model: "X5U", firmware: "2.4.1", ip: "192.0.2.61", user_agent: "Fanvil X5U 2.4.1", via: "pnp", confirmed: true };
  assert.deepEqual(await (await relay(site.token, "POST", "discovered", { phones: [real] })).json(), { added: 0, updated: 1, ignored: 0 });
  const facts = async () => {
    const p = (await phonesOf(site.id))["0c383e116601"];
    const row = await db.prepare("SELECT lan_ip, lan_seen_at, last_seen_at FROM phones WHERE mac = '0c383e116601'").first();
    return [p.ip, p.user_agent, p.firmware, p.model, row.lan_ip, row.lan_seen_at, row.last_seen_at];
  };
  const before = await facts();
  assert.deepEqual(before.slice(0, 5), ["192.0.2.61", "Fanvil X5U 2.4.1", "2.4.1", "X5U", "192.0.2.61"]);
  // A LAN host's SUBSCRIBE naming the phone's MAC: the relay could not confirm it (its own
  // MAC, or none, at the attacker's address), or an older relay that does not say.
  for (const confirmed of [false, undefined]) {
    const spoof = { mac: "0c383e116601", firmware: "6.6.6", ip: "192.0.2.66", user_agent: "Fanvil X5U 6.6.6 evil", via: "pnp", confirmed };
    const counts = await (await relay(site.token, "POST", "discovered", { phones: [spoof] })).json();
    assert.deepEqual(counts, { added: 0, updated: 0, ignored: 1 }, `confirmed: ${confirmed}`);
    assert.deepEqual(await facts(), before, "the phone's LAN facts are unchanged");
  }

  // Made-up MACs in forged packets (unconfirmed): nothing added.
  const forged = await (await relay(site.token, "POST", "discovered", { phones: Array.from({ length: 50 }, (_, i) => ({ mac: `001565${(0x670000 + i).toString(16)}`, via: "pnp", ip: "192.0.2.67" })) })).json();
  assert.deepEqual(forged, { added: 0, updated: 0, ignored: 50 });
  // A host taking MAC after MAC (each confirmed): new unbound phones up to the cap, then none.
  const fake = (i) => ({ mac: `001565${(0x660000 + i).toString(16)}`, via: "pnp", confirmed: true, ip: "192.0.2.66" });
  const unbound = () => count("SELECT COUNT(*) AS n FROM phones WHERE site_id = ?1 AND user_id IS NULL", site.id);
  const first = await (await relay(site.token, "POST", "discovered", { phones: Array.from({ length: MAX_UNBOUND - 10 }, (_, i) => fake(i)) })).json();
  assert.equal(first.added, MAX_UNBOUND - 10);
  const second = await (await relay(site.token, "POST", "discovered", { phones: Array.from({ length: 100 }, (_, i) => fake(1000 + i)) })).json();
  assert.deepEqual(second, { added: 10, updated: 0, ignored: 90, refused: 90 });
  const third = await (await relay(site.token, "POST", "discovered", { phones: [fake(5000), real] })).json();
  assert.deepEqual(third, { added: 0, updated: 1, ignored: 1, refused: 1 }, "the known phone still updates");
  assert.equal(await unbound(), MAX_UNBOUND);
  // Binding one makes room for one more.
  const one = await db.prepare("SELECT id FROM phones WHERE mac = ?1").bind(fake(0).mac).first();
  await db.prepare("UPDATE phones SET user_id = (SELECT id FROM users WHERE extension = '601' AND site_id = ?1) WHERE id = ?2").bind(site.id, one.id).run();
  const fourth = await (await relay(site.token, "POST", "discovered", { phones: [fake(5000), fake(5001)] })).json();
  assert.deepEqual(fourth, { added: 1, updated: 0, ignored: 1, refused: 1 });
});

test("the admin queues re-provision and reboot requests: validated, deduplicated while pending", async () => {
  const a = await newSite("Queue office");
  const b = await newSite("Queue neighbour");
  await relay(a.token, "POST", "discovered", { phones: [{ mac: "001565aa0401", via: "pnp", confirmed: true }, { mac: "001565aa0402", via: "pnp", confirmed: true }] });
  await relay(b.token, "POST", "discovered", { phones: [{ mac: "001565aa0409", via: "pnp", confirmed: true }] });
  const path = `/sites/${a.id}/actions`;

  for (const t of [null, "", "wrong", a.token]) {
    assert.equal((await adminAs(t, "POST", path, { action: "reboot", all: true })).status, 401);
    assert.equal((await adminAs(t, "GET", path)).status, 401);
  }
  const cases = [
    ["not json", "body"],
    [{}, "action"],
    [{ action: "explode", macs: ["001565aa0401"] }, "action"],
    [{ action: "reboot" }, "macs"],
    [{ action: "reboot", macs: [] }, "macs"],
    [{ action: "reboot", macs: ["001565zz0401"] }, "macs"],
    [{ action: "reboot", macs: ["001565aa0401", "001565aa0409"] }, "macs"],
    [{ action: "reboot", macs: ["001565aa0401", "001565aa04ff"] }, "macs"],
    [{ action: "reboot", macs: ["001565aa0401"], all: true }, "macs"],
    [{ action: "reboot", macs: Array(501).fill("001565aa0401") }, "macs"],
    [{ action: "reboot", all: true, now: true }, "now"],
  ];
  const empty = await newSite("Empty office");
  const before = await writes();
  for (const [body, field] of cases) {
    const res = await api("POST", path, body);
    const j = await res.json();
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
    assert.equal(j.field, field, `${JSON.stringify(body).slice(0, 200)} -> ${JSON.stringify(j)}`);
  }
  const other = await (await api("POST", path, { action: "reboot", macs: ["001565aa0409"] })).json();
  assert.match(other.error, /001565aa0409 is not a phone of this site/);
  assert.equal((await api("POST", "/sites/site-none/actions", { action: "reboot", all: true })).status, 404);
  assert.equal((await api("GET", "/sites/site-none/actions")).status, 404);
  assert.equal((await (await api("POST", `/sites/${empty.id}/actions`, { action: "reboot", all: true })).json()).field, "all");
  assert.equal(await writes(), before, "nothing was written");

  const first = await api("POST", path, { action: "reboot", macs: ["00:15:65:AA:04:01"] });
  assert.equal(first.status, 201);
  const q1 = await first.json();
  assert.equal(q1.action, "reboot");
  assert.deepEqual(q1.queued.map((q) => q.mac), ["001565aa0401"]);
  assert.deepEqual(q1.already_pending, []);

  const second = await api("POST", path, { action: "reboot", macs: ["001565aa0401", "001565aa0402", "0015.65aa.0401"] });
  assert.equal(second.status, 201);
  const q2 = await second.json();
  assert.deepEqual(q2.queued.map((q) => q.mac), ["001565aa0402"]);
  assert.deepEqual(q2.already_pending, q1.queued, "the pending reboot is not duplicated");

  const all = await (await api("POST", path, { action: "reprovision", all: true })).json();
  assert.deepEqual(all.queued.map((q) => q.mac), ["001565aa0401", "001565aa0402"], "another action for the same phone is queued");
  const again = await api("POST", path, { action: "reprovision", all: true });
  assert.equal(again.status, 200);
  assert.deepEqual((await again.json()).queued, []);

  assert.equal(await count("SELECT COUNT(*) AS n FROM relay_actions WHERE site_id = ?1", a.id), 4);
  assert.equal(await count("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'admin' AND entity = 'relay_action'"), 4);
  const list = await (await api("GET", path)).json();
  assert.equal(list.length, 4);
  for (const x of list) {
    assert.equal(x.status, "pending");
    assert.ok(x.requested_at > 0);
    assert.equal(x.collected_at, null);
    assert.equal(x.finished_at, null);
  }
  assert.deepEqual(await (await api("GET", `/sites/${b.id}/actions`)).json(), [], "per site");
});

test("the relay collects, acknowledges; unacknowledged actions come back; another site's relay sees none of it", async () => {
  const a = await newSite("Notify office");
  const b = await newSite("Notify neighbour");
  await relay(a.token, "POST", "discovered", {
    phones: [
      { mac: "001565aa0501", model: "T46S", ip: "192.0.2.51", via: "pnp", confirmed: true },
      { mac: "001565aa0502", ip: "192.0.2.52", via: "pnp", confirmed: true },
      { mac: "000413aa0503", model: "D785", via: "tftp", confirmed: true },
    ],
  });
  await relay(b.token, "POST", "discovered", { phones: [{ mac: "001565aa0509", via: "pnp", confirmed: true }] });
  const path = `/sites/${a.id}/actions`;
  await api("POST", path, { action: "reprovision", macs: ["001565aa0501", "001565aa0502"] });
  await api("POST", path, { action: "reboot", macs: ["000413aa0503"] });
  await api("POST", `/sites/${b.id}/actions`, { action: "reboot", all: true });

  // A fetch through the edge records the address it came from (the site's public NAT
  // address), as the phone route does: the relay is still handed the LAN address.
  await db.prepare("UPDATE phones SET last_ip = '203.0.113.7' WHERE mac = '001565aa0502'").run();

  // The other site's relay collects only its own.
  const theirs = await (await relay(b.token, "GET", "actions")).json();
  assert.deepEqual(theirs.actions.map((x) => x.mac), ["001565aa0509"]);

  const res = await relay(a.token, "GET", "actions");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const got = await res.json();
  assert.equal(got.ack_within_secs, 300);
  const byMac = Object.fromEntries(got.actions.map((x) => [x.mac, x]));
  assert.deepEqual(Object.keys(byMac).sort(), ["000413aa0503", "001565aa0501", "001565aa0502"]);
  const { id: _id, ...first } = byMac["001565aa0501"];
  assert.deepEqual(first, { action: "reprovision", mac: "001565aa0501", vendor: "yealink", model: "T46S", ip: "192.0.2.51", delivery: 1 });
  assert.equal(byMac["001565aa0502"].ip, "192.0.2.52", "the LAN address, not the edge-seen one");
  assert.equal(byMac["000413aa0503"].action, "reboot");
  assert.equal(byMac["000413aa0503"].ip, null, "never seen at an address");
  let list = await actionsOf(a.id);
  for (const x of got.actions) {
    assert.equal(list[x.id].status, "collected");
    assert.ok(list[x.id].collected_at > 0);
    assert.equal(list[x.id].deliveries, 1);
  }
  assert.deepEqual((await (await relay(a.token, "GET", "actions")).json()).actions, [], "a second collect returns nothing");

  // The other site's relay can neither collect nor acknowledge them.
  assert.deepEqual((await (await relay(b.token, "GET", "actions")).json()).actions, []);
  const ids = got.actions.map((x) => x.id);
  const foreign = await (await relay(b.token, "POST", "actions/ack", { results: ids.map((id) => ({ id, ok: true })) })).json();
  assert.deepEqual(foreign, { acknowledged: 0, ignored: 3 });
  list = await actionsOf(a.id);
  for (const id of ids) assert.equal(list[id].status, "collected");

  // Bad acknowledgements change nothing.
  const r1 = byMac["001565aa0501"].id;
  const r2 = byMac["001565aa0502"].id;
  const r3 = byMac["000413aa0503"].id;
  const cases = [
    ["not json", "body"],
    [{}, "results"],
    [{ results: [{ id: r1, ok: true }], more: 1 }, "more"],
    [{ results: [{ id: r1, ok: true }, { id: r2 }] }, "results[1].ok"],
    [{ results: [{ id: r1, ok: true }, { id: r2, ok: "yes" }] }, "results[1].ok"],
    [{ results: [{ id: r1, ok: true }, { ok: true }] }, "results[1].id"],
    [{ results: [{ id: r1, ok: true }, { id: "", ok: true }] }, "results[1].id"],
    [{ results: [{ id: r1, ok: true }, { id: "x".repeat(65), ok: true }] }, "results[1].id"],
    [{ results: [{ id: r1, ok: true }, { id: r1, ok: false }] }, "results[1].id"],
    [{ results: [{ id: r1, ok: true }, { id: r2, ok: false, detail: "x".repeat(201) }] }, "results[1].detail"],
    [{ results: [{ id: r1, ok: true }, { id: r2, ok: false, detail: "bad\u0000" }] }, "results[1].detail"],
    [{ results: [{ id: r1, ok: true }, { id: r2, ok: true, when: 1 }] }, "results[1].when"],
    [{ results: Array.from({ length: 501 }, (_, i) => ({ id: `act-${i}`, ok: true })) }, "results"],
  ];
  const before = await writes();
  for (const [body, field] of cases) {
    const res = await relay(a.token, "POST", "actions/ack", body);
    const j = await res.json();
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 200));
    assert.equal(j.field, field, `${JSON.stringify(body).slice(0, 200)} -> ${JSON.stringify(j)}`);
  }
  assert.equal(await writes(), before, "nothing was written");

  // A new request for a phone whose action is collected (maybe already carried out) is queued.
  const requeue = await api("POST", path, { action: "reprovision", macs: ["001565aa0501"] });
  assert.equal(requeue.status, 201);
  const r4 = (await requeue.json()).queued[0].id;

  const ack = await relay(a.token, "POST", "actions/ack", {
    results: [{ id: r1, ok: true }, { id: r2, ok: false, detail: "no answer to NOTIFY" }, { id: "act-unknown", ok: true }, { id: r4, ok: true }],
  });
  assert.equal(ack.status, 200);
  assert.deepEqual(await ack.json(), { acknowledged: 2, ignored: 2 }, "unknown and not yet collected ids are ignored");
  list = await actionsOf(a.id);
  assert.deepEqual([list[r1].status, list[r1].detail], ["done", ""]);
  assert.deepEqual([list[r2].status, list[r2].detail], ["failed", "no answer to NOTIFY"]);
  assert.ok(list[r1].finished_at >= list[r1].collected_at);
  assert.equal(list[r3].status, "collected");
  assert.equal(list[r4].status, "pending");
  // Acknowledging again changes nothing.
  assert.deepEqual(await (await relay(a.token, "POST", "actions/ack", { results: [{ id: r1, ok: false }] })).json(), { acknowledged: 0, ignored: 1 });
  assert.equal((await actionsOf(a.id))[r1].status, "done");

  // r3 is not acknowledged: once its collect is older than the timeout, it is handed out again
  // (with the pending r4), and only once.
  await db.prepare("UPDATE relay_actions SET collected_at = collected_at - 200 WHERE id = ?1").bind(r3).run();
  assert.deepEqual((await (await relay(a.token, "GET", "actions")).json()).actions.map((x) => x.id), [r4], "not before the timeout");
  await db.prepare("UPDATE relay_actions SET collected_at = collected_at - 101 WHERE id = ?1").bind(r3).run();
  const redelivered = (await (await relay(a.token, "GET", "actions")).json()).actions;
  assert.deepEqual(redelivered.map((x) => [x.id, x.delivery]), [[r3, 2]]);
  assert.deepEqual((await (await relay(a.token, "GET", "actions")).json()).actions, []);
  assert.equal((await actionsOf(a.id))[r3].deliveries, 2);

  // After the last delivery without an answer, it is given up.
  await db.prepare("UPDATE relay_actions SET collected_at = collected_at - 301, deliveries = 5 WHERE id = ?1").bind(r3).run();
  assert.deepEqual((await (await relay(a.token, "GET", "actions")).json()).actions, []);
  list = await actionsOf(a.id);
  assert.equal(list[r3].status, "failed");
  assert.match(list[r3].detail, /not acknowledged after 5 deliveries/);
  // The other site's action was never touched by all this.
  const bList = Object.values(await actionsOf(b.id));
  assert.deepEqual(bList.map((x) => x.status), ["collected"]);
});

test("star-code binding reported by the relay: the phone is bound, its window reopened", async () => {
  const site = await (await api("POST", "/sites", { name: "Star office", pbx_host: "pbx.star.example", star_code_pattern: "*123*" })).json();
  const other = await (await api("POST", "/sites", { name: "Star other", pbx_host: "pbx.other.example" })).json();
  await api("POST", `/sites/${site.id}/users`, { extension: "200", sip_password: "Star-Vq9-kL2m-Zt7x" });
  await api("POST", `/sites/${other.id}/phones`, { mac: "001565999001" });
  const { relay_token } = await (await api("POST", `/sites/${site.id}/relay-token`)).json();
  const relay = (method, p, body) =>
    mf.dispatchFetch(`https://edge.example.com/relay/v1/${p}`, {
      method,
      headers: { Authorization: `Bearer ${relay_token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  assert.equal((await relay("POST", "discovered", { phones: [{ mac: "001565999000", via: "pnp", confirmed: true, ip: "192.0.2.50" }] })).status, 200);
  const before = await db.prepare("SELECT COUNT(*) AS n FROM phones WHERE user_id IS NOT NULL").first();
  for (const [body, field] of [
    [{ mac: "001565999000", extension: "999" }, "extension"],
    [{ mac: "001565999001", extension: "200" }, "mac"],
    [{ mac: "nope", extension: "200" }, "mac"],
    [{ mac: "001565999000" }, "extension"],
    [{ mac: "001565999000", extension: "200", x: 1 }, "x"],
  ]) {
    const res = await relay("POST", "bind", body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await res.json()).field, field, JSON.stringify(body));
  }
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM phones WHERE user_id IS NOT NULL").first()).n, before.n, "nothing bound");
  assert.equal((await relay("GET", "bind")).status, 405);
  await db.prepare("UPDATE phones SET assigned_at = 0 WHERE mac = '001565999000'").run();
  // A new site wants the PIN: a relay that checked none (its snapshot older than the
  // setting) binds nothing.
  for (const body of [{ mac: "001565999000", extension: "200" }, { mac: "001565999000", extension: "200", pin: false }]) {
    const res = await relay("POST", "bind", body);
    assert.equal(res.status, 409, JSON.stringify(body));
    assert.equal((await res.json()).field, "pin");
  }
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM phones WHERE user_id IS NOT NULL").first()).n, before.n, "bound without a PIN");
  const ok = await relay("POST", "bind", { mac: "00:15:65:99:90:00", extension: "200", pin: true });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { mac: "001565999000", extension: "200", status: "bound" });
  const phone = await (await api("GET", `/sites/${site.id}/phones/001565999000`)).json();
  assert.equal(phone.user_extension, "200");
  assert.equal(phone.window_open, true, "a new assignment reopens the window");
  const audit = await db.prepare("SELECT actor, action, detail FROM audit_log WHERE action = 'star-code bind'").first();
  assert.deepEqual(audit, { actor: "relay", action: "star-code bind", detail: "001565999000 -> 200" });
  const otherPhone = await (await api("GET", `/sites/${other.id}/phones/001565999001`)).json();
  assert.equal(otherPhone.user_extension, null, "another site's phone untouched");
});

test("star-code pattern: both forms saved and said, neither refused at its field; hot-desking off by default, re-binding only where the site allows it, audited", async () => {
  // Issue 16: a prefix (*123*) and MikoPBX's Extension Template (*123*XXX, *123*200).
  const site = await (await api("POST", "/sites", { name: "Desk office", pbx_host: "pbx.desk.example", star_code_pattern: "*123*XXX" })).json();
  assert.equal(site.star_code_pattern, "*123*XXX");
  assert.equal(site.hot_desking, false, "safe by default");
  for (const ok of ["*123*", "*123*200", "*2*XXXX", ""]) {
    const res = await api("PATCH", `/sites/${site.id}`, { star_code_pattern: ok });
    assert.equal(res.status, 200, ok);
    assert.equal((await res.json()).star_code_pattern, ok);
  }
  for (const bad of ["123", "*123*20a", "*123*XX*", "*", "*1234567890123456*", "*123* "]) {
    const res = await api("PATCH", `/sites/${site.id}`, { star_code_pattern: bad });
    assert.equal(res.status, 400, bad);
    const e = await res.json();
    assert.equal(e.field, "star_code_pattern", bad);
    assert.match(e.error, /\*123\*/, `the error shows the forms: ${e.error}`);
  }
  assert.equal((await (await api("GET", `/sites/${site.id}`)).json()).star_code_pattern, "", "a refused save changes nothing");
  for (const bad of [2, "yes", null]) {
    const res = await api("PATCH", `/sites/${site.id}`, { hot_desking: bad });
    assert.equal(res.status, 400, String(bad));
    assert.equal((await res.json()).field, "hot_desking");
  }

  // Re-binding a bound phone at the bind endpoint.
  await api("PATCH", `/sites/${site.id}`, { star_code_pattern: "*123*200" });
  for (const ext of ["201", "202"]) await api("POST", `/sites/${site.id}/users`, { extension: ext, sip_password: `Desk-Vq9-kL2m-${ext}` });
  const { relay_token } = await (await api("POST", `/sites/${site.id}/relay-token`)).json();
  const relay = (p, body) =>
    mf.dispatchFetch(`https://edge.example.com/relay/v1/${p}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${relay_token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  const mac = "001565997000";
  assert.equal((await relay("discovered", { phones: [{ mac, via: "pnp", confirmed: true }] })).status, 200);
  assert.equal((await relay("bind", { mac, extension: "201", pin: true })).status, 200);
  const bound = async () => (await (await api("GET", `/sites/${site.id}/phones/${mac}`)).json()).user_extension;
  // The attack hot-desking off stops: someone at the bound phone moves it to another user.
  const refusedRebind = await relay("bind", { mac, extension: "202", pin: true });
  assert.equal(refusedRebind.status, 409);
  assert.equal((await refusedRebind.json()).field, "mac");
  assert.equal(await bound(), "201", "moved without hot-desking");
  // The same extension again is harmless (a retransmitted or repeated code).
  assert.equal((await relay("bind", { mac, extension: "201", pin: true })).status, 200);
  const on = await (await api("PATCH", `/sites/${site.id}`, { hot_desking: true })).json();
  assert.equal(on.hot_desking, true);
  const snap = await (await snapshot(relay_token)).json();
  assert.equal(snap.site.hot_desking, true, "the relay learns it from the snapshot");
  const ok = await relay("bind", { mac, extension: "202", pin: true });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).status, "bound");
  assert.equal(await bound(), "202", "the phone row changes user");
  const audit = await db.prepare("SELECT action, detail FROM audit_log WHERE detail LIKE ?1 ORDER BY id DESC").bind(`${mac}%`).first();
  assert.deepEqual(audit, { action: "star-code re-bind (hot-desking)", detail: `${mac} -> 202 (was 201)` });
  // In approval mode a re-binding is a request like any binding: nothing moves yet.
  await api("PATCH", `/sites/${site.id}`, { star_code_mode: "approval" });
  const req = await relay("bind", { mac, extension: "201" });
  assert.equal(req.status, 202);
  assert.equal(await bound(), "202");
  const list = await (await api("GET", `/sites/${site.id}/binding-requests`)).json();
  assert.deepEqual(list.map((r) => [r.mac, r.extension]), [[mac, "201"]]);
  // Turned off again, the edge wins over a relay whose snapshot still says on.
  await api("PATCH", `/sites/${site.id}`, { hot_desking: false, star_code_mode: "pin" });
  assert.equal((await relay("bind", { mac, extension: "201", pin: true })).status, 409);
  assert.equal(await bound(), "202");
});

test("star-code mode: new sites want the PIN; in approval mode a binding waits for the admin, who approves or refuses it", async () => {
  // Safe by default: a new site wants the PIN, and tells an older relay so through the flag.
  const site = await (await api("POST", "/sites", { name: "Approval office", pbx_host: "pbx.appr.example", star_code_pattern: "*123*" })).json();
  assert.equal(site.star_code_mode, "pin");
  assert.equal(site.star_code_pin, true);
  // A site from before the setting (no mode, no PIN) keeps its behaviour: shown as not chosen.
  await db.prepare("UPDATE sites SET star_code_mode = NULL, star_code_pin = 0 WHERE id = ?1").bind(site.id).run();
  assert.equal((await (await api("GET", `/sites/${site.id}`)).json()).star_code_mode, null);
  for (const bad of ["PIN", "none", 1, true]) {
    const res = await api("PATCH", `/sites/${site.id}`, { star_code_mode: bad });
    assert.equal(res.status, 400, String(bad));
    assert.equal((await res.json()).field, "star_code_mode");
  }
  const open = await (await api("PATCH", `/sites/${site.id}`, { star_code_mode: "open" })).json();
  assert.deepEqual([open.star_code_mode, open.star_code_pin], ["open", false]);
  const appr = await (await api("PATCH", `/sites/${site.id}`, { star_code_mode: "approval" })).json();
  assert.deepEqual([appr.star_code_mode, appr.star_code_pin], ["approval", true], "an older relay asks for the PIN");

  await api("POST", `/sites/${site.id}/users`, { extension: "210", sip_password: "Appr-Vq9-kL2m-Zt7x", display_name: "Ada" });
  const { relay_token } = await (await api("POST", `/sites/${site.id}/relay-token`)).json();
  const relay = (method, p, body) =>
    mf.dispatchFetch(`https://edge.example.com/relay/v1/${p}`, {
      method,
      headers: { Authorization: `Bearer ${relay_token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const macs = ["001565998000", "001565998001"];
  assert.equal((await relay("POST", "discovered", { phones: macs.map((mac) => ({ mac, via: "pnp", confirmed: true })) })).status, 200);
  // The attack the mode stops: a dialled code binds nothing by itself.
  for (const mac of macs) {
    const res = await relay("POST", "bind", { mac, extension: "210" });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { mac, extension: "210", status: "awaiting_approval" });
  }
  const phone = async (mac) => (await api("GET", `/sites/${site.id}/phones/${mac}`)).json();
  assert.equal((await phone(macs[0])).user_extension, null, "bound without approval");
  const snap = await (await snapshot(relay_token)).json();
  assert.ok(snap.phones.filter((p) => macs.includes(p.mac)).every((p) => p.user_extension === null), "the snapshot binds it");
  const list = await (await api("GET", `/sites/${site.id}/binding-requests`)).json();
  assert.deepEqual(list.map((r) => [r.mac, r.extension, r.display_name]), macs.map((m) => [m, "210", "Ada"]));

  // The attack: the phone dials again for another extension while the admin looks at the
  // list; approving what was shown binds nothing (409), and the new request stays.
  await api("POST", `/sites/${site.id}/users`, { extension: "299", sip_password: "Boss-Vq9-kL2m-Zt7x", display_name: "Boss" });
  const shown = list[0];
  assert.equal((await relay("POST", "bind", { mac: macs[0], extension: "299" })).status, 202);
  const stale = await api("POST", `/sites/${site.id}/binding-requests/${macs[0]}/approve`, { extension: shown.extension, requested_at: shown.requested_at });
  assert.equal(stale.status, 409);
  assert.equal((await stale.json()).field, "extension");
  assert.equal((await phone(macs[0])).user_extension, null, "bound to what nobody saw");
  assert.equal((await api("POST", `/sites/${site.id}/binding-requests/${macs[0]}/approve`)).status, 400, "approve names what it approves");
  const now = (await (await api("GET", `/sites/${site.id}/binding-requests`)).json()).find((r) => r.mac === macs[0]);
  assert.equal(now.extension, "299");
  // The phone asks for 210 again; the admin approves what the list shows now.
  assert.equal((await relay("POST", "bind", { mac: macs[0], extension: "210" })).status, 202);
  const again = (await (await api("GET", `/sites/${site.id}/binding-requests`)).json()).find((r) => r.mac === macs[0]);
  // Approve the first: bound, a reboot queued for the relay, the request gone.
  const ok = await api("POST", `/sites/${site.id}/binding-requests/${macs[0]}/approve`, { extension: again.extension, requested_at: again.requested_at });
  assert.equal(ok.status, 200);
  assert.equal((await phone(macs[0])).user_extension, "210");
  const actions = await (await api("GET", `/sites/${site.id}/actions`)).json();
  assert.deepEqual(actions.map((a) => [a.mac, a.action, a.status]), [[macs[0], "reboot", "pending"]]);
  // Refuse the second: nothing bound, the request gone.
  assert.equal((await api("DELETE", `/sites/${site.id}/binding-requests/${macs[1]}`)).status, 204);
  assert.equal((await phone(macs[1])).user_extension, null);
  assert.deepEqual(await (await api("GET", `/sites/${site.id}/binding-requests`)).json(), []);
  assert.equal((await api("POST", `/sites/${site.id}/binding-requests/${macs[1]}/approve`, { extension: "210", requested_at: 0 })).status, 404);
  const audit = await db.prepare("SELECT action FROM audit_log WHERE action LIKE '%star-code bind%' AND detail LIKE '00156599800%' ORDER BY id").all();
  assert.deepEqual(audit.results.map((r) => r.action), [
    "star-code bind requested", "star-code bind requested", "star-code bind requested", "star-code bind requested",
    "approve star-code bind", "refuse star-code bind",
  ]);
});

test("pnp_url: the snapshot carries each served phone's edge URL only in edge mode, and that URL serves the phone", async () => {
  const site = await newSite("PnP URL office");
  for (const [ext, pw] of [["601", "Edge-Vq9-kL2m-Zt7x"], ["602", "Edge-Kp3-wQ8y-Nn5u"], ["603", "Edge-Hq2-vP9x-Lm4t"], ["604", "Edge-Zr8w-Xs7v-Pw4r"]]) {
    await api("POST", `/sites/${site.id}/users`, { extension: ext, sip_password: pw });
  }
  const add = async (body) => (await (await api("POST", `/sites/${site.id}/phones`, body)).json()).id;
  const ids = {
    "001565600001": await add({ mac: "001565600001", model: "T46S", user_extension: "601" }), // served at the edge
    "001565600002": await add({ mac: "001565600002" }), // unbound: no config at the edge
    "001565600003": await add({ mac: "001565600003", user_extension: "602" }), // HTTP Basic: a fresh phone cannot answer
    "001565600004": await add({ mac: "001565600004", user_extension: "603" }), // window closed unused
    "000413600005": await add({ mac: "000413600005", user_extension: "604" }), // a Snom, served too
  };
  assert.equal((await api("PATCH", `/sites/${site.id}/phones/001565600003`, { http_user: "desk", http_password: "Zt7x-Pw4r-Vq9k" })).status, 200);
  await db.prepare("UPDATE phones SET assigned_at = 0 WHERE mac = '001565600004'").run();

  // Relay mode (the default): the setting is in the snapshot, no phone has an edge URL.
  const first = await snapshot(site.token);
  const etag = first.headers.get("etag");
  const relayMode = await first.json();
  assert.equal(relayMode.site.pnp_url, "relay");
  assert.equal(relayMode.phones.length, 5);
  assert.ok(relayMode.phones.every((p) => !("edge_url" in p)), JSON.stringify(relayMode.phones));

  // Edge mode: a new snapshot (new ETag) with the URL of each phone the edge serves.
  assert.equal((await api("PATCH", `/sites/${site.id}`, { pnp_url: "edge" })).status, 200);
  assert.equal((await snapshot(site.token, etag)).status, 200, "the setting changes the ETag");
  const res = await snapshot(site.token);
  const edgeEtag = res.headers.get("etag");
  const edgeMode = await res.json();
  assert.equal(edgeMode.site.pnp_url, "edge");
  const urls = Object.fromEntries(edgeMode.phones.map((p) => [p.mac, p.edge_url]));
  assert.deepEqual(urls, {
    "001565600001": `https://edge.example.com/p/${steadyToken(ids["001565600001"])}`,
    "001565600002": undefined,
    "001565600003": undefined,
    "001565600004": undefined,
    "000413600005": `https://edge.example.com/p/${steadyToken(ids["000413600005"])}`,
  });
  assert.equal((await snapshot(site.token, edgeEtag)).status, 304, "stable while nothing changes");

  // The URL serves the phone's config, as the phone asks for it, and the config keeps it there.
  const ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:60:00:01";
  const fetchCfg = (base) => mf.dispatchFetch(`${base}/001565600001.cfg`, { headers: { "User-Agent": ua, "CF-Connecting-IP": "198.51.100.7" } });
  const served = await fetchCfg(urls["001565600001"]);
  assert.equal(served.status, 200);
  const cfg = await served.text();
  assert.match(cfg, /account\.1\.password = Edge-Vq9-kL2m-Zt7x\n/);
  assert.ok(cfg.includes(`static.auto_provision.server.url = ${urls["001565600001"]}`), cfg);
  const snom = await mf.dispatchFetch(`${urls["000413600005"]}/000413600005.xml`, {
    headers: { "User-Agent": "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413600005 SXM:0 UXM:0)", "CF-Connecting-IP": "198.51.100.7" },
  });
  assert.equal(snom.status, 200);
  assert.match(await snom.text(), /Edge-Zr8w-Xs7v-Pw4r/);

  // Rotating the phone's token changes its URL, and so the snapshot; the old URL is dead.
  const rotated = await api("POST", `/sites/${site.id}/phones/001565600001/rotate-token`);
  assert.equal(rotated.status, 201);
  const after = await snapshot(site.token, edgeEtag);
  assert.equal(after.status, 200, "rotation changes the ETag");
  const newUrl = (await after.json()).phones.find((p) => p.mac === "001565600001").edge_url;
  assert.equal(newUrl, `https://edge.example.com/p/${steadyToken(ids["001565600001"], 1)}`);
  assert.equal((await fetchCfg(urls["001565600001"])).status, 404, "the old URL stops working");
  assert.equal((await fetchCfg(newUrl)).status, 200);

  // Back to relay mode: the edge URLs leave the snapshot.
  assert.equal((await api("PATCH", `/sites/${site.id}`, { pnp_url: "relay" })).status, 200);
  const back = await (await snapshot(site.token)).json();
  assert.equal(back.site.pnp_url, "relay");
  assert.ok(back.phones.every((p) => !("edge_url" in p)));
});
