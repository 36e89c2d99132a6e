import type { DeviceDescription } from './device.js';

/** What the `onNewDevice` hook receives: enough to send "was this you?" without writing auth code. */
export interface NewDeviceAlert {
  user: { id: string; email: string; name: string | null };
  session: { id: string; createdAt: string; ip: string; device: DeviceDescription };
  /**
   * A signed link that, opened and confirmed, revokes this session and records an event
   * (`{basePath}/sessions/not-me?token=…`). It works once and only while the session can live.
   */
  notMeUrl: string;
}

/** Called for each session from a new device; it may be async; it never delays the login and its errors are logged. */
export type NewDeviceHook = (alert: NewDeviceAlert) => void | Promise<void>;
