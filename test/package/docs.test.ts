/**
 * Docs that run: every code block of README.md and docs/*.md whose fence says `runnable` is
 * executed, in order, against the packed package, the way a reader would paste it:
 *
 * - ```` ```sh runnable ````: run with bash (`set -euo pipefail`) in the doc's working directory,
 *   which a `cd` in the block changes for the next blocks. It must exit 0.
 * - ```` ```sh runnable background ````: started and left running (a server), until the next
 *   background block or the end of the doc; the test waits for `/healthz` to answer.
 * - ```` ```js runnable file=server.js ````: written to that file in the working directory.
 *
 * Only what cannot happen here is rewritten: `localhost:3000` becomes a free port, and
 * `npm install tokenward` installs the packed tarball (into a folder pre-filled with the installed
 * dependencies, so better-sqlite3 is not compiled again).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/pack.mjs';
import {
  type BackgroundProcess,
  type ConsumerApp,
  consumerApp,
  startInBackground,
  userEnv,
  workDir,
} from '../support/package.js';
import { freePort } from '../support/process.js';

interface RunnableBlock {
  lang: string;
  attrs: Record<string, string | true>;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The runnable fenced blocks of a Markdown text, in order. */
function runnableBlocks(markdown: string): RunnableBlock[] {
  const blocks: RunnableBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s+(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const words = (open[2] as string).trim().split(/\s+/);
    const end = lines.indexOf('```', i + 1);
    if (words[0] === 'runnable') {
      const attrs: Record<string, string | true> = {};
      for (const word of words.slice(1)) {
        const [key, value] = word.split('=');
        attrs[key as string] = value ?? true;
      }
      blocks.push({ lang: open[1] as string, attrs, code: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    }
    i = end;
  }
  return blocks;
}

const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const withBlocks = DOCS.map((doc) => ({ doc, blocks: runnableBlocks(readFileSync(join(ROOT, doc), 'utf8')) })).filter(
  (d) => d.blocks.length > 0,
);

let app: ConsumerApp;
beforeAll(async () => {
  app = await consumerApp();
}, 600_000);

/** What one sh block printed, for the assertions below. */
interface BlockRun {
  block: RunnableBlock;
  output: string;
}

async function runDoc(doc: string, blocks: RunnableBlock[]): Promise<BlockRun[]> {
  const root = workDir(app, `docs-${doc.replace(/\W+/g, '-')}`);
  const port = await freePort();
  const env = { PORT: String(port), TW_TARBALL: app.tarball, TW_SEED: app.dir, npm_config_update_notifier: 'false' };
  const adapt = (code: string) =>
    code
      .replaceAll('localhost:3000', `localhost:${port}`)
      .replace(
        /npm install tokenward\b/g,
        'cp -a "$TW_SEED/node_modules" . && npm install --prefer-offline --no-audit --no-fund --loglevel=error "$TW_TARBALL"',
      );
  let cwd = root;
  let background: BackgroundProcess | undefined;
  const runs: BlockRun[] = [];
  try {
    for (const block of blocks) {
      const where = `${doc}:${block.line}`;
      if (typeof block.attrs.file === 'string') {
        writeFileSync(join(cwd, block.attrs.file), `${block.code}\n`);
        continue;
      }
      expect(block.lang, `${where}: runnable blocks are sh or name a file`).toBe('sh');
      if (block.attrs.background) {
        await background?.stop();
        background = await startInBackground(cwd, 'bash', ['-c', `exec ${adapt(block.code).trim()}`], { env, port });
        continue;
      }
      const cwdFile = join(root, '.cwd');
      const script = `set -euo pipefail\ncd "${cwd}"\n${adapt(block.code)}\npwd > "${cwdFile}"\n`;
      const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn('bash', ['-c', script], { env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
      expect(
        result.code,
        `${where} failed:\n${result.output}\n${background ? `server output:\n${background.output()}` : ''}`,
      ).toBe(0);
      cwd = readFileSync(cwdFile, 'utf8').trim();
      runs.push({ block, output: result.output });
    }
  } finally {
    await background?.stop();
  }
  return runs;
}

describe('docs › runnable code blocks run against the packed package', { timeout: 600_000 }, () => {
  it('README has runnable blocks (quick start, curl session, tokenward serve)', () => {
    const readme = withBlocks.find((d) => d.doc === 'README.md');
    expect(readme?.blocks.length ?? 0).toBeGreaterThanOrEqual(6);
  });

  for (const { doc, blocks } of withBlocks) {
    it(`${doc}: ${blocks.length} runnable blocks succeed`, async () => {
      const runs = await runDoc(doc, blocks);
      if (doc !== 'README.md') return;
      // The quick start's curl session: signup 201 with the session cookies, profile 200,
      // a state-changing call 201, logout 204, then the profile is refused.
      const session = runs.find((r) => r.block.code.includes('/auth/signup'));
      expect(session, 'the README has a runnable curl session').toBeDefined();
      const statuses = [...(session?.output ?? '').matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
      expect(statuses).toEqual([201, 200, 201, 204, 401]);
      expect(session?.output).toMatch(/set-cookie: __Host-tw_at=/i);
      expect(session?.output).toMatch(/\{"userId":"[0-9a-f-]{36}"\}/);
      expect(session?.output).not.toContain('csrf_rejected');
      // tokenward serve --static: health, an SPA route answered by index.html, /auth/* never.
      const serve = runs.find((r) => r.block.code.includes('/settings/profile'));
      expect(serve?.output).toContain('{"status":"ok"}');
      expect(serve?.output).toContain('<h1>Hello</h1>');
      expect(serve?.output.trim().split('\n').at(-1)).toBe('404');
    });
  }
});
