// @simplewebauthn/server (and its ASN.1/X.509 dependencies) is imported at the first passkey
// request, not when a server with passkeys on starts: checked in a fresh Node process whose
// module resolution is watched by a loader hook.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@simplewebauthn/')) port.postMessage(specifier);
  return next(specifier, context);
}
`;

const SCRIPT = (hooks: string, dataDir: string) => `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on('message', (m) => seen.push(m));
port1.unref();
register(${JSON.stringify(`file://${hooks}`)}, { data: { port: port2 }, transferList: [port2] });
const { createTokenward } = await import(${JSON.stringify(`file://${join(ROOT, 'src/create-tokenward.ts')}`)});
const tw = await createTokenward({ publicOrigin: 'http://localhost:3000', dataDir: ${JSON.stringify(dataDir)}, logLevel: 'silent' });
const enabled = tw.config.passkeys.enabled;
await new Promise((r) => setTimeout(r, 100));
const atStart = seen.length;
const response = await tw.fetch(new Request('http://localhost:3000/auth/passkeys/login/options', {
  method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, body: '{}',
}), { ip: '203.0.113.9' });
await new Promise((r) => setTimeout(r, 100));
console.log(JSON.stringify({ enabled, atStart, status: response.status, afterUse: seen.length }));
await tw.close();
`;

it('a server with passkeys on does not import @simplewebauthn/server until the first passkey request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenward-lazy-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    const script = join(dir, 'probe.mjs');
    writeFileSync(hooks, HOOKS);
    writeFileSync(script, SCRIPT(hooks, join(dir, 'data')));
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(line)).toEqual({ enabled: true, atStart: 0, status: 200, afterUse: expect.any(Number) });
    expect((JSON.parse(line) as { afterUse: number }).afterUse).toBeGreaterThan(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
