# Python 3 reference for examples/demo.lua (used only by spec/examples_spec.lua):
# the same demo with a thread per connection and a thread per client exchange.
import socket
import threading

CLIENTS, ROUNDS, TIMEOUT = 3, 3, 5


def quote(s):
    return "'" + s + "'"


def handle(conn):
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.sendall(data)
    conn.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(('127.0.0.1', 0))
server.listen(CLIENTS)
server.settimeout(TIMEOUT)
host, port = server.getsockname()
print('echo server listening on %s:%d' % (host, port))

served = []


def acceptor_main():
    handlers = []
    for _ in range(CLIENTS):
        conn, _addr = server.accept()
        conn.settimeout(TIMEOUT)
        t = threading.Thread(target=handle, args=(conn,))
        t.start()
        handlers.append(t)
    server.close()
    for t in handlers:
        t.join(TIMEOUT)
    served.append(len(handlers))


acceptor = threading.Thread(target=acceptor_main)
acceptor.start()

conns = [socket.create_connection((host, port), TIMEOUT) for _ in range(CLIENTS)]

for round_ in range(1, ROUNDS + 1):
    results = [None] * CLIENTS

    def exchange(n):
        msg = 'round %d from client %d' % (round_, n + 1)
        conns[n].sendall(msg.encode())
        results[n] = (msg, conns[n].recv(1024).decode())

    running = [threading.Thread(target=exchange, args=(n,)) for n in range(CLIENTS)]
    for t in running:
        t.start()
    print('round %d' % round_)
    for n, t in enumerate(running):
        t.join(TIMEOUT)
        sent, got = results[n]
        print('  client %d sent %s, got back %s' % (n + 1, quote(sent), quote(got)))

for conn in conns:
    conn.close()
acceptor.join(TIMEOUT)
print('server served %d clients at once; bye' % served[0])
