import Bowser from 'bowser';
import { sha256 } from '../crypto/encoding.js';
import type { AuthEvent, Session, Store } from '../ports.js';

/** What the sessions list shows about a device. */
export interface DeviceDescription {
  /** Browser family, e.g. "Chrome"; null when the User-Agent says nothing usable. */
  browser: string | null;
  /** Operating system, e.g. "macOS"; null when unknown. */
  os: string | null;
  /** A readable label: "Chrome on macOS", "Firefox", "Unknown device". */
  label: string;
}

const UNKNOWN_DEVICE: DeviceDescription = { browser: null, os: null, label: 'Unknown device' };
const DESCRIPTION_CACHE = new Map<string, DeviceDescription>();

/**
 * Describes a User-Agent with `bowser` (MIT). Never throws: an empty or unparseable value is
 * "Unknown device".
 *
 * @example
 * ```ts
 * describeUserAgent('Mozilla/5.0 (Macintosh; …) Chrome/120.0 Safari/537.36').label; // "Chrome on macOS"
 * ```
 */
export function describeUserAgent(userAgent: string): DeviceDescription {
  const ua = userAgent.slice(0, 512);
  if (ua.trim() === '') return UNKNOWN_DEVICE;
  const cached = DESCRIPTION_CACHE.get(ua);
  if (cached) return cached;
  let description = UNKNOWN_DEVICE;
  try {
    const parsed = Bowser.parse(ua);
    const browser = parsed.browser.name || null;
    const os = parsed.os.name || null;
    const label = browser && os ? `${browser} on ${os}` : (browser ?? os ?? 'Unknown device');
    description = { browser, os, label };
  } catch {
    // bowser throws on some inputs; an unknown device is the honest answer.
  }
  // Bounded: User-Agent strings are attacker-chosen.
  if (DESCRIPTION_CACHE.size >= 2000) DESCRIPTION_CACHE.clear();
  DESCRIPTION_CACHE.set(ua, description);
  return description;
}

/**
 * The network part of an address: IPv4 /24 ("203.0.113"), IPv6 /48 (first three hextets,
 * expanded). Anything else is returned as is (e.g. "unknown").
 */
export function ipPrefix(ip: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}`;
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]?.split('::') ?? [];
    const left = head === '' ? [] : head.split(':');
    const right = tail === '' ? [] : tail.split(':');
    const groups = ip.includes('::')
      ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
      : left;
    return groups
      .slice(0, 3)
      .map((g) => g.replace(/^0+(?=.)/, ''))
      .join(':');
  }
  return ip;
}

/**
 * The coarse fingerprint of a login: browser family, OS and network (/24 or /48). Coarse on
 * purpose: a browser update or a new address in the same network is the same device.
 */
export function deviceFingerprint(userAgent: string, ip: string): string {
  const d = describeUserAgent(userAgent);
  return `${d.browser ?? '?'}|${d.os ?? '?'}|${ipPrefix(ip)}`;
}

/** What a login presents about its device. */
export interface DeviceProbe {
  deviceId: string | null;
  userAgent: string;
  ip: string;
}

/** The device markers recorded with each session-start event (`data`), so later logins can match them. */
export interface DeviceMarkers {
  /** SHA-256 of the device id (the cookie value itself is never stored in events). */
  dh: string | null;
  /** {@link deviceFingerprint}. */
  fp: string;
}

export async function deviceMarkers(probe: DeviceProbe): Promise<DeviceMarkers> {
  return {
    dh: probe.deviceId === null ? null : await sha256(probe.deviceId),
    fp: deviceFingerprint(probe.userAgent, probe.ip),
  };
}

/** How far back the event trail is searched for a known device (pages × page size). */
const HISTORY_PAGES = 5;
const HISTORY_PAGE_SIZE = 100;

function eventMatches(event: AuthEvent, markers: DeviceMarkers): boolean {
  // Any session start (password, second factor, OIDC) records the markers; other events carry none.
  if (event.data === null || typeof event.data.fp !== 'string') return false;
  const { dh, fp } = event.data as Partial<DeviceMarkers>;
  return (markers.dh !== null && dh === markers.dh) || fp === markers.fp;
}

function sessionMatches(session: Session, probe: DeviceProbe, markers: DeviceMarkers): boolean {
  return (
    (probe.deviceId !== null && session.deviceId === probe.deviceId) ||
    deviceFingerprint(session.userAgent, session.ip) === markers.fp
  );
}

/**
 * Whether a login comes from a device the user has used before: any active session, or any
 * earlier session start in the retained audit trail, with the same device id (cookie) or the
 * same coarse fingerprint. The trail is kept for `eventsRetention`, so a device unused for longer
 * counts as new again.
 */
export async function isKnownDevice(
  store: Store,
  userId: string,
  probe: DeviceProbe,
  markers: DeviceMarkers,
  now: number,
): Promise<boolean> {
  const active = await store.listActiveSessions(userId, now);
  if (active.some((s) => sessionMatches(s, probe, markers))) return true;
  let before: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const result = await store.listEvents(userId, { limit: HISTORY_PAGE_SIZE, before });
    if (result.events.some((e) => eventMatches(e, markers))) return true;
    if (result.nextCursor === null) return false;
    before = result.nextCursor;
  }
  return false;
}
