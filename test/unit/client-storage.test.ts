import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// DESIGN.md: the browser SDK never stores a token (or anything else) in web storage, IndexedDB
// or cookies. This scan is deliberately blunt: the words may not appear in src/client at all,
// not even in comments, so a reviewer never has to decide whether a use is "only a read".
// Reading `document.cookie` for the CSRF cookie is allowed; assigning to it is not.
const FORBIDDEN: [string, RegExp][] = [
  ['localStorage', /\blocalStorage\b/],
  ['sessionStorage', /\bsessionStorage\b/],
  ['indexedDB', /\bindexedDB\b/i],
  ['Cookie Store API', /\bcookieStore\b/],
  ['cookie assignment', /\.cookie\s*(\+|\|\||&&|\?\?)?=(?!=)/],
  ['cookie assignment by key', /\[\s*['"`]cookie['"`]\s*\]\s*=(?!=)/],
];

const clientDir = fileURLToPath(new URL('../../src/client', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : /\.[cm]?[jt]s$/.test(entry.name)
        ? [join(dir, entry.name)]
        : [],
  );
}

function violations(text: string): string[] {
  return FORBIDDEN.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}

describe('client › storage', () => {
  it('the scanner catches every forbidden write', () => {
    expect(violations('window.localStorage.setItem("t", token)')).toEqual(['localStorage']);
    expect(violations('sessionStorage.t = token')).toEqual(['sessionStorage']);
    expect(violations('const db = indexedDB.open("x")')).toEqual(['indexedDB']);
    expect(violations('await cookieStore.set("t", token)')).toEqual(['Cookie Store API']);
    expect(violations('document.cookie = "t=" + token')).toEqual(['cookie assignment']);
    expect(violations('doc.cookie+="t=1"')).toEqual(['cookie assignment']);
    expect(violations('document["cookie"] = "t=1"')).toEqual(['cookie assignment by key']);
    expect(violations('const csrf = readCsrfToken(document.cookie)')).toEqual([]);
    expect(violations('if (doc.cookie === "") {}')).toEqual([]);
  });

  it('src/client never writes to web storage, IndexedDB or cookies', () => {
    const files = sources(clientDir);
    expect(files.length).toBeGreaterThan(3);
    const found = files.flatMap((file) => violations(readFileSync(file, 'utf8')).map((v) => `${file}: ${v}`));
    expect(found).toEqual([]);
  });
});
