// Phonebook sources that fetch (issue 16 item 5), under workerd: a URL source is fetched by
// the admin worker's cron or "fetch now", its entries reach the phones' phonebook, a failed
// fetch shows its error and keeps the last good entries. The edge fetches public hosts
// only: a test server on 127.0.0.1 is reached only through PHONEBOOK_TEST_ALLOW_HOST, a
// variable production's wrangler.toml never sets, and without it the same URL is the
// relay's and the edge does not fetch it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { start, adminRequest, seedSite, seedPhone, ADMIN } from "./harness.mjs";

// The other PBX: answers what `pages` holds for the path, counts requests.
const pages = new Map();
const hits = [];
const server = http.createServer((req, res) => {
  hits.push(req.url);
  const page = pages.get(req.url);
  if (!page) {
    res.writeHead(404).end("no");
    return;
  }
  res.writeHead(page.status ?? 200, page.headers ?? { "Content-Type": "application/xml" }).end(page.body ?? "");
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const host = `127.0.0.1:${server.address().port}`;
after(() => server.close());

const allowed = await start({ bindings: { PHONEBOOK_TEST_ALLOW_HOST: host } });
const plain = await start();
after(() => allowed.mf.dispose());
after(() => plain.mf.dispose());

async function api(mf, method, path, body) {
  const r = await adminRequest(mf, method, path, body);
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

test("production never allows a LAN host to the edge", () => {
  const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
  assert.ok(!toml.includes("PHONEBOOK_TEST_ALLOW_HOST"));
});

test("a URL source is fetched by the cron and fetch now, reaches the phonebook, keeps its entries when a fetch fails", async () => {
  const { mf, db } = allowed;
  const site = await seedSite(db, { id: "pb1" });
  const t = await seedPhone(db, { site, id: "ph1", mac: "001565aabb01", vendor: "yealink" });
  const ua = "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:01";
  const book = async () => {
    const r = await mf.dispatchFetch(`https://edge.example.com/p/${t.token2}/phonebook/001565aabb01.xml`, { headers: { "User-Agent": ua } });
    assert.equal(r.status, 200);
    return r.text();
  };
  pages.set("/dir.xml", {
    body: `<?xml version="1.0"?><YealinkIPPhoneDirectory><DirectoryEntry><Name>Other PBX Ann</Name><Telephone>7001</Telephone></DirectoryEntry><DirectoryEntry><Name>Other PBX Bo</Name><Telephone>7002</Telephone></DirectoryEntry></YealinkIPPhoneDirectory>`,
  });

  // Refused at save time: credentials, a bad interval, entries beside a URL; nothing written.
  for (const [body, field] of [
    [{ name: "X", url: `http://user:s3cret@${host}/dir.xml` }, "url"],
    [{ name: "X", url: `http://${host}/dir.xml`, fetch_minutes: 5 }, "fetch_minutes"],
    [{ name: "X", url: `http://${host}/dir.xml`, entries: [{ name: "a", number: "1" }] }, "entries"],
    [{ name: "X", url: "ftp://pbx.example.com/dir.xml" }, "url"],
  ]) {
    const r = await api(mf, "POST", `/sites/${site}/phonebook-sources`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.field, field);
    assert.ok(!JSON.stringify(r.body).includes("s3cret"));
  }
  assert.equal((await api(mf, "GET", `/sites/${site}/phonebook-sources`)).body.length, 0);

  const created = await api(mf, "POST", `/sites/${site}/phonebook-sources`, { name: "Other PBX", url: `http://${host}/dir.xml` });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.fetched_by, "edge");
  assert.equal(created.body.fetch_minutes, 60);
  assert.equal(created.body.last_fetch_at, null);

  // The cron fetches it (it is due at once), and the phones see the entries.
  const ran = await (await mf.getWorker(ADMIN)).scheduled({ cron: "* * * * *" });
  assert.equal(ran.outcome, "ok");
  let s = (await api(mf, "GET", `/sites/${site}/phonebook-sources/${created.body.id}`)).body;
  assert.equal(s.last_count, 2);
  assert.equal(s.last_format, "yealink-xml");
  assert.equal(s.last_error, null);
  assert.deepEqual(s.entries.map((e) => e.number), ["7001", "7002"]);
  assert.match(await book(), /Other PBX Ann/);
  // Not due again within its interval: the next cron does not fetch it.
  const before = hits.length;
  await (await mf.getWorker(ADMIN)).scheduled({ cron: "* * * * *" });
  assert.equal(hits.length, before);

  // A failing fetch: the error is shown, the last good entries stay.
  pages.set("/dir.xml", { body: "<html>login</html>" });
  let r = await api(mf, "POST", `/sites/${site}/phonebook-sources/${created.body.id}/fetch`);
  assert.equal(r.status, 200);
  assert.match(r.body.last_error, /not a phonebook format/);
  assert.equal(r.body.entries.length, 2);
  assert.match(await book(), /Other PBX Bo/);
  const list = (await api(mf, "GET", `/sites/${site}/phonebook-sources`)).body;
  assert.equal(list[0].entries, 2);
  assert.match(list[0].last_error, /not a phonebook format/);

  // A redirect is not followed, even to a good document.
  pages.set("/dir.xml", { status: 302, headers: { Location: `http://${host}/other.xml` } });
  pages.set("/other.xml", { body: "name,number\nEvil,666\n", headers: { "Content-Type": "text/csv" } });
  r = await api(mf, "POST", `/sites/${site}/phonebook-sources/${created.body.id}/fetch`);
  assert.match(r.body.last_error, /redirect/);
  assert.ok(!hits.includes("/other.xml"), "the redirect's target is never fetched");

  // CSV now: entries replaced, the format shown.
  pages.set("/dir.xml", { body: "name,number\nCarla,7003\n", headers: { "Content-Type": "text/csv" } });
  r = await api(mf, "POST", `/sites/${site}/phonebook-sources/${created.body.id}/fetch`);
  assert.equal(r.body.last_error, null);
  assert.equal(r.body.last_format, "csv");
  const text = await book();
  assert.match(text, /Carla/);
  assert.doesNotMatch(text, /Other PBX Ann/);

  // A pasted list is not fetched.
  const listSrc = await api(mf, "POST", `/sites/${site}/phonebook-sources`, { name: "Pasted", entries: [{ name: "Z", number: "9" }] });
  assert.equal((await api(mf, "POST", `/sites/${site}/phonebook-sources/${listSrc.body.id}/fetch`)).body.field, "url");
});

test("attack: without the test variable, 127.0.0.1 is the relay's and the edge never fetches it", async () => {
  const { mf, db } = plain;
  const site = await seedSite(db, { id: "pb2" });
  pages.set("/lan.xml", { body: "name,number\nLan,100\n" });
  const before = hits.length;
  for (const url of [`http://${host}/lan.xml`, "http://localhost/x", "http://192.168.1.10/x", "http://[::1]/x", "http://pbx.lan/x"]) {
    const r = await api(mf, "POST", `/sites/${site}/phonebook-sources`, { name: url, url });
    assert.equal(r.status, 201, url);
    assert.equal(r.body.fetched_by, "relay", url);
    const f = await api(mf, "POST", `/sites/${site}/phonebook-sources/${r.body.id}/fetch`);
    assert.equal(f.status, 202, "asked of the relay");
  }
  // Even a row forced to the edge is classified again at fetch time and refused.
  await db.prepare("UPDATE phonebook_sources SET fetched_by = 'edge', next_fetch_at = 0 WHERE site_id = ?1").bind(site).run();
  // The cron works a few sources a run: enough runs for all five.
  for (let i = 0; i < 3; i++) await (await mf.getWorker(ADMIN)).scheduled({ cron: "* * * * *" });
  assert.equal(hits.length, before, "no request reached the LAN server");
  const rows = (await api(mf, "GET", `/sites/${site}/phonebook-sources`)).body;
  const refused = rows.filter((s) => s.last_error);
  assert.equal(rows.length, 5);
  assert.equal(refused.length, 5, "every one of them refused at fetch time");
  for (const s of refused) assert.match(s.last_error, /only the site's relay fetches it/);
});

test("relay endpoint: only the site's own relay-fetched sources, entries checked whole, an error keeps the entries", async () => {
  const { mf, db } = plain;
  const site = await seedSite(db, { id: "pb3" });
  const other = await seedSite(db, { id: "pb4" });
  const lan = (await api(mf, "POST", `/sites/${site}/phonebook-sources`, { name: "LAN", url: "http://10.1.2.3/pb.xml" })).body;
  const pub = (await api(mf, "POST", `/sites/${site}/phonebook-sources`, { name: "Public", url: "https://pbx.example.com/pb.xml" })).body;
  const theirs = (await api(mf, "POST", `/sites/${other}/phonebook-sources`, { name: "Theirs", url: "http://10.9.9.9/pb.xml" })).body;
  assert.equal(pub.fetched_by, "edge");
  const token = (await api(mf, "POST", `/sites/${site}/relay-token`)).body.relay_token;
  const relay = async (body) => {
    const r = await mf.dispatchFetch("https://edge.example.com/relay/v1/phonebook", {
      method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const entries = [{ name: "Ann", number: "101" }, { name: "Bo", number: "102" }];
  for (const [body, field] of [
    [{ source: pub.id, url: pub.url, format: "csv", entries }, "source"],
    [{ source: theirs.id, url: theirs.url, format: "csv", entries }, "source"],
    [{ source: lan.id, url: lan.url, format: "word", entries }, "format"],
    [{ source: lan.id, url: lan.url, format: "csv", entries: [...entries, { name: "Bad", number: "12ab" }] }, "entries[2].number"],
    [{ source: lan.id, url: lan.url, error: "x".repeat(201) }, "error"],
    [{ source: lan.id, format: "csv", entries }, "url"],
  ]) {
    const r = await relay(body);
    assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(r.body.field, field);
  }
  // Attack (a race): the administrator changed the URL while the relay fetched the old one
  // (one that served bad entries, say). The old document is not recorded as the new URL's.
  const stale = await relay({ source: lan.id, url: "http://10.1.2.3/old.xml", format: "csv", entries });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.field, "url");
  assert.equal((await api(mf, "GET", `/sites/${site}/phonebook-sources/${lan.id}`)).body.entries.length, 0, "nothing written");
  assert.equal((await relay({ source: lan.id, url: lan.url, format: "grandstream-xml", entries })).status, 200);
  assert.equal((await relay({ source: lan.id, url: lan.url, error: "10.1.2.3 answered HTTP 500" })).status, 200);
  const s = (await api(mf, "GET", `/sites/${site}/phonebook-sources/${lan.id}`)).body;
  assert.equal(s.last_error, "10.1.2.3 answered HTTP 500");
  assert.equal(s.last_format, "grandstream-xml");
  assert.deepEqual(s.entries, entries);
  // The relay's snapshot lists the LAN source only.
  const snap = await (await mf.dispatchFetch("https://edge.example.com/relay/v1/snapshot", { headers: { Authorization: `Bearer ${token}` } })).json();
  assert.deepEqual(snap.phonebook_fetch.map((x) => [x.id, x.url, x.fetch_minutes]), [[lan.id, "http://10.1.2.3/pb.xml", 60]]);
});
