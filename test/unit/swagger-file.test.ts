import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSwaggerFile } from '../../lib/cli/api-commands';

const dir = mkdtempSync(join(tmpdir(), 'swagger-file-'));
function fileWith(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const yamlApi = (extra: string) => `swagger: "2.0"
basePath: /club
info:
  title: club
  version: 1.0.0
paths: {}
${extra}`;

describe('wsk api create --config-file with YAML, read as wsk reads it', () => {
  test('a date and a time of day in the document stay the text the user wrote', () => {
    const doc = readSwaggerFile(fileWith('times.yaml', yamlApi('x-release: 2001-12-14\nx-window: 1:30\nx-opens: 12:30:00\n'))) as unknown as Record<string, unknown>;
    expect(doc['x-release']).toBe('2001-12-14');
    expect(doc['x-window']).toBe('1:30');
    expect(doc['x-opens']).toBe('12:30:00');
  });

  test('yes and off are YAML 1.1 booleans, as in wsk', () => {
    const doc = readSwaggerFile(fileWith('flags.yml', yamlApi('x-public: yes\nx-cached: off\n'))) as unknown as Record<string, unknown>;
    expect(doc['x-public']).toBe(true);
    expect(doc['x-cached']).toBe(false);
  });

  test('only the first document of a stream is the API', () => {
    const doc = readSwaggerFile(fileWith('two.yaml', `${yamlApi('')}---\nbasePath: /other\n`));
    expect(doc.basePath).toBe('/club');
  });
});
