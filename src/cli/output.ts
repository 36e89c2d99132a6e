/** Where a command writes: results to `out`, warnings and errors to `err`. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
  /**
   * Progress of long work ("checked 400 users…"); the CLI writes it to stderr only when stderr
   * is a terminal, so pipes and `--json` output stay clean. Absent: no progress.
   */
  progress?(line: string): void;
  /**
   * Asks a question and resolves the answer (a line from standard input; '' at end of input).
   * Absent: nobody can answer, so a command that needs a confirmation does nothing.
   */
  ask?(question: string): Promise<string>;
}

/** An epoch-ms time as ISO 8601 without milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A duration in ms as `1h 5m 3s`. */
export function humanDuration(ms: number): string {
  let seconds = Math.max(0, Math.ceil(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join(' ');
}

/**
 * Prints rows as aligned columns under a header (two spaces between columns).
 *
 * @example
 * ```ts
 * printTable(io, ['ID', 'EMAIL'], [['u1', 'ada@example.com']]);
 * ```
 */
export function printTable(io: CliOutput, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows])
    io.out(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
}
