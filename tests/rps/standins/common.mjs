// The part every stand-in shares: an HTTP server on 127.0.0.1 that records each request,
// runs the vendor's verification, then either an injected failure (failNext) or the vendor's
// handler. Nothing here logs: requests (secrets included) stay in memory, in `requests`.
import http from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";

// How far a signed timestamp may be from the stand-in's clock, either way.
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_BODY = 1 << 20;

// Thrown by a vendor's verification or handler: `reason` goes to the request's verdict,
// `reply` is what the client gets (the vendor's bad-credential or invalid-request reply).
export class Refusal extends Error {
  constructor(reason, reply) {
    super(reason);
    this.reason = reason;
    this.reply = reply;
  }
}

export const md5hex = (s) => createHash("md5").update(s).digest("hex");
export const sha256hex = (s) => createHash("sha256").update(s).digest("hex");

// Constant-time comparison of two strings (false when the lengths differ).
export function sameString(a, b) {
  if (typeof a !== "string" || typeof b !== "string") return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// A MAC as the stand-ins store it: 12 lower-case hex digits. `loose` also takes ':' / '-'
// separators (used only where RPS.md says nothing about the vendor's MAC format).
export function normMac(s, { loose = false } = {}) {
  if (typeof s !== "string") return null;
  const t = loose ? s.replace(/[:-]/g, "") : s;
  return /^[0-9a-fA-F]{12}$/.test(t) ? t.toLowerCase() : null;
}

// An absolute http(s) URL with a host, or null.
export function httpUrl(s) {
  if (typeof s !== "string" || s.length === 0 || s.length > 2048 || /\s/.test(s)) return null;
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname ? u : null;
  } catch {
    return null;
  }
}

export const json = (status, obj, headers = {}) => ({
  status,
  headers: { "content-type": "application/json;charset=UTF-8", ...headers },
  body: JSON.stringify(obj),
});

export const text = (status, body, headers = {}) => ({
  status,
  headers: { "content-type": "text/plain;charset=UTF-8", ...headers },
  body,
});

// Remembers (key id, nonce) pairs for the skew window, so a replay inside it is refused and
// a replay outside it is refused as stale.
export class NonceCache {
  constructor(windowMs) {
    this.windowMs = windowMs;
    this.seen = new Map(); // id\0nonce -> time first seen
  }
  // true when fresh (and remembers it), false when replayed.
  use(id, nonce, nowMs) {
    for (const [k, t] of this.seen) {
      if (nowMs - t > 2 * this.windowMs) this.seen.delete(k);
    }
    const key = `${id}\0${nonce}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, nowMs);
    return true;
  }
}

// The parsed request the vendors' code and the test see. `query` is decoded (last value wins),
// `rawQuery` is exactly as sent (without '?').
function record(req, raw) {
  const target = req.url || "/";
  const q = target.indexOf("?");
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? "" : target.slice(q + 1);
  const query = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = v;
  const rec = {
    method: req.method,
    path: rawPath,
    query,
    rawQuery,
    target,
    headers: { ...req.headers },
    body: raw.toString("utf8"),
    verdict: null,
    status: null,
    outcome: null,
  };
  // The exact bytes, for digests; not enumerable so a dump of `requests` stays readable.
  Object.defineProperty(rec, "raw", { value: raw, enumerable: false });
  return rec;
}

// Starts the server for one vendor implementation `impl`:
//   impl.prefix             path prefix of the vendor's base URL ("" or "/oapi", ...)
//   impl.authenticate(rec)  -> ctx, or throws Refusal
//   impl.handle(rec, ctx)   -> reply {status, headers, body, outcome?}, or throws Refusal
//   impl.failReply({status, retryAfter}) -> reply for an injected failure
//   impl.extras(standin)    -> extra properties for the handle (optional)
export async function serve(vendor, impl, opts = {}) {
  const requests = [];
  const fails = [];
  const now = opts.now || (() => Date.now());

  const server = http.createServer(async (req, res) => {
    const chunks = [];
    let size = 0;
    let tooBig = false;
    for await (const c of req) {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    }
    const rec = record(req, Buffer.concat(chunks));
    requests.push(rec);
    let reply;
    try {
      if (tooBig) throw new Refusal("body too large", text(413, "Request Entity Too Large"));
      const ctx = impl.authenticate(rec);
      const f = takeFail(rec);
      if (f) {
        reply = impl.failReply(f);
        rec.outcome = `injected ${f.status}`;
      } else {
        reply = impl.handle(rec, ctx);
        rec.outcome = reply.outcome || "ok";
      }
      rec.verdict = "ok";
    } catch (e) {
      if (e instanceof Refusal) {
        rec.verdict = e.reason;
        reply = e.reply;
      } else {
        // A bug in the stand-in: say so in the verdict, never echo the request.
        rec.verdict = `stand-in error: ${e && e.message}`;
        reply = text(500, "stand-in internal error");
      }
    }
    rec.status = reply.status;
    res.writeHead(reply.status, reply.headers || {});
    res.end(reply.body === undefined ? "" : reply.body);
  });

  function takeFail(rec) {
    const now = Date.now();
    for (let j = fails.length - 1; j >= 0; j--) if (fails[j].until < now) fails.splice(j, 1);
    const i = fails.findIndex((f) => !f.match || (typeof f.match === "string" ? rec.path.includes(f.match) : f.match.test(rec.path)));
    if (i < 0) return null;
    const f = fails[i];
    if (--f.left <= 0) fails.splice(i, 1);
    return f;
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port || 0, "127.0.0.1", resolve);
  });
  const port = server.address().port;
  const origin = `http://127.0.0.1:${port}`;

  const handle = {
    vendor,
    origin,
    port,
    url: origin + impl.prefix,
    requests,
    // The next `times` verified calls (optionally only those whose path contains / matches
    // `match`) get `status` (429 with Retry-After when retryAfter is given) in the vendor's envelope.
    // With `ttlMs`, only calls within that many ms: an outage of a moment, not a failure that
    // waits for whichever call comes next.
    failNext({ status = 503, retryAfter, times = 1, match, ttlMs } = {}) {
      fails.push({ status, retryAfter, left: times, match, until: ttlMs ? Date.now() + ttlMs : Infinity });
    },
    // Forget recorded requests (state stays).
    clearRequests() {
      requests.length = 0;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  if (impl.extras) Object.assign(handle, impl.extras(handle));
  return handle;
}

// Retry-After header for an injected failure.
export function retryHeaders({ status, retryAfter }) {
  return retryAfter === undefined || retryAfter === null ? {} : { "retry-after": String(retryAfter) };
}

// The set of MACs owned by other customers, normalised.
export function othersSet(list) {
  const s = new Set();
  for (const m of list || []) {
    const n = normMac(String(m), { loose: true });
    if (!n) throw new Error(`ownedByOthers: not a MAC: ${m}`);
    s.add(n);
  }
  return s;
}
