// An XML-RPC endpoint behind HTTP Basic auth: what Fanvil FDPS and Snom's legacy API share.
import { Refusal, retryHeaders, sameString, serve, text } from "./common.mjs";
import {
  INVALID_PARAMS,
  METHOD_NOT_FOUND,
  XmlRpcError,
  faultResponse,
  methodResponse,
  parseMethodCall,
} from "./xmlrpc.mjs";

export const xml = (status, body, headers = {}) => ({ status, headers: { "content-type": "text/xml", ...headers }, body });

// RFC 7617: "Basic" SP base64(user ":" password). Returns {user, pass} or a reason string.
export function parseBasic(header) {
  if (typeof header !== "string") return "no Authorization header";
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header);
  if (!m) return "Authorization is not Basic <base64>";
  const dec = Buffer.from(m[1], "base64");
  if (dec.toString("base64") !== m[1]) return "Basic credentials are not canonical base64";
  const s = dec.toString("utf8");
  const c = s.indexOf(":");
  if (c < 0) return "Basic credentials without ':'";
  return { user: s.slice(0, c), pass: s.slice(c + 1) };
}

// A method's parameters are wrong in a way the arity/type check cannot see: an XML-RPC fault
// (the invalid-request reply), recorded with `reason`.
export const paramsFault = (reason) => new Refusal(reason, xml(200, faultResponse(INVALID_PARAMS, reason)));

// spec:
//   vendor, prefix (base path), path (the one endpoint path),
//   user, checkPass(pass) -> null | reason (the password check),
//   realm, methods: {name: {arity, types?: ["string", ...], run(params, rec) -> value}},
//   extras
export function startXmlRpc(spec, opts) {
  // unsure: neither vendor's bad-credential reply is in RPS.md; HTTP 401 with a Basic challenge.
  const unauthorized = (reason) =>
    new Refusal(reason, text(401, "Unauthorized", { "www-authenticate": `Basic realm="${spec.realm}"` }));
  const fault = (reason, code, msg) => new Refusal(reason, xml(200, faultResponse(code, msg)));

  function authenticate(rec) {
    if (rec.path !== spec.path) {
      throw new Refusal(`unknown path ${rec.path}${rec.path + "/" === spec.path ? " (no trailing slash)" : ""}`, text(404, "Not Found"));
    }
    if (rec.method !== "POST") throw new Refusal(`${rec.method} on the XML-RPC endpoint`, text(405, "Method Not Allowed", { allow: "POST" }));
    const b = parseBasic(rec.headers.authorization);
    if (typeof b === "string") throw unauthorized(b);
    if (!sameString(b.user, spec.user)) throw unauthorized("unknown user");
    const why = spec.checkPass(b.pass);
    if (why) throw unauthorized(why);
    if (!/^text\/xml(\s*;.*)?$/i.test(rec.headers["content-type"] || "")) {
      // unsure: the reply to a wrong Content-Type; HTTP 400.
      throw new Refusal("Content-Type is not text/xml", text(400, "Bad Request: Content-Type must be text/xml"));
    }
    let call;
    try {
      call = parseMethodCall(rec.body);
    } catch (e) {
      if (e instanceof XmlRpcError) throw fault(`malformed XML-RPC: ${e.message}`, e.code, e.message);
      throw e;
    }
    const m = Object.prototype.hasOwnProperty.call(spec.methods, call.method) ? spec.methods[call.method] : null;
    if (!m) throw fault(`unknown method ${call.method}`, METHOD_NOT_FOUND, `method ${call.method} not found`);
    if (m.arity !== undefined && call.params.length !== m.arity) {
      throw fault(`${call.method}: ${call.params.length} params, want ${m.arity}`, INVALID_PARAMS, "wrong number of params");
    }
    (m.types || []).forEach((t, i) => {
      const v = call.params[i];
      const okType = t === "array" ? Array.isArray(v) : typeof v === t;
      if (!okType) throw fault(`${call.method}: param ${i + 1} is not a ${t}`, INVALID_PARAMS, `param ${i + 1} must be a ${t}`);
    });
    return call;
  }

  return serve(
    spec.vendor,
    {
      prefix: spec.prefix,
      authenticate,
      handle(rec, call) {
        const [value, outcome] = spec.methods[call.method].run(call.params, rec);
        return { ...xml(200, methodResponse(value)), outcome: outcome || `${call.method} ok` };
      },
      failReply(f) {
        // unsure: the body of a rate-limit / server-error reply; plain text.
        return text(f.status, f.status === 429 ? "Too Many Requests" : "Service Unavailable", retryHeaders(f));
      },
      extras: spec.extras,
    },
    opts,
  );
}
