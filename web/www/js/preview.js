// The live preview behind one small interface, shaped like the engine's wasm bindings
// (web/src/lib.rs: `preview`, `diff`), so moving rendering into the page is a change of
// this file only. For now it asks the edge (`POST /api/sites/<site>/preview`), which
// renders through the same code that serves phones; typing never waits on it (requests
// are asynchronous, and a newer one supersedes an older one in the editor).

import { api, sitePath } from "./api.js";

/** Loads the renderer (nothing to load while the edge renders). */
export async function init() {}

/**
 * Renders what a phone would receive.
 * `request`: `{site, mac?, vendor?, model?, user_extension?, reveal_secrets?,
 *   template?: {name?, vendor, style?, composition?, source}}`.
 * Resolves to `{ok: true, preview: {file, content_type, config, default_config}}` or
 * `{ok: false, diagnostics: [{source, line, column, message, field}]}`; never rejects.
 */
export async function preview(request) {
  const { site, ...body } = request;
  try {
    return { ok: true, preview: await api("POST", sitePath(site, "preview"), body) };
  } catch (e) {
    return { ok: false, diagnostics: [diagnostic(e)] };
  }
}

// "line 3, column 7: unexpected end" -> {line: 3, column: 7, message: "unexpected end"}.
function diagnostic(e) {
  const field = e.field ?? null;
  const m = /^line (\d+)(?:, column (\d+))?: ([\s\S]*)$/.exec(e.message ?? "");
  const source = field?.startsWith("template") ? "template"
    : field === "additional_params" ? "params" : e.status === 400 ? "input" : "output";
  return {
    source,
    line: m ? Number(m[1]) : null,
    column: m && m[2] ? Number(m[2]) : null,
    message: m ? m[3] : e.message,
    field,
  };
}

/**
 * Side-by-side rows from `old` to `next`, as the engine's `diff_lines`: every line of
 * both in order, `{kind: "same"|"added"|"removed"|"changed", old_line, new_line, old, new}`
 * (1-based lines); a block of removed lines followed by added ones pairs up as `changed`.
 */
export function diff(old, next) {
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
