// Size budgets of the browser SDK: bundles each entry as a browser ESM module, minifies it,
// gzips it at level 9 and fails (exit 1) when one is over its budget from DESIGN.md. Also prints
// the size of tokenward/react (SDK + bindings, React external), which has no budget.
//
//   node tools/size.mjs                 print the sizes
//   node tools/size.mjs --out <file>    also write the minified core bundle (for browser tests)
//
// An entry's figure is its own cost: `tokenward/client/passkeys` shares nothing at runtime with
// the core but the small error class, which a bundler keeps once when both are imported.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** Kilobytes of 1000 bytes, to stay on the safe side. */
const ENTRIES = [
  { name: 'tokenward/client', file: '../src/client/index.ts', budget: 3000 },
  { name: 'tokenward/client/passkeys', file: '../src/client/passkeys/index.ts', budget: 2000 },
];

const kb = (bytes) => (bytes / 1000).toFixed(2);
let core;
for (const entry of ENTRIES) {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry.file, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  core ??= code;
  const gzipped = gzipSync(code, { level: constants.Z_BEST_COMPRESSION }).length;
  console.log(
    `${entry.name}: ${kb(gzipped)} KB min+gzip (budget ${kb(entry.budget)} KB; ${gzipped} B gzip, ${code.length} B min)`,
  );
  if (gzipped > entry.budget) {
    console.error(`${entry.name} is ${gzipped - entry.budget} B over budget`);
    process.exitCode = 1;
  }
}

const outIndex = process.argv.indexOf('--out');
if (outIndex !== -1) {
  const out = process.argv[outIndex + 1];
  if (!out) throw new Error('--out needs a file path');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, core);
  console.log(`wrote ${out}`);
}

// tokenward/react: its own line, outside the SDK's budget (react and react-dom are the app's).
const coreGzipped = gzipSync(core, { level: constants.Z_BEST_COMPRESSION }).length;
const react = await build({
  entryPoints: [fileURLToPath(new URL('../src/react/index.ts', import.meta.url))],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['react', 'react-dom'],
  write: false,
  logLevel: 'error',
});
const reactCode = react.outputFiles[0].contents;
const reactGzipped = gzipSync(reactCode, { level: constants.Z_BEST_COMPRESSION }).length;
const overCore = reactGzipped - coreGzipped;
console.log(
  `tokenward/react: ${kb(reactGzipped)} KB min+gzip including the SDK, react external (${overCore > 0 ? `+${overCore}` : overCore} B over tokenward/client; not in the SDK budget)`,
);
