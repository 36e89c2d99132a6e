import type { TokenwardClient } from '../../src/client/index.js';

export interface PageContext {
  navigate(path: string, options?: { replace?: boolean }): void;
  client: TokenwardClient;
}

/** A page of the demo: `render` returns its element at once and loads its data itself. */
export interface Page {
  title: string;
  requiresAuth: boolean;
  render(context: PageContext): HTMLElement;
}
