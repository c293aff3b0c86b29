// Users (extensions). Passwords and PINs are written, never shown: the list carries their audit.

import { api, sitePath } from "./api.js";
import { h, field } from "./dom.js";
import { crud } from "./crud.js";

const strength = (a) => a ? h("span", { class: `badge ${a.strength}`, title: a.findings.join("; ") || "no findings" }, a.strength) : "–";

export async function mount(view, { site }) {
  await crud(view, {
    title: "Users", noun: "user",
    intro: "Extensions the phones are bound to. Passwords and PINs are never shown again once saved; the badges are their audit.",
    label: (u) => u.extension,
    columns: [["Extension", (u) => u.extension], ["Name", (u) => u.display_name], ["Auth name", (u) => u.auth_name],
      ["SIP password", (u) => strength(u.password)], ["PIN", (u) => strength(u.pin)], ["Phones", (u) => u.phones.length]],
    load: () => api("GET", sitePath(site, "users")),
    fields: (u) => [
      field({ label: "Extension", name: "extension", value: u?.extension ?? "" }),
      field({ label: "Display name", name: "display_name", value: u?.display_name ?? "" }),
      field({ label: "Auth name", name: "auth_name", value: u?.auth_name ?? "", hint: "Empty: the extension." }),
      field({ label: "SIP password", name: "sip_password", type: "password", hint: u ? "Empty: keep the stored one." : undefined, attrs: { autocomplete: "new-password" } }),
      field({ label: "Voicemail PIN", name: "voicemail_pin", type: "password", hint: u ? "Empty: keep the stored one." : undefined, attrs: { autocomplete: "off", inputmode: "numeric" } }),
    ],
    body: (v, u) => {
      const b = { extension: v.extension, display_name: v.display_name };
      if (v.auth_name) b.auth_name = v.auth_name;
      if (v.sip_password || !u) b.sip_password = v.sip_password;
      if (v.voicemail_pin) b.voicemail_pin = v.voicemail_pin;
      return b;
    },
    create: (b) => api("POST", sitePath(site, "users"), b),
    update: (u, b) => api("PATCH", sitePath(site, "users", u.extension), b),
    remove: (u) => api("DELETE", sitePath(site, "users", u.extension)),
  });
}
