// The RPS outbox under a burst of phone changes (issue 7's figure): the built edge worker under
// workerd (Miniflare, in-memory D1) against the Yealink stand-in (tests/rps/standins.mjs), with
// failures injected while it drains. Two bursts:
//   1. N phones added through the admin API, 10 requests at a time: each request works the
//      outbox on its waitUntil.
//   2. The account pasted again, which queues all N phones at once: drained by the Cron Trigger
//      alone, one scheduled run after another (each run is one minute apart in production).
//   3. The same, drained by the console's "Run now" (work requests back to back).
// It checks that nothing is lost (every phone registered exactly once at the vendor, its own
// URL) and prints time to drain, vendor calls, retries and runs.
//   node tests/load/rps-burst.mjs [N=1000]      (after scripts/build-edge.sh)
import assert from "node:assert/strict";
import { start, seedSite, steadyToken, adminRequest } from "../edge/harness.mjs";
import { startStandin } from "../rps/standins.mjs";

const N = Number(process.argv[2] ?? 1000);
const ORIGIN = "https://edge.example.com";
const creds = { accessKeyId: "burst-key", accessKeySecret: "burst-secret-0123" };
const s = await startStandin("yealink", creds);
const { mf, db } = await start({ bindings: { RPS_RETRY_BASE_SECS: "1" } });
const site = await seedSite(db, { id: "burst" });
const api = async (method, path, body) => {
  const res = await adminRequest(mf, method, path, body, ORIGIN);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
};
const ini = `[yealink]\naccesskey_id = ${creds.accessKeyId}\naccesskey_secret = ${creds.accessKeySecret}\nbase_url = ${s.url}\n`;
const count = async (where) => (await db.prepare(`SELECT COUNT(*) AS n FROM rps_outbox WHERE ${where}`).first()).n;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Failures while the burst arrives: a 503 every 0.6 s for the first 30 s (up to 50, each for a
// call in its own 0.6 s slot) and one rate-limit storm (three 429s, Retry-After 2 s). A vendor failing for longer than the retry
// policy's ten attempts (about 17 hours at the default backoff) gets the phone marked failed
// for a person to see; that is not what this measures.
let injector;
function injectFailures() {
  let tick = 0;
  injector = setInterval(() => {
    tick++;
    // Each failure is the vendor's answer to a call in its own 0.6 s slot (dropped if no
    // call comes): an outage as it happens, not a queue that waits for the last few phones.
    if (tick === 5) s.failNext({ status: 429, retryAfter: 2, times: 3, ttlMs: 2000 });
    else if (tick % 3 === 0 && tick <= 150) s.failNext({ status: 503, times: 1, ttlMs: 600 });
  }, 200);
}

async function verify(label) {
  const done = await count("state = 'done'");
  const failed = await count("state = 'failed'");
  const phones = (await db.prepare("SELECT id, mac, token_generation FROM phones WHERE site_id = ?1").bind(site).all()).results;
  let wrongUrl = 0;
  for (const p of phones) {
    const d = s.devices.get(p.mac);
    if (!d || !JSON.stringify(d).includes(steadyToken(p.id, p.token_generation))) wrongUrl++;
  }
  const retries = (await db.prepare("SELECT SUM(attempts) - COUNT(*) AS r FROM rps_outbox").first()).r;
  assert.equal(done, N, `${label}: ${done} of ${N} registered, ${failed} failed`);
  assert.equal(s.devices.size, N, `${label}: the vendor holds ${s.devices.size} devices`);
  assert.equal(wrongUrl, 0, `${label}: ${wrongUrl} phones registered with a wrong URL`);
  return { retries };
}

await api("PUT", `/sites/${site}/rps/accounts`, { ini });
const macs = Array.from({ length: N }, (_, i) => `001565${(0x1000000 + i).toString(16).slice(1)}`);

// 1. Changes through the API.
s.clearRequests();
injectFailures();
let t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 10 }, async () => {
    while (next < macs.length) {
      const mac = macs[next++];
      await api("POST", `/sites/${site}/phones`, { mac, vendor: "yealink", serial_number: `8040${mac.slice(-8)}` });
    }
  }),
);
const tQueued = performance.now() - t0;
// Retries come due after their backoff; the Cron Trigger (here: a scheduled run per second)
// picks up what the requests' waitUntil left.
const worker = await mf.getWorker();
let runs1 = 0;
while ((await count("state = 'done'")) < N && performance.now() - t0 < 600_000) {
  if ((await count("state = 'failed'")) > 0) {
    const f = await db.prepare("SELECT mac, error_kind, error, attempts FROM rps_outbox WHERE state = 'failed' LIMIT 3").all();
    throw new Error(`failed rows: ${JSON.stringify(f.results)}`);
  }
  if (process.env.VERBOSE) console.error(`done ${await count("state = 'done'")}, pending ${await count("state = 'pending'")}`);
  await sleep(1000);
  await worker.scheduled({ cron: "* * * * *" });
  runs1++;
}
clearInterval(injector);
const t1 = performance.now() - t0;
const calls1 = s.requests.length;
const failed1 = s.requests.filter((q) => q.status >= 400).length;
const r1 = await verify("API burst");

// 2. The account pasted again: every phone queued at once, drained by scheduled runs alone.
s.clearRequests();
await db.prepare("UPDATE rps_accounts SET paused_until = 0").run();
const pasted = await adminRequest(mf, "PUT", `/sites/${site}/rps/accounts`, { ini }, ORIGIN);
assert.equal(pasted.status, 200);
// Let the paste's own waitUntil finish before counting runs.
await sleep(3000);
t0 = performance.now();
let runs2 = 0;
const perRun = [];
while ((await count("state = 'pending'")) > 0 && runs2 < 1000) {
  const before = s.requests.length;
  await worker.scheduled({ cron: "* * * * *" });
  perRun.push(s.requests.length - before);
  runs2++;
}
const t2 = performance.now() - t0;
const r2 = await verify("cron drain");

// 3. Once more, drained as the console's "Run now" does: one work request after another (each
// its own invocation with its own call budget) while the requests still find work.
s.clearRequests();
await api("PUT", `/sites/${site}/rps/accounts`, { ini });
t0 = performance.now();
let runs3 = 0;
while ((await count("state = 'pending'")) > 0 && runs3 < 1000) {
  await api("POST", `/sites/${site}/rps/work`);
  runs3++;
}
const t3 = performance.now() - t0;
const r3 = await verify("Run now drain");

const fmt = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log(`RPS outbox burst, ${N} Yealink phones, edge under workerd (Miniflare), Yealink stand-in on loopback`);
console.log(
  `1. ${N} phones added via the API (10 at a time, each request's waitUntil works the outbox), up to 50 503s (one every 0.6 s for 30 s, each for a call in its slot) and one 429 storm (3 x Retry-After 2 s) injected, retry base 1 s:`,
);
console.log(
  `   all ${N} registered after ${fmt(t1)} (adds took ${fmt(tQueued)}); ${calls1} vendor calls (${failed1} answered 429/5xx), ${r1.retries} retries, ${runs1} scheduled runs; lost 0, duplicates 0, wrong URL 0`,
);
console.log(
  `2. account pasted again -> ${N} re-registrations queued at once, Cron Trigger only (default budget 40 calls a run):`,
);
console.log(
  `   drained in ${runs2} runs (= ${runs2} min at one run a minute; ${fmt(t2)} of work here), ${s.requests.length} calls, max ${Math.max(...perRun)} a run; ${r2.retries} retries; lost 0`,
);
console.log(
  `3. the same again, drained by the console's Run now (one work request after another): ${runs3} requests, ${fmt(t3)}, ${s.requests.length} calls; ${r3.retries} retries; lost 0`,
);
s.close();
await mf.dispose();
