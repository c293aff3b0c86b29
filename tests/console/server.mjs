// Serves the system as `scripts/run.sh` does, in a state of its own: one wrangler dev of both
// prebuilt Workers (the admin worker with the console's static assets, the engine-wasm package built
// first, as the primary on a free port; the phone worker behind its PHONES service binding),
// their shared local D1 migrated and seeded by scripts/seed-demo.mjs, with fresh secrets: the
// admin worker's in a temporary .dev.vars (--env-file), the phone worker's (TOKEN_KEY alone)
// in the .dev.vars next to a temporary copy of its config, since wrangler reads a secondary
// config's secrets from beside it.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_SEND_ERROR_REPORTS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once("error", reject);
  s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/**
 * Starts it. `sql`: more statements for the local D1 before the server starts (one per
 * line is not needed: a file). Resolves to {base, adminToken, phones: [{vendor, model,
 * ua, url}] (the demo phones' first-access URLs, as seed-demo prints them), stop()}.
 */
export async function startDemo({ sql = [] } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "console-e2e-"));
  const state = path.join(dir, "state");
  const adminToken = randomBytes(24).toString("hex");
  const tokenKey = randomBytes(32).toString("hex");
  writeFileSync(path.join(dir, ".dev.vars"), `TOKEN_KEY=${tokenKey}\nADMIN_TOKEN=${adminToken}\nRPS_KEY=${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
  const phonesConfig = phoneWorkerConfig(path.join(dir, "phones"), tokenKey);
  const port = await freePort();
  const inspector = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const run = (args, extra = {}) => execFileSync(args[0], args.slice(1), { cwd: root, env: { ...env, ...extra }, stdio: ["ignore", "pipe", "pipe"] }).toString();
  // The console's preview runs the engine's wasm package from console/pkg/, as run.sh builds
  // it (scripts/test.sh has just built it and says so).
  if (!process.env.CONSOLE_PKG_PREBUILT) run(["scripts/build-wasm.sh"]);
  run([wrangler, "d1", "migrations", "apply", "DB", "--local", `--persist-to=${state}`]);
  const seeded = run(["node", "scripts/seed-demo.mjs", base], {
    SEED_DEV_VARS: path.join(dir, ".dev.vars"), SEED_PERSIST_TO: state, SEED_RELAY_DIR: path.join(dir, "relay") });
  const phones = [...seeded.matchAll(/^# (\w+) (\S+)\ncurl -s -A '([^']+)' (\S+)$/gm)]
    .map(([, vendor, model, ua, url]) => ({ vendor, model, ua, url }));
  if (sql.length) {
    const file = path.join(dir, "extra.sql");
    writeFileSync(file, sql.map((s) => s + ";").join("\n") + "\n");
    run([wrangler, "d1", "execute", "DB", "--local", `--persist-to=${state}`, `--file=${file}`]);
  }
  // Its own process group, so that stopping it stops workerd too (TOOLCHAIN.md P4).
  const child = spawn(wrangler, ["dev", "-c", "wrangler.toml", "-c", phonesConfig, "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
    `--persist-to=${state}`, `--env-file=${path.join(dir, ".dev.vars")}`, "--show-interactive-dev-session=false"],
  { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const stop = () => {
    try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
    if (i > 150 || child.exitCode !== null) { stop(); throw new Error(`wrangler dev did not start:\n${log}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, adminToken, phones, stop, log: () => log };
}

/**
 * A copy of edge-worker/wrangler.toml in `dir` with absolute paths, and beside it the phone
 * worker's secrets (TOKEN_KEY only). Returns the copy's path.
 */
export function phoneWorkerConfig(dir, tokenKey) {
  mkdirSync(dir, { recursive: true });
  const worker = path.join(root, "edge-worker");
  const toml = readFileSync(path.join(worker, "wrangler.toml"), "utf8")
    .replace(/^main = "([^"]*)"/m, (_, p) => `main = "${path.join(worker, p)}"`)
    .replace(/^migrations_dir = "([^"]*)"/m, (_, p) => `migrations_dir = "${path.join(worker, p)}"`);
  const file = path.join(dir, "wrangler.toml");
  writeFileSync(file, toml);
  writeFileSync(path.join(dir, ".dev.vars"), `TOKEN_KEY=${tokenKey}\n`, { mode: 0o600 });
  return file;
}
