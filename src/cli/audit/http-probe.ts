/**
 * The audit's HTTP client: plain `fetch` (Node 20), no redirects followed, a timeout on every
 * request, and Set-Cookie headers parsed by hand (fetch keeps no cookie jar, on purpose: the
 * audit sees exactly what a browser would receive).
 */

/** One `Set-Cookie` header, parsed. Attribute names are lowercased; values kept as sent. */
export interface SetCookie {
  name: string;
  value: string;
  /** `httponly`, `secure` → ''; `path` → '/auth'; `max-age` → '600'; `samesite` → 'Lax'… */
  attributes: Map<string, string>;
  /** The header as received. */
  raw: string;
}

/** A response as the audit looks at it. */
export interface ProbeResponse {
  status: number;
  headers: Headers;
  setCookies: SetCookie[];
  /** The body as text (at most 256 KiB read). */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** A request of the audit: path relative to the audited origin. */
export interface ProbeRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Parses one `Set-Cookie` header value (RFC 6265 §5.2, leniently).
 *
 * @example
 * ```ts
 * parseSetCookie('__Host-tw_csrf=abc; Path=/; Secure').attributes.get('path'); // '/'
 * ```
 */
export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attrs] = header.split(';');
  const eq = pair.indexOf('=');
  const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
  const value = eq === -1 ? '' : pair.slice(eq + 1).trim();
  const attributes = new Map<string, string>();
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    const key = (i === -1 ? attr : attr.slice(0, i)).trim().toLowerCase();
    if (key !== '') attributes.set(key, i === -1 ? '' : attr.slice(i + 1).trim());
  }
  return { name, value, attributes, raw: header };
}

/** Sends requests to one origin with a per-request timeout. */
export class HttpProbe {
  readonly base: URL;
  readonly #timeoutMs: number;

  constructor(base: URL, timeoutMs: number) {
    this.base = base;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Sends one request; throws a readable error on a network failure or a timeout.
   *
   * @example
   * ```ts
   * const res = await new HttpProbe(new URL('https://app.example.com'), 10_000).send({ path: '/healthz' });
   * ```
   */
  async send(request: ProbeRequest): Promise<ProbeResponse> {
    const url = new URL(request.path, this.base);
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method ?? 'GET',
        headers: { 'user-agent': 'tokenward-audit', ...request.headers },
        ...(request.body === undefined ? {} : { body: request.body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        throw new Error(`${request.method ?? 'GET'} ${url.pathname}: no answer within ${this.#timeoutMs / 1000} s`);
      throw new Error(`${request.method ?? 'GET'} ${url.pathname}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
    }
    const text = await readText(response, 256 * 1024);
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      status: response.status,
      headers: response.headers,
      setCookies: response.headers.getSetCookie().map(parseSetCookie),
      text,
      json,
    };
  }
}

async function readText(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= max) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
