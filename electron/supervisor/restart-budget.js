// @ts-check
'use strict';

/**
 * How many crash respawns are allowed and how long to wait before each. Pure.
 *
 * @typedef {object} RestartBudget
 * @property {number} maxRestarts respawns allowed inside windowMs (docs/PROTOCOL.md: 3)
 * @property {number} windowMs sliding window (docs/PROTOCOL.md: 60 s)
 * @property {number[]} backoffMs delay before the 1st, 2nd, ... respawn in the window; the last value repeats
 *
 * @typedef {{action: 'respawn', delayMs: number, attempt: number, history: number[]}
 *   | {action: 'give-up', reason: string, history: number[]}} RestartDecision
 */

/** @type {Readonly<RestartBudget>} */
const DEFAULT_BUDGET = Object.freeze({ maxRestarts: 3, windowMs: 60_000, backoffMs: [1_000, 2_000, 4_000] });

/**
 * Decide what follows a crash at time now, given the times of earlier crash respawns.
 *
 * @param {readonly number[]} history times (ms) of the crash respawns already made
 * @param {number} now
 * @param {RestartBudget} [budget]
 * @returns {RestartDecision} history is the list to pass next time
 */
function decideRestart(history, now, budget = DEFAULT_BUDGET) {
  const recent = history.filter((t) => now - t < budget.windowMs);
  if (recent.length >= budget.maxRestarts) {
    const window = Number((budget.windowMs / 1000).toFixed(2));
    return {
      action: 'give-up',
      reason: `gave up after ${recent.length} restart${recent.length === 1 ? '' : 's'} within ${window} s`,
      history: recent,
    };
  }
  const delays = budget.backoffMs.length > 0 ? budget.backoffMs : [0];
  return {
    action: 'respawn',
    delayMs: delays[Math.min(recent.length, delays.length - 1)],
    attempt: recent.length + 1,
    history: [...recent, now],
  };
}

module.exports = { DEFAULT_BUDGET, decideRestart };
