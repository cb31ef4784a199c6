'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const vm = require('node:vm');

const { CHANNELS, decideIpc } = require('../../electron/policy/ipc');

const APP = 'http://127.0.0.1:51234';
const ERROR_PAGE = 'file:///opt/Hearth/resources/app.asar/electron/pages/error.html';
const LOADING_PAGE = 'file:///opt/Hearth/resources/app.asar/electron/pages/loading.html';
const context = { appOrigin: APP, shellPages: [ERROR_PAGE, LOADING_PAGE] };

// [channel, sender URL, allowed]
const ROWS = [
  ['hearth:get-backend', 'http://127.0.0.1:51234/', true],
  ['hearth:get-backend', 'http://127.0.0.1:51234/chat/3', true],
  // the token is for the app alone, not for the shell's own pages
  ['hearth:get-backend', `${ERROR_PAGE}?reason=x`, false],
  ['hearth:get-backend', LOADING_PAGE, false],
  ['hearth:get-backend', 'http://127.0.0.1:51235/', false],
  ['hearth:get-backend', 'https://example.org/', false],
  ['hearth:get-backend', '', false],
  ['hearth:get-backend', undefined, false],
  ['hearth:restart-backend', 'http://127.0.0.1:51234/settings', true],
  ['hearth:restart-backend', `${ERROR_PAGE}?reason=exit%20code%201#x`, true],
  ['hearth:use-cpu-runtime', ERROR_PAGE, true],
  ['hearth:open-logs', ERROR_PAGE, true],
  ['hearth:app-version', LOADING_PAGE, true],
  ['hearth:restart-backend', 'https://example.org/', false],
  // a file that is not one of the shell's pages
  ['hearth:restart-backend', 'file:///tmp/error.html', false],
  ['hearth:restart-backend', 'file:///opt/Hearth/resources/app.asar/electron/pages/error.html/../../x.html', false],
  ['hearth:open-logs', 'data:text/html,hi', false],
  // unknown channels, including prototype names
  ['hearth:shell-exec', 'http://127.0.0.1:51234/', false],
  ['constructor', 'http://127.0.0.1:51234/', false],
  ['__proto__', 'http://127.0.0.1:51234/', false],
];

for (const [channel, sender, allowed] of ROWS) {
  test(`${channel} from ${sender} -> ${allowed ? 'allow' : 'deny'}`, () => {
    assert.equal(decideIpc(channel, sender, context), allowed);
  });
}

test('before the backend is ready only the shell pages reach the shell channels', () => {
  const early = { appOrigin: null, shellPages: [ERROR_PAGE] };
  assert.equal(decideIpc('hearth:restart-backend', ERROR_PAGE, early), true);
  assert.equal(decideIpc('hearth:get-backend', 'http://127.0.0.1:51234/', early), false);
});

/** Runs preload.js the way a sandboxed renderer does: `require` knows only 'electron'. */
function loadPreload() {
  const exposed = {};
  const invoked = [];
  const electron = {
    contextBridge: {
      exposeInMainWorld(key, api) {
        exposed[key] = api;
      },
    },
    ipcRenderer: {
      invoke(channel, ...args) {
        invoked.push([channel, args]);
        return Promise.resolve(channel);
      },
    },
  };
  const source = fs.readFileSync(path.join(__dirname, '../../electron/preload.js'), 'utf8');
  const sandboxRequire = (name) => {
    if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
    return electron;
  };
  vm.runInNewContext(`(function (require) {${source}\n})`, {})(sandboxRequire);
  return { exposed, invoked };
}

test('the preload exposes exactly the five functions, each on a channel the policy knows', async () => {
  const { exposed, invoked } = loadPreload();
  assert.deepEqual(Object.keys(exposed), ['hearth']);
  const api = exposed.hearth;
  assert.deepEqual(Object.keys(api).sort(), ['appVersion', 'getBackend', 'openLogs', 'restartBackend', 'useCpuRuntime']);
  assert.ok(Object.isFrozen(api));
  for (const name of Object.keys(api)) {
    // Arguments from the page are never forwarded to the main process.
    await api[name]('injected', { evil: true });
  }
  assert.deepEqual(invoked.map(([channel]) => channel).sort(), Object.keys(CHANNELS).sort());
  assert.ok(invoked.every(([, args]) => args.length === 0));
});
