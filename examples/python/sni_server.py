# Python 3 reference for examples/sni_server.lua (used only by spec/tls_examples_spec.lua).
# Source: the Python documentation of ssl, SSLContext.sni_callback: one context per
# certificate, and a callback that switches the connection's context by the server name the
# client sent (None when it sent none, as a client that connects to an IP address does).
# Talk to it with examples/tls_echo_client.lua, giving the server name to ask for.
import socket
import ssl
import sys

PORT = int(sys.argv[1])
CERTFILE, KEYFILE = sys.argv[2], sys.argv[3]
OTHER_NAME, OTHER_CERTFILE, OTHER_KEYFILE = sys.argv[4], sys.argv[5], sys.argv[6]
HOST = sys.argv[7] if len(sys.argv) > 7 else "localhost"
CLIENTS = int(sys.argv[8]) if len(sys.argv) > 8 else None

default_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
default_context.load_cert_chain(CERTFILE, KEYFILE)
other_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
other_context.load_cert_chain(OTHER_CERTFILE, OTHER_KEYFILE)

served = 0


def pick_certificate(sslsocket, server_name, context):
    if server_name == OTHER_NAME:
        sslsocket.context = other_context
    print("client %d asked for %s: %s certificate" % (
        served, server_name or "no name", "the other" if server_name == OTHER_NAME else "the default"))


default_context.sni_callback = pick_certificate

with socket.create_server((HOST, PORT)) as srv:
    print("listening on port %d" % PORT)
    while CLIENTS is None or served < CLIENTS:
        newsocket, _ = srv.accept()
        served += 1
        with default_context.wrap_socket(newsocket, server_side=True) as conn:
            data = conn.recv(1024)
            while data:
                print("client %d sent: %s" % (served, data.decode()))
                conn.sendall(data)
                data = conn.recv(1024)
