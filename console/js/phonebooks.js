// Phonebook sources: named lists merged, by priority, into every phone's directory.

import { api, sitePath } from "./api.js";
import { field } from "./dom.js";
import { crud } from "./crud.js";

export async function mount(view, { site }) {
  await crud(view, {
    title: "Phonebook sources", noun: "phonebook source", wide: true,
    intro: "Contact lists merged, in priority order (lowest first) after the site's own users, into every phone's directory.",
    label: (s) => s.name,
    columns: [["Name", (s) => s.name], ["Priority", (s) => s.priority], ["Entries", (s) => s.entries ?? s.entry_count ?? "–"]],
    load: () => api("GET", sitePath(site, "phonebook-sources")),
    fields: async (s) => {
      const full = s ? await api("GET", sitePath(site, "phonebook-sources", s.id)) : { entries: [] };
      return [
        field({ label: "Name", name: "name", value: full.name ?? "" }),
        field({ label: "Priority", name: "priority", type: "number", value: full.priority ?? 100, attrs: { min: "0" } }),
        field({ label: "Entries", name: "entries", type: "textarea", value: full.entries.map((e) => `${e.name}, ${e.number}`).join("\n"),
          hint: "One a line: name, number (the last comma separates them).", attrs: { rows: "10" } }),
      ];
    },
    body: (v) => ({
      name: v.name,
      priority: Number(v.priority || 0),
      entries: v.entries.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
        const i = l.lastIndexOf(",");
        return i < 0 ? { name: l, number: "" } : { name: l.slice(0, i).trim(), number: l.slice(i + 1).trim() };
      }),
    }),
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
