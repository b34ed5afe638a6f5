# Python 3 reference for examples/https_get.lua (used only by spec/tls_examples_spec.lua).
# Source: none: an HTTP/1.1 GET by hand over ssl (create_default_context, wrap_socket with
# the URL's host as server_hostname), printing the status line and the headers, then the
# size of the body. The CA file comes from the command line (the specs' test PKI); without
# it the system's CA store is used.
import socket
import ssl
import sys
import urllib.parse

URL = sys.argv[1] if len(sys.argv) > 1 else "https://localhost:8443/"
CAFILE = sys.argv[2] if len(sys.argv) > 2 else None

url = urllib.parse.urlsplit(URL)
host, port = url.hostname, url.port or 443
path = url.path or "/"
if url.query:
    path += "?" + url.query

context = ssl.create_default_context(cafile=CAFILE)
with socket.create_connection((host, port), timeout=10) as sock:
    with context.wrap_socket(sock, server_hostname=host) as tls:
        request = "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, url.netloc)
        tls.sendall(request.encode())
        response = b""
        while True:
            data = tls.recv(4096)
            if not data:
                break
            response += data

head, _, body = response.partition(b"\r\n\r\n")
for line in head.decode("latin-1").split("\r\n"):
    print(line)
print()
print("body: %d bytes" % len(body))
