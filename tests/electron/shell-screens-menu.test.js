'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

const { menuTemplate } = require('../../electron/shell/menu');
const { screenFor } = require('../../electron/shell/screens');

const ROWS = [
  [{ state: 'starting', spawn: 1 }, { kind: 'page', page: 'loading', query: { message: 'Starting Hearth…' } }],
  [
    { state: 'starting', previousExit: 'exit code 1' },
    { kind: 'page', page: 'loading', query: { message: 'Starting Hearth again after: exit code 1' } },
  ],
  [
    { state: 'starting', previousExit: 'exit code 1', forceCpu: true },
    { kind: 'page', page: 'loading', query: { message: 'Starting Hearth on the CPU runtime…' } },
  ],
  [
    { state: 'restarting', reason: 'restart requested' },
    { kind: 'page', page: 'loading', query: { message: 'Restarting Hearth (restart requested)…' } },
  ],
  [
    { state: 'crashed', reason: 'signal SIGSEGV', attempt: 1, delayMs: 1_000 },
    { kind: 'page', page: 'loading', query: { message: 'The backend stopped (signal SIGSEGV). Restarting in 1 s…' } },
  ],
  [{ state: 'ready', url: 'http://127.0.0.1:5000/', port: 5000, token: 't' }, { kind: 'url', url: 'http://127.0.0.1:5000/' }],
  [
    { state: 'failed', reason: 'exit code 1; gave up', stderrTail: ['a', '<b>'] },
    { kind: 'page', page: 'error', query: { reason: 'exit code 1; gave up', stderr: 'a\n<b>' } },
  ],
  [{ state: 'failed', reason: 'x' }, { kind: 'page', page: 'error', query: { reason: 'x', stderr: '' } }],
  [{ state: 'stopping' }, null],
  [{ state: 'stopped', exit: 'exit code 0' }, null],
];

for (const [event, screen] of ROWS) {
  test(`screen for ${event.state} ${JSON.stringify(event)}`, () => {
    assert.deepEqual(screenFor(event), screen);
  });
}

function items(template) {
  return template.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? items(item.submenu) : [])]);
}

for (const isMac of [true, false]) {
  for (const isDev of [true, false]) {
    test(`menu (mac ${isMac}, dev ${isDev}) wires the backend actions; devtools only in dev`, () => {
      const clicked = [];
      const actions = {
        restartBackend: () => clicked.push('restart'),
        useCpuRuntime: () => clicked.push('cpu'),
        openLogs: () => clicked.push('logs'),
      };
      const all = items(menuTemplate({ isMac, isDev, appName: 'Hearth', actions }));
      for (const item of all) {
        assert.ok(item.role || item.click || item.submenu || item.type === 'separator', JSON.stringify(item));
      }
      for (const item of all.filter((i) => i.click)) item.click();
      assert.deepEqual(clicked, ['restart', 'cpu', 'logs']);
      assert.equal(all.some((i) => i.role === 'toggleDevTools'), isDev);
      assert.equal(all.filter((i) => i.role === 'quit').length, 1);
    });
  }
}
