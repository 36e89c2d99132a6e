import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.js';

let cache: Set<string> | undefined;

/** The bundled list of common/breached passwords (data/common-passwords.txt), read once. */
export function loadCommonPasswords(): Set<string> {
  if (!cache) {
    // src/features/password/ in development, dist/src/features/password/ when built: the list sits in the package's data/.
    const candidates = ['../../../data/common-passwords.txt', '../../../../data/common-passwords.txt'].map((p) =>
      fileURLToPath(new URL(p, import.meta.url)),
    );
    const file = candidates.find((p) => existsSync(p));
    if (!file) throw new ConfigError('data/common-passwords.txt is missing from the package');
    cache = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
  }
  return cache;
}
