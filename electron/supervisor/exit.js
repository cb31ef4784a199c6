// @ts-check
'use strict';

/** Exit code the backend uses to ask for a respawn (docs/PROTOCOL.md, "Exit codes"). */
const RESTART_REQUESTED = 75;

/**
 * What an exit means to the shell. Pure.
 *
 * @param {number | null} code
 * @param {NodeJS.Signals | string | null} signal
 * @returns {'clean' | 'restart-requested' | 'crash'}
 */
function classifyExit(code, signal) {
  if (signal) return 'crash';
  if (code === 0) return 'clean';
  if (code === RESTART_REQUESTED) return 'restart-requested';
  return 'crash';
}

/**
 * The HEARTH_PREVIOUS_EXIT wording for an exit: "exit code 1", "signal SIGSEGV".
 *
 * @param {number | null} code
 * @param {NodeJS.Signals | string | null} signal
 */
function describeExit(code, signal) {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}

/** @param {number} ms */
function seconds(ms) {
  return String(Number((ms / 1000).toFixed(2)));
}

/**
 * The HEARTH_PREVIOUS_EXIT wording for a start that ran out of time.
 *
 * @param {'port' | 'health'} phase
 * @param {number} ms
 */
function describeTimeout(phase, ms) {
  return phase === 'port' ? `no port line after ${seconds(ms)} s` : `health timeout after ${seconds(ms)} s`;
}

module.exports = { RESTART_REQUESTED, classifyExit, describeExit, describeTimeout };
