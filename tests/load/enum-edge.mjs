// MAC, token and password enumeration against the edge (the phone worker alone, as in
// production on its own hostname, under plain Miniflare: one workerd, an in-memory D1 with
// the migrations applied): the edge half of scripts/bench-enumeration.sh.
//
// Three attackers, each against a fresh Worker and database: one address, a /24
// (CF-Connecting-IP cycling over its 256 addresses) and an IPv6 /64 (a random interface id
// per request). Each sends COUNT guesses, in turn: a random token URL `/p/<token>/<mac>.cfg`
// for a random MAC, HTTP Basic passwords for a real phone under the site URL (the worst case:
// the attacker has the site URL), and a random MAC with a random password under the site URL.
// Reported per attacker: configs served (must be 0; any 200 counts, and the run fails), answers
// by status, answers until the first 429 and until the last 404 (after it every guess is
// refused unseen), the miss rows left in D1, and the cost of a refused request once braked:
// wall time per request at CONCURRENCY, and workerd's CPU (utime+stime from /proc, over that
// phase) per request, beside the same figures for /healthz (no D1) on the same runtime.
//   node tests/load/enum-edge.mjs [count]     (COUNT and CONCURRENCY also from the env)
// The figures are for the note, never a test: the box is shared and noisy.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { statements } from "../edge/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN_KEY = "enum-bench-token-key";
const SITE = "site-enum";
const PHONE = { mac: "000b82e00001", user: "gs-enum", password: "Enum-Basic-Pass-0001" };
const SIP_PASSWORD = "Enum-Sip-Secret-0001";
const TICK_MS = 1000 / 100; // CLK_TCK is 100 on Linux

/** The site token at generation 0, computed independently of the engine. */
const siteToken = (site) =>
  createHmac("sha256", TOKEN_KEY).update(`site-token\0${site}`).digest().subarray(0, 16).toString("hex");

async function startEdge() {
  const mf = new Miniflare({
    cf: false,
    host: "127.0.0.1",
    port: 0,
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    scriptPath: path.join(root, "edge-worker/build/index.js"),
    d1Databases: { DB: "enum-db" },
    r2Buckets: { FIRMWARE: "firmware" },
    bindings: { TOKEN_KEY },
  });
  const db = await mf.getD1Database("DB");
  const dir = path.join(root, "edge-worker/migrations");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const stmt of statements(readFileSync(path.join(dir, f), "utf8"))) await db.prepare(stmt).run();
  }
  const now = Math.floor(Date.now() / 1000);
  await db
    .prepare("INSERT INTO sites (id, name, pbx_host, created_at, updated_at) VALUES (?1, 'Enum', 'pbx.example.com', ?2, ?2)")
    .bind(SITE, now)
    .run();
  await db
    .prepare("INSERT INTO users (id, site_id, extension, auth_name, sip_password) VALUES ('u1', ?1, '200', '200', ?2)")
    .bind(SITE, SIP_PASSWORD)
    .run();
  await db
    .prepare(
      "INSERT INTO phones (id, site_id, mac, vendor, model, user_id, token1_hash, token2_hash, assigned_at, http_user, http_password) \
       VALUES ('p1', ?1, ?2, 'grandstream', 'GXP2170', 'u1', NULL, ?3, ?4, ?5, ?6)",
    )
    .bind(SITE, PHONE.mac, randomBytes(32).toString("hex"), now, PHONE.user, PHONE.password)
    .run();
  return { mf, url: await mf.ready };
}

/** GETs retried because the server closed a kept-alive connection as it was reused. */
let retried = 0;

/** One GET over a kept-alive connection (lighter on the client than dispatchFetch). A reset
 * of a reused connection is retried once, as HTTP clients do for a GET, and counted. */
function get(agent, url, headers, again = true) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      res.on("error", reject);
    });
    req.on("error", (e) => {
      if (again && req.reusedSocket && e.code === "ECONNRESET") {
        retried++;
        resolve(get(agent, url, headers, false));
      } else {
        reject(e);
      }
    });
  });
}

/** The workerd processes this node process started (Miniflare's runtime). */
function workerdPids() {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      if (comm.startsWith("workerd") && Number(f[1]) === process.pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
function ticks(pids) {
  let t = 0;
  for (const pid of pids) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      t += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    } catch {
      // gone meanwhile
    }
  }
  return t;
}

const hex = (n) => randomBytes(n).toString("hex");
const basic = (u, p) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
const ua = (mac) => `Grandstream Model HW GXP2170 SW 1.0.11.23 DevId ${mac}`;

/** The i-th guess: a random token, a password for the real phone, a random MAC and password. */
function guess(i, base) {
  const site = `${base}/s/${SITE}/${siteToken(SITE)}`;
  switch (i % 3) {
    case 0: {
      const mac = `000b82${hex(3)}`;
      return { url: `${base}/p/${hex(16)}/cfg${mac}.xml`, mac };
    }
    case 1:
      return { url: `${site}/cfg${PHONE.mac}.xml`, mac: PHONE.mac, auth: basic(PHONE.user, hex(8)) };
    default: {
      const mac = `000b82${hex(3)}`;
      return { url: `${site}/cfg${mac}.xml`, mac, auth: basic(`u${hex(2)}`, hex(8)) };
    }
  }
}

/** `count` requests at `concurrency`: `one(i)` sends the i-th and returns its answer. */
async function run(count, concurrency, one, seen) {
  let next = 0;
  async function lane() {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      seen(i, await one(i), next);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
}

const ms = (a, b) => Number(b - a) / 1e6;

/** One attacker: `count` guesses at `concurrency`, addresses from `address(i)`. */
async function attack(name, address, { count, concurrency }) {
  const { mf, url } = await startEdge();
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const base = url.origin;
    // The peer: /healthz (no D1), on the same runtime, as the unit a refusal is read against.
    const pids = workerdPids();
    const peerCount = Math.min(count, 2000);
    await run(50, concurrency, () => get(agent, `${base}/healthz`, {}), () => {});
    let p0 = process.hrtime.bigint(), c0 = ticks(pids);
    await run(peerCount, concurrency, () => get(agent, `${base}/healthz`, {}), () => {});
    const healthz = {
      requests: peerCount,
      wall_ms_per_request: +(ms(p0, process.hrtime.bigint()) / peerCount).toFixed(3),
      workerd_cpu_ms_per_request: +(((ticks(pids) - c0) * TICK_MS) / peerCount).toFixed(3),
    };

    const status = {};
    retried = 0;
    let served = 0, answered = 0, firstBrake = null, lastNotFound = null;
    // The braked phase is measured from the first 429 on: its CPU and wall time.
    let brakeMark = null;
    const t0 = process.hrtime.bigint();
    const cpu0 = ticks(pids);
    await run(
      count,
      concurrency,
      (i) => {
        const g = guess(i, base);
        const headers = { "User-Agent": ua(g.mac), "CF-Connecting-IP": address(i) };
        if (g.auth) headers.Authorization = g.auth;
        return get(agent, g.url, headers);
      },
      (i, res, started) => {
        answered++;
        status[res.status] = (status[res.status] ?? 0) + 1;
        if (res.status === 200 || res.body.includes(SIP_PASSWORD)) served++;
        if (res.status === 429 && firstBrake === null) {
          firstBrake = answered;
          brakeMark = { i: started, t: process.hrtime.bigint(), cpu: ticks(pids) };
        }
        if (res.status === 404) lastNotFound = answered;
      },
    );
    const t1 = process.hrtime.bigint();
    const cpu1 = ticks(pids);
    const r = {
      attacker: name,
      guesses: count,
      concurrency,
      configs_served: served,
      status,
      // Counted in answers as they came back (at CONCURRENCY, not in the order sent).
      answers_until_first_429: firstBrake,
      last_404_at_answer: lastNotFound,
      all: {
        wall_ms_per_request: +(ms(t0, t1) / count).toFixed(3),
        workerd_cpu_ms_per_request: +(((cpu1 - cpu0) * TICK_MS) / count).toFixed(3),
      },
      healthz,
      retried_resets: retried,
      miss_rows: (await (await mf.getD1Database("DB")).prepare("SELECT COUNT(*) AS n FROM misses").first()).n,
    };
    if (brakeMark && count - brakeMark.i > 0) {
      const n = count - brakeMark.i;
      r.braked_phase = {
        requests: n,
        wall_ms_per_request: +(ms(brakeMark.t, t1) / n).toFixed(3),
        workerd_cpu_ms_per_request: +(((cpu1 - brakeMark.cpu) * TICK_MS) / n).toFixed(3),
      };
    }
    return r;
  } finally {
    agent.destroy();
    await mf.dispose();
  }
}

/** The edge half of the enumeration benchmark; returns one result per attacker, and hands
 * each to `onResult` as soon as its attacker is done. */
export async function enumEdge({ count = 100_000, concurrency = 16, onResult = () => {} } = {}) {
  const v6 = () => {
    const b = randomBytes(8).toString("hex").match(/..../g).join(":");
    return `2001:db8:77:1:${b}`;
  };
  const results = [];
  for (const [name, address] of [
    ["one address", () => "203.0.113.77"],
    ["a /24", (i) => `198.51.100.${i % 256}`],
    ["a /64", v6],
  ]) {
    results.push(await attack(name, address, { count, concurrency }));
    onResult(results.at(-1));
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? process.env.COUNT ?? 100_000);
  const concurrency = Number(process.env.CONCURRENCY ?? 16);
  const results = await enumEdge({ count, concurrency, onResult: (r) => console.log(JSON.stringify(r)) });
  const served = results.reduce((n, r) => n + r.configs_served, 0);
  if (served > 0) {
    console.error(`enum-edge: ${served} configs served to guessers`);
    process.exit(1);
  }
}
