import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { alarmsPackage } from '../../lib/alarms/package';

describe('/whisk.system/alarms', () => {
  const pkg = alarmsPackage();

  test('is a published package with a description', () => {
    expect(pkg.package).toMatchObject({ name: 'alarms', publish: true });
    expect(pkg.package.annotations).toContainEqual({ key: 'description', value: 'Alarms and periodic utility' });
    // The shape installSystemPackage takes, too.
    expect(pkg).toMatchObject({ name: 'alarms', annotations: pkg.package.annotations, parameters: [] });
  });

  test('has the three feeds, annotated feed: true, with their required parameters', () => {
    expect(pkg.actions.map((a) => a.name)).toEqual(['alarm', 'interval', 'once']);
    const required = Object.fromEntries(
      pkg.actions.map((a) => {
        const parameters = a.annotations.find((x) => x.key === 'parameters')?.value as Array<{ name: string; required: boolean }>;
        return [a.name, parameters.filter((p) => p.required).map((p) => p.name)];
      }),
    );
    expect(required).toEqual({ alarm: ['cron'], interval: ['minutes'], once: ['date'] });
    for (const action of pkg.actions) {
      expect(action.annotations).toContainEqual({ key: 'feed', value: true });
      expect(action.annotations.some((a) => a.key === 'description' && typeof a.value === 'string')).toBe(true);
      expect(action.exec.kind).toBe('nodejs:22');
    }
  });

  test('the action code is feed-action.js and loads as a CommonJS action with a main', () => {
    const code = pkg.actions[0].exec.code;
    expect(code).toBe(readFileSync(join(__dirname, '../../lib/alarms/feed-action.js'), 'utf8'));
    // As the Node.js runtime loads plain code: compiled as a module.
    const mod = new Module('action.js') as Module & { _compile(code: string, filename: string): void };
    mod._compile(code, 'action.js');
    expect(typeof (mod.exports as { main?: unknown }).main).toBe('function');
  });
});
