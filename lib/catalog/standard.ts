import type { KeyValue } from '../model/entity';
import type { SystemPackage } from './system-packages';

/**
 * OpenWhisk's standard catalog: `/whisk.system/utils` and `/whisk.system/samples`, the actions its
 * docs, its clients' test suites and many tutorials build sequences and rules on. Same names,
 * parameters and results as openwhisk-catalog's; the code is Skywhisk's own. Left out: the
 * samples that call the platform back through the `openwhisk` npm module (countdown,
 * helloPromises, wordCountBinary), which action images here do not carry.
 */

const KIND = 'nodejs:22';

interface ParameterDoc {
  name: string;
  required: boolean;
  description?: string;
  type?: string;
}

function action(name: string, description: string, parameters: ParameterDoc[], code: string): SystemPackage['actions'][number] {
  const annotations: KeyValue[] = [
    { key: 'description', value: description },
    { key: 'parameters', value: parameters },
  ];
  return { name, exec: { kind: KIND, code }, annotations, parameters: [] };
}

const LINES: ParameterDoc = { name: 'lines', required: true, type: 'array', description: 'An array of strings or numbers' };

export function utilsPackage(): SystemPackage {
  return {
    name: 'utils',
    annotations: [{ key: 'description', value: 'Building blocks that format and assemble data' }],
    parameters: [],
    actions: [
      action('echo', 'Returns the input', [{ name: 'payload', required: false, description: 'Any JSON entity' }], 'function main(params) {\n  return params || {};\n}\n'),
      action(
        'cat',
        'Concatenates input into a string',
        [LINES],
        "function main(params) {\n  const lines = params.lines || [];\n  return { lines, payload: lines.join('\\n') };\n}\n",
      ),
      action('sort', 'Sorts an array', [LINES], 'function main(params) {\n  const lines = params.lines || [];\n  lines.sort();\n  return { lines, length: lines.length };\n}\n'),
      action(
        'head',
        'Extract prefix of an array',
        [LINES, { name: 'num', required: false, type: 'integer', description: 'The length of the prefix (default 1)' }],
        'function main(params) {\n  const lines = params.lines || [];\n  const num = params.num || 1;\n  return { lines: lines.slice(0, num), num };\n}\n',
      ),
      action('date', 'Current date and time', [], 'function main() {\n  return { date: new Date() };\n}\n'),
      action('namespace', 'Returns namespace for the authorization key used to invoke this action', [], 'function main() {\n  return { namespace: process.env.__OW_NAMESPACE };\n}\n'),
      action(
        'split',
        'Split a string into an array',
        [
          { name: 'payload', required: true, type: 'string', description: 'A string' },
          { name: 'separator', required: false, type: 'string', description: 'The character, or regular expression, to split on (default: line breaks)' },
        ],
        'function main(params) {\n  const lines = String(params.payload).split(params.separator || /\\r?\\n/);\n  return { lines, payload: params.payload };\n}\n',
      ),
      action(
        'smash',
        'Nests all properties under given property',
        [{ name: '$fieldName', required: true, type: 'string', description: 'Name of property to nest object under' }],
        "function main(params) {\n  const field = params.$fieldName;\n  if (typeof field !== 'string') return { error: \"Expected an argument '$fieldName' of type 'string'.\" };\n  const rest = { ...params };\n  delete rest.$fieldName;\n  return { [field]: rest };\n}\n",
      ),
      action(
        'hosturl',
        'Returns the URL to activation an action or trigger',
        [
          { name: 'web', required: false, type: 'boolean', description: 'True for a web action URL' },
          { name: 'ext', required: false, type: 'string', description: 'A web action extension: .html, .http, .json, .svg or .text' },
          { name: 'trigger', required: false, type: 'boolean', description: 'True for a trigger URL' },
          { name: 'path', required: false, type: 'string', description: 'The action or trigger, as [package/]name' },
        ],
        HOSTURL,
      ),
    ],
  };
}

const HOSTURL = `function main(args) {
  const host = process.env.__OW_API_HOST;
  const ns = process.env.__OW_NAMESPACE;
  const web = args.web === true;
  if (web && args.trigger) return { error: 'triggers are not allowed for web actions.' };
  if (web && args.ext && !['.html', '.http', '.json', '.svg', '.text'].includes(args.ext)) {
    return { error: 'extension for web action must be one of [".html", ".http", ".json", ".svg", ".text"].' };
  }
  if (!web && args.trigger && String(args.path || '').includes('/')) return { error: 'triggers are not allowed in packages.' };
  const base = web ? host + '/api/v1/web/' + ns : host + '/api/v1/namespaces/' + ns + '/' + (args.trigger === true ? 'triggers' : 'actions');
  if (!args.path) return { url: base };
  const path = web && !args.path.includes('/') ? 'default/' + args.path : args.path;
  return { url: base + '/' + path + (web ? args.ext || '' : '') };
}
`;

const CURL = `async function main(params) {
  const target = String(params.payload || '');
  console.log('Curl to ' + target);
  const url = /^[a-z][a-z0-9+.-]*:\\/\\//i.test(target) ? target : 'http://' + target;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const text = await response.text();
    console.log(text);
    return { msg: text };
  } catch (error) {
    const message = 'curl: ' + (error && error.cause ? error.cause.message || error.cause.code : error.message);
    console.log(message);
    return { msg: message };
  }
}
`;

export function samplesPackage(): SystemPackage {
  return {
    name: 'samples',
    annotations: [{ key: 'description', value: 'A suite of simple actions to help you get started with OpenWhisk' }],
    parameters: [],
    actions: [
      action(
        'helloWorld',
        'Demonstrates logging facilities',
        [{ name: 'payload', required: false, description: 'The string to be included in the log record' }],
        "function main(params) {\n  console.log('hello', params.payload + '!');\n}\n",
      ),
      action(
        'greeting',
        'Returns a friendly greeting',
        [
          { name: 'name', required: false },
          { name: 'place', required: false, description: 'The string to be included in the return value' },
        ],
        "function main(params) {\n  const name = params.name || params.payload || 'stranger';\n  const place = params.place || 'somewhere';\n  return { payload: 'Hello, ' + name + ' from ' + place + '!' };\n}\n",
      ),
      action(
        'wordCount',
        'Count words in a string',
        [{ name: 'payload', required: true, description: 'A string' }],
        "function main(params) {\n  const text = String(params.payload);\n  const count = text.split(' ').length;\n  console.log(\"The message '\" + text + \"' has\", count, 'words');\n  return { count };\n}\n",
      ),
      action('curl', 'Curl a host url', [{ name: 'payload', required: true, description: 'A host url' }], CURL),
    ],
  };
}

/** Every package of the standard catalog, installed with the alarms feed at each start. */
export function standardCatalog(): SystemPackage[] {
  return [utilsPackage(), samplesPackage()];
}
