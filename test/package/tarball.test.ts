/**
 * The tarball `npm pack` makes, as npm installs it: what it holds (built code, the CLI, the
 * password list, README, LICENSE — and no tests, sources, maps or secrets), that every entry
 * point loads in a fresh ESM app, that CommonJS gets one clear line, and that the `tokenward`
 * binary runs from it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ConsumerApp, consumerApp, runIn, workDir } from '../support/package.js';

let app: ConsumerApp;
beforeAll(async () => {
  app = await consumerApp();
}, 600_000);

type ExportTarget =
  | string
  | { import: { types: string; default: string }; require: { types: string; default: string } };

function installedManifest(): { version: string; exports: Record<string, ExportTarget>; bin: Record<string, string> } {
  return JSON.parse(readFileSync(join(app.dir, 'node_modules/tokenward/package.json'), 'utf8'));
}

describe('package › tarball contents', () => {
  it('holds dist/, bin/, data/, the ESM-only stub, README, LICENSE and package.json — nothing else', () => {
    const files = app.info.files.map((f) => f.path);
    console.log(
      `[package] ${app.info.filename}: ${files.length} files, ${(app.info.size / 1000).toFixed(0)} kB packed, ${(app.info.unpackedSize / 1000).toFixed(0)} kB unpacked`,
    );
    const outside = files.filter(
      (f) =>
        !/^(dist|bin|data)\//.test(f) &&
        !['package.json', 'README.md', 'LICENSE', 'esm-only.cjs', 'esm-only.d.cts'].includes(f),
    );
    expect(outside).toEqual([]);
    for (const required of [
      'LICENSE',
      'README.md',
      'bin/tokenward.js',
      'data/common-passwords.txt',
      'dist/src/index.js',
      'dist/src/cli/main.js',
    ])
      expect(files).toContain(required);
  });

  it('ships no tests, TypeScript sources, source maps, demo, env files or keys', () => {
    const files = app.info.files.map((f) => f.path);
    const forbidden = files.filter(
      (f) =>
        /(^|\/)(test|tests|__tests__|demo|bench|examples)\//.test(f) ||
        /\.test\.|\.spec\./.test(f) ||
        (/\.(ts|tsx|mts)$/.test(f) && !/\.d\.(ts|mts)$/.test(f)) ||
        /\.map$/.test(f) ||
        /(^|\/)\.(env|tokenward|npmrc)/.test(f) ||
        /\.(pem|key|p12|db|sqlite|sqlite3|log)$/.test(f) ||
        /(^|\/)secret(s)?(\.(txt|json|b64))?$/i.test(f),
    );
    expect(forbidden).toEqual([]);
    // No key material or credentials inside any shipped file either.
    const leaks = files.filter((f) =>
      /-----BEGIN [A-Z ]*PRIVATE KEY-----|\btwr_[A-Za-z0-9_-]{20,}|postgres(ql)?:\/\/[^:@\s/]+:(?!password@)[^@\s…]{6,}@/.test(
        readFileSync(join(app.dir, 'node_modules/tokenward', f), 'utf8'),
      ),
    );
    expect(leaks).toEqual([]);
  });

  it('every export and the bin point at files that are in the tarball', () => {
    const files = new Set(app.info.files.map((f) => f.path));
    const { exports, bin } = installedManifest();
    const targets = Object.values(exports).flatMap((t) =>
      typeof t === 'string' ? [t] : [t.import.types, t.import.default, t.require.types, t.require.default],
    );
    for (const target of [...targets, ...Object.values(bin)])
      expect(files, target).toContain(target.replace(/^\.\//, ''));
  });
});

describe('package › in a fresh ESM app', () => {
  it('every entry point imports (tokenward/next itself needs Next.js: covered by test/next)', async () => {
    const { exports } = installedManifest();
    const entries = Object.keys(exports)
      .filter((k) => k !== './package.json' && k !== './next')
      .map((k) => `tokenward${k.slice(1)}`);
    const dir = workDir(app, 'entries');
    const script = `for (const name of ${JSON.stringify(entries)}) { const m = await import(name); console.log(name, Object.keys(m).length); }`;
    const run = await runIn(dir, process.execPath, ['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const name of entries) expect(run.stdout).toMatch(new RegExp(`^${name.replace('/', '\\/')} [1-9]`, 'm'));
  });

  it("require('tokenward') from CommonJS fails with one line saying it is ESM-only; await import() works", async () => {
    const dir = workDir(app, 'cjs');
    const required = await runIn(dir, process.execPath, [
      '--input-type=commonjs',
      '-e',
      "require('tokenward/express')",
    ]);
    expect(required.code).toBe(1);
    const message = required.stderr.split('\n').find((l) => l.startsWith('Error'));
    expect(message).toMatch(
      /^Error: tokenward is ESM-only: use `import \{ createTokenward \} from 'tokenward'` in an ES module .*await import\('tokenward'\)/,
    );
    const imported = await runIn(dir, process.execPath, [
      '--input-type=commonjs',
      '-e',
      "import('tokenward').then((m) => console.log(typeof m.createTokenward))",
    ]);
    expect(imported.stdout.trim()).toBe('function');
  });

  it('npx tokenward runs the compiled CLI from the package (--version, --help)', async () => {
    const dir = workDir(app, 'bin');
    const version = await runIn(dir, 'npx', ['--no-install', 'tokenward', '--version']);
    expect(version.stdout.trim()).toBe(installedManifest().version);
    const help = await runIn(dir, 'npx', ['--no-install', 'tokenward', 'serve', '--help']);
    expect(help.stdout).toContain('--static DIR');
  });

  it('tokenward/react renders under renderToString (no window) as the unknown state', async () => {
    const dir = workDir(app, 'ssr');
    const script = `
      import { createElement as h } from 'react';
      import { renderToString } from 'react-dom/server';
      import { TokenwardProvider, useSession, useAuth } from 'tokenward/react';
      function Status() { const s = useSession(); const a = useAuth(); return h('p', null, s.status + ':' + (a.client === null)); }
      console.log(renderToString(h(TokenwardProvider, null, h(Status))));`;
    const run = await runIn(dir, process.execPath, ['--input-type=module', '-e', script]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('<p>unknown:true</p>');
  });
});
