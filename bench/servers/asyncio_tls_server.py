"""Python asyncio peer over TLS: the echo protocol of asyncio_server.py, served
with an ssl context (the stock way: loop.create_server(..., ssl=context)).
usage: python3 asyncio_tls_server.py PORT CERTFILE KEYFILE"""
import asyncio
import ssl
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from asyncio_server import Echo  # noqa: E402  (the same protocol as the plain job)


async def main(port, certfile, keyfile):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port, ssl=context,
                                      backlog=1024, reuse_address=True)
    await server.serve_forever()


asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
