import { configFromEnv } from '../../lib/config';
import type { ActivationRecord } from '../../lib/model/activation';
import { newActivationId } from '../../lib/model/activation-id';
import { ActivationsRepository, type ClaimedActivation } from '../../lib/store/activations';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// Claims against the embedded DynamoDB endpoint: a claim a controller writes in an invoker's name
// when a direct dispatch's answer is lost, how that invoker takes it over, and why a record of
// abandonment made from a claim read earlier cannot land over a claim taken over since.

let endpoint: EmbeddedEndpoint;
let activations: ActivationsRepository;
const about: ClaimedActivation = { subject: 'claims', action: { namespace: 'claims', path: 'a', revision: '1' }, transactionId: 't', acceptedAt: Date.now(), admitted: true };

function recordOf(activationId: string, status: 'success' | 'whisk internal error'): ActivationRecord {
  return {
    activationId, namespace: 'claims', name: 'a', version: '0.0.1', subject: 'claims', publish: false, start: Date.now(), end: Date.now(), duration: 0,
    response: { status, statusCode: status === 'success' ? 0 : 3, success: status === 'success', result: {} }, logs: [], annotations: [],
  } as ActivationRecord;
}

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('CLAIMSTEST');
  activations = new ActivationsRepository(endpoint.clients.dynamo, configFromEnv({}).tables.activations, 1);
}, 60_000);

afterAll(() => endpoint?.stop());

test('an invoker takes over a claim written in its name, but not one of another holder, nor a recorded activation', async () => {
  const mine = newActivationId();
  expect(await activations.claimOnBehalf('claims', mine, 'invoker-a/1', about)).toBe(true);
  expect(await activations.claimUnlessRecorded('claims', mine, 'invoker-a/1', about)).toBe(true);
  const theirs = newActivationId();
  await activations.claimOnBehalf('claims', theirs, 'invoker-b/1', about);
  expect(await activations.claimUnlessRecorded('claims', theirs, 'invoker-a/1', about)).toBe(false);
  const recorded = newActivationId();
  await activations.complete(recordOf(recorded, 'success'), 'a');
  expect(await activations.claimUnlessRecorded('claims', recorded, 'invoker-a/1', about)).toBe(false);
  // A claim written for a holder is marked so, for the sweeps.
  expect((await activations.claimsHeldBy('invoker-b/1')).find((c) => c.activationId === theirs)?.onBehalf).toBe(true);
});

test('a record of abandonment made from a claim read earlier does not land once the holder took the claim over', async () => {
  const id = newActivationId();
  await activations.claimOnBehalf('claims', id, 'invoker-c/1', about);
  const [seen] = (await activations.claimsHeldBy('invoker-c/1')).filter((c) => c.activationId === id);
  // The holder wakes from a stall and takes its claim over before the sweep's write lands.
  expect(await activations.claimUnlessRecorded('claims', id, 'invoker-c/1', about)).toBe(true);
  expect(await activations.complete(recordOf(id, 'whisk internal error'), 'a', seen.claimToken)).toBe(false);
  expect(await activations.complete(recordOf(id, 'success'), 'a')).toBe(true);
  expect((await activations.get('claims', id))?.response.status).toBe('success');
  // Over the very claim it read, it lands.
  const other = newActivationId();
  await activations.claimOnBehalf('claims', other, 'invoker-c/1', about);
  const [current] = (await activations.claimsHeldBy('invoker-c/1')).filter((c) => c.activationId === other);
  expect(await activations.complete(recordOf(other, 'whisk internal error'), 'a', current.claimToken)).toBe(true);
});
