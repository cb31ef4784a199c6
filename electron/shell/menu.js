// @ts-check
'use strict';

/** @typedef {import('electron').MenuItemConstructorOptions} MenuItem */

/**
 * The application menu as data (Menu.buildFromTemplate input). Pure.
 *
 * @param {object} options
 * @param {boolean} options.isMac
 * @param {boolean} options.isDev developer tools and force reload only in development
 * @param {string} options.appName
 * @param {{restartBackend: () => void, useCpuRuntime: () => void, openLogs: () => void}} options.actions
 * @returns {MenuItem[]}
 */
function menuTemplate({ isMac, isDev, appName, actions }) {
  /** @type {MenuItem[]} */
  const devTools = isDev ? [{ role: 'forceReload' }, { role: 'toggleDevTools' }] : [];
  /** @type {MenuItem[]} */
  const view = [
    { role: 'reload' },
    ...devTools,
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  /** @type {MenuItem[]} */
  const backend = [
    { label: 'Restart Backend', click: () => actions.restartBackend() },
    { label: 'Use CPU Runtime', click: () => actions.useCpuRuntime() },
    { type: 'separator' },
    { label: 'Open Logs Folder', click: () => actions.openLogs() },
  ];
  /** @type {MenuItem[]} */
  const macApp = [
    { role: 'about' },
    { type: 'separator' },
    { role: 'hide' },
    { role: 'hideOthers' },
    { role: 'unhide' },
    { type: 'separator' },
    { role: 'quit' },
  ];
  /** @type {MenuItem[]} */
  const template = [
    ...(isMac ? [{ label: appName, submenu: macApp }] : []),
    { label: 'File', submenu: [isMac ? { role: 'close' } : { role: 'quit' }] },
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    { label: 'Backend', submenu: backend },
    { role: 'windowMenu' },
    ...(isMac ? [] : [{ label: 'Help', submenu: [{ role: /** @type {const} */ ('about') }] }]),
  ];
  return template;
}

module.exports = { menuTemplate };
