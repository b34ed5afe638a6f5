# Python 3 reference for examples/asyncore_echo_client.lua (used only by
# spec/async_examples_spec.lua): `clients` asyncore clients at once, each
# sending its own payload to the echo server and checking the echo.
import socket
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import asyncore

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
HOST = sys.argv[2] if len(sys.argv) > 2 else 'localhost'
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def payload(index):
    # A few lines for most clients; every 25th sends a megabyte.
    count = 50000 if index % 25 == 0 else 10 * (index % 7 + 1)
    return b''.join(b'client %d line %d\n' % (index, j) for j in range(count))


class EchoClient(asyncore.dispatcher):

    def __init__(self, host, port, index):
        asyncore.dispatcher.__init__(self)
        self.index = index
        self.outgoing = self.expected = payload(index)
        self.received = []
        self.nreceived = 0
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.connect((host, port))

    def handle_connect(self):
        pass

    def writable(self):
        return len(self.outgoing) > 0

    def handle_write(self):
        sent = self.send(self.outgoing[:65536])
        self.outgoing = self.outgoing[sent:]

    def handle_read(self):
        data = self.recv(65536)
        self.received.append(data)
        self.nreceived += len(data)
        if self.nreceived >= len(self.expected):
            self.close()

    def handle_close(self):
        self.close()


clients = [EchoClient(HOST, PORT, i) for i in range(1, CLIENTS + 1)]
asyncore.loop()
for c in clients:
    echoed = b''.join(c.received)
    print('client %d: sent %d bytes, %s' % (
        c.index, len(c.expected), 'echo intact' if echoed == c.expected else 'ECHO DIFFERS'))
print('%d clients done' % len(clients))
