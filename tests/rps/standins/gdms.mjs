// Grandstream GDMS stand-in, from RPS.md only.
//
// Verification (RPS.md "Grandstream GDMS", confirmed):
//   token: POST <base>/oauth/token, form-encoded body, grant_type=password, username,
//   password = lower-hex sha256(lower-hex md5(login password)), client_id, client_secret
//   (or grant_type=refresh_token with refresh_token, client_id, client_secret);
//   calls: access_token (issued, not expired), timestamp (13-digit Unix ms, within the skew
//   window), signature = lower-hex sha256("&" + sorted k=v of (query minus signature, plus
//   client_id, client_secret) joined by '&' + "&" [+ sha256hex(body) + "&"]);
//   client_id / client_secret must NOT be in the query.
import { randomBytes } from "node:crypto";
import {
  DEFAULT_MAX_SKEW_MS,
  Refusal,
  json,
  md5hex,
  normMac,
  othersSet,
  retryHeaders,
  sameString,
  serve,
  sha256hex,
} from "./common.mjs";

// unsure: RPS.md gives the envelope {"retCode","msg","data"} but no codes; these are the
// stand-in's own, exported so tests can name them.
export const GDMS_CODES = {
  OK: 0,
  INVALID_TOKEN: 40001,
  BAD_SIGNATURE: 40002,
  STALE_TIMESTAMP: 40003,
  BAD_CREDENTIALS: 40004,
  INVALID_REQUEST: 40000,
  DEVICE_EXISTS: 50001,
  DEVICE_OWNED_BY_OTHER: 50002,
  DEVICE_NOT_FOUND: 50003,
  SN_MISMATCH: 50004,
  INVALID_MAC: 50005,
  ORG_NOT_FOUND: 50006,
  SITE_NOT_FOUND: 50007,
  RATE_LIMITED: 42900,
  SERVER_ERROR: 50000,
};
const C = GDMS_CODES;

// With `perDevice: true`, device/add answers as a batch call: retCode 0, and each device's
// outcome in data {total, success, failure, errorDeviceList:[{orgId, deviceName, siteId, mac,
// errorMsg, sn}]}. Not in RPS.md: the shape is a live GDMS reply quoted by a public client
// (izzwgg-arch/connect-platform, apps/api/src/deskPhoneSetup/gdmsClient.ts at 3040f2bc and its
// CLAUDE.md "Round 9"), where errorMsg "30010" refused a serial number of another handset and
// the item's mac came back upper-case without separators. unsure: what errorMsg GDMS gives an
// added or owned device (these texts are the stand-in's own), and whether it answers those per
// device at all.
export const GDMS_ITEM_ERRORS = {
  EXISTS: "device already exists",
  OWNED_BY_OTHER: "device has been bound by another user",
  SN_MISMATCH: "30010",
};

// The string GDMS hashes into `signature`. `params` is a list of [key, value] pairs (the call's
// query minus `signature`); client_id and client_secret are added here.
export function gdmsSignString(params, { clientId, clientSecret }, body = "") {
  const all = [...params, ["client_id", clientId], ["client_secret", clientSecret]];
  all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let s = "&" + all.map(([k, v]) => `${k}=${v}`).join("&") + "&";
  if (body.length > 0) s += sha256hex(body) + "&";
  return s;
}

const env = (retCode, msg, data = null) => ({ retCode, msg, data });
const ok = (data) => json(200, env(C.OK, "success", data));
// unsure: business errors come with HTTP 200 and a non-zero retCode (RPS.md: "non-zero retCode is
// an error with its text in msg"; the HTTP status is not stated).
const fail = (retCode, msg, outcome) => ({ ...json(200, env(retCode, msg)), outcome: outcome || msg });
// RPS.md: 401/403 for a bad token. unsure: a bad signature or stale timestamp gets the same 401.
const badAuth = (reason, retCode, msg) => new Refusal(reason, json(401, env(retCode, msg)));
// unsure: a malformed request gets HTTP 400 with the envelope.
const invalid = (reason, msg = "invalid request") => new Refusal(reason, json(400, env(C.INVALID_REQUEST, msg)));

// Decoded [key, value] pairs of a raw query, in order; null when badly encoded.
function pairs(rawQuery, { decode = true } = {}) {
  const out = [];
  if (!rawQuery) return out;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    let k = eq < 0 ? part : part.slice(0, eq);
    let v = eq < 0 ? "" : part.slice(eq + 1);
    if (decode) {
      try {
        k = decodeURIComponent(k.replace(/\+/g, " "));
        v = decodeURIComponent(v.replace(/\+/g, " "));
      } catch {
        return null;
      }
    }
    out.push([k, v]);
  }
  return out;
}

const CALLS = {
  "/oapi/v1.0.0/org/list": ["GET", "orgList"],
  "/oapi/v1.0.0/site/list": ["GET", "siteList"],
  "/oapi/v1.0.0/device/add": ["POST", "deviceAdd"],
  "/oapi/v1.0.0/device/detail": ["POST", "deviceDetail"],
  "/oapi/v1.0.0/device/list": ["POST", "deviceList"],
  // unsure: RPS.md has seen no delete call; this one is the stand-in's guess.
  "/oapi/v1.0.0/device/delete": ["POST", "deviceDelete"],
};

export async function startGdms(opts = {}) {
  const { username, password, clientId, clientSecret } = opts;
  if (!username || !password || !clientId || !clientSecret) {
    throw new Error("grandstream stand-in: username, password, clientId and clientSecret are required");
  }
  const orgId = String(opts.orgId ?? "1001");
  const siteId = String(opts.siteId ?? "2001");
  const now = opts.now || (() => Date.now());
  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const tokenTtl = opts.tokenTtlSeconds ?? 3600;
  const others = othersSet(opts.ownedByOthers);
  // Serial numbers the stand-in knows (mac -> sn); a device added with another sn is refused.
  const serials = new Map(Object.entries(opts.serials || {}).map(([m, sn]) => [normMac(m, { loose: true }), String(sn)]));
  // unsure: the token reply's shape. "plain" (default) = {access_token, refresh_token,
  // expires_in, ...} at the top level; "envelope" = inside {"retCode":0,"data":{...}}.
  const tokenShape = opts.tokenShape || "plain";
  // unsure: list replies' container. "page" = data {total, pageNum, pageSize, list:[...]};
  // "array" = data is the array.
  const listShape = opts.listShape || "page";
  const wantHash = sha256hex(md5hex(password));

  const access = new Map(); // token -> expires (ms)
  const refresh = new Map(); // refresh token -> true
  const devices = new Map(); // mac -> {mac, serial, orgId, siteId, url, server}

  function tokenFail(reason, error, description) {
    const body = tokenShape === "envelope" ? env(C.BAD_CREDENTIALS, description) : { error, error_description: description };
    // unsure: RPS.md does not give the token endpoint's refusal; 401 for every refusal.
    return new Refusal(reason, json(401, body));
  }

  // A malformed token request: OAuth's invalid_request (or the envelope).
  const tokenInvalid = (reason) =>
    new Refusal(reason, json(400, tokenShape === "envelope" ? env(C.INVALID_REQUEST, reason) : { error: "invalid_request", error_description: reason }));

  function authToken(rec) {
    if (rec.method !== "POST") throw tokenInvalid(`${rec.method} on the token endpoint`);
    if (rec.rawQuery) throw tokenInvalid("token parameters in the query (must be a form body)");
    if (!/^application\/x-www-form-urlencoded(;|$)/i.test(rec.headers["content-type"] || "")) {
      throw tokenInvalid("token request is not application/x-www-form-urlencoded");
    }
    const p = pairs(rec.body);
    if (!p) throw tokenInvalid("token form is badly encoded");
    const f = Object.create(null);
    for (const [k, v] of p) {
      if (k in f) throw tokenInvalid(`token form repeats ${k}`);
      f[k] = v;
    }
    if (!sameString(f.client_id, clientId) || !sameString(f.client_secret, clientSecret)) {
      throw tokenFail("bad client_id/client_secret", "invalid_client", "Bad client credentials");
    }
    if (f.grant_type === "password") {
      if (!sameString(f.username, username)) throw tokenFail("unknown username", "invalid_grant", "Bad credentials");
      if (!sameString(f.password, wantHash)) {
        const why = f.password === password ? "password sent in plain" : f.password === md5hex(password) ? "password is md5 only" : "password hash does not match";
        throw tokenFail(why, "invalid_grant", "Bad credentials");
      }
    } else if (f.grant_type === "refresh_token") {
      if (!f.refresh_token || !refresh.has(f.refresh_token)) throw tokenFail("unknown refresh_token", "invalid_grant", "Invalid refresh token");
      refresh.delete(f.refresh_token);
    } else {
      throw tokenInvalid(`grant_type ${f.grant_type}`);
    }
    return { op: "token" };
  }

  function issueToken() {
    const at = randomBytes(16).toString("hex");
    const rt = randomBytes(16).toString("hex");
    access.set(at, now() + tokenTtl * 1000);
    refresh.set(rt, true);
    const t = { access_token: at, token_type: "bearer", refresh_token: rt, expires_in: tokenTtl - 1, scope: "all" };
    return json(200, tokenShape === "envelope" ? env(C.OK, "success", t) : t);
  }

  function authenticate(rec) {
    if (rec.path === "/oapi/oauth/token") return authToken(rec);
    const p = pairs(rec.rawQuery);
    if (!p) throw invalid("query is badly encoded");
    const q = Object.create(null);
    for (const [k, v] of p) {
      if (k in q) throw invalid(`query repeats ${k}`);
      q[k] = v;
    }
    if ("client_id" in q || "client_secret" in q) throw badAuth("client_id/client_secret sent in the query", C.BAD_SIGNATURE, "client secret must not be sent");
    if (!q.access_token || !q.timestamp || !q.signature) throw badAuth("missing access_token/timestamp/signature", C.INVALID_TOKEN, "missing auth parameters");
    const exp = access.get(q.access_token);
    if (exp === undefined) throw badAuth("unknown access_token", C.INVALID_TOKEN, "invalid token");
    if (exp <= now()) throw badAuth("expired access_token", C.INVALID_TOKEN, "token expired");
    if (!/^\d{13}$/.test(q.timestamp)) throw badAuth("timestamp is not 13-digit Unix ms", C.BAD_SIGNATURE, "invalid timestamp");
    const creds = { clientId, clientSecret };
    const decoded = p.filter(([k]) => k !== "signature");
    const raw = pairs(rec.rawQuery, { decode: false }).filter(([k]) => k !== "signature");
    // unsure: whether values enter the string decoded or as sent; both are accepted.
    const good =
      sameString(q.signature, sha256hex(gdmsSignString(decoded, creds, rec.body))) ||
      sameString(q.signature, sha256hex(gdmsSignString(raw, creds, rec.body)));
    if (!good) throw badAuth("signature does not match", C.BAD_SIGNATURE, "signature error");
    if (Math.abs(now() - Number(q.timestamp)) > maxSkew) throw badAuth("stale timestamp", C.STALE_TIMESTAMP, "timestamp expired");
    const call = CALLS[rec.path];
    if (!call) throw new Refusal(`unknown path ${rec.path}`, json(404, env(404, "not found")));
    if (call[0] !== rec.method) throw new Refusal(`${rec.method} on a ${call[0]} call`, json(405, env(405, "method not allowed")));
    let body = null;
    if (rec.raw.length > 0) {
      if (rec.method === "GET") throw invalid("GET with a body");
      if (!/^application\/json(;|$)/i.test(rec.headers["content-type"] || "")) throw invalid("body is not application/json");
      try {
        body = JSON.parse(rec.body);
      } catch {
        throw invalid("body is not JSON");
      }
    }
    return { op: call[1], body, q };
  }

  const page = (items, pageNum, pageSize) => {
    const n = Number.isInteger(pageNum) && pageNum > 0 ? pageNum : 1;
    const s = Number.isInteger(pageSize) && pageSize > 0 ? pageSize : 10;
    const slice = items.slice((n - 1) * s, n * s);
    return listShape === "array" ? slice : { total: items.length, pageNum: n, pageSize: s, list: slice };
  };
  const view = (d) => ({ mac: d.mac, sn: d.serial, orgId: d.orgId, siteId: d.siteId });
  // unsure: GDMS MAC format in calls is not in RPS.md: 12 hex, with or without ':'/'-', any case.
  const macOf = (m) => normMac(m, { loose: true });

  const ops = {
    orgList() {
      return ok(page([{ id: orgId, organization: opts.orgName || "Our organisation" }], 1, 100));
    },
    siteList(_b, q) {
      if (!q.orgId) throw invalid("orgId missing");
      if (q.orgId !== orgId) return fail(C.ORG_NOT_FOUND, "organization not exist", "org not found");
      return ok(page([{ id: siteId, siteName: opts.siteName || "Our site", orgId }], 1, 100));
    },
    deviceAdd(b) {
      if (!Array.isArray(b) || b.length === 0) throw invalid("device/add body is not a non-empty JSON array");
      const items = [];
      for (const it of b) {
        if (!it || typeof it !== "object" || Array.isArray(it)) throw invalid("device/add item is not an object");
        for (const f of ["orgId", "siteId", "mac", "sn"]) {
          if (it[f] === undefined || it[f] === null || it[f] === "") throw invalid(`device/add item without ${f}`);
        }
        const mac = macOf(it.mac);
        if (!mac) return fail(C.INVALID_MAC, "mac format error", "invalid mac");
        if (String(it.orgId) !== orgId) return fail(C.ORG_NOT_FOUND, "organization not exist", "org not found");
        if (String(it.siteId) !== siteId) return fail(C.SITE_NOT_FOUND, "site not exist", "site not found");
        if (typeof it.sn !== "string") throw invalid("sn is not a string");
        items.push({ mac, sn: it.sn });
      }
      if (opts.perDevice) {
        // Each device on its own; the request itself succeeds.
        const errorDeviceList = [];
        const item = (mac, sn, errorMsg) => ({ orgId: null, deviceName: null, siteId: Number(siteId), mac: mac.toUpperCase(), errorMsg, sn });
        for (const { mac, sn } of items) {
          let why = null;
          if (devices.has(mac)) why = GDMS_ITEM_ERRORS.EXISTS;
          else if (others.has(mac)) why = GDMS_ITEM_ERRORS.OWNED_BY_OTHER;
          else if (serials.has(mac) && serials.get(mac) !== sn) why = GDMS_ITEM_ERRORS.SN_MISMATCH;
          if (why) errorDeviceList.push(item(mac, sn, why));
          else devices.set(mac, { mac, serial: sn, orgId, siteId, url: opts.siteUrl ?? null, server: siteId });
        }
        const failure = errorDeviceList.length;
        const data = { total: items.length, success: items.length - failure, failure, errorDeviceList };
        return { ...ok(data), outcome: failure ? `refused per device: ${errorDeviceList.map((e) => e.errorMsg).join(", ")}` : "ok" };
      }
      // unsure: a batch with one bad item is refused whole (RPS.md does not say).
      for (const { mac, sn } of items) {
        if (devices.has(mac)) return fail(C.DEVICE_EXISTS, "device already exists", "exists");
        if (others.has(mac)) return fail(C.DEVICE_OWNED_BY_OTHER, "device has been bound by another user", "owned by others");
        if (serials.has(mac) && serials.get(mac) !== sn) return fail(C.SN_MISMATCH, "mac and sn do not match", "sn mismatch");
      }
      for (const { mac, sn } of items) {
        // unsure: GDMS has no per-phone URL (RPS.md); `url` is the site's URL when one was given.
        devices.set(mac, { mac, serial: sn, orgId, siteId, url: opts.siteUrl ?? null, server: siteId });
      }
      return ok(null);
    },
    deviceDetail(b, q) {
      const mac = macOf(q.mac);
      if (!q.mac) throw invalid("mac missing");
      if (!mac) return fail(C.INVALID_MAC, "mac format error", "invalid mac");
      if (q.isFirst !== undefined && q.isFirst !== "0" && q.isFirst !== "1") throw invalid("isFirst is not 0/1");
      const d = devices.get(mac);
      // unsure: a device of another customer answers like an unknown one.
      if (!d) return fail(C.DEVICE_NOT_FOUND, "device not exist", "not found");
      return ok(view(d));
    },
    deviceList(b) {
      if (!b || typeof b !== "object" || Array.isArray(b)) throw invalid("device/list body is not a JSON object");
      return ok(page([...devices.values()].map(view), b.pageNum, b.pageSize));
    },
    deviceDelete(b) {
      // unsure: the body shape; accepted: ["mac",...], [{"mac"},...], {"macs":[...]}, {"macList":[...]}.
      let list = null;
      if (Array.isArray(b)) list = b.map((x) => (x && typeof x === "object" ? x.mac : x));
      else if (b && Array.isArray(b.macs)) list = b.macs;
      else if (b && Array.isArray(b.macList)) list = b.macList;
      if (!list || list.length === 0) throw invalid("device/delete body names no MAC");
      const macs = list.map(macOf);
      if (macs.some((m) => !m)) return fail(C.INVALID_MAC, "mac format error", "invalid mac");
      const missing = macs.filter((m) => !devices.has(m));
      for (const m of macs) devices.delete(m);
      return missing.length ? fail(C.DEVICE_NOT_FOUND, "device not exist", "not found") : ok(null);
    },
  };

  return serve(
    "grandstream",
    {
      prefix: "/oapi",
      authenticate,
      handle(rec, ctx) {
        if (ctx.op === "token") return issueToken();
        return ops[ctx.op](ctx.body, ctx.q);
      },
      failReply(f) {
        const code = f.status === 429 ? C.RATE_LIMITED : C.SERVER_ERROR;
        return json(f.status, env(code, f.status === 429 ? "too many requests" : "server error"), retryHeaders(f));
      },
      extras: () => ({
        devices,
        // Expire every issued access token (the client must log in again or refresh).
        expireTokens() {
          for (const k of access.keys()) access.set(k, 0);
        },
      }),
    },
    opts,
  );
}
