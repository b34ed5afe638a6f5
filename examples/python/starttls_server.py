# Python 3 reference for examples/starttls_server.lua (used only by spec/tls_examples_spec.lua).
# Source: none: the STARTTLS pattern of SMTP (RFC 3207) and IMAP, as the TLS issue asks for it:
# a plain-text greeting, then wrap_socket on the same connection, then unwrap back to plain.
# Lines are read a byte at a time, so that nothing past the STARTTLS line is read as plain text.
import socket
import ssl
import sys

PORT = int(sys.argv[1])
CERTFILE, KEYFILE = sys.argv[2], sys.argv[3]
HOST = sys.argv[4] if len(sys.argv) > 4 else "localhost"
CLIENTS = int(sys.argv[5]) if len(sys.argv) > 5 else 1

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERTFILE, KEYFILE)


def readline(sock):
    line = b""
    while not line.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            break
        line += c
    print("C: %s" % line.decode().rstrip("\r\n"))
    return line


def reply(sock, text):
    print("S: %s" % text)
    sock.sendall(text.encode() + b"\r\n")


def serve(conn, n):
    reply(conn, "220 localhost moonsock STARTTLS example")
    secure = False
    while True:
        command = readline(conn).strip().upper()
        if command == b"STARTTLS" and not secure:
            reply(conn, "220 go ahead")
            conn = context.wrap_socket(conn, server_side=True)
            secure = True
            print("client %d: TLS on, %s" % (n, conn.version()))
        elif command == b"HELLO":
            reply(conn, "250 hello, %s" % ("over " + conn.version() if secure else "in plain text"))
        elif command == b"STOPTLS" and secure:
            reply(conn, "220 back to plain text")
            # close_notify both ways; the same connection carries plain text again
            conn = conn.unwrap()
            secure = False
            print("client %d: TLS off" % n)
        elif command in (b"QUIT", b""):
            reply(conn, "221 bye")
            break
        else:
            reply(conn, "500 unknown command")
    conn.close()


with socket.create_server((HOST, PORT)) as srv:
    print("listening on port %d" % PORT)
    for n in range(1, CLIENTS + 1):
        conn, _ = srv.accept()
        serve(conn, n)
