// Templates: the editor with the live preview of the exact file a chosen phone (or a sample
// phone on the site's own settings) would receive, errors with line and column and the line marked,
// and a side-by-side diff against the vendor's default config.

import { api, sitePath } from "./api.js";
import { h, put, field, values, showError, clearErrors, announce } from "./dom.js";
import * as renderer from "./preview.js";
import { CONFIGURED as VENDORS } from "./vendors.js";
let ctx = null;

export async function mount(view, state) {
  ctx = { site: state.site, seq: 0 };
  await renderer.init();
  const [templates, phones] = await Promise.all([
    api("GET", sitePath(ctx.site, "templates")), api("GET", sitePath(ctx.site, "phones"))]);
  ctx.templates = templates;
  ctx.phones = phones;
  ctx.list = h("ul", { class: "tpl-list", "aria-label": "Templates" });
  ctx.pane = h("div", { class: "tpl-pane" });
  put(view,
    h("div", { class: "section-head" }, h("h2", {}, "Templates"),
      h("div", { class: "actions" },
        h("button", { type: "button", id: "load-examples", onclick: loadExamples,
          title: "Adds one commented example template per vendor; a name the site already has is kept as it is." }, "Load examples"),
        h("button", { type: "button", class: "primary", id: "new-template", onclick: () => open(null) }, "New template"))),
    h("div", { class: "tpl-layout" }, h("nav", { "aria-label": "Templates of the site", class: "card" }, ctx.list), ctx.pane));
  drawList();
  open(templates[0] ?? null);
}

export function unmount() { ctx = null; }

/**
 * "Load examples", as in MikoPBX's module: one example per vendor, added beside the site's
 * templates. One the site already has (by name) is kept as it is, so a second click adds
 * nothing and an edited example is not overwritten.
 */
async function loadExamples(ev) {
  const btn = ev.currentTarget, c = ctx;
  btn.disabled = true;
  try {
    const r = await api("POST", sitePath(c.site, "templates", "examples"));
    if (ctx !== c) return;
    ctx.templates = await api("GET", sitePath(c.site, "templates"));
    const added = r.installed.length ? `Added ${r.installed.join(", ")}.` : "No example added.";
    const kept = r.skipped.length ? ` Already here, kept as they are: ${r.skipped.join(", ")}.` : "";
    announce(added + kept);
    open(ctx.templates.find((t) => t.name === r.installed[0]) ?? ctx.templates[0] ?? null);
  } catch (e) {
    announce(`Examples not loaded: ${e.message}`);
  } finally {
    btn.disabled = false;
  }
}

function drawList(active) {
  put(ctx.list, ctx.templates.length ? ctx.templates.map((t) =>
    h("li", {}, h("button", { type: "button", class: "link", "aria-current": t.name === active ? "true" : null, onclick: () => open(t) },
      t.name, h("small", {}, ` ${t.vendor} · ${t.style}`)))) : h("li", {}, "No templates yet."));
}

function open(t) {
  const isNew = !t;
  t ??= { name: "", vendor: VENDORS[0], style: "placeholder", composition: "overlay", source: "" };
  drawList(t.name);
  const gutter = h("div", { class: "gutter", "aria-hidden": "true" });
  const mark = h("div", { class: "line-mark", hidden: true, "aria-hidden": "true" });
  const src = h("textarea", { id: "tpl-source", name: "source", spellcheck: "false", wrap: "off", "aria-describedby": "tpl-source-err tpl-diag", rows: "22" });
  src.value = t.source;
  const editor = h("div", { class: "field", dataset: { field: "source" } },
    h("label", { for: "tpl-source" }, "Source"),
    h("div", { class: "editor" }, gutter, h("div", { class: "code" }, mark, src)),
    h("p", { id: "tpl-source-err", class: "error", role: "alert", hidden: true }));
  const err = h("p", { class: "error form-error", role: "alert", hidden: true });
  const form = h("form", { novalidate: true, id: "tpl-form", class: "card" },
    h("div", { class: "row4" },
      field({ label: "Name", name: "name", value: t.name, attrs: { required: true } }),
      field({ label: "Vendor", name: "vendor", value: t.vendor, options: VENDORS }),
      field({ label: "Style", name: "style", value: t.style, options: [["placeholder", "Placeholder"], ["jinja", "Jinja"]] }),
      field({ label: "Composition", name: "composition", value: t.composition, options: [["overlay", "Overlay"], ["replace", "Replace"]], hint: undefined })),
    editor, err,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", id: "tpl-save" }, isNew ? "Create template" : "Save"),
      !isNew && h("button", { type: "button", class: "danger", onclick: () => remove(t) }, "Delete")));
  const phoneSel = h("select", { id: "pv-phone" });
  const reveal = h("input", { type: "checkbox", id: "pv-reveal" });
  const diag = h("div", { id: "tpl-diag", class: "diag", role: "status", "aria-live": "polite" });
  const out = h("pre", { id: "preview-config", class: "config", tabindex: "0", "aria-label": "Rendered config" });
  const diffBox = h("div", { id: "preview-diff", class: "diff", hidden: true });
  const tabCfg = h("button", { type: "button", role: "tab", id: "tab-config", "aria-selected": "true", "aria-controls": "preview-config" }, "Config");
  const tabDiff = h("button", { type: "button", role: "tab", id: "tab-diff", "aria-selected": "false", "aria-controls": "preview-diff" }, "Diff against vendor default");
  const file = h("code", { id: "pv-file" });
  const source = h("p", { id: "pv-source", class: "hint" });
  const preview = h("section", { class: "card preview", "aria-labelledby": "pv-title" },
    h("h3", { id: "pv-title" }, "Preview ", file),
    h("div", { class: "toolbar" },
      h("label", { for: "pv-phone" }, "As phone"), phoneSel,
      h("label", { class: "inline" }, reveal, " show passwords and URL token")),
    source, diag, h("div", { role: "tablist", class: "tabs", "aria-label": "Preview" }, tabCfg, tabDiff), out, diffBox);
  put(ctx.pane, form, preview);

  const fillPhones = () => {
    const v = form.vendor.value, keep = phoneSel.value;
    put(phoneSel, h("option", { value: "" }, `sample ${v} phone`),
      ctx.phones.filter((p) => p.vendor === v).map((p) =>
        h("option", { value: p.mac, selected: p.mac === keep }, `${p.mac} ${p.extension ?? "(no user)"} ${p.display_name ?? ""}`)));
  };
  fillPhones();
  const numbers = () => {
    const n = src.value.split("\n").length;
    if (gutter.childElementCount !== n) put(gutter, Array.from({ length: n }, (_, i) => h("span", {}, i + 1)));
  };
  numbers();
  src.addEventListener("scroll", () => { gutter.scrollTop = src.scrollTop; mark.style.transform = `translateY(${-src.scrollTop}px)`; });
  // The diff table (hundreds of rows) is drawn only while its tab is shown.
  let shown = null, drawn = null;
  const showDiff = () => {
    if (diffBox.hidden || !shown || drawn === shown) return;
    drawDiff(diffBox, renderer.diff(shown.default_config, shown.config));
    drawn = shown;
  };
  const showTab = (diff) => {
    tabCfg.setAttribute("aria-selected", String(!diff)); tabDiff.setAttribute("aria-selected", String(diff));
    out.hidden = diff; diffBox.hidden = !diff;
    showDiff();
  };
  tabCfg.addEventListener("click", () => showTab(false));
  tabDiff.addEventListener("click", () => showTab(true));

  const run = async () => {
    const seq = ++ctx.seq;
    const v = values(form);
    const req = { site: ctx.site, template: { name: v.name || "draft", vendor: v.vendor, style: v.style, composition: v.composition, source: src.value }, reveal_secrets: reveal.checked };
    if (phoneSel.value) req.mac = phoneSel.value; else req.vendor = v.vendor;
    const r = await renderer.preview(req);
    if (!ctx || seq !== ctx.seq) return; // a newer keystroke's preview is on its way
    mark.hidden = true;
    for (const s of gutter.querySelectorAll(".bad")) s.classList.remove("bad");
    src.removeAttribute("aria-invalid");
    if (r.ok) {
      form.dataset.previewOk = "1";
      put(diag, h("span", { class: "ok" }, "✓ renders"), h("small", { class: "hint" }, ` in ${r.ms.toFixed(1)} ms, in this browser`));
      source.textContent = phoneSel.value ? "This phone's own user, keys and settings, as the edge serves it."
        : r.generic ? "Sample data on the engine's sample site: this site's settings could not be loaded (offline?)."
          : `Sample user, MAC and BLF keys on this site's settings: PBX ${r.pbx}, its Additional Parameters and firmware.`;
      source.classList.toggle("warn", !!r.generic);
      out.textContent = r.preview.config;
      file.textContent = r.preview.file;
      shown = r.preview;
      showDiff();
      out.classList.remove("stale");
    } else {
      form.dataset.previewOk = "0";
      out.classList.add("stale");
      put(diag, r.diagnostics.map((d) => diagnostic(d, src, gutter, mark)));
    }
    ctx.pane.dataset.engineMs = r.ms?.toFixed(2) ?? "";
    ctx.pane.dataset.rendered = String(seq);
  };
  // Every change renders at once: the engine runs in a worker, and preview.js drops the
  // states typed while a render runs (only the newest waits).
  const schedule = () => { run(); };
  src.addEventListener("input", () => { numbers(); schedule(); });
  form.vendor.addEventListener("change", () => { fillPhones(); schedule(); });
  for (const el of [form.style, form.composition, phoneSel, reveal]) el.addEventListener("change", schedule);
  src.addEventListener("keydown", (ev) => {
    // Tab indents inside the editor; Escape then Tab leaves it (keyboard users are not trapped).
    if (ev.key === "Escape") { src.dataset.escaped = "1"; return; }
    if (ev.key === "Tab" && !ev.shiftKey && !src.dataset.escaped) {
      ev.preventDefault();
      src.setRangeText("  ", src.selectionStart, src.selectionEnd, "end");
      src.dispatchEvent(new Event("input"));
    }
    if (ev.key !== "Escape") delete src.dataset.escaped;
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    const body = { name: v.name, vendor: v.vendor, style: v.style, composition: v.composition, source: src.value };
    try {
      if (isNew) await api("POST", sitePath(ctx.site, "templates"), body);
      else await api("PUT", sitePath(ctx.site, "templates", t.name), body);
      ctx.templates = await api("GET", sitePath(ctx.site, "templates"));
      announce(`Template ${v.name} saved.`);
      open(ctx.templates.find((x) => x.name === v.name));
    } catch (e) {
      showError(form, e);
      const m = /^line (\d+)/.exec(e.message);
      if (m) markLine(Number(m[1]), src, gutter, mark);
    }
  });
  run();
}

function diagnostic(d, src, gutter, mark) {
  const where = d.line ? `line ${d.line}${d.column ? `, column ${d.column}` : ""}: ` : "";
  const text = d.line ? src.value.split("\n")[d.line - 1] : null;
  if (d.line) markLine(d.line, src, gutter, mark);
  return h("div", { class: "diag-item", role: "alert" },
    h("p", { class: "error" }, where, d.message),
    text !== null && text !== undefined && h("pre", { class: "offending" }, h("span", { class: "ln" }, `${d.line} `), text),
    d.line && h("button", { type: "button", class: "link", onclick: () => goTo(src, d.line, d.column) }, "Go to the line"));
}

function markLine(line, src, gutter, mark) {
  gutter.children[line - 1]?.classList.add("bad");
  src.setAttribute("aria-invalid", "true");
  const lh = parseFloat(getComputedStyle(src).lineHeight) || 18;
  const pt = parseFloat(getComputedStyle(src).paddingTop) || 0;
  mark.style.top = `${pt + (line - 1) * lh}px`;
  mark.style.height = `${lh}px`;
  mark.hidden = false;
  mark.dataset.line = String(line);
}

function goTo(src, line, col = 1) {
  const lines = src.value.split("\n");
  const pos = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0) + Math.max(0, (col ?? 1) - 1);
  src.focus();
  src.setSelectionRange(pos, pos);
}

function drawDiff(box, rows) {
  const changed = rows.filter((r) => r.kind !== "same").length;
  put(box, h("p", {}, changed ? `${changed} line${changed === 1 ? "" : "s"} differ from the vendor default.` : "Identical to the vendor default."),
    h("table", { class: "diff-table" },
      h("colgroup", {}, h("col", { class: "ln" }), h("col"), h("col", { class: "ln" }), h("col")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col", colspan: "2" }, "Vendor default"), h("th", { scope: "col", colspan: "2" }, "This template"))),
      h("tbody", {}, rows.map((r) => h("tr", { class: r.kind },
        h("td", { class: "ln" }, r.old_line ?? ""), h("td", { class: "old" }, r.old ?? ""),
        h("td", { class: "ln" }, r.new_line ?? ""), h("td", { class: "new" }, r.new ?? ""))))));
}

async function remove(t) {
  if (!confirm(`Delete template ${t.name}? Phones using it fall back to the vendor default.`)) return;
  try {
    await api("DELETE", sitePath(ctx.site, "templates", t.name));
    ctx.templates = ctx.templates.filter((x) => x.name !== t.name);
    announce(`Template ${t.name} deleted.`);
    open(ctx.templates[0] ?? null);
  } catch (e) { announce(e.message); }
}
