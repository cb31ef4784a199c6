// @ts-check
'use strict';

const { spawn } = require('node:child_process');

/*
 * Signals to the backend and everything it started. On POSIX the backend is spawned detached,
 * so it leads its own process group and kill(-pid) reaches grandchildren. Windows has no groups:
 * taskkill /T walks the tree by parent pid instead.
 */

/**
 * @param {string[]} args
 */
function taskkill(args) {
  const child = spawn('taskkill', args, { stdio: 'ignore', windowsHide: true });
  child.on('error', () => {
    // taskkill missing or the tree already gone: nothing left to do
  });
}

/**
 * @param {number} pid
 * @param {NodeJS.Signals} signal
 */
function send(pid, signal) {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Ask the backend to shut down: SIGTERM to the process itself (it stops its own children),
 * `taskkill /PID pid /T` on Windows.
 *
 * @param {number} pid
 * @param {NodeJS.Platform} [platform]
 */
function askToStop(pid, platform = process.platform) {
  if (platform === 'win32') taskkill(['/PID', String(pid), '/T']);
  else send(pid, 'SIGTERM');
}

/**
 * Kill the backend's whole tree at once: SIGKILL to its process group, `taskkill /T /F` on Windows.
 * Also used after the leader has exited, to reap grandchildren it left behind.
 *
 * @param {number} pid
 * @param {NodeJS.Platform} [platform]
 */
function killTree(pid, platform = process.platform) {
  if (platform === 'win32') taskkill(['/PID', String(pid), '/T', '/F']);
  else send(-pid, 'SIGKILL');
}

module.exports = { askToStop, killTree };
