# luasocket_echo_client.py: the Python twin of luasocket_echo_client.lua.
import socket, sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8891
lines = sys.argv[2:] or ["hello", "world"]
try:
    conn = socket.create_connection(("127.0.0.1", port), 10)
except ConnectionRefusedError:
    print("cannot connect: connection refused")
    sys.exit(1)
f = conn.makefile("rb")
for line in lines:
    conn.sendall((line + "\n").encode())
    print(f.readline().rstrip(b"\r\n").decode())
conn.sendall(b"bye\n")
print(f.readline().rstrip(b"\r\n").decode())
conn.close()
