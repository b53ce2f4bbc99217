import { annotation, type KeyValue } from './context';

interface Described {
  namespace: string;
  name: string;
  annotations?: KeyValue[];
  parameters?: KeyValue[];
}

/**
 * The parameter names wsk shows in a summary: those the `parameters` annotation documents, else
 * the bound ones, starred.
 */
function parameterNames(entity: Described): string {
  const documented = annotation(entity, 'parameters');
  const names = Array.isArray(documented)
    ? documented.map((p: { name?: unknown }) => String(p?.name ?? ''))
    : (entity.parameters ?? []).map((p) => `*${p.key}`);
  return names.length ? names.join(', ') : 'none defined';
}

/** `<kind> /ns/name: description` and `(parameters: ...)`, as `wsk <kind> get --summary` prints. */
export function summaryLines(kind: string, entity: Described, indent = ''): string[] {
  const description = annotation(entity, 'description');
  return [
    `${indent}${kind} /${entity.namespace}/${entity.name}${typeof description === 'string' ? `: ${description}` : ''}`,
    `${indent}   (parameters: ${parameterNames(entity)})`,
  ];
}
