import type { Api } from './api';
import type { Output } from './output';
import type { KeyValuePairs } from './params';

/** What every command module gets from `runCli`: the API client, the output mode and the `-p`/`-a` pairs. */
export interface Context {
  api: () => Api;
  out: () => Output;
  pairs: KeyValuePairs;
}

export interface KeyValue {
  key: string;
  value: unknown;
}

export function annotation(entity: { annotations?: KeyValue[] }, key: string): unknown {
  return entity.annotations?.find((a) => a.key === key)?.value;
}

/** A `[{key, value}]` list as an object. */
export function fromList(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, value]));
}
