'use strict';
// The supervisor against the PyInstaller backend (dist/hearth-backend), launched the way a packaged
// app launches it: backendCommand({packaged: true}) -> <resources>/backend/hearth-backend serve.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const { Supervisor, backendCommand } = require('../../electron/supervisor');
const { isAlive, next, tempDir } = require('./helpers');

const ROOT = path.join(__dirname, '..', '..');
const ONEDIR = path.join(ROOT, 'dist', 'hearth-backend');
const EXE = path.join(ONEDIR, process.platform === 'win32' ? 'hearth-backend.exe' : 'hearth-backend');

function skipReason() {
  if (!fs.existsSync(EXE)) {
    return `${path.relative(ROOT, EXE)} is not built; build it with build/build-backend --fast (or make frozen)`;
  }
  if (process.platform === 'win32') return 'the packaged layout below is made with a symlink (POSIX)';
  return false;
}

/** A stand-in for process.resourcesPath: resources/backend is the onedir, as electron-builder puts it. */
function resourcesWithBackend(t) {
  const resources = tempDir(t);
  fs.symlinkSync(ONEDIR, path.join(resources, 'backend'), 'dir');
  return resources;
}

test('the frozen backend starts under the supervisor, answers with its token and stops with exit 0', { skip: skipReason(), timeout: 150_000 }, async (t) => {
  const command = backendCommand({ packaged: true, resourcesPath: resourcesWithBackend(t), repoRoot: '/unused' });
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

  const status = new URL('/api/status', ready.url);
  assert.equal((await fetch(status)).status, 401);
  assert.equal((await fetch(status, { headers: { authorization: `Bearer ${ready.token}` } })).status, 200);
  const caps = await (await fetch(new URL('/api/capabilities', ready.url), { headers: { authorization: `Bearer ${ready.token}` } })).json();
  assert.equal(caps.runtime.id, 'cpu-bundled');
  assert.ok(
    caps.runtime.llama_cpp_path.startsWith(path.join(fs.realpathSync(ONEDIR), '_internal', 'runtimes', 'cpu') + path.sep),
    `llama_cpp comes from the bundled runtime folder: ${caps.runtime.llama_cpp_path}`,
  );

  if (process.platform === 'linux') {
    // HEARTH_SUPERVISED=1: `serve` runs the server itself, no launcher child of its own.
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('HEARTH_SUPERVISED=1'));
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    assert.equal(children, '', 'the process the shell spawned is the server');
  }

  const stopped = next(supervisor, 'stopped', 15_000);
  await supervisor.stop();
  const { exit } = await stopped;
  assert.equal(exit, 'exit code 0', 'docs/PROTOCOL.md: a requested shutdown exits 0');
  assert.equal(isAlive(pid), false);
  assert.deepEqual(
    events.filter((e) => e.state === 'crashed'),
    [],
  );
});
