// PnP settings: the site's PBX, star code, MAC lists, Additional Parameters, time, polling
// and the LAN relay's TFTP. Only the fields changed are sent (PATCH); a refused save keeps
// the form as typed.

import { api, sitePath } from "./api.js";
import { h, put, field, values, showError, clearErrors, announce } from "./dom.js";
import { VENDORS } from "./vendors.js";
import { starCodePattern } from "../pkg/engine_wasm.js";

const DEBUG = /^\[debug\][^[]*verbose\s*=\s*1/m;

export async function mount(view, state) {
  const s = await api("GET", sitePath(state.site));
  const err = h("p", { class: "error form-error", role: "alert", hidden: true });
  const debug = DEBUG.test(s.additional_params);
  const starWarning = h("p", { class: "warn-box", id: "star-code-warning", role: "status", hidden: true });
  const tftpWarning = h("p", { class: "warn-box", id: "tftp-warning", role: "status", hidden: true }, TFTP_WARNING);
  const understood = h("small", { class: "hint", id: "star-code-understood", role: "status" });
  const starField = field({ label: "Star-code pattern", name: "star_code_pattern", value: s.star_code_pattern, hint: "*123* (any extension after it) or MikoPBX's *123*XXX (a 3-digit extension). Empty: off." });
  starField.querySelector(".hint").after(understood);
  const form = h("form", { novalidate: true, id: "settings-form" },
    h("fieldset", { class: "card" }, h("legend", {}, "PBX"),
      h("div", { class: "row4" },
        field({ label: "Site name", name: "name", value: s.name }),
        field({ label: "PBX host", name: "pbx_host", value: s.pbx_host }),
        field({ label: "PBX port", name: "pbx_port", type: "number", value: s.pbx_port, attrs: { min: "1", max: "65535" } }),
        starField),
      h("div", { class: "row2" },
        "pnp_url" in s ? field({ label: "PnP sends phones to", name: "pnp_url", value: s.pnp_url, options: [["relay", "the LAN relay"], ["edge", "the edge"]] }) : null,
        "star_code_mode" in s ? field({ label: "Who may bind a phone by star code", name: "star_code_mode", value: s.star_code_mode ?? "", options: starCodeModes(s),
          hint: "Binding hands the phone the extension's SIP password." }) : null),
      "hot_desking" in s ? field({ label: "Hot-desking: a bound phone may be bound to another extension by star code (it moves to the new user and reboots; the old user keeps no phone)",
        name: "hot_desking", type: "checkbox", value: s.hot_desking }) : null,
      starWarning),
    h("fieldset", { class: "card" }, h("legend", {}, "Which phones"),
      h("div", { class: "row2" },
        field({ label: "Allow list (MACs or prefixes)", name: "allow_macs", type: "textarea", value: s.allow_macs, hint: "One a line or comma-separated; empty: every MAC.", attrs: { rows: "4" } }),
        field({ label: "Deny list", name: "deny_macs", type: "textarea", value: s.deny_macs, hint: "Deny wins over allow.", attrs: { rows: "4" } })),
      h("div", { class: "row4" },
        field({ label: "First-fetch window (seconds)", name: "window_secs", type: "number", value: s.window_secs, hint: "How long a newly bound phone may fetch its secrets for the first time." }),
        field({ label: "Poll interval (minutes)", name: "poll_interval_minutes", type: "number", value: s.poll_interval_minutes, hint: "0: phones do not poll." }))),
    h("fieldset", { class: "card" }, h("legend", {}, "Time and language"),
      h("div", { class: "row4" },
        field({ label: "NTP server", name: "ntp_server", value: s.ntp_server ?? "" }),
        field({ label: "Time zone", name: "timezone", value: s.timezone ?? "", hint: "e.g. Europe/Berlin" }),
        field({ label: "Language", name: "language", value: s.language ?? "", hint: "e.g. en, de" }))),
    h("fieldset", { class: "card" }, h("legend", {}, "Additional Parameters"),
      field({ label: "Additional Parameters (INI)", name: "additional_params", type: "textarea", value: s.additional_params,
        hint: `${[...VENDORS.flatMap((v) => v.param_sections), "debug"].map((n) => `[${n}]`).join(", ")}: merged over every config.`, attrs: { rows: "10", class: "mono", spellcheck: "false" } }),
      field({ label: "Debug: the LAN relay logs every PnP packet, MAC and decision ([debug] verbose = 1)", name: "debug", type: "checkbox", value: debug })),
    "tftp_enabled" in s ? h("fieldset", { class: "card" }, h("legend", {}, "TFTP on the LAN relay"),
      field({ label: "Serve configs by TFTP (for phones that cannot use HTTP)", name: "tftp_enabled", type: "checkbox", value: s.tftp_enabled,
        hint: "Off by default. The relay's own [tftp] enabled, when set, decides instead." }),
      tftpWarning) : null,
    err,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save settings")));
  put(view, h("div", { class: "section-head" }, h("h2", {}, "PnP settings")),
    h("p", { class: "intro" }, "The relay's listening addresses are its own configuration (", h("code", {}, "[http]"), " and ", h("code", {}, "[tftp]"), " in its TOML file). ",
      h("a", { href: "/help/troubleshooting", target: "_blank", rel: "noopener", id: "troubleshooting-link" }, "Troubleshooting"), ": network, DHCP, firewall, the relay's debug log."),
    form);
  const warnStarCode = () => {
    const text = [starCodeWarning(form.star_code_mode?.value ?? s.star_code_mode, s.star_code_pin, form.star_code_pattern.value),
      hotDeskingWarning(form.hot_desking?.checked, form.star_code_pattern.value)].filter(Boolean).join(" ");
    starWarning.textContent = text;
    starWarning.hidden = !text;
    understood.textContent = understoodAs(form.star_code_pattern.value);
  };
  form.star_code_mode?.addEventListener("change", warnStarCode);
  form.hot_desking?.addEventListener("change", warnStarCode);
  form.star_code_pattern.addEventListener("input", warnStarCode);
  warnStarCode();
  const warnTftp = () => { if (form.tftp_enabled) tftpWarning.hidden = !form.tftp_enabled.checked; };
  form.tftp_enabled?.addEventListener("change", warnTftp);
  warnTftp();
  form.debug.addEventListener("change", () => {
    const ta = form.additional_params;
    if (form.debug.checked && !DEBUG.test(ta.value)) ta.value = `${ta.value.replace(/\s*$/, "")}${ta.value.trim() ? "\n\n" : ""}[debug]\nverbose = 1\n`;
    if (!form.debug.checked) ta.value = ta.value.replace(/\n*\[debug\]\s*\n\s*verbose\s*=\s*1\s*\n?/m, "\n").replace(/^\n+/, "");
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const v = values(form);
    delete v.debug;
    const patch = {};
    for (const [k, val] of Object.entries(v)) {
      const typed = ["pbx_port", "window_secs", "poll_interval_minutes"].includes(k) ? Number(val)
        : ["ntp_server", "timezone", "language"].includes(k) && val === "" ? null : val;
      if (typed !== (s[k] ?? (typeof typed === "string" ? "" : null))) patch[k] = typed;
    }
    if (!Object.keys(patch).length) return announce("Nothing changed.");
    try {
      Object.assign(s, await api("PATCH", sitePath(state.site), patch));
      warnStarCode();
      announce("Settings saved.");
    } catch (e) { showError(form, e); }
  });
}

/** What TFTP exposes, shown while it is on. */
export const TFTP_WARNING = "TFTP is on: it has no authentication and no encryption. Anyone on the LAN who can guess a phone's file name (its MAC) gets its config, SIP password included. Use it only on a trusted LAN, such as a voice VLAN.";

/** The star-code modes, the safe ones first; a site from before the setting shows what it does now. */
function starCodeModes(s) {
  const modes = [
    ["pin", "the user, with their voicemail PIN (*123*201*PIN)"],
    ["approval", "anyone, once an administrator approves it (Phones)"],
    ["open", "anyone on the LAN who dials the code (unsafe)"],
  ];
  if (s.star_code_mode == null) modes.unshift(["", `not chosen yet: ${s.star_code_pin ? "the PIN" : "open"}, as before`]);
  return modes;
}

/** What the settings warn about the star code (empty: nothing). */
export function starCodeWarning(mode, legacyPin, pattern) {
  if (!pattern) return "";
  const open = mode === "open" || (!mode && !legacyPin);
  const unchosen = !mode ? " This site was set up before the choice existed: choose how phones may be bound." : "";
  if (open) return `Open star-code binding: anyone on the LAN who knows the code can bind a phone to any extension and receive its SIP password. Choose the PIN or an administrator's approval.${unchosen}`;
  return unchosen.trim();
}

/** How the engine understands the star-code setting, as the edge will on save. */
function understoodAs(pattern) {
  const r = JSON.parse(starCodePattern(pattern));
  if (!r.ok) return `Not understood: ${r.diagnostics[0].message}`;
  return r.understood ? `Understood as ${r.understood}.` : "Star-code binding is off.";
}

/** The warning while hot-desking is on (empty: nothing). */
export function hotDeskingWarning(on, pattern) {
  if (!on || !pattern) return "";
  return "Hot-desking is on: anyone at a bound phone who can bind it (with a user's PIN, or an administrator's approval) can move that phone, and the new user's SIP password, to another extension.";
}
