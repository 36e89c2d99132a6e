// Packs the package ONCE per content and caches the tarball: `npm pack` (whose prepack builds
// dist/) runs in a temporary copy of the package's inputs, so the work tree never gets a dist/
// (bin/tokenward.js would run a stale build from it). The cache key is a hash of every file that
// can change what is packed; concurrent callers (vitest workers, `npm run lint`) wait for one
// another through a lock directory.
//
//   node tools/pack.mjs          prints the tarball's path (packing it when not cached)
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Everything that can change the packed tarball (sources, build settings, shipped files). */
const INPUTS = [
  'package.json',
  'package-lock.json',
  'README.md',
  'LICENSE',
  'esm-only.cjs',
  'esm-only.d.cts',
  'tsconfig.json',
  'tsconfig.build.json',
  'tsconfig.client.json',
  'bin',
  'data',
  'src',
];
/** Where packed tarballs and installed consumer apps are cached between test runs. */
export const CACHE_DIR = join(tmpdir(), 'tokenward-test-cache');

function filesUnder(path) {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => filesUnder(join(path, entry.name)));
}

/** SHA-256 over the names and contents of `paths` (files or directories under the repository). */
export function contentHash(paths, extra = '') {
  const hash = createHash('sha256').update(extra);
  for (const file of paths.flatMap(filesUnder))
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(ROOT, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const PRUNE_AFTER_MS = 24 * 3600_000;

/** Removes cache entries nobody used for a day (every source change makes new ones). */
function pruneCache() {
  for (const entry of readdirSync(CACHE_DIR, { withFileTypes: true })) {
    const path = join(CACHE_DIR, entry.name);
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > PRUNE_AFTER_MS) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Runs `produce(dir)` once for `name`: the result is the directory `CACHE_DIR/name`, made by
 * producing into a staging directory and renaming it, under a lock (a lock older than
 * `staleMs` is taken over: its owner died).
 */
export async function cachedDir(name, produce, { staleMs = 15 * 60_000, log = () => {} } = {}) {
  const done = join(CACHE_DIR, name);
  const lock = `${done}.lock`;
  mkdirSync(CACHE_DIR, { recursive: true });
  pruneCache();
  for (;;) {
    if (existsSync(join(done, '.complete'))) {
      // Marks it as in use, so pruning (other runs, other work trees) leaves it alone.
      utimesSync(done, new Date(), new Date());
      return done;
    }
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) rmSync(lock, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  try {
    if (existsSync(join(done, '.complete'))) return done;
    const staging = `${done}.staging-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    rmSync(done, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    log(`building ${name}…`);
    await produce(staging);
    writeFileSync(join(staging, '.complete'), new Date().toISOString());
    renameSync(staging, done);
    return done;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The packed tarball of the current sources: `{ tarball, key }`. Packs (prepack: `npm run build`)
 * in a copy of the inputs when this content was never packed before.
 */
export async function packTarball({ log = () => {} } = {}) {
  const key = contentHash(INPUTS);
  const dir = await cachedDir(
    `pack-${key}`,
    async (staging) => {
      const copy = join(staging, 'package');
      for (const input of INPUTS)
        if (existsSync(join(ROOT, input))) cpSync(join(ROOT, input), join(copy, input), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', staging], {
        cwd: copy,
        maxBuffer: 64 * 1024 * 1024,
      });
      // The lifecycle scripts' output comes first; npm's JSON report starts on a line of its own.
      const [info] = JSON.parse(stdout.slice(stdout.search(/^\[/m)));
      renameSync(join(staging, info.filename), join(staging, 'tokenward.tgz'));
      writeFileSync(join(staging, 'pack.json'), JSON.stringify(info, null, 2));
      rmSync(copy, { recursive: true, force: true });
    },
    { log },
  );
  return { tarball: join(dir, 'tokenward.tgz'), key, info: JSON.parse(readFileSync(join(dir, 'pack.json'), 'utf8')) };
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === '') {
  const { tarball } = await packTarball({ log: (line) => console.error(`[pack] ${line}`) });
  console.log(tarball);
}
