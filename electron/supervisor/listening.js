// @ts-check
'use strict';

/**
 * The port from the backend's `{"event": "listening", "port": N}` stdout line, or null for any
 * other line (docs/PROTOCOL.md, "Start": other lines are ignored). Pure.
 *
 * @param {string} line
 * @returns {number | null}
 */
function parseListeningLine(line) {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return null;
  }
  if (message === null || typeof message !== 'object' || message.event !== 'listening') return null;
  const { port } = message;
  return Number.isInteger(port) && port > 0 && port <= 65535 ? port : null;
}

module.exports = { parseListeningLine };
