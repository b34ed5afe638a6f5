# Python 3 reference for examples/starttls_client.lua (used only by spec/tls_examples_spec.lua).
# Source: none: the client side of examples/python/starttls_server.py (SMTP's STARTTLS, RFC 3207):
# greeting and STARTTLS in plain text, wrap_socket on the same connection, a command over TLS,
# STOPTLS and unwrap, then QUIT in plain text again.
import socket
import ssl
import sys

PORT = int(sys.argv[1])
CAFILE = sys.argv[2]
HOST = sys.argv[3] if len(sys.argv) > 3 else "localhost"


def readline(sock):
    line = b""
    while not line.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            break
        line += c
    print("S: %s" % line.decode().rstrip("\r\n"))
    return line


def command(sock, text):
    print("C: %s" % text)
    sock.sendall(text.encode() + b"\r\n")
    return readline(sock)


context = ssl.create_default_context(cafile=CAFILE)
sock = socket.create_connection((HOST, PORT))
readline(sock)
command(sock, "HELLO")
if command(sock, "STARTTLS").startswith(b"220"):
    sock = context.wrap_socket(sock, server_hostname=HOST)
    print("TLS on: %s, %s" % (sock.version(), sock.cipher()[0]))
    command(sock, "HELLO")
    command(sock, "STOPTLS")
    sock = sock.unwrap()
    print("TLS off")
command(sock, "HELLO")
command(sock, "QUIT")
sock.close()
