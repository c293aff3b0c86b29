// Firmware through the admin API under real workerd: uploads stream into R2 under the
// engine's extension and quota rules (small quotas set through Worker variables), each
// vendor's phone finds its image in its config and downloads it whole and by range, edits
// are validated, deletes remove row and blob, and no refused upload leaves anything behind.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import net from "node:net";
import { start, seedSite, seedPhone, ADMIN_TOKEN } from "./harness.mjs";

const MB = 1024 * 1024;
const MB09 = Math.floor(0.9 * MB);
const ORIGIN = "https://edge.example.com";

// One image per vendor, named as its phones load them; Grandstream phones append a fixed
// name (gxp2170fw.bin) to the P192 directory.
const PHONES = [
  { vendor: "yealink", id: "fw-yea", mac: "001565aabbcc", model: "T46S", file: "001565aabbcc.cfg",
    ua: "Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc", image: "T46S-66.86.0.16.rom", version: "66.86.0.16" },
  { vendor: "snom", id: "fw-snom", mac: "000413aabbcc", model: "D785", file: "000413AABBCC.xml",
    ua: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413AABBCC SXM:0 UXM:0)",
    image: "snomD785-10.1.46.16-SIP-r.bin", version: "10.1.46.16" },
  { vendor: "fanvil", id: "fw-fan", mac: "0c383eaabbcc", model: "X4", file: "0c383eaabbcc.cfg",
    ua: "Fanvil X4 2.10.2.6887 0c383eaabbcc", image: "x4-2.12.1.z", version: "2.12.1" },
  { vendor: "grandstream", id: "fw-gs", mac: "000b82aabbcc", model: "GXP2170", file: "cfg000b82aabbcc.xml",
    ua: "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b82aabbcc", image: "gxp2170fw.bin", version: "1.0.11.64" },
  { vendor: "htek", id: "fw-htek", mac: "001fc1aabbcc", model: "UC926", file: "001fc1aabbcc.cfg",
    ua: "Htek UC926 2.0.4.4.66 00:1f:c1:aa:bb:cc", image: "uc926-2.42.6.5.rom", version: "2.42.6.5" },
];

let mf, db, bucket;
const tokens = {};
before(async () => {
  ({ mf, db } = await start({ bindings: { FIRMWARE_MAX_FILE_MB: "1", FIRMWARE_MAX_TOTAL_MB: "2" } }));
  bucket = await mf.getR2Bucket("FIRMWARE");
  await seedSite(db, { id: "site1" });
  await seedSite(db, { id: "site2" });
  await seedSite(db, { id: "quota" });
  await seedSite(db, { id: "short" });
  for (const p of PHONES) tokens[p.id] = await seedPhone(db, { ...p });
});
after(async () => mf?.dispose());

const bytes = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
const hash = (b) => createHash("sha256").update(b).digest("hex");
const auth = (token = ADMIN_TOKEN) => (token === null ? {} : { Authorization: `Bearer ${token}` });

// miniflare's dispatchFetch forwards every body as a stream, which goes out chunked; the
// Content-Length a browser sends with a File body is set here explicitly.
const length = (body) => (body?.byteLength !== undefined ? { "Content-Length": String(body.byteLength) } : {});

function upload(site, params, body, { token, headers = {} } = {}) {
  const q = new URLSearchParams(params).toString();
  return mf.dispatchFetch(`${ORIGIN}/api/sites/${site}/firmware?${q}`, {
    method: "POST",
    headers: { ...auth(token), "Content-Type": "application/octet-stream", ...length(body), ...headers },
    body,
    duplex: "half", // for streamed bodies
  });
}
const api = (method, path, body, token) =>
  mf.dispatchFetch(`${ORIGIN}/api${path}`, {
    method,
    headers: { ...auth(token), "Content-Type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
const phoneGet = (path, ua, headers = {}) => mf.dispatchFetch(`${ORIGIN}${path}`, { headers: { "User-Agent": ua, ...headers } });

async function keys() {
  const l = await bucket.list();
  return l.objects.map((o) => o.key).sort();
}
async function rowCount(site) {
  return (await db.prepare("SELECT COUNT(*) AS n FROM firmware WHERE site_id = ?1").bind(site).first()).n;
}
// Asserts a 400-ish JSON refusal naming `field`, and returns its message.
async function refused(res, status, field, what) {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: ${text}`);
  const j = JSON.parse(text);
  assert.equal(j.field, field, `${what}: ${text}`);
  return j.error;
}

// The firmware URL a phone's config points at (Grandstream: the P192 directory plus the
// name the phone appends).
function firmwareUrl(p, cfg, token2) {
  if (p.vendor === "grandstream") {
    const dir = cfg.match(/<P192>([^<]*)<\/P192>/)?.[1];
    assert.equal(dir, `edge.example.com/p/${token2}/firmware/grandstream`, cfg);
    assert.match(cfg, /<P212>2<\/P212>/, "firmware over HTTPS");
    return `https://${dir}/${p.image}`;
  }
  if (p.vendor === "htek") {
    // Htek: P192 is the firmware folder (wazo `<server>/firmware`); the phone appends its name.
    const dir = cfg.match(/<P192 para="[^"]*">([^<]*)<\/P192>/)?.[1];
    assert.equal(dir, `${ORIGIN}/p/${token2}/firmware/htek`, cfg);
    return `${dir}/${p.image}`;
  }
  const url = `${ORIGIN}/p/${token2}/firmware/${p.vendor}/${p.image}`;
  assert.ok(cfg.includes(url), `${p.vendor} config names ${url}:\n${cfg}`);
  return url;
}

const images = {};
test("each vendor: upload, the phone finds the image in its config, downloads it whole and by range", async () => {
  for (const [i, p] of PHONES.entries()) {
    const img = bytes(150_000 + i * 1000, i + 1);
    images[p.vendor] = img;
    const res = await upload("site1", { vendor: p.vendor, model: p.model, version: p.version, file_name: p.image, notes: `for the ${p.model}` }, img);
    const text = await res.text();
    assert.equal(res.status, 201, `${p.vendor}: ${text}`);
    const row = JSON.parse(text);
    assert.equal(row.vendor, p.vendor);
    assert.equal(row.file_name, p.image);
    assert.equal(row.size, img.length);
    assert.equal(row.sha256, hash(img), "the SHA-256 of what was stored");
    assert.equal(row.path, `firmware/${p.vendor}/${p.image}`);
    assert.ok(!("r2_key" in row), "the storage key stays inside");
    const stored = await db.prepare("SELECT r2_key, size, sha256, notes FROM firmware WHERE id = ?1").bind(row.id).first();
    assert.ok(stored.r2_key.startsWith(`site1/${p.vendor}/`), stored.r2_key);
    assert.ok(!stored.r2_key.includes(p.image), "the R2 key is not derived from the file name");
    assert.equal(stored.notes, `for the ${p.model}`);
    const obj = await bucket.get(stored.r2_key);
    assert.equal(hash(new Uint8Array(await obj.arrayBuffer())), hash(img));

    const t = tokens[p.id];
    const cfgRes = await phoneGet(`/p/${t.token2}/${p.file}`, p.ua);
    const cfg = await cfgRes.text();
    assert.equal(cfgRes.status, 200, cfg);
    const url = new URL(firmwareUrl(p, cfg, t.token2));
    const whole = await phoneGet(url.pathname, p.ua);
    assert.equal(whole.status, 200, `${p.vendor} download`);
    assert.equal(Number(whole.headers.get("content-length")), img.length);
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), img, `${p.vendor}: byte for byte`);
    const part = await phoneGet(url.pathname, p.ua, { Range: "bytes=100000-100999" });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 100000-100999/${img.length}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), img.subarray(100000, 101000));
  }
  const audit = await db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'upload' AND entity = 'firmware'").first();
  assert.equal(audit.n, PHONES.length);
});

test("the list shows rows, quota usage and each vendor's extensions", async () => {
  const res = await api("GET", "/sites/site1/firmware");
  assert.equal(res.status, 200);
  const l = await res.json();
  assert.equal(l.firmware.length, PHONES.length);
  assert.equal(l.used_bytes, Object.values(images).reduce((s, b) => s + b.length, 0));
  assert.equal(l.max_file_bytes, 1 * MB, "FIRMWARE_MAX_FILE_MB");
  assert.equal(l.max_total_bytes, 2 * MB, "FIRMWARE_MAX_TOTAL_MB");
  assert.deepEqual(l.extensions, {
    yealink: [".rom", ".bin"], snom: [".bin", ".fw", ".fwu"], fanvil: [".z", ".bin"], grandstream: [".bin"], htek: [".rom", ".bin"],
  });
  assert.ok(!JSON.stringify(l).includes("r2_key"));
  assert.equal((await api("GET", "/sites/nope/firmware")).status, 404);
});

test("refused uploads name the field, say why, and store nothing", async () => {
  const before = await keys();
  const small = bytes(1000);
  const ok = { vendor: "yealink", version: "1.0", file_name: "a.rom" };
  const cases = [
    [{ ...ok, file_name: "a.zip" }, "file_name", /Yealink firmware must end in \.rom or \.bin/],
    [{ ...ok, vendor: "fanvil", file_name: "a.rom" }, "file_name", /Fanvil firmware must end in \.z or \.bin/],
    [{ ...ok, vendor: "grandstream", file_name: "a.rom" }, "file_name", /Grandstream firmware must end in \.bin/],
    [{ ...ok, file_name: "../a.rom" }, "file_name", /not accepted/],
    [{ ...ok, file_name: ".a.rom" }, "file_name", /not accepted/],
    [{ ...ok, vendor: "acme" }, "vendor", /./],
    [{ ...ok, vendor: "ale", file_name: "a.bin" }, "vendor", /not provisioned here/],
    [{ vendor: "yealink", file_name: "a.rom" }, "version", /missing/],
    [{ version: "1", file_name: "a.rom" }, "vendor", /missing/],
    [{ vendor: "yealink", version: "1" }, "file_name", /missing/],
    [{ ...ok, version: "1 0" }, "version", /no spaces/],
    [{ ...ok, model: " T46S" }, "model", /space/],
    [{ ...ok, notes: "a\u0007b" }, "notes", /control/],
    [{ ...ok, sha256: "abc" }, "sha256", /64 hex digits/],
    [{ ...ok, size: "5" }, "size", /unknown parameter/],
  ];
  for (const [params, field, msg] of cases) {
    const m = await refused(await upload("site1", params, small), 400, field, JSON.stringify(params));
    assert.match(m, msg, JSON.stringify(params));
  }
  // The same parameter twice is ambiguous.
  const twice = await mf.dispatchFetch(`${ORIGIN}/api/sites/site1/firmware?vendor=yealink&version=1&file_name=a.rom&file_name=b.rom`, {
    method: "POST", headers: { ...auth(), ...length(small) }, body: small,
  });
  await refused(twice, 400, "file_name", "file_name twice");
  // An empty body.
  assert.match(await refused(await upload("site1", ok, new Uint8Array(0)), 400, "size", "empty"), /empty/);
  // An unknown site.
  assert.equal((await upload("nope", ok, small)).status, 404);
  assert.deepEqual(await keys(), before, "no blob");
  assert.equal(await rowCount("site1"), PHONES.length, "no row");
});

test("Content-Length is required", async () => {
  // A streamed body goes out chunked, without a Content-Length.
  const body = new ReadableStream({
    start(c) {
      c.enqueue(bytes(1000));
      c.close();
    },
  });
  const res = await upload("quota", { vendor: "yealink", version: "1", file_name: "chunked.rom" }, body, { headers: {} });
  const m = await refused(res, 411, "Content-Length", "chunked");
  assert.match(m, /Content-Length is required/);
  assert.equal(await rowCount("quota"), 0);
});

test("per-file limit and site quota (re-uploads do not count twice); nothing stored when refused", async () => {
  const before = await keys();
  const over = await upload("quota", { vendor: "yealink", version: "1", file_name: "big.rom" }, bytes(MB + 1));
  assert.match(await refused(over, 400, "size", "over 1 MB"), /the file is 1\.1 MB; the limit is 1 MB per file/);
  assert.deepEqual(await keys(), before, "no blob after a refused upload");

  const a = await upload("quota", { vendor: "yealink", version: "1", file_name: "a.rom" }, bytes(MB09, 1));
  assert.equal(a.status, 201);
  const b = await upload("quota", { vendor: "snom", version: "1", file_name: "b.bin" }, bytes(MB09, 2));
  assert.equal(b.status, 201);
  // 1.8 MB used of 2: a third file of 0.3 MB does not fit.
  const c = await upload("quota", { vendor: "htek", version: "1", file_name: "c.rom" }, bytes(Math.floor(0.3 * MB)));
  assert.match(await refused(c, 400, "size", "over quota"), /would use 2\.1 MB of the 2 MB quota \(1\.8 MB already used\)/);
  // Replacing a.rom with a 1 MB image: 0.9 + 1.0 fits; counting the old one too would not.
  const keysBefore = await keys();
  const oldA = await a.json();
  const newImg = bytes(MB, 9);
  const re = await upload("quota", { vendor: "yealink", version: "2", file_name: "a.rom" }, newImg);
  const reText = await re.text();
  assert.equal(re.status, 201, reText);
  const newA = JSON.parse(reText);
  assert.equal(newA.sha256, hash(newImg));
  const rows = await db.prepare("SELECT id, version, r2_key FROM firmware WHERE site_id = 'quota' AND file_name = 'a.rom'").all();
  assert.equal(rows.results.length, 1, "one row per vendor and file name");
  assert.equal(rows.results[0].version, "2");
  const after = await keys();
  assert.equal(after.length, keysBefore.length, "the old blob went with its row");
  assert.ok(after.includes(rows.results[0].r2_key));
  assert.notEqual(oldA.id, newA.id);
  const list = await (await api("GET", "/sites/quota/firmware")).json();
  assert.equal(list.used_bytes, MB09 + MB);
  const audit = await db.prepare("SELECT action FROM audit_log WHERE entity_id = ?1").bind(oldA.id).all();
  assert.deepEqual(audit.results.map((r) => r.action), ["upload", "replace"]);
});

test("re-uploading a vendor's image: the phone gets the new bytes", async () => {
  const p = PHONES[0];
  const img = bytes(120_000, 42);
  const res = await upload("site1", { vendor: p.vendor, model: p.model, version: p.version, file_name: p.image }, img);
  assert.equal(res.status, 201);
  const got = await phoneGet(`/p/${tokens[p.id].token2}/firmware/${p.vendor}/${p.image}`, p.ua);
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), img);
  images[p.vendor] = img;
  assert.equal(await rowCount("site1"), PHONES.length);
});

test("a client's sha256 is checked: a mismatch stores nothing, a match is recorded", async () => {
  const before = await keys();
  const img = bytes(5000, 3);
  const bad = await upload("quota", { vendor: "htek", version: "1", file_name: "s.rom", sha256: hash(bytes(5000, 4)) }, img);
  assert.match(await refused(bad, 400, "sha256", "sha mismatch"), new RegExp(`SHA-256 is ${hash(img)}, not the sha256 given`));
  assert.deepEqual(await keys(), before, "no blob");
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM firmware WHERE file_name = 's.rom'").first()).n, 0, "no row");
  const good = await upload("quota", { vendor: "htek", version: "1", file_name: "s.rom", sha256: hash(img).toUpperCase() }, img);
  assert.equal(good.status, 201);
  assert.equal((await good.json()).sha256, hash(img));
});

// Sends a raw HTTP request and returns whatever came back before the connection closed.
function rawRequest(port, head, body) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.write(head);
      s.end(body); // half-close: the server sees the end of the body here
    });
    const chunks = [];
    s.on("data", (d) => chunks.push(d));
    s.on("error", () => {});
    s.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

test("a body shorter than its Content-Length leaves no row and no blob", async () => {
  const url = await mf.ready;
  const before = await keys();
  const sent = bytes(50_000);
  const head =
    `POST /api/sites/short/firmware?vendor=fanvil&version=1&file_name=short.z HTTP/1.1\r\n` +
    `Host: edge.example.com\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n`;
  const answer = await rawRequest(Number(url.port), head, sent);
  assert.match(answer, /^HTTP\/1\.1 400 /, answer);
  assert.match(answer, /"field":"body"/, answer);
  assert.match(answer, /the body ended before the 100000 bytes of its Content-Length arrived/, answer);
  assert.deepEqual(await keys(), before, "no blob");
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM firmware WHERE file_name = 'short.z'").first()).n, 0, "no row");
  // The same request, whole, is stored: the refusal above was about the body.
  const whole = await rawRequest(Number(url.port), head, bytes(100_000));
  assert.match(whole, /^HTTP\/1\.1 201/, whole);
});

test("PATCH edits model, version and notes under the engine's rules", async () => {
  const p = PHONES[1];
  const { id } = (await db.prepare("SELECT id FROM firmware WHERE site_id = 'site1' AND vendor = ?1").bind(p.vendor).first());
  const cases = [
    [{ version: "" }, "version"],
    [{ version: "1 2" }, "version"],
    [{ model: "D785 " }, "model"],
    [{ model: "D785;rm" }, "model"],
    [{ notes: "x".repeat(2001) }, "notes"],
    [{ file_name: "other.bin" }, "file_name"],
    [{ size: 1 }, "size"],
    [{}, "body"],
    ["not json", "body"],
  ];
  for (const [body, field] of cases) {
    await refused(await api("PATCH", `/sites/site1/firmware/${id}`, body), 400, field, JSON.stringify(body));
  }
  const res = await api("PATCH", `/sites/site1/firmware/${id}`, { version: "10.1.46.17", notes: "tested on 3 desks" });
  assert.equal(res.status, 200);
  const row = await res.json();
  assert.equal(row.version, "10.1.46.17");
  assert.equal(row.notes, "tested on 3 desks");
  assert.equal(row.model, p.model, "untouched fields stay");
  const stored = await db.prepare("SELECT version, notes, model FROM firmware WHERE id = ?1").bind(id).first();
  assert.deepEqual({ ...stored }, { version: "10.1.46.17", notes: "tested on 3 desks", model: p.model });
  const audit = await db.prepare("SELECT action FROM audit_log WHERE entity_id = ?1 ORDER BY id").bind(id).all();
  assert.deepEqual(audit.results.map((r) => r.action), ["upload", "update"]);
  assert.equal((await api("PATCH", "/sites/site1/firmware/fw-unknown", { notes: "x" })).status, 404);
});

test("another site's firmware is 404 to PATCH, DELETE and the list", async () => {
  const res = await upload("site2", { vendor: "yealink", version: "1", file_name: "site2.rom" }, bytes(2000));
  assert.equal(res.status, 201);
  const { id } = await res.json();
  for (const [m, body] of [["PATCH", { notes: "x" }], ["DELETE"]]) {
    const r = await api(m, `/sites/site1/firmware/${id}`, body);
    assert.equal(r.status, 404, m);
    assert.equal((await r.json()).error, "no such firmware");
  }
  const list = await (await api("GET", "/sites/site1/firmware")).json();
  assert.ok(!list.firmware.some((f) => f.id === id));
  const row = await db.prepare("SELECT notes FROM firmware WHERE id = ?1").bind(id).first();
  assert.equal(row.notes, "", "untouched");
});

test("DELETE removes row and blob; the phone then gets the same 404 as for any unknown file", async () => {
  const p = PHONES[2];
  const t = tokens[p.id];
  const { id, r2_key } = await db.prepare("SELECT id, r2_key FROM firmware WHERE site_id = 'site1' AND vendor = ?1").bind(p.vendor).first();
  const path = `/p/${t.token2}/firmware/${p.vendor}/${p.image}`;
  assert.equal((await phoneGet(path, p.ua)).status, 200);
  const res = await api("DELETE", `/sites/site1/firmware/${id}`);
  assert.equal(res.status, 204);
  assert.equal(await db.prepare("SELECT id FROM firmware WHERE id = ?1").bind(id).first(), null, "row gone");
  assert.equal(await bucket.head(r2_key), null, "blob gone");
  const gone = await phoneGet(path, p.ua);
  const unknown = await phoneGet(`/p/${t.token2}/firmware/${p.vendor}/never-uploaded.z`, p.ua);
  assert.equal(gone.status, 404);
  assert.equal(await gone.text(), await unknown.text());
  assert.equal(gone.headers.get("content-type"), unknown.headers.get("content-type"));
  const cfg = await (await phoneGet(`/p/${t.token2}/${p.file}`, p.ua)).text();
  assert.ok(!cfg.includes(p.image), "the config no longer points at it");
  const audit = await db.prepare("SELECT action FROM audit_log WHERE entity_id = ?1 ORDER BY id").bind(id).all();
  assert.deepEqual(audit.results.map((r) => r.action), ["upload", "delete"]);
  assert.equal((await api("DELETE", `/sites/site1/firmware/${id}`)).status, 404, "twice");
});

test("every firmware endpoint refuses a missing or wrong bearer token", async () => {
  const { id } = await db.prepare("SELECT id FROM firmware WHERE site_id = 'site1' LIMIT 1").first();
  const before = { keys: await keys(), rows: await rowCount("site1"), audit: (await db.prepare("SELECT COUNT(*) AS n FROM audit_log").first()).n };
  for (const token of [null, "", "wrong", ADMIN_TOKEN.slice(0, -1), ADMIN_TOKEN + "x", tokens["fw-yea"].token2]) {
    const calls = [
      upload("site1", { vendor: "yealink", version: "1", file_name: "x.rom" }, bytes(100), { token }),
      api("GET", "/sites/site1/firmware", undefined, token),
      api("PATCH", `/sites/site1/firmware/${id}`, { notes: "x" }, token),
      api("DELETE", `/sites/site1/firmware/${id}`, undefined, token),
      replaceFile("site1", id, { file_name: "x.rom" }, bytes(100), token),
    ];
    for (const res of await Promise.all(calls)) {
      assert.equal(res.status, 401, `${res.url} with ${JSON.stringify(token)}`);
      assert.equal((await res.json()).error, "missing or wrong bearer token");
    }
  }
  assert.deepEqual(await keys(), before.keys);
  assert.equal(await rowCount("site1"), before.rows);
  assert.equal((await db.prepare("SELECT COUNT(*) AS n FROM audit_log").first()).n, before.audit);
});

// Issue 16: Edit can replace the file, as MikoPBX's firmware Edit does.
function replaceFile(site, id, params, body, token) {
  const q = new URLSearchParams(params).toString();
  return mf.dispatchFetch(`${ORIGIN}/api/sites/${site}/firmware/${id}?${q}`, {
    method: "PUT",
    headers: { ...auth(token), "Content-Type": "application/octet-stream", ...length(body) },
    body,
    duplex: "half",
  });
}

test("PUT replaces an image's file: same row, new name, size, SHA-256 and version; the old object goes; the phone gets the new one", async () => {
  const p = PHONES[4];
  const t = tokens[p.id];
  const old = await db.prepare("SELECT * FROM firmware WHERE site_id = 'site1' AND vendor = ?1").bind(p.vendor).first();
  const img = bytes(90_000, 16);
  const name = "uc926-2.42.6.6.rom";
  const before = { keys: await keys(), rows: await rowCount("site1") };
  // Refused as an upload would be, naming the field; nothing changes.
  const cases = [
    [{ file_name: "uc926.txt" }, 400, "file_name"],
    [{ file_name: name, vendor: "snom" }, 400, "vendor"],
    [{ file_name: name, version: "1 2" }, 400, "version"],
    [{ file_name: name, sha256: "0".repeat(64) }, 400, "sha256"],
    [{ version: "2" }, 400, "file_name"],
  ];
  for (const [params, status, field] of cases) {
    await refused(await replaceFile("site1", old.id, params, img), status, field, JSON.stringify(params));
  }
  assert.equal((await replaceFile("site1", "fw-unknown", { file_name: name }, img)).status, 404);
  const other = await db.prepare("SELECT id FROM firmware WHERE site_id = 'site2'").first();
  assert.equal((await replaceFile("site1", other.id, { file_name: name }, img)).status, 404, "another site's image");
  assert.deepEqual(await keys(), before.keys, "no object left by a refusal");
  assert.deepEqual({ ...(await db.prepare("SELECT * FROM firmware WHERE id = ?1").bind(old.id).first()) }, { ...old });

  const res = await replaceFile("site1", old.id, { file_name: name, version: "2.42.6.6", sha256: hash(img) }, img);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const row = JSON.parse(text);
  assert.equal(row.id, old.id, "the row keeps its id");
  assert.deepEqual([row.file_name, row.size, row.sha256, row.version], [name, img.length, hash(img), "2.42.6.6"]);
  assert.deepEqual([row.model, row.notes], [old.model, old.notes], "not given: kept");
  const stored = await db.prepare("SELECT r2_key, size FROM firmware WHERE id = ?1").bind(old.id).first();
  assert.notEqual(stored.r2_key, old.r2_key);
  assert.equal(await bucket.head(old.r2_key), null, "the old object is deleted");
  assert.equal(hash(new Uint8Array(await (await bucket.get(stored.r2_key)).arrayBuffer())), hash(img));
  assert.equal(await rowCount("site1"), before.rows, "replaced, not added");
  assert.equal((await keys()).length, before.keys.length);
  // The phone's config names the new file, which downloads byte for byte; the old name is gone.
  const cfg = await (await phoneGet(`/p/${t.token2}/${p.file}`, p.ua)).text();
  assert.match(cfg, new RegExp(`<P192 para="[^"]*">${ORIGIN}/p/${t.token2}/firmware/htek</P192>`));
  const got = await phoneGet(`/p/${t.token2}/firmware/${p.vendor}/${name}`, p.ua);
  assert.equal(got.status, 200);
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), img);
  assert.equal((await phoneGet(`/p/${t.token2}/firmware/${p.vendor}/${p.image}`, p.ua)).status, 404);
  const audit = await db.prepare("SELECT action FROM audit_log WHERE entity_id = ?1 ORDER BY id").bind(old.id).all();
  assert.equal(audit.results.at(-1).action, "replace file");
  // A name another image of the vendor has: 409, nothing changes.
  const second = await upload("site1", { vendor: p.vendor, version: "1", file_name: "uc926-old.rom" }, bytes(3000, 5));
  assert.equal(second.status, 201);
  const keysNow = await keys();
  await refused(await replaceFile("site1", old.id, { file_name: "uc926-old.rom" }, bytes(3000, 6)), 409, "file_name", "taken");
  assert.deepEqual(await keys(), keysNow);
  assert.equal((await db.prepare("SELECT file_name FROM firmware WHERE id = ?1").bind(old.id).first()).file_name, name);
});

test("a 20 MB image under the default quota streams into R2 intact", async (t) => {
  const big = await start(); // no quota variables: the engine's 80 MB / 300 MB
  try {
    const bdb = big.db;
    await seedSite(bdb, { id: "big" });
    const img = new Uint8Array(20 * MB);
    for (let i = 0; i < img.length; i += 4096) img[i] = (i / 4096) & 0xff;
    const t0 = performance.now();
    const res = await big.mf.dispatchFetch(`${ORIGIN}/api/sites/big/firmware?vendor=yealink&version=1&file_name=big.rom&sha256=${hash(img)}`, {
      method: "POST", headers: { ...auth(), ...length(img) }, body: img,
    });
    const ms = performance.now() - t0;
    const text = await res.text();
    assert.equal(res.status, 201, text);
    assert.equal(JSON.parse(text).sha256, hash(img));
    t.diagnostic(`20 MB upload: ${ms.toFixed(0)} ms, ${((20 / ms) * 1000).toFixed(1)} MB/s`);
    const l = await (await big.mf.getR2Bucket("FIRMWARE")).list();
    assert.equal(l.objects.length, 1);
    assert.equal(l.objects[0].size, img.length);
    const list = await (await big.mf.dispatchFetch(`${ORIGIN}/api/sites/big/firmware`, { headers: auth() })).json();
    assert.equal(list.max_file_bytes, 80 * MB);
    assert.equal(list.max_total_bytes, 300 * MB);
  } finally {
    await big.mf.dispose();
  }
});

// Attack (a race between two edits): the image is deleted while its replacement's body
// streams in. The replacement must not answer for a row that is gone nor leave its object
// in R2 with no row pointing at it. The body is held after a first large part until the
// Worker has read it (the stream is asked for more only once that part has drained), so
// the Worker has loaded the row before the delete.
test("attack: an image deleted while its replacement streams in: 409, no object left, no audit of a replace", async () => {
  const race = await start(); // the default quota, for a first part larger than any socket buffer
  try {
    await seedSite(race.db, { id: "race" });
    const rbucket = await race.mf.getR2Bucket("FIRMWARE");
    const first = await race.mf.dispatchFetch(`${ORIGIN}/api/sites/race/firmware?vendor=yealink&version=1&file_name=a.rom`, {
      method: "POST", headers: { ...auth(), ...length(bytes(1000)) }, body: bytes(1000),
    });
    assert.equal(first.status, 201, await first.clone().text());
    const { id } = await first.json();
    const part = 24 * MB;
    let pulls = 0;
    let deleted;
    const body = new ReadableStream(
      {
        async pull(c) {
          pulls += 1;
          if (pulls === 1) return c.enqueue(new Uint8Array(part));
          if (pulls === 2) {
            deleted = await race.mf.dispatchFetch(`${ORIGIN}/api/sites/race/firmware/${id}`, { method: "DELETE", headers: auth() });
            return c.enqueue(new Uint8Array(1000));
          }
          c.close();
        },
      },
      { highWaterMark: 0 },
    );
    const res = await race.mf.dispatchFetch(`${ORIGIN}/api/sites/race/firmware/${id}?file_name=b.rom`, {
      method: "PUT",
      headers: { ...auth(), "Content-Length": String(part + 1000) },
      body,
      duplex: "half",
    });
    const text = await res.text();
    assert.equal(deleted.status, 204, "the delete went through first");
    assert.equal(res.status, 409, text);
    assert.equal(JSON.parse(text).field, "id");
    assert.deepEqual((await rbucket.list()).objects, [], "no orphan object");
    assert.equal((await race.db.prepare("SELECT COUNT(*) AS n FROM firmware").first()).n, 0);
    const audit = await race.db.prepare("SELECT action FROM audit_log WHERE entity_id = ?1 ORDER BY id").bind(id).all();
    assert.deepEqual(audit.results.map((r) => r.action), ["upload", "delete"]);
  } finally {
    await race.mf.dispose();
  }
});
