'use strict';
// Preloaded (NODE_OPTIONS=--require) into the third-party clients the end-to-end tests run, and
// into every Node process they start that keeps NODE_OPTIONS: a TCP connection, name lookup or DNS
// query for anything but loopback fails, and the destination is appended to
// SKYWHISK_BLOCKED_CONNECTIONS_LOG so the test can fail on a client that phones home. It cannot
// see programs that are not Node (curl, git); the clients' commands under test start none. UDP
// datagrams and reverse lookups (dns.lookupService) beyond loopback are refused the same way.
// Unix sockets are left alone.
const dgram = require('node:dgram');
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

// Names resolved by c-ares (dns.resolve*, dns.Resolver) go out as UDP queries of their own.
for (const target of [dns, dns.promises, dns.Resolver.prototype, dns.promises.Resolver.prototype]) {
  for (const method of Object.keys(target).concat(Object.getOwnPropertyNames(target))) {
    if (!/^(resolve|reverse)/.test(method) || typeof target[method] !== 'function') continue;
    const original = target[method];
    target[method] = function guardedResolve(name, ...rest) {
      if (allowed(name)) return original.call(this, name, ...rest);
      const error = refuse(`dns ${method} ${name}`);
      const callback = rest.find((arg) => typeof arg === 'function');
      if (callback) return void process.nextTick(() => callback(error));
      return Promise.reject(error);
    };
  }
}

for (const target of [dns, dns.promises]) {
  const lookupService = target.lookupService;
  target.lookupService = function guardedLookupService(address, port, callback) {
    if (isLoopbackAddress(String(address))) return lookupService.apply(this, arguments);
    const error = refuse(`lookupService ${address}`);
    if (typeof callback === 'function') return void process.nextTick(() => callback(error));
    return Promise.reject(error);
  };
}

/**
 * A caller's own `lookup` (a socket option) can map an allowed name anywhere: this one answers
 * what it answers, but refuses any address beyond loopback before a packet leaves.
 */
function loopbackOnlyLookup(ownLookup, describe) {
  return (name, lookupOptions, callback) => {
    const done = typeof lookupOptions === 'function' ? lookupOptions : callback;
    const withOptions = typeof lookupOptions === 'function' ? {} : lookupOptions;
    ownLookup(name, withOptions, (error, address, family) => {
      if (error) return done(error);
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const outside = addresses.find((a) => !isLoopbackAddress(String(a)));
      if (outside) return done(refuse(describe(name, outside)));
      return done(null, address, family);
    });
  };
}

const createSocket = dgram.createSocket;
dgram.createSocket = function guardedCreateSocket(options, ...rest) {
  if (typeof options === 'object' && options !== null && typeof options.lookup === 'function') {
    options = { ...options, lookup: loopbackOnlyLookup(options.lookup, (name, address) => `udp ${name} resolved to ${address}`) };
  }
  return createSocket.call(this, options, ...rest);
};
// dgram: `connect(port, address)` and `send(msg, [offset, length,] port, address, [callback])`;
// a send on a connected socket names no address and goes where connect allowed.
const udpConnect = dgram.Socket.prototype.connect;
dgram.Socket.prototype.connect = function guardedUdpConnect(port, address, callback) {
  const host = typeof address === 'string' ? address : 'localhost';
  if (allowed(host)) return udpConnect.apply(this, arguments);
  const error = refuse(`udp ${host}:${port}`);
  const done = typeof address === 'function' ? address : callback;
  process.nextTick(() => (done ? done(error) : this.emit('error', error)));
};
const udpSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function guardedUdpSend(...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  const plain = callback ? args.slice(0, -1) : args;
  // The port is the first number after the message (and its offset and length, when given).
  const portAt = typeof plain[1] === 'number' && typeof plain[2] === 'number' && plain.length >= 4 ? 3 : 1;
  if (plain.length > portAt) {
    const host = typeof plain[portAt + 1] === 'string' ? plain[portAt + 1] : 'localhost';
    if (!allowed(host)) {
      const error = refuse(`udp ${host}:${plain[portAt]}`);
      return void process.nextTick(() => (callback ? callback(error) : this.emit('error', error)));
    }
  }
  return udpSend.apply(this, args);
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
    // Check what a caller's own lookup answers, and again where the socket went.
    if (typeof options.lookup === 'function') {
      options.lookup = loopbackOnlyLookup(options.lookup, (name, address) => `${name} resolved to ${address}:${options.port}`);
    }
    this.once('connect', () => {
      if (this.remoteAddress && !isLoopbackAddress(this.remoteAddress)) this.destroy(refuse(`${host} resolved to ${this.remoteAddress}:${this.remotePort}`));
    });
  }
  return connect.apply(this, args);
};
