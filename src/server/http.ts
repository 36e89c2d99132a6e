import type { Context } from 'hono';
import { type ErrorCode, problemBody, TokenwardError } from '../errors.js';

/** Request bodies larger than this get 413 (API.md "Conventions"). */
export const MAX_BODY_BYTES = 64 * 1024;

const PROBLEM_CACHE = new Map<string, string>();

/** A problem+json response; identical failures give byte-identical bodies. */
export function problemResponse(
  code: ErrorCode,
  options: { detail?: string; headers?: Record<string, string>; status?: number } = {},
): Response {
  const status = options.status ?? problemBody(code).status;
  const cacheKey = `${code}\u0000${status}\u0000${options.detail ?? ''}`;
  let body = PROBLEM_CACHE.get(cacheKey);
  if (body === undefined) {
    body = JSON.stringify(problemBody(code, options.detail, status));
    if (PROBLEM_CACHE.size < 1000) PROBLEM_CACHE.set(cacheKey, body);
  }
  const headers = new Headers(options.headers);
  headers.set('Content-Type', 'application/problem+json');
  return new Response(body, { status, headers });
}

/** Turns a {@link TokenwardError} into its problem response. */
export function errorResponse(error: TokenwardError): Response {
  return problemResponse(error.code, { detail: error.detail, headers: { ...error.headers }, status: error.status });
}

function isJsonContentType(value: string): boolean {
  const [type, ...params] = value.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

/**
 * Reads the body as UTF-8 text with a hard byte cap (Content-Length is not trusted alone): 413
 * over 64 KiB, 400 for a body that is not valid UTF-8.
 */
export async function readBodyText(request: Request): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > MAX_BODY_BYTES)) {
    throw new TokenwardError(/^\d+$/.test(declared) ? 'payload_too_large' : 'invalid_request');
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new TokenwardError('payload_too_large');
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TokenwardError('invalid_request', { detail: 'The body is not valid UTF-8.' });
  }
}

/**
 * Reads a JSON object body: 415 for other content types, 413 over 64 KiB, 400 for malformed
 * JSON or a non-object. With `optional`, an empty body without Content-Type is `{}`.
 */
export async function readJsonObject(
  c: Context,
  options: { optional?: boolean } = {},
): Promise<Record<string, unknown>> {
  const contentType = c.req.header('content-type');
  if (contentType === undefined || contentType === '') {
    const text = await readBodyText(c.req.raw);
    if (options.optional && text === '') return {};
    throw new TokenwardError('unsupported_media_type');
  }
  if (!isJsonContentType(contentType)) {
    // Still enforce the size limit first, so an oversized upload is a 413 whatever its type.
    await readBodyText(c.req.raw);
    throw new TokenwardError('unsupported_media_type');
  }
  const text = await readBodyText(c.req.raw);
  if (options.optional && text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TokenwardError('invalid_request', { detail: 'The body is not valid JSON.' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenwardError('invalid_request', { detail: 'The body must be a JSON object.' });
  }
  return value as Record<string, unknown>;
}

/** For endpoints that take no body: enforces the size limit and ignores the content. */
export async function discardBody(c: Context): Promise<void> {
  // `Content-Length: 0` (what browsers send for a bodiless POST): nothing to read, so no body
  // stream is built (≈ 10 % of a refresh's CPU time on @hono/node-server).
  if (c.req.header('content-length') === '0') return;
  await readBodyText(c.req.raw);
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A required string field with a length cap; 400 `invalid_request` naming the field otherwise. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
  options: { max: number; min?: number; optional?: boolean; allowControl?: boolean },
): string | undefined {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined || value === null) {
    if (options.optional) return undefined;
    throw new TokenwardError('invalid_request', { detail: `${name} is required.` });
  }
  if (typeof value !== 'string') throw new TokenwardError('invalid_request', { detail: `${name} must be a string.` });
  if (value.length > options.max) throw new TokenwardError('invalid_request', { detail: `${name} is too long.` });
  if (value.length < (options.min ?? 0))
    throw new TokenwardError('invalid_request', { detail: `${name} is too short.` });
  if (!options.allowControl && CONTROL_CHARS.test(value))
    throw new TokenwardError('invalid_request', { detail: `${name} contains control characters.` });
  return value;
}

/** ISO 8601 UTC. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
