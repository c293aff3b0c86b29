// Local stand-ins for the vendors' redirection (RPS) clouds, written from /work/shared/RPS.md
// alone (not from the engine's clients), for the RPS tests of issue 7.
//
//   const s = await startStandin("yealink" | "ale" | "grandstream" | "fanvil" | "snom-rest" | "snom-xmlrpc", opts);
//   s.url        base URL an account's base_url would hold (origin + the vendor's path prefix)
//   s.origin     http://127.0.0.1:<port>
//   s.requests   every request: {method, path, query, rawQuery, target, headers, body, verdict, status, outcome}
//                verdict: "ok" or the reason it was refused; outcome: what the call did
//   s.devices    Map mac (12 lower hex) -> {url, server, serial?, ...} registered to OUR account
//   s.failNext({status: 429, retryAfter: 2, times: 1, match: "device/add"})
//   s.close()
//
// Options, all vendors: ownedByOthers [mac], now () => ms, maxSkewMs (default 15 min), port.
//   yealink / ale: accessKeyId, accessKeySecret, takenServerNames, listShape "page"|"array",
//                  ownedByOthersMsg (default "device.mac.existed")
//   grandstream:   username, password (plain), clientId, clientSecret, orgId, siteId, siteUrl,
//                  serials {mac: sn}, tokenTtlSeconds, tokenShape "plain"|"envelope",
//                  listShape "page"|"array", perDevice (device/add answers each device inside
//                  a retCode-0 reply, as GDMS's batch call does); s.expireTokens()
//   fanvil:        username, password (plain; the stand-in compares md5(md5))
//   snom-rest:     accessKeyId, accessKeySecret (Hawk id/key), settingsPageCap, settingsFiller,
//                  settingsShape "array"|"page", ownedByOthersStatus; s.settingServerUuid
//   snom-xmlrpc:   username, password (HTTP Basic)
// Htek has no API: nothing to stand in for.
import { startFanvil } from "./standins/fanvil.mjs";
import { startGdms } from "./standins/gdms.mjs";
import { startSnomRest } from "./standins/snom-rest.mjs";
import { startSnomXmlRpc } from "./standins/snom-xmlrpc.mjs";
import { startYealink } from "./standins/yealink.mjs";

export const VENDORS = ["yealink", "ale", "grandstream", "fanvil", "snom-rest", "snom-xmlrpc"];

export async function startStandin(vendor, opts = {}) {
  switch (vendor) {
    case "yealink":
      return startYealink(opts);
    case "ale":
      // RPS.md (unsure): ALE is the Yealink scheme on ALE's own host.
      return startYealink(opts, { vendor: "ale" });
    case "grandstream":
      return startGdms(opts);
    case "fanvil":
      return startFanvil(opts);
    case "snom-rest":
      return startSnomRest(opts);
    case "snom-xmlrpc":
      return startSnomXmlRpc(opts);
    case "htek":
      throw new Error("htek has no management API (RPS.md): registration is manual, nothing to stand in for");
    default:
      throw new Error(`unknown vendor ${vendor}`);
  }
}

export { FANVIL } from "./standins/fanvil.mjs";
export { GDMS_CODES, GDMS_ITEM_ERRORS, gdmsSignString } from "./standins/gdms.mjs";
export { hawkMac, hawkNormalized, hawkPayloadHash, parseHawkHeader } from "./standins/snom-rest.mjs";
export { SNOM_XMLRPC } from "./standins/snom-xmlrpc.mjs";
export { yealinkSign, yealinkStringToSign } from "./standins/yealink.mjs";
