// Size budget of the browser SDK: bundles src/client/index.ts as a browser ESM module,
// minifies it, gzips it at level 9 and fails (exit 1) over the budget from DESIGN.md. Also
// prints the size of tokenward/react (SDK + bindings, React external), which has no budget.
//
//   node tools/size.mjs                 print the size
//   node tools/size.mjs --out <file>    also write the minified ESM bundle (for browser tests)
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const BUDGET_BYTES = 3000; // "3 KB", counted in 1000-byte kilobytes to stay on the safe side
const entry = fileURLToPath(new URL('../src/client/index.ts', import.meta.url));

const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  logLevel: 'error',
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: constants.Z_BEST_COMPRESSION }).length;

const kb = (bytes) => (bytes / 1000).toFixed(2);
console.log(
  `tokenward/client: ${kb(gzipped)} KB min+gzip (budget ${kb(BUDGET_BYTES)} KB; ${gzipped} B gzip, ${code.length} B min)`,
);

const outIndex = process.argv.indexOf('--out');
if (outIndex !== -1) {
  const out = process.argv[outIndex + 1];
  if (!out) throw new Error('--out needs a file path');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, code);
  console.log(`wrote ${out}`);
}

// tokenward/react: its own line, outside the SDK's budget (react and react-dom are the app's).
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
console.log(
  `tokenward/react: ${kb(reactGzipped)} KB min+gzip including the SDK, react external (${reactGzipped - gzipped > 0 ? `+${reactGzipped - gzipped}` : reactGzipped - gzipped} B over tokenward/client; not in the SDK budget)`,
);

if (gzipped > BUDGET_BYTES) {
  console.error(`tokenward/client is ${gzipped - BUDGET_BYTES} B over budget`);
  process.exitCode = 1;
}
