'use strict';
// Misbehaving backends as real child processes: crash loops, no port, no health.
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { Supervisor } = require('../../electron/supervisor');
const { FAST, fixtureSupervisor, isAlive, next, sleep } = require('./helpers');

test('a backend that exits at once is respawned with backoff, then fails after 3 respawns', async (t) => {
  const { supervisor, events, boots } = fixtureSupervisor(t, 'exits-at-once.js');
  supervisor.start();
  const failed = await next(supervisor, 'failed');

  assert.equal(boots().length, 4, 'first start + 3 respawns');
  const crashes = events.filter((e) => e.state === 'crashed');
  assert.deepEqual(
    crashes.map((e) => [e.reason, e.attempt, e.delayMs]),
    [
      ['exit code 3', 1, 50],
      ['exit code 3', 2, 100],
      ['exit code 3', 3, 150],
    ],
  );
  assert.equal(failed.reason, 'exit code 3; gave up after 3 restarts within 60 s');
  assert.equal(failed.lastExit, 'exit code 3');
  assert.deepEqual(
    boots().map((b) => b.previousExit),
    [null, 'exit code 3', 'exit code 3', 'exit code 3'],
    'HEARTH_PREVIOUS_EXIT names the previous crash on every respawn',
  );
  assert.equal(failed.stderrTail.length, 4, 'one stderr line per boot');
  assert.match(failed.stderrTail[3], /^fatal: cannot load the model/);

  await sleep(300);
  assert.equal(boots().length, 4, 'nothing respawns after failed');
  assert.equal(supervisor.state, 'failed');

  // "Restart" on the error screen: a person asked, so the budget starts over.
  supervisor.restart();
  const crashed = await next(supervisor, 'crashed');
  assert.equal(crashed.attempt, 1);
  assert.equal(boots()[4].previousExit, 'exit code 3');
});

for (const mode of ['503', 'closed']) {
  test(`a backend that prints a port but is never healthy (${mode}) is killed on the health timeout`, async (t) => {
    const { supervisor, events, boots } = fixtureSupervisor(t, 'never-healthy.js', {
      args: [mode],
      timeouts: { healthMs: 800, firstStartHealthMs: 800 },
      budget: { maxRestarts: 1, backoffMs: [20] },
    });
    supervisor.start();
    const failed = await next(supervisor, 'failed');

    assert.equal(failed.lastExit, 'health timeout after 0.8 s');
    assert.equal(events.filter((e) => e.state === 'crashed').length, 1, 'the timeout counts as a crash');
    assert.equal(events.filter((e) => e.state === 'ready').length, 0);
    const [first, second] = boots();
    assert.equal(second.previousExit, 'health timeout after 0.8 s');
    assert.equal(isAlive(first.pid), false, 'the late process was killed');
    assert.equal(isAlive(second.pid), false);
  });
}

test('a backend that prints garbage instead of the port fails with "no port"', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'garbage.js', {
    timeouts: { portMs: 800, firstStartPortMs: 800 },
    budget: { maxRestarts: 1, backoffMs: [20] },
  });
  supervisor.start();
  const failed = await next(supervisor, 'failed');

  assert.equal(failed.reason, 'no port line after 0.8 s; gave up after 1 restart within 60 s');
  const [first, second] = boots();
  assert.equal(second.previousExit, 'no port line after 0.8 s');
  assert.equal(isAlive(first.pid), false);
  assert.equal(isAlive(second.pid), false);
});

test('the first start gets the generous timeouts, later starts the normal ones', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'garbage.js', {
    timeouts: { portMs: 300, firstStartPortMs: 900 },
    budget: { maxRestarts: 1, backoffMs: [0] },
  });
  supervisor.start();
  const failed = await next(supervisor, 'failed');
  assert.equal(boots()[1].previousExit, 'no port line after 0.9 s');
  assert.equal(failed.lastExit, 'no port line after 0.3 s');
});

test('a missing executable fails with a reason instead of throwing', async (t) => {
  const supervisor = new Supervisor({
    command: { command: '/nonexistent/hearth-backend', args: ['serve'], cwd: process.cwd() },
    timeouts: FAST,
    budget: { maxRestarts: 0 },
  });
  t.after(() => supervisor.stop());
  supervisor.start();
  const failed = await next(supervisor, 'failed');
  assert.match(failed.reason, /^cannot start \/nonexistent\/hearth-backend: .*ENOENT/);
});

test('stop() during the backoff cancels the pending respawn', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'exits-at-once.js', { budget: { backoffMs: [400] } });
  supervisor.start();
  await next(supervisor, 'crashed');
  await supervisor.stop();
  await sleep(600);
  assert.equal(boots().length, 1);
  assert.equal(supervisor.state, 'stopped');
});
