// The preview's renderer, off the page's main thread: the engine compiled to wasm
// (engine-wasm/src/lib.rs, built by scripts/build-wasm.sh into ../pkg/), the same code the edge and
// the LAN relay serve phones with. One message in, one out:
//   in:  {id, request}  (an engine PreviewRequest: the phone's inputs and the draft template)
//   out: {id, result: {ok, preview, rows} | {ok: false, diagnostics}, ms}
// `rows` is the engine's side-by-side diff of the config against the vendor default, and
// `ms` the time the render and the diff took in here.

import init, { preview, diff } from "../pkg/engine_wasm.js";

const ready = init();

self.addEventListener("message", async (e) => {
  const { id, request } = e.data;
  let result;
  const t0 = performance.now();
  try {
    await ready;
    result = JSON.parse(preview(JSON.stringify(request)));
    if (result.ok) result.rows = JSON.parse(diff(result.preview.default_config, result.preview.config));
  } catch (err) {
    // The engine never throws; only a failed load of the package lands here.
    result = { ok: false, diagnostics: [{ source: "input", line: null, column: null, message: `the preview engine did not load: ${err.message ?? err}`, field: null }] };
  }
  self.postMessage({ id, result, ms: performance.now() - t0 });
});
