import { request } from 'node:http';

/** Cookie names of the browser transport (API.md "Cookies"). */
export const COOKIE = {
  access: '__Host-tw_at',
  refresh: '__Secure-tw_rt',
  csrf: '__Host-tw_csrf',
  device: '__Host-tw_dev',
  stepUp: '__Host-tw_su',
  pendingLogin: '__Secure-tw_mfa',
} as const;

/** One answer, with when it was sent and received (performance.now(), ms). */
export interface Answer {
  status: number;
  /** The problem `code` of an error answer. */
  code: string | undefined;
  body: Record<string, unknown>;
  /** Cookies the answer set (name → value), or cleared (name → null). */
  setCookies: Map<string, string | null>;
  retryAfter: string | undefined;
  sentAt: number;
  recvAt: number;
  /** The plan's node index the request went to. */
  node: number;
  /** `METHOD /path` of the request (for the trace). */
  request: string;
}

export interface SendOptions {
  method?: string;
  json?: unknown;
  /** Cookies to send instead of the jar's (a copied cookie, a replayed grant). */
  cookies?: Map<string, string>;
  headers?: Record<string, string>;
  /** Apply Set-Cookie to the jar (default: only when the jar's cookies were sent). */
  keep?: boolean;
}

/**
 * How an actor treats the device cookie: a browser keeps the one the server sets; a thief
 * sends none, or always the same id of its own, and never adopts the server's.
 */
export type DevicePolicy = { kind: 'browser' } | { kind: 'none' } | { kind: 'forged'; id: string };

/**
 * A client of the real server: a browser (a cookie jar that follows Set-Cookie in the order the
 * answers arrive, like tabs sharing one jar), a cookie thief or a password guesser. Requests go
 * over a fresh connection each (no kept-alive socket reused as the server closes it).
 */
export class Actor {
  readonly jar = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly userAgent: string,
    readonly ip: string,
    readonly device: DevicePolicy,
  ) {}

  /** The device identity the server sees from this actor, if any. */
  deviceId(): string | undefined {
    if (this.device.kind === 'forged') return this.device.id;
    if (this.device.kind === 'browser') return this.jar.get(COOKIE.device);
    return undefined;
  }

  async send(nodeUrls: readonly string[], node: number, path: string, options: SendOptions = {}): Promise<Answer> {
    const url = nodeUrls[node % nodeUrls.length];
    if (url === undefined) throw new Error('no nodes');
    const method = options.method ?? (options.json === undefined ? 'GET' : 'POST');
    const cookies = new Map(options.cookies ?? this.jar);
    cookies.delete(COOKIE.device);
    const device = this.deviceId();
    if (device !== undefined) cookies.set(COOKIE.device, device);
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'x-forwarded-for': this.ip,
      ...options.headers,
    };
    if (method !== 'GET') headers['sec-fetch-site'] = 'same-origin';
    if (cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const answer = await exchange(url, method, path, headers, body, node);
    if (options.keep ?? options.cookies === undefined) this.apply(answer);
    return answer;
  }

  /** Follows an answer's Set-Cookie like a browser (a thief never adopts a device id). */
  apply(answer: Answer): void {
    for (const [name, value] of answer.setCookies) {
      if (name === COOKIE.device && this.device.kind !== 'browser') continue;
      if (value === null) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }
}

function exchange(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  node: number,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sentAt = performance.now();
    const req = request(new URL(path, base), { method, headers, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const recvAt = performance.now();
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        if (text !== '' && (res.headers['content-type'] ?? '').includes('json'))
          parsed = JSON.parse(text) as Record<string, unknown>;
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          code: typeof parsed.code === 'string' ? parsed.code : undefined,
          body: parsed,
          setCookies: parseSetCookie(res.headers['set-cookie'] ?? []),
          retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
          sentAt,
          recvAt,
          node,
          request: `${method} ${path}`,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function parseSetCookie(lines: string[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const line of lines) {
    const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const cleared = value === '' || attributes.some((a) => a.toLowerCase() === 'max-age=0');
    out.set(name, cleared ? null : value);
  }
  return out;
}
