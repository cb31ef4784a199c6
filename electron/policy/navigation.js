// @ts-check
'use strict';

/**
 * Where the window may go. Pure: the Electron glue asks, these functions answer.
 *
 * @typedef {'allow' | 'deny' | 'open-external'} NavigationVerdict
 */

/** Schemes the system browser may open; everything else (file:, javascript:, custom handlers) is refused. */
const EXTERNAL_PROTOCOLS = new Set(['http:', 'https:']);

/**
 * @param {string} url
 * @returns {URL | null}
 */
function parseUrl(url) {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Normalises an origin such as "http://127.0.0.1:51234" (or a full URL) to URL.origin form.
 *
 * @param {string | null | undefined} appOrigin
 * @returns {string | null}
 */
function normaliseOrigin(appOrigin) {
  if (!appOrigin) return null;
  const parsed = parseUrl(appOrigin);
  return parsed && parsed.protocol === 'http:' ? parsed.origin : null;
}

/**
 * True when url belongs to the running backend (same scheme, host and port).
 *
 * @param {string} url
 * @param {string | null | undefined} appOrigin
 */
function isAppUrl(url, appOrigin) {
  const origin = normaliseOrigin(appOrigin);
  const parsed = parseUrl(url);
  // blob: and filesystem: URLs inherit the origin of their creator; they are not the app.
  return origin !== null && parsed !== null && parsed.protocol === 'http:' && parsed.origin === origin;
}

/**
 * Verdict for a navigation of the app window to url.
 *
 * The app's own origin stays in the window; plain http(s) links go to the system browser;
 * the rest is denied. Links carrying credentials are denied: "http://127.0.0.1:80@evil.example"
 * is a classic way to make a foreign host look local.
 *
 * @param {string} url
 * @param {string | null | undefined} appOrigin origin of the backend, null while it is not ready
 * @returns {NavigationVerdict}
 */
function decideNavigation(url, appOrigin) {
  const parsed = parseUrl(url);
  if (parsed === null) return 'deny';
  if (isAppUrl(url, appOrigin)) return 'allow';
  if (!EXTERNAL_PROTOCOLS.has(parsed.protocol)) return 'deny';
  if (parsed.username !== '' || parsed.password !== '') return 'deny';
  return 'open-external';
}

/**
 * Verdict for window.open / target=_blank: the app never opens a second window of its own.
 *
 * @param {string} url
 * @param {string | null | undefined} appOrigin
 * @returns {'deny' | 'open-external'}
 */
function decideWindowOpen(url, appOrigin) {
  return decideNavigation(url, appOrigin) === 'open-external' ? 'open-external' : 'deny';
}

module.exports = { decideNavigation, decideWindowOpen, isAppUrl, normaliseOrigin };
