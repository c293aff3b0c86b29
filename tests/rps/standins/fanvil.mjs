// Fanvil FDPS stand-in (XML-RPC), from RPS.md only.
//
// Verification (RPS.md "Fanvil FDPS", confirmed by one public client): POST to /xmlrpc.php,
// Content-Type text/xml, HTTP Basic auth with user = account name and password = lower-hex
// md5(lower-hex md5(password)); the calls and their parameters as RPS.md lists them.
import { md5hex, normMac, othersSet, sameString } from "./common.mjs";
import { paramsFault, startXmlRpc } from "./xmlrpc-service.mjs";

// The reply strings RPS.md gives, spelled exactly as there (with and without the space).
export const FANVIL = {
  URL_FORMAT: "Error: url_format_error",
  MAC_FORMAT: "Error: mac_format_error",
  DEVICE_HAD_EXISTED: "Error: device_had_existed",
  SERVER_NOT_EXIST: "Error:server_not_exist",
  // unsure: not in RPS.md; the stand-in's own strings.
  OK: "Ok",
  DEVICE_NOT_EXIST: "Error:device_not_exist",
  SERVER_HAD_EXISTED: "Error: server_had_existed",
};
const F = FANVIL;

const SERVER_KEYS = ["cfgName", "cfgPfMode", "cfgDhcpOpt", "cfgPnpEnable", "cfgPfSrv", "cfgPfName", "cfgPfProt"];
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

export function startFanvil(opts = {}) {
  const { username, password } = opts;
  if (!username || !password) throw new Error("fanvil stand-in: username and password are required");
  const want = md5hex(md5hex(password));
  const others = othersSet(opts.ownedByOthers);
  const servers = new Map(); // group -> {name, srv, path, prot, url, fields}
  const devices = new Map(); // mac -> {mac, server: group, url}

  // unsure: the MAC format FDPS takes is not in RPS.md: 12 hex, any case, ':'/'-' allowed.
  const macOf = (m) => normMac(m, { loose: true });

  const methods = {
    "redirect.deleteServer": {
      arity: 1,
      types: ["string"],
      run([group]) {
        if (!servers.has(group)) return [[false, F.SERVER_NOT_EXIST], "server not found"];
        servers.delete(group);
        // unsure: what happens to phones registered to a deleted group; they stay registered
        // (their entry keeps the URL they had).
        return [[true, F.OK]];
      },
    },
    "redirect.addMaterialServer": {
      arity: 1,
      types: ["array"],
      run([items]) {
        const f = {};
        for (const it of items) {
          if (typeof it !== "string") throw paramsFault("addMaterialServer: an item is not a string");
          const eq = it.indexOf("=");
          const k = eq < 0 ? it : it.slice(0, eq);
          if (!SERVER_KEYS.includes(k)) throw paramsFault(`addMaterialServer: unknown item ${k}`);
          if (k in f) throw paramsFault(`addMaterialServer: ${k} twice`);
          f[k] = eq < 0 ? "" : it.slice(eq + 1);
        }
        const missing = SERVER_KEYS.filter((k) => !(k in f));
        if (missing.length) throw paramsFault(`addMaterialServer: missing ${missing.join(", ")}`);
        if (f.cfgPfMode !== "1") throw paramsFault("addMaterialServer: cfgPfMode is not 1");
        if (f.cfgDhcpOpt !== "false") throw paramsFault("addMaterialServer: cfgDhcpOpt is not false");
        if (f.cfgPnpEnable !== "false") throw paramsFault("addMaterialServer: cfgPnpEnable is not false");
        if (f.cfgName === "") throw paramsFault("addMaterialServer: empty cfgName");
        const hm = HOST.exec(f.cfgPfSrv);
        if (!hm || (hm[1] !== undefined && (Number(hm[1]) < 1 || Number(hm[1]) > 65535))) {
          return [[false, F.URL_FORMAT], "cfgPfSrv is not host[:port]"];
        }
        if (f.cfgPfName === "" || f.cfgPfName.startsWith("/") || /[\s\x00-\x1f]/.test(f.cfgPfName)) {
          return [[false, F.URL_FORMAT], "cfgPfName is empty, starts with '/' or has blanks"];
        }
        if (f.cfgPfProt !== "4" && f.cfgPfProt !== "5") return [[false, F.URL_FORMAT], "cfgPfProt is not 4/5"];
        // unsure: adding a group that exists; RPS.md's flow deletes it first.
        if (servers.has(f.cfgName)) return [[false, F.SERVER_HAD_EXISTED], "server exists"];
        const url = `${f.cfgPfProt === "5" ? "https" : "http"}://${f.cfgPfSrv}/${f.cfgPfName}`;
        servers.set(f.cfgName, { name: f.cfgName, srv: f.cfgPfSrv, path: f.cfgPfName, prot: Number(f.cfgPfProt), url, items: [...items] });
        return [[true, F.OK]];
      },
    },
    "redirect.deRegisterDevice": {
      arity: 1,
      types: ["string"],
      run([m]) {
        const mac = macOf(m);
        if (!mac) return [[false, F.MAC_FORMAT], "invalid mac"];
        if (!devices.has(mac)) return [[false, F.DEVICE_NOT_EXIST], "not found"];
        devices.delete(mac);
        return [[true, F.OK]];
      },
    },
    "redirect.registerDevice": {
      arity: 2,
      types: ["string", "string"],
      run([m, group]) {
        const mac = macOf(m);
        if (!mac) return [[false, F.MAC_FORMAT], "invalid mac"];
        if (!servers.has(group)) return [[false, F.SERVER_NOT_EXIST], "server not found"];
        if (others.has(mac)) return [[false, F.DEVICE_HAD_EXISTED], "owned by others"];
        // unsure: a MAC already registered to our own account gets the same device_had_existed
        // (RPS.md's flow deregisters it first).
        if (devices.has(mac)) return [[false, F.DEVICE_HAD_EXISTED], "exists"];
        devices.set(mac, { mac, server: group, url: servers.get(group).url });
        return [[true, F.OK]];
      },
    },
    // unsure: the three below have no documented signature; the stand-in's guesses.
    "redirect.checkDevice": {
      arity: 1,
      types: ["string"],
      run([m]) {
        const mac = macOf(m);
        if (!mac) return [[false, F.MAC_FORMAT], "invalid mac"];
        const d = devices.get(mac);
        return d ? [[true, d.server]] : [[false, F.DEVICE_NOT_EXIST], "not found"];
      },
    },
    "redirect.listDevices": {
      arity: 0,
      run() {
        return [[true, [...devices.values()].map((d) => ({ mac: d.mac, server: d.server }))]];
      },
    },
    "redirect.getServer": {
      arity: 1,
      types: ["string"],
      run([group]) {
        const s = servers.get(group);
        return s ? [[true, s.items]] : [[false, F.SERVER_NOT_EXIST], "server not found"];
      },
    },
  };

  return startXmlRpc(
    {
      vendor: "fanvil",
      prefix: "/xmlrpc.php",
      path: "/xmlrpc.php",
      realm: "FDPS",
      user: username,
      checkPass(pass) {
        if (sameString(pass, want)) return null;
        if (pass === password) return "password sent in plain (want md5(md5))";
        if (pass === md5hex(password)) return "password is md5 once (want md5(md5))";
        if (pass === want.toUpperCase()) return "password hash is upper-case hex";
        return "password does not match";
      },
      methods,
      extras: () => ({ devices, servers }),
    },
    opts,
  );
}
