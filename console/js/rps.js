// RPS: the vendors' redirection services. The site's private accounts (pasted as PortSIP
// system.ini sections, never shown back: the API keeps them sealed), the warning for each
// vendor without one, the outbox by state with a "Run now", and Htek's manual registration
// (its note and the CSV for Htek's portal, fetched with the token in the header, never in a
// URL). A refused paste keeps the text as typed and names the line at the textarea.

import { api, apiBlob, sitePath } from "./api.js";
import { h, put, field, showError, clearErrors, announce, when } from "./dom.js";
import { VENDORS, vendorInfo, displayName } from "./vendors.js";

export const STATE_LABEL = {
  registered: "registered", removed: "removed", pending: "pending", retrying: "retrying",
  failed: "failed", manual: "manual", not_queued: "not queued", no_account: "no account",
};

const vendorName = displayName;
/** No registration API: phones are registered by hand in the vendor's portal (Htek). */
const manual = (v) => vendorInfo(v)?.rps === "manual";
/** Phones only redirected to the server the account names, never configured here (ALE). */
const redirectOnly = (v) => vendorInfo(v)?.configured === false;
const MANUAL_NAMES = VENDORS.filter((v) => v.rps === "manual").map((v) => v.display_name).join(", ");
const QUEUE_STATES = ["pending", "done", "failed"];

let ctx = null;

export async function mount(view, state) {
  ctx = { site: state.site };
  const warnings = h("div", { id: "rps-warnings" });
  const accounts = h("tbody", { id: "rps-accounts" });
  const queue = h("div", { id: "rps-queue" });
  const workOut = h("p", { id: "rps-work-result", class: "hint", role: "status" });
  const notices = h("div", { id: "rps-notices", hidden: true });
  const htek = h("section", { class: "card", id: "rps-htek", "aria-labelledby": "rps-htek-title" });
  const formErr = h("p", { class: "error form-error", role: "alert", hidden: true });
  const ini = field({ label: "PortSIP system.ini sections", name: "ini", type: "textarea",
    hint: `Paste the sections as they are: ${VENDORS.map((v) => `[${v.vendor}]`).join(", ")}. Other sections and keys are ignored, with a notice. Each vendor found replaces its stored account; the credentials are stored encrypted and never shown again.`,
    attrs: { rows: "9", class: "mono", spellcheck: "false", autocomplete: "off" } });
  const form = h("form", { novalidate: true, id: "rps-ini-form", class: "card", "aria-labelledby": "rps-ini-title" },
    h("h3", { id: "rps-ini-title" }, "Add or replace accounts"),
    ini, formErr,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "rps-save" }, "Save accounts")),
    notices);
  Object.assign(ctx, { warnings, accounts, queue, workOut, notices, htek, form });

  put(view,
    h("div", { class: "section-head" }, h("h2", {}, "Redirection services (RPS)"),
      h("button", { type: "button", class: "primary", id: "rps-work", onclick: runNow }, "Run now")),
    h("p", { class: "intro" }, "A factory-fresh phone asks its vendor's redirection service where to go. The edge registers each phone there, under the site's own account, with the phone's own provisioning URL."),
    warnings,
    h("section", { class: "card", "aria-labelledby": "rps-acc-title" },
      h("h3", { id: "rps-acc-title" }, "Accounts"),
      h("table", { class: "data rps-accounts" },
        h("thead", {}, h("tr", {}, ["Vendor", "Verified", "API", "Key / user", "Host", "Password", "Paused until", "Updated"].map((t) => h("th", { scope: "col" }, t)),
          h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
        accounts)),
    form,
    h("section", { class: "card", "aria-labelledby": "rps-queue-title" },
      h("div", { class: "card-head" }, h("h3", { id: "rps-queue-title", class: "title" }, "Outbox"),
        h("small", { class: "hint" }, "registrations and removals waiting, done or given up, per vendor")),
      queue, workOut),
    htek);

  form.addEventListener("submit", save);
  await load();
}

export function unmount() { ctx = null; }

async function load() {
  const c = ctx;
  const o = await api("GET", sitePath(c.site, "rps"));
  if (ctx !== c) return;
  drawWarnings(o.warnings ?? []);
  drawAccounts(o.accounts ?? []);
  drawQueue(o.queue ?? []);
  drawHtek(o.manual?.map((m) => m.note).join(" "), o.accounts ?? []);
}

function drawWarnings(ws) {
  put(ctx.warnings, ws.map((w) => h("div", { class: `warn-box${manual(w.vendor) ? " info" : ""}`, role: "note", id: `rps-warn-${w.vendor}`, dataset: { vendor: w.vendor } },
    h("p", { class: "warn-title" }, manual(w.vendor) ? `${vendorName(w.vendor)}: manual registration` : `${vendorName(w.vendor)}: no private account`,
      h("span", { class: "n" }, ` · ${Number(w.phones).toLocaleString()} phone${w.phones === 1 ? "" : "s"} on this site`)),
    h("p", {}, w.message),
    manual(w.vendor) ? null : h("p", { class: "fix" }, "To fix it: paste the ", h("code", {}, `[${w.vendor}]`), " section of PortSIP's system.ini in ",
      h("a", { href: "#rps-ini-title", onclick: (ev) => { ev.preventDefault(); ctx.form.querySelector("textarea").focus(); } }, "Add or replace accounts"), " below."))));
}

function drawAccounts(list) {
  put(ctx.accounts, list.length ? list.map((a) => h("tr", { dataset: { vendor: a.vendor } },
    h("th", { scope: "row" }, vendorName(a.vendor)),
    h("td", {}, a.verified ? "yes" : h("span", { class: "warn-text", title: a.note ?? "" }, "no (unverified API)")),
    h("td", {}, a.api === false ? "none (manual)" : a.snom_api ? (a.snom_api === "rest" ? "REST (Hawk)" : "XML-RPC") : "yes"),
    h("td", { class: "mono" }, a.key_id ?? a.username ?? "–"),
    h("td", { class: "mono host" }, redirectOnly(a.vendor) && !a.base_url ? h("span", { class: "warn-text" }, "none: set rps_host") : hostOf(a.base_url),
      redirectOnly(a.vendor) && h("div", { class: a.provisioning_url ? "hint" : "warn-text", id: "rps-ale-target" },
        a.provisioning_url ? `phones sent to ${a.provisioning_url}` : `no provisioning_url: no ${vendorName(a.vendor)} phone is queued until it is set`),
      a.incomplete?.length ? h("div", { class: "warn-text incomplete", id: `rps-incomplete-${a.vendor}` },
        `Incomplete: add ${a.incomplete.join(" and ")} to the [${a.vendor}] section and save it again; nothing is queued until then.`) : null),
    h("td", {}, a.password ?? (a.key_id ? "access key" : "–")),
    h("td", {}, a.paused_until ? h("span", { class: "warn-text" }, when(a.paused_until)) : "–"),
    h("td", {}, when(a.updated_at)),
    h("td", { class: "row-actions" }, h("button", { type: "button", class: "danger", onclick: () => remove(a.vendor) },
      "Delete", h("span", { class: "sr-only" }, ` the ${vendorName(a.vendor)} account`)))))
    : h("tr", {}, h("td", { colspan: "9" }, "No account yet: paste one below.")));
}

/** `https://host:port/path` -> `host:port/path` (a host, not a link to follow). */
function hostOf(u) {
  if (!u) return "vendor default";
  try { const x = new URL(u); return `${x.host}${x.pathname === "/" ? "" : x.pathname}`; } catch { return u; }
}

function drawQueue(rows) {
  const vendors = [...new Set(rows.map((r) => r.vendor))].sort();
  const n = (v, s) => rows.filter((r) => r.vendor === v && r.state === s).reduce((a, r) => a + Number(r.count), 0);
  if (!vendors.length) return put(ctx.queue, h("p", { class: "hint", id: "rps-queue-empty" }, "Nothing queued yet: the outbox fills when an account is saved or a phone changes."));
  put(ctx.queue, h("table", { class: "data compact", id: "rps-queue-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Vendor"), QUEUE_STATES.map((s) => h("th", { scope: "col", class: "num" }, s === "done" ? "done" : s === "failed" ? "given up" : "waiting")))),
    h("tbody", {}, vendors.map((v) => h("tr", { dataset: { vendor: v } }, h("th", { scope: "row" }, vendorName(v)),
      QUEUE_STATES.map((s) => h("td", { class: `num${s === "failed" && n(v, s) ? " bad" : ""}`, dataset: { state: s } }, String(n(v, s)))))))));
}

function drawHtek(note, accounts) {
  const has = accounts.some((a) => manual(a.vendor));
  put(ctx.htek,
    h("h3", { id: "rps-htek-title" }, `${MANUAL_NAMES}: manual registration`),
    h("p", {}, note ?? `${MANUAL_NAMES} registration is manual: no registration API is published.`),
    h("p", { class: "hint" }, has ? `The ${MANUAL_NAMES} account is kept for reference only: nothing is sent to it.` : "Each phone's dialog shows its own URL too."),
    h("div", { class: "actions" }, h("button", { type: "button", id: "rps-htek-csv", onclick: downloadCsv }, `Download CSV of ${MANUAL_NAMES} phones`),
      h("span", { id: "rps-htek-csv-status", class: "hint", role: "status" })));
}

async function save(ev) {
  ev.preventDefault();
  const form = ctx.form;
  clearErrors(form);
  const text = form.ini.value;
  const btn = form.querySelector("#rps-save");
  if (!text.trim()) return showError(form, { field: "ini", message: "Paste at least one vendor section, e.g. [yealink] with accesskey_id and accesskey_secret." });
  btn.disabled = true;
  try {
    const r = await api("PUT", sitePath(ctx.site, "rps", "accounts"), { ini: text });
    // Saved: the credentials leave the page (the API never shows them back).
    form.ini.value = "";
    drawNotices(r);
    announce(`Saved: ${r.accounts.map((a) => vendorName(a.vendor)).join(", ")}.`);
    await load();
  } catch (e) {
    // The text stays as typed; the error is at the textarea, its line selected.
    showError(form, e.field ? e : { field: "ini", message: e.message });
    selectLine(form.ini, e.message);
  } finally {
    btn.disabled = false;
  }
}

/** Selects line N of the textarea when the message names one ("line 3: ..."). */
function selectLine(ta, message) {
  const m = /\bline (\d+)/.exec(message ?? "");
  if (!m) return;
  const lines = ta.value.split("\n");
  const n = Math.min(Number(m[1]), lines.length) - 1;
  if (n < 0) return;
  const start = lines.slice(0, n).reduce((a, l) => a + l.length + 1, 0);
  ta.focus();
  ta.setSelectionRange(start, start + lines[n].length);
  ta.dataset.errorLine = String(n + 1);
}

/** Which saved accounts' phones were queued: an incomplete one (a PortSIP [ale] as written) queues none. */
function queuedNote(accounts) {
  const names = (list) => list.map((a) => vendorName(a.vendor)).join(", ");
  const incomplete = accounts.filter((a) => a.incomplete?.length);
  const queued = accounts.filter((a) => !a.incomplete?.length && a.api !== false);
  return [queued.length ? `${names(queued)} phones are queued for registration.` : "",
    incomplete.length ? `Incomplete, nothing queued: ${incomplete.map((a) => `${vendorName(a.vendor)} needs ${a.incomplete.join(" and ")}`).join("; ")}.` : ""]
    .filter(Boolean).join(" ");
}

function drawNotices(r) {
  const list = r.notices ?? [];
  put(ctx.notices,
    h("p", { class: "ok-text" }, `Saved ${r.accounts.length} account${r.accounts.length === 1 ? "" : "s"}: ${r.accounts.map((a) => vendorName(a.vendor)).join(", ")}. ${queuedNote(r.accounts)}`),
    list.length ? h("table", { class: "data compact", id: "rps-notice-table" },
      h("caption", {}, `${list.length} notice${list.length === 1 ? "" : "s"} from the parser`),
      h("thead", {}, h("tr", {}, ["Line", "Section", "Notice"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, list.map((n) => h("tr", {}, h("td", { class: "num" }, n.line ?? "–"), h("td", { class: "mono" }, n.section ? `[${n.section}]` : "–"), h("td", {}, n.message)))))
      : h("p", { class: "hint" }, "No notice: every section and key was used."));
  ctx.notices.hidden = false;
}

/**
 * Works the outbox now, run after run while runs still find due work (each run is its own
 * invocation with its own call budget, so an open console drains a burst far faster than the
 * Cron Trigger's one run a minute); stops when nothing is due or the screen is left.
 */
async function runNow() {
  const c = ctx;
  const btn = document.getElementById("rps-work");
  btn.disabled = true;
  put(c.workOut, "Working the outbox…");
  const total = { runs: 0, done: 0, retrying: 0, failed: 0, deferred: 0, calls: 0 };
  try {
    for (let i = 0; i < 500 && ctx === c; i++) {
      const s = await api("POST", sitePath(c.site, "rps", "work"));
      total.runs++;
      for (const k of ["done", "retrying", "failed", "deferred", "calls"]) total[k] += s[k] ?? 0;
      if (ctx !== c) return;
      put(c.workOut, `Working the outbox: run ${total.runs}, ${total.done} done so far…`);
      if (!(s.done + s.retrying + s.failed)) break;
    }
    put(c.workOut, `Run now: ${total.done} done, ${total.retrying} to retry, ${total.failed} given up, ${total.deferred} left for later; ${total.calls} call${total.calls === 1 ? "" : "s"} to vendors in ${total.runs} run${total.runs === 1 ? "" : "s"}.`);
    await load();
  } catch (e) {
    if (ctx === c) put(c.workOut, h("span", { class: "error" }, `Not run: ${e.message}`));
  } finally {
    btn.disabled = false;
  }
}

async function downloadCsv() {
  const status = document.getElementById("rps-htek-csv-status");
  put(status, "");
  try {
    const { blob, filename } = await apiBlob(sitePath(ctx.site, "rps", "htek.csv"));
    saveBlob(blob, filename ?? `htek-${ctx.site}.csv`);
    put(status, "Downloaded.");
  } catch (e) {
    put(status, h("span", { class: "error" }, `Not downloaded: ${e.message}`));
  }
}

/** Offers `blob` as a download named `name` (an object URL, revoked right after). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function remove(vendor) {
  if (!confirm(`Delete the ${vendorName(vendor)} account? Its queued registrations are dropped; phones already registered stay registered with ${vendorName(vendor)}.`)) return;
  try {
    await api("DELETE", sitePath(ctx.site, "rps", "accounts", vendor));
    announce(`${vendorName(vendor)} account deleted.`);
    await load();
  } catch (e) { announce(`Not deleted: ${e.message}`); }
}
