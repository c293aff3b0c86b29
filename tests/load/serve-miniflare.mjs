// Serves the built edge worker with plain Miniflare (one workerd, no inspector, no wrangler
// proxy) on 127.0.0.1:<port>, over wrangler's local state (the same D1 as `wrangler dev
// --persist-to <dir>`), with the secrets from ./.dev.vars. scripts/load-edge.sh runs it as
// the second runtime: `wrangler dev` relays every inspector event of every D1 query to node,
// which costs the D1-bound routes far more than they cost in workerd itself.
//   node tests/load/serve-miniflare.mjs <port> <persist dir>     (Ctrl-C or SIGTERM stops it)
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [port, persistTo] = process.argv.slice(2);
if (!port || !persistTo) throw new Error("usage: serve-miniflare.mjs <port> <persist dir>");
const bindings = Object.fromEntries(
  readFileSync(".dev.vars", "utf8")
    .split("\n")
    .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
// The bindings as wrangler.toml declares them; the D1 database is found by its id, as
// wrangler finds it, under <persist dir>/v3 (wrangler's layout).
const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
const field = (name) => new RegExp(`^${name} = "([^"]*)"`, "m").exec(toml)?.[1];
const mf = new Miniflare({
  host: "127.0.0.1",
  port: Number(port),
  modules: true,
  scriptPath: path.join(root, field("main")),
  modulesRoot: root,
  modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  compatibilityDate: field("compatibility_date"),
  d1Databases: { [/\[\[d1_databases\]\]\s*binding = "([^"]*)"/.exec(toml)[1]]: field("database_id") },
  r2Buckets: [/\[\[r2_buckets\]\]\s*binding = "([^"]*)"/.exec(toml)[1]],
  bindings,
  defaultPersistRoot: path.join(path.resolve(persistTo), "v3"),
  cf: false,
});
await mf.ready;
console.log(`Miniflare ready on http://127.0.0.1:${port}`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
