import { resolveDispatchUrl } from '../../lib/invoker/dispatch-address';

// Where controllers reach an invoker's dispatch server: the URL it announces in the registry.
// The ECS task metadata and EC2 instance metadata services are played by a fake fetch.

type Answer = { status?: number; json?: unknown; text?: string };

function fakeFetch(answers: Record<string, Answer>): { fetchImpl: typeof fetch; asked: Array<{ url: string; method: string; headers: Record<string, string> }> } {
  const asked: Array<{ url: string; method: string; headers: Record<string, string> }> = [];
  const fetchImpl = (async (url: string | URL, init?: RequestInit) => {
    asked.push({ url: String(url), method: init?.method ?? 'GET', headers: (init?.headers ?? {}) as Record<string, string> });
    const answer = answers[String(url)];
    if (!answer) return new Response('not found', { status: 404 });
    return new Response(answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? ''), { status: answer.status ?? 200 });
  }) as typeof fetch;
  return { fetchImpl, asked };
}

const listen = { host: '0.0.0.0', port: 8081 };
const METADATA = 'http://169.254.170.2/v4/container-1';

test.each([
  ['a URL set explicitly wins', { SKYWHISK_DISPATCH_URL: 'http://invoker.internal:9000' }, {}, 'http://invoker.internal:9000'],
  ['off ECS (npm start): the host it listens on', {}, {}, 'http://0.0.0.0:8081'],
  [
    'a Fargate task (awsvpc): its own private address from the task metadata',
    { ECS_CONTAINER_METADATA_URI_V4: METADATA },
    { [METADATA]: { json: { Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.1.23'] }] } } },
    'http://10.0.1.23:8081',
  ],
  [
    'an ec2 task on the host network: the instance’s private address, with an IMDSv2 token',
    { ECS_CONTAINER_METADATA_URI_V4: METADATA },
    {
      [METADATA]: { json: { Networks: [{ NetworkMode: 'host' }] } },
      'http://169.254.169.254/latest/api/token': { text: 'token-1' },
      'http://169.254.169.254/latest/meta-data/local-ipv4': { text: '10.0.0.7\n' },
    },
    'http://10.0.0.7:8081',
  ],
])('%s', async (_name, env, answers, expected) => {
  const { fetchImpl } = fakeFetch(answers as Record<string, Answer>);
  expect(await resolveDispatchUrl(env as NodeJS.ProcessEnv, listen, fetchImpl)).toBe(expected);
});

test('the instance address is asked with the session token IMDSv2 requires', async () => {
  const { fetchImpl, asked } = fakeFetch({
    [METADATA]: { json: { Networks: [{ NetworkMode: 'host' }] } },
    'http://169.254.169.254/latest/api/token': { text: 'token-1' },
    'http://169.254.169.254/latest/meta-data/local-ipv4': { text: '10.0.0.7' },
  });
  await resolveDispatchUrl({ ECS_CONTAINER_METADATA_URI_V4: METADATA }, listen, fetchImpl);
  expect(asked[1]).toMatchObject({ method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
  expect(asked[2].headers).toEqual({ 'x-aws-ec2-metadata-token': 'token-1' });
});

test.each([
  ['the task metadata fails', { [METADATA]: { status: 500 } }],
  ['the instance gives no address', { [METADATA]: { json: {} }, 'http://169.254.169.254/latest/api/token': { text: 't' }, 'http://169.254.169.254/latest/meta-data/local-ipv4': { text: 'not an address' } }],
])('no address to announce when %s: the invoker does not start half-reachable', async (_name, answers) => {
  const { fetchImpl } = fakeFetch(answers as Record<string, Answer>);
  await expect(resolveDispatchUrl({ ECS_CONTAINER_METADATA_URI_V4: METADATA }, listen, fetchImpl)).rejects.toThrow();
});
