import { ContainerGoneError } from '../../lib/invoker/container';
import { ProcessContainerFactory } from '../../lib/invoker/process-factory';

// A runtime that cannot even be started fails its activation at once and is cleaned up, instead
// of holding the invoker until the time limit (or forever, on stop).
test('a runtime process that cannot be spawned fails init at once and destroys cleanly', async () => {
  const factory = new ProcessContainerFactory({ sandbox: true, bwrapPath: '/nonexistent/bwrap' });
  try {
    const container = await factory.create({ kind: 'nodejs:20', memoryMb: 256, env: {}, name: 'unspawnable' });
    await expect(container.init({ value: { code: 'function main() { return {}; }' } }, 30_000)).rejects.toBeInstanceOf(ContainerGoneError);
    await container.destroy();
  } finally {
    factory.dispose();
  }
});
