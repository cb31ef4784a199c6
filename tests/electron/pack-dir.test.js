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

function packDir(out, starter) {
  const run = spawnSync('bash', [path.join(ROOT, 'build', 'pack-dir.sh'), out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 80_000,
    env: { ...process.env, HEARTH_PACK_STARTER: starter },
  });
  assert.equal(run.status, 0, `build/pack-dir.sh failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /pack-dir: layout OK/);
  return { stdout: run.stdout, resources: path.join(out, 'linux-unpacked', 'resources') };
}

test('electron-builder --dir puts the backend in resources/backend and the shell in app.asar', { skip: skipReason(), timeout: 90_000 }, (t) => {
  const { stdout, resources } = packDir(tempDir(t), path.join(tempDir(t), 'no-starter'));
  assert.ok(fs.existsSync(path.join(resources, 'backend', 'hearth-backend')));
  assert.ok(fs.existsSync(path.join(resources, 'app.asar')));
  assert.match(stdout, /pack-dir: starter model not carried/);
  assert.ok(!fs.existsSync(path.join(resources, 'backend', 'starter')));
});

test('a starter model in build/starter goes beside the backend, where its first start looks', { skip: skipReason(), timeout: 90_000 }, (t) => {
  const starter = tempDir(t);
  // Only the layout is checked here: the backend checks the file against its pin when it installs it.
  fs.writeFileSync(path.join(starter, 'SmolLM2-135M-Instruct.Q4_1.gguf'), 'GGUF stand-in');
  fs.writeFileSync(path.join(starter, 'notes.txt'), 'not a model: left out');
  const { stdout, resources } = packDir(tempDir(t), starter);
  assert.match(stdout, /pack-dir: starter model carried: SmolLM2-135M-Instruct.Q4_1.gguf/);
  assert.deepEqual(fs.readdirSync(path.join(resources, 'backend', 'starter')), ['SmolLM2-135M-Instruct.Q4_1.gguf']);
});
