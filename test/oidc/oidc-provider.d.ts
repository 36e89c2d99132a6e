/** The part of oidc-provider's API the OIDC tests use (the package ships no type declarations). */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context oidc-provider middleware sees. */
  export interface ProviderContext {
    path: string;
    method: string;
    status: number;
    body: unknown;
    // biome-ignore lint/suspicious/noExplicitAny: oidc-provider's request context is untyped.
    oidc: any;
  }

  export interface Grant {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): void;
    Grant: new (init: {
      clientId: string;
      accountId: string;
    }) => Grant;
    on(event: string, listener: (...args: unknown[]) => void): void;
  }
}
