'use strict';
// Restart requests (exit 75), the pending-activation revert rule and "Use CPU runtime".
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const { fixtureSupervisor, next } = require('./helpers');

test('exit code 75 respawns at once and is not counted as a crash', async (t) => {
  // No crash respawn allowed and a long backoff: only a 75 handled as a restart gets a second boot quickly.
  const { supervisor, events, boots } = fixtureSupervisor(t, 'restart-once.js', {
    budget: { maxRestarts: 0, backoffMs: [60_000] },
  });
  supervisor.start();
  const first = await next(supervisor, 'ready');
  const restarting = await next(supervisor, 'restarting');
  const second = await next(supervisor, 'ready');

  assert.match(restarting.reason, /exit code 75/);
  assert.deepEqual(
    events.map((e) => e.state),
    ['starting', 'ready', 'restarting', 'starting', 'ready'],
  );
  assert.equal(boots().length, 2);
  assert.equal(boots()[1].previousExit, null, 'a requested restart is not a failure to report');
  assert.notEqual(second.token, first.token, 'every spawn gets a fresh token');
  assert.deepEqual(supervisor.history, []);
});

/** Writes the state a runtime switch leaves behind: pointer to the GPU runtime, maybe a marker. */
function scenario(data, gpuBoots) {
  fs.mkdirSync(path.join(data, 'runtimes'), { recursive: true });
  fs.writeFileSync(path.join(data, 'scenario.json'), JSON.stringify({ gpuBoots }));
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

test('a runtime switch that crash-loops is reverted to CPU by the backend, with HEARTH_PREVIOUS_EXIT', async (t) => {
  const { supervisor, events, boots, data } = fixtureSupervisor(t, 'fake-hearth.js', {
    timeouts: { healthMs: 1_000 },
  });
  // GPU boot 1 segfaults, GPU boot 2 never gets healthy (the shell kills it).
  scenario(data, ['segv', 'hang']);
  supervisor.start();
  const cpu = await next(supervisor, 'ready');
  assert.equal(cpu.health.runtime, 'cpu');

  // The switch: pointer + marker, response flushed, then exit 75.
  const answer = await fetch(new URL('/switch?to=cuda12', cpu.url), { method: 'POST' });
  assert.equal(answer.status, 202);
  const back = await next(supervisor, 'ready', 15_000);

  assert.equal(back.health.runtime, 'cpu', 'ends ready on the CPU runtime');
  assert.deepEqual(
    events.filter((e) => e.state === 'crashed').map((e) => e.reason),
    ['signal SIGSEGV', 'health timeout after 1 s'],
  );
  assert.deepEqual(
    boots().map((b) => [b.runtime, b.previousExit]),
    [
      ['cpu', null],
      ['cuda12', null],
      ['cuda12', 'signal SIGSEGV'],
      ['cpu', 'health timeout after 1 s'],
    ],
  );
  const runtimes = path.join(data, 'runtimes');
  assert.deepEqual(readJson(path.join(runtimes, 'active.json')), { runtime: 'cpu' });
  assert.equal(fs.existsSync(path.join(runtimes, 'pending.json')), false);
  assert.deepEqual(readJson(path.join(runtimes, 'last_revert.json')), {
    reason: 'health timeout after 1 s',
    from: 'cuda12',
    attempts: 2,
  });
  assert.equal(supervisor.state, 'ready');
});

test('"Use CPU runtime" after failed respawns with HEARTH_FORCE_CPU_RUNTIME=1, once', async (t) => {
  const { supervisor, boots, data } = fixtureSupervisor(t, 'fake-hearth.js', { budget: { maxRestarts: 1 } });
  scenario(data, ['exit1', 'exit1', 'exit1']);
  fs.writeFileSync(path.join(data, 'runtimes', 'active.json'), JSON.stringify({ runtime: 'cuda12' }));
  supervisor.start();
  const failed = await next(supervisor, 'failed');
  assert.equal(failed.lastExit, 'exit code 1');
  assert.match(failed.stderrTail.at(-1), /libcudart/);

  supervisor.useCpuRuntime();
  const ready = await next(supervisor, 'ready');
  assert.equal(ready.health.runtime, 'cpu');
  const forced = boots().at(-1);
  assert.equal(forced.forceCpu, '1');
  assert.equal(forced.previousExit, 'exit code 1');
  assert.equal(readJson(path.join(data, 'runtimes', 'last_revert.json')).reason, 'user chose CPU runtime');

  // Not sticky: a later switch to the GPU must not be undone by the next boot.
  supervisor.restart();
  await next(supervisor, 'ready');
  assert.equal(boots().at(-1).forceCpu, null);
  assert.equal(boots().at(-1).previousExit, null);
});
