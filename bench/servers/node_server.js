// Node.js `net` (and `dgram`) peer.
// usage: node node_server.js echo|http|udp PORT
'use strict';
const net = require('net');
const dgram = require('dgram');

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello');
const HEAD_END = Buffer.from('\r\n\r\n');

if (mode === 'udp') {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(port, '127.0.0.1');
} else {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    // A client that goes away abruptly is not the server's error.
    sock.on('error', () => sock.destroy());
    if (mode === 'echo') {
      sock.on('data', (data) => sock.write(data));
      return;
    }
    let pending = Buffer.alloc(0);
    sock.on('data', (data) => {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      let n = 0;
      let from = 0;
      for (;;) {
        const e = pending.indexOf(HEAD_END, from);
        if (e < 0) break;
        n += 1;
        from = e + 4;
      }
      if (n > 0) {
        pending = pending.subarray(from);
        sock.write(n === 1 ? RESPONSE : Buffer.concat(Array(n).fill(RESPONSE)));
      }
    });
  });
  server.listen({ port, host: '127.0.0.1', backlog: 1024 });
}
