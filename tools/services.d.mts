/** Types of tools/services.mjs (real PostgreSQL and Redis servers for tests and benchmarks). */

type Log = (line: string) => void;

/** The newest `/usr/lib/postgresql/<version>/bin` holding `initdb`, or null. */
export function findPostgresBin(): string | null;

/** Installs the missing Debian packages (`apt-get update` + `apt-get install -y`); resolves with what was installed. */
export function ensureSystemPackages(options?: { log?: Log; packages?: string[] }): Promise<string[]>;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number>;

/** A throwaway PostgreSQL cluster. */
export interface PostgresService {
  /** `postgres://tokenward@127.0.0.1:<port>/tokenward` (trust authentication on loopback). */
  url: string;
  port: number;
  dir: string;
  isRunning(): boolean;
  /** Starts it again after `kill()` (same port, same data). */
  start(): Promise<void>;
  /** Fast shutdown, optional pause, start again on the same port with the same data. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL of the postmaster (a crash). */
  kill(): Promise<void>;
  /** Stops it and deletes the cluster (final). */
  stop(): Promise<void>;
}

/** A throwaway Redis server (no persistence). */
export interface RedisService {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  isRunning(): boolean;
  /** Starts it again after `kill()` (same port, empty). */
  start(): Promise<void>;
  /** Stops it if running, optional pause, starts it again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** SIGKILL (a crash). */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers (a hung server). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Stops it and deletes its directory (final). */
  stop(): Promise<void>;
}

export function startPostgres(options?: { log?: Log; maxConnections?: number }): Promise<PostgresService>;
export function startRedis(options?: { log?: Log }): Promise<RedisService>;
