# Python 3 reference for examples/tls_echo_client.lua (used only by spec/tls_examples_spec.lua).
# Source: the Python documentation of ssl, "Client-side operation" (create_default_context,
# then wrap_socket(sock, server_hostname=...)), with the CA file of a test PKI instead of the
# system's store, and the verification error caught and shown.
import socket
import ssl
import sys

PORT = int(sys.argv[1])
CAFILE = sys.argv[2]
HOST = sys.argv[3] if len(sys.argv) > 3 else "localhost"
SERVER_NAME = sys.argv[4] if len(sys.argv) > 4 else HOST
MESSAGES = sys.argv[5:] or ["Hello, TLS world"]


def common_name(name):
    for rdn in name:
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=CAFILE)

with socket.create_connection((HOST, PORT)) as sock:
    try:
        ssock = context.wrap_socket(sock, server_hostname=SERVER_NAME)
    except ssl.SSLCertVerificationError as e:
        print("certificate verify failed for %s: %s (%s, code %d)"
              % (SERVER_NAME, e.verify_message, e.reason, e.verify_code))
        sys.exit(1)
    with ssock:
        cert = ssock.getpeercert()
        print("connected to %s with %s" % (SERVER_NAME, ssock.version()))
        print("certificate for %s, issued by %s" % (common_name(cert["subject"]), common_name(cert["issuer"])))
        for message in MESSAGES:
            ssock.sendall(message.encode())
            echo = b""
            while len(echo) < len(message.encode()):
                data = ssock.recv(1024)
                if not data:
                    break
                echo += data
            print("echo: %s" % echo.decode())
