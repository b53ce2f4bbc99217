import { startBenchPlatform } from './platform';
import { formatRow, HEADER } from './stats';

/**
 * What the programming model costs over a plain warm invoke, through the embedded platform with
 * the process factory: a blocking no-op invoke, the same through a package binding, a 3-component
 * sequence (each component is a full activation run by the invoker), a 3-step conductor, a web
 * action (.json), and a trigger fire with 3 rules until all 3 records exist. Prints figures only.
 *   npx tsx bench/programming-model.ts [calls=200]
 */
const CALLS = Number(process.argv[2] ?? 200);
const WARMUP = 50;
const NOOP = 'function main(p) { return p; }';
const CONDUCTOR = "function main(p) { const n = p.n || 0; return n >= 3 ? { params: { n } } : { action: 'noop', params: { n: n + 1 }, state: {} }; }";

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { platform, dispose } = await startBenchPlatform({ SKYWHISK_CONTAINER_FACTORY: 'process' });
  const headers = { authorization: `Basic ${Buffer.from(platform.auth).toString('base64')}`, 'content-type': 'application/json' };
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${platform.apiHost}/api/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const put = async (path: string, body: unknown) => {
    const response = await api('PUT', path, body);
    if (response.status !== 200) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
  };
  const time = async (label: string, once: () => Promise<void>) => {
    const samples: number[] = [];
    for (let i = 0; i < CALLS + WARMUP; i++) {
      const t = performance.now();
      await once();
      if (i >= WARMUP) samples.push(performance.now() - t);
    }
    console.log(formatRow(label, samples));
  };
  const invoke = (path: string, expectedLogs?: number) => async () => {
    const response = await api('POST', `namespaces/_/actions/${path}?blocking=true`, {});
    const record = (await response.json()) as { logs: string[] };
    if (response.status !== 200 || (expectedLogs !== undefined && record.logs.length !== expectedLogs)) throw new Error(`${path}: ${response.status} ${JSON.stringify(record)}`);
  };
  try {
    await put('namespaces/_/actions/noop', { exec: { kind: 'nodejs:22', code: NOOP }, annotations: [{ key: 'web-export', value: true }] });
    await put('namespaces/_/packages/tools', { parameters: [{ key: 'a', value: 1 }] });
    await put('namespaces/_/actions/tools/noop', { exec: { kind: 'nodejs:22', code: NOOP } });
    await put('namespaces/_/packages/bound', { binding: { namespace: 'guest', name: 'tools' } });
    await put('namespaces/_/actions/seq3', { exec: { kind: 'sequence', components: ['/guest/noop', '/guest/noop', '/guest/noop'] } });
    await put('namespaces/_/actions/cond3', { exec: { kind: 'nodejs:22', code: CONDUCTOR }, annotations: [{ key: 'conductor', value: true }] });
    await put('namespaces/_/triggers/t3', {});
    for (const rule of ['r1', 'r2', 'r3']) await put(`namespaces/_/rules/${rule}`, { trigger: '/guest/t3', action: '/guest/noop' });

    console.log(`Programming-model paths, ${CALLS} sequential calls each (after ${WARMUP} warm-up), process factory, node ${process.version}`);
    console.log(HEADER);
    await time('blocking invoke, no-op', invoke('noop'));
    await time('blocking invoke through a binding', invoke('bound/noop'));
    await time('sequence of 3 no-ops (4 records)', invoke('seq3', 3));
    await time('conductor, 3 components (8 records)', invoke('cond3', 7));
    await time('web action .json', async () => {
      const response = await fetch(`${platform.apiHost}/api/v1/web/guest/default/noop.json`);
      if (response.status !== 200) throw new Error(`web: ${response.status}`);
      await response.arrayBuffer();
    });
    await time('trigger fire, 3 rules, until 3 records', async () => {
      const fired = (await (await api('POST', 'namespaces/_/triggers/t3', {})).json()) as { activationId: string };
      const record = (await (await api('GET', `namespaces/_/activations/${fired.activationId}`)).json()) as { logs: string[] };
      const ids = record.logs.map((line) => (JSON.parse(line) as { activationId: string }).activationId);
      for (const id of ids) {
        while ((await api('GET', `namespaces/_/activations/${id}`)).status !== 200) await new Promise((r) => setTimeout(r, 1));
      }
    });
  } finally {
    await dispose();
  }
}

void main();
