import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { HeldPort } from '../../lib/local/held-port';

// The port the supervisor holds for the endpoint: connections wait while no process serves it,
// go to the process that does, and are closed (so their clients retry) when it dies holding them.

/** A serving process: answers each connection with its pid; `stall` makes it ignore connections. */
function server(stall = false): ChildProcess {
  const code = `
    const net = require('node:net');
    process.on('message', (message, socket) => {
      if (${stall} || message?.type !== 'skywhisk:connection') return;
      process.send({ type: 'skywhisk:connection-taken', id: message.id });
      socket.resume();
      socket.on('data', () => socket.write(String(process.pid)));
    });`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
}

function ask(port: number): { socket: Socket; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  socket.write('who?');
  const answer = new Promise<string>((resolve) => {
    socket.once('data', (data) => resolve(data.toString()));
    socket.once('close', () => resolve('closed'));
  });
  return { socket, answer };
}

const children: ChildProcess[] = [];
let held: HeldPort;

beforeEach(async () => (held = await HeldPort.listen(0, '127.0.0.1')));
afterEach(() => {
  held.close();
  children.splice(0).forEach((c) => c.kill('SIGKILL'));
});

function started(stall = false): ChildProcess {
  const child = server(stall);
  children.push(child);
  return child;
}

test('a connection made while nothing serves waits for the next server, and reaches it', async () => {
  const { socket, answer } = ask(held.port);
  await new Promise((r) => setTimeout(r, 300));
  const child = started();
  held.serveWith(child);
  expect(await answer).toBe(String(child.pid));
  socket.destroy();
});

test('a connection handed to a server that dies before taking it is closed, and the next one reaches its replacement', async () => {
  const stalled = started(true);
  await new Promise((r) => setTimeout(r, 300));
  held.serveWith(stalled);
  const first = ask(held.port);
  await new Promise((r) => setTimeout(r, 300));
  stalled.kill('SIGKILL');
  expect(await first.answer).toBe('closed');
  const replacement = started();
  held.serveWith(replacement);
  const second = ask(held.port);
  expect(await second.answer).toBe(String(replacement.pid));
  second.socket.destroy();
});

test('while no server serves it, no other process (action code, say) can take the port', async () => {
  const squatter = spawn(
    process.execPath,
    ['-e', `require('node:net').createServer().listen(${held.port}, '127.0.0.1').on('error', (e) => { console.log(e.code); process.exit(0); }).on('listening', () => { console.log('bound'); process.exit(0); });`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  squatter.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => squatter.once('exit', resolve));
  expect(output.trim()).toBe('EADDRINUSE');
});
