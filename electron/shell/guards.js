// @ts-check
'use strict';

const { decideNavigation, decideWindowOpen } = require('../policy/navigation');
const { decidePermission } = require('../policy/permission');

/**
 * @typedef {() => string | null} OriginSource the backend's origin now, null while it is not ready
 */

/**
 * Deny-by-default navigation for one webContents; the verdicts come from policy/navigation.js.
 *
 * @param {import('electron').WebContents} contents
 * @param {OriginSource} appOrigin
 * @param {Pick<import('electron').Shell, 'openExternal'>} shell
 */
function guardContents(contents, appOrigin, shell) {
  const openExternal = (/** @type {string} */ url) => {
    shell.openExternal(url).catch(() => {
      // no browser configured: nothing sensible to do from here
    });
  };

  contents.on('will-navigate', (event, legacyUrl) => {
    const url = event.url ?? legacyUrl;
    const verdict = decideNavigation(url, appOrigin());
    if (verdict === 'allow') return;
    event.preventDefault();
    if (verdict === 'open-external') openExternal(url);
  });
  // will-navigate covers the main frame only; iframes may not leave the app either.
  contents.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame && decideNavigation(event.url, appOrigin()) !== 'allow') event.preventDefault();
  });
  contents.on('will-redirect', (event, legacyUrl) => {
    if (decideNavigation(event.url ?? legacyUrl, appOrigin()) !== 'allow') event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (decideWindowOpen(url, appOrigin()) === 'open-external') openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * Deny-by-default permissions for the session; the verdicts come from policy/permission.js.
 *
 * @param {import('electron').Session} session
 * @param {OriginSource} appOrigin
 */
function guardSession(session, appOrigin) {
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    const requestingUrl = details?.requestingUrl ?? contents?.getURL();
    callback(decidePermission(permission, requestingUrl, appOrigin()));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    decidePermission(permission, requestingOrigin, appOrigin()),
  );
  session.setDevicePermissionHandler(() => false);
}

module.exports = { guardContents, guardSession };
