// The console's shell: sign-in, the site picker, and the sections behind the nav links
// (`#phones`, `#templates`, ...: the hash names a section, nothing else).

import { api, token, setUnauthorizedHandler, ApiError } from "./api.js";
import { h, put, showError, clearErrors, announce } from "./dom.js";

const sections = {
  phones: () => import("./phones.js"),
  users: () => import("./users.js"),
  templates: () => import("./templates.js"),
  "uri-mappings": () => import("./urimaps.js"),
  phonebooks: () => import("./phonebooks.js"),
  settings: () => import("./settings.js"),
  firmware: () => import("./firmware.js"),
  rps: () => import("./rps.js"),
};

const $ = (s) => document.querySelector(s);
export const state = { site: null, sites: [] };
let current = null;

function signedOut(message) {
  token.clear();
  current?.unmount?.();
  current = null;
  put($("#view"));
  $("#sign-in").hidden = false;
  $("nav").hidden = true;
  $(".site-picker").hidden = true;
  $("#sign-out").hidden = true;
  if (message) showError($("#sign-in-form"), { field: "token", message });
  $("#token").focus();
}

async function signedIn() {
  state.sites = await api("GET", "/sites");
  $("#sign-in").hidden = true;
  $("nav").hidden = false;
  $("#sign-out").hidden = false;
  const picker = $("#site");
  const saved = sessionStorage.getItem("ztp-site");
  put(picker, state.sites.map((s) => h("option", { value: s.id }, `${s.name} (${s.id})`)));
  state.site = state.sites.find((s) => s.id === saved)?.id ?? state.sites.find((s) => s.id === "demo")?.id ?? state.sites[0]?.id ?? null;
  picker.value = state.site ?? "";
  $(".site-picker").hidden = state.sites.length === 0;
  if (!state.site) put($("#view"), h("p", { class: "card" }, "No site yet: create one with POST /api/sites."));
  else await route();
}

async function route() {
  if (!token.get() || !state.site) return;
  const name = location.hash.slice(1) in sections ? location.hash.slice(1) : "phones";
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  current?.unmount?.();
  $("#status").textContent = "";
  const view = put($("#view"), h("p", { class: "loading" }, "Loading…"));
  delete view.dataset.ready;
  const mod = await sections[name]();
  current = mod;
  try {
    await mod.mount(view, state);
    view.dataset.ready = name; // every part of the section is loaded (tests wait for it)
    document.title = `${document.querySelector(`nav a[href="#${name}"]`).textContent} · Provisioning console`;
  } catch (e) {
    put(view, h("p", { class: "card error-box", role: "alert" }, `Could not load this section: ${e.message}`));
  }
}

setUnauthorizedHandler(() => signedOut("The token was refused: sign in again."));

$("#sign-in-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  clearErrors(form);
  const t = form.token.value.trim();
  if (!t) return showError(form, { field: "token", message: "Paste the admin token." });
  token.set(t);
  try {
    await api("GET", "/sites", undefined, { quiet401: true });
  } catch (e) {
    token.clear();
    return showError(form, {
      field: "token",
      message: e instanceof ApiError && e.status === 401 ? "This token is not the admin token: refused." : e.message,
    });
  }
  form.reset();
  await signedIn();
  announce("Signed in.");
});

$("#sign-out").addEventListener("click", () => { signedOut(); announce("Signed out."); });
$("#site").addEventListener("change", (ev) => {
  state.site = ev.target.value;
  sessionStorage.setItem("ztp-site", state.site);
  route();
});
addEventListener("hashchange", route);

if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});

if (token.get()) signedIn().catch(() => signedOut());
else signedOut();
