// Phones: every phone of the site in one virtual list (only the visible rows exist in the
// DOM; filtering runs in memory over precomputed search keys), the 24-hour fetch chart and
// the firmware breakdown per model, add/edit/delete, binding, re-provision and reboot.
// The two overviews (one `GET .../stats`, an aggregate whatever the number of phones) are
// redrawn whenever the list reloads, after an action, on the Refresh button, and every
// minute while the page is visible; one request at a time, never a queue of them.
// Each phone's registration with its vendor's redirection service (RPS) is a badge in the
// list (its reason in a tooltip on hover and focus) and a part of the phone's dialog.

import { api, sitePath } from "./api.js";
import { h, put, field, values, showError, clearErrors, announce, dialog, when } from "./dom.js";
import { chart, firmwareBreakdown } from "./charts.js";
import { STATE_LABEL as RPS_LABEL } from "./rps.js";
import { VENDORS as VENDOR_INFO, vendorInfo, displayName, modelInfo } from "./vendors.js";

const ROW = 36;          // px, must match .vrow's height in app.css
const OVERSCAN = 8;
const MAX_MACS = 500;    // the actions endpoint's limit per request
const STATS_EVERY = 60_000; // ms between two refreshes of the overviews while visible
const VENDORS = VENDOR_INFO.map((v) => v.vendor);
/** A redirect-only vendor's phones (ALE) are sent (RPS) to the server their account names: none of these apply. */
const CONFIG_FIELDS = ["user_extension", "template", "blf_keys", "handsets", "http_user", "http_password"];
const redirectOnly = (v) => vendorInfo(v)?.configured === false;
const redirectNote = (v) => `${vendorInfo(v)?.redirect_only ?? ""}. Only the MAC, model and serial number are kept.`;
/** RPS ing and RPS pin are Yealink's mechanism: its guidance shows for those vendors' phones only
 * (and for a new phone whose vendor is still to come from its MAC). */
const CODE_VENDORS = VENDOR_INFO.filter((v) => v.rps_desk_codes);
const CODE_NAMES = CODE_VENDORS.map((v) => v.display_name).join(", ");
const asksCodes = (v) => !v || !!vendorInfo(v)?.rps_desk_codes;
const serialHint = (v) => `On the label under the phone (6-32 letters and digits). Some vendors' RPS take it${asksCodes(v) ? `; ${CODE_NAMES}'s "RPS ing" code is its last five digits` : ""}.`;
const FOUND = [["admin", "added here"], ["edge", "edge"], ["pnp", "PnP"], ["tftp", "TFTP"], ["http", "HTTP"]];
const foundLabel = Object.fromEntries(FOUND);

let ctx = null;

export async function mount(view, state) {
  const site = state.site;
  ctx = { site, all: [], shown: [], selected: new Set(), users: [], templates: [], stats: { asked: 0, drawn: false, running: null, again: false } };
  const search = h("input", { type: "search", id: "phone-search", placeholder: "MAC, user, name, IP, model, firmware…", "aria-controls": "phone-rows" });
  const fVendor = h("select", { id: "f-vendor", "aria-controls": "phone-rows" }, h("option", { value: "" }, "any vendor"), VENDORS.map((v) => h("option", { value: v }, v)));
  const fFound = h("select", { id: "f-found", "aria-controls": "phone-rows" }, h("option", { value: "" }, "found any way"), FOUND.map(([v, t]) => h("option", { value: v }, t)));
  const fState = h("select", { id: "f-state", "aria-controls": "phone-rows" },
    h("option", { value: "" }, "any state"), h("option", { value: "unbound" }, "not bound to a user"),
    h("option", { value: "bound" }, "bound"), h("option", { value: "stale" }, "not seen in 24 h"), h("option", { value: "weak" }, "weak credentials"));
  const fRps = h("select", { id: "f-rps", "aria-controls": "phone-rows" },
    h("option", { value: "" }, "any RPS state"), Object.entries(RPS_LABEL).map(([v, t]) => h("option", { value: v }, `RPS: ${t}`)));
  const count = h("p", { id: "phone-count", class: "count", "aria-live": "polite" });
  const selAll = h("input", { type: "checkbox", id: "sel-all", "aria-label": "Select every phone shown" });
  const head = h("div", { class: "vrow vhead", role: "row" },
    h("span", { role: "columnheader", class: "c-sel" }, selAll),
    ["MAC", "User", "Vendor / model", "Firmware", "IP (web UI)", "Last seen", "Found by", "Credentials", "RPS"].map((t) => h("span", { role: "columnheader" }, t)));
  const spacer = h("div", { class: "vspacer" });
  const body = h("div", { class: "vbody", id: "phone-rows", role: "rowgroup", tabindex: "0", "aria-label": "Phones (scroll for more)" }, spacer);
  const table = h("div", { class: "vtable", role: "table", "aria-label": "Phones", "aria-rowcount": "0" }, h("div", { role: "rowgroup", class: "vheadgroup" }, head), body);
  const bulk = h("div", { class: "bulk", role: "group", "aria-label": "With the selected phones" },
    h("span", { id: "sel-count" }, "0 selected"),
    h("button", { type: "button", id: "bulk-reprovision", onclick: () => act("reprovision") }, "Re-provision"),
    h("button", { type: "button", id: "bulk-reboot", onclick: () => act("reboot") }, "Reboot"),
    h("button", { type: "button", onclick: () => { ctx.selected.clear(); render(); } }, "Clear selection"));
  const chartBody = h("div", { class: "chart-slot" });
  const updated = h("small", { class: "hint", id: "stats-updated" });
  const statsErr = h("p", { class: "error", id: "stats-error", role: "alert", hidden: true });
  const fig = h("figure", { class: "card chart-card", id: "fetch-chart", "aria-labelledby": "chart-title" },
    h("figcaption", { class: "card-head" },
      h("span", { id: "chart-title", class: "title" }, "Config fetches, last 24 hours"), updated,
      h("button", { type: "button", id: "stats-refresh", class: "small", onclick: () => refreshStats() }, "Refresh",
        h("span", { class: "sr-only" }, " the fetch chart and the firmware overview"))),
    statsErr, chartBody);
  const fw = h("section", { class: "card fw-card", id: "fw-breakdown" });
  const bindings = h("section", { class: "card", id: "binding-requests", "aria-labelledby": "binding-title", hidden: true });
  const charts = h("div", { class: "charts" }, fig, fw);
  put(view,
    h("div", { class: "section-head" }, h("h2", {}, "Phones"),
      h("button", { type: "button", class: "primary", id: "add-phone", onclick: () => edit(null) }, "Add phone")),
    bindings,
    charts,
    h("div", { class: "toolbar", role: "search" },
      h("label", { for: "phone-search", class: "sr-only" }, "Search phones"), search,
      h("label", { for: "f-vendor", class: "sr-only" }, "Vendor"), fVendor,
      h("label", { for: "f-found", class: "sr-only" }, "How it was found"), fFound,
      h("label", { for: "f-state", class: "sr-only" }, "State"), fState,
      h("label", { for: "f-rps", class: "sr-only" }, "RPS state"), fRps, count),
    bulk, table);
  const tip = h("div", { id: "rps-tip", class: "tip", role: "tooltip", hidden: true });
  view.append(tip);
  Object.assign(ctx, { search, fVendor, fFound, fState, fRps, tip, count, selAll, body, spacer, table, bulk, chartBody, updated, statsErr, fw, bindings });

  for (const el of [search, fVendor, fFound, fState, fRps]) el.addEventListener("input", applyFilter);
  // One tooltip for every RPS badge: its reason, on hover and on keyboard focus.
  const showTip = (ev) => {
    const b = ev.target.closest?.(".rps-badge[data-tip]");
    if (!b) return;
    tip.textContent = b.dataset.tip;
    tip.hidden = false;
    const r = b.getBoundingClientRect();
    tip.style.left = `${Math.max(8, Math.min(r.right - 360, innerWidth - 380)) + scrollX}px`;
    tip.style.top = `${r.bottom + 4 + scrollY}px`;
  };
  const hideTip = (ev) => { if (ev.target.closest?.(".rps-badge")) tip.hidden = true; };
  body.addEventListener("mouseover", showTip);
  body.addEventListener("focusin", showTip);
  body.addEventListener("mouseout", hideTip);
  body.addEventListener("focusout", hideTip);
  body.addEventListener("keydown", (ev) => { if (ev.key === "Escape") tip.hidden = true; });
  selAll.addEventListener("change", () => {
    if (selAll.checked) for (const p of ctx.shown) ctx.selected.add(p.mac);
    else for (const p of ctx.shown) ctx.selected.delete(p.mac);
    render();
  });
  body.addEventListener("scroll", () => { tip.hidden = true; requestAnimationFrame(render); }, { passive: true });
  body.addEventListener("change", (ev) => {
    const mac = ev.target.dataset?.mac;
    if (!mac) return;
    if (ev.target.checked) ctx.selected.add(mac); else ctx.selected.delete(mac);
    render();
  });
  ctx.onResize = () => render();
  addEventListener("resize", ctx.onResize);
  // Every minute while visible; back on the tab after longer, at once.
  const due = () => document.visibilityState === "visible" && Date.now() - ctx.stats.asked >= STATS_EVERY - 1000;
  ctx.timer = setInterval(() => { if (due()) refreshStats(); }, STATS_EVERY);
  ctx.onVisible = () => { if (due()) refreshStats(); };
  document.addEventListener("visibilitychange", ctx.onVisible);
  ctx.refs = loadRefs();
  await Promise.all([reload(), ctx.refs]);
}

export function unmount() {
  if (ctx?.onResize) removeEventListener("resize", ctx.onResize);
  if (ctx?.onVisible) document.removeEventListener("visibilitychange", ctx.onVisible);
  clearInterval(ctx?.timer);
  ctx = null;
}

async function loadRefs() {
  const [users, templates] = await Promise.all([
    api("GET", sitePath(ctx.site, "users")), api("GET", sitePath(ctx.site, "templates"))]);
  Object.assign(ctx, { users, templates });
}

/**
 * Loads the stats and redraws both overviews. One request at a time: a call while one runs
 * asks for one more after it (the calls in between share it). Never rejects: a failure is
 * shown on the chart, which keeps the numbers it had (the list works without them).
 */
function refreshStats() {
  const c = ctx;
  if (!c) return Promise.resolve();
  if (c.stats.running) { c.stats.again = true; return c.stats.running; }
  c.stats.running = (async () => {
    try {
      do {
        c.stats.again = false;
        c.stats.asked = Date.now();
        const s = await api("GET", sitePath(c.site, "stats"));
        if (ctx !== c) return;
        drawStats(c, s);
      } while (c.stats.again);
      c.statsErr.hidden = true;
    } catch (e) {
      if (ctx !== c) return;
      c.statsErr.textContent = `${c.stats.drawn ? "Not refreshed" : "Could not load the overviews"}: ${e.message}`;
      c.statsErr.hidden = false;
    } finally {
      c.stats.running = null;
    }
  })();
  return c.stats.running;
}

function drawStats(c, s) {
  // The reader's state survives a redraw: the numbers table open, the firmware list's scroll.
  const open = c.chartBody.querySelector("details")?.open ?? false;
  const top = c.fw.scrollTop;
  put(c.chartBody, chart(s, { open }));
  const fw = firmwareBreakdown(s);
  c.fw.replaceChildren(...fw.childNodes);
  c.fw.setAttribute("aria-labelledby", "fw-title");
  c.fw.scrollTop = top;
  c.stats.drawn = true;
  const t = new Date(s.now * 1000);
  put(c.updated, "updated ", h("time", { datetime: t.toISOString() }, t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })));
}

/** Reloads the list, and the overviews and the binding requests with it. */
async function reload() {
  await Promise.all([loadPhones(), refreshStats(), loadBindings()]);
}

/**
 * The star-code bindings waiting for an administrator (a site in approval mode): each one
 * hands the phone an extension's SIP password once approved, so the card says who asked,
 * from where, and for which user.
 */
async function loadBindings() {
  const c = ctx;
  const rows = await api("GET", sitePath(c.site, "binding-requests"));
  if (ctx !== c) return;
  const card = c.bindings;
  card.hidden = !rows.length;
  const decide = async (r, approve) => {
    try {
      if (approve) await api("POST", sitePath(c.site, "binding-requests", r.mac, "approve"), { extension: r.extension, requested_at: r.requested_at });
      else await api("DELETE", sitePath(c.site, "binding-requests", r.mac));
      announce(approve ? `${r.mac} bound to ${r.extension}; the relay reboots it.` : `The binding of ${r.mac} was refused.`);
    } catch (e) { announce(e.message); }
    await reload();
  };
  put(card,
    h("h3", { id: "binding-title" }, `Star-code bindings waiting for approval (${rows.length})`),
    h("p", { class: "hint" }, "Approve only a phone you expect: it receives the extension's SIP password."),
    h("ul", { class: "plain" }, rows.map((r) => h("li", { dataset: { mac: r.mac } },
      h("span", {}, `${r.mac} (${[r.vendor, r.model].filter(Boolean).join(" ")}${r.lan_ip ? `, ${r.lan_ip}` : ""}) asks for ${r.extension}${r.display_name ? ` (${r.display_name})` : ""}, ${new Date(r.requested_at * 1000).toLocaleString()} `),
      h("button", { type: "button", class: "small primary", onclick: () => decide(r, true) }, "Approve"), " ",
      h("button", { type: "button", class: "small", onclick: () => decide(r, false) }, "Refuse")))));
}

async function loadPhones() {
  const c = ctx;
  const rows = await api("GET", sitePath(c.site, "phones"));
  if (ctx !== c) return;
  const now = Date.now() / 1000;
  ctx.all = rows.map((p) => ({
    ...p,
    // One lower-case string per phone: a search is one `includes` per row.
    key: [p.mac, p.mac.replace(/(..)(?!$)/g, "$1:"), p.extension, p.display_name, p.vendor, p.model,
      p.firmware, p.ip, p.found_by, ...(p.handsets ?? []).flatMap((x) => [x.extension, x.display_name])]
      .filter(Boolean).join(" ").toLowerCase(),
    stale: !p.last_seen_at || now - p.last_seen_at > 86400,
  }));
  applyFilter();
}

/** Filters in memory and re-renders; the time it took is kept on the count (data-ms). */
function applyFilter() {
  const t0 = performance.now();
  const q = ctx.search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const vendor = ctx.fVendor.value, found = ctx.fFound.value, st = ctx.fState.value, rps = ctx.fRps.value;
  ctx.shown = ctx.all.filter((p) =>
    (!vendor || p.vendor === vendor) && (!found || p.found_by === found) && (!rps || p.rps?.state === rps) &&
    (!st || (st === "unbound" ? !p.extension : st === "bound" ? !!p.extension : st === "stale" ? p.stale : p.credential_strength === "weak")) &&
    q.every((w) => p.key.includes(w)));
  ctx.body.scrollTop = 0;
  ctx.tip.hidden = true;
  render();
  const ms = performance.now() - t0;
  ctx.count.dataset.ms = ms.toFixed(1);
  ctx.count.textContent = `${ctx.shown.length.toLocaleString()} of ${ctx.all.length.toLocaleString()} phones`;
}

function render() {
  if (!ctx) return;
  const { body, spacer, shown } = ctx;
  spacer.style.height = `${shown.length * ROW}px`;
  ctx.table.setAttribute("aria-rowcount", String(shown.length + 1));
  const first = Math.max(0, Math.floor(body.scrollTop / ROW) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((body.scrollTop + body.clientHeight) / ROW) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(row(shown[i], i));
  body.replaceChildren(spacer, ...rows);
  if (!shown.length) body.append(h("p", { class: "empty" }, ctx.all.length ? "No phone matches." : "No phones yet."));
  const n = ctx.selected.size;
  ctx.bulk.querySelector("#sel-count").textContent = `${n} selected`;
  for (const b of ctx.bulk.querySelectorAll("#bulk-reprovision, #bulk-reboot")) b.disabled = n === 0;
  ctx.selAll.checked = shown.length > 0 && shown.every((p) => ctx.selected.has(p.mac));
}

function row(p, i) {
  const r = h("div", { class: `vrow${i % 2 ? " odd" : ""}`, role: "row", "aria-rowindex": String(i + 2), dataset: { mac: p.mac } },
    h("span", { role: "cell", class: "c-sel" }, h("input", { type: "checkbox", checked: ctx.selected.has(p.mac), dataset: { mac: p.mac }, "aria-label": `Select ${p.mac}` })),
    h("span", { role: "cell" }, h("button", { type: "button", class: "link mono", onclick: () => edit(p) }, macText(p.mac))),
    // A cell too narrow for its text ends in "…"; the whole text is its tooltip.
    h("span", { role: "cell", title: p.extension ? userText(p, true) : null }, p.extension ? userText(p) : p.redirect_only ? h("span", { class: "hint", title: p.redirect_only }, "redirected only") : h("button", { type: "button", class: "bind", onclick: () => edit(p) }, "Bind…")),
    h("span", { role: "cell", title: `${p.vendor} ${p.model || ""}` }, `${p.vendor} ${p.model || ""}`),
    h("span", { role: "cell", class: "mono", title: p.firmware ?? null }, p.firmware ?? "–"),
    h("span", { role: "cell", class: "mono" }, p.ip ? h("a", { href: `http://${p.ip}/`, target: "_blank", rel: "noopener noreferrer", title: "The phone's own web interface" }, p.ip) : "–"),
    h("span", { role: "cell", class: p.stale ? "stale" : "" }, when(p.last_seen_at)),
    h("span", { role: "cell" }, foundLabel[p.found_by] ?? p.found_by),
    h("span", { role: "cell" }, badge(p)),
    h("span", { role: "cell" }, rpsBadge(p.rps)));
  r.style.transform = `translateY(${i * ROW}px)`;
  return r;
}

/** The user cell: the phone's user, and on a DECT base its handsets (all of them in the tooltip). */
function userText(p, full = false) {
  const own = `${p.extension} ${p.display_name ?? ""}`.trim();
  const hs = p.handsets ?? [];
  if (!hs.length) return own;
  if (full) return [`handset 1: ${own}`, ...hs.map((x) => `handset ${x.slot}: ${x.extension} ${x.display_name ?? ""}`.trim())].join("; ");
  return `${own} +${hs.length} handset${hs.length > 1 ? "s" : ""}`;
}

function badge(p) {
  const s = p.credential_strength;
  if (!s) return h("span", { class: "badge none" }, p.redirect_only ? "n/a" : "no user");
  const why = p.credential_findings.length ? p.credential_findings.join("; ") : "no findings";
  return h("span", { class: `badge ${s}`, title: why, tabindex: "0", "aria-label": `${s}: ${why}` }, s);
}

/** A phone's RPS state as a badge; its reason (or next step) in the shared tooltip. */
export function rpsBadge(r, { tip = true } = {}) {
  const st = r?.state ?? "no_account";
  const label = RPS_LABEL[st] ?? st;
  const why = [
    r?.error_kind && r?.error ? `${r.error_kind}: ${r.error}` : r?.error ?? r?.error_kind,
    r?.last_attempt_at ? `last attempt ${when(r.last_attempt_at)}` : null,
    r?.next_at ? `next try ${when(r.next_at)}` : null,
    st === "manual" ? "no registration API: register it in the vendor's portal (the phone's dialog has its URL)" : null,
    st === "no_account" ? "no private RPS account for this vendor (see RPS)" : null,
  ].filter(Boolean).join("; ");
  return h("span", { class: `badge rps-badge rps-${st}`, dataset: tip && why ? { tip: why } : {}, tabindex: tip && why ? "0" : null,
    "aria-label": why ? `RPS ${label}: ${why}` : `RPS ${label}` }, label);
}

const macText = (m) => m.replace(/(..)(?!$)/g, "$1:");

async function act(action, macs = [...ctx.selected]) {
  let queued = 0, pending = 0;
  try {
    for (let i = 0; i < macs.length; i += MAX_MACS) {
      const r = await api("POST", sitePath(ctx.site, "actions"), { action, macs: macs.slice(i, i + MAX_MACS) });
      queued += r.queued.length; pending += r.already_pending.length;
    }
    announce(`${action === "reboot" ? "Reboot" : "Re-provision"}: ${queued} queued for the relay${pending ? `, ${pending} already pending` : ""}.`);
  } catch (e) {
    announce(`Not queued: ${e.message}`);
  }
  refreshStats();
}

/** The add/edit dialog (`p` null: a new phone). A failed save keeps every value typed. */
async function edit(p) {
  await ctx.refs;
  const [full, rps] = p ? await Promise.all([api("GET", sitePath(ctx.site, "phones", p.mac)),
    api("GET", sitePath(ctx.site, "phones", p.mac, "rps")).catch((e) => ({ failed: e.message }))]) : [{}, null];
  const isNew = !p;
  const users = [["", "— no user —"], ...ctx.users.map((u) => [u.extension, `${u.extension} ${u.display_name ?? ""}`])];
  const tpl = (vendor) => [["", "— vendor default —"], ...ctx.templates.filter((t) => !vendor || t.vendor === vendor).map((t) => [t.name, `${t.name} (${t.vendor})`])];
  const err = h("p", { class: "error form-error", role: "alert", hidden: true });
  const form = h("form", { novalidate: true, class: "grid-form" },
    field({ label: "MAC address", name: "mac", value: full.mac ?? "", attrs: isNew ? { required: true, autocomplete: "off" } : { readonly: true } }),
    field({ label: "Vendor", name: "vendor", value: full.vendor ?? "", options: isNew ? [["", "from the MAC"], ...VENDORS] : [full.vendor], hint: isNew ? "Leave as is to take it from the MAC's maker." : undefined }),
    field({ label: "Model", name: "model", value: full.model ?? "", hint: "Pick one the engine knows to have its keys and handsets checked.", attrs: { list: "model-list", autocomplete: "off" } }),
    field({ label: "Serial number", name: "serial_number", value: full.serial_number ?? "", hint: serialHint(full.vendor), attrs: { autocomplete: "off", spellcheck: "false" } }),
    field({ label: "User (extension)", name: "user_extension", value: full.user_extension ?? "", options: users }),
    field({ label: "Template", name: "template", value: full.template ?? "", options: tpl(full.vendor) }),
    field({ label: "BLF keys", name: "blf_keys", type: "textarea", value: (full.blf_keys ?? []).map(blfLine).join("\n"),
      hint: "One key a line, in order: extension, label, line, pickup prefix (all but the extension optional), e.g. 202, Jonas, 1, *8", attrs: { rows: "5", class: "mono", spellcheck: "false" } }),
    field({ label: "Handsets (DECT base)", name: "handsets", type: "textarea", value: (full.handsets ?? []).map((x) => `${x.slot}, ${x.user_extension}`).join("\n"),
      hint: "One handset a line: slot, extension.", attrs: { rows: "4", class: "mono", spellcheck: "false" } }),
    field({ label: "HTTP user (optional)", name: "http_user", value: full.http_user ?? "", attrs: { autocomplete: "off" } }),
    field({ label: "HTTP password", name: "http_password", type: "password", hint: isNew ? "12-128 characters, with an HTTP user." : "Leave empty to keep the stored one.", attrs: { autocomplete: "new-password" } }),
    field({ label: `RPS pin (optional; ${CODE_NAMES})`, name: "rps_pin", value: full.rps_pin ?? "", hint: `The code ${CODE_NAMES} or your provider issued, if the phone asks for an "RPS pin" (devices made before 2018). Letters and digits.`, attrs: { autocomplete: "off", spellcheck: "false" } }),
    err,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, isNew ? "Add phone" : "Save")));
  const aleNote = h("p", { class: "hint", id: "ale-note", hidden: true });
  form.insertBefore(aleNote, err);
  // The model picker and what the model takes: its keys under the BLF field, and the
  // handset slots of a DECT base (the field is shown only for one).
  const modelList = h("datalist", { id: "model-list" });
  form.append(modelList);
  const vendorNow = () => (isNew ? form.vendor.value : full.vendor) || "";
  const modelFacts = () => {
    const vendor = vendorNow();
    put(modelList, (vendorInfo(vendor)?.models ?? []).map((m) => h("option", { value: m })));
    const m = modelInfo(vendor, form.model.value);
    const hsField = form.querySelector('[data-field="handsets"]');
    const base = m && m.dect_handsets > 0;
    hsField.hidden = !base || redirectOnly(vendor);
    hsField.querySelector(".hint").textContent = base
      ? `One handset a line: slot, extension (slots 2-${m.dect_handsets}; handset 1 is the user above). The ${m.name} holds ${m.accounts} accounts.`
      : "";
    const keys = form.querySelector('[data-field="blf_keys"] .hint');
    keys.dataset.base ??= keys.textContent;
    const cap = m ? m.line_keys + m.expansion_keys * m.expansion_modules : null;
    keys.textContent = m && !base
      ? `${keys.dataset.base}. The ${m.name} has ${m.line_keys} line keys${m.expansion_modules ? ` and takes ${m.expansion_modules} expansion modules of ${m.expansion_keys} keys` : ""} (${cap} in all, the first for its account).`
      : keys.dataset.base;
  };
  form.model.addEventListener("input", modelFacts);
  if (isNew) form.vendor.addEventListener("change", modelFacts);
  modelFacts();
  const aleMode = (vendor) => {
    const on = redirectOnly(vendor);
    aleNote.hidden = !on;
    aleNote.textContent = on ? redirectNote(vendor) : "";
    for (const n of CONFIG_FIELDS) form.querySelector(`[data-field="${n}"]`).hidden = on;
    form.querySelector('[data-field="rps_pin"]').hidden = !asksCodes(vendor);
    form.querySelector('[data-field="serial_number"] .hint').textContent = serialHint(vendor);
  };
  aleMode(full.vendor ?? "");
  if (isNew) form.vendor.addEventListener("change", () => {
    const sel = form.template, keep = sel.value;
    put(sel, tpl(form.vendor.value).map(([v, t]) => h("option", { value: v, selected: v === keep }, t)));
    aleMode(form.vendor.value);
  });
  const configured = !full.redirect_only;
  const extra = p ? h("div", { class: "phone-actions" },
    h("h3", {}, "This phone"),
    h("dl", { class: "facts" },
      h("dt", {}, "Found by"), h("dd", {}, foundLabel[full.found_by] ?? full.found_by),
      h("dt", {}, "Last seen"), h("dd", {}, `${when(full.last_seen_at)}${full.ip ? ` from ${full.ip}` : ""}`),
      h("dt", {}, "Last file"), h("dd", { class: "mono" }, full.last_file ?? "–"),
      h("dt", {}, "User-Agent"), h("dd", { class: "mono" }, full.user_agent ?? "–"),
      configured && h("dt", {}, "Provisioning window"), configured && h("dd", {}, full.window_open ? `open${full.window_closes_at ? ` until ${when(full.window_closes_at)}` : ""}` : "closed (first fetch done or expired)")),
    h("div", { class: "actions" },
      configured && h("button", { type: "button", onclick: () => act("reprovision", [full.mac]) }, "Re-provision"),
      configured && h("button", { type: "button", onclick: () => act("reboot", [full.mac]) }, "Reboot"),
      configured && h("button", { type: "button", onclick: () => reopen(full.mac) }, "Reopen window"),
      configured && h("button", { type: "button", onclick: () => rotate(full.mac, d) }, "New provisioning URL"),
      full.ip && h("a", { class: "button", href: `http://${full.ip}/`, target: "_blank", rel: "noopener noreferrer" }, "Web interface"),
      h("button", { type: "button", class: "danger", onclick: () => remove(full.mac, d) }, "Delete phone")),
    rpsPart(full, rps)) : null;
  const d = dialog(isNew ? "Add a phone" : `Phone ${macText(full.mac)}`, h("div", {}, form, extra), { wide: true });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    if (isNew ? redirectOnly(v.vendor) : full.redirect_only) for (const n of CONFIG_FIELDS) v[n] = "";
    const body = {
      model: v.model, serial_number: v.serial_number,
      user_extension: v.user_extension || null, template: v.template || null,
      blf_keys: parseBlf(v.blf_keys),
      handsets: form.querySelector('[data-field="handsets"]').hidden ? [] : parseHandsets(v.handsets),
    };
    // A hidden RPS pin (a vendor without RPS codes) is left as stored.
    if (!form.querySelector('[data-field="rps_pin"]').hidden) body.rps_pin = v.rps_pin.trim() || null;
    if (v.http_user) { body.http_user = v.http_user; if (v.http_password || isNew) body.http_password = v.http_password; }
    else if (full.http_user) body.http_user = null;
    try {
      if (isNew) {
        if (v.vendor) body.vendor = v.vendor;
        body.mac = v.mac;
        const created = await api("POST", sitePath(ctx.site, "phones"), body);
        showCreated(d, created);
      } else {
        await api("PATCH", sitePath(ctx.site, "phones", full.mac), body);
        d.close();
        announce(`Phone ${macText(full.mac)} saved.`);
      }
      await reload();
    } catch (e) {
      // "blf_keys[2].line" -> the BLF field, naming the line; the same for handsets.
      const m = /^(blf_keys|handsets)\[(\d+)\]\.(\w+)$/.exec(e.field ?? "");
      showError(form, m ? { field: m[1], message: `line ${Number(m[2]) + 1}, ${m[3]}: ${e.message}` } : e);
    }
  });
}

/**
 * The dialog's RPS part: the state with last attempt, next retry and the vendor's reason;
 * what the phone will ask the person at the desk; Htek's instructions; Re-register, Remove
 * and Dry-run (the exact first request, secrets redacted, in a copyable block).
 */
function rpsPart(full, rps) {
  const box = h("section", { class: "phone-rps", id: "phone-rps", "aria-labelledby": "phone-rps-title" });
  const state = h("div", { id: "phone-rps-state" });
  const out = h("div", { id: "rps-result" });
  const err = h("p", { class: "error", id: "rps-action-err", role: "alert", hidden: true });
  // RPS ing and pin: only for the vendors whose phones ask for them (Yealink).
  const codes = !!vendorInfo(full.vendor)?.rps_desk_codes;
  const draw = (r) => {
    if (r?.failed) return put(state, h("p", { class: "error" }, `Could not load the RPS state: ${r.failed}`));
    const row = r.row ?? {};
    const retrying = r.state === "pending" || r.state === "retrying";
    put(state,
      h("dl", { class: "facts" },
        h("dt", {}, "State"), h("dd", {}, rpsBadge({ state: r.state }, { tip: false })),
        h("dt", {}, "Last attempt"), h("dd", {}, row.last_attempt_at ? when(row.last_attempt_at) : "never"),
        h("dt", {}, "Next retry"), h("dd", {}, retrying && row.next_at ? when(row.next_at) : "–"),
        row.error ? [h("dt", {}, "Vendor's reason"), h("dd", { id: "rps-reason", class: "error-text" }, `${row.error_kind ? `${row.error_kind}: ` : ""}${row.error}`)]
          : [h("dt", {}, "Vendor's answer"), h("dd", { id: "rps-reason" }, row.result ?? "–")],
        codes && [h("dt", {}, "RPS ing"), h("dd", {}, r.rps_ing ? h("strong", { id: "rps-ing", class: "mono" }, r.rps_ing) : h("span", { id: "rps-ing-none" }, "– (needs a serial number ending in five digits)")),
          h("dt", {}, "RPS pin"), h("dd", { class: "mono" }, r.rps_pin ?? "– (none stored)")]),
      codes && r.asks ? [h("h4", {}, "What the phone will ask"), h("p", { id: "rps-asks", class: "asks" }, r.asks)] : null,
      r.manual ? [h("h4", {}, `${displayName(full.vendor)} portal`), h("pre", { id: "rps-htek", class: "copyable" }, r.manual), copyButton(() => r.manual, `the ${displayName(full.vendor)} instructions`)] : null);
  };
  const refresh = async () => {
    try { draw(await api("GET", sitePath(ctx.site, "phones", full.mac, "rps"))); } catch (e) { draw({ failed: e.message }); }
  };
  const run = async (action, dry) => {
    err.hidden = true;
    put(out);
    try {
      const r = await api("POST", sitePath(ctx.site, "phones", full.mac, "rps"), { action, dry_run: dry });
      if (dry) return put(out, dryRunView(r));
      announce(action === "register" ? "Registration queued." : "Removal queued.");
      put(out, h("p", { class: "hint", role: "status" }, `${action === "register" ? "Registration" : "Removal"} queued: it runs right after this answer (the state below follows).`));
      // The request's waitUntil works it: follow it for a few seconds.
      for (let i = 0; i < 8; i++) {
        await new Promise((res) => setTimeout(res, 750));
        if (!box.isConnected) return;
        const s = await api("GET", sitePath(ctx.site, "phones", full.mac, "rps"));
        draw(s);
        if (s.state !== "pending") break;
      }
      loadPhones();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  };
  // A vendor without a registration API (Htek): registered by hand in its portal; the mark
  // keeps the state and the CSV true.
  const mark = async (action) => {
    err.hidden = true;
    try {
      draw(await api("POST", sitePath(ctx.site, "phones", full.mac, "rps"), { action }));
      announce(action === "mark_registered" ? `Marked as registered in ${displayName(full.vendor)}'s portal.` : "Mark removed.");
      loadPhones();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    }
  };
  const manual = rps && !rps.failed && vendorInfo(rps.vendor)?.rps === "manual";
  const api_ = rps && !rps.failed && !manual;
  put(box,
    h("h3", { id: "phone-rps-title" }, "Redirection service (RPS)"),
    state,
    api_ ? h("div", { class: "actions" },
      h("button", { type: "button", id: "rps-register", onclick: () => run("register", false) }, "Re-register"),
      h("button", { type: "button", id: "rps-remove", class: "danger", onclick: () => { if (confirm("Remove this phone from its vendor's redirection service?")) run("remove", false); } }, "Remove from RPS"),
      h("button", { type: "button", id: "rps-dry-run", onclick: () => run("register", true) }, "Dry-run"),
      h("button", { type: "button", id: "rps-dry-run-remove", onclick: () => run("remove", true) }, "Dry-run removal"),
      h("button", { type: "button", class: "small", onclick: refresh }, "Refresh", h("span", { class: "sr-only" }, " the RPS state"))) : null,
    manual ? h("div", { class: "actions" },
      h("button", { type: "button", id: "rps-htek-mark", onclick: () => mark("mark_registered") }, `Mark registered in ${displayName(rps.vendor)}'s portal`),
      h("button", { type: "button", id: "rps-htek-unmark", class: "small", onclick: () => mark("unmark") }, "Unmark")) : null,
    err, out);
  draw(rps ?? { failed: "not loaded" });
  return box;
}

/** A dry-run's answer: the operation and the redacted request as readable, copyable text. */
function dryRunView(r) {
  if (!r.request) {
    return h("div", { id: "rps-dry", class: "dry" },
      h("p", {}, r.error ? h("span", { class: "error" }, `Dry-run of ${r.operation}: it would stop before sending: ${r.error.kind}: ${r.error.message}`) : `Dry-run of ${r.operation}: no request is needed.`));
  }
  const q = r.request;
  const text = [`${q.method} ${q.url}`, ...headerLines(q.headers), "", bodyText(q.body)].join("\n").trimEnd();
  return h("div", { id: "rps-dry", class: "dry" },
    h("h4", {}, `Dry-run: ${r.operation}`),
    h("p", { class: "hint" }, r.note ?? "Nothing was sent; secrets are shown as ***."),
    h("pre", { id: "rps-dry-text", class: "copyable", tabindex: "0", "aria-label": "The request that would be sent" }, text),
    copyButton(() => text, "the request"));
}

const headerLines = (hs) => Array.isArray(hs) ? hs.map((x) => Array.isArray(x) ? `${x[0]}: ${x[1]}` : `${x.name}: ${x.value}`)
  : Object.entries(hs ?? {}).map(([k, v]) => `${k}: ${v}`);

/** The body as it would be sent (Content-MD5 and signatures are over these bytes). */
const bodyText = (b) => (b === null || b === undefined ? "" : typeof b === "string" ? b : JSON.stringify(b));

function copyButton(text, what) {
  return h("button", { type: "button", class: "small", onclick: () => navigator.clipboard?.writeText(text()).then(() => announce("Copied."), () => announce("Copy failed: select the text instead.")) },
    "Copy", h("span", { class: "sr-only" }, ` ${what}`));
}

/** A BLF key as one line of the BLF field. */
const blfLine = (k) => {
  const parts = [k.extension, k.label ?? "", String(k.line ?? 1), k.pickup_prefix ?? ""];
  // Trailing defaults left out: "202" rather than "202, , 1, ".
  if (!parts[3]) { parts.pop(); if (parts[2] === "1") { parts.pop(); if (!parts[1]) parts.pop(); } }
  return parts.join(", ");
};

/** The BLF field's lines as the API takes them; a line that is not a number stays a string, for the API to refuse at its line. */
function parseBlf(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const [extension = "", label = "", line = "", pickup_prefix = ""] = l.split(",").map((x) => x.trim());
    return { extension, label, line: line === "" ? 1 : (/^\d+$/.test(line) ? Number(line) : line), pickup_prefix };
  });
}

/** The handsets field's lines (`slot, extension`) as the API takes them; a slot that is not a number stays a string, for the API to refuse at its line. */
function parseHandsets(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
    const [slot = "", user_extension = ""] = l.split(",").map((x) => x.trim());
    return { slot: /^\d+$/.test(slot) ? Number(slot) : slot, user_extension };
  });
}

function showCreated(d, c) {
  const url = c.provisioning_url;
  if (!url) {
    put(d.querySelector("form").parentElement,
      h("div", { class: "created", id: "created" },
        h("p", {}, `Phone ${macText(c.mac)} (${c.vendor}) added.`),
        h("p", { id: "created-note" }, c.note ?? ALE_NOTE),
        h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: () => d.close() }, "Done"))));
    return;
  }
  put(d.querySelector("form").parentElement,
    h("div", { class: "created", id: "created" },
      h("p", {}, `Phone ${macText(c.mac)} (${c.vendor}) added. Give its vendor's redirection service this URL; it is shown only this once.`),
      h("label", { for: "prov-url" }, "Provisioning URL"),
      h("input", { id: "prov-url", readonly: true, value: url, class: "mono" }),
      h("p", {}, "The phone will ask for ", h("code", { id: "prov-file" }, c.config_file), " under it."),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(url).then(() => announce("Copied.")) }, "Copy URL"),
        h("button", { type: "button", class: "primary", onclick: () => d.close() }, "Done"))));
}

async function rotate(mac, d) {
  if (!confirm("Issue a new provisioning URL? The phone's current URLs stop working.")) return;
  try { showCreated(d, await api("POST", sitePath(ctx.site, "phones", mac, "rotate-token"))); } catch (e) { announce(e.message); }
}

async function reopen(mac) {
  try { await api("POST", sitePath(ctx.site, "phones", mac, "reopen")); announce("The provisioning window is open again."); } catch (e) { announce(e.message); }
}

async function remove(mac, d) {
  if (!confirm(`Delete phone ${macText(mac)}? Its URLs stop working.`)) return;
  try {
    await api("DELETE", sitePath(ctx.site, "phones", mac));
    ctx.selected.delete(mac);
    d.close();
    announce(`Phone ${macText(mac)} deleted.`);
    await reload();
  } catch (e) { announce(e.message); }
}
