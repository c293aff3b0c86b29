// Load generator for scripts/load-edge.sh: cold start, then config fetches beside their peer
// (/healthz, no D1 and no render) on the same `wrangler dev`, with the CPU time of the
// processes wrangler started, read from /proc before and after each phase.
//   node tests/load/edge-load.mjs --base URL --seed FILE --pgid PID --t0-ms MS [--n 2000]
//        [--concurrency 8] [--rounds 3] [--warmup 100]
// --seed: what scripts/seed-demo.mjs printed (one curl line per phone: User-Agent, URL).
// --pgid: the server's process group (started with setsid); --t0-ms: when it was spawned;
// --label: what the server is (printed).
// Prints a JSON line of figures (prefixed "RESULT ") after the human-readable summary.
// A speed figure, never a test: nothing here asserts a time. It exits non-zero only when a
// response is wrong (status, body), so a broken worker cannot pass for a fast one.
import http from "node:http";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    base: { type: "string" },
    seed: { type: "string" },
    pgid: { type: "string" },
    "t0-ms": { type: "string" },
    n: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "100" },
    label: { type: "string", default: "server" },
  },
});
for (const k of ["base", "seed", "pgid", "t0-ms"]) if (!opt[k]) throw new Error(`--${k} is required`);
const base = new URL(opt.base);
const n = Number(opt.n);
const concurrency = Number(opt.concurrency);
const rounds = Number(opt.rounds);
const warmup = Number(opt.warmup);
const pgid = Number(opt.pgid);
const t0 = Number(opt["t0-ms"]);
const clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

// The seed prints "# <vendor> <model>" then "curl -s -A '<user agent>' <url>" per phone.
const phones = [];
let vendor = "";
for (const line of readFileSync(opt.seed, "utf8").split("\n")) {
  const h = /^# (\S+)/.exec(line);
  if (h) vendor = h[1];
  const m = /^curl -s -A '([^']*)' (\S+)$/.exec(line);
  if (m) phones.push({ vendor, ua: m[1], firstUrl: new URL(m[2]) });
}
if (phones.length === 0) throw new Error(`no phone URLs in ${opt.seed}`);

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
/** One GET; resolves to status, body, latency in ms (request start to last body byte). */
function get(url, ua, useAgent = agent) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const req = http.get(url, { agent: useAgent, headers: ua ? { "User-Agent": ua } : {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({
        status: res.statusCode,
        body: Buffer.concat(chunks),
        ms: Number(process.hrtime.bigint() - start) / 1e6,
      }));
      res.on("error", (e) => resolve({ status: 0, error: e.message, body: Buffer.alloc(0), ms: 0 }));
    });
    req.on("error", (e) =>
      resolve({ status: 0, error: e.code ?? e.message, reused: req.reusedSocket, body: Buffer.alloc(0), ms: 0 }));
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => createHash("sha256").update(b).digest("hex");

// --- 1. Cold start: spawn of the server (t0) to the first 200 of a demo phone's config. ---
const first = phones[0];
let cold;
const noKeepAlive = new http.Agent({ keepAlive: false });
for (;;) {
  const r = await get(first.firstUrl, first.ua, noKeepAlive);
  const now = Date.now();
  if (r.status === 200) {
    cold = { ms: now - t0, firstRequestMs: r.ms };
    first.ref = r.body;
    break;
  }
  if (r.status !== 0) throw new Error(`cold start: first config answered ${r.status}: ${r.body}`);
  if (!existsSync(`/proc/${pgid}`)) throw new Error(`cold start: the server (pid ${pgid}) exited`);
  if (now - t0 > 60_000) throw new Error(`cold start: no answer within 60 s (${r.error})`);
  await sleep(10);
}

// --- 2. Each phone's first-access fetch gives its reference body, and in it the steady-state
// URL (/p/<steady token>/...) the phone polls from then on: the load uses those URLs. ---
for (const p of phones) {
  if (!p.ref) {
    const r = await get(p.firstUrl, p.ua);
    if (r.status !== 200) throw new Error(`${p.vendor}: first-access fetch answered ${r.status}`);
    p.ref = r.body;
  }
  const steady = new RegExp(`${base.host.replace(/\./g, "\\.")}/p/([0-9a-f]{32})\\b`).exec(p.ref.toString());
  if (!steady) throw new Error(`${p.vendor}: no steady-state URL in its config`);
  const file = p.firstUrl.pathname.split("/").slice(3).join("/");
  p.url = new URL(`/p/${steady[1]}/${file}`, base);
  p.refLen = p.ref.length;
  p.refSha = sha(p.ref);
}
const healthz = new URL("/healthz", base);
const healthzBody = "ok\n";

// --- 3. The processes wrangler started, by process group: the proxy workerd (listens on the
// port we fetch from), the user worker's workerd, and wrangler's node processes. ---
function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3; utime, stime are fields 14, 15 (1-based).
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}
const procs = [];
for (const d of readdirSync("/proc")) {
  if (!/^\d+$/.test(d)) continue;
  const s = stat(d);
  if (!s || s.pgrp !== pgid) continue;
  let cmd = "";
  try {
    cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    continue;
  }
  let role;
  if (/\bworkerd serve\b/.test(cmd)) {
    role = cmd.includes(`--socket-addr=entry=${base.hostname}:${base.port} `) ? "proxy" : "user";
  } else if (/\bnode\b/.test(cmd) || /wrangler/.test(cmd)) {
    role = "node";
  } else {
    role = "other";
  }
  procs.push({ pid: Number(d), role, cmd: cmd.slice(0, 100) });
}
// Plain Miniflare runs one workerd, which serves the port itself: that one is the worker's.
const workerds = procs.filter((p) => p.role === "proxy" || p.role === "user");
if (workerds.length === 1) workerds[0].role = "user";
const roles = ["user", "proxy", "node"];
if (workerds.length > 2 || procs.filter((p) => p.role === "user").length !== 1) {
  throw new Error(`expected the worker's workerd (and at most one proxy) in process group ${pgid}: ${JSON.stringify(procs)}`);
}
/** CPU ticks used so far per role (sum over its processes). */
function cpu() {
  const t = Object.fromEntries(roles.map((r) => [r, 0]));
  for (const p of procs) {
    const s = stat(p.pid);
    if (s && p.role in t) t[p.role] += s.ticks;
  }
  t.client = process.cpuUsage();
  return t;
}

// --- 4. Load: `count` requests at `concurrency`, cycling the phones; every answer checked. ---
async function phase(kind, count) {
  const lat = new Float64Array(count);
  const bad = { status: {}, body: 0, retried: 0 };
  let next = 0;
  async function lane() {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const p = phones[i % phones.length];
      const fetchOne = () => (kind === "config" ? get(p.url, p.ua) : get(healthz, ""));
      let r = await fetchOne();
      // A kept-alive connection the server closed as we reused it: retried once (as HTTP
      // clients do for a GET), and counted. A reset on a fresh connection is an error.
      if (r.status === 0 && r.reused && r.error === "ECONNRESET") {
        bad.retried++;
        r = await fetchOne();
      }
      if (r.status === 200) {
        const ok = kind === "config" ? r.body.length === p.refLen && sha(r.body) === p.refSha : r.body.toString() === healthzBody;
        if (!ok) bad.body++;
      }
      if (r.status !== 200) bad.status[r.status || r.error] = (bad.status[r.status || r.error] ?? 0) + 1;
      lat[i] = r.ms;
    }
  }
  const c0 = cpu();
  const w0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, lane));
  const wallMs = Number(process.hrtime.bigint() - w0) / 1e6;
  const c1 = cpu();
  const cpuMs = Object.fromEntries(roles.map((r) => [r, ((c1[r] - c0[r]) * 1000) / clkTck]));
  const cu = process.cpuUsage(c0.client);
  cpuMs.client = (cu.user + cu.system) / 1000;
  return { kind, count, wallMs, lat, bad, cpuMs };
}

await phase("config", warmup);
await phase("healthz", warmup);
const results = { config: [], healthz: [] };
for (let r = 0; r < rounds; r++) {
  const count = Math.floor(n / rounds) + (r < n % rounds ? 1 : 0);
  // Alternate, so that a change in the machine's load hits both sides alike.
  results.config.push(await phase("config", count));
  results.healthz.push(await phase("healthz", count));
}
agent.destroy();

function summary(list) {
  const count = list.reduce((a, p) => a + p.count, 0);
  const wallMs = list.reduce((a, p) => a + p.wallMs, 0);
  const lat = Float64Array.from(list.flatMap((p) => Array.from(p.lat))).sort();
  const q = (f) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))];
  const cpuMs = Object.fromEntries([...roles, "client"].map((r) => [r, list.reduce((a, p) => a + p.cpuMs[r], 0)]));
  const non200 = {};
  let badBody = 0;
  let retried = 0;
  for (const p of list) {
    badBody += p.bad.body;
    retried += p.bad.retried;
    for (const [k, v] of Object.entries(p.bad.status)) non200[k] = (non200[k] ?? 0) + v;
  }
  return {
    count,
    rps: (count * 1000) / wallMs,
    meanMs: lat.reduce((a, x) => a + x, 0) / lat.length,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    cpuMsPerReq: Object.fromEntries(Object.entries(cpuMs).map(([r, v]) => [r, v / count])),
    non200,
    badBody,
    retried,
    roundRps: list.map((p) => (p.count * 1000) / p.wallMs),
  };
}
const cfg = summary(results.config);
const hz = summary(results.healthz);
const workerd = (s) => s.cpuMsPerReq.user + s.cpuMsPerReq.proxy;
const ratio = {
  rps: cfg.rps / hz.rps,
  meanMs: cfg.meanMs / hz.meanMs,
  p50Ms: cfg.p50Ms / hz.p50Ms,
  p99Ms: cfg.p99Ms / hz.p99Ms,
  userCpu: cfg.cpuMsPerReq.user / hz.cpuMsPerReq.user,
  workerdCpu: workerd(cfg) / workerd(hz),
  // Per round, so the spread shows how noisy the machine was.
  roundRps: cfg.roundRps.map((x, i) => x / hz.roundRps[i]),
};

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const row = (name, s) =>
  `${name.padEnd(8)} ${String(s.count).padStart(5)} ${f(s.rps, 0).padStart(7)} ${f(s.meanMs).padStart(7)} ` +
  `${f(s.p50Ms).padStart(7)} ${f(s.p99Ms).padStart(7)} ${f(s.cpuMsPerReq.user, 3).padStart(8)} ` +
  `${f(s.cpuMsPerReq.proxy, 3).padStart(8)} ${f(s.cpuMsPerReq.node, 3).padStart(8)} ${f(s.cpuMsPerReq.client, 3).padStart(8)}`;
const errors = (s) =>
  `${Object.values(s.non200).reduce((a, v) => a + v, 0)} non-200 ${JSON.stringify(s.non200)}, ` +
  `${s.badBody} wrong bodies, ${s.retried} resets of a reused connection (retried)`;
console.log(`== ${opt.label}`);
// wrangler's proxy accepts the connection early and holds the request until the worker is up,
// so the first request's own time is part of the cold start.
console.log(`cold start (spawn to the first 200 config): ${cold.ms} ms ` +
  `(the first config request itself took ${f(cold.firstRequestMs, 1)} ms)`);
console.log(`load: ${phones.length} phones (steady-state URLs, real User-Agents), ${rounds} alternating rounds, ` +
  `concurrency ${concurrency}, ${warmup} warm-up requests each not counted; CPU from /proc (tick ${1000 / clkTck} ms)`);
console.log(`                       ---- latency ms ----   ------ CPU ms per request ------`);
console.log(`phase    count   req/s    mean     p50     p99  workerd  workerd     node   client`);
console.log(`                                                  (user)  (proxy) (wrangler) (this)`);
console.log(row("config", cfg));
console.log(row("healthz", hz));
console.log(`config/healthz: req/s ${f(ratio.rps, 3)} (rounds ${ratio.roundRps.map((x) => f(x, 3)).join(", ")}), ` +
  `mean ${f(ratio.meanMs)}x, p50 ${f(ratio.p50Ms)}x, p99 ${f(ratio.p99Ms)}x, ` +
  `CPU user workerd ${f(ratio.userCpu)}x, both workerd ${f(ratio.workerdCpu)}x`);
console.log(`checks: config ${errors(cfg)}; healthz ${errors(hz)}; ` +
  `config bodies ${phones.map((p) => `${p.vendor} ${p.refLen} B`).join(", ")}`);
const strip = ({ roundRps, ...s }) => s;
console.log("RESULT " + JSON.stringify({ label: opt.label, coldStartMs: cold.ms, firstRequestMs: cold.firstRequestMs, config: strip(cfg), healthz: strip(hz), ratio }));
const failed = [cfg, hz].some((s) => s.badBody > 0 || Object.keys(s.non200).length > 0);
process.exit(failed ? 1 : 0);
