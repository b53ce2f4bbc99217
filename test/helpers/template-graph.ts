type Json = unknown;

/** The logical ids a resource refers to: Ref, Fn::GetAtt, ${...} in Fn::Sub, and DependsOn. */
function references(value: Json, ids: Set<string>, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) references(item, ids, found);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string' && ids.has(inner)) found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner) && ids.has(String(inner[0]))) found.add(String(inner[0]));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(inner) ? String(inner[0]) : String(inner);
        for (const match of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}/g)) if (ids.has(match[1])) found.add(match[1]);
        references(Array.isArray(inner) ? inner[1] : undefined, ids, found);
      } else references(inner, ids, found);
    }
  }
  return found;
}

/**
 * A dependency cycle among a CloudFormation template's resources (as logical ids, first repeated at
 * the end), or undefined. CloudFormation refuses such a template at deploy time; synth does not.
 */
export function findDependencyCycle(template: { Resources?: Record<string, { Properties?: Json; DependsOn?: string | string[] }> }): string[] | undefined {
  const resources = template.Resources ?? {};
  const ids = new Set(Object.keys(resources));
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(resources)) {
    const dependsOn = [resource.DependsOn ?? []].flat();
    edges.set(id, [...references(resource.Properties, ids), ...dependsOn.filter((d) => ids.has(d))]);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of ids) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** The resources that wait for `id` at deploy time: those that refer to it or depend on it, however indirectly. */
export function dependentsOf(template: { Resources?: Record<string, { Properties?: Json; DependsOn?: string | string[] }> }, id: string): string[] {
  const resources = template.Resources ?? {};
  const ids = new Set(Object.keys(resources));
  const direct = new Map<string, string[]>();
  for (const [resource, body] of Object.entries(resources)) direct.set(resource, [...references(body.Properties, ids), ...[body.DependsOn ?? []].flat()]);
  const waiting = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [resource, needs] of direct) {
      if (!waiting.has(resource) && needs.some((need) => need === id || waiting.has(need))) {
        waiting.add(resource);
        grew = true;
      }
    }
  }
  return [...waiting].sort();
}
