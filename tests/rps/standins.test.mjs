// Self-tests of the RPS stand-ins. Every request here is built by a small client written in this
// file straight from /work/shared/RPS.md with node's crypto (not with the stand-ins' helpers), so
// a signing mistake in a stand-in cannot hide by being shared with the client.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { execFileSync } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import {
  FANVIL,
  GDMS_CODES,
  GDMS_ITEM_ERRORS,
  SNOM_XMLRPC,
  hawkMac,
  hawkNormalized,
  hawkPayloadHash,
  startStandin,
  yealinkSign,
  yealinkStringToSign,
} from "./standins.mjs";

// ---------------------------------------------------------------- shared helpers

function send({ url, method = "GET", headers = {}, body = "" }) {
  return new Promise((resolve, reject) => {
    const buf = Buffer.from(body, "utf8");
    const h = { ...headers };
    if (buf.length) h["Content-Length"] = String(buf.length);
    const req = http.request(url, { method, headers: h, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(buf);
  });
}

const md5hex = (s) => createHash("md5").update(s).digest("hex");
const sha256hex = (s) => createHash("sha256").update(s).digest("hex");
const last = (s) => s.requests[s.requests.length - 1];

// Changes one character of `s` at `i` (default: the middle) to another of the same kind.
function flip(s, i = Math.floor(s.length / 2)) {
  const c = s[i];
  const r = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === "a" ? "b" : c === "A" ? "B" : /[a-z]/.test(c) ? "a" : /[A-Z]/.test(c) ? "A" : "x";
  return s.slice(0, i) + r + s.slice(i + 1);
}

// Sends `req` and checks it was refused with `status` and a verdict matching `why`.
async function refused(s, req, status, why) {
  const n = s.requests.length;
  const r = await send(req);
  assert.equal(r.status, status, `status for ${why}: ${r.text}`);
  assert.equal(s.requests.length, n + 1);
  assert.match(last(s).verdict, why);
  return r;
}

async function accepted(s, req) {
  const r = await send(req);
  assert.equal(last(s).verdict, "ok", `verdict: ${last(s).verdict}`);
  return r;
}

// ---------------------------------------------------------------- Yealink client (RPS.md)

const YL = { id: "yl-key-id-0001", secret: "yl-secret-0123456789abcdef" };

// RPS.md: headers X-Ca-Key, X-Ca-Timestamp (ms), X-Ca-Nonce, Content-MD5 (with a body),
// Content-Type, X-Ca-Signature = base64 HMAC-SHA256 over
// METHOD \n [Content-MD5:..\n] X-Ca-Key:..\n X-Ca-Nonce:..\n X-Ca-Timestamp:..\n path [\n query].
function ylRequest(base, creds, method, pathQuery, bodyObj, { ts = Date.now(), nonce = randomUUID() } = {}) {
  const body = bodyObj === undefined ? "" : typeof bodyObj === "string" ? bodyObj : JSON.stringify(bodyObj);
  const [path, query = ""] = pathQuery.split("?");
  const headers = {
    "X-Ca-Key": creds.id,
    "X-Ca-Timestamp": String(ts),
    "X-Ca-Nonce": nonce,
    "Content-Type": "application/json;charset=UTF-8",
  };
  const lines = [method];
  if (body) {
    headers["Content-MD5"] = createHash("md5").update(body, "utf8").digest("base64");
    lines.push(`Content-MD5:${headers["Content-MD5"]}`);
  }
  lines.push(`X-Ca-Key:${creds.id}`, `X-Ca-Nonce:${nonce}`, `X-Ca-Timestamp:${ts}`, path.slice(1));
  if (query) {
    const kv = query
      .split("&")
      .map((p) => p.split("="))
      .map(([k, v = ""]) => [decodeURIComponent(k), decodeURIComponent(v)])
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    lines.push(kv.map(([k, v]) => (v ? `${k}=${v}` : k)).join("&"));
  }
  headers["X-Ca-Signature"] = createHmac("sha256", creds.secret).update(lines.join("\n")).digest("base64");
  return { url: base + pathQuery, method, headers, body };
}

describe("yealink", () => {
  let s;
  const OTHER = "805ec0aabbcc";
  before(async () => {
    s = await startStandin("yealink", { accessKeyId: YL.id, accessKeySecret: YL.secret, ownedByOthers: ["80:5E:C0:AA:BB:CC"], takenServerNames: ["someone-elses"] });
  });
  after(() => s.close());
  const call = (method, pq, body, o) => ylRequest(s.url, YL, method, pq, body, o);

  test("the string to sign is pinned, and its HMAC agrees with openssl", () => {
    const sts = yealinkStringToSign({
      method: "POST",
      path: "/api/open/v1/device/add",
      rawQuery: "",
      contentMd5: "1B2M2Y8AsgTpgAmY7PhCfg==",
      key: "203756",
      nonce: "c9f15cbf-f4ac-4a6c-b54d-f51abf4b5b44",
      timestamp: "1700000000000",
    });
    assert.equal(
      sts,
      "POST\nContent-MD5:1B2M2Y8AsgTpgAmY7PhCfg==\nX-Ca-Key:203756\nX-Ca-Nonce:c9f15cbf-f4ac-4a6c-b54d-f51abf4b5b44\nX-Ca-Timestamp:1700000000000\napi/open/v1/device/add",
    );
    const q = yealinkStringToSign({ method: "GET", path: "/api/open/v1/device/checkMac", rawQuery: "mac=001565aabbcc&flag", key: "k", nonce: "n", timestamp: "1" });
    assert.equal(q, "GET\nX-Ca-Key:k\nX-Ca-Nonce:n\nX-Ca-Timestamp:1\napi/open/v1/device/checkMac\nflag&mac=001565aabbcc");
    let ssl;
    try {
      ssl = execFileSync("openssl", ["dgst", "-sha256", "-hmac", "secret", "-binary"], { input: sts });
    } catch {
      return; // no openssl here: the pinned layout still stands
    }
    assert.equal(yealinkSign("secret", sts), ssl.toString("base64"));
  });

  test("signed calls are accepted: server, device add/list/check/edit/delete", async () => {
    let r = await accepted(s, call("POST", "/api/open/v1/server/add", { serverName: "edge-a", url: "https://edge.example.com/p/" }));
    assert.equal(r.status, 200);
    assert.equal(r.json.ret, 0);
    const serverId = r.json.data.id;
    assert.ok(serverId);
    r = await accepted(s, call("GET", "/api/open/v1/server/checkServerName?serverName=edge-a"));
    assert.equal(r.json.data, true);
    r = await accepted(s, call("GET", "/api/open/v1/server/checkServerName?serverName=someone-elses"));
    assert.equal(r.json.data, true);
    r = await accepted(s, call("GET", "/api/open/v1/server/checkServerName?serverName=free-name"));
    assert.equal(r.json.data, false);
    r = await accepted(s, call("POST", "/api/open/v1/server/list", { skip: 0, limit: 10, autoCount: true, key: "edge" }));
    assert.equal(r.json.data.data[0].id, serverId);

    const url = "https://edge.example.com/p/tok123/";
    r = await accepted(s, call("POST", "/api/open/v1/device/add", { macs: ["001565a1b2c3"], serverId, uniqueServerUrl: url, remark: "desk", authName: "", password: "" }));
    assert.deepEqual([r.status, r.json.ret, r.json.error], [200, 0, null]);
    assert.equal(s.devices.get("001565a1b2c3").url, url);
    r = await accepted(s, call("GET", "/api/open/v1/device/checkDevice?mac=001565a1b2c3"));
    assert.equal(r.json.data, true);
    r = await accepted(s, call("GET", `/api/open/v1/device/checkMac?mac=${OTHER}`));
    assert.equal(r.json.data, true);
    r = await accepted(s, call("POST", "/api/open/v1/device/list", { key: "001565a1b2c3", skip: 0, limit: 10, autoCount: true }));
    const item = r.json.data.data[0];
    assert.deepEqual([item.mac, item.uniqueServerUrl], ["001565a1b2c3", url]);
    r = await accepted(s, call("POST", "/api/open/v1/device/edit", { id: item.id, uniqueServerUrl: url + "v2" }));
    assert.equal(r.json.ret, 0);
    assert.equal(s.devices.get("001565a1b2c3").url, url + "v2");
    r = await accepted(s, call("POST", "/api/open/v1/device/delete", { ids: [item.id] }));
    assert.equal(r.json.ret, 0);
    assert.equal(s.devices.has("001565a1b2c3"), false);
    // the other body shape public clients send
    await accepted(s, call("POST", "/api/open/v1/device/add", { macs: ["001565a1b2c4"], serverId, uniqueServerUrl: url }));
    r = await accepted(s, call("POST", "/api/open/v1/device/delete", { macs: ["001565a1b2c4"] }));
    assert.equal(r.json.ret, 0);
    assert.equal(s.devices.size, 0);
  });

  test("one changed byte of signature, secret, timestamp or body is refused", async () => {
    const body = { macs: ["001565000001"], uniqueServerUrl: "https://e.example.com/x" };
    let q = call("POST", "/api/open/v1/device/add", body);
    q.headers["X-Ca-Signature"] = flip(q.headers["X-Ca-Signature"], 3);
    let r = await refused(s, q, 401, /X-Ca-Signature does not match/);
    assert.equal(r.json.ret, -1);
    assert.ok(r.json.error.msg);

    await refused(s, ylRequest(s.url, { id: YL.id, secret: flip(YL.secret, 0) }, "POST", "/api/open/v1/device/add", body), 401, /X-Ca-Signature does not match/);

    q = call("POST", "/api/open/v1/device/add", body);
    q.headers["X-Ca-Timestamp"] = flip(q.headers["X-Ca-Timestamp"], 12);
    await refused(s, q, 401, /X-Ca-Signature does not match/);

    q = call("POST", "/api/open/v1/device/add", body);
    q.body = q.body.replace("000001", "000002");
    await refused(s, q, 401, /Content-MD5 does not match/);

    q = call("POST", "/api/open/v1/device/add", body);
    q.body = q.body.replace("000001", "000002");
    q.headers["Content-MD5"] = createHash("md5").update(q.body).digest("base64");
    await refused(s, q, 401, /X-Ca-Signature does not match/);

    q = call("POST", "/api/open/v1/device/add", body);
    q.headers["X-Ca-Key"] = "someone-else";
    await refused(s, q, 401, /unknown X-Ca-Key/);

    q = call("POST", "/api/open/v1/device/add", body);
    delete q.headers["Content-MD5"];
    await refused(s, q, 401, /without Content-MD5/);

    assert.equal(s.devices.size, 0);
  });

  test("stale timestamps and replayed nonces are refused", async () => {
    await refused(s, call("GET", "/api/open/v1/device/checkDevice?mac=001565000001", undefined, { ts: Date.now() - 16 * 60 * 1000 }), 401, /stale/);
    await refused(s, call("GET", "/api/open/v1/device/checkDevice?mac=001565000001", undefined, { ts: Date.now() + 16 * 60 * 1000 }), 401, /stale/);
    await refused(s, call("GET", "/api/open/v1/device/checkDevice?mac=001565000001", undefined, { ts: Math.floor(Date.now() / 1000) }), 401, /13-digit/);
    const q = call("GET", "/api/open/v1/device/checkDevice?mac=001565000001");
    await accepted(s, q);
    await refused(s, q, 401, /replayed/);
  });

  test("register twice -> device.mac.existed; owned by others; remove unknown -> device.not.found", async () => {
    const body = { macs: ["001565000010"], uniqueServerUrl: "https://e.example.com/t1" };
    let r = await accepted(s, call("POST", "/api/open/v1/device/add", body));
    assert.equal(r.json.ret, 0);
    r = await accepted(s, call("POST", "/api/open/v1/device/add", body));
    assert.equal(r.json.ret < 0 || r.status >= 300, true);
    assert.equal(r.json.error.msg, "device.mac.existed");
    assert.equal(last(s).outcome, "exists");

    r = await accepted(s, call("POST", "/api/open/v1/device/add", { macs: [OTHER], uniqueServerUrl: "https://e.example.com/t2" }));
    assert.equal(r.json.error.msg, "device.mac.existed");
    assert.equal(last(s).outcome, "owned by others");
    r = await accepted(s, call("POST", "/api/open/v1/device/list", { key: OTHER, skip: 0, limit: 10, autoCount: true }));
    assert.deepEqual(r.json.data.data, [], "another customer's MAC is not in our list");
    assert.equal(s.devices.has(OTHER), false);

    r = await accepted(s, call("POST", "/api/open/v1/device/delete", { ids: ["no-such-id"] }));
    assert.equal(r.json.error.msg, "device.not.found");
    r = await accepted(s, call("POST", "/api/open/v1/device/delete", { macs: ["001565999999"] }));
    assert.equal(r.json.error.msg, "device.not.found");
    r = await accepted(s, call("POST", "/api/open/v1/device/edit", { id: "001565000010" }));
    assert.equal(r.json.error.msg, "device.not.found", "edit takes the device id, not the MAC");

    r = await accepted(s, call("POST", "/api/open/v1/server/add", { serverName: "someone-elses", url: "https://x.example.com/" }));
    assert.equal(r.json.error.msg, "server.name.existed");
  });

  test("malformed bodies get the invalid-request error", async () => {
    let r = await refused(s, call("POST", "/api/open/v1/device/add", "{not json"), 400, /not JSON/);
    assert.equal(r.json.error.msg, "request.invalid");
    r = await refused(s, call("POST", "/api/open/v1/device/add", { macs: "001565000001" }), 400, /macs/);
    r = await accepted(s, call("POST", "/api/open/v1/device/add", { macs: ["00:15:65:00:00:01"], uniqueServerUrl: "https://e.example.com/" }));
    assert.equal(r.json.error.msg, "device.mac.invalid");
    await refused(s, call("GET", "/api/open/v1/device/nothing"), 404, /unknown path/);
  });

  test("failNext: 429 with Retry-After, then success; 503 twice, then success", async () => {
    s.failNext({ status: 429, retryAfter: 2 });
    let r = await accepted(s, call("GET", "/api/open/v1/device/checkDevice?mac=001565000001"));
    assert.equal(r.status, 429);
    assert.equal(r.headers["retry-after"], "2");
    assert.equal(r.json.ret, -1);
    r = await accepted(s, call("GET", "/api/open/v1/device/checkDevice?mac=001565000001"));
    assert.equal(r.status, 200);
    s.failNext({ status: 503, times: 2 });
    assert.equal((await send(call("GET", "/api/open/v1/device/checkDevice?mac=001565000001"))).status, 503);
    assert.equal((await send(call("GET", "/api/open/v1/device/checkDevice?mac=001565000001"))).status, 503);
    assert.equal((await send(call("GET", "/api/open/v1/device/checkDevice?mac=001565000001"))).status, 200);
    // a request that fails verification does not use up an injected failure
    s.failNext({ status: 503 });
    const bad = call("GET", "/api/open/v1/device/checkDevice?mac=001565000001");
    bad.headers["X-Ca-Signature"] = flip(bad.headers["X-Ca-Signature"]);
    await refused(s, bad, 401, /X-Ca-Signature/);
    assert.equal((await send(call("GET", "/api/open/v1/device/checkDevice?mac=001565000001"))).status, 503);
  });
});

describe("ale (the Yealink scheme, unverified)", () => {
  let s;
  before(async () => {
    s = await startStandin("ale", { accessKeyId: "ale-id", accessKeySecret: "ale-secret", ownedByOthers: ["00809f000001"], ownedByOthersMsg: "device.mac.owned" });
  });
  after(() => s.close());
  test("accepts a Yealink-signed call, refuses a bad one, own owned-by-others msg", async () => {
    const creds = { id: "ale-id", secret: "ale-secret" };
    let r = await accepted(s, ylRequest(s.url, creds, "POST", "/api/open/v1/device/add", { macs: ["00809f000002"], uniqueServerUrl: "https://e.example.com/a" }));
    assert.equal(r.json.ret, 0);
    assert.equal(s.vendor, "ale");
    r = await accepted(s, ylRequest(s.url, creds, "POST", "/api/open/v1/device/add", { macs: ["00809f000001"], uniqueServerUrl: "https://e.example.com/a" }));
    assert.equal(r.json.error.msg, "device.mac.owned");
    await refused(s, ylRequest(s.url, YL, "POST", "/api/open/v1/device/add", { macs: ["00809f000003"], uniqueServerUrl: "https://e.example.com/a" }), 401, /unknown X-Ca-Key/);
  });
});

// ---------------------------------------------------------------- GDMS client (RPS.md)

const GS = { username: "admin@example.com", password: "Pa55word!", clientId: "2001234", clientSecret: "gs-client-secret-xyz", orgId: 318, siteId: 4242 };

function gsTokenRequest(base, c, form = {}) {
  const f = {
    grant_type: "password",
    username: c.username,
    password: sha256hex(md5hex(c.password)),
    client_id: c.clientId,
    client_secret: c.clientSecret,
    ...form,
  };
  return {
    url: `${base}/oauth/token`,
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(f).toString(),
  };
}

// RPS.md: sort (query + access_token, client_id, client_secret, timestamp) by key, join k=v
// with '&', "&" + that + "&" [+ sha256hex(body) + "&"], signature = sha256hex; client_id and
// client_secret are not sent.
function gsCall(base, c, token, method, path, params = {}, bodyObj, { ts = Date.now() } = {}) {
  const body = bodyObj === undefined ? "" : typeof bodyObj === "string" ? bodyObj : JSON.stringify(bodyObj);
  const q = { ...params, access_token: token, timestamp: String(ts) };
  const all = { ...q, client_id: c.clientId, client_secret: c.clientSecret };
  let str = "&" + Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join("&") + "&";
  if (body) str += sha256hex(body) + "&";
  q.signature = sha256hex(str);
  return {
    url: `${base}${path}?${new URLSearchParams(q)}`,
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body,
  };
}

describe("grandstream (GDMS)", () => {
  let s;
  let token;
  const OTHER = "c074ad000099";
  before(async () => {
    s = await startStandin("grandstream", { ...GS, ownedByOthers: [OTHER], serials: { c074ad000005: "SN-RIGHT" }, siteUrl: "https://edge.example.com/site/" });
    const r = await accepted(s, gsTokenRequest(s.url, GS));
    token = r.json.access_token;
  });
  after(() => s.close());
  const call = (method, path, params, body, o) => gsCall(s.url, GS, token, method, path, params, body, o);

  test("base URL carries /oapi; token reply; password hash and client checks", async () => {
    assert.match(s.url, /\/oapi$/);
    let r = await accepted(s, gsTokenRequest(s.url, GS));
    assert.equal(r.status, 200);
    assert.ok(r.json.access_token && r.json.refresh_token && r.json.expires_in > 3000);
    r = await accepted(s, gsTokenRequest(s.url, GS, { grant_type: "refresh_token", refresh_token: r.json.refresh_token, username: undefined, password: undefined }));
    assert.ok(r.json.access_token);
    await refused(s, gsTokenRequest(s.url, GS, { password: GS.password }), 401, /plain/);
    await refused(s, gsTokenRequest(s.url, GS, { password: md5hex(GS.password) }), 401, /md5 only/);
    await refused(s, gsTokenRequest(s.url, GS, { password: flip(sha256hex(md5hex(GS.password)), 5) }), 401, /hash does not match/);
    await refused(s, gsTokenRequest(s.url, GS, { password: sha256hex(md5hex(GS.password)).toUpperCase() }), 401, /hash does not match/);
    await refused(s, gsTokenRequest(s.url, GS, { client_secret: flip(GS.clientSecret, 0) }), 401, /client_id\/client_secret/);
    await refused(s, gsTokenRequest(s.url, GS, { username: "x@example.com" }), 401, /username/);
    const q = gsTokenRequest(s.url, GS);
    q.url += "?" + q.body;
    q.body = "";
    await refused(s, q, 400, /query/);
  });

  test("signed calls are accepted: org/list, site/list, device add/detail/list/delete", async () => {
    let r = await accepted(s, call("GET", "/v1.0.0/org/list"));
    assert.equal(r.json.retCode, 0);
    assert.equal(String(r.json.data.list[0].id), String(GS.orgId));
    r = await accepted(s, call("GET", "/v1.0.0/site/list", { orgId: GS.orgId }));
    assert.equal(String(r.json.data.list[0].id), String(GS.siteId));
    r = await accepted(s, call("POST", "/v1.0.0/device/add", {}, [{ orgId: GS.orgId, siteId: GS.siteId, mac: "c074ad000001", sn: "SN0001" }]));
    assert.deepEqual([r.status, r.json.retCode], [200, 0]);
    assert.deepEqual(s.devices.get("c074ad000001"), { mac: "c074ad000001", serial: "SN0001", orgId: "318", siteId: "4242", url: "https://edge.example.com/site/", server: "4242" });
    r = await accepted(s, call("POST", "/v1.0.0/device/detail", { mac: "c074ad000001", isFirst: 0 }));
    assert.equal(r.json.data.sn, "SN0001");
    r = await accepted(s, call("POST", "/v1.0.0/device/list", {}, { pageNum: 1, pageSize: 100 }));
    assert.equal(r.json.data.total, 1);
    r = await accepted(s, call("POST", "/v1.0.0/device/delete", {}, { macs: ["c074ad000001"] }));
    assert.equal(r.json.retCode, 0);
    assert.equal(s.devices.size, 0);
  });

  test("one changed byte of signature, secret, timestamp or body is refused; client_id in the query too", async () => {
    const body = [{ orgId: GS.orgId, siteId: GS.siteId, mac: "c074ad000002", sn: "SN2" }];
    let q = call("POST", "/v1.0.0/device/add", {}, body);
    const u = new URL(q.url);
    u.searchParams.set("signature", flip(u.searchParams.get("signature"), 10));
    q.url = u.toString();
    let r = await refused(s, q, 401, /signature does not match/);
    assert.equal(r.json.retCode, GDMS_CODES.BAD_SIGNATURE);

    await refused(s, gsCall(s.url, { ...GS, clientSecret: flip(GS.clientSecret, 3) }, token, "POST", "/v1.0.0/device/add", {}, body), 401, /signature does not match/);

    q = call("POST", "/v1.0.0/device/add", {}, body);
    const v = new URL(q.url);
    v.searchParams.set("timestamp", flip(v.searchParams.get("timestamp"), 12));
    q.url = v.toString();
    await refused(s, q, 401, /signature does not match/);

    q = call("POST", "/v1.0.0/device/add", {}, body);
    q.body = q.body.replace("SN2", "SN3");
    await refused(s, q, 401, /signature does not match/);

    await refused(s, call("POST", "/v1.0.0/device/add", { client_id: GS.clientId }, body), 401, /client_id\/client_secret sent in the query/);
    await refused(s, gsCall(s.url, GS, flip(token, 0), "GET", "/v1.0.0/org/list"), 401, /unknown access_token/);
    await refused(s, call("GET", "/v1.0.0/org/list", {}, undefined, { ts: Date.now() - 16 * 60 * 1000 }), 401, /stale/);
    assert.equal(s.devices.size, 0);
  });

  test("register twice -> exists; owned by others; sn mismatch; unknown -> not found", async () => {
    const add = (mac, sn = "SNx") => call("POST", "/v1.0.0/device/add", {}, [{ orgId: GS.orgId, siteId: GS.siteId, mac, sn }]);
    let r = await accepted(s, add("c074ad000003"));
    assert.equal(r.json.retCode, 0);
    r = await accepted(s, add("c074ad000003"));
    assert.equal(r.json.retCode, GDMS_CODES.DEVICE_EXISTS);
    assert.ok(r.json.msg);
    r = await accepted(s, add(OTHER));
    assert.equal(r.json.retCode, GDMS_CODES.DEVICE_OWNED_BY_OTHER);
    r = await accepted(s, add("c074ad000005", "SN-WRONG"));
    assert.equal(r.json.retCode, GDMS_CODES.SN_MISMATCH);
    r = await accepted(s, add("c074ad000005", "SN-RIGHT"));
    assert.equal(r.json.retCode, 0);
    r = await accepted(s, call("POST", "/v1.0.0/device/detail", { mac: "c074ad000077", isFirst: 0 }));
    assert.equal(r.json.retCode, GDMS_CODES.DEVICE_NOT_FOUND);
    r = await accepted(s, call("POST", "/v1.0.0/device/delete", {}, { macs: ["c074ad000077"] }));
    assert.equal(r.json.retCode, GDMS_CODES.DEVICE_NOT_FOUND);
    r = await refused(s, call("POST", "/v1.0.0/device/add", {}, { orgId: GS.orgId, mac: "c074ad000006" }), 400, /JSON array/);
    assert.equal(r.json.retCode, GDMS_CODES.INVALID_REQUEST);
    await refused(s, call("POST", "/v1.0.0/device/list", {}, "{oops"), 400, /not JSON/);
  });

  test("perDevice: device/add answers each device inside a successful reply, as GDMS's batch call does", async () => {
    const p = await startStandin("grandstream", { ...GS, perDevice: true, ownedByOthers: [OTHER], serials: { c074ad000015: "SN-RIGHT" } });
    try {
      const t = (await accepted(p, gsTokenRequest(p.url, GS))).json.access_token;
      const add = (...devs) => gsCall(p.url, GS, t, "POST", "/v1.0.0/device/add", {}, devs.map(([mac, sn = "SNx"]) => ({ orgId: GS.orgId, siteId: GS.siteId, mac, sn })));
      let r = await accepted(p, add(["c0:74:ad:00:00:11"]));
      assert.deepEqual(r.json, { retCode: 0, msg: "success", data: { total: 1, success: 1, failure: 0, errorDeviceList: [] } });
      assert.ok(p.devices.has("c074ad000011"));
      // The live shape: retCode 0, the device refused in errorDeviceList, not added.
      r = await accepted(p, add(["c074ad000015", "SN-WRONG"]));
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {
        retCode: 0,
        msg: "success",
        data: {
          total: 1,
          success: 0,
          failure: 1,
          errorDeviceList: [{ orgId: null, deviceName: null, siteId: GS.siteId, mac: "C074AD000015", errorMsg: GDMS_ITEM_ERRORS.SN_MISMATCH, sn: "SN-WRONG" }],
        },
      });
      assert.ok(!p.devices.has("c074ad000015"));
      assert.equal(p.requests.at(-1).outcome, "refused per device: 30010");
      // A batch: each device on its own (added, owned by another account, already added).
      r = await accepted(p, add(["c074ad000015", "SN-RIGHT"], [OTHER], ["c074ad000011"]));
      assert.equal(r.json.retCode, 0);
      assert.deepEqual([r.json.data.total, r.json.data.success, r.json.data.failure], [3, 1, 2]);
      assert.deepEqual(r.json.data.errorDeviceList.map((e) => [e.mac, e.errorMsg]), [
        [OTHER.toUpperCase(), GDMS_ITEM_ERRORS.OWNED_BY_OTHER],
        ["C074AD000011", GDMS_ITEM_ERRORS.EXISTS],
      ]);
      assert.ok(p.devices.has("c074ad000015") && !p.devices.has(OTHER));
      // A malformed request is still refused whole, in retCode.
      r = await accepted(p, add(["not-a-mac"]));
      assert.equal(r.json.retCode, GDMS_CODES.INVALID_MAC);
      assert.ok(p.requests.every((q) => q.verdict === "ok"), JSON.stringify(p.requests.filter((q) => q.verdict !== "ok")));
    } finally {
      p.close();
    }
  });

  test("an expired token is refused; failNext 429/503 then success", async () => {
    s.failNext({ status: 429, retryAfter: 3 });
    let r = await accepted(s, call("GET", "/v1.0.0/org/list"));
    assert.equal(r.status, 429);
    assert.equal(r.headers["retry-after"], "3");
    assert.equal(r.json.retCode, GDMS_CODES.RATE_LIMITED);
    assert.equal((await send(call("GET", "/v1.0.0/org/list"))).status, 200);
    s.failNext({ status: 503, match: "device/list" });
    assert.equal((await send(call("GET", "/v1.0.0/org/list"))).status, 200, "match: other paths pass");
    assert.equal((await send(call("POST", "/v1.0.0/device/list", {}, { pageNum: 1, pageSize: 100 }))).status, 503);
    assert.equal((await send(call("POST", "/v1.0.0/device/list", {}, { pageNum: 1, pageSize: 100 }))).status, 200);
    s.expireTokens();
    await refused(s, call("GET", "/v1.0.0/org/list"), 401, /expired access_token/);
    token = (await send(gsTokenRequest(s.url, GS))).json.access_token;
    assert.equal((await send(call("GET", "/v1.0.0/org/list"))).status, 200);
  });
});

// ---------------------------------------------------------------- XML-RPC clients (RPS.md)

const xesc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
function xval(v) {
  if (Array.isArray(v)) return `<value><array><data>${v.map(xval).join("")}</data></array></value>`;
  return `<value><string>${xesc(v)}</string></value>`;
}
const xcall = (method, params) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params.map((p) => `<param>${xval(p)}</param>`).join("")}</params></methodCall>`;
// A [bool, string] reply, or {fault}.
function xreply(text) {
  const f = /<fault>[\s\S]*<int>(-?\d+)<\/int>/.exec(text);
  if (f) return { fault: Number(f[1]) };
  const m = /<array><data><value><boolean>([01])<\/boolean><\/value><value>(?:<string>)?([\s\S]*?)(?:<\/string>)?<\/value>/.exec(text);
  assert.ok(m, `not a [bool, string] reply: ${text}`);
  return [m[1] === "1", m[2].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")];
}
const basic = (u, p) => "Basic " + Buffer.from(`${u}:${p}`).toString("base64");

// ---------------------------------------------------------------- Fanvil

const FV = { username: "fanvil-acct", password: "fv-secret-1" };

describe("fanvil (FDPS)", () => {
  let s;
  const OTHER = "0c383e000099";
  before(async () => {
    s = await startStandin("fanvil", { ...FV, ownedByOthers: [OTHER] });
  });
  after(() => s.close());
  // RPS.md: POST xmlrpc.php, text/xml, Basic user = account, password = md5hex(md5hex(pw)).
  const rpc = (method, params, { user = FV.username, pass = md5hex(md5hex(FV.password)), ctype = "text/xml" } = {}) => ({
    url: s.url,
    method: "POST",
    headers: { "Content-Type": ctype, Authorization: basic(user, pass) },
    body: xcall(method, params),
  });
  const server = (group, over = {}) => {
    const f = { cfgName: group, cfgPfMode: "1", cfgDhcpOpt: "false", cfgPnpEnable: "false", cfgPfSrv: "edge.example.com:8443", cfgPfName: "p/tok-0c383e000001/", cfgPfProt: "5", ...over };
    return Object.entries(f).map(([k, v]) => `${k}=${v}`);
  };

  test("the four-step registration of RPS.md is accepted", async () => {
    assert.match(s.url, /\/xmlrpc\.php$/);
    let r = await accepted(s, rpc("redirect.deleteServer", ["g-0c383e000001"]));
    assert.deepEqual(xreply(r.text), [false, FANVIL.SERVER_NOT_EXIST]);
    assert.equal(FANVIL.SERVER_NOT_EXIST, "Error:server_not_exist");
    r = await accepted(s, rpc("redirect.addMaterialServer", [server("g-0c383e000001")]));
    assert.equal(xreply(r.text)[0], true);
    r = await accepted(s, rpc("redirect.deRegisterDevice", ["0c383e000001"]));
    assert.equal(xreply(r.text)[0], false, "result ignored by the client");
    r = await accepted(s, rpc("redirect.registerDevice", ["0c383e000001", "g-0c383e000001"]));
    assert.equal(xreply(r.text)[0], true);
    assert.deepEqual(s.devices.get("0c383e000001"), { mac: "0c383e000001", server: "g-0c383e000001", url: "https://edge.example.com:8443/p/tok-0c383e000001/" });
    r = await accepted(s, rpc("redirect.checkDevice", ["0c383e000001"]));
    assert.deepEqual(xreply(r.text), [true, "g-0c383e000001"]);
    // the same again, as a client re-registering does: delete the group, add it, deregister, register
    for (const [m, p] of [
      ["redirect.deleteServer", ["g-0c383e000001"]],
      ["redirect.addMaterialServer", [server("g-0c383e000001", { cfgPfProt: "4", cfgPfSrv: "edge.example.com" })]],
      ["redirect.deRegisterDevice", ["0c383e000001"]],
      ["redirect.registerDevice", ["0c383e000001", "g-0c383e000001"]],
    ]) {
      r = await accepted(s, rpc(m, p));
      assert.equal(xreply(r.text)[0], true, m);
    }
    assert.equal(s.devices.get("0c383e000001").url, "http://edge.example.com/p/tok-0c383e000001/");
  });

  test("a changed byte of the password hash, a plain or single-md5 password are refused", async () => {
    const body = ["redirect.registerDevice", ["0c383e000002", "g-0c383e000001"]];
    let r = await refused(s, rpc(...body, { pass: flip(md5hex(md5hex(FV.password)), 4) }), 401, /password does not match/);
    assert.match(r.headers["www-authenticate"], /^Basic /);
    await refused(s, rpc(...body, { pass: FV.password }), 401, /plain/);
    await refused(s, rpc(...body, { pass: md5hex(FV.password) }), 401, /md5 once/);
    await refused(s, rpc(...body, { pass: md5hex(md5hex(FV.password)).toUpperCase() }), 401, /upper-case/);
    await refused(s, rpc(...body, { user: "fanvil-acct2" }), 401, /unknown user/);
    const noAuth = rpc(...body);
    delete noAuth.headers.Authorization;
    await refused(s, noAuth, 401, /no Authorization/);
    await refused(s, rpc(...body, { ctype: "application/xml" }), 400, /text\/xml/);
    assert.equal(s.devices.has("0c383e000002"), false);
  });

  test("register twice, owned by others, unknown group or phone, bad URL parts, malformed XML", async () => {
    await accepted(s, rpc("redirect.addMaterialServer", [server("g2")]));
    let r = await accepted(s, rpc("redirect.registerDevice", ["0c383e000003", "g2"]));
    assert.equal(xreply(r.text)[0], true);
    r = await accepted(s, rpc("redirect.registerDevice", ["0c383e000003", "g2"]));
    assert.deepEqual(xreply(r.text), [false, FANVIL.DEVICE_HAD_EXISTED]);
    r = await accepted(s, rpc("redirect.registerDevice", [OTHER, "g2"]));
    assert.deepEqual(xreply(r.text), [false, "Error: device_had_existed"]);
    assert.equal(last(s).outcome, "owned by others");
    r = await accepted(s, rpc("redirect.registerDevice", ["0c383e000004", "nope"]));
    assert.deepEqual(xreply(r.text), [false, "Error:server_not_exist"]);
    r = await accepted(s, rpc("redirect.registerDevice", ["0c383e00000z", "g2"]));
    assert.deepEqual(xreply(r.text), [false, "Error: mac_format_error"]);
    r = await accepted(s, rpc("redirect.deRegisterDevice", ["0c383e000077"]));
    assert.deepEqual(xreply(r.text), [false, FANVIL.DEVICE_NOT_EXIST]);
    for (const over of [{ cfgPfProt: "3" }, { cfgPfName: "/p/x" }, { cfgPfSrv: "edge.example.com:99999" }, { cfgPfSrv: "https://edge.example.com" }]) {
      r = await accepted(s, rpc("redirect.addMaterialServer", [server("g3", over)]));
      assert.deepEqual(xreply(r.text), [false, "Error: url_format_error"], JSON.stringify(over));
    }
    r = await refused(s, rpc("redirect.addMaterialServer", [server("g3", { cfgPfMode: "2" })]), 200, /cfgPfMode/);
    assert.equal(xreply(r.text).fault, -32602);
    r = await refused(s, rpc("redirect.addMaterialServer", [server("g3").slice(1)]), 200, /missing cfgName/);
    r = await refused(s, rpc("redirect.registerDevice", ["0c383e000004"]), 200, /params, want 2/);
    r = await refused(s, rpc("redirect.noSuchCall", []), 200, /unknown method/);
    assert.equal(xreply(r.text).fault, -32601);
    const q = rpc("redirect.deleteServer", ["g2"]);
    q.body = q.body.replace("</methodName>", "");
    r = await refused(s, q, 200, /malformed XML-RPC/);
    assert.equal(xreply(r.text).fault, -32700);
    const q2 = rpc("redirect.deleteServer", ["g2"]);
    q2.body = `<!DOCTYPE x [<!ENTITY e "x">]>` + q2.body.replace(/^<\?xml[^>]*\?>/, "");
    await refused(s, q2, 200, /DOCTYPE/);
  });

  test("failNext 429 with Retry-After then success; 503 then success", async () => {
    s.failNext({ status: 429, retryAfter: 5 });
    let r = await accepted(s, rpc("redirect.deleteServer", ["none"]));
    assert.equal(r.status, 429);
    assert.equal(r.headers["retry-after"], "5");
    r = await accepted(s, rpc("redirect.deleteServer", ["none"]));
    assert.equal(r.status, 200);
    s.failNext({ status: 503 });
    assert.equal((await send(rpc("redirect.deleteServer", ["none"]))).status, 503);
    assert.equal((await send(rpc("redirect.deleteServer", ["none"]))).status, 200);
  });
});

// ---------------------------------------------------------------- Snom REST (Hawk, RPS.md)

// RPS.md: normalized string, every line ending in \n: hawk.1.header, ts, nonce, METHOD, request
// URI, host (lower case), port, payload hash (or empty), ext; mac = base64 HMAC-SHA256.
function hawkClientMac(key, { ts, nonce, method, uri, host, port, hash = "", ext = "" }) {
  const norm = ["hawk.1.header", ts, nonce, method, uri, host.toLowerCase(), port, hash, ext].join("\n") + "\n";
  return createHmac("sha256", key).update(norm).digest("base64");
}
const hawkClientHash = (ctype, body) => createHash("sha256").update(`hawk.1.payload\n${ctype}\n${body}\n`).digest("base64");

const SN = { id: "snom-key-id-42", key: "snom-secret-key-0987654321" };

function snomRequest(creds, method, url, bodyObj, { ts = Math.floor(Date.now() / 1000), nonce = randomUUID().slice(0, 8), accept = "application/json" } = {}) {
  const u = new URL(url);
  const body = bodyObj === undefined ? "" : typeof bodyObj === "string" ? bodyObj : JSON.stringify(bodyObj);
  const headers = { Accept: accept };
  let hash = "";
  if (body) {
    headers["Content-Type"] = "application/json";
    hash = hawkClientHash("application/json", body);
  }
  const mac = hawkClientMac(creds.key, { ts, nonce, method, uri: u.pathname + u.search, host: u.hostname, port: u.port || (u.protocol === "https:" ? 443 : 80), hash });
  headers.Authorization = `Hawk id="${creds.id}", ts="${ts}", nonce="${nonce}", hash="${hash}", mac="${mac}"`;
  return { url, method, headers, body };
}

describe("snom-rest (SRAPS, Hawk)", () => {
  test("the Hawk vectors of RPS.md, byte for byte (test client and stand-in)", () => {
    const key = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";
    const base = { ts: "1353832234", nonce: "j4h3g2", uri: "/resource/1?b=1&a=2", host: "example.com", port: "8000", ext: "some-app-ext-data" };
    assert.equal(hawkClientMac(key, { ...base, method: "GET" }), "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=");
    const hash = hawkClientHash("text/plain", "Thank you for flying Hawk");
    assert.equal(hash, "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=");
    assert.equal(hawkClientMac(key, { ...base, method: "POST", hash }), "aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=");

    const sb = { ts: 1353832234, nonce: "j4h3g2", resource: "/resource/1?b=1&a=2", host: "Example.COM", port: 8000, ext: "some-app-ext-data" };
    assert.equal(hawkMac(key, hawkNormalized({ ...sb, method: "get" })), "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=");
    assert.equal(hawkPayloadHash("Text/Plain; charset=utf-8", "Thank you for flying Hawk"), "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=");
    assert.equal(hawkMac(key, hawkNormalized({ ...sb, method: "POST", hash })), "aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=");
  });

  let s;
  const OTHER = "000413000099";
  before(async () => {
    s = await startStandin("snom-rest", { accessKeyId: SN.id, accessKeySecret: SN.key, ownedByOthers: [OTHER], settingsPageCap: 2 });
  });
  after(() => s.close());
  const req = (method, url, body, o) => snomRequest(SN, method, url, body, o);
  const abs = (p) => new URL(p, s.url).toString();

  // RPS.md's registration: settings (following Link rel=next) -> setting_server uuid;
  // tokens/<id> -> links.company -> links.endpoints; PUT <endpoints><mac>.
  async function register(mac, url) {
    let next = abs("settings/?page_size=1000");
    let uuid;
    let pages = 0;
    while (next) {
      const r = await accepted(s, req("GET", next));
      assert.equal(r.status, 200);
      pages++;
      for (const st of r.json) if (st.param_name === "setting_server") uuid = st.uuid;
      const link = /<([^>]+)>;\s*rel="next"/.exec(r.headers.link || "");
      next = link ? link[1] : null;
    }
    assert.ok(pages > 1, "the stand-in paged the settings");
    assert.equal(uuid, s.settingServerUuid);
    const tok = await accepted(s, req("GET", abs(`tokens/${SN.id}`)));
    const company = await accepted(s, req("GET", tok.json.links.company));
    const endpoints = company.json.links.endpoints;
    const body = { mac, autoprovisioning_enabled: true, settings_manager: { [uuid]: { value: url, attrs: { perm: "RW" } } } };
    return { put: await send(req("PUT", endpoints + mac, body)), endpoints, body };
  }

  test("the registration, look-up and removal of RPS.md are accepted", async () => {
    assert.match(s.url, /\/api\/v1\/$/);
    const { put, endpoints } = await register("000413000001", "https://edge.example.com/p/tok1/");
    assert.equal(last(s).verdict, "ok");
    assert.equal(put.status, 201);
    assert.equal(s.devices.get("000413000001").url, "https://edge.example.com/p/tok1/");
    let r = await accepted(s, req("GET", endpoints + "000413000001"));
    assert.equal(r.status, 200);
    assert.equal(r.json.mac, "000413000001");
    r = await accepted(s, req("DELETE", endpoints + "000413000001"));
    assert.equal(r.status, 204);
    r = await accepted(s, req("GET", endpoints + "000413000001"));
    assert.equal(r.status, 404);
    r = await accepted(s, req("DELETE", endpoints + "000413000001"));
    assert.equal(r.status, 404, "remove unknown -> not found");
    assert.equal(last(s).outcome, "not found");
  });

  test("one changed byte of mac, secret, ts, body or host is refused", async () => {
    const { endpoints, body } = await register("000413000002", "https://edge.example.com/p/tok2/");
    const url = endpoints + "000413000003";
    const b = { ...body, mac: "000413000003" };
    let q = req("PUT", url, b);
    q.headers.Authorization = q.headers.Authorization.replace(/mac="([^"]+)"/, (_, m) => `mac="${flip(m, 2)}"`);
    let r = await refused(s, q, 401, /mac does not match/);
    assert.equal(r.json.detail, "Hawk authentication failed");

    await refused(s, snomRequest({ id: SN.id, key: flip(SN.key, 1) }, "PUT", url, b), 401, /mac does not match/);

    q = req("PUT", url, b);
    q.headers.Authorization = q.headers.Authorization.replace(/ts="(\d+)"/, (_, t) => `ts="${flip(t, t.length - 1)}"`);
    await refused(s, q, 401, /mac does not match/);

    q = req("PUT", url, b);
    q.body = q.body.replace("000413000003", "000413000004");
    await refused(s, q, 401, /payload hash does not match/);

    q = req("PUT", url, b);
    q.headers.Authorization = q.headers.Authorization.replace(/hash="[^"]*", /, 'hash="", ');
    await refused(s, q, 401, /mac does not match|without a Hawk payload hash/);

    q = req("PUT", url, b);
    q.headers.Host = `127.0.0.1:${s.port + 1}`;
    await refused(s, q, 401, /mac does not match/);

    await refused(s, req("PUT", url, b, { ts: Math.floor(Date.now() / 1000) - 16 * 60 }), 401, /stale/);
    r = await refused(s, req("PUT", url, b, { ts: Math.floor(Date.now() / 1000) + 16 * 60 }), 401, /stale/);
    assert.match(r.headers["www-authenticate"], /error="Stale timestamp"/);

    q = req("GET", endpoints + "000413000002");
    await accepted(s, q);
    await refused(s, q, 401, /replayed/);
    await refused(s, snomRequest({ id: "other-id", key: SN.key }, "GET", endpoints + "000413000002"), 401, /unknown Hawk id/);
    q = req("GET", endpoints + "000413000002");
    delete q.headers.Authorization;
    await refused(s, q, 401, /no Authorization/);
    await refused(s, req("GET", endpoints + "000413000002", undefined, { accept: "*/*" }), 406, /Accept/);
    assert.equal(s.devices.has("000413000003"), false);
  });

  test("PUT again updates; owned by others -> taken_mac_or_forbidden; malformed bodies -> 400", async () => {
    const { endpoints, body } = await register("000413000005", "https://edge.example.com/p/tok5/");
    let r = await accepted(s, req("PUT", endpoints + "000413000005", body));
    assert.equal(r.status, 200, "a second PUT replaces (no 'already exists' in SRAPS's REST API)");
    assert.equal(last(s).outcome, "updated");
    r = await accepted(s, req("PUT", endpoints + OTHER, { ...body, mac: OTHER }));
    assert.equal(r.status, 403);
    assert.equal(r.json.detail, "taken_mac_or_forbidden");
    assert.equal(s.devices.has(OTHER), false);
    await refused(s, req("PUT", endpoints + "000413000006", "{bad"), 400, /not JSON/);
    await refused(s, req("PUT", endpoints + "000413000006", { ...body, mac: "000413000007" }), 400, /path's MAC/);
    await refused(s, req("PUT", endpoints + "000413000006", { ...body, mac: "000413000006", autoprovisioning_enabled: false }), 400, /autoprovisioning_enabled/);
    const uuid = s.settingServerUuid;
    await refused(s, req("PUT", endpoints + "000413000006", { ...body, mac: "000413000006", settings_manager: { [uuid]: { value: "https://e.example.com/", attrs: { perm: "R" } } } }), 400, /perm/);
    await refused(s, req("PUT", endpoints + "000413000006", { ...body, mac: "000413000006", settings_manager: { [uuid]: { value: "not a url", attrs: { perm: "RW" } } } }), 400, /URL/);
    await refused(s, req("PUT", endpoints + "000413ABCDEF", { ...body, mac: "000413ABCDEF" }), 400, /lower-case/);
  });

  test("failNext 429 with Retry-After then success; 503 then success", async () => {
    const e = abs(`tokens/${SN.id}`);
    s.failNext({ status: 429, retryAfter: 7 });
    let r = await accepted(s, req("GET", e));
    assert.equal(r.status, 429);
    assert.equal(r.headers["retry-after"], "7");
    assert.match(r.json.detail, /throttled/);
    assert.equal((await send(req("GET", e))).status, 200);
    s.failNext({ status: 503 });
    assert.equal((await send(req("GET", e))).status, 503);
    assert.equal((await send(req("GET", e))).status, 200);
  });
});

// ---------------------------------------------------------------- Snom legacy XML-RPC

const SX = { username: "snomuser", password: "snom-pass-1" };

describe("snom-xmlrpc (SRAPS legacy)", () => {
  let s;
  const OTHER = "000413000099";
  before(async () => {
    s = await startStandin("snom-xmlrpc", { ...SX, ownedByOthers: [OTHER] });
  });
  after(() => s.close());
  const rpc = (method, params, { url = s.url, pass = SX.password, ctype = "text/xml" } = {}) => ({
    url,
    method: "POST",
    headers: { "Content-Type": ctype, Authorization: basic(SX.username, pass) },
    body: xcall(method, params),
  });

  test("register, look up, deregister are accepted", async () => {
    assert.match(s.url, /\/xmlrpc\/$/);
    let r = await accepted(s, rpc("redirect.registerPhone", ["000413000001", "https://edge.example.com/p/tok1/"]));
    assert.deepEqual(xreply(r.text), [true, SNOM_XMLRPC.OK]);
    assert.equal(s.devices.get("000413000001").url, "https://edge.example.com/p/tok1/");
    r = await accepted(s, rpc("redirect.getPhoneRedirection", ["000413000001"]));
    assert.deepEqual(xreply(r.text), [true, "https://edge.example.com/p/tok1/"]);
    r = await accepted(s, rpc("redirect.registerPhone", ["000413000001", "https://edge.example.com/p/tok2/"]));
    assert.deepEqual(xreply(r.text), [true, "Ok"], "registering again replaces the URL");
    r = await accepted(s, rpc("redirect.deregisterPhone", ["000413000001"]));
    assert.deepEqual(xreply(r.text), [true, "Ok"]);
    r = await accepted(s, rpc("redirect.deregisterPhone", ["000413000001"]));
    assert.deepEqual(xreply(r.text), [false, SNOM_XMLRPC.NOT_REGISTERED], "remove unknown -> not found");
    assert.equal(s.devices.size, 0);
  });

  test("a changed password byte, no trailing slash, wrong content type are refused", async () => {
    const call = ["redirect.registerPhone", ["000413000002", "https://edge.example.com/p/"]];
    const r = await refused(s, rpc(...call, { pass: flip(SX.password, 2) }), 401, /password does not match/);
    assert.match(r.headers["www-authenticate"], /^Basic realm=/);
    await refused(s, rpc(...call, { url: s.url.replace(/\/$/, "") }), 404, /no trailing slash/);
    await refused(s, rpc(...call, { ctype: "application/json" }), 400, /text\/xml/);
    const q = rpc(...call);
    q.headers.Authorization = "Basic " + Buffer.from(`${SX.username}${SX.password}`).toString("base64");
    await refused(s, q, 401, /without ':'/);
    assert.equal(s.devices.size, 0);
  });

  test("owned by another user, malformed MAC and URL", async () => {
    let r = await accepted(s, rpc("redirect.registerPhone", [OTHER, "https://edge.example.com/p/"]));
    assert.deepEqual(xreply(r.text), [false, "Error:owned_by_other_user"]);
    r = await accepted(s, rpc("redirect.registerPhone", ["00041300000", "https://edge.example.com/p/"]));
    assert.deepEqual(xreply(r.text), [false, "Error:malformed_mac"]);
    r = await accepted(s, rpc("redirect.registerPhone", ["000413000003", "edge.example.com/p/"]));
    assert.deepEqual(xreply(r.text), [false, "Error:malformed_url"]);
    r = await refused(s, rpc("redirect.registerPhone", [["000413000003"], "x"]), 200, /not a string/);
    assert.equal(xreply(r.text).fault, -32602);
  });

  test("failNext 429 with Retry-After then success; 503 then success", async () => {
    s.failNext({ status: 429, retryAfter: 1 });
    let r = await accepted(s, rpc("redirect.getPhoneRedirection", ["000413000001"]));
    assert.equal(r.status, 429);
    assert.equal(r.headers["retry-after"], "1");
    r = await accepted(s, rpc("redirect.getPhoneRedirection", ["000413000001"]));
    assert.equal(r.status, 200);
    s.failNext({ status: 503 });
    assert.equal((await send(rpc("redirect.getPhoneRedirection", ["000413000001"]))).status, 503);
    assert.equal((await send(rpc("redirect.getPhoneRedirection", ["000413000001"]))).status, 200);
  });
});

describe("all stand-ins", () => {
  test("htek has nothing to stand in for; an unknown vendor or missing credentials is an error", async () => {
    await assert.rejects(startStandin("htek"), /manual/);
    await assert.rejects(startStandin("acme"), /unknown vendor/);
    await assert.rejects(startStandin("yealink", {}), /accessKeyId/);
    await assert.rejects(startStandin("grandstream", { username: "u" }), /required/);
  });

  test("a fixed clock (now) decides what is stale", async () => {
    let t = 1_700_000_000_000;
    const s = await startStandin("snom-rest", { accessKeyId: SN.id, accessKeySecret: SN.key, now: () => t });
    try {
      const url = new URL("tokens/" + SN.id, s.url).toString();
      let r = await send(snomRequest(SN, "GET", url, undefined, { ts: t / 1000 }));
      assert.equal(r.status, 200);
      t += 15 * 60 * 1000 + 1000;
      await refused(s, snomRequest(SN, "GET", url, undefined, { ts: 1_700_000_000 }), 401, /stale/);
      await refused(s, snomRequest(SN, "GET", url, undefined, { ts: t }), 401, /milliseconds/);
    } finally {
      await s.close();
    }
  });
});
