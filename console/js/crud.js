// A list of a site's records with add/edit/delete in a dialog: the users, URI mappings and
// phonebook sources sections are each one call of `crud`.

import { api } from "./api.js";
import { h, put, values, showError, clearErrors, announce, dialog } from "./dom.js";

/**
 * `spec`: {title, noun, columns: [[header, item => text|Node]], load(), fields(item|null)
 * -> [field nodes], body(values, item|null) -> JSON body, create(body), update(item, body),
 * remove(item), intro?}. `fields` may be async (to load the full record).
 */
export async function crud(view, spec) {
  const tbody = h("tbody");
  const reload = async () => {
    const items = await spec.load();
    put(tbody, items.length ? items.map((it) => h("tr", {},
      spec.columns.map(([, f], i) => h(i ? "td" : "th", i ? {} : { scope: "row" }, f(it))),
      h("td", { class: "row-actions" },
        h("button", { type: "button", onclick: () => edit(it) }, "Edit", h("span", { class: "sr-only" }, ` ${spec.label(it)}`)),
        h("button", { type: "button", class: "danger", onclick: () => del(it) }, "Delete", h("span", { class: "sr-only" }, ` ${spec.label(it)}`)))))
      : h("tr", {}, h("td", { colspan: String(spec.columns.length + 1) }, `No ${spec.noun}s yet.`)));
  };
  const edit = async (item) => {
    const err = h("p", { class: "error form-error", role: "alert", hidden: true });
    const form = h("form", { novalidate: true, class: "grid-form" }, await spec.fields(item), err,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, item ? "Save" : `Add ${spec.noun}`)));
    const d = dialog(item ? `Edit ${spec.noun} ${spec.label(item)}` : `Add a ${spec.noun}`, form, { wide: !!spec.wide });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const body = spec.body(values(form), item);
        if (item) await spec.update(item, body); else await spec.create(body);
        d.close();
        announce(`${spec.noun[0].toUpperCase()}${spec.noun.slice(1)} saved.`);
        await reload();
      } catch (e) {
        // The dialog stays open with everything typed: nothing is lost.
        showError(form, spec.mapError ? spec.mapError(e) : e);
      }
    });
  };
  const del = async (item) => {
    if (!confirm(`Delete ${spec.noun} ${spec.label(item)}?`)) return;
    try { await spec.remove(item); announce(`${spec.noun} deleted.`); await reload(); } catch (e) { announce(e.message); }
  };
  put(view,
    h("div", { class: "section-head" }, h("h2", {}, spec.title),
      h("button", { type: "button", class: "primary", onclick: () => edit(null) }, `Add ${spec.noun}`)),
    spec.intro && h("p", { class: "intro" }, spec.intro),
    h("table", { class: "card data" },
      h("thead", {}, h("tr", {}, spec.columns.map(([t]) => h("th", { scope: "col" }, t)), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
      tbody));
  await reload();
}
