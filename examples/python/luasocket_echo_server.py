# luasocket_echo_server.py: the Python twin of luasocket_echo_server.lua (a
# thread per client where moonsock has a task).
import socket, sys, threading

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8891
clients = int(sys.argv[2]) if len(sys.argv) > 2 else None

server = socket.create_server(("127.0.0.1", port))
print("listening on 127.0.0.1:%d" % port, flush=True)

def serve(conn):
    conn.settimeout(10)
    f = conn.makefile("rb")
    for raw in f:
        line = raw.rstrip(b"\r\n").decode()
        if line == "bye":
            conn.sendall(b"bye\n")
            break
        conn.sendall(("echo: " + line + "\n").encode())
    f.close()
    conn.close()

served, running = 0, []
while clients is None or served < clients:
    conn, _ = server.accept()
    served += 1
    t = threading.Thread(target=serve, args=(conn,))
    t.start()
    running.append(t)
for t in running:
    t.join()
server.close()
print("served %d clients" % served)
