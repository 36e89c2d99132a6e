import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `tokenward/*` (the public entry points the examples and docs import) resolve to the sources in
 * tests, as tsconfig.json's `paths` do for tsc and tsx. The packed package is tested separately
 * (test/package).
 */
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { import: { default: string } }>;
};
const alias = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
  typeof target === 'string'
    ? []
    : [{
        find: new RegExp(`^tokenward${subpath.slice(1).replace(/\//g, '\\/')}$`),
        replacement: fileURLToPath(new URL(target.import.default.replace('./dist/src/', './src/').replace(/\.js$/, '.ts'), import.meta.url)),
      }],
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
