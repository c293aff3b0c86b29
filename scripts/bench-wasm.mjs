// The wasm side of the preview benchmark: the page's keystroke (preview of the 40-BLF-key
// Yealink Jinja template, then the diff against the default config) through the built
// bindings in console/pkg (scripts/build-wasm.sh), in node, or with --chromium in Debian's
// headless Chromium (the page's engine: the same package loaded from a local HTTP server).
// Prints JSON like its native peer (engine-wasm/examples/bench_native.rs); scripts/bench-wasm.sh runs
// them all and prints the ratios.
//   node scripts/bench-wasm.mjs [iterations] [--chromium]
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

const root = new URL("..", import.meta.url);
const args = process.argv.slice(2);
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
const req = readFileSync(new URL("tests/fixtures/yealink/preview40.json", root), "utf8");

// The loop, the same text for node and the browser (run with `pkg` loaded and `req`, `n`).
function bench(pkg, req, n) {
  const keystroke = () => {
    const out = JSON.parse(pkg.preview(req));
    if (!out.ok) throw new Error(JSON.stringify(out.diagnostics));
    return pkg.diff(out.preview.default_config, out.preview.config);
  };
  for (let i = 0; i < n / 10; i++) keystroke();
  let t = performance.now();
  for (let i = 0; i < n; i++) pkg.preview(req);
  const preview_us = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (let i = 0; i < n; i++) keystroke();
  const keystroke_us = ((performance.now() - t) * 1000) / n;
  return { preview_us: +preview_us.toFixed(1), keystroke_us: +keystroke_us.toFixed(1), iterations: n };
}

if (!args.includes("--chromium")) {
  const pkg = await import(new URL("console/pkg/engine_wasm.js", root));
  pkg.initSync({ module: readFileSync(new URL("console/pkg/engine_wasm_bg.wasm", root)) });
  console.log(JSON.stringify(bench(pkg, req, n)));
} else {
  const { chromium } = await import("playwright-core");
  const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
  const server = createServer((rq, res) => {
    const p = new URL(rq.url, "http://x").pathname;
    const file = p === "/" ? null : path.join(new URL("console/pkg", root).pathname, path.basename(p));
    if (!file) { res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><title>bench</title>"); return; }
    let body;
    try { body = readFileSync(file); } catch { res.writeHead(404).end(); return; }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] ?? "application/octet-stream" }).end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const profile = mkdtempSync(path.join(tmpdir(), "chromium-profile-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = browser.pages()[0] ?? await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const out = await page.evaluate(async ([src, req, n]) => {
      const pkg = await import("/engine_wasm.js");
      await pkg.default();
      return new Function(`return (${src})`)()(pkg, req, n);
    }, [bench.toString(), req, n]);
    console.log(JSON.stringify(out));
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    server.close();
  }
}
