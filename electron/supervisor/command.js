// @ts-check
'use strict';

const path = require('node:path');

/**
 * @typedef {object} BackendCommand
 * @property {string} command executable
 * @property {string[]} args never carries the token
 * @property {string} cwd
 */

/**
 * How to launch the backend: the PyInstaller onedir shipped in resources, or the repo's venv. Pure.
 *
 * @param {object} where
 * @param {boolean} where.packaged app.isPackaged
 * @param {string} where.resourcesPath process.resourcesPath (packaged)
 * @param {string} where.repoRoot the checkout (dev)
 * @param {NodeJS.Platform} [where.platform]
 * @returns {BackendCommand}
 */
function backendCommand({ packaged, resourcesPath, repoRoot, platform = process.platform }) {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (packaged) {
    const dir = p.join(resourcesPath, 'backend');
    const exe = platform === 'win32' ? 'hearth-backend.exe' : 'hearth-backend';
    return { command: p.join(dir, exe), args: ['serve'], cwd: dir };
  }
  const python =
    platform === 'win32' ? p.join(repoRoot, '.venv', 'Scripts', 'python.exe') : p.join(repoRoot, '.venv', 'bin', 'python');
  return { command: python, args: ['-m', 'hearth', 'serve'], cwd: repoRoot };
}

module.exports = { backendCommand };
