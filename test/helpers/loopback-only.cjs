'use strict';
// Preloaded (NODE_OPTIONS=--require) into the third-party clients the end-to-end tests run, and
// into every Node process they start: a TCP connection or name lookup for anything but loopback
// fails, and the destination is appended to SKYWHISK_BLOCKED_CONNECTIONS_LOG so the test can fail
// on a client that phones home. Unix sockets are left alone.
const dns = require('node:dns');
const fs = require('node:fs');
const net = require('node:net');

const log = process.env.SKYWHISK_BLOCKED_CONNECTIONS_LOG;
const LOCAL_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost']);

function isLoopbackAddress(address) {
  const plain = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (net.isIPv4(plain)) return plain.startsWith('127.');
  if (plain === '::1') return true;
  return plain.startsWith('::ffff:') && net.isIPv4(plain.slice(7)) && plain.slice(7).startsWith('127.');
}

function allowed(host) {
  return LOCAL_NAMES.has(String(host).toLowerCase()) || isLoopbackAddress(String(host));
}

function refuse(destination) {
  if (log) fs.appendFileSync(log, `${process.pid} ${destination}\n`);
  const error = new Error(`connection to ${destination} refused by the test's loopback-only guard`);
  error.code = 'ECONNREFUSED';
  return error;
}

const lookup = dns.lookup;
dns.lookup = function guardedLookup(hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  if (!allowed(hostname)) {
    const error = refuse(`lookup ${hostname}`);
    process.nextTick(() => done(error));
    return {};
  }
  return lookup.apply(this, arguments);
};
const promisedLookup = dns.promises.lookup;
dns.promises.lookup = async function guardedPromisedLookup(hostname, ...rest) {
  if (!allowed(hostname)) throw refuse(`lookup ${hostname}`);
  return promisedLookup.call(this, hostname, ...rest);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : typeof first === 'number' || /^\d+$/.test(String(first)) ? { port: first, host: args[1] } : { path: first };
  if (!options.path) {
    const host = typeof options.host === 'string' ? options.host : 'localhost';
    if (!allowed(host)) {
      const error = refuse(`${host}:${options.port}`);
      process.nextTick(() => this.destroy(error));
      return this;
    }
  }
  return connect.apply(this, args);
};
