import { Counter, Gauge, Registry } from 'prom-client';

/** Prometheus metrics (`GET /metrics`). Cheap to update on hot paths. */
export class Metrics {
  readonly registry = new Registry();
  readonly authEvents = new Counter({
    name: 'tokenward_events_total',
    help: 'Audit events by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly refreshes = new Counter({
    name: 'tokenward_refresh_total',
    help: 'Refresh attempts by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly rejectedTokens = new Counter({
    name: 'tokenward_rejected_tokens_total',
    help: 'Rejected access tokens',
    registers: [this.registry],
  });
  readonly csrfRejected = new Counter({
    name: 'tokenward_csrf_rejected_total',
    help: 'Requests rejected by the CSRF rule',
    registers: [this.registry],
  });
  readonly largestCookieHeader = new Gauge({
    name: 'tokenward_largest_cookie_header_bytes',
    help: 'Largest Cookie request header seen',
    registers: [this.registry],
  });
  readonly revokedSessions = new Gauge({
    name: 'tokenward_revoked_sessions_tracked',
    help: 'Revoked session ids in the in-memory denylist',
    registers: [this.registry],
  });
  #largest = 0;

  observeCookieHeader(length: number): void {
    if (length > this.#largest) {
      this.#largest = length;
      this.largestCookieHeader.set(length);
    }
  }
}
