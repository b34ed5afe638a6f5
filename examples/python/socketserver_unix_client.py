# Python 3 reference for examples/socketserver_unix_client.lua (used only by
# spec/socketserver_examples_spec.lua). Written for moonsock: the
# documentation's TCP client over a UNIX socket, one line per word.
import socket
import sys

PATH = sys.argv[1] if len(sys.argv) > 1 else "/tmp/socketserver_example.sock"

received = b""
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
    sock.connect(PATH)
    for word in sys.argv[2:]:
        sock.sendall((word + "\n").encode())
    sock.shutdown(socket.SHUT_WR)
    while True:
        data = sock.recv(1024)
        if not data:
            break
        received += data

for line in received.decode().splitlines():
    print("Received: " + line)
