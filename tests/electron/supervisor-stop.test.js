'use strict';
// Graceful stop, process-tree kill, and the token's path (env, never argv).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { test } = require('node:test');

const { eventually, fixtureSupervisor, isAlive, next } = require('./helpers');

test('stop() asks with SIGTERM and a well-behaved backend exits before the kill timeout', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'well-behaved.js', { timeouts: { stopMs: 5_000 } });
  supervisor.start();
  await next(supervisor, 'ready');
  const { pid } = boots()[0];

  const started = Date.now();
  const stopped = next(supervisor, 'stopped');
  await supervisor.stop();
  assert.ok(Date.now() - started < 4_000, 'no wait for the kill timeout');
  assert.equal((await stopped).exit, 'exit code 0');
  assert.deepEqual(
    boots().map((b) => b.event),
    ['boot', 'sigterm'],
  );
  assert.equal(isAlive(pid), false);
  assert.equal(supervisor.state, 'stopped');
  assert.equal(supervisor.backend, null);
});

test('a backend that ignores SIGTERM is killed with its grandchild after the kill timeout', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'stubborn-tree.js', { timeouts: { stopMs: 1_000 } });
  supervisor.start();
  await next(supervisor, 'ready');
  const { pid, grandchild } = boots()[0];
  assert.ok(isAlive(grandchild));

  const started = Date.now();
  await supervisor.stop();
  const took = Date.now() - started;
  assert.ok(took >= 950, `waited for the kill timeout (${took} ms)`);
  assert.ok(took < 3_000, `then killed at once (${took} ms)`);
  assert.ok(boots().some((b) => b.event === 'sigterm-ignored'), 'SIGTERM was tried first');
  assert.equal(isAlive(pid), false);
  assert.ok(await eventually(() => !isAlive(grandchild)), 'the grandchild is gone too');
});

test('the token travels in the environment, never in argv', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'well-behaved.js', {
    // Stale values in the parent environment must not leak into a first start.
    env: { HEARTH_PREVIOUS_EXIT: 'stale', HEARTH_FORCE_CPU_RUNTIME: '1', HEARTH_TOKEN: 'stale' },
  });
  supervisor.start();
  const ready = await next(supervisor, 'ready');
  const boot = boots()[0];

  assert.match(ready.token, /^[0-9a-f]{64}$/, '32 random bytes, hex');
  assert.equal(boot.token, ready.token);
  assert.equal(boot.port, '0', 'HEARTH_PORT=0: the backend picks a free port');
  assert.equal(boot.previousExit, null);
  assert.equal(boot.forceCpu, null);
  assert.ok(!boot.argv.some((arg) => arg.includes(ready.token)), 'not in the argv the backend sees');
  assert.deepEqual(supervisor.backend, { url: ready.url, port: ready.port, token: ready.token, health: ready.health });
  assert.equal(ready.url, `http://127.0.0.1:${ready.port}/`);

  if (process.platform === 'linux') {
    const cmdline = fs.readFileSync(`/proc/${boot.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(ready.token), 'not in /proc/<pid>/cmdline, which every local user can read');
    const environ = fs.readFileSync(`/proc/${boot.pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes(`HEARTH_TOKEN=${ready.token}`));
  }
});

test('every spawn carries HEARTH_SUPERVISED=1, so `serve` starts no launcher of its own', async (t) => {
  // docs/PROTOCOL.md "Who supervises": even a parent environment saying otherwise is overridden.
  const { supervisor, boots } = fixtureSupervisor(t, 'well-behaved.js', { env: { HEARTH_SUPERVISED: '0' } });
  supervisor.start();
  await next(supervisor, 'ready');
  supervisor.restart();
  await next(supervisor, 'ready');

  const spawned = boots().filter((b) => b.event === 'boot');
  assert.equal(spawned.length, 2);
  assert.deepEqual(
    spawned.map((b) => b.supervised),
    ['1', '1'],
  );
});

test('restart() while ready stops the old process gracefully and starts a fresh one', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'well-behaved.js');
  supervisor.start();
  const first = await next(supervisor, 'ready');
  supervisor.restart();
  const second = await next(supervisor, 'ready');

  assert.deepEqual(
    boots().map((b) => b.event),
    ['boot', 'sigterm', 'boot'],
  );
  assert.equal(boots()[2].previousExit, null);
  assert.notEqual(second.token, first.token);
  assert.equal(isAlive(boots()[0].pid), false);
});

test('stop() during a restart keeps the first kill deadline and starts nothing new', async (t) => {
  const { supervisor, boots } = fixtureSupervisor(t, 'stubborn-tree.js', { timeouts: { stopMs: 800 } });
  supervisor.start();
  await next(supervisor, 'ready');
  const started = Date.now();
  supervisor.restart();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await supervisor.stop();
  const took = Date.now() - started;
  assert.ok(took >= 750 && took < 1_500, `killed on the restart's deadline (${took} ms)`);
  assert.equal(boots().filter((b) => b.event === 'boot').length, 1);
  assert.equal(supervisor.state, 'stopped');
});
