// The wasm side of the preview benchmark: the page's keystroke (preview of the 40-BLF-key
// Yealink Jinja template, then the diff against the default config) through the built
// bindings in web/www/pkg (scripts/build-web.sh), in node. Prints JSON like its native peer
// (web/examples/bench_native.rs); scripts/bench-web.sh runs both and prints the ratio.
//   node scripts/bench-web.mjs [iterations]
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const root = new URL("..", import.meta.url);
const pkg = await import(new URL("web/www/pkg/web.js", root));
pkg.initSync({ module: readFileSync(new URL("web/www/pkg/web_bg.wasm", root)) });
const req = readFileSync(new URL("tests/fixtures/yealink/preview40.json", root), "utf8");
const n = Number(process.argv[2] ?? 2000);

const keystroke = () => {
  const out = JSON.parse(pkg.preview(req));
  if (!out.ok) throw new Error(JSON.stringify(out.diagnostics));
  return pkg.diff(out.preview.default_config, out.preview.config);
};
for (let i = 0; i < n / 10; i++) pkg.preview(req);
let t = performance.now();
for (let i = 0; i < n; i++) pkg.preview(req);
const preview_us = ((performance.now() - t) * 1000) / n;
t = performance.now();
for (let i = 0; i < n; i++) keystroke();
const keystroke_us = ((performance.now() - t) * 1000) / n;
console.log(JSON.stringify({ preview_us: +preview_us.toFixed(1), keystroke_us: +keystroke_us.toFixed(1), iterations: n }));
