import { readFileSync } from 'node:fs';

/**
 * The top entries of a V8 CPU profile (`node --cpu-prof`, or SKYWHISK_CPU_PROF_DIR for the
 * platform's processes): self time by function and by package, in percent of the samples.
 *   node --import tsx bench/profile-top.ts <file.cpuprofile> [entries=25]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.startsWith('node:')) return url;
  if (url.includes('/lib/')) return `skywhisk ${url.slice(url.lastIndexOf('/lib/') + 1)}`;
  return url || '(native)';
}

function main(): void {
  const [file, entries = '25'] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const total = profile.samples.length;
  const selfByFunction = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + 1);
    const pkg = packageOf(url);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + 1);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  console.log(`${file}: ${total} samples`);
  console.log('by package:');
  console.log(top(selfByPackage, 15).join('\n'));
  console.log('by function:');
  console.log(top(selfByFunction, Number(entries)).join('\n'));
}

main();
