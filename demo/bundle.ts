import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the browser SDK and the demo's script (demo/web/main.ts, when present) with esbuild at
 * start, so the demo always runs the SDK from src/client.
 */
export async function buildClientBundle(): Promise<Record<string, string>> {
  const entry = fileURLToPath(new URL('./web/main.ts', import.meta.url));
  if (!existsSync(entry)) return {};
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    minify: true,
    write: false,
    target: 'es2022',
    sourcemap: false,
  });
  const file = result.outputFiles[0];
  return file ? { '/app.js': file.text } : {};
}
