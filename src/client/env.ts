/**
 * The few browser APIs the SDK touches, typed structurally.
 *
 * Why not the DOM types directly: the SDK must also type-check inside the Node test project
 * (which has no DOM lib), and the unit tests inject fakes for every one of them.
 */

/**
 * The subset of the Web Locks `LockManager` (`navigator.locks`) the SDK uses.
 *
 * @example
 * ```ts
 * const locks: LockManagerLike = navigator.locks;
 * await locks.request('tokenward-refresh', { ifAvailable: true }, (lock) => lock !== null);
 * ```
 */
export interface LockManagerLike {
  request<T>(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => T | Promise<T>): Promise<T>;
}

/**
 * The subset of `BroadcastChannel` the SDK uses.
 *
 * @example
 * ```ts
 * const channel: ChannelLike = new BroadcastChannel('tokenward');
 * channel.onmessage = ({ data }) => console.log(data);
 * ```
 */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

/**
 * The subset of `document` the SDK uses: reading the CSRF cookie and page visibility.
 *
 * @example
 * ```ts
 * const doc: DocumentLike = document;
 * doc.addEventListener('visibilitychange', () => console.log(doc.visibilityState));
 * ```
 */
export interface DocumentLike {
  readonly cookie: string;
  readonly visibilityState?: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}
