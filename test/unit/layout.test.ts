// The layout rules of docs/architecture.md, checked on the source: imports only go down, and the
// migration lists agree with the migration files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features/index.js';
import { FEATURE_MIGRATIONS } from '../../src/features/migrations.js';
import { KERNEL_MIGRATIONS, MIGRATIONS } from '../../src/store/migrations/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import of a source file, as a path relative to src/ (`kernel/ports.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts'));
    out.push(relative(SRC, target));
  }
  return out;
}

const files = sourceFiles(SRC).map((f) => ({ path: relative(SRC, f), imports: importsOf(f) }));
const ROOT_FILES = ['config.ts', 'create-tokenward.ts', 'index.ts'];

function violations(from: (path: string) => boolean, forbidden: (target: string) => boolean): string[] {
  return files.filter((f) => from(f.path)).flatMap((f) => f.imports.filter(forbidden).map((t) => `${f.path} → ${t}`));
}

describe('layout › imports only go down (docs/architecture.md)', () => {
  it('the kernel imports no feature, no HTTP toolkit, no store and not the composition root', () => {
    expect(
      violations(
        (p) => p.startsWith('kernel/'),
        (t) => t.startsWith('features/') || t.startsWith('server/') || t.startsWith('store/') || ROOT_FILES.includes(t),
      ),
    ).toEqual([]);
  });

  it('features never import the composition root (config.ts, create-tokenward.ts)', () => {
    expect(
      violations(
        (p) => p.startsWith('features/'),
        (t) => ROOT_FILES.includes(t),
      ),
    ).toEqual([]);
  });

  it('the HTTP toolkit imports no feature and not the composition root (its public entry index.ts re-exports it)', () => {
    expect(
      violations(
        (p) => p.startsWith('server/') && p !== 'server/index.ts',
        (t) => t.startsWith('features/') || ROOT_FILES.includes(t),
      ),
    ).toEqual([]);
  });

  it('the stores import from the features only their migrations', () => {
    expect(
      violations(
        (p) => p.startsWith('store/'),
        (t) =>
          (t.startsWith('features/') && t !== 'features/migrations.ts' && !t.includes('/migrations/')) ||
          ROOT_FILES.includes(t),
      ),
    ).toEqual([]);
  });

  it('the browser SDK imports nothing outside src/client', () => {
    expect(
      violations(
        (p) => p.startsWith('client/'),
        (t) => !t.startsWith('client/'),
      ),
    ).toEqual([]);
  });
});

describe('layout › migrations (assembled from the kernel and the features)', () => {
  it('names are unique, numbered and in execution order', () => {
    const names = Object.keys(MIGRATIONS);
    expect(names).toEqual([...names].sort());
    for (const name of names) expect(name).toMatch(/^\d{4}-[a-z0-9-]+$/);
    expect(new Set(names.map((n) => n.slice(0, 4))).size).toBe(names.length);
    expect(names.length).toBe(Object.keys(KERNEL_MIGRATIONS).length + Object.keys(FEATURE_MIGRATIONS).length);
  });

  it('the kernel list and src/store/migrations/ agree', () => {
    const folder = readdirSync(join(SRC, 'store/migrations'))
      .filter((f) => f !== 'index.ts')
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(Object.keys(KERNEL_MIGRATIONS).sort()).toEqual(folder);
  });

  it("each feature's descriptor, its migrations/ folder and the assembled feature list agree", () => {
    const fromDescriptors: string[] = [];
    for (const feature of FEATURES) {
      const listed = Object.keys(('migrations' in feature && feature.migrations) || {}).sort();
      fromDescriptors.push(...listed);
      const dir = join(SRC, 'features', feature.id, 'migrations');
      let folder: string[] = [];
      try {
        folder = readdirSync(dir)
          .map((f) => f.replace(/\.ts$/, ''))
          .sort();
      } catch {
        folder = [];
      }
      expect(listed, feature.id).toEqual(folder);
    }
    expect(fromDescriptors.sort()).toEqual(Object.keys(FEATURE_MIGRATIONS).sort());
  });
});
