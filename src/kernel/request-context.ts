/** Where a request comes from (for limits, events and the sessions list). */
export interface RequestContext {
  ip: string;
  userAgent: string;
  deviceId: string | null;
  /**
   * The OAuth client a session started by this request is issued to (`/auth/token`: the
   * request's `client_id`); absent for the browser transport, whose sessions belong to the
   * browser client (the public origin).
   */
  clientId?: string;
}
