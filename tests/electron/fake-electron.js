'use strict';
/*
 * A small working stand-in for the parts of the electron module that electron/shell/ uses, so
 * the glue runs under plain Node (the Electron binary cannot be installed here). It records what
 * the shell asked for; it does not render anything.
 */
const { EventEmitter } = require('node:events');

class FakeEvent {
  constructor(fields = {}) {
    Object.assign(this, fields);
    this.defaultPrevented = false;
  }

  preventDefault() {
    this.defaultPrevented = true;
  }
}

class FakeWebContents extends EventEmitter {
  constructor() {
    super();
    this.windowOpenHandler = null;
    this.url = '';
  }

  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler;
  }

  getURL() {
    return this.url;
  }
}

function createFakeElectron({ singleInstance = true, packaged = false } = {}) {
  const calls = { quit: 0, openExternal: [], openPath: [], menus: [], windows: [] };
  let markReady;
  const ready = new Promise((resolve) => {
    markReady = resolve;
  });

  const app = new EventEmitter();
  Object.assign(app, {
    name: 'Hearth',
    isPackaged: packaged,
    sandboxEnabled: false,
    requestSingleInstanceLock: () => singleInstance,
    enableSandbox() {
      this.sandboxEnabled = true;
    },
    getPath: (name) => `/tmp/hearth-fake-electron/${name}`,
    getVersion: () => '0.1.0',
    whenReady: () => ready,
    quit() {
      calls.quit += 1;
      const event = new FakeEvent();
      app.emit('before-quit', event);
      if (!event.defaultPrevented) app.emit('quit');
    },
  });

  class BrowserWindow extends EventEmitter {
    constructor(options) {
      super();
      this.options = options;
      this.webContents = new FakeWebContents();
      this.loads = [];
      this.destroyed = false;
      calls.windows.push(this);
      app.emit('web-contents-created', new FakeEvent(), this.webContents);
    }

    loadURL(url) {
      this.loads.push({ url });
      this.webContents.url = url;
      return Promise.resolve();
    }

    loadFile(file, options = {}) {
      this.loads.push({ file, query: options.query });
      this.webContents.url = `file://${file}`;
      return Promise.resolve();
    }

    isDestroyed() {
      return this.destroyed;
    }

    isMinimized() {
      return false;
    }

    restore() {}

    focus() {}

    show() {}
  }

  const handlers = new Map();
  const ipcMain = {
    handle(channel, handler) {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, handler);
    },
    /** Simulates ipcRenderer.invoke from a frame at senderUrl. */
    async invoke(channel, senderUrl) {
      const handler = handlers.get(channel);
      if (!handler) throw new Error(`No handler registered for '${channel}'`);
      return handler({ senderFrame: senderUrl === null ? null : { url: senderUrl } });
    },
    channels: () => [...handlers.keys()],
  };

  const defaultSession = {
    permissionRequestHandler: null,
    permissionCheckHandler: null,
    devicePermissionHandler: null,
    setPermissionRequestHandler(handler) {
      this.permissionRequestHandler = handler;
    },
    setPermissionCheckHandler(handler) {
      this.permissionCheckHandler = handler;
    },
    setDevicePermissionHandler(handler) {
      this.devicePermissionHandler = handler;
    },
  };

  const electron = {
    app,
    BrowserWindow,
    ipcMain,
    session: { defaultSession },
    Menu: {
      buildFromTemplate: (template) => ({ template }),
      setApplicationMenu: (menu) => calls.menus.push(menu),
    },
    shell: {
      openExternal: async (url) => {
        calls.openExternal.push(url);
      },
      openPath: async (file) => {
        calls.openPath.push(file);
        return '';
      },
    },
  };
  return { electron, calls, ready: () => markReady(), FakeEvent };
}

module.exports = { createFakeElectron };
