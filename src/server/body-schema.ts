import { z } from 'zod';
import { TokenwardError } from '../errors.js';

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Options of {@link text}. */
export interface TextOptions {
  /** Longest accepted value (UTF-16 code units). */
  max: number;
  /** Shortest accepted value (default 0). */
  min?: number;
  /** Accept control characters (passwords: any character is allowed, NUL is refused by the policy). */
  allowControl?: boolean;
}

/**
 * A string field of a request body. API.md: a string that is not well-formed Unicode (a lone
 * surrogate) or holds control characters is 400 `invalid_request` — it would be stored
 * corrupted (UTF-8 has no encoding for a lone surrogate) and read back as another value.
 *
 * @example
 * ```ts
 * const body = z.object({ email: text({ max: 320 }), name: text({ max: 100 }).optional() });
 * ```
 */
export function text(options: TextOptions): z.ZodString {
  let schema = z.string();
  if (options.min !== undefined) schema = schema.min(options.min);
  schema = schema.max(options.max);
  schema = schema.refine((value) => value.isWellFormed(), { message: 'is not well-formed Unicode' });
  if (!options.allowControl)
    schema = schema.refine((value) => !CONTROL_CHARS.test(value), { message: 'contains control characters' });
  return schema;
}

/** The path of a zod issue as a field name (`email`, `credential.response`). */
function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.') || 'body';
}

/**
 * Validates a parsed JSON body against an endpoint's schema: the typed value, or 400
 * `invalid_request` whose detail names the field and the problem (deterministic wording, no
 * echo of the input: the same mistake gives byte-identical bodies).
 */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new TokenwardError('invalid_request');
  const name = fieldName(issue.path);
  let detail: string;
  switch (issue.code) {
    case 'invalid_type':
      detail =
        issue.input === undefined || issue.input === null
          ? `${name} is required.`
          : `${name} must be a ${issue.expected}.`;
      break;
    case 'too_big':
      detail = `${name} is too long.`;
      break;
    case 'too_small':
      detail = `${name} is too short.`;
      break;
    case 'unrecognized_keys':
      detail = `Unknown field ${issue.keys.join(', ')}.`;
      break;
    default:
      detail = `${name} ${issue.message}.`;
  }
  throw new TokenwardError('invalid_request', { detail });
}
