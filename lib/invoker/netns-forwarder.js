'use strict';
// Runs inside an action container's network namespace (started with nsenter) and exposes the
// runtime's 127.0.0.1:<port> there as a unix socket on the host: blackbox images all listen on
// 8080, and with no network of their own they can only be reached this way.
// Usage: node netns-forwarder.js <socket path> <port>
const net = require('node:net');

const [socketPath, port] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(Number(port), '127.0.0.1');
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(socketPath);
