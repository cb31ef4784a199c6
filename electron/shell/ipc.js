// @ts-check
'use strict';

const { CHANNELS, decideIpc } = require('../policy/ipc');

/**
 * Registers one handler per preload channel; each call is checked against policy/ipc.js first.
 *
 * @param {Pick<import('electron').IpcMain, 'handle'>} ipcMain
 * @param {Record<string, () => unknown>} handlers by channel; must cover CHANNELS exactly
 * @param {{appOrigin: () => string | null, shellPages: readonly string[]}} context
 */
function registerIpc(ipcMain, handlers, { appOrigin, shellPages }) {
  const missing = Object.keys(CHANNELS).filter((channel) => typeof handlers[channel] !== 'function');
  const extra = Object.keys(handlers).filter((channel) => !Object.prototype.hasOwnProperty.call(CHANNELS, channel));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`IPC handlers do not match policy/ipc.js (missing: ${missing}, extra: ${extra})`);
  }
  for (const channel of Object.keys(CHANNELS)) {
    ipcMain.handle(channel, (event) => {
      const sender = event.senderFrame?.url;
      if (!decideIpc(channel, sender, { appOrigin: appOrigin(), shellPages })) {
        throw new Error(`${channel} is not available to ${sender ?? 'an unknown frame'}`);
      }
      return handlers[channel]();
    });
  }
}

module.exports = { registerIpc };
