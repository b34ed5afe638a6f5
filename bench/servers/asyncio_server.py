"""Python asyncio peer: protocols (the fastest stock asyncio API).
usage: python3 asyncio_server.py echo|http|udp PORT"""
import asyncio
import socket
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)


class Http(Echo):
    pending = b""

    def data_received(self, data):
        self.pending += data
        n = self.pending.count(b"\r\n\r\n")
        if n:
            self.pending = self.pending[self.pending.rfind(b"\r\n\r\n") + 4:]
            self.transport.write(RESPONSE * n)


class Udp(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


async def main(mode, port):
    loop = asyncio.get_running_loop()
    if mode == "udp":
        await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", port))
        await asyncio.Event().wait()
    server = await loop.create_server(Http if mode == "http" else Echo, "127.0.0.1", port,
                                      backlog=1024, reuse_address=True)
    await server.serve_forever()


if __name__ == "__main__":  # asyncio_tls_server.py imports Echo
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
