// @ts-check
'use strict';

const { isAppUrl } = require('./navigation');

/**
 * Permissions the chat UI needs, and only for its own origin: copying an answer and
 * fullscreen. Camera, microphone, geolocation, notifications, MIDI, HID, serial... are denied
 * until a feature needs one and adds it here with a test row.
 */
const ALLOWED_FOR_APP = new Set(['clipboard-sanitized-write', 'fullscreen']);

/**
 * Pure verdict for a permission request or check.
 *
 * @param {string} permission Electron's permission name
 * @param {string | null | undefined} requestingUrl requesting URL or origin ("" / "null" for opaque origins)
 * @param {string | null | undefined} appOrigin origin of the backend, null while it is not ready
 * @returns {boolean}
 */
function decidePermission(permission, requestingUrl, appOrigin) {
  if (!ALLOWED_FOR_APP.has(permission)) return false;
  return isAppUrl(requestingUrl ?? '', appOrigin);
}

module.exports = { decidePermission, ALLOWED_FOR_APP };
