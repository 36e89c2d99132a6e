#!/usr/bin/env node
// The `tokenward` command. Runs the compiled CLI (dist/, what the published package ships);
// in a source checkout without a build it runs the TypeScript source through tsx instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('tokenward: dist/ is missing and tsx is not installed: run `npm run build` (or `npm install`) first');
    process.exit(1);
  }
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
