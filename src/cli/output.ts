/** Lists as aligned plain-text tables for people, or JSON (`--json`) for scripts. */

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export function printJson(io: Output, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Prints rows under a header; `empty` when there are none. Cells never contain control characters. */
export function printTable(
  io: Output,
  header: readonly string[],
  rows: readonly (readonly string[])[],
  empty: string,
): void {
  if (rows.length === 0) {
    io.out(empty);
    return;
  }
  const clean = rows.map((r) => r.map(sanitise));
  const widths = header.map((h, i) => Math.max(h.length, ...clean.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  io.out(line(header));
  for (const r of clean) io.out(line(r));
}

/** ISO time to the second, or '-' for none. */
export function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Client-controlled text (client_name…) must not move the terminal cursor or forge lines. */
function sanitise(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
