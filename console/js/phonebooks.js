// Phonebook sources: named lists merged, by priority, into every phone's directory. A source
// is a pasted list or a URL (another PBX's directory) fetched on a schedule, by the edge for
// a public host, by the site's relay for a LAN address.

import { api, sitePath } from "./api.js";
import { field, h, when, announce } from "./dom.js";
import { crud } from "./crud.js";

// What the last fetch of a URL source brought: time, entries, format; or its error.
function lastFetch(s) {
  if (!s.url) return "–";
  const by = s.fetched_by === "relay" ? "fetched by the relay" : "fetched by the edge";
  const result = s.last_fetch_at == null ? "not fetched yet"
    : s.last_error ? `failed ${when(s.last_fetch_at)}${s.last_ok_at == null ? "" : ` (last good ${when(s.last_ok_at)}: ${s.last_count} entries kept)`}`
    : `${when(s.last_fetch_at)}: ${s.last_count} entries, ${s.last_format}`;
  return h("span", { class: "pb-fetch" }, `${by}; ${result}`,
    s.last_error ? h("span", { class: "error pb-error" }, ` ${s.last_error}`) : null);
}

export async function mount(view, { site }) {
  const fetchNow = async (s) => {
    try {
      const r = await api("POST", sitePath(site, "phonebook-sources", s.id, "fetch"));
      announce(s.fetched_by === "relay" ? "Asked the relay to fetch it at its next poll." : r.last_error ? `Fetch failed: ${r.last_error}` : `Fetched ${r.last_count} entries.`);
    } catch (e) { announce(e.message); }
    await mount(view, { site });
  };
  await crud(view, {
    title: "Phonebook sources", noun: "phonebook source", wide: true,
    intro: "Contact lists merged, in priority order (lowest first) after the site's own users, into every phone's directory. A source is a pasted list, or the URL of another PBX's directory (Yealink, Snom, Fanvil, Htek or Grandstream XML, CSV with a name,number header, or JSON [{name, number}]) fetched on a schedule: by the edge for a public address, by the site's relay for a LAN address. A failed fetch keeps the last good entries.",
    label: (s) => s.name,
    columns: [
      ["Name", (s) => s.name], ["Priority", (s) => s.priority],
      ["Source", (s) => s.url ? h("span", {}, h("code", {}, s.url), " every ", `${s.fetch_minutes} min `,
        h("button", { type: "button", class: "pb-fetch-now", onclick: () => fetchNow(s) }, "Fetch now")) : "List"],
      ["Entries", (s) => s.entries ?? "–"], ["Last fetch", lastFetch],
    ],
    load: () => api("GET", sitePath(site, "phonebook-sources")),
    fields: async (s) => {
      const full = s ? await api("GET", sitePath(site, "phonebook-sources", s.id)) : { entries: [] };
      const kind = field({ label: "Source", name: "kind", value: full.url ? "url" : "list", options: [["list", "List"], ["url", "URL"]] });
      const url = field({ label: "URL", name: "url", value: full.url ?? "", attrs: { placeholder: "https://pbx.example.com/directory.xml" },
        hint: "Fetched as saved: redirects are not followed. A LAN address (private, localhost, .lan) is fetched by the site's relay. No user:password in the URL." });
      const minutes = field({ label: "Fetch every (minutes)", name: "fetch_minutes", type: "number", value: full.fetch_minutes ?? 60, attrs: { min: "15" } });
      const entries = field({ label: "Entries", name: "entries", type: "textarea", value: full.url ? "" : full.entries.map((e) => `${e.name}, ${e.number}`).join("\n"),
        hint: "One a line: name, number (the last comma separates them).", attrs: { rows: "10" } });
      const show = () => {
        const isUrl = kind.querySelector("select").value === "url";
        url.hidden = !isUrl; minutes.hidden = !isUrl; entries.hidden = isUrl;
      };
      kind.querySelector("select").addEventListener("change", show);
      show();
      return [
        field({ label: "Name", name: "name", value: full.name ?? "" }),
        field({ label: "Priority", name: "priority", type: "number", value: full.priority ?? 100, attrs: { min: "0" } }),
        kind, url, minutes, entries,
      ];
    },
    body: (v) => v.kind === "url" ? {
      name: v.name,
      priority: Number(v.priority || 0),
      url: v.url.trim(),
      fetch_minutes: Number(v.fetch_minutes || 0),
    } : {
      name: v.name,
      priority: Number(v.priority || 0),
      entries: v.entries.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
        const i = l.lastIndexOf(",");
        return i < 0 ? { name: l, number: "" } : { name: l.slice(0, i).trim(), number: l.slice(i + 1).trim() };
      }),
    },
    // "entries[3].number" -> the Entries field, naming the line.
    mapError: (e) => {
      const m = /^entries\[(\d+)\]\.(\w+)$/.exec(e.field ?? "");
      return m ? { field: "entries", message: `line ${Number(m[1]) + 1}, ${m[2]}: ${e.message}` } : e;
    },
    create: (b) => api("POST", sitePath(site, "phonebook-sources"), b),
    update: (s, b) => api("PUT", sitePath(site, "phonebook-sources", s.id), b),
    remove: (s) => api("DELETE", sitePath(site, "phonebook-sources", s.id)),
  });
}
