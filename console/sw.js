// The console's service worker: keeps the page's own files, the preview's worker and the
// engine's wasm package (pkg/, built by scripts/build-wasm.sh) so a loaded console keeps
// rendering template previews offline. Network first, so a new deploy is picked up at
// once; the cache answers only when the network does not. Nothing but the files in SHELL is
// cached (API answers hold inventory data and secrets; phones' files hold SIP passwords).
const CACHE = "console-v6";
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

// Only the page and its package are ever cached, named one by one: anything else on this
// origin (the admin API, a phone's /p/ or /s/ file with its SIP password, the relay API) goes
// to the network untouched and never reaches the cache (issue 15, finding 9).
const SHELL_PATHS = new Set(SHELL.map((p) => new URL(p, self.registration.scope).pathname));

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  if (!SHELL_PATHS.has(url.pathname)) return;
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(e.request, copy));
    }
    return res;
  }).catch(() => caches.match(e.request, { ignoreSearch: true })
    .then((hit) => hit ?? (e.request.mode === "navigate" ? caches.match("index.html") : Response.error()))));
});
