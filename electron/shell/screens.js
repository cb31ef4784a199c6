// @ts-check
'use strict';

/**
 * What the window shows for each supervisor state. Pure.
 *
 * @typedef {{kind: 'page', page: 'loading' | 'error', query: Record<string, string>}
 *   | {kind: 'url', url: string}} Screen
 */

/** @param {number} ms */
const seconds = (ms) => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * @param {{state: string} & Record<string, any>} event a supervisor 'state' event
 * @returns {Screen | null} null: leave the window as it is
 */
function screenFor(event) {
  switch (event.state) {
    case 'starting': {
      let message = 'Starting Hearth…';
      if (event.forceCpu) message = 'Starting Hearth on the CPU runtime…';
      else if (event.previousExit) message = `Starting Hearth again after: ${event.previousExit}`;
      return { kind: 'page', page: 'loading', query: { message } };
    }
    case 'restarting':
      return { kind: 'page', page: 'loading', query: { message: `Restarting Hearth (${event.reason})…` } };
    case 'crashed':
      return {
        kind: 'page',
        page: 'loading',
        query: { message: `The backend stopped (${event.reason}). Restarting in ${seconds(event.delayMs)}…` },
      };
    case 'ready':
      return { kind: 'url', url: event.url };
    case 'failed':
      return {
        kind: 'page',
        page: 'error',
        query: { reason: String(event.reason), stderr: (event.stderrTail ?? []).join('\n') },
      };
    default:
      return null;
  }
}

module.exports = { screenFor };
