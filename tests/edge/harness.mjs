// Runs both built Workers under real workerd (miniflare) as wrangler.toml and
// edge-worker/wrangler.toml declare them, with an in-memory D1 and R2 that both share:
// the admin worker first (console API, RPS outbox; the one dispatchFetch reaches), which
// hands the phone routes to the phone worker through the PHONES service binding. Applies
// the migrations to the empty database, and seeds what a test needs.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const TOKEN_KEY = "test-token-key";
export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const RPS_KEY = "5f".repeat(32);
/** The Workers' names, as in their wrangler configs (for mf.getWorker / getBindings). */
export const ADMIN = "zero-touch-admin";
export const PHONES = "zero-touch-edge";

// `bindings` adds or overrides the admin worker's variables (e.g. smaller firmware quotas
// for a test); `phoneBindings` the phone worker's.
// `port` (0: any free one) also serves the admin worker over HTTP on 127.0.0.1 (`await
// mf.ready` gives the URL), for clients outside this process such as the LAN relay.
// `miniflare` passes further shared options (e.g. handleRuntimeStdio to read the log).
export async function start({ bindings = {}, phoneBindings = {}, port, miniflare = {} } = {}) {
  const common = {
    modules: true,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    // The same database id and bucket name in both: one D1, one R2.
    d1Databases: { DB: "test-db" },
    r2Buckets: { FIRMWARE: "firmware" },
  };
  const mf = new Miniflare({
    cf: false,
    ...(port === undefined ? {} : { host: "127.0.0.1", port }),
    ...miniflare,
    workers: [
      {
        ...common,
        name: ADMIN,
        scriptPath: path.join(root, "edge-admin/build/index.js"),
        bindings: { TOKEN_KEY, ADMIN_TOKEN, RPS_KEY, ...bindings },
        serviceBindings: { PHONES },
      },
      {
        ...common,
        name: PHONES,
        scriptPath: path.join(root, "edge-worker/build/index.js"),
        // Its only secret: what wrangler gives it from edge-worker/.dev.vars.
        bindings: { TOKEN_KEY, ...phoneBindings },
      },
    ],
  });
  const db = await mf.getD1Database("DB");
  const dir = path.join(root, "edge-worker/migrations");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const stmt of statements(readFileSync(path.join(dir, f), "utf8"))) {
      await db.prepare(stmt).run();
    }
  }
  return { mf, db };
}

// D1's exec() wants one statement per line: strip comments and split on ';'.
export function statements(sql) {
  return sql
    .split("\n")
    .map((l) => l.replace(/--.*$/, ""))
    .join("\n")
    .split(";")
    .map((s) => s.replace(/\s+/g, " ").trim())
    .filter(Boolean);
}

export const sha256 = (s) => createHash("sha256").update(s).digest("hex");

// The steady-state token, computed independently of the engine: HMAC-SHA256 over
// "steady-token\0" + id + "\0" + generation (u32 big-endian), first 16 bytes in hex.
export function steadyToken(id, generation = 0) {
  const g = Buffer.alloc(4);
  g.writeUInt32BE(generation);
  const mac = createHmac("sha256", TOKEN_KEY);
  mac.update(Buffer.concat([Buffer.from("steady-token\0"), Buffer.from(id), Buffer.from("\0"), g]));
  return mac.digest().subarray(0, 16).toString("hex");
}

export const now = () => Math.floor(Date.now() / 1000);

/** An admin API request to the worker under `mf`, signed in with ADMIN_TOKEN, a JSON body if given. */
export function adminRequest(mf, method, path, body, origin = "https://edge.example.com") {
  return mf.dispatchFetch(`${origin}/api${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function seedSite(db, { id = "site1", deny = "", allow = "", params = "" } = {}) {
  await db
    .prepare(
      "INSERT INTO sites (id, name, pbx_host, pbx_port, allow_macs, deny_macs, additional_params, ntp_server, timezone, language, created_at, updated_at) VALUES (?1, 'Demo office', 'pbx.example.com', 5060, ?2, ?3, ?4, 'pool.ntp.org', 'Europe/Berlin', 'de', ?5, ?5)",
    )
    .bind(id, allow, deny, params, now())
    .run();
  return id;
}

let users = 0;
export async function seedPhone(db, { site = "site1", id, mac, vendor, model = "", assignedAt = now(), bound = true }) {
  let userId = null;
  if (bound) {
    userId = `u${++users}`;
    await db
      .prepare(
        "INSERT INTO users (id, site_id, extension, auth_name, sip_password, display_name) VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
      )
      .bind(userId, site, String(200 + users), `Secret-${id}-pw`, `User ${users}`)
      .run();
  }
  const token1 = randomBytes(16).toString("hex");
  await db
    .prepare(
      "INSERT INTO phones (id, site_id, mac, vendor, model, user_id, token1_hash, token2_hash, assigned_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(id, site, mac, vendor, model, userId, sha256(token1), sha256(steadyToken(id)), assignedAt)
    .run();
  return { token1, token2: steadyToken(id), password: `Secret-${id}-pw` };
}
