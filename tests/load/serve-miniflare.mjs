// Serves the built Workers with plain Miniflare (one workerd, no inspector, no wrangler
// proxy) on 127.0.0.1:<port>, over wrangler's local state (the same D1 as `wrangler dev
// --persist-to <dir>`), with the secrets from ./.dev.vars. scripts/load-edge.sh runs it as
// the second runtime: `wrangler dev` relays every inspector event of every D1 query to node,
// which costs the D1-bound routes far more than they cost in workerd itself.
//   node tests/load/serve-miniflare.mjs <port> <persist dir> [both|phones]
// both (the default): the admin worker serves the port and hands the phone routes to the
// phone worker through its PHONES service binding, as under `wrangler dev`. phones: the phone
// worker alone serves the port, as in production on its own hostname.
// The phone worker gets TOKEN_KEY alone from .dev.vars; the admin worker gets every entry.
// Ctrl-C or SIGTERM stops it. (Static assets are not served.)
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const [port, persistTo, which = "both"] = process.argv.slice(2);
if (!port || !persistTo || !["both", "phones"].includes(which)) {
  throw new Error("usage: serve-miniflare.mjs <port> <persist dir> [both|phones]");
}
const secrets = Object.fromEntries(
  readFileSync(".dev.vars", "utf8")
    .split("\n")
    .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);
// A worker as its wrangler config declares it (paths relative to the config's directory);
// the D1 database is found by its id, as wrangler finds it, under <persist dir>/v3.
function worker(config, bindings) {
  const toml = readFileSync(path.join(root, config), "utf8");
  const field = (name) => new RegExp(`^${name} = "([^"]*)"`, "m").exec(toml)?.[1];
  const services = [...toml.matchAll(/\[\[services\]\]\s*binding = "([^"]*)"\s*service = "([^"]*)"/g)];
  return {
    name: field("name"),
    modules: true,
    scriptPath: path.join(root, path.dirname(config), field("main")),
    modulesRoot: root,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: field("compatibility_date"),
    d1Databases: { [/\[\[d1_databases\]\]\s*binding = "([^"]*)"/.exec(toml)[1]]: field("database_id") },
    r2Buckets: { [/\[\[r2_buckets\]\]\s*binding = "([^"]*)"/.exec(toml)[1]]: field("bucket_name") },
    serviceBindings: Object.fromEntries(services.map((m) => [m[1], m[2]])),
    bindings,
  };
}
const phones = worker("edge-worker/wrangler.toml", { TOKEN_KEY: secrets.TOKEN_KEY });
const workers = which === "phones" ? [phones] : [worker("wrangler.toml", secrets), phones];
const mf = new Miniflare({
  host: "127.0.0.1",
  port: Number(port),
  workers,
  defaultPersistRoot: path.join(path.resolve(persistTo), "v3"),
  cf: false,
});
await mf.ready;
console.log(`Miniflare ready on http://127.0.0.1:${port} (${workers.map((w) => w.name).join(" -> ")})`);
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
