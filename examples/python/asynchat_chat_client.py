# Python 3 reference for examples/asynchat_chat_client.lua (used only by
# spec/async_examples_spec.lua): `clients` chat clients in one asyncore loop.
# Each says "join N"; once every client has seen its own join come back (so
# the server has them all), each sends `messages` lines, and each checks it
# received every client's lines, each sender's in order.
import socket
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    import asyncore
    import asynchat

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
HOST = sys.argv[2] if len(sys.argv) > 2 else 'localhost'
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
MESSAGES = int(sys.argv[4]) if len(sys.argv) > 4 else 20

clients = []
ready = 0


class ChatClient(asynchat.async_chat):

    def __init__(self, host, port, index):
        asynchat.async_chat.__init__(self)
        self.index = index
        self.buffer = []
        self.next_from = {}   # sender -> the message number expected next
        self.received = 0
        self.in_order = True
        self.set_terminator(b'\n')
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.connect((host, port))

    def handle_connect(self):
        self.push(b'join %d\n' % self.index)

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        global ready
        words = b''.join(self.buffer).split()
        self.buffer = []
        if words[0] == b'join' and int(words[1]) == self.index:
            ready += 1
            if ready == len(clients):
                for c in clients:
                    c.send_messages()
        elif words[0] == b'msg':
            sender, number = int(words[1]), int(words[2])
            if self.next_from.get(sender, 0) != number:
                self.in_order = False
            self.next_from[sender] = number + 1
            self.received += 1
            if self.received == len(clients) * MESSAGES:
                self.close()

    def send_messages(self):
        for j in range(MESSAGES):
            self.push(b'msg %d %d\n' % (self.index, j))

    def handle_close(self):
        self.close()


clients.extend(ChatClient(HOST, PORT, i) for i in range(1, CLIENTS + 1))
asyncore.loop()
for c in clients:
    print('client %d: %d messages from %d clients, %s' % (
        c.index, c.received, len(c.next_from), 'in order' if c.in_order else 'OUT OF ORDER'))
print('%d clients done' % len(clients))
