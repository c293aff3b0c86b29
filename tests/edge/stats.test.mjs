// GET /api/sites/<s>/stats under real workerd: config fetches counted per hour and vendor in
// the same batch as the phone's last-seen columns, 24 hour buckets, firmware versions per
// model with the uploaded images; a firmware download is not a config fetch.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, seedSite, seedPhone, ADMIN_TOKEN, now } from "./harness.mjs";

let mf, db;
const t = {};

before(async () => {
  ({ mf, db } = await start());
  await seedSite(db);
  await seedSite(db, { id: "other" });
  t.y1 = await seedPhone(db, { id: "y1", mac: "001565000101", vendor: "yealink", model: "T46S" });
  t.y2 = await seedPhone(db, { id: "y2", mac: "001565000102", vendor: "yealink", model: "T46S" });
  t.s1 = await seedPhone(db, { id: "s1", mac: "000413000103", vendor: "snom", model: "D785" });
  t.o1 = await seedPhone(db, { site: "other", id: "o1", mac: "001565000104", vendor: "yealink", model: "T46S" });
  await db
    .prepare("INSERT INTO firmware (id, site_id, vendor, model, version, file_name, size, r2_key, created_at) VALUES ('fw1', 'site1', 'yealink', 'T46S', '66.86.0.20', 'T46S-66.86.0.20.rom', 3, 'fw/k', ?1)")
    .bind(now())
    .run();
  await mf.getR2Bucket("FIRMWARE").then((b) => b.put("fw/k", new Uint8Array([1, 2, 3])));
});
after(async () => mf?.dispose());

const fetchAs = async (tok, file, ua) => {
  const res = await mf.dispatchFetch(`https://edge.example.com/p/${tok}/${file}`, { headers: { "User-Agent": ua, "CF-Connecting-IP": "198.51.100.7" } });
  await res.arrayBuffer();
  return res.status;
};
const stats = async (site = "site1", token = ADMIN_TOKEN) => {
  const res = await mf.dispatchFetch(`https://edge.example.com/api/sites/${site}/stats`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
};

test("stats need the admin token and a known site", async () => {
  assert.equal((await stats("site1", "wrong")).status, 401);
  assert.equal((await stats("nope")).status, 404);
});

test("an empty site: 24 hour buckets ending at the current hour, no fetches", async () => {
  const { status, body } = await stats();
  assert.equal(status, 200);
  assert.equal(body.hours.length, 24);
  const hour = now() - (now() % 3600);
  assert.equal(body.hours[23], hour);
  assert.equal(body.hours[0], hour - 23 * 3600);
  assert.deepEqual(body.fetches, []);
});

test("config fetches are counted per hour and vendor; firmware groups per model", async () => {
  const yUa = (mac, fw) => `Yealink SIP-T46S ${fw} ${mac.match(/../g).join(":")}`;
  assert.equal(await fetchAs(t.y1.token1, "001565000101.cfg", yUa("001565000101", "66.86.0.15")), 200);
  assert.equal(await fetchAs(t.y1.token2, "001565000101.cfg", yUa("001565000101", "66.86.0.15")), 200);
  assert.equal(await fetchAs(t.y2.token1, "001565000102.cfg", yUa("001565000102", "66.86.0.20")), 200);
  assert.equal(await fetchAs(t.s1.token1, "000413000103.xml",
    "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413000103 SXM:0 UXM:0)"), 200);
  // Another site's fetch is not ours.
  assert.equal(await fetchAs(t.o1.token1, "001565000104.cfg", yUa("001565000104", "66.86.0.15")), 200);
  // A firmware download is not a config fetch.
  assert.equal(await fetchAs(t.y1.token2, "firmware/yealink/T46S-66.86.0.20.rom", yUa("001565000101", "66.86.0.15")), 200);
  // A refused request counts nothing.
  assert.equal(await fetchAs("0".repeat(32), "001565000101.cfg", yUa("001565000101", "66.86.0.15")), 404);

  const { body } = await stats();
  const hour = now() - (now() % 3600);
  assert.deepEqual(body.fetches, [
    { hour, vendor: "snom", count: 1 },
    { hour, vendor: "yealink", count: 3 },
  ]);
  assert.deepEqual(body.firmware, [
    { vendor: "snom", model: "D785", firmware: "10.1.33.33", phones: 1 },
    { vendor: "yealink", model: "T46S", firmware: "66.86.0.15", phones: 1 },
    { vendor: "yealink", model: "T46S", firmware: "66.86.0.20", phones: 1 },
  ]);
  assert.deepEqual(body.uploaded, [{ vendor: "yealink", model: "T46S", version: "66.86.0.20" }]);
  const other = (await stats("other")).body;
  assert.deepEqual(other.fetches, [{ hour, vendor: "yealink", count: 1 }]);
});

test("rows older than 24 hours are not shown; a deleted site takes its rows along", async () => {
  const hour = now() - (now() % 3600);
  await db.prepare("INSERT INTO fetch_stats (site_id, hour, vendor, count) VALUES ('site1', ?1, 'htek', 9), ('site1', ?2, 'fanvil', 4)")
    .bind(hour - 24 * 3600, hour - 23 * 3600).run();
  const { body } = await stats();
  assert.deepEqual(body.fetches.filter((f) => f.vendor === "htek"), []);
  assert.deepEqual(body.fetches.filter((f) => f.vendor === "fanvil"), [{ hour: hour - 23 * 3600, vendor: "fanvil", count: 4 }]);
  await db.prepare("PRAGMA foreign_keys = ON").run();
  const res = await mf.dispatchFetch("https://edge.example.com/api/sites/other", { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 204);
  const left = await db.prepare("SELECT COUNT(*) AS n FROM fetch_stats WHERE site_id = 'other'").first();
  assert.equal(left.n, 0);
});
