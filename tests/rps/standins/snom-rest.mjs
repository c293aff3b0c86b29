// Snom SRAPS REST stand-in (Hawk 1, SHA-256), from RPS.md only.
//
// Verification (RPS.md "Snom SRAPS", confirmed): Authorization: Hawk id, ts, nonce, hash, mac;
// normalized string "hawk.1.header\n<ts>\n<nonce>\n<METHOD>\n<path and query as sent>\n<host lower
// case>\n<port>\n<payload hash or empty>\n<ext>\n" with host and port from the Host header (port 80
// when the Host header names none: the stand-in is plain http); mac = base64(HMAC-SHA256(secret,
// normalized)); with a body, hash is required and must be base64(SHA-256("hawk.1.payload\n" +
// content type (lower case, no parameters) + "\n" + body + "\n")); ts within the skew window; a
// nonce is not accepted twice; Accept: application/json; Content-Type: application/json with a body.
import { createHash, createHmac } from "node:crypto";
import {
  DEFAULT_MAX_SKEW_MS,
  NonceCache,
  Refusal,
  httpUrl,
  json,
  othersSet,
  retryHeaders,
  sameString,
  serve,
} from "./common.mjs";

const escapeExt = (s) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

export function hawkNormalized({ ts, nonce, method, resource, host, port, hash = "", ext = "" }) {
  return `hawk.1.header\n${ts}\n${nonce}\n${method.toUpperCase()}\n${resource}\n${host.toLowerCase()}\n${port}\n${hash}\n${escapeExt(ext)}\n`;
}

export const hawkMac = (key, normalized) => createHmac("sha256", key).update(normalized, "utf8").digest("base64");

// content type: lower case, parameters dropped.
export function hawkPayloadHash(contentType, payload) {
  const ct = (contentType || "").split(";")[0].trim().toLowerCase();
  return createHash("sha256").update(`hawk.1.payload\n${ct}\n`).update(payload).update("\n").digest("base64");
}

const ATTR_VALUE = /^[ \w!#$%&'()*+,\-./:;<=>?@[\]^`{|}~]*$/;

// `Hawk id="..", ts="..", ...` -> {id, ts, ...} or a reason string.
export function parseHawkHeader(h) {
  if (typeof h !== "string") return "no Authorization header";
  const m = /^Hawk\s+(.*)$/.exec(h);
  if (!m) return "Authorization is not Hawk";
  const attrs = Object.create(null);
  let rest = m[1];
  const re = /^(\w+)="([^"\\]*)"\s*(?:,\s*|$)/;
  while (rest.length) {
    const a = re.exec(rest);
    if (!a) return "bad Hawk header syntax";
    const [all, k, v] = a;
    if (!["id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"].includes(k)) return `unknown Hawk attribute ${k}`;
    if (k in attrs) return `Hawk attribute ${k} twice`;
    if (!ATTR_VALUE.test(v)) return `bad Hawk attribute value for ${k}`;
    attrs[k] = v;
    rest = rest.slice(all.length);
  }
  return attrs;
}

// Host header -> {host, port}; default port 80 (the stand-in speaks plain http).
function hostPort(h) {
  if (typeof h !== "string" || h === "") return null;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(h);
  if (!m) return null;
  return { host: m[1].toLowerCase(), port: m[2] ? Number(m[2]) : 80 };
}

const AUTH_FAILED = "Hawk authentication failed";
const SETTING_SERVER_UUID = "3d2e6f0a-5b1c-4e8f-9a7d-0c1b2a3f4e5d";
const COMPANY_UUID = "c0a1b2c3-d4e5-4f60-8172-839495a6b7c8";

export async function startSnomRest(opts = {}) {
  const { accessKeyId, accessKeySecret } = opts;
  if (!accessKeyId || !accessKeySecret) throw new Error("snom-rest stand-in: accessKeyId and accessKeySecret are required");
  const now = opts.now || (() => Date.now());
  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const nonces = new NonceCache(maxSkew);
  const others = othersSet(opts.ownedByOthers);
  const settingUuid = opts.settingServerUuid || SETTING_SERVER_UUID;
  const companyUuid = opts.companyUuid || COMPANY_UUID;
  // The most settings one page holds, whatever page_size asks (a small cap makes the client
  // follow Link: rel="next").
  const pageCap = opts.settingsPageCap ?? 1000;
  // unsure: the settings list body. "array" (default) = a JSON array, paging by Link header only;
  // "page" = {"count","next","previous","results"} and the Link header.
  const settingsShape = opts.settingsShape || "array";
  // unsure: the HTTP status of taken_mac_or_forbidden (RPS.md names only the code).
  const ownedStatus = opts.ownedByOthersStatus ?? 403;

  // A catalogue with setting_server in the middle, so a client that reads only the first item
  // or stops before the last page fails.
  const settings = [];
  const filler = opts.settingsFiller ?? 4;
  for (let i = 0; i < filler; i++) {
    settings.push({ uuid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, param_name: `setting_filler_${i}`, type: "string" });
  }
  settings.splice(Math.floor(filler / 2) + (filler ? 1 : 0), 0, { uuid: settingUuid, param_name: "setting_server", type: "string" });
  const known = new Set(settings.map((s) => s.uuid));

  const devices = new Map(); // mac -> {mac, url, autoprovisioning_enabled, settings_manager, server}

  // unsure: RPS.md gives the detail text, not the status; 401 with a Hawk challenge.
  const unauth = (reason, extra = {}) =>
    new Refusal(reason, json(401, { detail: AUTH_FAILED }, { "www-authenticate": "Hawk", ...extra }));
  // DRF-like replies. unsure: the exact `detail` texts other than the two in RPS.md.
  const notFound = (outcome = "not found") => ({ ...json(404, { detail: "Not found." }), outcome });
  const bad = (reason, body) => new Refusal(reason, json(400, body));

  function authenticate(rec) {
    const a = parseHawkHeader(rec.headers.authorization);
    if (typeof a === "string") throw unauth(a);
    for (const k of ["id", "ts", "nonce", "mac"]) if (!a[k]) throw unauth(`Hawk header without ${k}`);
    if (a.app !== undefined || a.dlg !== undefined) throw unauth("Hawk app/dlg not expected");
    if (!sameString(a.id, accessKeyId)) throw unauth("unknown Hawk id");
    if (!/^\d+$/.test(a.ts)) throw unauth("Hawk ts is not Unix seconds");
    const hp = hostPort(rec.headers.host);
    if (!hp) throw unauth("no usable Host header");
    const normalized = hawkNormalized({
      ts: a.ts,
      nonce: a.nonce,
      method: rec.method,
      resource: rec.target,
      host: hp.host,
      port: hp.port,
      hash: a.hash || "",
      ext: a.ext || "",
    });
    if (!sameString(a.mac, hawkMac(accessKeySecret, normalized))) throw unauth("Hawk mac does not match");
    const hasBody = rec.raw.length > 0;
    if (hasBody && !a.hash) throw unauth("body without a Hawk payload hash");
    // unsure: an empty hash="" attribute is taken as "no payload hash".
    if (a.hash && !sameString(a.hash, hawkPayloadHash(rec.headers["content-type"], rec.raw))) {
      throw unauth("Hawk payload hash does not match the body");
    }
    // unsure: Hawk's own default window is 60 s; the stand-in uses the brief's 15 minutes
    // (maxSkewMs). A stale ts gets Hawk's WWW-Authenticate ts/tsm/error.
    const nowMs = now();
    if (Math.abs(nowMs - Number(a.ts) * 1000) > maxSkew) {
      if (a.ts.length >= 13) throw unauth("stale Hawk ts (it looks like milliseconds; Hawk wants seconds)");
      const nowTs = String(Math.floor(nowMs / 1000));
      const tsm = createHmac("sha256", accessKeySecret).update(`hawk.1.ts\n${nowTs}\n`).digest("base64");
      throw unauth("stale Hawk ts", { "www-authenticate": `Hawk ts="${nowTs}", tsm="${tsm}", error="Stale timestamp"` });
    }
    if (!nonces.use(a.id, a.nonce, nowMs)) throw unauth("replayed Hawk nonce");
    if (!/(^|,)\s*application\/json\s*(;|,|$)/i.test(rec.headers.accept || "")) {
      throw new Refusal("Accept is not application/json", json(406, { detail: "Could not satisfy the request Accept header." }));
    }
    let body;
    if (hasBody) {
      if (!/^application\/json\s*(;|$)/i.test(rec.headers["content-type"] || "")) {
        throw new Refusal("body is not application/json", json(415, { detail: `Unsupported media type "${rec.headers["content-type"] || ""}" in request.` }));
      }
      try {
        body = JSON.parse(rec.body);
      } catch (e) {
        throw bad("body is not JSON", { detail: "JSON parse error" });
      }
    }
    return { body };
  }

  // unsure: whether SRAPS's links are absolute or relative; the stand-in's are absolute URLs on
  // itself (a client that resolves links against the base gets the same URL either way).
  const base = (h) => `${h.origin}/api/v1/`;
  let standin;

  function settingsPage(rec) {
    const size = Math.min(Number(rec.query.page_size) > 0 ? Number(rec.query.page_size) : 100, pageCap);
    const pageNo = Number(rec.query.page) > 0 ? Number(rec.query.page) : 1;
    const items = settings.slice((pageNo - 1) * size, pageNo * size);
    const more = pageNo * size < settings.length;
    const nextUrl = `${base(standin)}settings/?page=${pageNo + 1}&page_size=${size}`;
    const headers = more ? { link: `<${nextUrl}>; rel="next"` } : {};
    const body =
      settingsShape === "page"
        ? { count: settings.length, next: more ? nextUrl : null, previous: null, results: items }
        : items;
    return json(200, body, headers);
  }

  const endpointView = (d) => ({
    mac: d.mac,
    autoprovisioning_enabled: d.autoprovisioning_enabled,
    settings_manager: d.settings_manager,
    links: { self: `${base(standin)}companies/${companyUuid}/endpoints/${d.mac}` },
  });

  function putEndpoint(mac, body) {
    if (!body || typeof body !== "object" || Array.isArray(body)) throw bad("endpoint body is not a JSON object", { detail: "Invalid data." });
    if (body.mac !== mac) throw bad("body mac is not the path's MAC (12 lower hex)", { mac: ["Does not match the URL."] });
    if (body.autoprovisioning_enabled !== true) throw bad("autoprovisioning_enabled is not true", { autoprovisioning_enabled: ["Must be true."] });
    const sm = body.settings_manager;
    if (!sm || typeof sm !== "object" || Array.isArray(sm)) throw bad("settings_manager is not an object", { settings_manager: ["Invalid."] });
    for (const [uuid, s] of Object.entries(sm)) {
      if (!known.has(uuid)) throw bad(`settings_manager: unknown setting ${uuid}`, { settings_manager: [`Unknown setting ${uuid}.`] });
      if (!s || typeof s !== "object" || typeof s.value !== "string") throw bad(`settings_manager.${uuid} has no string value`, { settings_manager: ["Invalid value."] });
    }
    const srv = sm[settingUuid];
    if (!srv) throw bad("settings_manager lacks setting_server", { settings_manager: ["setting_server missing."] });
    if (!httpUrl(srv.value)) throw bad("setting_server value is not an http(s) URL", { settings_manager: ["Invalid URL."] });
    if (!srv.attrs || srv.attrs.perm !== "RW") throw bad('setting_server attrs.perm is not "RW"', { settings_manager: ["Invalid attrs."] });
    // unsure: other endpoint fields may exist in SRAPS; any other key is accepted and ignored.
    if (others.has(mac)) return { ...json(ownedStatus, { detail: "taken_mac_or_forbidden" }), outcome: "owned by others" };
    const had = devices.has(mac);
    const d = { mac, url: srv.value, server: srv.value, autoprovisioning_enabled: true, settings_manager: sm };
    devices.set(mac, d);
    return { ...json(had ? 200 : 201, endpointView(d)), outcome: had ? "updated" : "created" };
  }

  function handle(rec, { body }) {
    const p = rec.path;
    const m = rec.method;
    const notAllowed = () => new Refusal(`${m} not allowed on ${p}`, json(405, { detail: `Method "${m}" not allowed.` }));
    if (p === "/api/v1/settings/") {
      if (m !== "GET") throw notAllowed();
      return settingsPage(rec);
    }
    let r;
    if ((r = /^\/api\/v1\/tokens\/([^/]+)$/.exec(p))) {
      if (m !== "GET") throw notAllowed();
      let id;
      try {
        id = decodeURIComponent(r[1]);
      } catch {
        throw bad("token id is badly encoded", { detail: "Not found." });
      }
      if (id !== accessKeyId) return notFound();
      return json(200, { id: accessKeyId, links: { company: `${base(standin)}companies/${companyUuid}/` } });
    }
    if (p === `/api/v1/companies/${companyUuid}/`) {
      if (m !== "GET") throw notAllowed();
      return json(200, { uuid: companyUuid, name: opts.companyName || "Our company", links: { endpoints: `${base(standin)}companies/${companyUuid}/endpoints/` } });
    }
    if (p === `/api/v1/companies/${companyUuid}/endpoints/`) {
      // unsure: listing is not in RPS.md; offered for tests.
      if (m !== "GET") throw notAllowed();
      return json(200, [...devices.values()].map(endpointView));
    }
    if ((r = /^\/api\/v1\/companies\/([^/]+)\/endpoints\/([^/]+)$/.exec(p)) && r[1] === companyUuid) {
      const mac = r[2];
      // RPS.md: the MAC is 12 lower-case hex digits.
      if (!/^[0-9a-f]{12}$/.test(mac)) throw bad("path MAC is not 12 lower-case hex digits", { mac: ["Invalid MAC address."] });
      if (m === "PUT") {
        if (body === undefined) throw bad("PUT without a body", { detail: "Invalid data." });
        return putEndpoint(mac, body);
      }
      if (body !== undefined) throw bad(`${m} with a body`, { detail: "Unexpected body." });
      if (m === "GET") {
        // unsure: another customer's MAC reads as not found.
        const d = devices.get(mac);
        return d ? json(200, endpointView(d)) : notFound();
      }
      if (m === "DELETE") {
        if (!devices.has(mac)) return notFound();
        devices.delete(mac);
        return { status: 204, headers: {}, body: "", outcome: "deleted" };
      }
      throw notAllowed();
    }
    throw new Refusal(`unknown path ${p}`, json(404, { detail: "Not found." }));
  }

  standin = await serve(
    "snom-rest",
    {
      prefix: "/api/v1/",
      authenticate,
      handle,
      failReply(f) {
        const detail =
          f.status === 429
            ? `Request was throttled.${f.retryAfter !== undefined ? ` Expected available in ${f.retryAfter} seconds.` : ""}`
            : "Service unavailable.";
        return json(f.status, { detail }, retryHeaders(f));
      },
      extras: () => ({ devices, settingServerUuid: settingUuid, companyUuid }),
    },
    opts,
  );
  return standin;
}
