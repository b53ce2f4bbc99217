import { manifestStemCells } from '../lib/invoker/stem-cell-settings';
import { runtimeKindsOf } from '../lib/model/runtimes';
import { compactRuntimesManifest } from '../lib/model/runtimes-manifest';

/**
 * A runtimes manifest as the stack hands it to the functions and tasks: compact JSON, checked
 * whole, stem cells included (invokers read those only at start, where a bad one would stop every
 * task). Throws one error naming `source`.
 */
export function checkedRuntimesManifest(text: string, source: string): string {
  const compact = compactRuntimesManifest(text, source);
  manifestStemCells(runtimeKindsOf(compact, source));
  return compact;
}
