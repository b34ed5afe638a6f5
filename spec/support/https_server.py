#!/usr/bin/env python3
"""An HTTPS server for the specs: python3's http.server wrapped in ssl.

  https_server.py DIR CERTFILE KEYFILE [SECONDS]
serves DIR on a free 127.0.0.1 port, prints {"port": N} when ready, and
ends after SECONDS (30). A POST is answered with its body, as sent.
A server name other than the certificate's is the specs' business: CERTFILE
decides what the client sees."""
import functools
import http.server
import json
import signal
import ssl
import sys



class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


directory, certfile, keyfile = sys.argv[1:4]
signal.alarm(int(sys.argv[4]) if len(sys.argv) > 4 else 30)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(certfile, keyfile)
handler = functools.partial(Handler, directory=directory)
with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    print(json.dumps({"port": httpd.server_address[1]}), flush=True)
    httpd.serve_forever()
