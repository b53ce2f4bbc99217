import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activeRuntimes, imageForKind, resolveKind, runtimeForKind, runtimesDocument, supportedKinds } from '../../lib/model/runtimes';
import { parseStemCells, runnableStemCells } from '../../lib/invoker/stem-cell-settings';

// A deployment brings its OpenWhisk runtimes.json (SKYWHISK_RUNTIMES, a file or the JSON itself):
// its kinds replace the built-in ones, and an image that is not ours runs as OpenWhisk's do.

/** A manifest in OpenWhisk's format, as ansible/files/runtimes.json writes one. */
const OPENWHISK_STYLE = {
  description: ['This file describes the different languages (aka. managed action runtimes) supported by the system'],
  runtimes: {
    nodejs: [
      {
        kind: 'nodejs:22',
        default: true,
        image: { prefix: 'skywhisk', name: 'action-nodejs-v22', tag: 'latest' },
        deprecated: false,
        attached: { attachmentName: 'codefile', attachmentType: 'text/plain' },
        stemCells: [{ initialCount: 1, memory: '256 MB', reactive: { minCount: 1, maxCount: 2, ttl: '2 minutes', threshold: 1, increment: 1 } }],
      },
      { kind: 'nodejs:18', default: false, deprecated: true, image: { prefix: 'openwhisk', name: 'action-nodejs-v18', tag: 'nightly' } },
    ],
    go: [{ kind: 'go:1.22', default: true, deprecated: false, image: { registry: 'registry.example:5000', prefix: 'openwhisk', name: 'action-golang-v1.22' }, attached: { attachmentName: 'codefile', attachmentType: 'text/plain' } }],
    java: [{ kind: 'java:8', default: true, deprecated: false, requireMain: true, image: { prefix: 'openwhisk', name: 'java8action', tag: 'nightly' }, stemCells: [] }],
  },
  blackboxes: [{ prefix: 'openwhisk', name: 'dockerskeleton', tag: 'nightly' }],
};

const dir = mkdtempSync(join(tmpdir(), 'runtimes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = process.env.SKYWHISK_RUNTIMES;
afterEach(() => {
  if (saved === undefined) delete process.env.SKYWHISK_RUNTIMES;
  else process.env.SKYWHISK_RUNTIMES = saved;
});

test('without a manifest the kinds are the built-in ones', () => {
  delete process.env.SKYWHISK_RUNTIMES;
  expect(supportedKinds()).toEqual(['nodejs:22', 'nodejs:20', 'python:3.11']);
  expect(resolveKind('nodejs:default')?.kind).toBe('nodejs:22');
});

test.each([
  ['given inline', () => JSON.stringify(OPENWHISK_STYLE)],
  [
    'given as a file',
    () => {
      writeFileSync(join(dir, 'runtimes.json'), JSON.stringify(OPENWHISK_STYLE, null, 2));
      return join(dir, 'runtimes.json');
    },
  ],
])("OpenWhisk's runtimes.json %s: its kinds, defaults and images are this platform's", (_how, setting) => {
  process.env.SKYWHISK_RUNTIMES = setting();
  expect(supportedKinds()).toEqual(['nodejs:22', 'nodejs:18', 'go:1.22', 'java:8']);
  expect(resolveKind('python:3.11')).toBeUndefined();
  expect(resolveKind('go:default')?.kind).toBe('go:1.22');
  expect(resolveKind('nodejs:18')?.deprecated).toBe(true);
  // Our image (any tag) runs as ours; others speak OpenWhisk's protocol on 8080, tagged latest when no tag is given.
  expect(runtimeForKind('nodejs:default')).toEqual({ image: 'skywhisk/action-nodejs-v22', ownRuntime: true });
  expect(runtimeForKind('go:1.22')).toEqual({ image: 'registry.example:5000/openwhisk/action-golang-v1.22:latest', ownRuntime: false });
  expect(imageForKind('java:8')).toBe('openwhisk/java8action:nightly');
  // GET / lists what the manifest gives
  expect(runtimesDocument()).toEqual({
    nodejs: [
      { kind: 'nodejs:22', image: 'skywhisk/action-nodejs-v22', default: true, deprecated: false, attached: true, requireMain: false },
      { kind: 'nodejs:18', image: 'openwhisk/action-nodejs-v18:nightly', default: false, deprecated: true, attached: true, requireMain: false },
    ],
    go: [{ kind: 'go:1.22', image: 'registry.example:5000/openwhisk/action-golang-v1.22:latest', default: true, deprecated: false, attached: true, requireMain: false }],
    java: [{ kind: 'java:8', image: 'openwhisk/java8action:nightly', default: true, deprecated: false, attached: true, requireMain: true }],
  });
  // The stem cells are the manifest's, unless SKYWHISK_STEM_CELLS says otherwise
  expect(parseStemCells(undefined)).toEqual([{ kind: 'nodejs:22', memoryMb: 256, initialCount: 1, reactive: { minCount: 1, maxCount: 2, ttlMs: 120_000, threshold: 1, increment: 1 } }]);
  expect(parseStemCells('go:1.22:256:1')).toEqual([{ kind: 'go:1.22', memoryMb: 256, initialCount: 1 }]);
  // Processes run only our runtimes: there, stem cells of the other images are left out
  const cells = parseStemCells('nodejs:22:256:1,go:1.22:256:1');
  expect(runnableStemCells(cells, 'docker').map((c) => c.kind)).toEqual(['nodejs:22', 'go:1.22']);
  expect(runnableStemCells(cells, 'process').map((c) => c.kind)).toEqual(['nodejs:22']);
  expect(() => parseStemCells('python:3.11:256:1')).toThrow(/'python:3.11' is not a runtime kind \(known: nodejs:22, nodejs:18, go:1.22, java:8\)/);
});

const manifestWith = (runtimes: unknown) => JSON.stringify({ runtimes });
const NODE_IMAGE = { prefix: 'skywhisk', name: 'action-nodejs-v22' };

test.each([
  ['text that is not JSON', '{ nope', /SKYWHISK_RUNTIMES is not JSON/],
  ['no runtimes object', '{"kinds": []}', /runtimes: .*expected record/i],
  ['a family with no kinds', manifestWith({ nodejs: [] }), /runtimes\.nodejs: at least one kind/],
  ['two defaults in one family', manifestWith({ nodejs: [{ kind: 'nodejs:22', default: true, image: NODE_IMAGE }, { kind: 'nodejs:20', default: true, image: NODE_IMAGE }] }), /runtimes\.nodejs: more than one default kind/],
  ['a kind of another family', manifestWith({ nodejs: [{ kind: 'python:3.11', image: NODE_IMAGE }] }), /'python:3.11' is not of family 'nodejs'/],
  ['a kind listed twice', manifestWith({ nodejs: [{ kind: 'nodejs:22', image: NODE_IMAGE }, { kind: 'nodejs:22', image: NODE_IMAGE }] }), /'nodejs:22' is listed twice/],
  ['a kind named default', manifestWith({ nodejs: [{ kind: 'nodejs:default', image: NODE_IMAGE }] }), /'default' names a family's default/],
  ['a kind without a version', manifestWith({ nodejs: [{ kind: 'nodejs', image: NODE_IMAGE }] }), /kind: a kind such as nodejs:20/],
  ['an image without a name', manifestWith({ nodejs: [{ kind: 'nodejs:22', image: { prefix: 'openwhisk' } }] }), /image\.name/],
  ['an image name with shell characters', manifestWith({ nodejs: [{ kind: 'nodejs:22', image: { name: 'x; rm -rf /' } }] }), /image\.name: a lowercase image name/],
  ['a blackbox family', manifestWith({ blackbox: [{ kind: 'blackbox:1', image: NODE_IMAGE }] }), /'blackbox' is a built-in kind/],
  ['bad stem cells', manifestWith({ nodejs: [{ kind: 'nodejs:22', image: NODE_IMAGE, stemCells: [{ initialCount: 1, memory: 'lots' }] }] }), /stemCells: 0\.memory: 'lots' is not a memory size/],
])('a manifest with %s is refused, naming the setting and the problem', (_title, text, error) => {
  process.env.SKYWHISK_RUNTIMES = text;
  expect(() => {
    activeRuntimes();
    parseStemCells(undefined);
  }).toThrow(error);
});

test("OpenWhisk's readings: a family's only kind is its default, empty image fields are absent, a registry may end in a slash, stem cells may say count", () => {
  process.env.SKYWHISK_RUNTIMES = JSON.stringify({
    runtimes: {
      go: [{ kind: 'go:1.22', image: { registry: 'ghcr.io/', prefix: 'openwhisk', name: 'action-golang-v1.22', tag: '' }, stemCells: [{ count: 2, memory: '256 MB' }] }],
      php: [{ kind: 'php:8.1', image: { registry: '', prefix: '', name: 'action-php-v8.1', tag: 'nightly' } }, { kind: 'php:8.2', image: { name: 'action-php-v8.2' } }],
    },
  });
  expect(resolveKind('go:default')?.kind).toBe('go:1.22');
  expect(resolveKind('php:default')).toBeUndefined();
  expect(imageForKind('go:1.22')).toBe('ghcr.io/openwhisk/action-golang-v1.22:latest');
  expect(imageForKind('php:8.1')).toBe('action-php-v8.1:nightly');
  expect(parseStemCells(undefined)).toEqual([{ kind: 'go:1.22', memoryMb: 256, initialCount: 2 }]);
});

test('a kind of ours that the manifest leaves out still runs as ours (system packages, older actions)', () => {
  process.env.SKYWHISK_RUNTIMES = JSON.stringify({ runtimes: { go: [{ kind: 'go:1.22', image: { prefix: 'openwhisk', name: 'action-golang-v1.22' } }] } });
  expect(resolveKind('nodejs:22')).toBeUndefined();
  expect(runtimeForKind('nodejs:22')).toEqual({ image: 'skywhisk/action-nodejs-v22', ownRuntime: true });
});

test('a manifest file that cannot be read is named in the error', () => {
  process.env.SKYWHISK_RUNTIMES = '/nonexistent/runtimes.json';
  expect(() => supportedKinds()).toThrow(/SKYWHISK_RUNTIMES: cannot read the runtimes manifest '\/nonexistent\/runtimes.json'/);
});
