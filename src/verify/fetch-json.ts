import { VerifyError, type VerifyErrorCode } from './verify-error.js';

/** The `fetch` signature the verifier needs (the global one, or a test stub). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses an endpoint URL and refuses plain `http:` except on loopback: the JWKS decides which
 * keys are trusted and the revocation request carries a bearer credential.
 */
export function endpointUrl(value: string | URL, option: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`createVerifier: ${option} is not a valid URL`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new TypeError(`createVerifier: ${option} must be https: (plain http: is allowed only on loopback)`);
  }
  if (url.username !== '' || url.password !== '')
    throw new TypeError(`createVerifier: ${option} must not contain credentials`);
  return url;
}

export interface FetchJsonResult {
  body: unknown;
  headers: Headers;
}

/**
 * GETs a JSON document with a timeout and a size cap, without following redirects (a redirect
 * would let whoever controls the target choose our keys). Failures become `VerifyError(code, …)`.
 */
export async function fetchJson(
  fetchFn: FetchLike,
  url: URL,
  options: {
    code: VerifyErrorCode;
    timeoutMs: number;
    maxBytes: number;
    headers?: Record<string, string>;
    signal: AbortSignal;
  },
): Promise<FetchJsonResult> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (options.signal.aborted) throw new VerifyError('closed', 'closed');
  options.signal.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(abort, options.timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetchFn(url.href, {
        method: 'GET',
        headers: { accept: 'application/json', ...options.headers },
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch (error) {
      if (options.signal.aborted) throw new VerifyError('closed', 'closed');
      throw new VerifyError(options.code, controller.signal.aborted ? 'timeout' : 'fetch_failed', { cause: error });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new VerifyError(options.code, 'http_status');
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > options.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new VerifyError(options.code, 'invalid_response');
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new VerifyError(options.code, controller.signal.aborted ? 'timeout' : 'fetch_failed', { cause: error });
    }
    if (text.length > options.maxBytes) throw new VerifyError(options.code, 'invalid_response');
    try {
      return { body: JSON.parse(text) as unknown, headers: response.headers };
    } catch (error) {
      throw new VerifyError(options.code, 'invalid_response', { cause: error });
    }
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', abort);
  }
}
