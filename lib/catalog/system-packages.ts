import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { defaultActionLimits } from '../model/limits';
import type { KeyValue, Parameter, StoredAction } from '../model/entity';
import type { PackageDoc } from '../model/packages';
import { newRevision, type EntitiesRepository } from '../store/entities';

/** The namespace of the packages the platform ships, as in OpenWhisk. */
export const SYSTEM_NAMESPACE = 'whisk.system';

export interface SystemPackage {
  name: string;
  annotations: KeyValue[];
  parameters: Parameter[];
  actions: Array<{ name: string; exec: { kind: string; code: string }; annotations: KeyValue[]; parameters: Parameter[] }>;
}

/** Writes `doc` unless the stored one already has the same content (so restarts keep versions). */
async function upsert<T extends { version: string; updated: number }>(
  entities: EntitiesRepository,
  type: 'packages' | 'actions',
  key: string,
  doc: T,
): Promise<void> {
  const stored = await entities.get<T>(SYSTEM_NAMESPACE, type, key);
  const comparable = (d: T) => ({ ...d, version: '', updated: 0 });
  if (stored && isDeepStrictEqual(comparable(stored.doc), comparable(doc))) return;
  const updated = Date.now();
  await entities.put(SYSTEM_NAMESPACE, type, key, { ...doc, updated }, newRevision(), updated, stored?.revision);
}

/**
 * Installs (or brings up to date) a published package of `whisk.system` and its actions. Every
 * namespace may read and invoke them, as OpenWhisk's system packages.
 */
export async function installSystemPackage(entities: EntitiesRepository, pkg: SystemPackage): Promise<void> {
  const packageDoc: PackageDoc = {
    namespace: SYSTEM_NAMESPACE,
    name: pkg.name,
    version: '0.0.1',
    publish: true,
    annotations: pkg.annotations,
    parameters: pkg.parameters,
    binding: {},
    updated: 0,
  };
  await upsert(entities, 'packages', pkg.name, packageDoc);
  for (const action of pkg.actions) {
    const doc: Omit<StoredAction, 'revision'> = {
      namespace: `${SYSTEM_NAMESPACE}/${pkg.name}`,
      name: action.name,
      version: '0.0.1',
      publish: false,
      exec: { kind: action.exec.kind, code: action.exec.code, binary: false },
      annotations: [...action.annotations.filter((a) => a.key !== 'exec'), { key: 'exec', value: action.exec.kind }],
      parameters: action.parameters,
      limits: defaultActionLimits(),
      updated: 0,
    };
    await upsert(entities, 'actions', `${pkg.name}/${action.name}`, doc);
  }
}

/**
 * A digest of the system packages' contents (code, parameters, annotations): the bootstrap custom
 * resource carries it, so a deploy that changes a package updates the resource, which reinstalls them.
 */
export function systemPackagesDigest(packages: readonly SystemPackage[]): string {
  return createHash('sha256').update(JSON.stringify(packages)).digest('hex');
}
