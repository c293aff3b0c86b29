#!/usr/bin/env python3
"""Boot-storm load generator for scripts/bench-bootstorm.sh: N simulated phones, each doing
what a phone does at boot against one provisioning server:

  1. SIP PnP: its vendor's SUBSCRIBE (Event: ua-profile, MAC as `MAC%3a<mac>` in the
     Request-URI/From/To) to the server's PnP port, retransmitted like a UDP non-INVITE
     client transaction (RFC 3261 timer E: 0.5 s doubling to 4 s) for at most --pnp-wait
     seconds (real phones give up after about 5 s); then the NOTIFY carrying the provisioning
     URL, answered with 200 OK so the server stops retransmitting it;
  2. TFTP: its device config (RFC 1350 with the blksize 1428 and tsize options, RFC 2347/8/9;
     ERROR 0 "busy" is retried after a back-off, as phones do);
  3. HTTP: the same config over one HTTP/1.1 keep-alive connection with the vendor's real
     User-Agent.

Each phone has its own loopback address (127.1.x.y), as on a LAN each phone has its own IP:
the relay's per-address rules (miss counter, transaction keys) then see what they would see.
Both files must contain the user's SIP password. Failures are counted by stage and vendor;
each stage is timed (p50/p99). A speed figure, never a test: nothing asserts a time.

  bootstorm.py gen  --n N --inventory FILE --phones FILE     inventory TOML + phone list
  bootstorm.py run  --phones FILE --pnp H:P --tftp H:P --http H:P --url URL [--save DIR]
  bootstorm.py peer-files --phones FILE --from DIR --to DIR    (see the shell script)

`run` prints a human summary and a last line `RESULT {json}`. With --save DIR the bodies the
server sent over HTTP are written there after the run (the peer then serves those exact bytes).
"""

import argparse
import asyncio
import json
import os
import random
import socket
import struct
import sys
import time

# vendor, OUI, model, SUBSCRIBE template, User-Agent template, device file name.
# SUBSCRIBE shapes and User-Agents are the ones of lan-relay/tests/pnp.rs and tests/http.rs
# (vendor manuals and public captures).
VENDORS = {
    "yealink": dict(
        oui="001565",
        model="T46S",
        sub="SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK{rand};rport\r\n"
        "From: <sip:MAC%3a{mac}@224.0.1.75>;tag={tag}\r\n"
        "To: <sip:MAC%3a{mac}@224.0.1.75>\r\n"
        "Call-ID: {cid}\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:{ip}:{port}>\r\nMax-Forwards: 70\r\n"
        "User-Agent: Yealink SIP-T46S 66.86.0.15\r\nExpires: 0\r\n"
        'Event: ua-profile;profile-type="device";vendor="Yealink";model="T46S";version="66.86.0.15"\r\n'
        "Accept: application/url\r\nContent-Length: 0\r\n\r\n",
        ua="Yealink SIP-T46S 66.86.0.15 {colons}",
        file="{mac}.cfg",
    ),
    "snom": dict(
        oui="000413",
        model="D785",
        sub="SUBSCRIBE sip:MAC%3a{MAC}@intern.snom.de SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {ip}:{port};rport\r\n"
        "From: <sip:MAC%3a{MAC}@intern.snom.de>;tag={tag}\r\n"
        "To: <sip:MAC%3a{MAC}@intern.snom.de>\r\n"
        "Call-ID: {cid}\r\nCSeq: 1 SUBSCRIBE\r\n"
        'Event: ua-profile;profile-type="device";vendor="OEM";model="OEM";version="10.1.39.11"\r\n'
        "Expires: 0\r\nAccept: application/url\r\nContact: <sip:{ip}:{port}>\r\nContent-Length: 0\r\n\r\n",
        ua="Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 {MAC} SXM:0 UXM:0)",
        file="{MAC}.xml",
    ),
    "fanvil": dict(
        oui="0c383e",
        model="X4U",
        sub="SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK{rand};rport\r\n"
        "From: <sip:MAC%3a{mac}@224.0.1.75>;tag={tag}\r\n"
        "To: <sip:MAC%3a{mac}@224.0.1.75>\r\n"
        "Call-ID: {cid}\r\nCSeq: 1 SUBSCRIBE\r\nContact: <sip:{ip}:{port}>\r\n"
        "User-Agent: Fanvil X4U 2.12.1.3 {mac}\r\nExpires: 0\r\n"
        'Event: ua-profile;profile-type="device";vendor="Fanvil";model="VOIP PHONE";version="2.12.1.3"\r\n'
        "Accept: application/url\r\nContent-Length: 0\r\n\r\n",
        ua="Fanvil X4U 2.12.1 {mac}",
        file="{mac}.cfg",
    ),
    "grandstream": dict(
        oui="000b82",
        model="GXP2170",
        sub="SUBSCRIBE sip:MAC%3A{MAC}@224.0.1.75 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK{rand};rport\r\n"
        "From: <sip:MAC%3A{MAC}@224.0.1.75>;tag={tag}\r\n"
        "To: <sip:MAC%3A{MAC}@224.0.1.75>\r\n"
        "Call-ID: {cid}\r\nCSeq: 20000 SUBSCRIBE\r\nContact: <sip:{ip}:{port}>\r\nMax-Forwards: 70\r\n"
        "User-Agent: Grandstream GXP2170 1.0.11.23\r\nExpires: 0\r\nSupported: replaces, path\r\n"
        'Event: ua-profile;profile-type="device";vendor="Grandstream";model="GXP2170";version="1.0.11.23"\r\n'
        "Accept: application/url\r\nContent-Length: 0\r\n\r\n",
        ua="Grandstream Model HW GXP2170 SW 1.0.11.23 DevId {mac}",
        file="cfg{mac}.xml",
    ),
    "htek": dict(
        oui="001fc1",
        model="UC926",
        sub="SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75 SIP/2.0\r\n"
        "v: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK{rand}\r\n"
        "f: <sip:MAC%3a{mac}@224.0.1.75>;tag={tag}\r\n"
        "t: <sip:MAC%3a{mac}@224.0.1.75>\r\n"
        "i: {cid}\r\nCSeq: 1 SUBSCRIBE\r\nm: <sip:{ip}:{port}>\r\n"
        "User-Agent: Htek UC926 2.0.4.6.41\r\nExpires: 0\r\n"
        'o: ua-profile;profile-type="device";vendor="Htek";model="UC926";version="2.0.4.6.41"\r\n'
        "Accept: application/url\r\nl: 0\r\n\r\n",
        ua="Htek UC926 2.0.4.4.66 {colons}",
        file="{mac}.cfg",
    ),
}
ORDER = ["yealink", "snom", "fanvil", "grandstream", "htek"]
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length",
           "m": "contact", "o": "event", "c": "content-type"}


def phone_ip(i):
    """Phone i's own loopback address: 127.1.0.1 .. (250 per /24)."""
    return f"127.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}"


def fmt(template, p, **extra):
    mac = p["mac"]
    colons = ":".join(mac[k:k + 2] for k in range(0, 12, 2))
    return template.format(mac=mac, MAC=mac.upper(), colons=colons, **extra)


# ------------------------------------------------------------------ gen

def gen(args):
    rng = random.Random(args.seed)
    phones, users, rows = [], [], []
    for i in range(args.n):
        vendor = ORDER[i % 5]
        v = VENDORS[vendor]
        mac = v["oui"] + f"{i + 1:06x}"
        ext = str(100000 + i)
        pw = "bs-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                             for _ in range(16))
        phones.append(dict(mac=mac, vendor=vendor, ext=ext, pw=pw))
        users.append(f'[[users]]\nextension = "{ext}"\nsip_password = "{pw}"\n'
                     f'display_name = "Phone {i + 1}"\n')
        tpl = '\ntemplate = "Yealink desk"' if vendor == "yealink" else ""
        rows.append(f'[[phones]]\nmac = "{mac}"\nvendor = "{vendor}"\nmodel = "{v["model"]}"\n'
                    f'user_extension = "{ext}"{tpl}\n')
    head = """[site]
name = "Boot storm"
pbx_host = "pbx.bootstorm.example"
pbx_port = 5060
allow_macs = ""
deny_macs = ""
additional_params = ""
poll_interval_minutes = 1440
star_code_pattern = "*123*"
ntp_server = "pool.ntp.org"
timezone = "Europe/Berlin"
language = "en"

[[templates]]
name = "Yealink desk"
vendor = "yealink"
style = "placeholder"
composition = "overlay"
source = \"\"\"
account.1.label = {SIP_NUM} {SIP_DISPLAY_NAME}
features.intercom.allow = 1
\"\"\"

"""
    with open(args.inventory, "w") as f:
        f.write(head + "\n".join(users) + "\n" + "\n".join(rows))
    with open(args.phones, "w") as f:
        json.dump(phones, f)


# ------------------------------------------------------------------ SIP helpers

def parse_sip(data):
    """(start line, [(lower name, raw line)], body) or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        n = name.strip().lower()
        hdrs.append((COMPACT.get(n, n), line, value.strip()))
    return lines[0], hdrs, body


def header(hdrs, name):
    for n, _, v in hdrs:
        if n == name:
            return v
    return None


def sip_ok_for(start, hdrs):
    """The 200 OK answering a request (Vias, From, To with a tag, Call-ID, CSeq echoed)."""
    out = ["SIP/2.0 200 OK"]
    for n, line, v in hdrs:
        if n in ("via", "from", "call-id", "cseq"):
            out.append(line)
        elif n == "to":
            out.append(line if ";tag=" in v else line + ";tag=ph" + str(random.getrandbits(24)))
    out.append("Content-Length: 0")
    return ("\r\n".join(out) + "\r\n\r\n").encode()


# ------------------------------------------------------------------ the phone

class Stats:
    def __init__(self):
        self.times = {k: [] for k in ("pnp_200", "pnp_notify", "tftp", "http", "phone")}
        self.fail = {}          # (stage, vendor) -> count
        self.examples = {}      # stage -> first detail
        self.tftp_busy = 0      # ERROR 0 busy answers (retried)
        self.notify_dups = 0
        self.bodies = {}

    def failed(self, stage, vendor, detail):
        self.fail[(stage, vendor)] = self.fail.get((stage, vendor), 0) + 1
        self.examples.setdefault(stage, f"{vendor}: {detail}")


async def recv(sock, timeout):
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.sock_recvfrom(sock, 65536), timeout)
    except asyncio.TimeoutError:
        return None


def udp(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.bind((ip, 0))
    return s


async def pnp(p, i, ip, cfg, st):
    v = VENDORS[p["vendor"]]
    sock = udp(ip)
    loop = asyncio.get_running_loop()
    try:
        port = sock.getsockname()[1]
        cid = f"bs{i}-{random.getrandbits(32):08x}@{ip}"
        sub = fmt(v["sub"], p, ip=ip, port=port, cid=cid, rand=random.getrandbits(32),
                  tag=random.getrandbits(31)).encode()
        t0 = time.monotonic()
        deadline = t0 + cfg.pnp_wait
        interval, next_send = 0.5, t0
        got_ok = got_notify = None
        while True:
            now = time.monotonic()
            if got_ok is None and now >= next_send:
                await loop.sock_sendto(sock, sub, cfg.pnp)
                next_send = now + interval
                interval = min(interval * 2, 4.0)
            limit = deadline if got_ok is None else got_ok + cfg.notify_wait
            if now >= limit:
                break
            wake = min(next_send, limit) if got_ok is None else limit
            r = await recv(sock, max(wake - now, 0.001))
            if r is None:
                continue
            data, src = r
            m = parse_sip(data)
            if m is None:
                continue
            start, hdrs, body = m
            cseq = header(hdrs, "cseq") or ""
            if start.startswith("SIP/2.0 ") and cseq.endswith("SUBSCRIBE"):
                if start.startswith("SIP/2.0 200") and got_ok is None:
                    got_ok = time.monotonic()
                    st.times["pnp_200"].append(got_ok - t0)
                    if got_notify is not None:
                        return True
                elif not start.startswith("SIP/2.0 1"):
                    st.failed("pnp_200", p["vendor"], f"answered {start!r}")
                    return False
            elif start.startswith("NOTIFY "):
                await loop.sock_sendto(sock, sip_ok_for(start, hdrs), src)
                if got_notify is not None:
                    st.notify_dups += 1
                    continue
                got_notify = time.monotonic()
                if body.strip() != cfg.url:
                    st.failed("pnp_notify", p["vendor"], f"body {body[:80]!r}")
                    return False
                st.times["pnp_notify"].append(got_notify - t0)
                if got_ok is not None:
                    # Linger briefly for a retransmitted NOTIFY (our 200 lost): none expected.
                    return True
        if got_ok is None:
            st.failed("pnp_200", p["vendor"], f"no 200 OK within {cfg.pnp_wait} s")
        elif got_notify is None:
            st.failed("pnp_notify", p["vendor"], f"no NOTIFY within {cfg.notify_wait} s of the 200")
        return got_ok is not None and got_notify is not None
    finally:
        sock.close()


class TftpError(Exception):
    pass


async def tftp_get(ip, server, name, cfg):
    """(bytes, busy answers). Raises TftpError(detail)."""
    loop = asyncio.get_running_loop()
    busy = 0
    for attempt in range(cfg.tftp_busy_retries + 1):
        sock = udp(ip)
        try:
            rrq = b"\x00\x01" + name.encode() + b"\x00octet\x00blksize\x001428\x00tsize\x000\x00"
            last, dest = rrq, server
            tid, blksize, expect, data = None, 512, 1, bytearray()
            tries = 0
            await loop.sock_sendto(sock, rrq, server)
            while True:
                r = await recv(sock, cfg.tftp_timeout)
                if r is None:
                    tries += 1
                    if tries > 3:
                        raise TftpError(f"timeout waiting for block {expect}")
                    await loop.sock_sendto(sock, last, dest)
                    continue
                pkt, src = r
                if tid is None:
                    tid = dest = src
                elif src != tid:
                    continue
                if len(pkt) < 4:
                    continue
                op = struct.unpack("!H", pkt[:2])[0]
                if op == 5:
                    code = struct.unpack("!H", pkt[2:4])[0]
                    msg = pkt[4:].split(b"\0")[0].decode("latin-1")
                    if code == 0 and "busy" in msg:
                        busy += 1
                        break  # back off, new attempt
                    raise TftpError(f"ERROR {code} {msg!r}")
                if op == 6:  # OACK
                    opts = pkt[2:].split(b"\0")
                    kv = dict(zip(opts[0::2], opts[1::2]))
                    blksize = int(kv.get(b"blksize", b"512"))
                    last = b"\x00\x04\x00\x00"
                    await loop.sock_sendto(sock, last, dest)
                    tries = 0
                    continue
                if op == 3:
                    block = struct.unpack("!H", pkt[2:4])[0]
                    if block == expect & 0xFFFF:
                        data += pkt[4:]
                        last = b"\x00\x04" + pkt[2:4]
                        await loop.sock_sendto(sock, last, dest)
                        tries = 0
                        if len(pkt) - 4 < blksize:
                            return bytes(data), busy
                        expect += 1
                    elif block == (expect - 1) & 0xFFFF:
                        await loop.sock_sendto(sock, last, dest)
                    continue
        finally:
            sock.close()
        await asyncio.sleep(cfg.tftp_busy_backoff * (1 + random.random()))
    raise TftpError(f"server busy after {cfg.tftp_busy_retries + 1} requests")


async def http_get(ip, server, path, ua, cfg):
    """(status, body) over one keep-alive connection."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(server[0], server[1], local_addr=(ip, 0)), cfg.http_timeout)
    try:
        req = (f"GET /{path} HTTP/1.1\r\nHost: {server[0]}:{server[1]}\r\nUser-Agent: {ua}\r\n"
               "Accept: */*\r\nConnection: keep-alive\r\n\r\n")
        writer.write(req.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), cfg.http_timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = None
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        if length is None:
            body = await asyncio.wait_for(reader.read(), cfg.http_timeout)
        else:
            body = await asyncio.wait_for(reader.readexactly(length), cfg.http_timeout)
        return status, body
    finally:
        writer.close()


async def one_phone(i, p, cfg, st):
    v = VENDORS[p["vendor"]]
    ip = phone_ip(i)
    t0 = time.monotonic()
    await pnp(p, i, ip, cfg, st)
    name = fmt(v["file"], p)
    secret = p["pw"].encode()
    # A phone that got no PnP answer still fetches its config (DHCP option 66 or a URL
    # set by hand): the file stages are measured for every phone.
    t = time.monotonic()
    try:
        body, busy = await tftp_get(ip, cfg.tftp, name, cfg)
        st.tftp_busy += busy
        if secret not in body:
            st.failed("tftp", p["vendor"], f"{name}: {len(body)} bytes without the password")
        else:
            st.times["tftp"].append(time.monotonic() - t)
    except TftpError as e:
        st.failed("tftp", p["vendor"], f"{name}: {e}")
    except OSError as e:
        st.failed("tftp", p["vendor"], f"{name}: {e}")
    t = time.monotonic()
    try:
        status, body = await http_get(ip, cfg.http, name, fmt(v["ua"], p), cfg)
        if status != 200:
            st.failed("http", p["vendor"], f"{name}: status {status}")
        elif secret not in body:
            st.failed("http", p["vendor"], f"{name}: {len(body)} bytes without the password")
        else:
            st.times["http"].append(time.monotonic() - t)
            if cfg.save:
                st.bodies[name] = body
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
        st.failed("http", p["vendor"], f"{name}: {type(e).__name__} {e}")
    st.times["phone"].append(time.monotonic() - t0)


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000.0


def hostport(s):
    h, _, p = s.rpartition(":")
    return (h, int(p))


async def run(cfg):
    with open(cfg.phones) as f:
        phones = json.load(f)
    st = Stats()
    queue = list(enumerate(phones))
    queue.reverse()

    async def worker():
        while queue:
            i, p = queue.pop()
            await one_phone(i, p, cfg, st)

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(min(cfg.concurrency, len(phones)))))
    wall = time.monotonic() - t0
    if cfg.save:
        for name, body in st.bodies.items():
            with open(os.path.join(cfg.save, name), "wb") as f:
                f.write(body)
    stages = {k: dict(n=len(v), p50_ms=pct(v, 0.5), p99_ms=pct(v, 0.99), max_ms=pct(v, 1.0))
              for k, v in st.times.items()}
    failures = {}
    for (stage, vendor), n in sorted(st.fail.items()):
        failures.setdefault(stage, {})[vendor] = n
    res = dict(label=cfg.label, n=len(phones), concurrency=cfg.concurrency, wall_s=wall,
               stages=stages, failures=failures, examples=st.examples, tftp_busy=st.tftp_busy,
               notify_dups=st.notify_dups, client_cpu_s=sum(os.times()[:2]))
    print(f"{cfg.label}: {len(phones)} phones, {cfg.concurrency} in flight: {wall:.1f} s "
          f"({len(phones) / wall:.0f} phones/s)")
    for k in ("pnp_200", "pnp_notify", "tftp", "http", "phone"):
        s = stages[k]
        if s["n"]:
            print(f"  {k:<10} ok {s['n']:>6}  p50 {s['p50_ms']:8.1f} ms  p99 {s['p99_ms']:8.1f} ms"
                  f"  max {s['max_ms']:8.1f} ms")
        else:
            print(f"  {k:<10} ok      0")
    total = sum(st.fail.values())
    print(f"  failures: {total}" + ("" if not total else "  " + json.dumps(failures)))
    for stage, ex in st.examples.items():
        print(f"    first {stage} failure: {ex}")
    if st.tftp_busy:
        print(f"  TFTP 'server busy' answers (retried): {st.tftp_busy}")
    print("RESULT " + json.dumps(res))


# ------------------------------------------------------------------ the PnP peer

class PeerPnp(asyncio.DatagramProtocol):
    """A stateless PnP responder (the peer): 200 OK and one NOTIFY per SUBSCRIBE, nothing
    remembered, no retransmission, responses ignored."""

    def __init__(self, url, port):
        self.url, self.port, self.n = url, port, 0

    def connection_made(self, transport):
        self.tr = transport

    def datagram_received(self, data, src):
        m = parse_sip(data)
        if m is None or not m[0].startswith("SUBSCRIBE "):
            return
        start, hdrs, _ = m
        self.n += 1
        tag = f"pr{self.n}"
        ok = ["SIP/2.0 200 OK"]
        frm = to = cid = None
        for n, line, v in hdrs:
            if n in ("via", "from", "call-id", "cseq"):
                ok.append(line)
            if n == "to":
                ok.append(line + ";tag=" + tag)
                to = v
            frm = v if n == "from" else frm
            cid = v if n == "call-id" else cid
        ok += ["Expires: 0", f"Contact: <sip:127.0.0.1:{self.port}>", "Content-Length: 0"]
        self.tr.sendto(("\r\n".join(ok) + "\r\n\r\n").encode(), src)
        body = self.url
        notify = (f"NOTIFY sip:{src[0]}:{src[1]} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bKp{self.n}\r\n"
                  f"From: {to};tag={tag}\r\nTo: {frm}\r\nCall-ID: {cid}\r\nCSeq: 1 NOTIFY\r\n"
                  "Event: ua-profile\r\nSubscription-State: terminated;reason=timeout\r\n"
                  f"Content-Type: application/url\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        self.tr.sendto(notify.encode(), src)


async def peer_pnp(args):
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: PeerPnp(args.url, args.port),
                                        local_addr=("127.0.0.1", args.port))
    await asyncio.Event().wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--n", type=int, required=True)
    g.add_argument("--inventory", required=True)
    g.add_argument("--phones", required=True)
    g.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("--phones", required=True)
    r.add_argument("--pnp", type=hostport, required=True)
    r.add_argument("--tftp", type=hostport, required=True)
    r.add_argument("--http", type=hostport, required=True)
    r.add_argument("--url", required=True, help="the URL the NOTIFY must carry")
    r.add_argument("--label", default="relay")
    r.add_argument("--concurrency", type=int, default=200)
    r.add_argument("--pnp-wait", type=float, default=5.0)
    r.add_argument("--notify-wait", type=float, default=4.0)
    r.add_argument("--tftp-timeout", type=float, default=2.0)
    r.add_argument("--tftp-busy-retries", type=int, default=20)
    r.add_argument("--tftp-busy-backoff", type=float, default=0.1)
    r.add_argument("--http-timeout", type=float, default=10.0)
    r.add_argument("--save", help="write the HTTP bodies here after the run")
    pp = sub.add_parser("peer-pnp")
    pp.add_argument("--port", type=int, required=True)
    pp.add_argument("--url", required=True)
    a = ap.parse_args()
    if a.cmd == "gen":
        gen(a)
    elif a.cmd == "run":
        asyncio.run(run(a))
    else:
        asyncio.run(peer_pnp(a))


if __name__ == "__main__":
    main()
