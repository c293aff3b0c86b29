// Small DOM helpers. Everything that comes from the API or the user goes in as text
// (textContent, attribute values), never as HTML.

/** `h("button", {class: "x", onclick}, "text", child)`: an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function put(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A labelled form field: `{label, name, type?, value?, options?, hint?, attrs?}`. */
export function field({ label, name, type = "text", value = "", options, hint, attrs = {} }) {
  const id = `f-${name.replace(/[^a-z0-9_-]/gi, "-")}-${++ids}`;
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : undefined;
  const described = [hintId, errId].filter(Boolean).join(" ");
  let input;
  if (options) {
    input = h("select", { id, name, "aria-describedby": described, ...attrs },
      options.map((o) => {
        const [v, text] = Array.isArray(o) ? o : [o, o];
        return h("option", { value: v, selected: String(v) === String(value ?? "") }, text);
      }));
  } else if (type === "textarea") {
    input = h("textarea", { id, name, "aria-describedby": described, spellcheck: "false", ...attrs });
    input.value = value ?? "";
  } else if (type === "checkbox") {
    input = h("input", { id, name, type, checked: !!value, "aria-describedby": described, ...attrs });
  } else {
    input = h("input", { id, name, type, value: value ?? "", "aria-describedby": described, ...attrs });
  }
  return h("div", { class: `field field-${type}`, dataset: { field: name } },
    h("label", { for: id }, label),
    input,
    hint && h("small", { id: hintId, class: "hint" }, hint),
    h("p", { id: errId, class: "error", role: "alert", hidden: true }));
}

/** The form's values by name (checkboxes as booleans, everything else as strings). */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    out[el.name] = el.type === "checkbox" ? el.checked : el.value;
  }
  return out;
}

/** Clears every field error (and the form's general one) in `root`. */
export function clearErrors(root) {
  for (const p of root.querySelectorAll(".error")) { p.hidden = true; p.textContent = ""; }
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/**
 * Shows an API error next to the field it names (`{field: "template.source"}` matches a
 * field named `template.source`, then `source`, then the first part); else in the form's
 * general error line. Focuses the field.
 */
export function showError(root, err) {
  clearErrors(root);
  const name = err?.field ?? "";
  const candidates = [name, name.split(".").pop(), name.split(/[.[]/)[0]].filter(Boolean);
  let box;
  for (const c of candidates) {
    box = root.querySelector(`[data-field="${CSS.escape(c)}"]`);
    if (box) break;
  }
  const msg = err?.message ?? String(err);
  const p = box?.querySelector(".error") ?? root.querySelector(".form-error");
  if (p) {
    p.textContent = box ? msg : (name ? `${name}: ${msg}` : msg);
    p.hidden = false;
  }
  const input = box?.querySelector("input, select, textarea");
  if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  return p;
}

/** A status message in the page's live region. */
export function announce(text) {
  const s = document.getElementById("status");
  if (!s) return;
  s.textContent = text;
  clearTimeout(announce.t);
  announce.t = setTimeout(() => { s.textContent = ""; }, 6000);
}

/** A modal dialog holding `content`; resolves when closed. */
export function dialog(title, content, { wide = false } = {}) {
  const d = h("dialog", { class: wide ? "wide" : "", "aria-labelledby": "dlg-title" },
    h("header", {}, h("h2", { id: "dlg-title" }, title),
      h("button", { type: "button", class: "close", "aria-label": "Close", onclick: () => d.close() }, "×")),
    content);
  document.body.append(d);
  d.addEventListener("close", () => d.remove());
  d.showModal();
  return d;
}

/** `1714000000` -> a local date and time; null -> "never". */
// One formatter for every date: building one per call costs about a millisecond.
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });
export function when(secs) {
  if (secs === null || secs === undefined) return "never";
  return dateFormat.format(new Date(secs * 1000));
}

export function bytes(n) {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
