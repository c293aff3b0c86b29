// Seeds the local D1 database (wrangler's --local state) with a demo site: five users, one
// phone of each vendor bound to them, BLF keys, an external phonebook source and two
// templates (a Yealink placeholder overlay, a Snom Jinja overlay). Prints, for each phone,
// the curl command that fetches its config as that phone would.
// Also gives the site a relay token (written to .relay/token) for the LAN relay's sync.
//   node scripts/seed-demo.mjs [edge-url] [relay-url]
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const base = process.argv[2] ?? "http://127.0.0.1:8787";
const relayBase = process.argv[3];
// A test seeds its own wrangler state: SEED_DEV_VARS (the secrets file), SEED_PERSIST_TO
// (wrangler's --persist-to) and SEED_RELAY_DIR (where the relay token goes) move it.
const devVars = process.env.SEED_DEV_VARS ?? ".dev.vars";
const persistTo = process.env.SEED_PERSIST_TO ? [`--persist-to=${process.env.SEED_PERSIST_TO}`] : [];
const relayDir = process.env.SEED_RELAY_DIR ?? ".relay";
const vars = readFileSync(devVars, "utf8");
const key = /^TOKEN_KEY=(.*)$/m.exec(vars)?.[1];
if (!key) throw new Error(`${devVars} has no TOKEN_KEY`);

const sha256 = (s) => createHash("sha256").update(s).digest("hex");
function steadyToken(id, generation = 0) {
  const g = Buffer.alloc(4);
  g.writeUInt32BE(generation);
  const mac = createHmac("sha256", key);
  mac.update(Buffer.concat([Buffer.from("steady-token\0"), Buffer.from(id), Buffer.from("\0"), g]));
  return mac.digest().subarray(0, 16).toString("hex");
}
const q = (s) => (s === null ? "NULL" : `'${String(s).replaceAll("'", "''")}'`);
// A multi-line text: SQLite has no escapes, so newlines are spliced in with char(10).
const qLines = (s) => `replace(${q(s.replaceAll("\n", "\\n"))}, '\\n', char(10))`;
const now = Math.floor(Date.now() / 1000);

const phones = [
  { id: "demo-yealink", vendor: "yealink", model: "T46S", mac: "001565000001", ext: "201", name: "Irina Smirnova",
    file: "001565000001.cfg", ua: "Yealink SIP-T46S 66.86.0.15 00:15:65:00:00:01" },
  { id: "demo-snom", vendor: "snom", model: "D785", mac: "000413000002", ext: "202", name: "Jonas Weber",
    file: "000413000002.xml", ua: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413000002 SXM:0 UXM:0)" },
  { id: "demo-fanvil", vendor: "fanvil", model: "X4U", mac: "0c383e000003", ext: "203", name: "Chen Wei",
    file: "0c383e000003.cfg", ua: "Fanvil X4U 2.12.1 0c383e000003" },
  { id: "demo-grandstream", vendor: "grandstream", model: "GXP2170", mac: "000b82000004", ext: "204", name: "Ana Souza",
    file: "cfg000b82000004.xml", ua: "Grandstream Model HW GXP2170 SW 1.0.11.23 DevId 000b82000004" },
  { id: "demo-htek", vendor: "htek", model: "UC926", mac: "001fc1000005", ext: "205", name: "Omar Haddad",
    file: "cfg001fc1000005.xml", ua: "Htek UC926 2.0.4.4.66 00:1f:c1:00:00:05" },
];

// Templates as an administrator would write them (the admin API validates them on save; the
// smoke test checks that the demo phones' configs carry their lines).
const templates = [
  { id: "demo-tpl-yealink", name: "Yealink desk", vendor: "yealink", style: "placeholder",
    source: "#!version:1.0.0.1\naccount.1.label = {SIP_NUM} {SIP_DISPLAY_NAME}\nfeatures.dnd.enable = 0\nfeatures.intercom.allow = 1\n" },
  { id: "demo-tpl-snom", name: "Snom desk", vendor: "snom", style: "jinja",
    source: '<settings>\n  <phone-settings>\n    <user_realname idx="1" perm="RW">{{ user.extension }} {{ user.display_name }}</user_realname>\n    <dnd_mode perm="RW">off</dnd_mode>\n  </phone-settings>\n</settings>\n' },
];
const templateOf = { yealink: "demo-tpl-yealink", snom: "demo-tpl-snom" };

const sql = [
  "DELETE FROM templates WHERE site_id = 'demo'",
  "DELETE FROM phonebook_sources WHERE site_id = 'demo'",
  "DELETE FROM phones WHERE site_id = 'demo'",
  "DELETE FROM users WHERE site_id = 'demo'",
  "DELETE FROM sites WHERE id = 'demo'",
  `INSERT INTO sites (id, name, pbx_host, pbx_port, star_code_pattern, star_code_mode, star_code_pin, additional_params, ntp_server, timezone, language, created_at, updated_at) VALUES ('demo', 'Demo office', 'pbx.demo.example', 5060, '*123*', 'pin', 1, ${qLines("[yealink]\nphone_setting.backlight_time = 60\n")}, 'pool.ntp.org', 'Europe/Berlin', 'en', ${now}, ${now})`,
];
for (const t of templates)
  sql.push(`INSERT INTO templates (id, site_id, name, vendor, style, composition, source, updated_at) VALUES (${q(t.id)}, 'demo', ${q(t.name)}, ${q(t.vendor)}, ${q(t.style)}, 'overlay', ${qLines(t.source)}, ${now})`);
const relayToken = randomBytes(16).toString("hex");
sql.push(`UPDATE sites SET relay_token_hash = ${q(sha256(relayToken))} WHERE id = 'demo'`);
mkdirSync(relayDir, { recursive: true });
writeFileSync(path.join(relayDir, "token"), relayToken + "\n", { mode: 0o600 });
const printed = [];
const printedRelay = [];
for (const p of phones) {
  const token1 = randomBytes(16).toString("hex");
  sql.push(`INSERT INTO users (id, site_id, extension, auth_name, sip_password, display_name, voicemail_pin) VALUES (${q("u-" + p.id)}, 'demo', ${q(p.ext)}, ${q(p.ext)}, ${q(randomBytes(9).toString("base64url"))}, ${q(p.name)}, ${q(String(1000 + Number(p.ext)))})`);
  sql.push(`INSERT INTO phones (id, site_id, mac, vendor, model, user_id, template_id, token1_hash, token2_hash, assigned_at) VALUES (${q(p.id)}, 'demo', ${q(p.mac)}, ${q(p.vendor)}, ${q(p.model)}, ${q("u-" + p.id)}, ${q(templateOf[p.vendor] ?? null)}, ${q(sha256(token1))}, ${q(sha256(steadyToken(p.id)))}, ${now})`);
  phones.filter((o) => o !== p).forEach((o, i) =>
    sql.push(`INSERT INTO blf_keys (phone_id, position, extension, label) VALUES (${q(p.id)}, ${i + 1}, ${q(o.ext)}, ${q(o.name)})`));
  printed.push(`# ${p.vendor} ${p.model}\ncurl -s -A '${p.ua}' ${base}/p/${token1}/${p.file}`);
  if (relayBase) printedRelay.push(`# ${p.vendor} ${p.model} on the LAN\ncurl -s -A '${p.ua}' ${relayBase}/${p.file}`);
}
sql.push("INSERT INTO phonebook_sources (id, site_id, name, priority) VALUES ('demo-hq', 'demo', 'Head office PBX', 10)");
[["Head office reception", "+49 30 1234567"], ["IT helpdesk", "+49 30 1234599"]].forEach(([n, num], i) =>
  sql.push(`INSERT INTO phonebook_entries (source_id, position, name, number) VALUES ('demo-hq', ${i + 1}, ${q(n)}, ${q(num)})`));

// The SQL holds the demo users' SIP passwords: it lives only as long as the command.
const dir = mkdtempSync(path.join(tmpdir(), "seed-"));
const file = path.join(dir, "seed.sql");
try {
  writeFileSync(file, sql.map((s) => s + ";").join("\n") + "\n", { mode: 0o600 });
  execFileSync("node_modules/.bin/wrangler", ["d1", "execute", "DB", "--local", ...persistTo, `--file=${file}`], { stdio: ["ignore", "ignore", "inherit"] });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log("Demo site seeded. Fetch each phone's config as that phone (first-access token URLs):\n");
console.log(printed.join("\n\n"));
if (relayBase) {
  console.log("\nThe same phones through the LAN relay (HTTP; TFTP serves the same names):\n");
  console.log(printedRelay.join("\n\n"));
}
