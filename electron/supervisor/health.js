// @ts-check
'use strict';

const http = require('node:http');

const MAX_BODY = 64 * 1024;

/**
 * @typedef {object} HealthAnswer
 * @property {number} status
 * @property {unknown} body parsed JSON, or the raw text when it is not JSON
 */

/**
 * One GET http://127.0.0.1:port/health (no token: docs/PROTOCOL.md).
 *
 * @param {number} port
 * @param {{timeoutMs: number, signal?: AbortSignal}} options
 * @returns {Promise<HealthAnswer>}
 */
function requestHealth(port, { timeoutMs, signal }) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/health', agent: false, timeout: timeoutMs, signal },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          if (text.length < MAX_BODY) text += chunk;
        });
        res.on('error', reject);
        res.on('end', () => {
          let body = text;
          try {
            body = JSON.parse(text);
          } catch {
            // a plain-text /health is still a valid answer
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from /health in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(undefined);
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Poll /health until it answers 200. Refused connections and other statuses are retried; only
 * the signal ends the loop early (the caller races it against its own timeout).
 *
 * @param {number} port
 * @param {{signal: AbortSignal, intervalMs: number, requestTimeoutMs: number}} options
 * @returns {Promise<HealthAnswer | null>} null when aborted
 */
async function waitHealthy(port, { signal, intervalMs, requestTimeoutMs }) {
  while (!signal.aborted) {
    const answer = await requestHealth(port, { timeoutMs: requestTimeoutMs, signal }).catch(() => null);
    if (answer && answer.status === 200 && !signal.aborted) return answer;
    await pause(intervalMs, signal);
  }
  return null;
}

module.exports = { requestHealth, waitHealthy };
