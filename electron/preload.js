// @ts-check
'use strict';

/*
 * The page's whole view of the shell: five functions, no arguments passed through, no
 * ipcRenderer leaked. Sandboxed preloads can require only 'electron', so the channel names are
 * written out here; electron/policy/ipc.js lists them again with who may call each, and a test
 * keeps both equal. Types for the frontend: electron/hearth-api.d.ts.
 */
const { contextBridge, ipcRenderer } = require('electron');

contextBridge.exposeInMainWorld(
  'hearth',
  Object.freeze({
    /** @returns {Promise<{url: string, token: string} | null>} null while the backend is not ready */
    getBackend: () => ipcRenderer.invoke('hearth:get-backend'),
    /** @returns {Promise<void>} */
    restartBackend: () => ipcRenderer.invoke('hearth:restart-backend'),
    /** @returns {Promise<void>} */
    useCpuRuntime: () => ipcRenderer.invoke('hearth:use-cpu-runtime'),
    /** @returns {Promise<void>} */
    openLogs: () => ipcRenderer.invoke('hearth:open-logs'),
    /** @returns {Promise<string>} */
    appVersion: () => ipcRenderer.invoke('hearth:app-version'),
  }),
);
