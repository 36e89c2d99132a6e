/** Types of tools/pack.mjs for the TypeScript tests. */
export const ROOT: string;
export const CACHE_DIR: string;
export function contentHash(paths: string[], extra?: string): string;
export function cachedDir(
  name: string,
  produce: (staging: string) => Promise<void>,
  options?: { staleMs?: number; log?: (line: string) => void },
): Promise<string>;
export function packTarball(options?: { log?: (line: string) => void }): Promise<{
  tarball: string;
  key: string;
  info: {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
    files: Array<{ path: string; size: number }>;
  };
}>;
