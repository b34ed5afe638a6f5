# Python 3 reference for examples/asynchat_chat_server.lua (used only by
# spec/async_examples_spec.lua): a line-based chat server on asynchat; every
# line a client sends (terminator b'\n') goes to every connected client.
import socket
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import asyncore
    import asynchat

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
HOST = sys.argv[2] if len(sys.argv) > 2 else 'localhost'
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else None


class ChatHandler(asynchat.async_chat):

    def __init__(self, sock, server):
        asynchat.async_chat.__init__(self, sock)
        self.server = server
        self.set_terminator(b'\n')
        self.buffer = []

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        line = b''.join(self.buffer)
        self.buffer = []
        self.server.broadcast(line + b'\n')

    def handle_close(self):
        self.close()
        self.server.remove(self)


class ChatServer(asyncore.dispatcher):

    def __init__(self, host, port, clients):
        asyncore.dispatcher.__init__(self)
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.set_reuse_addr()
        self.bind((host, port))
        self.listen(64)
        self.clients = clients
        self.handlers = []
        self.served = 0
        self.lines = 0

    def handle_accepted(self, sock, addr):
        print('Incoming connection from %s' % repr(addr))
        self.handlers.append(ChatHandler(sock, self))

    def broadcast(self, line):
        self.lines += 1
        # A push to a client that has gone closes it, which removes it
        # from the list: walk a copy.
        for handler in list(self.handlers):
            handler.push(line)

    def remove(self, handler):
        if handler in self.handlers:
            self.handlers.remove(handler)
            self.served += 1
        if self.clients is not None and self.served >= self.clients:
            self.close()


server = ChatServer(HOST, PORT, CLIENTS)
asyncore.loop()
print('Served %d clients, broadcast %d lines' % (server.served, server.lines))
