/**
 * `node tools/size.mjs`: the browser SDK stays within its 3 KB budget, and tokenward/react is
 * measured on its own line, outside that budget.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('tools/size.mjs', () => {
  it('passes the SDK budget and prints the React entry apart', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      fileURLToPath(new URL('../../tools/size.mjs', import.meta.url)),
    ]);
    const sdk = /^tokenward\/client: ([\d.]+) KB min\+gzip \(budget 3\.00 KB/m.exec(stdout);
    const react = /^tokenward\/react: ([\d.]+) KB min\+gzip including the SDK, react external/m.exec(stdout);
    expect(Number(sdk?.[1])).toBeLessThanOrEqual(3);
    expect(Number(react?.[1])).toBeGreaterThan(Number(sdk?.[1]));
  });
});
