// @ts-check
'use strict';

const path = require('node:path');
const { pathToFileURL } = require('node:url');

const { normaliseOrigin } = require('../policy/navigation');
const { Supervisor, backendCommand } = require('../supervisor');
const { guardContents, guardSession } = require('./guards');
const { registerIpc } = require('./ipc');
const { menuTemplate } = require('./menu');
const { screenFor } = require('./screens');

const PAGES = Object.freeze({
  loading: path.join(__dirname, '..', 'pages', 'loading.html'),
  error: path.join(__dirname, '..', 'pages', 'error.html'),
});
const PRELOAD = path.join(__dirname, '..', 'preload.js');
const REPO_ROOT = path.join(__dirname, '..', '..');

/**
 * @typedef {object} ShellOptions
 * @property {(context: {app: import('electron').App, logsDir: string}) => Supervisor} [createSupervisor]
 */

/** @param {{app: import('electron').App, logsDir: string}} context */
function defaultSupervisor({ app, logsDir }) {
  return new Supervisor({
    command: backendCommand({ packaged: app.isPackaged, resourcesPath: process.resourcesPath, repoRoot: REPO_ROOT }),
    logFile: path.join(logsDir, 'backend.log'),
  });
}

/**
 * @param {typeof import('electron').BrowserWindow} BrowserWindow
 * @param {boolean} isDev
 */
function createWindow(BrowserWindow, isDev) {
  const win = new BrowserWindow({
    width: 1100,
    height: 780,
    minWidth: 480,
    minHeight: 400,
    title: 'Hearth',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
      // Chromium's spellchecker downloads dictionaries from Google: not for an offline, private app.
      spellcheck: false,
      devTools: isDev,
    },
  });
  win.once('ready-to-show', () => win.show());
  return win;
}

/**
 * @param {import('electron').BrowserWindow | null} win
 * @param {import('./screens').Screen | null} screen
 */
function show(win, screen) {
  if (win === null || win.isDestroyed() || screen === null) return;
  // A newer load aborts the one in flight (ERR_ABORTED): expected while the backend restarts.
  const ignore = () => {};
  if (screen.kind === 'url') win.loadURL(screen.url).catch(ignore);
  else win.loadFile(PAGES[screen.page], { query: screen.query }).catch(ignore);
}

/**
 * The Electron glue: lifecycle, the one window, IPC and menu wired to the supervisor and the
 * policies. Takes the electron module as an argument so tests can hand it a fake.
 *
 * @param {typeof import('electron')} electron
 * @param {ShellOptions} [options]
 * @returns {{supervisor: Supervisor} | null} null when another instance already runs
 */
function startShell(electron, options = {}) {
  const { app, BrowserWindow, Menu, ipcMain, session, shell } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }
  app.enableSandbox();

  const isDev = !app.isPackaged;
  const logsDir = app.getPath('logs');
  const supervisor = (options.createSupervisor ?? defaultSupervisor)({ app, logsDir });
  const shellPages = Object.values(PAGES).map((page) => pathToFileURL(page).href);
  const appOrigin = () => (supervisor.backend ? normaliseOrigin(supervisor.backend.url) : null);
  const actions = {
    restartBackend: () => supervisor.restart(),
    useCpuRuntime: () => supervisor.useCpuRuntime(),
    openLogs: () => {
      shell.openPath(logsDir).catch(() => {});
    },
  };
  /** @type {import('electron').BrowserWindow | null} */
  let win = null;

  app.on('second-instance', () => {
    if (win === null || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('web-contents-created', (_event, contents) => guardContents(contents, appOrigin, shell));

  app.whenReady().then(() => {
    guardSession(session.defaultSession, appOrigin);
    registerIpc(
      ipcMain,
      {
        'hearth:get-backend': () => {
          const backend = supervisor.backend;
          return backend ? { url: backend.url, token: backend.token } : null;
        },
        'hearth:restart-backend': () => actions.restartBackend(),
        'hearth:use-cpu-runtime': () => actions.useCpuRuntime(),
        'hearth:open-logs': () => actions.openLogs(),
        'hearth:app-version': () => app.getVersion(),
      },
      { appOrigin, shellPages },
    );
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(menuTemplate({ isMac: process.platform === 'darwin', isDev, appName: app.name, actions })),
    );
    win = createWindow(BrowserWindow, isDev);
    supervisor.on('state', (event) => show(win, screenFor(event)));
    supervisor.start();
  });

  // One window, one backend: closing it ends the app on every platform, macOS included.
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (event) => {
    if (supervisor.state === 'stopped') return;
    event.preventDefault();
    supervisor.stop().finally(() => app.quit());
  });

  return { supervisor };
}

module.exports = { startShell, PAGES, PRELOAD };
