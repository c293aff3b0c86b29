// The phones view's two overviews, drawn as SVG from `GET .../stats`: config fetches per
// hour over 24 hours, stacked by vendor, and the firmware versions per model, with the
// phones not on the model's newest version (or the uploaded one) marked as stragglers.

import { h } from "./dom.js";
import { VENDORS } from "./vendors.js";

const NS = "http://www.w3.org/2000/svg";
// One colour per vendor, by its place in the engine's list; app.css's .sw-<n> swatches match.
const PALETTE = ["#1f6fd1", "#c2410c", "#15803d", "#7c3aed", "#0e7490", "#a16207"];
const slot = (v) => {
  const i = VENDORS.findIndex((x) => x.vendor === v);
  return i < 0 ? -1 : i % PALETTE.length;
};
const colorOf = (v) => PALETTE[slot(v)] ?? "#555";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/**
 * The 24-hour chart's body: the bars, the legend and a table of the same numbers (with a
 * total per vendor) for screen readers and for reading exact counts. `open`: the table shown
 * (a redraw keeps what the reader chose). The caption, with its refresh button, is the
 * caller's, so a redraw keeps the focus where it was.
 */
export function chart(stats, { open = false } = {}) {
  const vendors = [...new Set(stats.fetches.map((f) => f.vendor))].sort();
  const by = new Map(stats.hours.map((hr) => [hr, {}]));
  for (const f of stats.fetches) if (by.has(f.hour)) by.get(f.hour)[f.vendor] = f.count;
  const totals = stats.hours.map((hr) => Object.values(by.get(hr)).reduce((a, b) => a + b, 0));
  const perVendor = Object.fromEntries(vendors.map((v) => [v, stats.hours.reduce((a, hr) => a + (by.get(hr)[v] ?? 0), 0)]));
  const total = totals.reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...totals);
  const W = 480, H = 120, pad = 24, bw = (W - pad) / 24;
  const summary = `Config fetches per hour, last 24 hours: ${total} in all${vendors.length ? ` (${vendors.map((v) => `${v} ${perVendor[v]}`).join(", ")})` : ""}, at most ${max} in an hour`;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H + 18}`, class: "chart", role: "img", "aria-label": summary });
  svg.append(s("title", {}, summary));
  svg.append(s("line", { x1: pad, y1: H, x2: W, y2: H, class: "axis" }));
  svg.append(s("text", { x: pad - 4, y: 10, "text-anchor": "end", class: "tick" }, max));
  svg.append(s("text", { x: pad - 4, y: H, "text-anchor": "end", class: "tick" }, 0));
  stats.hours.forEach((hr, i) => {
    let y = H;
    for (const v of vendors) {
      const n = by.get(hr)[v] ?? 0;
      if (!n) continue;
      const bh = (n / max) * (H - 4);
      y -= bh;
      svg.append(s("rect", { x: pad + i * bw + 1, y, width: bw - 2, height: bh, fill: colorOf(v) },
        s("title", {}, `${new Date(hr * 1000).getHours()}:00 ${v}: ${n}`)));
    }
    if (i % 6 === 0 || i === 23)
      svg.append(s("text", { x: pad + i * bw + bw / 2, y: H + 14, "text-anchor": "middle", class: "tick" }, `${String(new Date(hr * 1000).getHours()).padStart(2, "0")}h`));
  });
  const legend = h("ul", { class: "legend" }, vendors.length
    ? vendors.map((v) => h("li", {}, h("span", { class: `swatch sw-${slot(v)}` }), `${v} `, h("span", { class: "n" }, `(${perVendor[v]})`)))
    : h("li", {}, "No config fetches in the last 24 hours."));
  const table = h("details", { class: "numbers", open },
    h("summary", {}, "Numbers"),
    h("table", { class: "small", id: "fetch-table" },
      h("caption", { class: "sr-only" }, "Config fetches per hour and vendor, last 24 hours"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hour"), vendors.map((v) => h("th", { scope: "col" }, v)))),
      h("tbody", {}, stats.hours.filter((_, i) => totals[i]).map((hr) =>
        h("tr", {}, h("th", { scope: "row" }, new Date(hr * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
          vendors.map((v) => h("td", {}, by.get(hr)[v] ?? 0))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "24 hours"),
        vendors.map((v) => h("td", { dataset: { vendor: v } }, perVendor[v]))))));
  return h("div", { class: "chart-body", dataset: { total: String(total) } }, svg, legend, table);
}

/** Compares dotted versions numerically ("66.86.0.15" > "66.86.0.9"). */
export function compareVersions(a, b) {
  const pa = a.split(/[.\-_]/), pb = b.split(/[.\-_]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "", y = pb[i] ?? "";
    const nx = Number(x), ny = Number(y);
    const c = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
    if (c) return c;
  }
  return 0;
}

/** Per model: each reported version with its phone count; stragglers marked. */
export function firmwareBreakdown(stats) {
  const models = new Map();
  for (const g of stats.firmware) {
    const k = `${g.vendor} ${g.model || "(model unknown)"}`;
    if (!models.has(k)) models.set(k, { vendor: g.vendor, model: g.model, groups: [] });
    models.get(k).groups.push(g);
  }
  const items = [...models.entries()].map(([name, m]) => {
    const known = m.groups.filter((g) => g.firmware).map((g) => g.firmware);
    const uploaded = stats.uploaded.find((u) => u.vendor === m.vendor && (u.model === m.model || !u.model))?.version;
    const target = uploaded ?? known.sort(compareVersions).at(-1);
    const total = m.groups.reduce((a, g) => a + g.phones, 0);
    const behind = m.groups.filter((g) => g.firmware && target && g.firmware !== target).reduce((a, g) => a + g.phones, 0);
    return h("li", {},
      h("div", { class: "model" }, h("strong", {}, name), ` · ${total} phone${total === 1 ? "" : "s"}`,
        target ? h("span", { class: "target" }, ` · target ${target}${uploaded ? " (uploaded)" : " (newest seen)"}`) : null,
        behind ? h("span", { class: "badge weak" }, `${behind} behind`) : null),
      h("ul", { class: "versions" }, m.groups.map((g) => {
        const straggler = g.firmware && target && g.firmware !== target;
        const bar = h("span", { class: `bar${straggler ? " straggler" : ""}${g.firmware ? "" : " unknown"}` });
        bar.style.width = `${Math.max(2, (g.phones / total) * 100)}%`;
        return h("li", { class: straggler ? "straggler" : "" },
          h("span", { class: "mono ver" }, g.firmware ?? "never seen"), h("span", { class: "barbox" }, bar),
          h("span", { class: "n" }, `${g.phones}${straggler ? " (straggler)" : ""}`));
      })));
  });
  return h("section", { class: "card fw-card", id: "fw-breakdown", "aria-labelledby": "fw-title" },
    h("h3", { id: "fw-title" }, "Firmware by model"),
    items.length ? h("ul", { class: "models" }, items) : h("p", {}, "No phones yet."));
}
