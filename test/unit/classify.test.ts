import { classifyRun } from '../../lib/invoker/execute';

const answer = (statusCode: number, body: unknown) => ({
  statusCode,
  body,
  text: body === undefined ? 'not json' : JSON.stringify(body),
});

test.each([
  ['a JSON object', answer(200, { ok: true }), 'success', true],
  ['a JSON array', answer(200, [1, 2]), 'success', true],
  ['an object with error', answer(200, { error: 'nope' }), 'application error', true],
  ['a non-200 answer', answer(502, { error: 'thrown' }), 'action developer error', false],
  ['a body that is not JSON', answer(200, undefined), 'action developer error', false],
  ['a JSON string', answer(200, 'just text'), 'action developer error', false],
])('%s is %s (container kept: %s)', (_title, response, status, keep) => {
  const classified = classifyRun(response);
  expect(classified.response.status).toBe(status);
  expect(classified.keepContainer).toBe(keep);
});

test('a result over 1 MB is an application error naming the size', () => {
  const big = { data: 'x'.repeat(1024 * 1024) };
  const classified = classifyRun(answer(200, big));
  expect(classified.response.status).toBe('application error');
  expect(classified.response.result).toEqual({ error: expect.stringMatching(/exceeded the allowed length: \d+ > 1048576 bytes/) });
});
