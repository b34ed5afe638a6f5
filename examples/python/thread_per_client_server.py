# Python 3 reference for examples/thread_per_client_server.lua (used only by spec/examples_spec.lua).
# Source: 001_b22fa077275f9854.txt, "Demo > TCP 服务端", NOTE2 (client_thread and
# start_new_thread; Python 2's thread module is Python 3's _thread).
# A process ends with its main thread, so with a client count the main thread
# waits for the client threads: each one releases a lock when it is done.
import socket
import sys
from _thread import allocate_lock, start_new_thread

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8888
HOST = sys.argv[2] if len(sys.argv) > 2 else ''
clients = int(sys.argv[3]) if len(sys.argv) > 3 else None


# Function for handling connections. This will be used to create threads
def client_thread(conn):
    # Sending message to connected client
    conn.send(b'Welcome to the server. Type something and hit enter\n')

    # infinite loop so that function do not terminate and thread do not end.
    while True:
        # Receiving from client
        data = conn.recv(1024)
        reply = b'OK...' + data
        if not data:
            break

        conn.sendall(reply)

    # came out of loop
    conn.close()


def run(conn, done):
    try:
        client_thread(conn)
    finally:
        done.release()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((HOST, PORT))
s.listen(5)

locks = []
# now keep talking with the client
while clients is None or len(locks) < clients:
    # wait to accept a connection - blocking call
    conn, addr = s.accept()
    print('Connected with ' + addr[0] + ':' + str(addr[1]))

    # start new thread takes 1st argument as a function name to be run, second is the tuple
    # of arguments to the function.
    done = allocate_lock()
    done.acquire()
    locks.append(done)
    start_new_thread(run, (conn, done))

s.close()
for done in locks:
    done.acquire()
