# Python 3 reference for examples/tls_echo_server.lua (used only by spec/tls_examples_spec.lua).
# Source: the Python documentation of ssl, "Server-side operation" (load_cert_chain, then
# wrap_socket(newsocket, server_side=True) per accepted connection, deal_with_client reading
# until the client is done); a handshake the client refuses is shown, not fatal.
import socket
import ssl
import sys

PORT = int(sys.argv[1])
CERTFILE, KEYFILE = sys.argv[2], sys.argv[3]
HOST = sys.argv[4] if len(sys.argv) > 4 else "localhost"
CLIENTS = int(sys.argv[5]) if len(sys.argv) > 5 else None

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERTFILE, KEYFILE)


def deal_with_client(connstream, n):
    data = connstream.recv(1024)
    # empty data means the client is finished with us
    while data:
        print("client %d sent: %s" % (n, data.decode()))
        connstream.sendall(data)
        data = connstream.recv(1024)


with socket.create_server((HOST, PORT)) as bindsocket:
    print("listening on port %d" % PORT)
    served = 0
    while CLIENTS is None or served < CLIENTS:
        newsocket, fromaddr = bindsocket.accept()
        served += 1
        try:
            connstream = context.wrap_socket(newsocket, server_side=True)
        except ssl.SSLError as e:
            # The client refused our certificate (it says why in an alert).
            print("client %d: handshake failed: %s" % (served, e.reason))
            newsocket.close()
            continue
        try:
            print("client %d: %s, %s" % (served, connstream.version(), connstream.cipher()[0]))
            deal_with_client(connstream, served)
        finally:
            connstream.close()
        print("client %d closed" % served)
