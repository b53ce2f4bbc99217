/** wsk-like human output, or raw JSON with `--json`. */
export interface Output {
  json: boolean;
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 4));
}

/** `ok: <what>` then the JSON, or the JSON alone for machines. */
export function report(out: Output, message: string, value?: unknown): void {
  if (out.json) {
    if (value !== undefined) printJson(value);
    return;
  }
  console.log(`ok: ${message}`);
  if (value !== undefined) printJson(value);
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 1))).join(' ')).join('\n');
}
