import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { FEATURES } from './features/index.js';
import {
  KERNEL_ENV_NAMES,
  type KernelConfig,
  type KernelOptions,
  kernelOptionShape,
  resolveKernelConfig,
} from './kernel/config/kernel-config.js';

export { parseDuration } from './kernel/config/option-types.js';

type Features = (typeof FEATURES)[number];
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type SliceOptions<F> = F extends { options: { key: infer K extends string; schema: infer S extends z.ZodType } }
  ? { [P in K]?: z.input<S> }
  : Record<never, never>;
// biome-ignore lint/suspicious/noExplicitAny: matching any resolver's parameters.
type SliceConfig<F> = F extends { options: { key: infer K extends string; resolve: (...args: any[]) => infer R } }
  ? { [P in K]: R }
  : Record<never, never>;

/** Options accepted by `createTokenward()`: the kernel's and every feature's slice (all optional; defaults from API.md). */
export type TokenwardOptions = z.input<z.ZodObject<typeof kernelOptionShape>> &
  UnionToIntersection<SliceOptions<Features>>;

/** Fully resolved configuration: the kernel's, and each feature's slice under its key. */
export type TokenwardConfig = KernelConfig & UnionToIntersection<SliceConfig<Features>>;

/** The features that contribute an options slice. */
const SLICES = FEATURES.flatMap((f) => ('options' in f && f.options ? [f.options] : []));

/** Environment variable → option path (TOKENWARD_<UPPER_SNAKE_OPTION>; `PORT` too). */
const ENV_NAMES: Readonly<Record<string, string>> = Object.assign({}, KERNEL_ENV_NAMES, ...SLICES.map((s) => s.env));

const optionsSchema = z
  .object({ ...kernelOptionShape, ...Object.fromEntries(SLICES.map((s) => [s.key, s.schema.optional()])) })
  .strict();

/** Reads `TOKENWARD_*` variables (and `PORT`) into an options object. Empty values are ignored. */
export function optionsFromEnv(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail === undefined) out[head] = value;
    else out[head] = { ...((out[head] as object | undefined) ?? {}), [tail]: value };
  }
  return out;
}

/** Reads `tokenward.config.json` from `dir` when present. */
export function optionsFromFile(dir = process.cwd()): Record<string, unknown> {
  const file = resolve(dir, 'tokenward.config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`tokenward.config.json: not valid JSON (${(error as Error).message})`);
  }
}

function envNameFor(path: string): string {
  const entry = Object.entries(ENV_NAMES).find(([name, p]) => p === path && name !== 'TOKENWARD_PORT');
  return entry ? ` (env ${entry[0]})` : '';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/**
 * Deep-merges option sources: nested plain objects (`cookies`, `oidc`, …) merge key by key, so a
 * partial group never drops what another source set in it; anything else is replaced.
 */
function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * Validates options (explicit options win over the environment, the environment over
 * `tokenward.config.json`) and resolves defaults, for the kernel and every feature's slice.
 * Throws {@link ConfigError} with one line naming the option (and its environment variable).
 */
export function resolveConfig(
  options: TokenwardOptions = {},
  sources: { env?: Record<string, string | undefined>; file?: Record<string, unknown> } = {},
): TokenwardConfig {
  const merged = deepMerge(
    deepMerge(sources.file ?? {}, optionsFromEnv(sources.env ?? {})),
    options as Record<string, unknown>,
  );
  const parsed = optionsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') || '(options)';
    const message =
      issue?.code === 'unrecognized_keys'
        ? `unknown option(s) ${(issue as { keys: string[] }).keys.join(', ')}`
        : issue?.message;
    throw new ConfigError(`Invalid configuration: ${path}${envNameFor(path)}: ${message}`);
  }
  const kernel = resolveKernelConfig(parsed.data as unknown as KernelOptions, envNameFor);
  const config: Record<string, unknown> = { ...kernel };
  for (const slice of SLICES) {
    const value = (parsed.data as Record<string, unknown>)[slice.key];
    config[slice.key] = (slice.resolve as (parsed: unknown, kernel: KernelConfig) => unknown)(value, kernel);
  }
  return config as TokenwardConfig;
}
