// `npm run lint`, second half: lints the package as published. Packs it (cached by content, see
// tools/pack.mjs), then runs publint on the unpacked tarball and @arethetypeswrong/cli on the
// tarball itself with the ESM-only profile (CommonJS `require` is answered by esm-only.cjs on
// purpose). Exits non-zero when either reports an error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packTarball, ROOT } from './pack.mjs';

const { tarball } = await packTarball({ log: (line) => console.log(`[lint-package] ${line}`) });
const unpacked = mkdtempSync(join(tmpdir(), 'tokenward-publint-'));
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
let failed = false;
try {
  const tar = spawnSync('tar', ['xzf', tarball, '-C', unpacked], { stdio: 'inherit' });
  if (tar.status !== 0) throw new Error('cannot unpack the tarball');
  for (const [name, args] of [
    ['publint', [join(unpacked, 'package'), '--pack', 'false', '--strict']],
    ['attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped']],
  ]) {
    const result = spawnSync(bin(name), args, { stdio: 'inherit' });
    if (result.status !== 0) {
      console.error(`[lint-package] ${name} failed (exit ${result.status})`);
      failed = true;
    }
  }
} finally {
  rmSync(unpacked, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
