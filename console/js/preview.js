// The live preview behind one small interface (`init`, `preview`, `diff`). Rendering runs
// in the page, off its main thread: a Web Worker (preview-worker.js) runs the engine
// compiled to wasm, the code the edge serves phones with, so every keystroke renders
// locally with no server round trip, and offline once loaded. What a real phone renders
// from (its site, user, BLF keys, firmware, URL and saved template) comes from the edge once
// per phone chosen (`GET .../phones/<mac>/preview-input`, built by the same edge code as its
// own preview), so the page shows byte for byte the file that phone receives. The sample
// phone's input comes from the edge too, once per vendor (`GET .../preview-input?vendor=`):
// the site's own PBX, time, Additional Parameters, firmware rows and URL with a sample user,
// MAC and BLF keys, the input the edge's own sample preview renders from. Should the edge be
// out of reach (offline) before it was fetched, the engine's built-in sample site stands in,
// and the answer says so (`generic: true`). Inputs are kept in memory only, for the
// templates screen's lifetime.

import { api, sitePath } from "./api.js";

let worker = null;
let inputs = new Map();
let busy = false;
let pending = null; // the newest request waiting for the worker, and every caller it answers
const answers = new Map();
let ids = 0;
let last = null; // the last rendered preview's texts and the engine's diff rows

/** Starts the renderer (the worker loads the wasm once) and forgets fetched phone inputs. */
export async function init() {
  inputs = new Map();
  if (worker) return;
  worker = new Worker(new URL("./preview-worker.js", import.meta.url), { type: "module" });
  worker.addEventListener("message", (e) => {
    const { id, result, ms } = e.data;
    if (result.ok) last = { old: result.preview.default_config, next: result.preview.config, rows: result.rows };
    answers.get(id)?.({ ...result, ms });
    answers.delete(id);
    busy = false;
    send();
  });
  worker.addEventListener("error", (e) => {
    for (const [id, done] of answers) { done(failed(`the preview engine failed: ${e.message}`)); answers.delete(id); }
    busy = false;
    send();
  });
}

// One render at a time; while one runs, a newer request replaces the waiting one (typing
// faster than the engine renders skips the intermediate states, never the last).
function send() {
  if (busy || !pending) return;
  const { request, callers } = pending;
  pending = null;
  busy = true;
  const id = ++ids;
  answers.set(id, (r) => callers.forEach((c) => c(r)));
  worker.postMessage({ id, request });
}

function render(request) {
  return new Promise((resolve) => {
    if (pending) { pending.request = request; pending.callers.push(resolve); } else pending = { request, callers: [resolve] };
    send();
  });
}

/**
 * Renders what a phone would receive.
 * `request`: `{site, mac?, vendor?, model?, reveal_secrets?,
 *   template?: {name?, vendor, style?, composition?, source}}`: with `mac`, that phone of the
 * site (its saved template unless `template`); without, the sample phone of `vendor` on the
 * site's settings.
 * Resolves to `{ok: true, preview: {file, content_type, config, default_config}, rows, ms,
 * pbx?, generic?}` (for a sample: `pbx` the PBX it is on, "host:port"; `generic` the
 * engine's own sample site, the site's settings out of reach) or
 * `{ok: false, diagnostics: [{source, line, column, message, field}]}`; never rejects.
 */
export async function preview(request) {
  if (!worker) await init();
  const { site, mac, vendor, model, template, reveal_secrets = false } = request;
  const q = new URLSearchParams();
  if (!mac) { q.set("vendor", vendor); if (model) q.set("model", model); }
  if (reveal_secrets) q.set("reveal_secrets", "true");
  const path = mac ? sitePath(site, "phones", mac, "preview-input") : sitePath(site, "preview-input");
  const url = String(q) ? `${path}?${q}` : path;
  if (!inputs.has(url)) {
    inputs.set(url, api("GET", url).catch((e) => { inputs.delete(url); throw e; }));
  }
  let req, generic = false;
  try {
    req = { ...(await inputs.get(url)) };
  } catch (e) {
    // Out of reach (status 0): a sample still renders, on the engine's sample site.
    if (mac || e.status !== 0) return { ok: false, diagnostics: [diagnostic(e)] };
    req = { vendor, reveal_secrets };
    generic = true;
  }
  if (template) req.template = template;
  if (model) req.model = model;
  const r = await render(req);
  if (mac || !r.ok) return r;
  return { ...r, generic, pbx: req.site ? `${req.site.pbx_host}:${req.site.pbx_port}` : null };
}

function failed(message) {
  return { ok: false, diagnostics: [{ source: "input", line: null, column: null, message, field: null }] };
}

// An API refusal -> a diagnostic ("line 3, column 7: unexpected end" -> line 3, column 7).
function diagnostic(e) {
  const field = e.field ?? null;
  const m = /^line (\d+)(?:, column (\d+))?: ([\s\S]*)$/.exec(e.message ?? "");
  return {
    source: "input",
    line: m ? Number(m[1]) : null,
    column: m && m[2] ? Number(m[2]) : null,
    message: m ? m[3] : e.message,
    field,
  };
}

/**
 * Side-by-side rows from `old` to `next`, as the engine's `diff_lines`: every line of both
 * in order, `{kind: "same"|"added"|"removed"|"changed", old_line, new_line, old, new}`
 * (1-based lines); a block of removed lines followed by added ones pairs up as `changed`.
 * For the preview just rendered these are the engine's own rows (computed in the worker);
 * other texts are diffed here.
 */
export function diff(old, next) {
  if (last && last.old === old && last.next === next && last.rows) return last.rows;
  return diffHere(old, next);
}

function diffHere(old, next) {
  const a = lines(old), b = lines(next);
  // Common prefix and suffix first: a template usually changes a few lines of many.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length, endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const n = endA - start, m = endB - start;
  // LCS table of the middle (configs are hundreds of lines, so n*m stays small).
  const w = m + 1;
  const t = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      t[i * w + j] = a[start + i] === b[start + j] ? t[(i + 1) * w + j + 1] + 1
        : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
  const rows = [];
  const same = (i, j) => rows.push({ kind: "same", old_line: i + 1, new_line: j + 1, old: a[i], new: b[j] });
  for (let i = 0; i < start; i++) same(i, i);
  let i = 0, j = 0, removed = [], added = [];
  const flush = () => {
    const k = Math.min(removed.length, added.length);
    for (let x = 0; x < k; x++)
      rows.push({ kind: "changed", old_line: removed[x] + 1, new_line: added[x] + 1, old: a[removed[x]], new: b[added[x]] });
    for (const r of removed.slice(k)) rows.push({ kind: "removed", old_line: r + 1, new_line: null, old: a[r], new: null });
    for (const r of added.slice(k)) rows.push({ kind: "added", old_line: null, new_line: r + 1, old: null, new: b[r] });
    removed = []; added = [];
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) { flush(); same(start + i, start + j); i++; j++; }
    else if (j >= m || (i < n && t[(i + 1) * w + j] >= t[i * w + j + 1])) removed.push(start + i++);
    else added.push(start + j++);
  }
  flush();
  for (let k = 0; k < a.length - endA; k++) same(endA + k, endB + k);
  return rows;
}

function lines(s) {
  const out = s.split(/\r?\n/);
  if (out.length && out[out.length - 1] === "") out.pop();
  return out;
}
