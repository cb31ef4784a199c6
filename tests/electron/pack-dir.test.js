'use strict';
// The installer layout, proven with electron-builder and a stand-in Electron (build/pack-dir.sh).
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const { tempDir } = require('./helpers');

const ROOT = path.join(__dirname, '..', '..');

function skipReason() {
  if (process.platform !== 'linux') return 'the layout proof packs for Linux and runs on Linux only';
  const probe = spawnSync('npx', ['--no-install', 'electron-builder', '--version'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (probe.error || probe.status !== 0) {
    return `electron-builder is not installed (run ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install): ${
      probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)
    }`;
  }
  return false;
}

test('electron-builder --dir puts the backend in resources/backend and the shell in app.asar', { skip: skipReason(), timeout: 90_000 }, (t) => {
  const out = tempDir(t);
  const run = spawnSync('bash', [path.join(ROOT, 'build', 'pack-dir.sh'), out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 80_000,
  });
  assert.equal(run.status, 0, `build/pack-dir.sh failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /pack-dir: layout OK/);
  const app = path.join(out, 'linux-unpacked');
  assert.ok(fs.existsSync(path.join(app, 'resources', 'backend', 'hearth-backend')));
  assert.ok(fs.existsSync(path.join(app, 'resources', 'app.asar')));
});
