/**
 * The `tokenward` command line: `migrate`, `keys list|rotate|prune`, `serve`, `help`.
 * Exit codes: 0 success, 1 failure (configuration or database), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { optionsFromFile, resolveConfig, type TokenwardConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { USAGE } from './help.js';
import { KEYS_SUBCOMMANDS, type KeysSubcommand, keysCommand } from './keys-command.js';
import { migrateCommand } from './migrate-command.js';
import type { CliOutput } from './output.js';
import { serveCommand } from './serve-command.js';

class UsageError extends Error {}

function loadConfig(): TokenwardConfig {
  return resolveConfig({}, { env: process.env, file: optionsFromFile() });
}

function version(): string {
  // src/cli/main.ts and dist/src/cli/main.js both reach package.json by walking up.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tokenward' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

/**
 * Runs one CLI invocation and returns its exit code (never throws).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(['keys', 'list'], { out: console.log, err: console.error });
 * ```
 */
export async function runCli(argv: string[], io: CliOutput): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, now: { type: 'boolean' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
    const [command, sub, ...rest] = positionals;
    if (values.version) {
      io.out(version());
      return 0;
    }
    if (values.help || command === undefined || command === 'help') {
      io.out(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (values.now && !(command === 'keys' && sub === 'rotate')) throw new UsageError('--now only applies to `keys rotate`');
    if (values.json && !(command === 'keys' && sub === 'list')) throw new UsageError('--json only applies to `keys list`');
    switch (command) {
      case 'migrate':
        if (sub !== undefined) throw new UsageError(`unexpected argument "${sub}"`);
        return await migrateCommand(loadConfig(), io);
      case 'keys':
        if (sub === undefined || !(KEYS_SUBCOMMANDS as readonly string[]).includes(sub)) {
          throw new UsageError(`keys needs one of: ${KEYS_SUBCOMMANDS.join(', ')}`);
        }
        if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
        return await keysCommand(sub as KeysSubcommand, loadConfig(), io, { now: values.now, json: values.json });
      case 'serve':
        if (sub !== undefined) throw new UsageError(`unexpected argument "${sub}"`);
        return await serveCommand(io);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`tokenward: ${(error as Error).message}\nRun \`tokenward --help\` for usage.`);
      return 2;
    }
    if (error instanceof ConfigError) {
      io.err(`tokenward: ${error.message}`);
      return 1;
    }
    io.err(`tokenward: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

const io: CliOutput = { out: (line) => console.log(line), err: (line) => console.error(line) };
const code = await runCli(process.argv.slice(2), io);
process.exitCode = code;
// A pool or timer left open by a failed connection must not keep a one-shot command alive.
setTimeout(() => process.exit(code), 1000).unref();
