// @ts-check
'use strict';

const { isAppUrl } = require('./navigation');

/**
 * The preload's channels and who may call them. preload.js repeats these names (a sandboxed
 * preload cannot require local files); a test keeps both lists equal.
 *
 * 'app': only the chat UI served by the backend (the token is for it alone).
 * 'app-or-shell-page': also the shell's own loading and error pages.
 *
 * @type {Readonly<Record<string, 'app' | 'app-or-shell-page'>>}
 */
const CHANNELS = Object.freeze({
  'hearth:get-backend': 'app',
  'hearth:restart-backend': 'app-or-shell-page',
  'hearth:use-cpu-runtime': 'app-or-shell-page',
  'hearth:open-logs': 'app-or-shell-page',
  'hearth:app-version': 'app-or-shell-page',
});

/**
 * True when url is one of the shell's bundled pages (query and hash ignored).
 *
 * @param {string} url
 * @param {readonly string[]} shellPages file: URLs of the bundled pages
 */
function isShellPage(url, shellPages) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'file:') return false;
  return shellPages.some((page) => {
    const known = new URL(page);
    return known.protocol === 'file:' && known.host === parsed.host && known.pathname === parsed.pathname;
  });
}

/**
 * Pure verdict: may a frame at senderUrl call channel?
 *
 * @param {string} channel
 * @param {string | null | undefined} senderUrl URL of the calling frame
 * @param {{appOrigin: string | null | undefined, shellPages: readonly string[]}} context
 * @returns {boolean}
 */
function decideIpc(channel, senderUrl, { appOrigin, shellPages }) {
  const audience = Object.prototype.hasOwnProperty.call(CHANNELS, channel) ? CHANNELS[channel] : undefined;
  if (audience === undefined || !senderUrl) return false;
  if (isAppUrl(senderUrl, appOrigin)) return true;
  return audience === 'app-or-shell-page' && isShellPage(senderUrl, shellPages);
}

module.exports = { CHANNELS, decideIpc, isShellPage };
