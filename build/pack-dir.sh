#!/usr/bin/env bash
# Proves the packaged layout without the Electron binary, which cannot be downloaded here:
# runs `electron-builder --dir --linux` with electronDist pointing at build/stand-in-electron
# (a fake `electron` executable, resources/, the LICENSE files), using the package.json "build"
# config with only the output dir, electronDist and (when dist/hearth-backend is absent) the
# backend source replaced, then checks what the installers would contain:
#   resources/backend/hearth-backend     the PyInstaller onedir (or a placeholder)
#   resources/app.asar                   electron/main.js, electron/preload.js, the pages
# Usage: build/pack-dir.sh [output dir]   (default build/out/pack-dir)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/build/out/pack-dir}" && cd "${1:-$ROOT/build/out/pack-dir}" && pwd)"
STAND_IN="$ROOT/build/stand-in-electron"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

# A real Electron zip unpacks to a dir with the binary, resources/ and the LICENSE files.
mkdir -p "$STAND_IN/resources"
chmod +x "$STAND_IN/electron"

BACKEND="$ROOT/dist/hearth-backend"
if [[ ! -x "$BACKEND/hearth-backend" ]]; then
  echo "pack-dir: $BACKEND/hearth-backend not built; using a placeholder onedir"
  BACKEND="$WORK/hearth-backend"
  mkdir -p "$BACKEND/_internal"
  printf '#!/bin/sh\necho "placeholder for the PyInstaller backend" >&2\nexit 1\n' >"$BACKEND/hearth-backend"
  chmod +x "$BACKEND/hearth-backend"
  echo "placeholder" >"$BACKEND/_internal/base_library.zip"
fi

# The starter model an installer may carry (build/starter/, filled by `make installer-starter`),
# installed by the backend at its first start with no network (hearth.library.starter).
STARTER="${HEARTH_PACK_STARTER:-$ROOT/build/starter}"

CONFIG="$WORK/electron-builder.json"
node - "$CONFIG" "$OUT" "$STAND_IN" "$BACKEND" "$STARTER" <<'NODE'
const fs = require('node:fs');
const [config, out, electronDist, backend, starter] = process.argv.slice(2);
const build = JSON.parse(fs.readFileSync('package.json', 'utf8')).build;
build.directories = { ...build.directories, output: out };
build.electronDist = electronDist;
const swap = { backend, 'backend/starter': starter };
build.extraResources = build.extraResources.map((entry) => (entry.to in swap ? { ...entry, from: swap[entry.to] } : entry));
fs.writeFileSync(config, JSON.stringify(build, null, 2));
NODE

rm -rf "$OUT/linux-unpacked"
ELECTRON_SKIP_BINARY_DOWNLOAD=1 npx --no-install electron-builder --dir --linux --x64 --publish never --config "$CONFIG"

APP="$OUT/linux-unpacked"
node - "$APP" "$STARTER" <<'NODE'
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const asar = require('@electron/asar');
const { backendCommand } = require('./electron/supervisor/command');

const [app, starter] = process.argv.slice(2);
const resources = path.join(app, 'resources');
const isExecutable = (file) => (fs.statSync(file).mode & 0o111) !== 0;

assert.ok(isExecutable(path.join(app, 'hearth')), 'the Electron binary is renamed to hearth');
assert.ok(fs.existsSync(path.join(app, 'LICENSE.electron.txt')), "Electron's license is kept");
assert.ok(fs.statSync(path.join(resources, 'backend')).isDirectory(), 'resources/backend exists');

// The path the supervisor launches in a packaged app is where the packager put the backend.
const { command } = backendCommand({ packaged: true, resourcesPath: resources, repoRoot: '/unused', platform: 'linux' });
assert.ok(isExecutable(command), `${command} is an executable`);

const entries = new Set(asar.listPackage(path.join(resources, 'app.asar')).map((entry) => entry.split(path.sep).join('/')));
for (const needed of [
  '/package.json',
  '/electron/main.js',
  '/electron/preload.js',
  '/electron/shell/start.js',
  '/electron/supervisor/supervisor.js',
  '/electron/policy/navigation.js',
  '/electron/pages/error.html',
  '/electron/pages/loading.html',
]) {
  assert.ok(entries.has(needed), `app.asar contains ${needed}`);
}
for (const entry of entries) {
  assert.ok(!/^\/(tests|backend|build|dist|docs|node_modules)(\/|$)/.test(entry), `app.asar should not contain ${entry}`);
}
const manifest = JSON.parse(asar.extractFile(path.join(resources, 'app.asar'), 'package.json').toString());
assert.equal(manifest.main, 'electron/main.js');
// A carried starter model sits where the frozen backend looks: starter/ beside its executable.
const ggufs = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.gguf')).sort() : []);
const carried = ggufs(starter);
assert.deepEqual(ggufs(path.join(path.dirname(command), 'starter')), carried, 'the carried starter model');
console.log(`pack-dir: starter model ${carried.length ? `carried: ${carried.join(', ')}` : 'not carried'}`);
console.log(`pack-dir: layout OK (${app})`);
NODE
