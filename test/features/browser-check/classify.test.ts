// The classification table of docs/browsers.md, on User-Agent strings of real browsers (each row
// says why it lands where it does), and the request signals that move a browser to `degraded`.
import { describe, expect, it } from 'vitest';
import {
  type BrowserReason,
  type BrowserStatus,
  classifyBrowser,
  unsupportedReason,
} from '../../../src/features/browser-check/classify.js';

interface Row {
  name: string;
  ua: string;
  status: BrowserStatus;
  reason: BrowserReason | null;
  why: string;
}

/** What the User-Agent alone decides: unsupported and degraded browsers, whatever headers they send. */
const FIXED: Row[] = [
  {
    name: 'Internet Explorer 5.5 (Windows 2000)',
    ua: 'Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)',
    status: 'unsupported',
    reason: 'httponly_ignored',
    why: 'HttpOnly arrived with IE 6 SP1 (2002)',
  },
  {
    name: 'Internet Explorer 6 (Windows XP SP2)',
    ua: 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'IE before 11 never implemented SameSite',
  },
  {
    name: 'Internet Explorer 8 (Windows 7)',
    ua: 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; SLCC2; .NET CLR 2.0.50727)',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'IE before 11 never implemented SameSite',
  },
  {
    name: 'Internet Explorer 10 (Windows 8)',
    ua: 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'IE before 11 never implemented SameSite',
  },
  {
    name: 'Internet Explorer 11 (Windows 7)',
    ua: 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'IE 11 got SameSite only on Windows 10 1709+ (June 2018 update)',
  },
  {
    name: 'Internet Explorer 11 (Windows 8.1)',
    ua: 'Mozilla/5.0 (Windows NT 6.3; Trident/7.0; rv:11.0) like Gecko',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'IE 11 got SameSite only on Windows 10 1709+ (June 2018 update)',
  },
  {
    name: 'Internet Explorer 11 (Windows 10)',
    ua: 'Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko',
    status: 'unsupported',
    reason: 'retired_browser',
    why: 'retired June 2022; SameSite depends on an update the request cannot show; no cookie prefixes',
  },
  {
    name: 'Edge Legacy 12 (Windows 10 1507)',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36 Edge/12.10240',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'EdgeHTML before 16 ignores SameSite (its Chrome/42 token must not count)',
  },
  {
    name: 'Edge Legacy 15 (Windows 10 1703)',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Safari/537.36 Edge/15.15063',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'EdgeHTML before 16 ignores SameSite',
  },
  {
    name: 'Edge Legacy 18 (Windows 10 1809)',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.17763',
    status: 'unsupported',
    reason: 'retired_browser',
    why: 'retired March 2021 (no security fixes), no cookie prefixes, no Origin on POST',
  },
  {
    name: 'Chrome 49 (Windows XP, its last)',
    ua: 'Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'SameSite from Chrome 51',
  },
  {
    name: 'Samsung Internet 4 (Chromium 44)',
    ua: 'Mozilla/5.0 (Linux; Android 5.0.2; SAMSUNG SM-G925F Build/LRX22G) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/44.0.2403.133 Mobile Safari/537.36',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'SameSite from Chromium 51 (Samsung Internet 5)',
  },
  {
    name: 'Android 4.0 stock browser',
    ua: 'Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'the pre-Chromium Android WebKit never implemented SameSite',
  },
  {
    name: 'Firefox 2 (Windows XP)',
    ua: 'Mozilla/5.0 (Windows; U; Windows NT 5.1; en-US; rv:1.8.1.20) Gecko/20081217 Firefox/2.0.0.20',
    status: 'unsupported',
    reason: 'httponly_ignored',
    why: 'HttpOnly from Firefox 3 (Gecko 1.9)',
  },
  {
    name: 'Firefox 52 ESR (Windows XP, its last)',
    ua: 'Mozilla/5.0 (Windows NT 5.1; rv:52.0) Gecko/20100101 Firefox/52.0',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'SameSite from Firefox 60',
  },
  {
    name: 'Safari 4 (Mac OS X 10.5)',
    ua: 'Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_5_8; en-us) AppleWebKit/531.22.7 (KHTML, like Gecko) Version/4.0.5 Safari/531.22.7',
    status: 'unsupported',
    reason: 'httponly_ignored',
    why: 'HttpOnly from Safari 5',
  },
  {
    name: 'Safari 11.1 (macOS 10.13)',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/11.1.2 Safari/605.1.15',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'SameSite from Safari 12',
  },
  {
    name: 'Safari 12.1 (macOS 10.14 Mojave)',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15',
    status: 'degraded',
    reason: 'cookie_prefixes_ignored',
    why: 'Lax/Strict work (its SameSite=None bug does not touch Tokenward); __Host- enforced from 13',
  },
  {
    name: 'Safari on iOS 3 (first iPhone)',
    ua: 'Mozilla/5.0 (iPhone; U; CPU iPhone OS 3_0 like Mac OS X; en-us) AppleWebKit/528.18 (KHTML, like Gecko) Version/4.0 Mobile/7A341 Safari/528.16',
    status: 'unsupported',
    reason: 'httponly_ignored',
    why: 'HttpOnly from iOS 4',
  },
  {
    name: 'Safari on iOS 12.1',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'SameSite on iOS from 12.2',
  },
  {
    name: 'Chrome on iOS 12.1 (system WebKit)',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/71.0.3578.77 Mobile/15E148 Safari/605.1',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'every iOS browser is the system WebKit: the iOS version decides, not CriOS/71',
  },
  {
    name: 'Safari on iOS 12.5 (iPhone 6, its last)',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1',
    status: 'degraded',
    reason: 'cookie_prefixes_ignored',
    why: 'SameSite works from 12.2; __Host- enforced from 13',
  },
  {
    name: 'Opera 9.2 (Presto)',
    ua: 'Opera/9.25 (Windows NT 5.1; U; en)',
    status: 'unsupported',
    reason: 'httponly_ignored',
    why: 'HttpOnly from Opera 9.5',
  },
  {
    name: 'Opera 12 (Presto, its last)',
    ua: 'Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'Presto never implemented SameSite',
  },
  {
    name: 'Opera Mini (Presto)',
    ua: 'Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54',
    status: 'unsupported',
    reason: 'samesite_ignored',
    why: 'Presto never implemented SameSite',
  },
];

/** Browsers whose verdict depends on the request: supported with Fetch Metadata, degraded without. */
const BY_REQUEST: Array<{ name: string; ua: string; without: BrowserReason; why: string }> = [
  {
    name: 'Chrome 66',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/66.0.3359.181 Safari/537.36',
    without: 'no_fetch_metadata',
    why: 'SameSite from 51, Sec-Fetch-Site from 76',
  },
  {
    name: 'Chrome 75',
    ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 Safari/537.36',
    without: 'no_fetch_metadata',
    why: 'Sec-Fetch-Site from 76',
  },
  {
    name: 'Chrome 76',
    ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/76.0.3809.100 Safari/537.36',
    without: 'fetch_metadata_stripped',
    why: 'sends Sec-Fetch-Site: without it, something removed it',
  },
  {
    name: 'Headless Chromium 120 (the test browser)',
    ua: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.224 Safari/537.36',
    without: 'fetch_metadata_stripped',
    why: 'sends Sec-Fetch-Site',
  },
  {
    name: 'Edge 120 (Chromium)',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
    without: 'fetch_metadata_stripped',
    why: 'Chromium Edge is Chromium (Edg/, not Edge/)',
  },
  {
    name: 'Opera 105 (Chromium)',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0',
    without: 'fetch_metadata_stripped',
    why: 'Chromium-based',
  },
  {
    name: 'Android WebView (Chromium 120)',
    ua: 'Mozilla/5.0 (Linux; Android 10; K; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36',
    without: 'fetch_metadata_stripped',
    why: 'the Chrome token of a WebView is its Chromium',
  },
  {
    name: 'Firefox 60 ESR',
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0) Gecko/20100101 Firefox/60.0',
    without: 'no_fetch_metadata',
    why: 'SameSite from 60, Sec-Fetch-Site from 90',
  },
  {
    name: 'Firefox 89',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:89.0) Gecko/20100101 Firefox/89.0',
    without: 'no_fetch_metadata',
    why: 'Sec-Fetch-Site from 90',
  },
  {
    name: 'Firefox 121',
    ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
    without: 'fetch_metadata_stripped',
    why: 'sends Sec-Fetch-Site',
  },
  {
    name: 'Safari 13.1 (macOS 10.15)',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1 Safari/605.1.15',
    without: 'no_fetch_metadata',
    why: 'cookie prefixes from 13, Sec-Fetch-Site from 16.4',
  },
  {
    name: 'Safari 16.3',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.3 Safari/605.1.15',
    without: 'no_fetch_metadata',
    why: 'Sec-Fetch-Site from 16.4',
  },
  {
    name: 'Safari 17.2',
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
    without: 'fetch_metadata_stripped',
    why: 'sends Sec-Fetch-Site',
  },
  {
    name: 'Safari on iOS 15.8',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1',
    without: 'no_fetch_metadata',
    why: 'Sec-Fetch-Site on iOS from 16.4',
  },
  {
    name: 'Firefox on iOS 17 (system WebKit)',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15',
    without: 'fetch_metadata_stripped',
    why: 'iOS 17 WebKit sends Sec-Fetch-Site',
  },
  {
    name: 'an iOS 17 web view (no browser token)',
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
    without: 'fetch_metadata_stripped',
    why: 'the iOS version is enough',
  },
  {
    name: 'Samsung Internet 23',
    ua: 'Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
    without: 'fetch_metadata_stripped',
    why: 'Chromium 115',
  },
  {
    name: 'curl',
    ua: 'curl/8.5.0',
    without: 'unknown_browser',
    why: 'names no browser',
  },
  {
    name: 'no User-Agent at all',
    ua: '',
    without: 'unknown_browser',
    why: 'names no browser',
  },
];

describe('browser check › the classification table (docs/browsers.md)', () => {
  for (const row of FIXED) {
    it(`${row.name} is ${row.status} (${row.reason}): ${row.why}`, () => {
      const expected = { status: row.status, reason: row.reason };
      // The User-Agent decides, whatever the request carries.
      expect(classifyBrowser({ userAgent: row.ua, secFetchSite: null })).toEqual(expected);
      expect(classifyBrowser({ userAgent: row.ua, secFetchSite: 'same-origin' })).toEqual(expected);
      expect(unsupportedReason(row.ua)).toBe(row.status === 'unsupported' ? row.reason : null);
    });
  }

  for (const row of BY_REQUEST) {
    it(`${row.name}: supported with Sec-Fetch-Site, degraded (${row.without}) without — ${row.why}`, () => {
      expect(classifyBrowser({ userAgent: row.ua, secFetchSite: 'same-origin' })).toEqual({
        status: 'supported',
        reason: null,
      });
      expect(classifyBrowser({ userAgent: row.ua, secFetchSite: null })).toEqual({
        status: 'degraded',
        reason: row.without,
      });
      // Never refused at login: the fallback layers serve it.
      expect(unsupportedReason(row.ua)).toBeNull();
    });
  }
});

describe('browser check › request signals', () => {
  const chrome =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

  it('every Fetch Metadata value counts (same-origin, same-site, cross-site, none), in any case', () => {
    for (const site of ['same-origin', 'same-site', 'cross-site', 'none', 'Same-Origin', ' none ']) {
      expect(classifyBrowser({ userAgent: chrome, secFetchSite: site }).status, site).toBe('supported');
    }
  });

  it('a Sec-Fetch-Site value no browser sends is no Fetch Metadata', () => {
    for (const site of ['', 'same-origin, same-origin', 'evil', 'x'.repeat(5000)]) {
      expect(classifyBrowser({ userAgent: chrome, secFetchSite: site }), site.slice(0, 20)).toEqual({
        status: 'degraded',
        reason: 'fetch_metadata_stripped',
      });
    }
  });

  it('hostile User-Agent strings never throw and never block', () => {
    const hostile = [
      'x'.repeat(100_000),
      'Mozilla/5.0 (compatible; MSIE 99999999999999999999999.0)',
      'Chrome/99999999999999999999999999',
      'Chrome/-1',
      'Edge/',
      'rv:.',
      'Mozilla/5.0 (iPhone; CPU iPhone OS _ like Mac OS X)',
      '\u0000\u0001\u007f\uffff\ud800',
      '(((((((((((((((((((((((((((((((((((((((((((((((((((',
      `${'Mozilla/5.0 ('.repeat(500)}Trident/7.0`,
    ];
    for (const ua of hostile) {
      const verdict = classifyBrowser({ userAgent: ua, secFetchSite: null });
      expect(['supported', 'degraded', 'unsupported']).toContain(verdict.status);
    }
    // A huge number is not a tiny one: Chrome/<20 digits> is not "Chrome < 51".
    expect(unsupportedReason('Chrome/99999999999999999999999999')).toBeNull();
  });

  it('the same User-Agent always gets the same verdict (the cache returns what the parse said)', () => {
    const ie = 'Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko';
    for (let i = 0; i < 3; i++) expect(unsupportedReason(ie)).toBe('samesite_ignored');
    // Beyond the cache bound, entries are dropped, never wrong.
    for (let i = 0; i < 2100; i++) classifyBrowser({ userAgent: `probe/${i}`, secFetchSite: null });
    expect(unsupportedReason(ie)).toBe('samesite_ignored');
  });
});
