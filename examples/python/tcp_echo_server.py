# Python 3 reference for examples/tcp_echo_server.lua (used only by spec/examples_spec.lua).
# Source: 001_b22fa077275f9854.txt, "Demo > TCP 服务端", Steps 1-6 (Python 2 in the
# tutorial: "except socket.error, msg" and msg[0]/msg[1] become msg.errno/msg.strerror).
import socket
import sys

HOST = sys.argv[2] if len(sys.argv) > 2 else ''  # Symbolic name meaning all available interfaces
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8888  # Arbitrary non-privileged port

try:
    # create an AF_INET, STREAM socket (TCP)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except socket.error as msg:
    print('Failed to create socket. Error code: ' + str(msg.errno) + ' , Error message : '
          + str(msg.strerror))
    sys.exit()

ADDR = (HOST, PORT)
try:
    s.bind(ADDR)
except socket.error as msg:
    print('Bind failed. Error Code : ' + str(msg.errno) + ' Message ' + str(msg.strerror))
    sys.exit()

s.listen(5)

# wait to accept a connection - blocking call
conn, addr = s.accept()

# now keep talking with the client
data = conn.recv(1024)
conn.sendall(data)

conn.close()
s.close()
