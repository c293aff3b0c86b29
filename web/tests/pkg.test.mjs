// The built package as the page loads it (wasm-bindgen --target web, after wasm-opt), in
// node: the JS glue, the string boundary and the exports' JSON. Run scripts/build-web.sh
// first (scripts/test.sh does).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const root = new URL("../..", import.meta.url);
const pkg = await import(new URL("web/www/pkg/web.js", root));
pkg.initSync({ module: readFileSync(new URL("web/www/pkg/web_bg.wasm", root)) });

test("preview: config, default config and diff; masked unless revealed", () => {
  const req = JSON.parse(readFileSync(new URL("tests/fixtures/yealink/preview40.json", root), "utf8"));
  const out = JSON.parse(pkg.preview(JSON.stringify(req)));
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.equal(out.preview.file, "001565123456.cfg");
  assert.equal(out.preview.config.match(/\.type = 16/g).length, 40);
  assert.match(out.preview.config, /account\.1\.password = \*{8}\n/);
  const rows = JSON.parse(pkg.diff(out.preview.default_config, out.preview.config));
  assert.ok(rows.some((r) => r.kind !== "same"));
  assert.ok(rows.every((r) => ["same", "added", "removed", "changed"].includes(r.kind)));
  const revealed = JSON.parse(pkg.preview(JSON.stringify({ ...req, reveal_secrets: true })));
  assert.match(revealed.preview.config, /account\.1\.password = 1c9709222690713dd\n/);
});

test("diagnostics carry source, line and column; bad JSON is a diagnostic, not a throw", () => {
  const bad = JSON.parse(pkg.preview(JSON.stringify({ vendor: "yealink", template: { style: "jinja", source: "a = 1\nb = 2\nc = {{ user.extension }\n" } })));
  assert.equal(bad.ok, false);
  assert.deepEqual([bad.diagnostics[0].source, bad.diagnostics[0].line, bad.diagnostics[0].column], ["template", 3, 23]);
  const garbled = JSON.parse(pkg.preview("{not json"));
  assert.equal(garbled.diagnostics[0].field, "request");
  const params = JSON.parse(pkg.checkParams("[yealink]\nbroken\n", "yealink"));
  assert.deepEqual([params[0].source, params[0].line, params[0].column], ["params", 2, 1]);
  assert.deepEqual(JSON.parse(pkg.checkParams("[yealink]\na = 1\n", undefined)), []);
  const tpl = JSON.parse(pkg.checkTemplate(JSON.stringify({ vendor: "snom", composition: "replace", style: "jinja", source: "<a>\n</b>" })));
  assert.equal(tpl[0].source, "output");
});

test("vendors and sample data", () => {
  const vendors = JSON.parse(pkg.vendors());
  assert.deepEqual(vendors.map((v) => v.vendor), ["yealink", "snom", "fanvil", "grandstream", "htek", "ale"]);
  const s = JSON.parse(pkg.sample("grandstream"));
  assert.equal(s.sample.model, "GXP2170");
  const again = JSON.parse(pkg.preview(JSON.stringify(s.sample)));
  assert.equal(again.ok, true);
  assert.equal(again.preview.content_type, "application/xml");
});
