/** Percentile of sorted samples (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(samples: number[]): { p50: number; p90: number; p99: number; max: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

export function formatRow(label: string, samples: number[]): string {
  const s = summarize(samples);
  const f = (n: number) => n.toFixed(2).padStart(8);
  return `${label.padEnd(44)}${f(s.p50)}${f(s.p90)}${f(s.p99)}${f(s.max)}${f(s.mean)}`;
}

export const HEADER = `${'ms'.padEnd(44)}${'p50'.padStart(8)}${'p90'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'mean'.padStart(8)}`;
