// A phonebook source on a LAN address (issue 16 item 5): the edge does not fetch it, the
// relay does (from a local HTTP server standing in for another PBX on the LAN) and posts the
// entries to the edge, which serves them in the phones' phonebook; a failed fetch shows its
// error at the edge and keeps the entries; "fetch now" reaches the relay.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { start, ADMIN_TOKEN } from "../edge/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const relayBin = path.join(root, "target/debug/lan-relay");
const dir = mkdtempSync(path.join(tmpdir(), "relay-pb-"));
const children = [];
let page = { status: 200, body: "" };
const hits = [];
const pbx = http.createServer((req, res) => {
  hits.push(req.url);
  res.writeHead(page.status, { "Content-Type": "text/plain" }).end(page.body);
});
await new Promise((r) => pbx.listen(0, "127.0.0.1", r));
after(() => {
  for (const c of children) c.kill("SIGKILL");
  pbx.close();
  rmSync(dir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}: ${last}`);
}

test("the relay fetches a LAN phonebook source and the edge serves its entries", async () => {
  const { mf } = await start({ port: 0 });
  after(() => mf.dispose());
  const edge = (await mf.ready).toString().replace(/\/$/, "");
  const api = async (method, p, body) => {
    const res = await fetch(`${edge}/api${p}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const site = (await api("POST", "/sites", { name: "Branch", pbx_host: "pbx.branch.example" })).body;
  await api("POST", `/sites/${site.id}/users`, { extension: "310", sip_password: "First-Vq9-kL2m", display_name: "Lea" });
  await api("POST", `/sites/${site.id}/phones`, { mac: "0015650a0b0d", model: "T46S", user_extension: "310" });
  page = { status: 200, body: "name,number\nLan Ann,4001\nLan Bo,4002\n" };
  const src = await api("POST", `/sites/${site.id}/phonebook-sources`, { name: "Old PBX", url: `http://127.0.0.1:${pbx.address().port}/users.csv`, fetch_minutes: 15 });
  assert.equal(src.status, 201);
  assert.equal(src.body.fetched_by, "relay");
  // The edge does not fetch it itself.
  assert.equal((await api("POST", `/sites/${site.id}/phonebook-sources/${src.body.id}/fetch`)).status, 202);
  assert.equal(hits.length, 0);

  const relayToken = (await api("POST", `/sites/${site.id}/relay-token`)).body.relay_token;
  writeFileSync(path.join(dir, "token"), relayToken + "\n", { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, "relay.toml");
  writeFileSync(
    config,
    `state_dir = "${dir}/state"\n[http]\nlisten = "127.0.0.1:${port}"\n[tftp]\nenabled = false\n[pnp]\nenabled = false\n[starcode]\nenabled = false\n` +
      `[edge]\nurl = "${edge}"\ntoken_file = "${dir}/token"\npoll_secs = 1\n`,
  );
  const child = spawn(relayBin, ["--config", config], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "info" } });
  children.push(child);
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));

  const source = async () => (await api("GET", `/sites/${site.id}/phonebook-sources/${src.body.id}`)).body;
  let s = await until("the relay's first fetch", async () => ((await source()).last_count === 2 ? source() : null));
  assert.equal(s.last_format, "csv");
  assert.deepEqual(s.entries.map((e) => e.name), ["Lan Ann", "Lan Bo"]);
  // The relay serves the merged phonebook from its next snapshot, as the edge does.
  const book = await until("the entries in the relay's phonebook", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/phonebook/0015650a0b0d.xml`, { headers: { "User-Agent": "Yealink SIP-T46S 66.86.0.15 00:15:65:0a:0b:0d" } });
    const t = r.status === 200 ? await r.text() : "";
    return t.includes("Lan Bo") ? t : null;
  });
  assert.match(book, /Lea/);

  // A failing fetch, asked for with "fetch now": the error reaches the edge, the entries stay.
  page = { status: 500, body: "down" };
  const fetchedBefore = hits.length;
  assert.equal((await api("POST", `/sites/${site.id}/phonebook-sources/${src.body.id}/fetch`)).status, 202);
  s = await until("the failed fetch at the edge", async () => ((await source()).last_error ? source() : null));
  assert.ok(hits.length > fetchedBefore);
  assert.match(s.last_error, /HTTP 500/);
  assert.equal(s.entries.length, 2);
  assert.ok(!log.includes(relayToken), "the token is never logged");
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
});
