/**
 * The `tokenward` command line: `migrate`, `keys list|rotate|prune`,
 * `users list|show|revoke-sessions|disable|enable|delete`,
 * `sessions list|revoke`, `audit <url>`, `serve`, `help`.
 * Exit codes: 0 success, 1 failure (configuration or database), 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { optionsFromFile, resolveConfig, type TokenwardConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { CliFailure } from './admin-store.js';
import { auditCommand } from './audit/audit-command.js';
import { USAGE } from './help.js';
import { KEYS_SUBCOMMANDS, type KeysSubcommand, keysCommand } from './keys-command.js';
import { migrateCommand } from './migrate-command.js';
import type { CliOutput } from './output.js';
import { serveCommand } from './serve-command.js';
import { SESSIONS_SUBCOMMANDS, type SessionsSubcommand, sessionsCommand } from './sessions-command.js';
import { USERS_SUBCOMMANDS, type UsersSubcommand, usersCommand } from './users-command.js';

class UsageError extends Error {}

/** The options each command accepts (besides --help and --version). */
const OPTIONS_OF: Record<string, readonly string[]> = {
  'keys list': ['json'],
  'keys rotate': ['now'],
  'users list': ['json', 'limit', 'email-contains'],
  'users show': ['json'],
  'users revoke-sessions': ['json'],
  'users disable': ['json', 'yes'],
  'users enable': ['json', 'yes'],
  'users delete': ['json', 'yes'],
  'sessions list': ['json', 'limit'],
  'sessions revoke': ['json'],
  audit: ['json', 'origin', 'insecure', 'no-signup', 'email', 'password', 'timeout'],
  serve: ['port', 'host', 'static', 'shutdown-timeout'],
};

/** Rejects an option given to a command that does not take it (`--json only applies to: keys list, …`). */
function checkOptions(commandKey: string, given: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined || name === 'help' || name === 'version') continue;
    if (OPTIONS_OF[commandKey]?.includes(name)) continue;
    const users = Object.keys(OPTIONS_OF).filter((key) => OPTIONS_OF[key]?.includes(name));
    throw new UsageError(`--${name} only applies to ${users.map((u) => `\`${u}\``).join(', ')}`);
  }
}

/** A whole number in [min, max] from an option's text, else a usage error naming the option. */
function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return n;
}

/** Exactly one positional argument, named in the usage error when missing or followed by more. */
function oneArgument(commandKey: string, what: string, args: string[]): string[] {
  if (args.length === 0 || args[0]?.trim() === '') throw new UsageError(`\`${commandKey}\` needs ${what}`);
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  return args;
}

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
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        now: { type: 'boolean' },
        json: { type: 'boolean' },
        yes: { type: 'boolean', short: 'y' },
        limit: { type: 'string' },
        'email-contains': { type: 'string' },
        origin: { type: 'string' },
        insecure: { type: 'boolean' },
        'no-signup': { type: 'boolean' },
        email: { type: 'string' },
        password: { type: 'string' },
        timeout: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        static: { type: 'string' },
        'shutdown-timeout': { type: 'string' },
      },
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
    const commandKey = command === 'audit' || sub === undefined ? command : `${command} ${sub}`;
    const subcommands: Record<string, readonly string[]> = {
      keys: KEYS_SUBCOMMANDS,
      users: USERS_SUBCOMMANDS,
      sessions: SESSIONS_SUBCOMMANDS,
    };
    // An unknown subcommand is reported as such (below) rather than as a misplaced option.
    if (subcommands[command]?.includes(sub ?? '') !== false) checkOptions(commandKey, values);
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
      case 'users': {
        if (sub === undefined || !(USERS_SUBCOMMANDS as readonly string[]).includes(sub)) {
          throw new UsageError(`users needs one of: ${USERS_SUBCOMMANDS.join(', ')}`);
        }
        if (sub === 'list' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
        const args = sub === 'list' ? [] : oneArgument(commandKey, 'a user: an email or a user id', rest);
        const limit = intOption('limit', values.limit, 1, 100_000);
        return await usersCommand(sub as UsersSubcommand, args, loadConfig(), io, {
          json: values.json,
          limit,
          emailContains: values['email-contains'],
          yes: values.yes,
        });
      }
      case 'sessions': {
        if (sub === undefined || !(SESSIONS_SUBCOMMANDS as readonly string[]).includes(sub)) {
          throw new UsageError(`sessions needs one of: ${SESSIONS_SUBCOMMANDS.join(', ')}`);
        }
        const args = oneArgument(commandKey, sub === 'list' ? 'a user: an email or a user id' : 'a session id', rest);
        const limit = intOption('limit', values.limit, 1, 10_000);
        return await sessionsCommand(sub as SessionsSubcommand, args, loadConfig(), io, { json: values.json, limit });
      }
      case 'audit': {
        const [url = ''] = oneArgument(
          'audit',
          'the URL of a running deployment (e.g. https://app.example.com)',
          sub === undefined ? [] : [sub, ...rest],
        );
        for (const [what, text] of [
          ['the audit URL', url],
          ['--origin', values.origin],
        ] as const) {
          if (text !== undefined && !/^https?:$/.test(URL.canParse(text) ? new URL(text).protocol : ''))
            throw new UsageError(
              `${what} must be an http(s) URL such as https://app.example.com (got ${JSON.stringify(text)})`,
            );
        }
        if (values['no-signup'] && values.email !== undefined)
          throw new UsageError('--no-signup and --email exclude each other (--email logs in instead of signing up)');
        const password = values.password ?? process.env.TOKENWARD_AUDIT_PASSWORD;
        if ((values.email === undefined) !== (password === undefined))
          throw new UsageError('--email and --password (or TOKENWARD_AUDIT_PASSWORD) go together');
        const timeoutSec = intOption('timeout', values.timeout, 1, 300);
        return await auditCommand(url, io, {
          json: values.json,
          origin: values.origin,
          insecure: values.insecure,
          signup: !values['no-signup'],
          ...(values.email !== undefined && password !== undefined
            ? { account: { email: values.email, password } }
            : {}),
          ...(timeoutSec === undefined ? {} : { timeoutMs: timeoutSec * 1000 }),
        });
      }
      case 'serve':
        if (sub !== undefined) throw new UsageError(`unexpected argument "${sub}"`);
        if (values.host !== undefined && values.host.trim() === '')
          throw new UsageError('--host needs an address such as 127.0.0.1');
        if (values.static !== undefined && values.static.trim() === '')
          throw new UsageError('--static needs a directory (your SPA build, e.g. dist)');
        return await serveCommand(io, {
          port: intOption('port', values.port, 0, 65535),
          host: values.host,
          staticDir: values.static,
          shutdownTimeoutSec: intOption('shutdown-timeout', values['shutdown-timeout'], 0, 3600),
        });
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`tokenward: ${(error as Error).message}\nRun \`tokenward --help\` for usage.`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof CliFailure) {
      io.err(`tokenward: ${error.message}`);
      return 1;
    }
    io.err(`tokenward: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

const io: CliOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  ask: async (question) => {
    // One line from standard input (a terminal or a pipe); '' when it ends without one.
    const { createInterface } = await import('node:readline');
    const rl = createInterface({
      input: process.stdin,
      output: process.stderr,
      terminal: process.stdin.isTTY === true,
    });
    return new Promise<string>((resolve) => {
      let answered = false;
      rl.question(question, (answer) => {
        answered = true;
        rl.close();
        resolve(answer);
      });
      rl.once('close', () => {
        if (!answered) resolve('');
      });
    });
  },
  // Progress only on a terminal: piped or captured output (and --json) stays clean.
  ...(process.stderr.isTTY ? { progress: (line: string) => process.stderr.write(`${line}\n`) } : {}),
};
// Keeps the process alive until the command settles: a store's close() may wait on unref'ed
// handles (a worker thread's exit), and Node would otherwise end with 13 (unsettled await).
const keepAlive = setInterval(() => {}, 60_000);
const code = await runCli(process.argv.slice(2), io);
clearInterval(keepAlive);
process.exitCode = code;
// A pool or timer left open by a failed connection must not keep a one-shot command alive.
setTimeout(() => process.exit(code), 1000).unref();
