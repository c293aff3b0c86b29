// Firmware: upload with a progress bar (XHR: fetch has no upload progress), the quotas,
// each vendor's accepted extensions, and the stored images (edit model/version/notes and
// replace the file, as MikoPBX's Edit does; delete).

import { api, upload, sitePath } from "./api.js";
import { h, put, field, values, showError, clearErrors, announce, dialog, when, bytes } from "./dom.js";
import { CONFIGURED } from "./vendors.js";

let ctx = null;

export async function mount(view, state) {
  ctx = { site: state.site };
  const quota = h("div", { class: "quota", id: "fw-quota" });
  const tbody = h("tbody", { id: "fw-rows" });
  const vendorSel = field({ label: "Vendor", name: "vendor", options: CONFIGURED });
  const fileField = field({ label: "Image file", name: "file", type: "file" });
  const hint = h("small", { class: "hint", id: "fw-ext-hint" });
  fileField.querySelector("input").after(hint); // under the input: the row's inputs line up
  fileField.querySelector("input").setAttribute("aria-describedby", `fw-ext-hint ${fileField.querySelector(".error").id}`);
  const bar = h("progress", { id: "fw-progress", max: "100", value: "0", "aria-label": "Upload progress" });
  const pct = h("span", { id: "fw-pct", "aria-live": "polite" });
  const err = h("p", { class: "error form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "fw-upload" }, "Upload");
  const form = h("form", { novalidate: true, id: "fw-form", class: "card" },
    h("h3", {}, "Upload an image"),
    h("div", { class: "row4" }, vendorSel, fileField,
      field({ label: "Version", name: "version", attrs: { required: true } }),
      field({ label: "Model (empty: every model)", name: "model" })),
    field({ label: "Notes", name: "notes" }),
    err,
    h("div", { class: "actions" }, submit, h("div", { class: "progress", hidden: true }, bar, pct)));
  put(view, h("div", { class: "section-head" }, h("h2", {}, "Firmware")), quota, form,
    h("table", { class: "card data" },
      h("thead", {}, h("tr", {}, ["Vendor", "Model", "Version", "File", "Size", "Uploaded", "Notes"].map((t) => h("th", { scope: "col" }, t)), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
      tbody));
  Object.assign(ctx, { quota, tbody, hint, form });
  const showHint = () => {
    const ext = ctx.info?.extensions?.[form.vendor.value] ?? [];
    hint.textContent = `${form.vendor.value} images end in ${ext.join(" or ")}; at most ${bytes(ctx.info?.max_file_bytes ?? 0)} each.`;
    form.file.setAttribute("accept", ext.join(","));
  };
  form.vendor.addEventListener("change", showHint);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const box = form.querySelector(".progress");
    box.hidden = true; // the last upload's outcome is not this one's
    const v = values(form);
    const file = form.file.files[0];
    if (!file) return showError(form, { field: "file", message: "Choose an image file." });
    const bad = fileProblem(file, v.vendor);
    if (bad) return showError(form, { field: "file", message: bad });
    box.hidden = false;
    bar.value = 0; pct.textContent = "0%";
    submit.disabled = true;
    const q = { vendor: v.vendor, file_name: file.name, version: v.version };
    if (v.model) q.model = v.model;
    if (v.notes) q.notes = v.notes;
    try {
      await upload(sitePath(ctx.site, "firmware"), q, file, (sent, total) => {
        const p = total ? Math.floor((sent / total) * 100) : 0;
        bar.value = p; pct.textContent = `${p}% (${bytes(sent)} of ${bytes(total)})`;
      });
      bar.value = 100; pct.textContent = `100%: ${file.name} stored.`;
      announce(`${file.name} uploaded.`);
      form.file.value = "";
      await reload();
    } catch (e) {
      pct.textContent = "failed";
      // The upload checks map the file's name and size to the file field.
      showError(form, ["file_name", "size"].includes(e.field) ? { field: "file", message: e.message } : e);
    } finally {
      submit.disabled = false;
    }
  });
  await reload();
  showHint();
}

export function unmount() { ctx = null; }

/** What is wrong with `file` as a `vendor` image (its extension, the size cap), or null. */
function fileProblem(file, vendor) {
  const ext = ctx.info.extensions[vendor] ?? [];
  if (!ext.some((e) => file.name.toLowerCase().endsWith(e)))
    return `${file.name} is not a ${vendor} image: ${vendor} firmware files end in ${ext.join(" or ")}.`;
  if (file.size > ctx.info.max_file_bytes)
    return `${bytes(file.size)} is over the ${bytes(ctx.info.max_file_bytes)} limit per file.`;
  return null;
}

async function reload() {
  const info = await api("GET", sitePath(ctx.site, "firmware"));
  ctx.info = info;
  const used = info.used_bytes, max = info.max_total_bytes;
  const meter = h("meter", { id: "fw-used", min: "0", max: String(max), value: String(used), high: String(max * 0.9), "aria-label": "Storage used" });
  put(ctx.quota, h("p", {}, `Storage: ${bytes(used)} of ${bytes(max)} used · at most ${bytes(info.max_file_bytes)} a file`), meter,
    h("details", {}, h("summary", {}, "Accepted extensions per vendor"),
      h("ul", {}, Object.entries(info.extensions).map(([v, e]) => h("li", {}, h("strong", {}, v), `: ${e.join(", ")}`)))));
  put(ctx.tbody, info.firmware.length ? info.firmware.map((f) => h("tr", { dataset: { file: f.file_name } },
    h("td", {}, f.vendor), h("td", {}, f.model || "every model"), h("td", { class: "mono" }, f.version),
    h("th", { scope: "row", class: "mono" }, f.file_name), h("td", {}, bytes(f.size)), h("td", {}, when(f.created_at)), h("td", {}, f.notes),
    h("td", { class: "row-actions" },
      h("button", { type: "button", onclick: () => edit(f) }, "Edit", h("span", { class: "sr-only" }, ` ${f.file_name}`)),
      h("button", { type: "button", class: "danger", onclick: () => remove(f) }, "Delete", h("span", { class: "sr-only" }, ` ${f.file_name}`)))))
    : h("tr", {}, h("td", { colspan: "8" }, "No firmware images yet.")));
}

function edit(f) {
  const err = h("p", { class: "error form-error", role: "alert", hidden: true });
  const ext = ctx.info?.extensions?.[f.vendor] ?? [];
  const fileField = field({ label: "Replace the file (optional)", name: "file", type: "file",
    hint: `A new ${f.vendor} image (${ext.join(" or ")}) takes this one's place: same entry, the old file is deleted.` });
  fileField.querySelector("input").setAttribute("accept", ext.join(","));
  const bar = h("progress", { class: "fw-edit-progress", max: "100", value: "0", "aria-label": "Upload progress", hidden: true });
  const form = h("form", { novalidate: true, class: "grid-form", id: "fw-edit-form" },
    field({ label: "Model (empty: every model)", name: "model", value: f.model }),
    field({ label: "Version", name: "version", value: f.version }),
    field({ label: "Notes", name: "notes", value: f.notes }), fileField, bar, err,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save")));
  const d = dialog(`Firmware ${f.file_name}`, form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    const file = form.file.files[0];
    try {
      if (file) {
        const bad = fileProblem(file, f.vendor);
        if (bad) return showError(form, { field: "file", message: bad });
        bar.hidden = false;
        // The file and the fields in one request: the row keeps its id.
        await upload(sitePath(ctx.site, "firmware", f.id), { file_name: file.name, version: v.version, model: v.model, notes: v.notes }, file,
          (sent, total) => { bar.value = total ? Math.floor((sent / total) * 100) : 0; }, "PUT");
        d.close(); announce(`${f.file_name} replaced by ${file.name}.`); await reload();
        return;
      }
      delete v.file;
      await api("PATCH", sitePath(ctx.site, "firmware", f.id), v);
      d.close(); announce("Saved."); await reload();
    } catch (e) {
      bar.hidden = true;
      showError(form, ["file_name", "size", "sha256"].includes(e.field) ? { field: "file", message: e.message } : e);
    }
  });
}

async function remove(f) {
  if (!confirm(`Delete ${f.file_name}? Phones can no longer download it.`)) return;
  try { await api("DELETE", sitePath(ctx.site, "firmware", f.id)); announce(`${f.file_name} deleted.`); await reload(); } catch (e) { announce(e.message); }
}
