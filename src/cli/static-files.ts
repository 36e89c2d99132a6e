import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import { problemResponse } from '../server/http.js';

/** Content types of the files an SPA build holds; anything else is `application/octet-stream`. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
};

/**
 * CSP of the SPA's HTML: its own scripts, styles and API only, never framed. Inline styles are
 * allowed (most UI libraries set `style` attributes); inline scripts are not.
 */
export const SPA_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/** A hashed build asset (`index-3f9a1c2b.js`, `app.3F9A1C2B.css`): its content never changes. */
const HASHED_NAME = /[.-][A-Za-z0-9_]{8,}\.[a-z0-9]+$/;

/** Options of {@link staticFiles}. */
export interface StaticFilesOptions {
  /** Paths that belong to the server (auth routes, JWKS, health, metrics): never answered here. */
  reserved: (pathname: string) => boolean;
  /** CSP of HTML responses. Default {@link SPA_CSP}. */
  csp?: string;
}

/** Why a `--static` directory cannot be served, or null when it can. */
export function staticDirProblem(dir: string): string | null {
  const root = resolve(dir);
  if (!existsSync(root)) return `--static ${dir}: no such directory`;
  if (!statSync(root).isDirectory()) return `--static ${dir}: not a directory`;
  if (!existsSync(join(root, 'index.html')))
    return `--static ${dir}: no index.html in it (point it at your SPA's build output, e.g. dist/)`;
  return null;
}

const notFound = (): Response => problemResponse('not_found');

/**
 * Hono middleware serving an SPA build: files by path with their content type, `index.html` for
 * client-side routes (paths without a file extension), 404 problem+json for a missing asset.
 * Never answers a reserved path (those fall through to the server's own 404), a dotfile, or
 * anything outside the directory.
 *
 * @example
 * ```ts
 * tw.app.get('*', staticFiles('./dist', { reserved: (p) => p.startsWith('/auth/') }));
 * ```
 */
export function staticFiles(dir: string, options: StaticFilesOptions): MiddlewareHandler {
  const root = resolve(dir);
  const csp = options.csp ?? SPA_CSP;

  const send = (file: string, size: number, mtimeMs: number, request: Request, html: boolean): Response => {
    const etag = `W/"${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}"`;
    const headers = new Headers({
      'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      ETag: etag,
      // HTML must be revalidated (it names the current assets); hashed assets never change.
      'Cache-Control': !html && HASHED_NAME.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (html) headers.set('Content-Security-Policy', csp);
    if (request.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
    headers.set('Content-Length', String(size));
    const body =
      request.method === 'HEAD' ? null : (Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>);
    return new Response(body, { status: 200, headers });
  };

  return async (c, next) => {
    const pathname = c.req.path;
    if (options.reserved(pathname)) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return problemResponse('invalid_request', { detail: 'The path is not valid percent-encoding.' });
    }
    const segments = decoded.split('/').filter(Boolean);
    // No dotfiles (.env, .git), no traversal, no Windows separators or NUL bytes.
    if (segments.some((s) => s.startsWith('.') || s.includes('\\') || s.includes('\0'))) return notFound();
    let file = join(root, ...segments);
    if (file !== root && !file.startsWith(root + sep)) return notFound();
    let stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      file = join(file, 'index.html');
      stat = statSync(file, { throwIfNoEntry: false });
    }
    if (stat?.isFile()) return send(file, stat.size, stat.mtimeMs, c.req.raw, extname(file) === '.html');
    // A missing asset is a 404 (HTML in place of a script only hides the mistake); a path
    // without an extension is a client-side route: the SPA's index.html answers it.
    if (extname(segments.at(-1) ?? '') !== '') return notFound();
    const index = join(root, 'index.html');
    const indexStat = statSync(index, { throwIfNoEntry: false });
    return indexStat?.isFile() ? send(index, indexStat.size, indexStat.mtimeMs, c.req.raw, true) : notFound();
  };
}
