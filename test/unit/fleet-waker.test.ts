import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { EcsFleetWaker } from '../../lib/controller/fleet-waker';

// The controller's waker scales the invoker service from zero through the ECS API. ECS is AWS's
// control plane, so its client is mocked here; the bundled-handler test drives the same waker over
// HTTP against a stand-in ECS endpoint.

const ecs = mockClient(ECSClient);
const log = { info: jest.fn(), warn: jest.fn() };
let clock = 0;

function waker(): EcsFleetWaker {
  return new EcsFleetWaker(ecs as unknown as ECSClient, { cluster: 'invokers', service: 'invoker', recheckMs: 30_000, now: () => clock }, log as never);
}

function serviceAt(desiredCount: number): void {
  ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'invoker', desiredCount }] });
}

beforeEach(() => {
  ecs.reset();
  log.info.mockReset();
  log.warn.mockReset();
  clock = 1_000_000;
});

test('a service at zero tasks is set to one, once, however many enqueues arrive together', async () => {
  // GIVEN a service scaled to zero
  serviceAt(0);
  ecs.on(UpdateServiceCommand).resolves({});
  const fleet = waker();
  // WHEN ten activations are enqueued at once
  await Promise.all(Array.from({ length: 10 }, () => fleet.wake()));
  // THEN one look and one UpdateService to one task
  expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  expect(ecs.commandCalls(UpdateServiceCommand).map((call) => call.args[0].input)).toEqual([{ cluster: 'invokers', service: 'invoker', desiredCount: 1 }]);
});

test('a running service is left to autoscaling and not looked at again until the recheck interval passes', async () => {
  serviceAt(3);
  const fleet = waker();
  await fleet.wake();
  clock += 29_999;
  await fleet.wake();
  expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  clock += 2;
  await fleet.wake();
  expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(2);
  expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
});

test('a failing ECS call does not fail the enqueue, is logged, and is retried by the next enqueue', async () => {
  ecs.on(DescribeServicesCommand).rejectsOnce(new Error('ThrottlingException')).resolves({ services: [{ desiredCount: 0 }] });
  ecs.on(UpdateServiceCommand).resolves({});
  const fleet = waker();
  await expect(fleet.wake()).resolves.toBeUndefined();
  expect(log.warn).toHaveBeenCalledWith(expect.objectContaining({ service: 'invoker' }), 'could not wake the invoker service');
  await fleet.wake();
  expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
});

test('a service that does not exist is reported, not created', async () => {
  ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
  await waker().wake();
  expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  expect(log.warn).toHaveBeenCalledWith(expect.anything(), 'invoker service not found; cannot wake it');
});
