import { annotation, type KeyValue } from './context';

interface Described {
  namespace: string;
  name: string;
  annotations?: KeyValue[];
  parameters?: KeyValue[];
}

/**
 * The parameter names wsk shows in a summary: the bound ones and those the `parameters`
 * annotation documents, once each, sorted, the bound ones starred (`**` when the entity is
 * `final`).
 */
export function summaryParameters(entity: Described): string[] {
  const bound = (entity.parameters ?? []).map((p) => p.key);
  const documented = annotation(entity, 'parameters');
  const named = Array.isArray(documented) ? documented.map((p: { name?: unknown }) => p?.name).filter((n): n is string => typeof n === 'string') : [];
  const star = annotation(entity, 'final') === true ? '**' : '*';
  return [...new Set([...bound, ...named])].sort().map((name) => (bound.includes(name) ? `${star}${name}` : name));
}

/** wsk's description for an entity that has parameters but no `description` annotation. */
function describedByParameters(parameters: string[]): string {
  const names = parameters.map((p) => p.replace(/\*/g, ''));
  if (names.length === 1) return `Returns a result based on parameter ${names[0]}`;
  return `Returns a result based on parameters ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * `<label> /ns/name: description` and `   (parameters: ...)`, as `wsk <kind> get --summary` prints
 * them. `label` comes padded as wsk pads it (`' action'` inside a package summary).
 */
export function summaryLines(label: string, entity: Described): string[] {
  const parameters = summaryParameters(entity);
  const annotated = annotation(entity, 'description');
  const description = typeof annotated === 'string' && annotated !== '' ? annotated : parameters.length ? describedByParameters(parameters) : undefined;
  return [`${label} /${entity.namespace}/${entity.name}${description ? `: ${description}` : ''}`, `   (parameters: ${parameters.length ? parameters.join(', ') : 'none defined'})`];
}
