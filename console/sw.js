// The console's service worker: keeps the page's own files, the preview's worker and the
// engine's wasm package (pkg/, built by scripts/build-wasm.sh) so a loaded console keeps
// rendering template previews offline. Network first, so a new deploy is picked up at
// once; the cache answers only when the network does not. API answers are never cached
// (they hold inventory data, secrets when revealed, and need the token).
const CACHE = "console-v4";
const SHELL = ["./", "index.html", "app.css", "js/app.js", "js/api.js", "js/dom.js", "js/phones.js", "js/charts.js",
  "js/templates.js", "js/preview.js", "js/crud.js", "js/users.js", "js/urimaps.js", "js/phonebooks.js",
  "js/settings.js", "js/firmware.js", "js/rps.js", "js/vendors.js", "js/preview-worker.js", "pkg/engine_wasm.js", "pkg/engine_wasm_bg.wasm"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  if (/^\/(api|p|relay)\//.test(url.pathname) || url.pathname === "/healthz") return;
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(e.request, copy));
    }
    return res;
  }).catch(() => caches.match(e.request, { ignoreSearch: true })
    .then((hit) => hit ?? (e.request.mode === "navigate" ? caches.match("index.html") : Response.error()))));
});
