// Snom SRAPS legacy XML-RPC stand-in, from RPS.md only.
//
// Verification (RPS.md "Snom SRAPS", confirmed): POST to /xmlrpc/ (the trailing slash is
// required: /xmlrpc is refused), Content-Type text/xml, HTTP Basic auth (RFC 7617) with the
// account's user name and password; redirect.registerPhone(mac, url),
// redirect.deregisterPhone(mac), redirect.getPhoneRedirection(mac) -> [bool, text].
import { httpUrl, normMac, othersSet, sameString } from "./common.mjs";
import { startXmlRpc } from "./xmlrpc-service.mjs";

export const SNOM_XMLRPC = {
  OK: "Ok",
  OWNED: "Error:owned_by_other_user",
  MALFORMED_URL: "Error:malformed_url",
  MALFORMED_MAC: "Error:malformed_mac",
  // unsure: not in RPS.md; the stand-in's own string for a MAC not registered to us.
  NOT_REGISTERED: "Error:not_registered",
};
const S = SNOM_XMLRPC;

export function startSnomXmlRpc(opts = {}) {
  const { username, password } = opts;
  if (!username || !password) throw new Error("snom-xmlrpc stand-in: username and password are required");
  const others = othersSet(opts.ownedByOthers);
  const devices = new Map(); // mac -> {mac, url}
  // unsure: the MAC format is not in RPS.md: 12 hex digits, any case, no separators.
  const macOf = (m) => normMac(m);

  const methods = {
    "redirect.registerPhone": {
      arity: 2,
      types: ["string", "string"],
      run([m, url]) {
        const mac = macOf(m);
        if (!mac) return [[false, S.MALFORMED_MAC], "invalid mac"];
        if (!httpUrl(url)) return [[false, S.MALFORMED_URL], "invalid url"];
        if (others.has(mac)) return [[false, S.OWNED], "owned by others"];
        // unsure: registering a MAC we hold already; RPS.md documents no "exists" reply, so the
        // stand-in replaces the URL and answers Ok.
        const had = devices.has(mac);
        devices.set(mac, { mac, url, server: url });
        return [[true, S.OK], had ? "updated" : "registered"];
      },
    },
    "redirect.deregisterPhone": {
      arity: 1,
      types: ["string"],
      run([m]) {
        const mac = macOf(m);
        if (!mac) return [[false, S.MALFORMED_MAC], "invalid mac"];
        if (others.has(mac)) return [[false, S.OWNED], "owned by others"];
        if (!devices.has(mac)) return [[false, S.NOT_REGISTERED], "not found"];
        devices.delete(mac);
        return [[true, S.OK]];
      },
    },
    "redirect.getPhoneRedirection": {
      arity: 1,
      types: ["string"],
      run([m]) {
        const mac = macOf(m);
        if (!mac) return [[false, S.MALFORMED_MAC], "invalid mac"];
        if (others.has(mac)) return [[false, S.OWNED], "owned by others"];
        const d = devices.get(mac);
        return d ? [[true, d.url]] : [[false, S.NOT_REGISTERED], "not found"];
      },
    },
  };

  return startXmlRpc(
    {
      vendor: "snom-xmlrpc",
      prefix: "/xmlrpc/",
      path: "/xmlrpc/",
      realm: "SRAPS",
      user: username,
      checkPass: (pass) => (sameString(pass, password) ? null : "password does not match"),
      methods,
      extras: () => ({ devices }),
    },
    opts,
  );
}
