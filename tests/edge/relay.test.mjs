// The relay sync API under real workerd: only the site's relay token reads the snapshot;
// an unchanged site answers 304 to its ETag; any change gives a new ETag.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, ADMIN_TOKEN } from "./harness.mjs";

let mf;
before(async () => ({ mf } = await start()));
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
