// URI mappings: a path a phone asks for, served with one of the site's templates.

import { api, sitePath } from "./api.js";
import { field } from "./dom.js";
import { crud } from "./crud.js";

export async function mount(view, { site }) {
  const templates = await api("GET", sitePath(site, "templates"));
  await crud(view, {
    title: "URI mappings", noun: "mapping",
    intro: "A path a phone asks for under its URL (for example the fixed name an old firmware requests), served with one of the site's templates, rendered for that phone.",
    label: (m) => m.path,
    columns: [["Path", (m) => m.path], ["Template", (m) => m.template]],
    load: () => api("GET", sitePath(site, "uri-mappings")),
    fields: (m) => [
      field({ label: "Path", name: "path", value: m?.path ?? "", hint: "e.g. /provisioning/phone.cfg" }),
      field({ label: "Template", name: "template", value: m?.template ?? "", options: [["", "— choose —"], ...templates.map((t) => [t.name, `${t.name} (${t.vendor})`])] }),
    ],
    body: (v) => ({ path: v.path, template: v.template }),
    create: (b) => api("POST", sitePath(site, "uri-mappings"), b),
    update: (m, b) => api("PUT", sitePath(site, "uri-mappings", m.id), b),
    remove: (m) => api("DELETE", sitePath(site, "uri-mappings", m.id)),
  });
}
