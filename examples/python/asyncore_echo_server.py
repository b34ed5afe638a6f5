# Python 3 reference for examples/asyncore_echo_server.lua (used only by
# spec/async_examples_spec.lua): the asyncore echo server of the Python
# documentation (EchoHandler/EchoServer), made to end after `clients` clients.
import socket
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import asyncore

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
HOST = sys.argv[2] if len(sys.argv) > 2 else 'localhost'
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else None


class EchoHandler(asyncore.dispatcher_with_send):

    def __init__(self, sock, server):
        asyncore.dispatcher_with_send.__init__(self, sock)
        self.server = server

    def handle_read(self):
        data = self.recv(8192)
        if data:
            self.send(data)

    def handle_close(self):
        self.close()
        self.server.client_closed()


class EchoServer(asyncore.dispatcher):

    def __init__(self, host, port, clients):
        asyncore.dispatcher.__init__(self)
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.set_reuse_addr()
        self.bind((host, port))
        # The documentation listens with 5: 64 lets 50 clients connect at
        # once without waiting for SYN retries.
        self.listen(64)
        self.clients = clients
        self.served = 0

    def handle_accepted(self, sock, addr):
        print('Incoming connection from %s' % repr(addr))
        EchoHandler(sock, self)

    def client_closed(self):
        self.served += 1
        if self.clients is not None and self.served >= self.clients:
            self.close()


server = EchoServer(HOST, PORT, CLIENTS)
asyncore.loop()
print('Served %d clients' % server.served)
