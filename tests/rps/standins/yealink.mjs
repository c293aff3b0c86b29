// Yealink RPS open API stand-in (and ALE, the same scheme on another host), from RPS.md only.
//
// Verification (RPS.md "Yealink RPS", confirmed):
//   X-Ca-Key (must be our access key id), X-Ca-Timestamp (13-digit Unix ms, within the skew
//   window), X-Ca-Nonce (non-empty, not replayed), Content-MD5 (only and always with a body:
//   base64 MD5 of the exact body bytes), Content-Type application/json;charset=UTF-8 with a body,
//   X-Ca-Signature = base64(HMAC-SHA256(secret, string-to-sign)) with the string-to-sign
//   "METHOD\n[Content-MD5:<md5>\n]X-Ca-Key:<id>\nX-Ca-Nonce:<n>\nX-Ca-Timestamp:<ms>\n<path
//   without leading '/'>[\n<query>]".
import { createHash, createHmac } from "node:crypto";
import {
  DEFAULT_MAX_SKEW_MS,
  NonceCache,
  Refusal,
  httpUrl,
  json,
  normMac,
  othersSet,
  retryHeaders,
  sameString,
  serve,
} from "./common.mjs";

// The query part of the string to sign: decoded values, `k=v` joined by '&', a key with an
// empty value is just `k`. `sorted` sorts by key (RPS.md: sort them).
export function yealinkQueryString(rawQuery, { sorted = true } = {}) {
  if (!rawQuery) return "";
  const pairs = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, " "));
    const v = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
    pairs.push([k, v]);
  }
  if (sorted) pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([k, v]) => (v === "" ? k : `${k}=${v}`)).join("&");
}

export function yealinkStringToSign({ method, path, rawQuery = "", contentMd5, key, nonce, timestamp }, opts) {
  const lines = [method];
  if (contentMd5 !== undefined && contentMd5 !== null) lines.push(`Content-MD5:${contentMd5}`);
  lines.push(`X-Ca-Key:${key}`, `X-Ca-Nonce:${nonce}`, `X-Ca-Timestamp:${timestamp}`, path.replace(/^\//, ""));
  const q = yealinkQueryString(rawQuery, opts);
  if (q) lines.push(q);
  return lines.join("\n");
}

export const yealinkSign = (secret, sts) => createHmac("sha256", secret).update(sts, "utf8").digest("base64");

// Calls: path -> [method, op]. Paths confirmed by RPS.md.
const CALLS = {
  "/api/open/v1/server/add": ["POST", "serverAdd"],
  "/api/open/v1/server/list": ["POST", "serverList"],
  "/api/open/v1/server/checkServerName": ["GET", "checkServerName"],
  "/api/open/v1/server/edit": ["POST", "serverEdit"],
  "/api/open/v1/server/delete": ["POST", "serverDelete"],
  "/api/open/v1/device/add": ["POST", "deviceAdd"],
  "/api/open/v1/device/list": ["POST", "deviceList"],
  "/api/open/v1/device/checkDevice": ["GET", "checkDevice"],
  "/api/open/v1/device/checkMac": ["GET", "checkMac"],
  "/api/open/v1/device/edit": ["POST", "deviceEdit"],
  "/api/open/v1/device/delete": ["POST", "deviceDelete"],
};

// The envelope. unsure: RPS.md gives {"ret","data","error":{"msg","fieldErrors"}} and says
// failure is ret < 0 or HTTP >= 300, but not which HTTP status a business error comes with;
// the stand-in answers business errors with HTTP 200 and ret -1.
const ok = (data) => json(200, { ret: 0, data, error: null });
const fail = (status, msg, fieldErrors = [], outcome) => ({
  ...json(status, { ret: -1, data: null, error: { msg, fieldErrors } }),
  outcome: outcome || msg,
});

// unsure: RPS.md names no bad-credential reply for Yealink; the stand-in answers HTTP 401 with
// the error envelope and an error msg naming the failure class.
const badAuth = (reason, msg = "auth.failed") => new Refusal(reason, fail(401, msg));
const invalid = (reason, fieldErrors = []) => new Refusal(reason, fail(400, "request.invalid", fieldErrors));

export async function startYealink(opts = {}, { vendor = "yealink" } = {}) {
  const { accessKeyId, accessKeySecret } = opts;
  if (!accessKeyId || !accessKeySecret) throw new Error(`${vendor} stand-in: accessKeyId and accessKeySecret are required`);
  const now = opts.now || (() => Date.now());
  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const nonces = new NonceCache(maxSkew);
  const others = othersSet(opts.ownedByOthers);
  // unsure: RPS.md does not say what a MAC registered by another customer gets on add. Default:
  // the same `device.mac.existed` (the client then looks it up, finds nothing in our account, and
  // must report "owned by another account"); `ownedByOthersMsg` picks another msg.
  const ownedMsg = opts.ownedByOthersMsg || "device.mac.existed";
  // unsure: the list reply's container is not in RPS.md. "page" = data {total, data:[...]};
  // "array" = data is the array itself.
  const listShape = opts.listShape || "page";
  // Server names taken by other customers (names are unique across all customers).
  const takenNames = new Set(opts.takenServerNames || []);

  const servers = new Map(); // id -> {id, serverName, url, authName, password, certificateUrl}
  const devices = new Map(); // mac -> {id, mac, serverId, url, uniqueServerUrl, remark, authName, password}
  let nextId = 1;
  const newId = () => `${vendor === "ale" ? "a" : "y"}${String(nextId++).padStart(8, "0")}`;

  function authenticate(rec) {
    const h = rec.headers;
    const key = h["x-ca-key"];
    const ts = h["x-ca-timestamp"];
    const nonce = h["x-ca-nonce"];
    const sig = h["x-ca-signature"];
    if (!key || !ts || !nonce || !sig) throw badAuth("missing X-Ca-* header");
    if (!sameString(key, accessKeyId)) throw badAuth("unknown X-Ca-Key");
    if (!/^\d{13}$/.test(ts)) throw badAuth("X-Ca-Timestamp is not 13-digit Unix ms");
    const hasBody = rec.raw.length > 0;
    const md5 = h["content-md5"];
    if (hasBody) {
      if (md5 === undefined) throw badAuth("body without Content-MD5");
      if (md5 !== createHash("md5").update(rec.raw).digest("base64")) throw badAuth("Content-MD5 does not match the body");
      if (!/^application\/json;\s*charset=utf-8$/i.test(h["content-type"] || "")) {
        throw badAuth("Content-Type is not application/json;charset=UTF-8");
      }
    } else if (md5 !== undefined) {
      throw badAuth("Content-MD5 without a body");
    }
    // unsure: RPS.md lists Content-Type among the headers on every call, but a GET has no body
    // and the header is not signed; the stand-in requires it only with a body (above) and, when
    // present on a GET, that it is the documented value.
    if (!hasBody && h["content-type"] !== undefined && !/^application\/json;\s*charset=utf-8$/i.test(h["content-type"])) {
      throw badAuth("Content-Type is not application/json;charset=UTF-8");
    }
    const parts = { method: rec.method, path: rec.path, rawQuery: rec.rawQuery, contentMd5: hasBody ? md5 : null, key, nonce, timestamp: ts };
    // unsure: whether the server sorts query keys; RPS.md says sort them, and every documented
    // call has one parameter. The stand-in accepts the sorted order and the order as sent.
    let good;
    try {
      good =
        sameString(sig, yealinkSign(accessKeySecret, yealinkStringToSign(parts, { sorted: true }))) ||
        sameString(sig, yealinkSign(accessKeySecret, yealinkStringToSign(parts, { sorted: false })));
    } catch {
      throw invalid("query is not valid percent-encoding");
    }
    if (!good) throw badAuth("X-Ca-Signature does not match", "signature.invalid");
    if (Math.abs(now() - Number(ts)) > maxSkew) throw badAuth("stale X-Ca-Timestamp", "timestamp.expired");
    if (!nonces.use(key, nonce, now())) throw badAuth("replayed X-Ca-Nonce", "nonce.used");
    const call = CALLS[rec.path];
    if (!call) throw new Refusal(`unknown path ${rec.path}`, fail(404, "path.not.found"));
    if (call[0] !== rec.method) throw new Refusal(`${rec.method} on a ${call[0]} call`, fail(405, "method.not.allowed"));
    let body = null;
    if (call[0] === "POST") {
      if (!hasBody) throw invalid("POST call without a JSON body");
      try {
        body = JSON.parse(rec.body);
      } catch {
        throw invalid("body is not JSON");
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("body is not a JSON object");
    } else if (hasBody) {
      throw invalid("GET call with a body");
    }
    return { op: call[1], body };
  }

  const str = (v) => typeof v === "string" && v.length > 0;
  const optStr = (v) => v === undefined || v === null || typeof v === "string";

  function page(items, skip, limit) {
    const s = Number.isInteger(skip) && skip >= 0 ? skip : 0;
    const l = Number.isInteger(limit) && limit > 0 ? limit : 10;
    const slice = items.slice(s, s + l);
    return listShape === "array" ? slice : { total: items.length, data: slice };
  }

  const deviceView = (d) => ({
    id: d.id,
    mac: d.mac,
    serverId: d.serverId ?? null,
    serverName: d.serverId ? servers.get(d.serverId)?.serverName ?? null : null,
    uniqueServerUrl: d.uniqueServerUrl ?? null,
    remark: d.remark ?? null,
  });

  function effectiveUrl(d) {
    return d.uniqueServerUrl || (d.serverId && servers.get(d.serverId)?.url) || null;
  }

  const ops = {
    serverAdd(b) {
      if (!str(b.serverName)) throw invalid("serverName missing", [{ field: "serverName", msg: "must not be blank" }]);
      if (!httpUrl(b.url)) throw invalid("server url is not an http(s) URL", [{ field: "url", msg: "url.invalid" }]);
      for (const f of ["authName", "password", "certificateUrl"]) if (!optStr(b[f])) throw invalid(`${f} is not a string`);
      // unsure: the msg for a taken server name is not in RPS.md.
      const mine = [...servers.values()].some((s) => s.serverName === b.serverName);
      if (mine || takenNames.has(b.serverName)) return fail(200, "server.name.existed", [], "server name taken");
      const id = newId();
      servers.set(id, { id, serverName: b.serverName, url: b.url, authName: b.authName, password: b.password, certificateUrl: b.certificateUrl });
      return ok({ id });
    },
    serverList(b) {
      const key = typeof b.key === "string" ? b.key : "";
      const items = [...servers.values()]
        .filter((s) => s.serverName.includes(key))
        .map((s) => ({ id: s.id, serverName: s.serverName, url: s.url }));
      return ok(page(items, b.skip, b.limit));
    },
    checkServerName(_b, rec) {
      const name = rec.query.serverName;
      if (!str(name)) throw invalid("serverName query parameter missing");
      // unsure: RPS.md's row is "server name taken?" -> data true/false, read as true = taken.
      const taken = takenNames.has(name) || [...servers.values()].some((s) => s.serverName === name);
      return ok(taken);
    },
    serverEdit(b) {
      const s = servers.get(b.id);
      if (!s) return fail(200, "server.not.found", [], "not found"); // unsure: msg
      if (b.serverName !== undefined) {
        if (!str(b.serverName)) throw invalid("serverName is blank");
        const clash = takenNames.has(b.serverName) || [...servers.values()].some((o) => o.id !== s.id && o.serverName === b.serverName);
        if (clash) return fail(200, "server.name.existed", [], "server name taken");
        s.serverName = b.serverName;
      }
      if (b.url !== undefined) {
        if (!httpUrl(b.url)) throw invalid("server url is not an http(s) URL");
        s.url = b.url;
      }
      for (const f of ["authName", "password", "certificateUrl"]) {
        if (b[f] !== undefined) {
          if (!optStr(b[f])) throw invalid(`${f} is not a string`);
          s[f] = b[f];
        }
      }
      for (const d of devices.values()) if (d.serverId === s.id) d.url = effectiveUrl(d);
      return ok(null);
    },
    serverDelete(b) {
      if (!Array.isArray(b.ids) || b.ids.length === 0) throw invalid("ids is not a non-empty array");
      const missing = b.ids.filter((id) => !servers.has(id));
      for (const id of b.ids) servers.delete(id);
      return missing.length ? fail(200, "server.not.found", [], "not found") : ok(null);
    },
    deviceAdd(b) {
      if (!Array.isArray(b.macs) || b.macs.length === 0) throw invalid("macs is not a non-empty array", [{ field: "macs", msg: "must not be empty" }]);
      // RPS.md: 12 hex digits, no separators (case not stated: both accepted).
      const macs = b.macs.map((m) => normMac(m));
      const bad = b.macs.filter((_, i) => !macs[i]);
      // unsure: the msg for an invalid MAC is not in RPS.md.
      if (bad.length) return fail(200, "device.mac.invalid", bad.map((m) => ({ field: "macs", msg: "device.mac.invalid", value: m })), "invalid mac");
      if (b.serverId !== undefined && b.serverId !== null && b.serverId !== "" && !servers.has(b.serverId)) {
        return fail(200, "server.not.found", [], "server not found");
      }
      if (b.uniqueServerUrl !== undefined && b.uniqueServerUrl !== null && b.uniqueServerUrl !== "" && !httpUrl(b.uniqueServerUrl)) {
        return fail(200, "device.url.invalid", [{ field: "uniqueServerUrl", msg: "url.invalid" }], "invalid url"); // unsure: msg
      }
      if (!b.serverId && !b.uniqueServerUrl) throw invalid("neither serverId nor uniqueServerUrl");
      for (const f of ["remark", "authName", "password"]) if (!optStr(b[f])) throw invalid(`${f} is not a string`);
      const existed = macs.filter((m) => devices.has(m));
      if (existed.length) {
        return fail(200, "device.mac.existed", existed.map((m) => ({ field: "macs", msg: "device.mac.existed", value: m })), "exists");
      }
      const owned = macs.filter((m) => others.has(m));
      if (owned.length) return fail(200, ownedMsg, owned.map((m) => ({ field: "macs", msg: ownedMsg, value: m })), "owned by others");
      for (const mac of macs) {
        const d = { id: newId(), mac, serverId: b.serverId || null, uniqueServerUrl: b.uniqueServerUrl || null, remark: b.remark ?? null, authName: b.authName ?? null, password: b.password ?? null };
        d.url = effectiveUrl(d);
        d.server = d.serverId;
        devices.set(mac, d);
      }
      return ok(null);
    },
    deviceList(b) {
      const key = typeof b.key === "string" ? b.key.toLowerCase() : "";
      const items = [...devices.values()].filter((d) => d.mac.includes(key)).map(deviceView);
      return ok(page(items, b.skip, b.limit));
    },
    checkDevice(_b, rec) {
      // unsure: "registered?" read as: registered to our account.
      const mac = normMac(rec.query.mac);
      if (!mac) return fail(200, "device.mac.invalid", [], "invalid mac");
      return ok(devices.has(mac));
    },
    checkMac(_b, rec) {
      // unsure: "exists?" read as: registered to any account.
      const mac = normMac(rec.query.mac);
      if (!mac) return fail(200, "device.mac.invalid", [], "invalid mac");
      return ok(devices.has(mac) || others.has(mac));
    },
    deviceEdit(b) {
      const d = [...devices.values()].find((x) => x.id === b.id);
      if (!d) return fail(200, "device.not.found", [], "not found");
      if (b.serverId !== undefined && b.serverId !== null && b.serverId !== "") {
        if (!servers.has(b.serverId)) return fail(200, "server.not.found", [], "server not found");
        d.serverId = b.serverId;
        d.server = b.serverId;
      }
      if (b.uniqueServerUrl !== undefined) {
        if (b.uniqueServerUrl !== null && b.uniqueServerUrl !== "" && !httpUrl(b.uniqueServerUrl)) {
          return fail(200, "device.url.invalid", [{ field: "uniqueServerUrl", msg: "url.invalid" }], "invalid url");
        }
        d.uniqueServerUrl = b.uniqueServerUrl || null;
      }
      for (const f of ["remark", "authName", "password"]) {
        if (b[f] !== undefined) {
          if (!optStr(b[f])) throw invalid(`${f} is not a string`);
          d[f] = b[f];
        }
      }
      d.url = effectiveUrl(d);
      return ok(null);
    },
    deviceDelete(b) {
      // unsure: RPS.md says the body is {"ids":[...]} and public clients also send
      // {"macs":[...]}; the stand-in takes either (or both).
      const hasIds = Array.isArray(b.ids) && b.ids.length > 0;
      const hasMacs = Array.isArray(b.macs) && b.macs.length > 0;
      if (!hasIds && !hasMacs) throw invalid("neither ids nor macs is a non-empty array");
      const targets = [];
      let missing = 0;
      for (const id of hasIds ? b.ids : []) {
        const d = [...devices.values()].find((x) => x.id === id);
        if (d) targets.push(d.mac);
        else missing++;
      }
      for (const m of hasMacs ? b.macs : []) {
        const mac = normMac(m);
        if (mac && devices.has(mac)) targets.push(mac);
        else missing++;
      }
      for (const mac of targets) devices.delete(mac);
      return missing ? fail(200, "device.not.found", [], "not found") : ok(null);
    },
  };

  return serve(
    vendor,
    {
      prefix: "",
      authenticate,
      handle(rec, ctx) {
        return ops[ctx.op](ctx.body, rec);
      },
      failReply(f) {
        const msg = f.status === 429 ? "request.too.many" : "server.error"; // unsure: msgs
        return { ...json(f.status, { ret: -1, data: null, error: { msg, fieldErrors: [] } }, retryHeaders(f)) };
      },
      extras: () => ({ devices, servers }),
    },
    opts,
  );
}
