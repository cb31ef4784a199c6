'use strict';
// The supervisor against the real Python backend in dev mode (.venv/bin/python -m hearth serve).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');

const { Supervisor, backendCommand } = require('../../electron/supervisor');
const { isAlive, next, tempDir } = require('./helpers');

const ROOT = path.join(__dirname, '..', '..');
const command = backendCommand({ packaged: false, resourcesPath: '', repoRoot: ROOT });

function skipReason() {
  const probe = spawnSync(command.command, ['-c', 'import hearth.app'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (probe.error) return `no dev backend: ${command.command} cannot run (${probe.error.message})`;
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').at(-1);
    return `the backend is not importable yet: ${command.command} -c "import hearth.app" failed (${last})`;
  }
  return false;
}

test('the real backend starts, answers /health and stops gracefully', { skip: skipReason(), timeout: 150_000 }, async (t) => {
  const data = tempDir(t);
  const supervisor = new Supervisor({
    command,
    env: { HEARTH_DATA_DIR: data },
    timeouts: { firstStartPortMs: 90_000, firstStartHealthMs: 30_000, stopMs: 10_000 },
    budget: { maxRestarts: 0 },
  });
  const events = [];
  supervisor.on('state', (event) => events.push(event));
  t.after(() => supervisor.stop());

  const starting = next(supervisor, 'starting', 5_000);
  const outcome = next(supervisor, ['ready', 'failed'], 125_000);
  supervisor.start();
  const { pid } = await starting;
  const ready = await outcome;
  assert.equal(ready.state, 'ready', `the backend failed: ${ready.reason}\n${(ready.stderrTail ?? []).join('\n')}`);

  const health = await fetch(new URL('/health', ready.url));
  assert.equal(health.status, 200);
  assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  // The token the shell put in HEARTH_TOKEN is the one the API wants.
  const status = new URL('/api/status', ready.url);
  assert.equal((await fetch(status)).status, 401);
  assert.equal((await fetch(status, { headers: { authorization: `Bearer ${ready.token}` } })).status, 200);

  const stopped = next(supervisor, 'stopped', 15_000);
  const began = Date.now();
  await supervisor.stop();
  const { exit } = await stopped;
  assert.ok(Date.now() - began < 10_000, 'stopped on SIGTERM, before the tree kill');
  assert.equal(exit, 'exit code 0', 'docs/PROTOCOL.md: a requested shutdown exits 0');
  assert.equal(isAlive(pid), false);
  assert.deepEqual(
    events.filter((e) => e.state === 'crashed'),
    [],
  );
});
