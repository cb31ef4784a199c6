'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { DEFAULT_BUDGET, decideRestart } = require('../../electron/supervisor/restart-budget');

test('the default budget is the protocol: 3 respawns in 60 s', () => {
  assert.equal(DEFAULT_BUDGET.maxRestarts, 3);
  assert.equal(DEFAULT_BUDGET.windowMs, 60_000);
});

const budget = { maxRestarts: 3, windowMs: 60_000, backoffMs: [1_000, 2_000, 4_000] };

// [earlier respawn times, now, budget, expected]
const ROWS = [
  [[], 0, budget, { action: 'respawn', delayMs: 1_000, attempt: 1, history: [0] }],
  [[0], 5_000, budget, { action: 'respawn', delayMs: 2_000, attempt: 2, history: [0, 5_000] }],
  [[0, 5_000], 9_000, budget, { action: 'respawn', delayMs: 4_000, attempt: 3, history: [0, 5_000, 9_000] }],
  [[0, 5_000, 9_000], 15_000, budget, { action: 'give-up', reason: 'gave up after 3 restarts within 60 s', history: [0, 5_000, 9_000] }],
  // the window slides: a respawn 60 s ago no longer counts
  [[0, 5_000, 9_000], 60_000, budget, { action: 'respawn', delayMs: 4_000, attempt: 3, history: [5_000, 9_000, 60_000] }],
  [[0, 5_000, 9_000], 59_999, budget, { action: 'give-up', reason: 'gave up after 3 restarts within 60 s', history: [0, 5_000, 9_000] }],
  [[0, 1_000, 2_000], 200_000, budget, { action: 'respawn', delayMs: 1_000, attempt: 1, history: [200_000] }],
  // the last backoff repeats when the budget is larger than the list
  [[0, 1, 2], 3, { maxRestarts: 5, windowMs: 60_000, backoffMs: [10, 20] }, { action: 'respawn', delayMs: 20, attempt: 4, history: [0, 1, 2, 3] }],
  [[], 0, { maxRestarts: 1, windowMs: 60_000, backoffMs: [] }, { action: 'respawn', delayMs: 0, attempt: 1, history: [0] }],
  [[0], 1, { maxRestarts: 1, windowMs: 60_000, backoffMs: [5] }, { action: 'give-up', reason: 'gave up after 1 restart within 60 s', history: [0] }],
  // no respawn at all
  [[], 0, { maxRestarts: 0, windowMs: 60_000, backoffMs: [5] }, { action: 'give-up', reason: 'gave up after 0 restarts within 60 s', history: [] }],
  [[], 0, { maxRestarts: 3, windowMs: 1_500, backoffMs: [5] }, { action: 'respawn', delayMs: 5, attempt: 1, history: [0] }],
];

for (const [history, now, options, expected] of ROWS) {
  test(`history ${JSON.stringify(history)} at ${now} (max ${options.maxRestarts}) -> ${expected.action}`, () => {
    assert.deepEqual(decideRestart(history, now, options), expected);
  });
}

test('the input history is not modified', () => {
  const history = Object.freeze([0, 1]);
  decideRestart(history, 2, budget);
  assert.deepEqual(history, [0, 1]);
});
