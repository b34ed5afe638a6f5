# Python 3 reference for examples/socketserver_udp_client.lua (used only by
# spec/socketserver_examples_spec.lua). Source: the client of the
# socketserver.UDPServer example of the Python documentation. Change: the
# port is the first argument, the data the rest.
import socket
import sys

HOST, PORT = "localhost", int(sys.argv[1]) if len(sys.argv) > 1 else 9999
data = " ".join(sys.argv[2:])

# SOCK_DGRAM is the socket type to use for UDP sockets
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

# As you can see, there is no connect() call; UDP has no connections.
# Instead, data is directly sent to the recipient via sendto().
sock.sendto(bytes(data + "\n", "utf-8"), (HOST, PORT))
received = str(sock.recv(1024), "utf-8")

print("Sent:     {}".format(data))
print("Received: {}".format(received))
