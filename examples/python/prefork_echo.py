# Python 3 reference for examples/prefork_echo.lua (used only by spec/prefork_spec.lua).
# Source: 001_b22fa077275f9854.txt, "Demo > TCP 服务端", NOTE2 (a thread per client),
# run in several worker processes on one port (os.fork, SO_REUSEPORT).
# Python has no prefork server in socketserver; this is the same socket-level
# pattern as the Lua script: threads where moonsock has tasks, ctypes for
# prctl(PR_SET_PDEATHSIG), which the os module lacks, and signal handlers
# that only note the signal, as the Lua script's do.
import ctypes
import os
import signal
import socket
import sys
import threading
import time

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8888
WORKERS = int(sys.argv[2]) if len(sys.argv) > 2 else len(os.sched_getaffinity(0))
HOST = sys.argv[3] if len(sys.argv) > 3 else '127.0.0.1'
PR_SET_PDEATHSIG = 1


# One thread per client: echo until the client closes.
def client_thread(conn):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # A client that resets its connection ends only its own thread.
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
    except OSError:
        pass
    conn.close()


# The parent holds the port: a worker binds the same one, even when port 0
# let the kernel choose it.
holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
holder.bind((HOST, PORT))
PORT = holder.getsockname()[1]

caught = set()
signal.signal(signal.SIGTERM, lambda sig, frame: caught.add(sig))
signal.signal(signal.SIGINT, lambda sig, frame: caught.add(sig))

# Each worker writes a byte here once it listens.
ready_r, ready_w = socket.socketpair()
parent = os.getpid()
workers = {}  # pid -> worker number


def start_worker(number):
    pid = os.fork()
    if pid != 0:
        workers[pid] = number
        return
    # In the worker: SIGTERM kills it; ^C is for the parent to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before that line
        os._exit(1)
    holder.close()
    ready_r.close()
    server = socket.create_server((HOST, PORT), reuse_port=True, backlog=1024)
    ready_w.sendall(b'+')
    while True:
        conn, _ = server.accept()
        threading.Thread(target=client_thread, args=(conn,), daemon=True).start()


for number in range(1, WORKERS + 1):
    start_worker(number)
ready_r.settimeout(10)
for _ in range(WORKERS):
    ready_r.recv(1)
print('echo server on %s:%d, %d workers' % (HOST, PORT, WORKERS), flush=True)

while not caught:
    pid, status = os.waitpid(-1, os.WNOHANG)
    if pid != 0:
        number = workers.pop(pid)
        sys.stderr.write('worker %d (pid %d) ended with %d; starting another\n'
                         % (number, pid, os.waitstatus_to_exitcode(status)))
        start_worker(number)
    time.sleep(0.1)

for pid in workers:
    os.kill(pid, signal.SIGTERM)
for pid in workers:
    os.waitpid(pid, 0)
print('stopped')
