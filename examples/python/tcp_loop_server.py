# Python 3 reference for examples/tcp_loop_server.lua (used only by spec/examples_spec.lua).
# Source: 001_b22fa077275f9854.txt, "Demo > TCP 服务端", NOTE1 (accept in a loop).
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8888
HOST = sys.argv[2] if len(sys.argv) > 2 else ''
clients = int(sys.argv[3]) if len(sys.argv) > 3 else None

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((HOST, PORT))
s.listen(5)

served = 0
# now keep talking with the client
while clients is None or served < clients:
    # wait to accept a connection - blocking call
    conn, addr = s.accept()
    served += 1
    print('Connected with ' + addr[0] + ':' + str(addr[1]))

    data = conn.recv(1024)
    reply = b'OK...' + data
    if not data:
        conn.close()
        break

    conn.sendall(reply)
    conn.close()

s.close()
