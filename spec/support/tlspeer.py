#!/usr/bin/env python3
"""python3's ssl as the TLS reference peer of the specs: an echo server or a
client on loopback, bounded in time, that reports what it saw as JSON.

  tlspeer.py server [options]            listens (port 0: a free one), prints
      {"port": N} when ready, then serves --count connections one after the
      other: handshake, echo until the peer closes, one JSON line each.
  tlspeer.py client HOST PORT [options]  connects, handshakes, sends --send,
      reads the echo back, closes; one JSON line.

Each report holds what the handshake negotiated and what the peer showed:
  {"version": "TLSv1.3", "cipher": [...], "alpn": "h2", "sni": "localhost",
   "peer_subject": "CN=moonsock client,O=moonsock tests,C=XX",
   "peer_cert": {... getpeercert() ...}, "received": "...", "echoed": N}
or, when the handshake or the exchange fails:
  {"error": "SSLCertVerificationError", "message": str(e),
   "reason": e.reason, "library": e.library, "verify_code": N, "verify_message": ...}
A client exits 1 after an error report, 0 otherwise; a server keeps serving.
"""
import argparse
import json
import signal
import socket
import ssl
import sys

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
VERIFY = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def options(argv):
    p = argparse.ArgumentParser(prog="tlspeer.py")
    p.add_argument("role", choices=["server", "client"])
    p.add_argument("host", nargs="?", default="127.0.0.1")
    p.add_argument("port", nargs="?", type=int, default=0)
    p.add_argument("--cert", help="certificate chain (PEM) to present")
    p.add_argument("--key", help="its private key")
    p.add_argument("--password", help="the key's password")
    p.add_argument("--ca", help="CA file to verify the peer against")
    p.add_argument("--tls", choices=list(VERSIONS), help="only this TLS version")
    p.add_argument("--min", choices=list(VERSIONS), help="minimum TLS version")
    p.add_argument("--max", choices=list(VERSIONS), help="maximum TLS version")
    p.add_argument("--alpn", help="comma-separated ALPN protocols, in preference order")
    p.add_argument("--ciphers", help="TLS 1.2 cipher list (OpenSSL syntax)")
    p.add_argument("--sni-cert", action="append", default=[], metavar="NAME=CERT,KEY",
                   help="server: present CERT for SNI name NAME (repeatable)")
    p.add_argument("--verify", choices=list(VERIFY),
                   help="verify mode (server default none, client default required)")
    p.add_argument("--require-client-cert", action="store_true",
                   help="server: CERT_REQUIRED against --ca")
    p.add_argument("--server-hostname", help="client: name to send and check (default HOST)")
    p.add_argument("--no-check-hostname", action="store_true")
    p.add_argument("--send", default="hello over TLS", help="client: what to send")
    p.add_argument("--count", type=int, default=1, help="server: connections to serve")
    p.add_argument("--timeout", type=float, default=10, help="every socket operation")
    p.add_argument("--deadline", type=int, default=60, help="the whole run, seconds")
    return p.parse_args(argv)


def context(opts, server_side, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    if opts.tls:
        ctx.minimum_version = ctx.maximum_version = VERSIONS[opts.tls]
    if opts.min:
        ctx.minimum_version = VERSIONS[opts.min]
    if opts.max:
        ctx.maximum_version = VERSIONS[opts.max]
    if opts.ciphers:
        ctx.set_ciphers(opts.ciphers)
    if opts.alpn:
        ctx.set_alpn_protocols(opts.alpn.split(","))
    cert, key = cert or opts.cert, key or opts.key
    if cert:
        ctx.load_cert_chain(cert, key, opts.password)
    if not server_side and opts.no_check_hostname:
        ctx.check_hostname = False
    mode = opts.verify or ("required" if opts.require_client_cert else None)
    if mode:
        ctx.verify_mode = VERIFY[mode]
    if opts.ca:
        ctx.load_verify_locations(opts.ca)
    elif not server_side and ctx.verify_mode != ssl.CERT_NONE:
        ctx.load_default_certs()
    return ctx


def subject_text(cert):
    """The subject as openssl -nameopt RFC2253 prints it (last RDN first)."""
    rdns = cert.get("subject", ())
    short = {"commonName": "CN", "organizationName": "O", "countryName": "C",
             "organizationalUnitName": "OU", "localityName": "L", "stateOrProvinceName": "ST"}
    return ",".join("+".join("%s=%s" % (short.get(k, k), v) for k, v in rdn) for rdn in reversed(rdns))


def handshake_report(conn):
    cert = conn.getpeercert()
    return {"version": conn.version(), "cipher": conn.cipher(),
            "alpn": conn.selected_alpn_protocol(),
            "peer_subject": subject_text(cert) if cert else None, "peer_cert": cert}


def error_report(e):
    r = {"error": type(e).__name__, "message": str(e)}
    for attr in ("reason", "library", "verify_code", "verify_message", "errno"):
        if getattr(e, attr, None) is not None:
            r[attr] = getattr(e, attr)
    return r


def emit(report):
    print(json.dumps(report, default=list), flush=True)


def serve(opts):
    ctx = context(opts, True)
    seen = {}
    sni_contexts = {}
    for spec in opts.sni_cert:
        name, files = spec.split("=", 1)
        cert, key = files.split(",", 1)
        sni_contexts[name] = context(opts, True, cert, key)

    def on_sni(sslobj, name, _ctx):
        seen["sni"] = name
        if name in sni_contexts:
            sslobj.context = sni_contexts[name]
    ctx.sni_callback = on_sni

    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    with socket.create_server((opts.host, opts.port), family=family) as srv:
        emit({"port": srv.getsockname()[1]})
        for _ in range(opts.count):
            raw, _addr = srv.accept()
            raw.settimeout(opts.timeout)
            seen.clear()
            try:
                with ctx.wrap_socket(raw, server_side=True) as conn:
                    report = handshake_report(conn)
                    report["sni"] = seen.get("sni")
                    received = bytearray()
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            break
                        received += data
                        conn.sendall(data)
                    report["received"] = received.decode("latin-1")
                    report["echoed"] = len(received)
            except (OSError, ValueError) as e:
                report = error_report(e)
                report["sni"] = seen.get("sni")
                raw.close()
            emit(report)


def connect(opts):
    ctx = context(opts, False)
    name = opts.server_hostname or opts.host
    try:
        raw = socket.create_connection((opts.host, opts.port), timeout=opts.timeout)
        with ctx.wrap_socket(raw, server_hostname=name) as conn:
            report = handshake_report(conn)
            data = opts.send.encode()
            conn.sendall(data)
            back = bytearray()
            while len(back) < len(data):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                back += chunk
            report["received"] = back.decode("latin-1")
    except (OSError, ValueError) as e:
        emit(error_report(e))
        return 1
    emit(report)
    return 0


def main(argv):
    opts = options(argv)
    # Never outlive the bound, whatever the peer does.
    signal.alarm(opts.deadline)
    if opts.role == "server":
        serve(opts)
        return 0
    return connect(opts)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
